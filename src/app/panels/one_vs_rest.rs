//! The app's side of the binary step (one class against the rest): its settings, its table in
//! the Metrics tab, its filter in the filter column, and carving the kept items out as a
//! catalogue of their own (written on a thread, then opened).

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use egui::RichText;
use pairwise_audit::Params;
use pairwise_audit::dataset::subset::write_subset;
use pairwise_audit::one_vs_rest::{AgainstAnnotation, BinaryTable, KeepRule, OneVsRestParams};

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::grid::Filter;
use crate::app::review::Results;

/// The Settings section: off, or a class (and optionally a rest class) and a keep rule.
pub fn settings(ui: &mut egui::Ui, draft: &mut Params, r: Option<&Results>) {
    ui.add_space(6.0);
    ui.label(RichText::new("One class against the rest").strong());
    let Some(r) = r else {
        ui.weak("Open a catalogue to choose its class.");
        return;
    };
    let names: Vec<&str> = r.dataset.classes.iter().map(|c| c.name.as_str()).collect();
    let mut on = draft.one_vs_rest.is_some();
    if ui
        .checkbox(&mut on, "score one class against the rest")
        .on_hover_text(
            "The write-up's binary step: each item is scored for the class against the other \
             classes, at full dimension and on the dimensions that separate the class from \
             the rest; the kept items can be opened as a catalogue of their own",
        )
        .changed()
    {
        draft.one_vs_rest = on.then(|| OneVsRestParams {
            class: names[0].to_string(),
            ..OneVsRestParams::default()
        });
    }
    let Some(spec) = draft.one_vs_rest.as_mut() else {
        return;
    };
    egui::Grid::new("one vs rest settings")
        .num_columns(2)
        .spacing([12.0, 6.0])
        .show(ui, |ui| {
            ui.label("class");
            let mut chosen = names.iter().position(|n| *n == spec.class);
            crate::app::widgets::class_combo(
                ui,
                "one-vs-rest class",
                None,
                &names,
                &mut chosen,
                None,
                140.0,
            );
            if let Some(c) = chosen {
                spec.class = names[c].to_string();
            }
            ui.end_row();
            ui.label("against");
            let shown = spec.rest.as_deref().unwrap_or("the other classes");
            egui::ComboBox::from_id_salt("one vs rest rest")
                .selected_text(shown)
                .show_ui(ui, |ui| {
                    ui.selectable_value(&mut spec.rest, None, "the other classes")
                        .on_hover_text("Each item's best other class stands for the rest");
                    for name in names.iter().filter(|n| **n != spec.class) {
                        ui.selectable_value(&mut spec.rest, Some(name.to_string()), *name)
                            .on_hover_text("This class's prompt stands for everything else");
                    }
                })
                .response
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "against"));
            ui.end_row();
            ui.label("keep when");
            egui::ComboBox::from_id_salt("one vs rest keep")
                .selected_text(keep_text(spec.keep))
                .show_ui(ui, |ui| {
                    for rule in KeepRule::ALL {
                        ui.selectable_value(&mut spec.keep, rule, keep_text(rule));
                    }
                })
                .response
                .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, "keep when"));
            ui.end_row();
        });
    if let Err(e) = pairwise_audit::one_vs_rest::resolve(&r.dataset, spec) {
        ui.colored_label(ui.visuals().warn_fg_color, e);
    }
}

fn keep_text(rule: KeepRule) -> &'static str {
    match rule {
        KeepRule::Both => "both views say it",
        KeepRule::Either => "either view says it",
        KeepRule::Image => "the image says it",
        KeepRule::Text => "the text says it",
    }
}

/// The write-up's binary table, for the Metrics tab.
pub fn metrics(ui: &mut egui::Ui, t: &BinaryTable, cmds: &mut Vec<Command>) {
    let rest = t.rest.as_deref().unwrap_or("the other classes");
    ui.label(RichText::new(format!("One vs rest: {} against {rest}", t.class)).strong());
    let pct = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    let vs = |a: &Option<AgainstAnnotation>| {
        a.as_ref().map_or("–".to_string(), |a| {
            format!("{:.3} / {:.3}", a.accuracy, a.weighted_f1)
        })
    };
    egui::Grid::new("binary table")
        .num_columns(4)
        .striped(true)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            ui.weak("");
            ui.weak("text vs image F1");
            ui.weak("image acc / F1");
            ui.weak("text acc / F1");
            ui.end_row();
            for row in &t.rows {
                ui.label(&row.stage);
                ui.monospace(pct(row.text_vs_image_weighted_f1));
                ui.monospace(vs(&row.image_vs_annotation));
                ui.monospace(vs(&row.text_vs_annotation));
                ui.end_row();
            }
        });
    ui.weak(format!(
        "acc / F1: each view's decision against “annotated {}”.",
        t.class
    ));
    for v in &t.views {
        ui.weak(format!(
            "{}: {} + {} sure items chose {} dimensions{}",
            v.modality,
            v.kept[0],
            v.kept[1],
            v.dims.len(),
            if v.fallback {
                " (too few: every dimension)"
            } else {
                ""
            }
        ));
    }
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("{} items kept as {}", t.kept, t.class));
        if ui
            .add_enabled(t.kept > 0, egui::Button::new(Command::CarveDialog.label()))
            .on_hover_text(
                "Write the kept items as a catalogue of their own (items, embeddings, class \
                 table) into a folder, then open it",
            )
            .clicked()
        {
            cmds.push(Command::CarveDialog);
        }
    });
}

/// The filter column's entries: every item, the kept ones, the others.
pub fn filter(ui: &mut egui::Ui, r: &Results, filter: &mut Filter) {
    let Some(t) = &r.binary else { return };
    ui.add_space(8.0);
    ui.heading("One vs rest");
    let kept = t.kept;
    for (value, text) in [
        (None, format!("any ({})", r.len())),
        (Some(true), format!("kept as {} ({kept})", t.class)),
        (Some(false), format!("not kept ({})", r.len() - kept)),
    ] {
        if ui
            .selectable_label(filter.one_vs_rest == value, text)
            .clicked()
        {
            filter.one_vs_rest = value;
        }
    }
}

/// A carve-out being written.
pub struct CarveJob {
    path: PathBuf,
    rx: Receiver<Result<String, String>>,
}

impl AuditApp {
    /// Write the kept items into `out` on a thread; `poll_carve` opens them when written.
    pub(crate) fn start_carve(&mut self, ctx: &egui::Context, out: PathBuf) {
        let Some(r) = &self.results else { return };
        let Some(ovr) = r.classification.one_vs_rest.as_ref() else {
            self.notices
                .push("This run has no one-vs-rest step; turn it on in Settings.".into());
            return;
        };
        let rows = ovr.kept_items(r.len());
        let dataset = std::sync::Arc::clone(&r.dataset);
        let (tx, rx) = channel();
        let (path, ctx) = (out.clone(), ctx.clone());
        let _ = std::thread::Builder::new()
            .name("carve".into())
            .spawn(move || {
                let result = write_subset(&dataset, &rows, &path)
                    .map(|info| {
                        format!("Wrote the {} kept items to {}", info.items, path.display())
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        self.carve = Some(CarveJob { path: out, rx });
    }

    /// When the carve-out is written, open it (its own decision log, its own run).
    pub(crate) fn poll_carve(&mut self, ctx: &egui::Context) {
        let Some(job) = &self.carve else { return };
        match job.rx.try_recv() {
            Err(TryRecvError::Empty) => {}
            Ok(Ok(msg)) => {
                let path = job.path.clone();
                self.carve = None;
                self.notices.push(msg);
                self.apply(ctx, Command::OpenDataset(path));
            }
            Ok(Err(e)) => {
                self.carve = None;
                self.error = Some(e);
            }
            Err(TryRecvError::Disconnected) => self.carve = None,
        }
    }
}
