//! The write-up's table for this dataset: weighted F1 of the text labels against the image
//! labels, baseline vs pairwise; and each label source's accuracy against the annotation.
//! The numbers are the engine's `MetricsReport`, computed on the worker thread.

use egui::RichText;

use crate::app::AuditApp;
use crate::app::commands::Command;

pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    let Some(r) = app.results.clone() else {
        ui.weak("No results yet.");
        return;
    };
    estimate(ui, &r, app.persisted.queue_cut);
    ui.add_space(10.0);
    if let Some(t) = &r.binary {
        crate::app::panels::one_vs_rest::metrics(ui, t, cmds);
        ui.add_space(10.0);
    }
    let m = &r.metrics;
    ui.label(RichText::new("Agreement of text and image labels").strong());
    if m.agreement.is_empty() {
        ui.weak("Needs both modalities.");
    } else {
        egui::Grid::new("f1 table")
            .num_columns(4)
            .striped(true)
            .spacing([18.0, 4.0])
            .show(ui, |ui| {
                ui.weak("text vs image");
                ui.weak("weighted F1");
                ui.weak("macro F1");
                ui.weak("accuracy");
                ui.end_row();
                for row in &m.agreement {
                    ui.label(&row.method);
                    ui.monospace(format!("{:.3}", row.scores.weighted_f1));
                    ui.monospace(format!("{:.3}", row.scores.macro_f1));
                    ui.monospace(format!("{:.3}", row.scores.accuracy));
                    ui.end_row();
                }
            });
        if let [base, pair] = &m.agreement[..] {
            let gain = pair.scores.weighted_f1 - base.scores.weighted_f1;
            ui.weak(format!("pairwise − baseline: {gain:+.3} weighted F1"));
        }
        ui.weak(&m.agreement_convention);
    }
    ui.add_space(10.0);
    let annotated = r.rows.iter().filter(|row| row.annotation.is_some()).count();
    ui.label(
        RichText::new(format!(
            "Against the annotation ({annotated} annotated items)"
        ))
        .strong(),
    );
    if annotated == 0 {
        ui.weak("No item has an annotation.");
        return;
    }
    egui::Grid::new("vs annotation")
        .num_columns(4)
        .striped(true)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            ui.weak("source");
            ui.weak("accuracy");
            ui.weak("weighted F1");
            ui.weak("macro F1");
            ui.end_row();
            for row in &m.vs_annotation {
                ui.label(row.source.replace('_', " "));
                ui.monospace(format!("{:.3}", row.scores.accuracy));
                ui.monospace(format!("{:.3}", row.scores.weighted_f1));
                ui.monospace(format!("{:.3}", row.scores.macro_f1));
                ui.end_row();
            }
        });
}

/// How many annotations are wrong (the engine's estimate), the likeliest confusions, and the
/// queue at the current cut.
fn estimate(ui: &mut egui::Ui, r: &crate::app::review::Results, cut: u8) {
    ui.label(RichText::new("Estimated wrong annotations").strong());
    let Some(cal) = &r.audit.calibration else {
        ui.weak("No estimate: fewer than 20 items have a suspicion score.");
        return;
    };
    let e = &cal.estimate;
    ui.label(format!(
        "{:.0} of {} scored ({:.1}%), 90% interval {:.0}–{:.0}",
        e.count,
        e.scored,
        100.0 * e.count / e.scored.max(1) as f64,
        e.interval.0,
        e.interval.1
    ));
    if let Some(q) = r.queue_stats(f64::from(cut) / 100.0) {
        ui.weak(format!(
            "queue at the {cut}% cut: {} items, expected precision {}",
            q.items,
            q.expected_precision
                .map_or("–".into(), |p| format!("{p:.2}"))
        ));
    }
    let cells = e.top_confusions(0.5, 10);
    if cells.is_empty() {
        return;
    }
    egui::Grid::new("likely confusions")
        .num_columns(3)
        .striped(true)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            ui.weak("annotated");
            ui.weak("likely true");
            ui.weak("expected");
            ui.end_row();
            for (y, c, v) in cells {
                ui.label(r.dataset.class_name(y));
                ui.label(r.dataset.class_name(c));
                ui.monospace(format!("{v:.0}"));
                ui.end_row();
            }
        });
}
