//! The Settings tab: edits a draft of `Params` and the scorer; "Re-run" runs again with them.

use pairwise_audit::Modality;

use crate::app::AuditApp;
use crate::app::commands::Command;

pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    let dim = app.results.as_ref().map(|r| r.dataset.dim());
    let p = &mut app.draft;
    egui::Grid::new("settings")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            let l = ui.label("k (dimensions per pair)");
            ui.add(egui::DragValue::new(&mut p.k).range(1..=dim.unwrap_or(4096)))
                .labelled_by(l.id);
            ui.end_row();

            ui.label("cosine floor");
            optional_value(ui, &mut p.floor, 0.2, "floor");
            ui.end_row();
            let l = ui.label("  floor: auto percentile");
            ui.add_enabled(
                p.floor.is_none(),
                egui::DragValue::new(&mut p.floor_percentile)
                    .range(0.0..=100.0)
                    .speed(0.5),
            )
            .labelled_by(l.id);
            ui.end_row();

            ui.label("margin");
            optional_value(ui, &mut p.margin, 0.01, "margin");
            ui.end_row();
            let l = ui.label("  margin: auto percentile");
            ui.add_enabled(
                p.margin.is_none(),
                egui::DragValue::new(&mut p.margin_percentile)
                    .range(0.0..=100.0)
                    .speed(0.5),
            )
            .labelled_by(l.id);
            ui.end_row();

            let l = ui.label("min items per side");
            ui.add(egui::DragValue::new(&mut p.min_items).range(1..=1_000_000))
                .labelled_by(l.id);
            ui.end_row();

            let l = ui.label("seed");
            ui.add(egui::DragValue::new(&mut p.seed)).labelled_by(l.id);
            ui.end_row();

            ui.label("modalities");
            ui.horizontal(|ui| {
                for m in Modality::ALL {
                    let mut on = p.modalities.contains(&m);
                    if ui.checkbox(&mut on, m.name()).changed() {
                        if on {
                            p.modalities.push(m);
                            p.modalities.sort();
                        } else {
                            p.modalities.retain(|&x| x != m);
                        }
                    }
                }
            });
            ui.end_row();
        });
    scorer_picker(ui, &mut app.draft_scorer);
    crate::app::panels::one_vs_rest::settings(ui, &mut app.draft, app.results.as_deref());
    if app.draft.permutations.is_some() {
        ui.weak(
            "Explicit tournament permutations are set (from a params file); the seed is ignored.",
        );
    }
    ui.add_space(8.0);
    let changed = app.draft != app.persisted.params || app.draft_scorer != app.persisted.scorer;
    ui.horizontal(|ui| {
        let rerun = ui
            .add_enabled(app.can_rerun() && !app.draft.modalities.is_empty(), egui::Button::new("Re-run"))
            .on_hover_text("Classify again with these settings; the current results stay until the new ones are ready");
        if rerun.clicked() {
            cmds.push(Command::Rerun);
        }
        if ui.add_enabled(changed, egui::Button::new("Revert")).clicked() {
            app.draft = app.persisted.params.clone();
            app.draft_scorer = app.persisted.scorer.clone();
        }
        if ui.button("Defaults").clicked() {
            app.draft = pairwise_audit::Params::default();
            app.draft_scorer = pairwise_audit::scorers::DEFAULT_SCORER.to_string();
        }
    });
    if app.draft.modalities.is_empty() {
        ui.colored_label(ui.visuals().warn_fg_color, "Choose at least one modality.");
    } else if changed {
        ui.weak("Edited; not run yet.");
    }
    if let Some(r) = &app.results {
        ui.separator();
        ui.label("Last run");
        for m in r.classification.modalities() {
            if let Some(res) = r.classification.get(m) {
                let fallback = res.pairs.iter().filter(|p| p.fallback).count();
                ui.weak(format!(
                    "{m}: floor {:.4}, {} pairs ({fallback} fell back to all dimensions)",
                    res.floor,
                    res.pairs.len()
                ));
            }
        }
        ui.weak(format!("took {:.2} s", r.elapsed.as_secs_f64()));
    }
    crate::app::embedding::settings(ui, app, cmds);
}

/// "auto" checkbox plus a value when set by hand.
fn optional_value(ui: &mut egui::Ui, value: &mut Option<f64>, default: f64, what: &str) {
    ui.horizontal(|ui| {
        let mut auto = value.is_none();
        if ui
            .checkbox(&mut auto, "auto")
            .on_hover_text(format!("Derive the {what} from the data"))
            .changed()
        {
            *value = if auto { None } else { Some(default) };
        }
        if let Some(v) = value {
            let l = ui.label(what);
            ui.add(
                egui::DragValue::new(v)
                    .speed(0.001)
                    .range(-1.0..=1.0)
                    .max_decimals(4),
            )
            .labelled_by(l.id);
        }
    });
}

/// The suspicion scorer that ranks the grid, from the engine's registry.
fn scorer_picker(ui: &mut egui::Ui, value: &mut String) {
    let scorers = pairwise_audit::scorers::registry();
    egui::ComboBox::from_label("suspicion scorer")
        .selected_text(value.as_str())
        .show_ui(ui, |ui| {
            for s in &scorers {
                ui.selectable_value(value, s.name().to_string(), s.name())
                    .on_hover_text(s.description());
            }
        });
    if let Some(s) = scorers.iter().find(|s| s.name() == value.as_str()) {
        ui.weak(s.description());
    }
}
