//! The one-vs-rest step driven from the app: turned on in Settings, read in Metrics and the
//! Dimensions view, used as a grid filter, and carved out into a catalogue that opens.

use egui_kittest::kittest::Queryable;
use pairwise_audit::Modality;
use pairwise_audit::one_vs_rest::DimSet;

use super::flows::{opened, shown, wait_for_run};
use crate::app::commands::Command;

#[test]
fn one_class_against_the_rest_from_settings_to_a_carved_out_catalogue() {
    let (mut h, r) = opened();
    // Some sample descriptions hold "✓", which egui's bundled fonts lack: the app draws a box
    // for it, as it does outside tests, when the carve-out's grid shows them.
    h.ctx
        .set_missing_glyph_policy(egui::MissingGlyphPolicy::Tofu);
    assert!(r.binary.is_none());
    h.get_by_label("Settings").click();
    h.run_steps(2);
    h.get_by_label("score one class against the rest").click();
    h.run_steps(2);
    h.get_by_label("one-vs-rest class").click();
    h.run();
    // The popup's entry, not the grid's "flags" cells (labels).
    h.get_by_role_and_label(egui::accesskit::Role::Button, "flags")
        .click();
    h.run_steps(2);
    assert_eq!(h.state().draft.one_vs_rest.as_ref().unwrap().class, "flags");
    h.get_by_label("Edited; not run yet.");
    h.get_by_label("Re-run").click();
    h.run_steps(1);
    wait_for_run(&mut h);
    let r2 = h.state().results.clone().unwrap();
    let ovr = r2
        .classification
        .one_vs_rest
        .as_ref()
        .expect("the step ran");
    assert_eq!(r2.dataset.class_name(ovr.class), "flags");
    let kept: Vec<usize> = ovr.kept_items(r2.len());
    assert!(!kept.is_empty() && kept.len() < r2.len());

    // The filter column shows exactly the kept items.
    let label = format!("kept as flags ({})", kept.len());
    h.get_by_label(&label).click();
    h.run_steps(2);
    let mut grid = shown(&h);
    grid.sort_unstable();
    assert_eq!(grid, kept);
    h.get_by_label(&format!("any ({})", r2.len())).click();
    h.run_steps(2);
    assert_eq!(shown(&h).len(), r2.len());

    // Metrics: the binary table, its numbers from the engine's table.
    h.get_by_label("Metrics").click();
    h.run_steps(2);
    h.get_by_label("One vs rest: flags against the other classes");
    let t = r2.binary.as_ref().unwrap();
    let f1 = t.rows[1].text_vs_image_weighted_f1.unwrap();
    assert!(h.query_all_by_label(&format!("{f1:.3}")).count() >= 1);

    // The Dimensions view explains the step: its first dimension is the best by cross ratio.
    h.get_by_label("Dimensions").click();
    h.run_steps(2);
    h.get_by_label("flags vs rest").click();
    h.run_steps(2);
    let view = ovr.get(Modality::Image).unwrap();
    assert_eq!(h.state().inspector.dim, Some(view.dims[0] as usize));
    h.get_by_label_contains(&format!("dimension {}: cross ratio", view.dims[0]));
    let to_class = (0..r2.len())
        .filter(|&i| view.says_class(i, DimSet::Full) == Some(true))
        .count();
    h.get_by_label_contains(&format!("flags (n = {to_class})"));

    // Carve out: the kept items are written and opened as a catalogue of their own.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("flags");
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, Command::CarveTo(out.clone()));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while h
        .state()
        .results
        .as_ref()
        .is_none_or(|r| r.dataset.root != out)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the carve-out never opened"
        );
        h.step();
        std::thread::sleep(std::time::Duration::from_millis(5));
        if h.state().is_running() {
            wait_for_run(&mut h);
        }
    }
    let r3 = h.state().results.clone().unwrap();
    let ids: Vec<&str> = r3.dataset.items.iter().map(|it| it.id.as_str()).collect();
    let expected: Vec<&str> = kept
        .iter()
        .map(|&i| r2.dataset.items[i].id.as_str())
        .collect();
    assert_eq!(ids, expected);
}
