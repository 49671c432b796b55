//! UI tests in egui_kittest: no display, real widgets found by their labels, the real engine
//! on sample_data/.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pairwise_audit::audit::FlagKind;
use pairwise_audit::{Modality, Monitor, PairKey, Stage};

use crate::app::AuditApp;
use crate::app::commands::{Action, Command};
use crate::app::review::{Results, flag_label};
use crate::app::state::{Persisted, Tab};
use crate::app::worker::{self, JobError, Pipeline, Request};

fn sample_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

/// The real engine after `delay` of pretend loading that checks the stop flag every ms.
fn slow_pipeline(delay: Duration) -> Pipeline {
    let engine = worker::engine_pipeline();
    Arc::new(move |request: &Request, monitor: &Monitor| {
        monitor.begin(Stage::LoadItems, None, 100);
        let t = Instant::now();
        while t.elapsed() < delay {
            monitor.check().map_err(|_| JobError::Cancelled)?;
            monitor.advance(1);
            std::thread::sleep(Duration::from_millis(1));
        }
        engine(request, monitor)
    })
}

fn harness(pipeline: Pipeline) -> Harness<'static, AuditApp> {
    let app = AuditApp::new(Persisted::default(), pipeline);
    Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app)
}

/// Step frames until the run ends (bounded).
pub(super) fn wait_for_run(h: &mut Harness<'_, AuditApp>) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.state().is_running() {
        assert!(
            Instant::now() < deadline,
            "the run did not finish within 60 s"
        );
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    // Settle the frame that received the results.
    h.run_steps(3);
}

fn open(h: &mut Harness<'_, AuditApp>, path: PathBuf) {
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, Command::OpenDataset(path));
    wait_for_run(h);
}

/// The app on sample_data/, run finished.
pub(super) fn opened() -> (Harness<'static, AuditApp>, Arc<Results>) {
    let mut h = harness(worker::engine_pipeline());
    open(&mut h, sample_dir());
    let r = h
        .state()
        .results
        .clone()
        .expect("sample_data loads and classifies");
    (h, r)
}

pub(super) fn shown(h: &Harness<'_, AuditApp>) -> Vec<usize> {
    h.state().grid.order().iter().map(|&i| i as usize).collect()
}

#[test]
fn opening_sample_data_fills_the_grid() {
    let (h, r) = opened();
    let n = r.len();
    assert!(n > 1000);
    h.get_by_label(&format!("showing {n} of {n}"));
    // The first row of the default order (most suspicious first) is on screen and selected,
    // so its id shows in the grid and as the detail heading.
    let first = shown(&h)[0];
    assert_eq!(h.state().selected, Some(first));
    assert_eq!(h.query_all_by_label(&r.dataset.items[first].id).count(), 2);
    assert_eq!(h.state().persisted.recent.first(), Some(&sample_dir()));
}

#[test]
fn sorting_by_suspicion_puts_the_most_suspicious_first_and_reverses() {
    let (mut h, r) = opened();
    h.get_by_label("Id").click();
    h.run_steps(2);
    let ids: Vec<&str> = shown(&h)
        .iter()
        .map(|&i| r.dataset.items[i].id.as_str())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "sorted by id");
    h.get_by_label("Suspicion").click();
    h.run_steps(2);
    let max = r
        .rows
        .iter()
        .filter_map(|row| row.suspicion)
        .fold(f64::MIN, f64::max);
    let order = shown(&h);
    assert_eq!(r.rows[order[0]].suspicion, Some(max));
    // The most suspicious item's row is drawn.
    assert!(h.query_all_by_label(&r.dataset.items[order[0]].id).count() >= 1);
    let key = |i: usize| r.rows[i].suspicion.unwrap_or(f64::NEG_INFINITY);
    assert!(order.windows(2).all(|w| key(w[0]) >= key(w[1])));
    // Again: reversed.
    h.get_by_label("Suspicion").click();
    h.run_steps(2);
    let order = shown(&h);
    assert!(order.windows(2).all(|w| key(w[0]) <= key(w[1])));
}

#[test]
fn filtering_by_flag_changes_count_and_rows() {
    let (mut h, r) = opened();
    let n = r.len();
    let kind = FlagKind::AgreeNotAnnotation;
    let expected: Vec<usize> = (0..n).filter(|&i| r.rows[i].flag == kind).collect();
    assert!(!expected.is_empty() && expected.len() < n);
    h.get_by_label(&format!("{} ({})", flag_label(kind), expected.len()))
        .click();
    h.run_steps(2);
    h.get_by_label(&format!("showing {} of {n}", expected.len()));
    let mut rows = shown(&h);
    rows.sort();
    assert_eq!(rows, expected);
    // "all items" lifts the filter.
    h.get_by_label(&format!("all items ({n})")).click();
    h.run_steps(2);
    h.get_by_label(&format!("showing {n} of {n}"));
}

#[test]
fn search_filters_on_id_and_description() {
    let (mut h, r) = opened();
    let expected = r.haystack.iter().filter(|t| t.contains("grinning")).count();
    assert!(expected > 0);
    h.get_by_role(egui::accesskit::Role::TextInput).click();
    h.run();
    h.get_by_role(egui::accesskit::Role::TextInput)
        .type_text("Grinning");
    h.run_steps(2);
    h.get_by_label(&format!("showing {expected} of {}", r.len()));
    assert!(
        shown(&h)
            .iter()
            .all(|&i| r.haystack[i].contains("grinning"))
    );
}

#[test]
fn clicking_a_row_shows_its_detail() {
    let (mut h, r) = opened();
    let i = shown(&h)[2];
    let item = &r.dataset.items[i];
    h.get_by_label(&item.id).click();
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(i));
    h.get_by_label("Detail").click();
    h.run_steps(2);
    // The id as the heading (beside the grid cell), the full description, the charts and
    // the tournament path of each modality.
    assert_eq!(h.query_all_by_label(&item.id).count(), 2);
    assert!(h.query_all_by_label(&item.description).count() >= 1);
    h.get_by_label("image: cosine to each class");
    h.get_by_label("text: tournament path");
    let path =
        crate::app::engine_glue::trace(&r.dataset, &r.classification, i, Modality::Image).unwrap();
    assert_eq!(path.len(), r.dataset.num_classes() - 1, "C − 1 matches");
    let last = path.last().unwrap();
    assert_eq!(Some(last.winner), r.rows[i].pairwise(Modality::Image));
    let duel = format!(
        "{} vs {}",
        r.dataset.class_name(last.a),
        r.dataset.class_name(last.b)
    );
    // The bracket is replayed on a thread of its own: the path shows when it is done.
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.query_all_by_label(&duel).count() == 0 {
        assert!(Instant::now() < deadline, "the final match is never listed");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn keyboard_moves_the_selection_through_the_current_order() {
    let (mut h, r) = opened();
    let order = shown(&h);
    assert_eq!(
        h.state().selected,
        Some(order[0]),
        "the first item starts selected"
    );
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(order[1]));
    h.key_press(egui::Key::PageDown);
    h.run_steps(2);
    let page = h.state().grid.page_rows;
    assert!(page > 5);
    assert_eq!(h.state().selected, Some(order[1 + page]));
    h.key_press(egui::Key::End);
    h.run_steps(3);
    assert_eq!(h.state().selected, Some(order[r.len() - 1]));
    // The grid scrolled to the last row (its id shows in the grid and the detail heading).
    assert_eq!(
        h.query_all_by_label(&r.dataset.items[order[r.len() - 1]].id)
            .count(),
        2
    );
    h.key_press(egui::Key::Home);
    h.run_steps(3);
    assert_eq!(h.state().selected, Some(order[0]));
}

#[test]
fn clicking_a_confusion_cell_filters_the_grid_to_that_cell() {
    let (mut h, r) = opened();
    h.get_by_label("Confusion").click();
    h.run_steps(2);
    // Default: annotation rows × image (pairwise) columns. Take the fullest off-diagonal cell.
    let c = r.dataset.num_classes();
    let cell = |a: usize, b: usize| -> Vec<usize> {
        (0..r.len())
            .filter(|&i| {
                r.rows[i].annotation == Some(a) && r.rows[i].pairwise(Modality::Image) == Some(b)
            })
            .collect()
    };
    let (a, b) = (0..c)
        .flat_map(|a| (0..c).map(move |b| (a, b)))
        .filter(|(a, b)| a != b)
        .max_by_key(|&(a, b)| cell(a, b).len())
        .unwrap();
    let expected = cell(a, b);
    assert!(!expected.is_empty());
    let (na, nb) = (r.dataset.class_name(a), r.dataset.class_name(b));
    h.get_by_label(&format!("{na} × {nb}: {}", expected.len()))
        .click();
    h.run_steps(2);
    let mut rows = shown(&h);
    rows.sort();
    assert_eq!(rows, expected);
    h.get_by_label(&format!("showing {} of {}", expected.len(), r.len()));
    // The chip names the filter; clicking it removes the filter.
    let chip = format!("annotation = {na} × image (pairwise) = {nb}  ×");
    h.get_by_label(&chip).click();
    h.run_steps(2);
    h.get_by_label(&format!("showing {} of {}", r.len(), r.len()));
    assert!(h.query_by_label(&chip).is_none());
}

#[test]
fn the_inspector_shows_a_pair_and_a_dimension() {
    let (mut h, r) = opened();
    // The most suspicious item: its annotation against its challenger.
    let i = shown(&h)[0];
    let (y, p) = (r.rows[i].annotation.unwrap(), r.rows[i].challenger.unwrap());
    assert_eq!(h.state().selected, Some(i));
    let (ny, np) = (r.dataset.class_name(y), r.dataset.class_name(p));
    h.get_by_label(&format!("Inspect {ny} vs {np} (image)"))
        .click();
    h.run_steps(2);
    assert_eq!(h.state().persisted.tab, Tab::Inspector);
    let pair = PairKey::new(y, p);
    assert_eq!(h.state().inspector.pair, Some(pair));
    let rec = r
        .classification
        .get(Modality::Image)
        .unwrap()
        .pair(pair)
        .unwrap();
    h.get_by_label(&format!("kept {}", rec.kept[0]));
    h.get_by_label(&format!("kept {}", rec.kept[1]));
    h.get_by_label(&format!("{} dimensions kept", rec.dims.len()));
    // The tab opens on the best dimension; the runner-up is one click away.
    let best = rec.dims[0] as usize;
    assert_eq!(h.state().inspector.dim, Some(best));
    h.get_by_label_contains(&format!("dimension {best}: cross ratio"));
    let second = rec.dims[1] as usize;
    h.get_by_label_contains(&format!("d{second} (")).click();
    h.run_steps(2);
    assert_eq!(h.state().inspector.dim, Some(second));
    h.get_by_label_contains(&format!("dimension {second}: cross ratio"));
    h.get_by_label_contains("(selected, #2)");
}

#[test]
fn cancel_stops_the_run_quickly_and_keeps_previous_results() {
    let (mut h, _) = opened();
    let before = h.state().results.as_ref().unwrap().generation;
    let ctx = h.ctx.clone();
    h.state_mut().pipeline = slow_pipeline(Duration::from_secs(60));
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
    let n = h.state().results.as_ref().unwrap().len();
    h.get_by_label(&format!("showing {n} of {n}"));
}

#[test]
fn a_failed_open_shows_the_loaders_sentence_and_the_app_keeps_running() {
    let mut h = harness(worker::engine_pipeline());
    let missing = std::env::temp_dir().join("pairwise-audit-no-such-dataset");
    open(&mut h, missing.clone());
    let sentence = match pairwise_audit::Dataset::load(&missing) {
        Err(e) => e.to_string(),
        Ok(_) => panic!("a missing folder loaded"),
    };
    h.get_by_label_contains(&sentence);
    h.get_by_label("No dataset open");
    // The app still works: open the real one.
    open(&mut h, sample_dir());
    assert!(h.query_by_label_contains(&sentence).is_none());
    assert!(h.state().results.is_some());
}

#[test]
fn open_dataset_in_the_menu_asks_the_shell_for_a_folder() {
    let mut h = harness(worker::engine_pipeline());
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Open dataset…").click();
    h.run();
    assert_eq!(h.state().actions, vec![Action::PickDatasetFolder]);
}

#[test]
fn settings_rerun_uses_the_edited_params_and_keeps_the_selection() {
    let (mut h, r) = opened();
    let i = shown(&h)[1];
    h.get_by_label(&r.dataset.items[i].id).click();
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(i));
    h.get_by_label("Settings").click();
    h.run_steps(2);
    h.state_mut().draft.k = 20;
    h.run_steps(2);
    h.get_by_label("Edited; not run yet.");
    h.get_by_label("Re-run").click();
    h.run_steps(1);
    wait_for_run(&mut h);
    let r2 = h.state().results.clone().unwrap();
    assert_eq!(r2.classification.params.k, 20);
    assert_eq!(
        r2.classification.get(Modality::Image).unwrap().pairs[0]
            .dims
            .len(),
        20
    );
    assert_eq!(h.state().persisted.params.k, 20);
    assert_eq!(r2.generation, 2);
    assert_eq!(
        h.state().selected,
        Some(i),
        "same dataset: the selection stays"
    );
}

#[test]
fn metrics_show_the_f1_table() {
    let (mut h, r) = opened();
    h.get_by_label("Metrics").click();
    h.run_steps(2);
    h.get_by_label("Agreement of text and image labels");
    for row in &r.metrics.agreement {
        h.get_by_label(&row.method);
        assert!(
            h.query_all_by_label(&format!("{:.3}", row.scores.weighted_f1))
                .count()
                >= 1
        );
    }
    let annotated = r.rows.iter().filter(|row| row.annotation.is_some()).count();
    h.get_by_label(&format!(
        "Against the annotation ({annotated} annotated items)"
    ));
    h.get_by_label("image pairwise");
}

#[test]
fn thumbnails_arrive_for_the_rows_on_screen() {
    let (mut h, r) = opened();
    assert!(r.has_images);
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.state().thumbs.ready() < 10 {
        assert!(Instant::now() < deadline, "no thumbnails after 20 s");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A folder dropped on the window, as the platform reports it.
#[derive(Debug)]
struct Dropped(PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        Err("a folder has no bytes".into())
    }
}

#[test]
fn dropping_a_folder_opens_it_and_remembers_it() {
    let mut h = harness(worker::engine_pipeline());
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(sample_dir())));
    h.step();
    assert!(h.state().is_running(), "the drop started a run");
    wait_for_run(&mut h);
    let n = h.state().results.as_ref().unwrap().len();
    h.get_by_label(&format!("showing {n} of {n}"));
    // The recent list in the File menu offers it again.
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Recent datasets").click();
    h.run();
    // Once in the menu bar (the open dataset), once in the recent list.
    assert_eq!(
        h.query_all_by_label(&sample_dir().display().to_string())
            .count(),
        2
    );
}

#[test]
fn a_save_that_no_longer_decodes_starts_from_defaults_with_a_warning() {
    let app = AuditApp::restore(
        Some("(tab: NoSuchTab, params: 7"),
        worker::engine_pipeline(),
    );
    assert_eq!(app.persisted, Persisted::default());
    let mut h = Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app);
    h.run_steps(2);
    h.get_by_label_contains("The saved settings could not be read");
    h.get_by_label("Dismiss").click();
    h.run_steps(2);
    assert!(
        h.query_by_label_contains("The saved settings could not be read")
            .is_none()
    );
}

#[test]
fn a_good_save_restores_settings_and_recent_datasets() {
    let mut saved = Persisted::default();
    saved.params.k = 33;
    saved.tab = Tab::Metrics;
    saved.remember(&sample_dir());
    let app = AuditApp::restore(Some(&saved.encode()), worker::engine_pipeline());
    assert!(app.notices.is_empty());
    assert_eq!(app.persisted.params.k, 33);
    assert_eq!(
        app.draft.k, 33,
        "the Settings tab edits the restored params"
    );
    assert_eq!(app.persisted.recent, vec![sample_dir()]);
}

#[test]
fn ctrl_shortcuts_work_while_typing_but_arrows_stay_in_the_text_field() {
    let (mut h, _) = opened();
    let before = h.state().selected;
    h.get_by_role(egui::accesskit::Role::TextInput).click();
    h.run();
    h.key_press(egui::Key::ArrowDown);
    h.run_steps(2);
    assert_eq!(
        h.state().selected,
        before,
        "arrows move the text cursor, not the selection"
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::PickDatasetFolder]);
}

#[test]
fn the_scorer_is_chosen_in_settings() {
    let (mut h, r) = opened();
    assert_eq!(
        r.audit.scores.scorer,
        pairwise_audit::scorers::DEFAULT_SCORER
    );
    let other = pairwise_audit::scorers::scorer_names()
        .into_iter()
        .find(|&n| n != pairwise_audit::scorers::DEFAULT_SCORER)
        .expect("more than one scorer");
    h.get_by_label("Settings").click();
    h.run_steps(2);
    h.get_by_label("suspicion scorer").click();
    h.run();
    h.get_by_label(other).click();
    h.run_steps(2);
    h.get_by_label("Edited; not run yet.");
    h.get_by_label("Re-run").click();
    h.run_steps(1);
    wait_for_run(&mut h);
    let r2 = h.state().results.clone().unwrap();
    assert_eq!(r2.audit.scores.scorer, other);
    assert_eq!(h.state().persisted.scorer, other);
}

#[test]
fn every_tab_draws_with_named_widgets() {
    // `Harness::run` fails on widgets without an accessible name, so visiting each tab with it
    // checks that every control can be found by label (and by a screen reader).
    let (mut h, _) = opened();
    for tab in Tab::ALL {
        h.get_by_label(tab.label()).click();
        h.run();
        assert_eq!(h.state().persisted.tab, tab);
    }
    // The hand-set floor shows its value field.
    h.get_by_label("Settings").click();
    h.run();
    h.get_all_by_label("auto").next().unwrap().click();
    h.run();
    assert!(h.state().draft.floor.is_some());
}

#[cfg(feature = "parquet")]
#[test]
fn a_parquet_file_opens_through_the_mapping_sheet_once() {
    // A private copy: the chosen mapping is remembered beside the file.
    let dir = tempfile::tempdir().unwrap();
    let fixture =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet/pandas");
    for f in ["items.parquet", "classes.parquet"] {
        std::fs::copy(fixture.join(f), dir.path().join(f)).unwrap();
    }
    let file = dir.path().join("items.parquet");
    let mut h = harness(worker::engine_pipeline());
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(file.clone())));
    h.run_steps(2);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.state().is_reading_columns() {
        assert!(
            std::time::Instant::now() < deadline,
            "the columns were not read"
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    h.run_steps(2);
    assert!(!h.state().is_running(), "the sheet comes first");
    h.get_by_label("Columns of this catalogue");
    // Detection preselected, with the preview and null counts.
    h.get_by_label("product_id");
    h.get_by_label("1 null");
    h.get_by_label("Open").click();
    h.run_steps(2);
    assert!(h.state().is_running(), "Open started the run");
    wait_for_run(&mut h);
    let r = h.state().results.as_ref().expect("the catalogue loaded");
    assert_eq!(r.len(), 12);
    assert_eq!(r.dataset.table.as_ref().unwrap().source, file);
    // Item 5 has no text view: the grid has no text label for it, but an image one.
    use pairwise_audit::Modality;
    assert_eq!(r.rows[5].pairwise(Modality::Text), None);
    assert!(r.rows[5].pairwise(Modality::Image).is_some());
    assert!(r.rows[4].pairwise(Modality::Text).is_some());
    assert!(
        pairwise_audit::dataset::parquet::remembered_mapping_path(&file).is_file(),
        "the mapping is remembered"
    );

    // Opening it again goes straight to the run.
    h.input_mut()
        .dropped_files
        .push(Arc::new(Dropped(file.clone())));
    h.step();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while h.state().is_reading_columns() {
        assert!(
            std::time::Instant::now() < deadline,
            "the mapping was not looked up"
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(h.state().is_running(), "no sheet the second time");
    assert!(h.state().mapping_sheet.is_none());
    wait_for_run(&mut h);
}
