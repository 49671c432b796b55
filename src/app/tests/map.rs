//! The Map screen driven with the pointer: lasso and box select exactly the points inside,
//! a click selects, hover shows the item, the colouring and legend switch, the grid's filter
//! dims, and similar items sort the grid.

use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Event, Modifiers, PointerButton, Pos2};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pairwise_audit::audit::FlagKind;
use pairwise_audit::map::{Layout, LayoutKind, MapView};

use crate::app::AuditApp;
use crate::app::map::canvas;
use crate::app::map::colours::ColourBy;
use crate::app::review::Results;
use crate::app::state::Persisted;
use crate::app::tests::review::{dataset_copy, open};
use crate::app::worker;

fn harness() -> Harness<'static, AuditApp> {
    let app = AuditApp::new(Persisted::default(), worker::engine_pipeline());
    Harness::builder()
        .with_size([1500.0, 920.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app)
}

/// Items on a 50-wide grid of unit spacing: every point's place is known exactly.
fn grid_layout(n: usize) -> Layout {
    Layout {
        kind: LayoutKind::Umap,
        xy: (0..n).map(|i| [(i % 50) as f32, (i / 50) as f32]).collect(),
    }
}

/// The app on a copy of sample_data, showing the Map with a known layout.
fn on_map() -> (Harness<'static, AuditApp>, Arc<Results>, tempfile::TempDir) {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    h.get_by_label("Map").click();
    h.run_steps(2);
    let layout = grid_layout(r.len());
    h.state_mut()
        .map
        .set_layout(&r.dataset, MapView::Joined, layout);
    h.run_steps(3);
    (h, r, dir)
}

fn screen_of(h: &Harness<'_, AuditApp>, p: [f32; 2]) -> Pos2 {
    let map = &h.state().map;
    map.camera.unwrap().to_screen(map.rect.unwrap(), p)
}

fn shown_sorted(h: &Harness<'_, AuditApp>) -> Vec<usize> {
    let mut v: Vec<usize> = h.state().grid.order().iter().map(|&i| i as usize).collect();
    v.sort_unstable();
    v
}

/// Press at the first vertex, move along the path in small steps, release at the last.
fn drag_path(h: &mut Harness<'_, AuditApp>, path: &[Pos2], modifiers: Modifiers) {
    h.event(Event::PointerMoved(path[0]));
    h.step();
    h.event(Event::PointerButton {
        pos: path[0],
        button: PointerButton::Primary,
        pressed: true,
        modifiers,
    });
    h.step();
    for w in path.windows(2) {
        for s in 1..=8 {
            let p = w[0] + (w[1] - w[0]) * (s as f32 / 8.0);
            h.event(Event::PointerMoved(p));
            h.step();
        }
    }
    h.event(Event::PointerButton {
        pos: *path.last().unwrap(),
        button: PointerButton::Primary,
        pressed: false,
        modifiers,
    });
    h.run_steps(3);
}

#[test]
fn a_lasso_filters_the_grid_to_exactly_the_points_inside_and_the_chip_removes_it() {
    let (mut h, r, _dir) = on_map();
    let n = r.len();
    h.get_by_label("Lasso").click();
    h.run_steps(1);
    // A triangle with its corners between grid points (half-integer layout coordinates).
    let tri = [[2.5, 3.5], [20.5, 3.5], [2.5, 20.5]];
    let mut path: Vec<Pos2> = tri.iter().map(|&p| screen_of(&h, p)).collect();
    path.push(path[0]);
    drag_path(&mut h, &path, Modifiers::NONE);
    let xy = &h.state().map.layout.as_ref().unwrap().xy.clone();
    let expected: Vec<usize> = (0..n).filter(|&i| canvas::inside(&tri, xy[i])).collect();
    assert!(
        expected.len() > 100 && expected.len() < n,
        "{}",
        expected.len()
    );
    assert_eq!(shown_sorted(&h), expected);
    h.get_by_label(&format!("showing {} of {n}", expected.len()));
    // The bulk actions see exactly these items.
    h.get_by_label(&format!("All {} shown…", expected.len()));
    h.get_by_label(&format!("map selection: {} items  ×", expected.len()))
        .click();
    h.run_steps(2);
    assert_eq!(shown_sorted(&h).len(), n);
    assert!(h.state().grid.filter.region.is_none());
}

#[test]
fn a_box_takes_the_points_in_it_and_the_grid_filter_dims_the_rest() {
    let (mut h, r, _dir) = on_map();
    let n = r.len();
    h.get_by_label("Box").click();
    h.run_steps(1);
    let (a, b) = ([10.5, 5.5], [30.5, 15.5]);
    let path = [screen_of(&h, a), screen_of(&h, b)];
    drag_path(&mut h, &path, Modifiers::NONE);
    // Columns 11..=30 of rows 6..=15.
    let expected: Vec<usize> = (0..n)
        .filter(|&i| (11..=30).contains(&(i % 50)) && (6..=15).contains(&(i / 50)))
        .collect();
    assert_eq!(shown_sorted(&h), expected);
    let mask = h
        .state()
        .map
        .shown_mask()
        .expect("the grid hides items")
        .to_vec();
    assert_eq!(
        (0..n).filter(|&i| mask[i]).collect::<Vec<_>>(),
        expected,
        "the map dims exactly the items the grid hides"
    );
}

#[test]
fn hovering_shows_the_item_and_a_click_selects_it() {
    let (mut h, r, _dir) = on_map();
    let k = 50 * 7 + 13;
    let pos = screen_of(&h, [13.0, 7.0]);
    h.hover_at(pos);
    h.run_steps(2);
    assert_eq!(h.state().map.hovered, Some(k));
    assert!(h.query_all_by_label(&r.dataset.items[k].id).count() >= 1);
    h.event(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed: true,
        modifiers: Modifiers::NONE,
    });
    h.step();
    h.event(Event::PointerButton {
        pos,
        button: PointerButton::Primary,
        pressed: false,
        modifiers: Modifiers::NONE,
    });
    h.run_steps(3);
    assert_eq!(h.state().selected, Some(k));
}

#[test]
fn the_colouring_switches_and_a_legend_entry_hides_its_points() {
    let (mut h, r, _dir) = on_map();
    let n = r.len();
    assert_eq!(h.state().map.drawn, n);
    // The colour menu, found by what it shows.
    h.get_by(|n| {
        n.role() == egui::accesskit::Role::ComboBox && n.value().as_deref() == Some("annotation")
    })
    .click();
    h.run_steps(3);
    h.get_by_label("image label").click();
    h.run_steps(2);
    assert_eq!(h.state().persisted.map_colour, ColourBy::ImageLabel);
    let cats = h.state().map.current_categories().unwrap().clone();
    assert_eq!(cats.by, ColourBy::ImageLabel);
    // Each point's colour is its image label.
    let image = pairwise_audit::Modality::Image;
    for i in 0..n {
        assert_eq!(
            Some(cats.of_item[i] as usize),
            r.rows[i].pairwise(image).or(Some(r.dataset.num_classes()))
        );
    }
    let (k, count) = cats
        .counts
        .iter()
        .copied()
        .enumerate()
        .max_by_key(|&(_, c)| c)
        .unwrap();
    h.get_by_label(&format!("{} ({count})", cats.names[k]))
        .click();
    h.run_steps(2);
    assert!(h.state().map.hidden[k]);
    assert_eq!(h.state().map.drawn, n - count);
    // The grid's flag filter dims the others on the map.
    h.state_mut().grid.filter.flag = Some(FlagKind::AgreeNotAnnotation);
    h.run_steps(2);
    let kept = h
        .state()
        .map
        .shown_mask()
        .unwrap()
        .iter()
        .filter(|&&b| b)
        .count();
    assert_eq!(kept, h.state().grid.order().len());
}

#[test]
fn the_layout_runs_on_the_worker_and_a_reopen_reads_it_from_the_cache() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    h.get_by_label("Split").click();
    h.run_steps(2);
    let deadline = Instant::now() + Duration::from_secs(120);
    while h.state().map.is_computing() {
        assert!(Instant::now() < deadline, "the layout took over 120 s");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.run_steps(2);
    let layout = h.state().map.layout.clone().unwrap();
    assert_eq!(layout.kind, LayoutKind::Umap);
    assert_eq!(layout.len(), r.len());
    // Neighbours in the embeddings are neighbours on the map: far better than chance.
    let units: Vec<_> = r
        .dataset
        .modalities()
        .into_iter()
        .map(|m| pairwise_audit::scorers::unit_rows(r.dataset.embeddings(m).unwrap().view()))
        .collect();
    let views: Vec<_> = units.iter().map(|u| u.view()).collect();
    let kept = pairwise_audit::map::quality::preserved(&views, &layout.xy, 10, 300);
    assert!(kept > 0.2, "kept {kept}");
    // The grid is on screen beside the map in Split.
    h.get_by_label("Suspicion");

    let mut again = harness();
    again.state_mut().persisted.central = crate::app::map::Central::Map;
    open(&mut again, dir.path());
    let t = Instant::now();
    while again.state().map.is_computing() || again.state().map.layout.is_none() {
        assert!(t.elapsed() < Duration::from_secs(20), "no cached layout");
        again.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(again.state().map.layout.as_deref(), Some(&*layout));
    again.run_steps(2);
    again.get_by_label("layout from the cache");
}

#[test]
fn similar_items_are_listed_and_sort_the_grid() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let i = h.state().selected.unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.query_by_label("Sort grid by similarity").is_none() {
        assert!(Instant::now() < deadline, "similar items never came");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let sim = pairwise_audit::map::similar::to_item(&r.dataset, i);
    let (best, _) = pairwise_audit::map::similar::top_k(&sim.views[0].1, 1, i)[0];
    let id = &r.dataset.items[best].id;
    let label = crate::app::widgets::elide(id, 9).into_owned();
    assert!(h.query_all_by_label(&label).count() >= 1);
    h.get_by_label("Sort grid by similarity").click();
    h.run_steps(2);
    let order: Vec<usize> = h.state().grid.order().iter().map(|&j| j as usize).collect();
    assert_eq!(order.len(), r.len());
    assert!(order.windows(2).all(|w| sim.mean[w[0]] >= sim.mean[w[1]]));
    let chip = format!("most similar to {} first  ×", r.dataset.items[i].id);
    h.get_by_label(&chip).click();
    h.run_steps(2);
    assert_eq!(h.state().grid.sort, crate::app::grid::SortColumn::Suspicion);
    // Clicking a similar item selects it.
    h.get_by_label("Detail").click();
    h.run_steps(2);
    h.query_all_by_label(&label).next().unwrap().click();
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(best));
}

#[test]
fn cancel_in_the_map_toolbar_stops_the_layout_and_caches_nothing() {
    let dir = dataset_copy();
    let mut h = harness();
    open(&mut h, dir.path());
    h.get_by_label("Map").click();
    h.run_steps(2);
    assert!(h.state().map.is_computing());
    h.get_by_label("Cancel").click();
    let deadline = Instant::now() + Duration::from_secs(30);
    while h.state().map.is_computing() {
        assert!(Instant::now() < deadline, "the layout did not stop");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
    assert!(
        h.state()
            .map
            .status
            .as_deref()
            .is_some_and(|s| s.contains("cancelled")),
        "{:?}",
        h.state().map.status
    );
    assert_ne!(
        h.state().map.layout.as_ref().map(|l| l.kind),
        Some(LayoutKind::Umap)
    );
    let cached = std::fs::read_dir(dir.path().join(".pairwise-audit"))
        .unwrap()
        .filter_map(|e| e.ok())
        .any(|e| e.file_name().to_string_lossy().starts_with("map-"));
    assert!(!cached, "a cancelled layout left a cache file");
}
