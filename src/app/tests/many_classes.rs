//! Hundreds of classes in the app: the confusion tab ranks the largest confusions (a click
//! filters the grid to the cell) and draws a heatmap of their classes only; class choosers
//! search as you type; the detail's cosine bars show the top classes.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pairwise_audit::synth::{self, SynthParams};

use super::flows::{shown, wait_for_run};
use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::panels::confusion::{cell_items, counts, top_cells};
use crate::app::state::{Persisted, Tab};
use crate::app::worker;

const CLASSES: usize = 300;

fn opened(dir: &std::path::Path) -> Harness<'static, AuditApp> {
    let s = synth::generate(&SynthParams {
        n: 2000,
        d: 64,
        classes: CLASSES,
        flip: 0.2,
        seed: 5,
        ..SynthParams::default()
    });
    synth::write(&s, dir).unwrap();
    let app = AuditApp::new(Persisted::default(), worker::engine_pipeline());
    let mut h = Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app);
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply(&ctx, Command::OpenDataset(dir.to_path_buf()));
    wait_for_run(&mut h);
    h
}

#[test]
fn hundreds_of_classes_rank_confusions_search_classes_and_show_the_top_bars() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = opened(dir.path());
    let r = h.state().results.clone().unwrap();
    assert_eq!(r.dataset.num_classes(), CLASSES);

    // Detail: a few bars per view, not hundreds.
    assert_eq!(
        h.query_all_by_label_contains("classes shown of 300")
            .count(),
        2
    );

    // Confusion: the ranked list; its first entry filters the grid to exactly that cell.
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, Command::ShowTab(Tab::Confusion));
    h.run_steps(2);
    h.get_by_label("Largest confusions");
    let p = &h.state().persisted;
    let m = counts(&r, p.confusion_rows, p.confusion_cols);
    let (a, b, n) = top_cells(&m, CLASSES, 200)[0];
    let entry = format!(
        "{} as {}: {n}",
        r.dataset.class_name(a),
        r.dataset.class_name(b)
    );
    h.get_by_label(&entry).click();
    h.run_steps(2);
    let cell = h.state().grid.filter.cell.clone().expect("a cell filter");
    assert_eq!((cell.row_class, cell.col_class), (a, b));
    let mut grid = shown(&h);
    grid.sort_unstable();
    assert_eq!(grid, cell_items(&r, &cell));
    assert_eq!(grid.len(), n as usize);
    // The heatmap has a cell button per shown pair of classes: 24 × 24, not 300 × 300 (and
    // the grid's chip names the chosen cell too).
    let cells = h
        .query_all_by(|node| node.label().is_some_and(|l| l.contains(" × ")))
        .count();
    assert_eq!(cells, 24 * 24 + 1);

    // The annotation filter searches its hundreds of classes as you type.
    // The filter column's chooser, left of the grid's "Annotation" column header.
    h.get_all_by_label("Annotation")
        .min_by(|a, b| a.rect().min.x.total_cmp(&b.rect().min.x))
        .unwrap()
        .click();
    h.run_steps(2);
    h.get_by_label("Annotation search").click();
    h.run();
    h.get_by_label("Annotation search").type_text("class_27");
    h.run_steps(2);
    // class_27 and class_270 … class_279 match, and the last of them is on screen to click.
    h.get_by_label("class_273").click();
    h.run_steps(2);
    assert_eq!(h.state().grid.filter.annotation, Some(273));
}
