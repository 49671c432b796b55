//! The menu bar: File (open, recent, re-run, quit), View (panels, theme), and the open
//! dataset's name and size.

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::state::Tab;

pub fn bar(ui: &mut egui::Ui, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            let open = Command::OpenDialog;
            let mut button = egui::Button::new(open.label());
            if let Some(s) = open.shortcut_text(ui.ctx()) {
                button = button.shortcut_text(s);
            }
            if ui.add(button).clicked() {
                cmds.push(open);
            }
            if ui.button(Command::OpenFileDialog.label()).clicked() {
                cmds.push(Command::OpenFileDialog);
            }
            ui.menu_button("Recent datasets", |ui| {
                if app.persisted.recent.is_empty() {
                    ui.weak("none yet");
                }
                for path in &app.persisted.recent {
                    if ui.button(path.display().to_string()).clicked() {
                        cmds.push(Command::OpenDataset(path.clone()));
                    }
                }
            });
            ui.separator();
            let rerun = egui::Button::new("Re-run with current settings")
                .shortcut_text(Command::Rerun.shortcut_text(ui.ctx()).unwrap_or_default());
            if ui.add_enabled(app.can_rerun(), rerun).clicked() {
                cmds.push(Command::Rerun);
            }
            ui.separator();
            for all_items in [false, true] {
                let cmd = Command::ExportDialog { all_items };
                if ui
                    .add_enabled(app.session.is_some(), egui::Button::new(cmd.label()))
                    .on_hover_text(if all_items {
                        "A full copy of items.csv with the corrected labels"
                    } else {
                        "One row per changed label: id, old_label, new_label, decision, source, timestamp"
                    })
                    .clicked()
                {
                    cmds.push(cmd);
                }
            }
            ui.separator();
            let quit = egui::Button::new("Quit")
                .shortcut_text(Command::Quit.shortcut_text(ui.ctx()).unwrap_or_default());
            if ui.add(quit).clicked() {
                cmds.push(Command::Quit);
            }
        });
        ui.menu_button("View", |ui| {
            ui.checkbox(&mut app.persisted.show_side_panel, "Side panel");
            for tab in Tab::ALL {
                if ui.button(tab.label()).clicked() {
                    cmds.push(Command::ShowTab(tab));
                }
            }
            ui.separator();
            if ui
                .checkbox(&mut app.persisted.dark_mode, "Dark theme")
                .changed()
            {
                ui.ctx().set_theme(if app.persisted.dark_mode {
                    egui::Theme::Dark
                } else {
                    egui::Theme::Light
                });
            }
        });
        if let Some(r) = &app.results {
            ui.separator();
            ui.label(egui::RichText::new(r.dataset.root.display().to_string()).strong())
                .on_hover_text("The open dataset");
            ui.weak(format!(
                "{} items · {} classes · d = {}",
                r.len(),
                r.dataset.num_classes(),
                r.dataset.dim()
            ));
        }
    });
}
