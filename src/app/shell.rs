//! The eframe side of the app: the native window, eframe storage, the folder dialog and
//! closing the window. Everything else lives in `AuditApp`, which runs without a display.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::app::AuditApp;
use crate::app::commands::{Action, Command};
use crate::app::state;
use crate::app::worker;

/// Open the app window (on `dataset`, else on `sample_data/`). Blocks until the window closes.
pub fn run(dataset: Option<PathBuf>) -> Result<(), String> {
    let started = Instant::now();
    let dataset = dataset.or_else(default_dataset);
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_title("pairwise-audit")
            .with_app_id("pairwise-audit")
            .with_inner_size([1500.0, 920.0])
            .with_min_inner_size([800.0, 500.0])
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    eframe::run_native(
        "pairwise-audit",
        options,
        Box::new(move |cc| Ok(Box::new(Shell::new(cc, dataset, started)))),
    )
    .map_err(|e| format!("the window could not be opened: {e}"))
}

/// Shrink the window to the monitor when it opened larger (the default size or a remembered
/// one from a bigger screen). Returns false until the monitor's size is known.
fn fit_to_screen(ctx: &egui::Context) -> bool {
    let (monitor, inner, outer) = ctx.input(|i| {
        let v = i.viewport();
        (v.monitor_size, v.inner_rect, v.outer_rect)
    });
    let (Some(monitor), Some(inner)) = (monitor, inner) else {
        return false;
    };
    // Room for the window's frame and a desktop panel.
    let frame = outer.map_or(egui::Vec2::ZERO, |o| o.size() - inner.size());
    let room = (monitor - frame - egui::vec2(0.0, 40.0)).max(egui::vec2(800.0, 500.0));
    if inner.width() > room.x || inner.height() > room.y {
        let size = inner.size().min(room);
        ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
        ctx.send_viewport_cmd(egui::ViewportCommand::OuterPosition(egui::Pos2::ZERO));
    }
    true
}

/// `sample_data/` in the current directory, else next to the package's manifest.
fn default_dataset() -> Option<PathBuf> {
    let here = PathBuf::from("sample_data");
    if here.is_dir() {
        return Some(here);
    }
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    beside.is_dir().then_some(beside)
}

/// The eframe side: storage, dialogs, closing the window.
struct Shell {
    app: AuditApp,
    launched: Instant,
    reported_first_frame: bool,
    /// Whether the window has been checked against the monitor it opened on.
    fitted_to_screen: bool,
    /// With `PAIRWISE_AUDIT_TIMING` set: the CPU time of every frame's UI pass, reported
    /// when the window closes.
    frame_times: Option<FrameTimes>,
}

struct FrameTimes(Vec<f64>);

impl Drop for FrameTimes {
    fn drop(&mut self) {
        let mut t = std::mem::take(&mut self.0);
        if t.is_empty() {
            return;
        }
        t.sort_by(f64::total_cmp);
        let at = |p: f64| t[((t.len() - 1) as f64 * p).round() as usize];
        eprintln!(
            "ui pass over {} frames: median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            t.len(),
            at(0.5),
            at(0.99),
            t[t.len() - 1]
        );
    }
}

impl Shell {
    fn new(cc: &eframe::CreationContext<'_>, dataset: Option<PathBuf>, launched: Instant) -> Shell {
        let saved = cc.storage.and_then(|s| s.get_string(state::STORAGE_KEY));
        let mut app = AuditApp::restore(saved.as_deref(), worker::engine_pipeline());
        if let Some(path) = dataset {
            app.apply(&cc.egui_ctx, Command::OpenDataset(path));
        }
        Shell {
            app,
            launched,
            reported_first_frame: false,
            fitted_to_screen: false,
            frame_times: std::env::var_os("PAIRWISE_AUDIT_TIMING").map(|_| FrameTimes(Vec::new())),
        }
    }
}

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let t = Instant::now();
        if !self.fitted_to_screen {
            self.fitted_to_screen = fit_to_screen(ui.ctx());
        }
        self.app.ui(ui);
        if let Some(times) = &mut self.frame_times {
            times.0.push(t.elapsed().as_secs_f64() * 1e3);
        }
        if !self.reported_first_frame {
            self.reported_first_frame = true;
            if self.frame_times.is_some() {
                eprintln!(
                    "first frame after {:.0} ms",
                    self.launched.elapsed().as_secs_f64() * 1e3
                );
            }
        }
        for action in std::mem::take(&mut self.app.actions) {
            match action {
                Action::PickDatasetFolder => {
                    let mut dialog = rfd::FileDialog::new().set_title("Open a dataset folder");
                    if let Some(dir) = self.app.persisted.recent.first().and_then(|p| p.parent()) {
                        dialog = dialog.set_directory(dir);
                    }
                    let asked = Instant::now();
                    match dialog.pick_folder() {
                        Some(path) => self.app.apply(ui.ctx(), Command::OpenDataset(path)),
                        // rfd reports a missing portal and zenity only in its log: a "cancel"
                        // faster than a person can click means no dialog was shown.
                        None if asked.elapsed() < Duration::from_millis(300) => {
                            self.app.notices.push(
                                "No folder dialog could be shown (it needs xdg-desktop-portal or \
                                 zenity). Drop the dataset folder on this window, or pass it on \
                                 the command line."
                                    .into(),
                            );
                        }
                        None => {}
                    }
                }
                Action::PickDatasetFile => {
                    let mut dialog = rfd::FileDialog::new()
                        .set_title("Open a Parquet catalogue")
                        .add_filter("Parquet", &["parquet", "pq"]);
                    if let Some(dir) = self.app.persisted.recent.first().and_then(|p| p.parent()) {
                        dialog = dialog.set_directory(dir);
                    }
                    if let Some(path) = dialog.pick_file() {
                        self.app.apply(ui.ctx(), Command::OpenDataset(path));
                    }
                }
                Action::PickExportPath { all_items } => {
                    let name = if all_items {
                        "items_corrected.csv"
                    } else {
                        "corrections.csv"
                    };
                    let mut dialog = rfd::FileDialog::new()
                        .set_title(Command::ExportDialog { all_items }.label())
                        .set_file_name(name)
                        .add_filter("CSV", &["csv"])
                        .add_filter("JSON", &["json"])
                        .add_filter("Parquet", &["parquet"]);
                    if let Some(r) = &self.app.results {
                        dialog = dialog.set_directory(&r.dataset.root);
                    }
                    if let Some(path) = dialog.save_file() {
                        self.app
                            .apply(ui.ctx(), Command::ExportTo { path, all_items });
                    }
                }
                Action::PickLogPath => {
                    let dialog = rfd::FileDialog::new()
                        .set_title("Where to keep the decision log")
                        .set_file_name("decisions.jsonl");
                    if let Some(path) = dialog.save_file() {
                        self.app.apply(ui.ctx(), Command::UseLogPath(path));
                    }
                }
                Action::PickCarveFolder => {
                    let dialog = rfd::FileDialog::new()
                        .set_title("Folder for the kept items (a new, empty folder)");
                    if let Some(path) = dialog.pick_folder() {
                        self.app.apply(ui.ctx(), Command::CarveTo(path));
                    }
                }
                Action::PickModelFolder {
                    dataset,
                    classes_only,
                } => {
                    let mut dialog = rfd::FileDialog::new().set_title(
                        "A CLIP model folder (config.json, model.safetensors, tokenizer.json, preprocessor_config.json)",
                    );
                    if let Some(dir) = self
                        .app
                        .persisted
                        .embed_model
                        .as_ref()
                        .and_then(|p| p.parent())
                    {
                        dialog = dialog.set_directory(dir);
                    }
                    if let Some(model) = dialog.pick_folder() {
                        let cmd = Command::Embed {
                            dataset,
                            model,
                            classes_only,
                        };
                        self.app.apply(ui.ctx(), cmd);
                    }
                }
                Action::Quit => ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close),
            }
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Reports the frame times (eframe may never drop the app).
        self.frame_times = None;
        // Every decision is already with the log's writer; wait for the last ones to reach
        // the disk before the process goes (eframe may exit without dropping the app).
        if let Some(s) = &self.app.session
            && !s.flush(Duration::from_secs(5))
        {
            eprintln!("warning: some review decisions may not have reached the decision log");
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        storage.set_string(state::STORAGE_KEY, self.app.persisted.encode());
    }
}
