//! Layout at the window sizes people use, over catalogues unlike the sample: the controls
//! above the grid take the height of their content, and every review control stays on screen.

use std::path::Path;

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pairwise_audit::synth::{self, SynthParams};

use crate::app::AuditApp;
use crate::app::state::Persisted;
use crate::app::worker;

/// A synthetic catalogue in `dir` whose classes are named by `name(c)`.
fn catalogue(dir: &Path, n: usize, classes: usize, name: impl Fn(usize) -> String) {
    let mut s = synth::generate(&SynthParams {
        n,
        d: 64,
        classes,
        seed: 3,
        ..SynthParams::default()
    });
    s.class_names = (0..classes).map(name).collect();
    synth::write(&s, dir).unwrap();
}

fn open(size: [f32; 2], dir: &Path) -> Harness<'static, AuditApp> {
    let app = AuditApp::new(Persisted::default(), worker::engine_pipeline());
    let mut h = Harness::builder()
        .with_size(size)
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app);
    crate::app::tests::review::open(&mut h, dir);
    h.run_steps(1);
    h
}

/// Labels of the review strip's controls (the relabel buttons carry a class name after them).
const CONTROLS: [&str; 10] = [
    "Accept",
    "Use image label",
    "Use text label",
    "Relabel…",
    "Skip",
    "Clear",
    "Undo",
    "Redo",
    "auto-advance",
    "?",
];

/// The one node labelled `name` (for the relabel buttons: whose label starts with it).
fn control(h: &Harness<'_, AuditApp>, name: &str) -> egui::Rect {
    let found: Vec<_> = if name.starts_with("Use ") {
        h.query_all_by(|n| n.label().is_some_and(|l| l.starts_with(name)))
            .map(|n| n.rect())
            .collect()
    } else {
        h.query_all_by_label(name).map(|n| n.rect()).collect()
    };
    assert_eq!(
        found.len(),
        1,
        "one control labelled {name:?}, found {found:?}"
    );
    found[0]
}

/// At `size`: every review control lies inside the window, and the grid's first row starts
/// just below the lowest of them (the table header and spacing, nothing more).
fn check_layout(h: &mut Harness<'_, AuditApp>, size: [f32; 2]) {
    h.set_size(egui::vec2(size[0], size[1]));
    h.run_steps(4);
    // The central panel: between the filter column and the side panel's tabs.
    let search = control(h, "Search");
    let side = control(h, "Detail");
    let central =
        egui::Rect::from_x_y_ranges(search.left() - 1.0..=side.left() - 4.0, 0.0..=size[1]);
    let shown = h.state().grid.order().len();
    let mut rects: Vec<(String, egui::Rect)> = CONTROLS
        .iter()
        .map(|&c| (c.to_string(), control(h, c)))
        .collect();
    let bulk = format!("All {shown} shown…");
    rects.push((bulk.clone(), control(h, &bulk)));
    for (label, rect) in &rects {
        assert!(
            central.contains_rect(*rect),
            "at {size:?}: {label:?} at {rect:?} is not inside the central panel {central:?}"
        );
        assert!(
            rect.height() < 30.0,
            "at {size:?}: {label:?} is {:.0} px tall: its text broke over lines",
            rect.height()
        );
    }
    let strip_bottom = rects.iter().map(|(_, r)| r.bottom()).fold(0.0, f32::max);
    let r = h.state().results.clone().unwrap();
    let first = h.state().grid.order()[0] as usize;
    let id = &r.dataset.items[first].id;
    let row = h
        .query_all_by_label(id)
        .map(|n| n.rect())
        .filter(|rect| rect.top() > strip_bottom - 1.0)
        .min_by(|a, b| a.top().total_cmp(&b.top()))
        .unwrap_or_else(|| panic!("at {size:?}: the first row {id} is not below the strip"));
    let gap = row.top() - strip_bottom;
    assert!(
        gap < 60.0,
        "at {size:?}: {gap:.0} px between the review strip and the grid's first row"
    );
}

/// Every width from 1024 px to 2560 px in steps that cross each control's wrap point.
fn sweep(h: &mut Harness<'_, AuditApp>) {
    for size in [
        [1024.0, 700.0],
        [1280.0, 800.0],
        [1500.0, 920.0],
        [1920.0, 1080.0],
        [2560.0, 1440.0],
    ] {
        check_layout(h, size);
    }
    for w in (1024..=2560).step_by(12) {
        check_layout(h, [w as f32, 900.0]);
    }
}

#[test]
fn short_class_names_keep_the_grid_under_the_strip() {
    let dir = tempfile::tempdir().unwrap();
    let short = [
        "mail", "fonts", "web", "net", "doc", "libs", "x11", "math", "sound", "video", "games",
        "perl", "kde",
    ];
    catalogue(dir.path(), 5000, 13, |c| short[c].to_string());
    let mut h = open([1500.0, 920.0], dir.path());
    sweep(&mut h);
}

#[test]
fn long_class_names_keep_every_control_on_screen() {
    let dir = tempfile::tempdir().unwrap();
    catalogue(dir.path(), 800, 6, |c| {
        format!("department {c} of the very long category taxonomy name")
    });
    let mut h = open([1500.0, 920.0], dir.path());
    sweep(&mut h);
}

#[test]
fn the_sample_with_images_and_a_notice_keeps_the_grid_under_the_strip() {
    let dir = crate::app::tests::review::dataset_copy();
    let mut h = open([1500.0, 920.0], dir.path());
    assert!(h.state().results.as_ref().unwrap().notice.is_some());
    sweep(&mut h);
}
