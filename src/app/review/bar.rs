//! The review controls: the decision strip above the grid, the class picker, the bulk
//! confirmation and the keyboard cheat sheet. Everything here only emits `Command`s.

use egui::RichText;
use pairwise_audit::Modality;

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::review::Results;
use crate::app::review::decisions::Verdict;
use crate::app::widgets::{BUTTON_CLASS_CHARS, elide};

/// A class picker with type-to-search.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Picker {
    pub query: String,
    /// For every item the grid shows rather than the marked or selected ones.
    pub bulk: bool,
    focus_requested: bool,
}

impl Picker {
    pub fn new(bulk: bool) -> Picker {
        Picker {
            bulk,
            ..Picker::default()
        }
    }
}

fn command_button(
    ui: &mut egui::Ui,
    cmd: Command,
    text: &str,
    enabled: bool,
    cmds: &mut Vec<Command>,
) {
    let keys = cmd
        .shortcuts()
        .first()
        .map(|s| format!(" ({})", ui.ctx().format_shortcut(s)))
        .unwrap_or_default();
    let tip = format!("{}{keys}", cmd.tooltip());
    if ui
        .add_enabled(enabled, egui::Button::new(text))
        .on_hover_text(tip)
        .clicked()
    {
        cmds.push(cmd);
    }
}

/// The strip above the grid.
pub fn strip(ui: &mut egui::Ui, app: &AuditApp, r: &Results, cmds: &mut Vec<Command>) {
    let targets = app.targets();
    let ready = app.session.is_some();
    let has = ready && !targets.is_empty();
    // With one item, say which label a relabel would take.
    let single = (targets.len() == 1).then(|| targets[0]);
    let label_of = |m: Modality| {
        single
            .and_then(|i| r.rows[i].pairwise(m))
            .map(|c| format!(" ({})", elide(r.dataset.class_name(c), BUTTON_CLASS_CHARS)))
            .unwrap_or_default()
    };
    ui.horizontal_wrapped(|ui| {
        // Whole controls move to the next row; a label broken over lines would make its row
        // taller than its neighbours.
        ui.style_mut().wrap_mode = Some(egui::TextWrapMode::Extend);
        ui.label(RichText::new("Review").strong());
        if targets.len() > 1 {
            ui.label(format!("{} marked", targets.len()));
        }
        command_button(ui, Command::Decide(Verdict::Accept), "Accept", has, cmds);
        let image = r.classification.image.is_some();
        let text = r.classification.text.is_some();
        command_button(
            ui,
            Command::Decide(Verdict::RelabelImage),
            &format!("Use image label{}", label_of(Modality::Image)),
            has && image,
            cmds,
        );
        command_button(
            ui,
            Command::Decide(Verdict::RelabelText),
            &format!("Use text label{}", label_of(Modality::Text)),
            has && text,
            cmds,
        );
        command_button(ui, Command::OpenClassPicker, "Relabel…", has, cmds);
        command_button(ui, Command::Decide(Verdict::Skip), "Skip", has, cmds);
        command_button(ui, Command::Decide(Verdict::Clear), "Clear", has, cmds);
        ui.separator();
        let (can_undo, can_redo) = app.session.as_ref().map_or((false, false), |s| {
            (s.history.can_undo(), s.history.can_redo())
        });
        command_button(ui, Command::Undo, "Undo", can_undo, cmds);
        command_button(ui, Command::Redo, "Redo", can_redo, cmds);
        ui.separator();
        let mut auto = app.persisted.auto_advance;
        if ui
            .checkbox(&mut auto, "auto-advance")
            .on_hover_text(Command::ToggleAutoAdvance.tooltip())
            .changed()
        {
            cmds.push(Command::ToggleAutoAdvance);
        }
        let shown = app.grid.order().len();
        let bulk = format!("All {shown} shown…");
        // Not inside `add_enabled_ui`: a child scope in a wrapped row spans the rest of the
        // panel's height when its content wraps, which left a blank band above the grid.
        if ready && shown > 0 {
            ui.menu_button(bulk, |ui| {
                for (v, text) in [
                    (Verdict::Accept, "Accept all"),
                    (Verdict::RelabelImage, "Relabel all to their image label"),
                    (Verdict::RelabelText, "Relabel all to their text label"),
                    (Verdict::Skip, "Skip all"),
                    (Verdict::Clear, "Clear all decisions"),
                ] {
                    if ui.button(text).clicked() {
                        cmds.push(Command::BulkOnShown(v));
                    }
                }
                if ui.button(Command::OpenBulkClassPicker.label()).clicked() {
                    cmds.push(Command::OpenBulkClassPicker);
                }
            });
        } else {
            ui.add_enabled(false, egui::Button::new(bulk));
        }
        if ui
            .small_button("?")
            .on_hover_text("Keyboard shortcuts (?)")
            .clicked()
        {
            cmds.push(Command::ToggleCheatSheet);
        }
    });
}

/// How far through the review queue the reviewer is ("reviewed X of Y flagged" when the run
/// has no queue), the precision their decisions measure beside the expected one, and
/// whether every decision is on disk.
pub fn progress_text(app: &AuditApp, r: &Results) -> Option<(String, Option<String>)> {
    let s = app.session.as_ref()?;
    let cut = f64::from(app.persisted.queue_cut) / 100.0;
    let queued = |i: usize| match &r.audit.calibration {
        Some(c) => c.posterior[i].is_some_and(|p| p >= cut),
        None => r.rows[i].flag != pairwise_audit::audit::FlagKind::None,
    };
    let (mut done, mut total) = (0, 0);
    // Of the decided queue items: relabels (confirmed errors), accepts, and their expected
    // share of errors.
    let (mut relabeled, mut accepted, mut expected) = (0usize, 0usize, 0.0);
    for i in (0..r.rows.len()).filter(|&i| queued(i)) {
        total += 1;
        let status = s.status_of(i);
        if status != crate::app::review::decisions::UNREVIEWED {
            done += 1;
        }
        let decided = match status {
            1 => {
                accepted += 1;
                true
            }
            2 => {
                relabeled += 1;
                true
            }
            _ => false,
        };
        if decided {
            expected += r.audit.p_wrong(i).unwrap_or(0.0);
        }
    }
    let what = if r.audit.calibration.is_some() {
        format!("in the queue ({}% cut)", app.persisted.queue_cut)
    } else {
        "flagged".to_string()
    };
    let precision = match relabeled + accepted {
        0 => String::new(),
        n => format!(
            " · precision so far {:.2} (expected {:.2})",
            relabeled as f64 / n as f64,
            expected / n as f64
        ),
    };
    let (pending, error) = s.save_state();
    let saved = match (pending, error) {
        (_, Some(e)) => Some(e),
        (0, None) => None,
        (n, None) => Some(format!("saving {n}…")),
    };
    Some((
        format!(
            "reviewed {done} of {total} {what}{precision} · {} in all",
            match s.history.reviewed_count() {
                1 => "1 decision".to_string(),
                n => format!("{n} decisions"),
            }
        ),
        saved,
    ))
}

/// Modal windows: class picker, bulk confirmation, cheat sheet.
pub fn overlays(ctx: &egui::Context, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    if let Some(r) = app.results.clone() {
        picker(ctx, app, &r, cmds);
        if let Some((verdict, items)) = &app.pending_bulk {
            let n = items.len();
            let what = match verdict {
                Verdict::RelabelTo(c) => format!("Relabel to {}", r.dataset.class_name(*c)),
                v => v.label().to_string(),
            };
            egui::Modal::new(egui::Id::unique("bulk confirm")).show(ctx, |ui| {
                ui.heading(format!("{what}: all {n} items shown?"));
                ui.label("This is one step: Undo takes it back as a whole.");
                ui.horizontal(|ui| {
                    if ui.button(format!("Apply to {n} items")).clicked() {
                        cmds.push(Command::ConfirmBulk);
                    }
                    if ui.button("Cancel").clicked() {
                        cmds.push(Command::CancelBulk);
                    }
                });
            });
        }
    }
    if app.cheat_sheet {
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .anchor(egui::Align2::CENTER_CENTER, egui::Vec2::ZERO)
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .show(ctx, |ui| {
                egui::Grid::new("shortcuts").striped(true).show(ui, |ui| {
                    for (keys, label, tip) in crate::app::commands::Command::cheat_sheet(ctx) {
                        ui.label(RichText::new(keys).monospace().strong());
                        ui.label(label);
                        ui.weak(tip);
                        ui.end_row();
                    }
                });
                ui.weak("Shift-click marks a range, Ctrl-click one more item; decisions then apply to every marked item.");
            });
        if !open {
            cmds.push(Command::ToggleCheatSheet);
        }
    }
}

fn picker(ctx: &egui::Context, app: &mut AuditApp, r: &Results, cmds: &mut Vec<Command>) {
    let (shown, marked) = (app.grid.order().len(), app.targets().len());
    let Some(p) = &mut app.picker else { return };
    let q = p.query.trim().to_lowercase();
    let matches: Vec<usize> = (0..r.dataset.num_classes())
        .filter(|&c| q.is_empty() || r.dataset.class_name(c).to_lowercase().contains(&q))
        .collect();
    let target = match (p.bulk, marked) {
        (true, _) => format!("all {shown} items shown"),
        (false, 1) => "the selected item".into(),
        (false, n) => format!("{n} marked items"),
    };
    let bulk = p.bulk;
    let pick = |c: usize| {
        if bulk {
            Command::BulkOnShown(Verdict::RelabelTo(c))
        } else {
            Command::Decide(Verdict::RelabelTo(c))
        }
    };
    let resp = egui::Modal::new(egui::Id::unique("class picker")).show(ctx, |ui| {
        ui.heading(format!("Relabel {target} to…"));
        let edit = ui.add(
            egui::TextEdit::singleline(&mut p.query)
                .hint_text("type to search classes")
                .desired_width(280.0),
        );
        if !p.focus_requested {
            edit.request_focus();
            p.focus_requested = true;
        }
        if edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter)) {
            if let Some(&c) = matches.first() {
                cmds.push(pick(c));
            }
            cmds.push(Command::ClosePicker);
        }
        egui::ScrollArea::vertical()
            .max_height(320.0)
            .show(ui, |ui| {
                for &c in &matches {
                    let class = &r.dataset.classes[c];
                    // The prompt says what the class means when names are terse.
                    if ui
                        .button(format!("{} — {}", class.name, class.prompt))
                        .clicked()
                    {
                        cmds.push(pick(c));
                        cmds.push(Command::ClosePicker);
                    }
                }
                if matches.is_empty() {
                    ui.weak("no class matches");
                }
            });
        if ui.button("Cancel").clicked() {
            cmds.push(Command::ClosePicker);
        }
    });
    if resp.should_close() {
        cmds.push(Command::ClosePicker);
    }
}
