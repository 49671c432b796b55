//! The write-up's table for this dataset: weighted F1 of the text labels against the image
//! labels, baseline vs pairwise; and each label source's accuracy against the annotation.
//! The numbers are the engine's `MetricsReport`, computed on the worker thread.

use egui::RichText;

use super::AuditApp;

pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp) {
    let Some(r) = app.results.clone() else {
        ui.weak("No results yet.");
        return;
    };
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
