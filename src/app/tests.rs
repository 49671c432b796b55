//! UI tests in egui_kittest: no display, real widgets found by their labels.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use ndarray::Array2;
use pairwise_audit::dataset::{ClassInfo, Item};
use pairwise_audit::selection::PairRecord;
use pairwise_audit::{Classification, Dataset, Modality, ModalityResult, Monitor, PairKey, Stage};

use super::AuditApp;
use super::commands::{Action, Command};
use super::review::FlagKind;
use super::state::Persisted;
use super::worker::{JobError, Pipeline, Request};

const CLASSES: [&str; 3] = ["shirt", "pants", "shoes"];

/// A small catalogue whose labels are fixed by formula, so each test knows the answer.
pub fn fake_dataset(n: usize) -> Dataset {
    let c = CLASSES.len();
    let d = 6;
    let items = (0..n)
        .map(|i| Item {
            id: format!("item{i:03}"),
            description: format!("a {} number {i}", CLASSES[i % c]),
            image: None,
            label: if i % 10 == 9 { None } else { Some(i % c) },
        })
        .collect();
    let classes = CLASSES
        .iter()
        .map(|name| ClassInfo {
            name: name.to_string(),
            prompt: format!("a photo of a {name}"),
        })
        .collect();
    let class_embeddings = Array2::from_shape_fn((c, d), |(k, j)| if j == k { 1.0 } else { 0.1 });
    let emb = |shift: usize| {
        Array2::from_shape_fn((n, d), move |(i, j)| {
            let label = (i + shift * usize::from(i % 4 == 0)) % c;
            if j == label {
                1.0
            } else {
                0.05 * ((i * 7 + j * 3) % 5) as f32
            }
        })
    };
    Dataset {
        root: PathBuf::from("/fake/catalogue"),
        items,
        classes,
        class_embeddings,
        image_embeddings: Some(emb(1)),
        text_embeddings: Some(emb(if n > 0 { 1 } else { 0 })),
        warnings: Vec::new(),
        missing_images: 0,
        fingerprint: "fake".into(),
    }
}

fn fake_result(ds: &Dataset, m: Modality) -> ModalityResult {
    let x = ds.embeddings(m).unwrap();
    let k = &ds.class_embeddings;
    let n = ds.len();
    let c = ds.num_classes();
    let norm =
        |v: ndarray::ArrayView1<f32>| v.iter().map(|a| (*a as f64).powi(2)).sum::<f64>().sqrt();
    let inv_norms: Vec<f64> = (0..n).map(|i| 1.0 / norm(x.row(i))).collect();
    let scores = Array2::from_shape_fn((n, c), |(i, cl)| {
        let dot: f64 = x
            .row(i)
            .iter()
            .zip(k.row(cl))
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        dot * inv_norms[i] / norm(k.row(cl))
    });
    let baseline: Vec<usize> = (0..n)
        .map(|i| {
            (0..c)
                .max_by(|&a, &b| scores[[i, a]].total_cmp(&scores[[i, b]]).then(b.cmp(&a)))
                .unwrap()
        })
        .collect();
    let pairs = PairKey::all(c)
        .into_iter()
        .map(|pair| {
            let ratios: Vec<f64> = (0..ds.dim())
                .map(|j| 1.0 + ((j * 5 + pair.a + pair.b) % 7) as f64 / 10.0)
                .collect();
            let mut dims: Vec<u32> = (0..ds.dim() as u32).collect();
            dims.sort_by(|&a, &b| {
                ratios[b as usize]
                    .total_cmp(&ratios[a as usize])
                    .then(a.cmp(&b))
            });
            dims.truncate(3);
            let dim_ratios = dims.iter().map(|&j| ratios[j as usize]).collect();
            PairRecord {
                pair,
                candidates: [11, 9],
                kept: [7, 5],
                floor: 0.2,
                margin: 0.01,
                fallback: false,
                dims,
                dim_ratios,
                ratios,
            }
        })
        .collect();
    ModalityResult {
        modality: m,
        inv_norms,
        scores,
        pairwise: baseline.clone(),
        baseline,
        floor: 0.2,
        pairs,
        pairwise_margin: vec![0.1; n],
        permutations: vec![vec![1, 0, 2], vec![0, 1]],
        timings: Vec::new(),
    }
}

/// Loads `fake_dataset(n)`, taking at least `delay` (checking the stop flag every ms), or
/// fails with `error` when given.
pub fn fake_pipeline(n: usize, delay: Duration, error: Option<&'static str>) -> Pipeline {
    Arc::new(move |request: &Request, monitor: &Monitor| {
        monitor.begin(Stage::LoadItems, None, 100);
        let t = Instant::now();
        while t.elapsed() < delay {
            monitor.check().map_err(|_| JobError::Cancelled)?;
            monitor.advance(1);
            std::thread::sleep(Duration::from_millis(1));
        }
        if let Some(e) = error {
            return Err(JobError::Failed(e.to_string()));
        }
        let (ds, params) = match request {
            Request::Open { params, .. } => (Arc::new(fake_dataset(n)), params.clone()),
            Request::Rerun { dataset, params } => (dataset.clone(), params.clone()),
        };
        let classification = Classification {
            params,
            image: Some(fake_result(&ds, Modality::Image)),
            text: Some(fake_result(&ds, Modality::Text)),
        };
        Ok((ds, classification))
    })
}

fn harness(pipeline: Pipeline) -> Harness<'static, AuditApp> {
    let app = AuditApp::new(Persisted::default(), pipeline);
    Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app)
}

/// Step frames until the run ends (bounded).
fn wait_for_run(h: &mut Harness<'_, AuditApp>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.state().is_running() {
        assert!(
            Instant::now() < deadline,
            "the run did not finish within 20 s"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(2));
    }
    // Settle the frame that received the results.
    h.run_steps(3);
}

fn opened(n: usize) -> Harness<'static, AuditApp> {
    let mut h = harness(fake_pipeline(n, Duration::ZERO, None));
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply(&ctx, Command::OpenDataset(PathBuf::from("/fake/catalogue")));
    wait_for_run(&mut h);
    h
}

#[test]
fn opening_a_dataset_fills_the_grid() {
    let h = opened(30);
    assert!(h.state().results.is_some());
    h.get_by_label("showing 30 of 30");
    assert!(
        h.query_all_by_label_contains("item0").count() > 10,
        "rows are drawn"
    );
    assert_eq!(
        h.state().persisted.recent.first(),
        Some(&PathBuf::from("/fake/catalogue"))
    );
}

#[test]
fn sorting_by_suspicion_puts_the_most_suspicious_first_and_reverses() {
    let mut h = opened(30);
    h.get_by_label("Id").click();
    h.run_steps(2);
    assert_eq!(h.state().grid.sort, super::grid::SortColumn::Id);
    h.get_by_label("Id").click();
    h.run_steps(2);
    assert_eq!(
        h.state().grid.order()[0],
        29,
        "reverse id order: item029 first"
    );
    h.get_by_label("Suspicion").click();
    h.run_steps(2);
    let r = h.state().results.clone().unwrap();
    let max = r
        .rows
        .iter()
        .map(|row| row.suspicion)
        .fold(f64::MIN, f64::max);
    let first = h.state().grid.order()[0] as usize;
    assert!(max > 0.0);
    assert_eq!(r.rows[first].suspicion, max);
    // Again: reversed, the least suspicious first.
    h.get_by_label("Suspicion").click();
    h.run_steps(2);
    assert!(!h.state().grid.descending, "second click reverses");
    let first = h.state().grid.order()[0] as usize;
    let min = r
        .rows
        .iter()
        .map(|row| row.suspicion)
        .fold(f64::MAX, f64::min);
    assert_eq!(r.rows[first].suspicion, min);
}

#[test]
fn filtering_by_flag_changes_count_and_rows() {
    let mut h = opened(30);
    let r = h.state().results.clone().unwrap();
    let kind = FlagKind::BothDisagree;
    let expected: Vec<usize> = (0..30).filter(|&i| r.rows[i].flag == kind).collect();
    assert!(!expected.is_empty() && expected.len() < 30);
    h.get_by_label(&format!("{} ({})", kind.label(), expected.len()))
        .click();
    h.run_steps(2);
    h.get_by_label(&format!("showing {} of 30", expected.len()));
    let mut shown: Vec<usize> = h.state().grid.order().iter().map(|&i| i as usize).collect();
    shown.sort();
    assert_eq!(shown, expected);
}

#[test]
fn search_filters_on_id_and_description() {
    let mut h = opened(30);
    h.get_by_role(egui::accesskit::Role::TextInput).click();
    h.run();
    h.get_by_role(egui::accesskit::Role::TextInput)
        .type_text("item01");
    h.run_steps(2);
    // item010 … item019
    h.get_by_label("showing 10 of 30");
}

#[test]
fn clicking_a_row_shows_its_detail() {
    let mut h = opened(30);
    h.get_by_label("item004").click();
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(4));
    h.get_by_label("Detail").click();
    h.run_steps(2);
    // The description appears in full in the detail panel (and truncated in the grid).
    assert!(h.query_all_by_label("a pants number 4").count() >= 2);
    h.get_by_label("image: cosine to each class");
}

#[test]
fn keyboard_moves_the_selection_through_the_current_order() {
    let mut h = opened(30);
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    let order: Vec<usize> = h.state().grid.order().iter().map(|&i| i as usize).collect();
    assert_eq!(h.state().selected, Some(order[0]));
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(order[1]));
    h.key_press(egui::Key::End);
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(order[29]));
    h.key_press(egui::Key::Home);
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(order[0]));
}

#[test]
fn clicking_a_confusion_cell_filters_the_grid_to_that_cell() {
    let mut h = opened(30);
    h.get_by_label("Confusion").click();
    h.run_steps(2);
    let r = h.state().results.clone().unwrap();
    // Default: annotation rows × image (pairwise) columns. Pick the off-diagonal shirt→pants.
    let cell_items: Vec<usize> = (0..30)
        .filter(|&i| {
            r.rows[i].annotation == Some(0) && r.rows[i].pairwise(Modality::Image) == Some(1)
        })
        .collect();
    assert!(!cell_items.is_empty());
    h.get_by_label(&format!("shirt × pants: {}", cell_items.len()))
        .click();
    h.run_steps(2);
    let mut shown: Vec<usize> = h.state().grid.order().iter().map(|&i| i as usize).collect();
    shown.sort();
    assert_eq!(shown, cell_items);
    h.get_by_label(&format!("showing {} of 30", cell_items.len()));
    // The chip names the filter; clicking it removes the filter.
    let chip = "annotation = shirt × image (pairwise) = pants  ×";
    h.get_by_label(chip).click();
    h.run_steps(2);
    h.get_by_label("showing 30 of 30");
    assert!(h.query_by_label(chip).is_none());
}

#[test]
fn the_inspector_shows_a_pair_and_a_dimension() {
    let mut h = opened(30);
    // item004: annotation pants, both modalities say shoes.
    h.get_by_label("item004").click();
    h.run_steps(2);
    h.get_by_label("Inspect pants vs shoes (image)").click();
    h.run_steps(2);
    assert_eq!(h.state().persisted.tab, super::state::Tab::Inspector);
    assert_eq!(h.state().inspector.pair, Some(PairKey::new(1, 2)));
    assert!(
        h.query_all_by_label("kept 7").count() == 1 && h.query_all_by_label("kept 5").count() == 1
    );
    h.get_by_label("3 dimensions kept");
    h.get_by_label_contains("d2 (").click();
    h.run_steps(2);
    assert_eq!(h.state().inspector.dim, Some(2));
    h.get_by_label_contains("dimension 2: cross ratio");
}

#[test]
fn cancel_stops_the_run_quickly_and_keeps_previous_results() {
    let mut h = opened(30);
    let before = h.state().results.as_ref().unwrap().generation;
    let ctx = h.ctx.clone();
    h.state_mut().pipeline = fake_pipeline(30, Duration::from_secs(30), None);
    h.state_mut().apply(&ctx, Command::Rerun);
    h.run_steps(2);
    assert!(h.state().is_running());
    h.get_by_label_contains("reading items.csv");
    h.get_by_label("Cancel").click();
    let t = Instant::now();
    wait_for_run(&mut h);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "cancel took {:?}",
        t.elapsed()
    );
    assert_eq!(
        h.state().results.as_ref().unwrap().generation,
        before,
        "old results stay"
    );
    assert!(h.state().last_run.as_deref().unwrap().contains("cancelled"));
    h.get_by_label("showing 30 of 30");
}

#[test]
fn a_failed_open_shows_the_sentence_and_the_app_keeps_running() {
    let sentence = "/nowhere/items.csv: the file does not exist";
    let mut h = harness(fake_pipeline(30, Duration::ZERO, Some(sentence)));
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply(&ctx, Command::OpenDataset(PathBuf::from("/nowhere")));
    wait_for_run(&mut h);
    h.get_by_label_contains(sentence);
    h.get_by_label("No dataset open");
    h.get_by_label("Dismiss").click();
    h.run_steps(2);
    assert!(h.query_by_label_contains(sentence).is_none());
}

#[test]
fn open_dataset_in_the_menu_asks_the_shell_for_a_folder() {
    let mut h = harness(fake_pipeline(30, Duration::ZERO, None));
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Open dataset…").click();
    h.run();
    assert_eq!(h.state().actions, vec![Action::PickDatasetFolder]);
}

#[test]
fn settings_rerun_uses_the_edited_params() {
    let mut h = opened(30);
    h.get_by_label("Settings").click();
    h.run_steps(2);
    h.state_mut().draft.k = 4;
    h.run_steps(2);
    h.get_by_label("Edited; not run yet.");
    h.get_by_label("Re-run").click();
    h.run_steps(1);
    wait_for_run(&mut h);
    let r = h.state().results.clone().unwrap();
    assert_eq!(r.classification.params.k, 4);
    assert_eq!(h.state().persisted.params.k, 4);
    assert_eq!(r.generation, 2);
}

#[test]
fn metrics_show_the_f1_table() {
    let mut h = opened(30);
    h.get_by_label("Metrics").click();
    h.run_steps(2);
    h.get_by_label("Agreement of text and image labels");
    // Identical image and text labels in the fixture: perfect agreement.
    assert_eq!(h.query_all_by_label("1.000").count(), 6);
    h.get_by_label_contains("Against the annotation (27 annotated items)");
}
