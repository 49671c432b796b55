//! The egui review app: an eframe shell around `AuditApp`, which owns the persisted settings
//! (`state::Persisted`) and, beside them, the runtime state (results, background job,
//! textures). Panels draw from the state and emit `Command`s; `AuditApp::apply` carries them
//! out after every panel has drawn. Platform work (folder dialogs, quitting) leaves the UI as
//! an `Action` that the shell performs, so the whole UI runs in tests without a display.

mod commands;
mod confusion;
mod detail;
mod engine_glue;
mod filters;
mod grid;
mod inspector;
mod metrics_panel;
mod review;
mod settings;
mod state;
mod status;
mod thumbnails;
mod widgets;
mod worker;

#[cfg(test)]
mod bench;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use commands::{Action, Command, Nav};
use review::Results;
use state::{Persisted, Tab};
use worker::{Job, JobError, Outcome, Pipeline, Request};

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
            frame_times: std::env::var_os("PAIRWISE_AUDIT_TIMING").map(|_| FrameTimes(Vec::new())),
        }
    }
}

impl eframe::App for Shell {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let t = Instant::now();
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
                Action::Quit => ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close),
            }
        }
    }

    fn on_exit(&mut self, _gl: Option<&eframe::glow::Context>) {
        // Reports the frame times (eframe may never drop the app).
        self.frame_times = None;
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        storage.set_string(state::STORAGE_KEY, self.app.persisted.encode());
    }
}

/// The whole app without the platform: testable in egui_kittest.
pub struct AuditApp {
    pub persisted: Persisted,
    pub results: Option<Arc<Results>>,
    pub job: Option<Job>,
    pub(crate) pipeline: Pipeline,
    generation: u64,
    /// The path of the last run that was asked for (for re-running after a failed open).
    pub requested: Option<PathBuf>,
    /// The last failure, as one sentence.
    pub error: Option<String>,
    /// Non-fatal messages (e.g. unreadable saved settings), shown until dismissed.
    pub notices: Vec<String>,
    /// One line about the last finished or cancelled run.
    pub last_run: Option<String>,
    pub selected: Option<usize>,
    pub grid: grid::Grid,
    pub inspector: inspector::InspectorState,
    pub confusion: confusion::Cache,
    pub thumbs: thumbnails::Thumbnails,
    /// Platform work for the shell.
    pub actions: Vec<Action>,
    /// Frames drawn so far.
    pub frames: u64,
    /// Settings edited in the panel but not yet run.
    pub draft: pairwise_audit::Params,
}

impl AuditApp {
    /// The app from its saved state (RON), warning when the save no longer decodes.
    pub fn restore(saved: Option<&str>, pipeline: Pipeline) -> AuditApp {
        let (persisted, warning) = Persisted::decode(saved);
        let mut app = AuditApp::new(persisted, pipeline);
        app.notices.extend(warning);
        app
    }

    pub fn new(persisted: Persisted, pipeline: Pipeline) -> AuditApp {
        // Leave a core to the UI thread: decoding must never slow a frame down.
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .clamp(1, 4);
        AuditApp {
            draft: persisted.params.clone(),
            persisted,
            results: None,
            job: None,
            pipeline,
            generation: 0,
            requested: None,
            error: None,
            notices: Vec::new(),
            last_run: None,
            selected: None,
            grid: grid::Grid::default(),
            inspector: inspector::InspectorState::default(),
            confusion: confusion::Cache::default(),
            thumbs: thumbnails::Thumbnails::new(600, threads),
            actions: Vec::new(),
            frames: 0,
        }
    }

    #[cfg(test)]
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// One frame: poll the job, draw every panel, then apply what the panels asked for.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if self.frames == 0 {
            ctx.set_theme(if self.persisted.dark_mode {
                egui::Theme::Dark
            } else {
                egui::Theme::Light
            });
        }
        self.frames += 1;
        self.poll_job(&ctx);
        self.thumbs.begin_frame(&ctx);
        let mut cmds = Vec::new();
        self.collect_input(&ctx, &mut cmds);

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui, &mut cmds));
        egui::Panel::bottom("status").show(ui, |ui| status::bar(ui, self, &mut cmds));
        if self.results.is_some() {
            egui::Panel::left("filters")
                .resizable(true)
                .default_size(190.0)
                .show(ui, |ui| filters::panel(ui, self, &mut cmds));
        }
        if self.persisted.show_side_panel {
            egui::Panel::right("side")
                .resizable(true)
                .default_size(470.0)
                .show(ui, |ui| self.side_panel(ui, &mut cmds));
        }
        egui::CentralPanel::default().show(ui, |ui| self.central(ui, &mut cmds));

        self.drop_hint(&ctx);
        for cmd in cmds {
            self.apply(&ctx, cmd);
        }
        if self.job.is_some() {
            // Progress is sampled, not pushed: a few repaints a second are enough.
            ctx.request_repaint_after(Duration::from_millis(150));
        }
    }

    fn collect_input(&mut self, ctx: &egui::Context, cmds: &mut Vec<Command>) {
        let dropped = ctx.input(|i| {
            i.raw
                .dropped_files
                .iter()
                .map(|f| f.path().to_path_buf())
                .next()
        });
        if let Some(path) = dropped {
            // A dropped items.csv (or any file) means its folder.
            let dir = if path.is_dir() {
                path
            } else {
                path.parent().map(Path::to_path_buf).unwrap_or(path)
            };
            cmds.push(Command::OpenDataset(dir));
        }
        // While typing in a text field plain keys are text; Ctrl/Cmd shortcuts still act.
        let typing = ctx.egui_wants_keyboard_input();
        ctx.input_mut(|input| {
            for cmd in Command::keyboard_commands() {
                let fired = cmd
                    .shortcuts()
                    .iter()
                    .filter(|s| !typing || s.modifiers.command)
                    .any(|s| input.consume_shortcut(s));
                if fired {
                    cmds.push(cmd);
                }
            }
        });
    }

    /// While a folder is dragged over the window, say what dropping it does.
    fn drop_hint(&self, ctx: &egui::Context) {
        if ctx.input(|i| i.raw.hovered_files.is_empty()) {
            return;
        }
        let rect = ctx.content_rect();
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("drop hint"),
        ));
        painter.rect_filled(rect, 0.0, egui::Color32::from_black_alpha(170));
        painter.text(
            rect.center(),
            egui::Align2::CENTER_CENTER,
            "Drop a dataset folder to open it",
            egui::FontId::proportional(24.0),
            egui::Color32::WHITE,
        );
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
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
                ui.menu_button("Recent datasets", |ui| {
                    if self.persisted.recent.is_empty() {
                        ui.weak("none yet");
                    }
                    for path in &self.persisted.recent {
                        if ui.button(path.display().to_string()).clicked() {
                            cmds.push(Command::OpenDataset(path.clone()));
                        }
                    }
                });
                ui.separator();
                let rerun = egui::Button::new("Re-run with current settings")
                    .shortcut_text(Command::Rerun.shortcut_text(ui.ctx()).unwrap_or_default());
                if ui.add_enabled(self.can_rerun(), rerun).clicked() {
                    cmds.push(Command::Rerun);
                }
                ui.separator();
                let quit = egui::Button::new("Quit")
                    .shortcut_text(Command::Quit.shortcut_text(ui.ctx()).unwrap_or_default());
                if ui.add(quit).clicked() {
                    cmds.push(Command::Quit);
                }
            });
            ui.menu_button("View", |ui| {
                ui.checkbox(&mut self.persisted.show_side_panel, "Side panel");
                for tab in Tab::ALL {
                    if ui.button(tab.label()).clicked() {
                        cmds.push(Command::ShowTab(tab));
                    }
                }
                ui.separator();
                if ui
                    .checkbox(&mut self.persisted.dark_mode, "Dark theme")
                    .changed()
                {
                    ui.ctx().set_theme(if self.persisted.dark_mode {
                        egui::Theme::Dark
                    } else {
                        egui::Theme::Light
                    });
                }
            });
            if let Some(r) = &self.results {
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

    fn side_panel(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                if ui
                    .selectable_label(self.persisted.tab == tab, tab.label())
                    .clicked()
                {
                    cmds.push(Command::ShowTab(tab));
                }
            }
        });
        ui.separator();
        match self.persisted.tab {
            Tab::Detail => detail::panel(ui, self, cmds),
            Tab::Inspector => inspector::panel(ui, self, cmds),
            Tab::Confusion => confusion::panel(ui, self, cmds),
            Tab::Metrics => metrics_panel::panel(ui, self),
            Tab::Settings => settings::panel(ui, self, cmds),
        }
    }

    fn central(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        if let Some(err) = self.error.clone() {
            egui::Frame::new()
                .fill(ui.visuals().extreme_bg_color)
                .stroke(egui::Stroke::new(1.0, ui.visuals().error_fg_color))
                .inner_margin(8.0)
                .corner_radius(4.0)
                .show(ui, |ui| {
                    ui.horizontal_wrapped(|ui| {
                        ui.colored_label(
                            ui.visuals().error_fg_color,
                            egui::RichText::new("Error").strong(),
                        );
                        ui.label(egui::RichText::new(&err).color(ui.visuals().strong_text_color()));
                        if ui.small_button("Dismiss").clicked() {
                            cmds.push(Command::DismissError);
                        }
                    });
                });
            ui.add_space(4.0);
        }
        let Some(results) = self.results.clone() else {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() * 0.3);
                if self.job.is_some() {
                    ui.spinner();
                    ui.label("Loading the dataset…");
                } else {
                    ui.heading("No dataset open");
                    ui.label("Open a folder with items.csv, classes.csv and the embeddings, or drop it on this window.");
                    if ui.button(Command::OpenDialog.label()).clicked() {
                        cmds.push(Command::OpenDialog);
                    }
                }
            });
            return;
        };
        filters::search_bar(ui, self, &results, cmds);
        grid::table(
            ui,
            &mut self.grid,
            &results,
            self.selected,
            &mut self.thumbs,
            cmds,
        );
    }

    pub fn can_rerun(&self) -> bool {
        self.job.is_none() && (self.results.is_some() || self.requested.is_some())
    }

    fn start(&mut self, ctx: &egui::Context, request: Request) {
        if let Some(mut old) = self.job.take() {
            // Replaced by a newer request: stop it and ignore whatever it still sends.
            old.cancel();
        }
        self.generation += 1;
        self.requested = Some(request.path());
        self.job = Some(Job::spawn(
            ctx,
            self.pipeline.clone(),
            request,
            self.generation,
        ));
    }

    fn poll_job(&mut self, ctx: &egui::Context) {
        let Some(job) = &self.job else { return };
        let Some(outcome) = job.poll() else { return };
        let elapsed = job.elapsed();
        let cancel_latency = job.cancel_requested.map(|t| t.elapsed());
        self.job = None;
        match outcome {
            Outcome::Done(results) => {
                let same_dataset = self
                    .results
                    .as_ref()
                    .is_some_and(|old| Arc::ptr_eq(&old.dataset, &results.dataset));
                if !same_dataset {
                    // Class ids and item indices mean something else now.
                    self.thumbs.clear();
                    self.selected = None;
                    self.grid.filter = grid::Filter::default();
                    self.inspector = inspector::InspectorState::default();
                }
                self.persisted.remember(&results.dataset.root);
                if !same_dataset {
                    let name = results.dataset.root.file_name().map_or_else(
                        || results.dataset.root.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    );
                    ctx.send_viewport_cmd(egui::ViewportCommand::Title(format!(
                        "{name} — pairwise-audit"
                    )));
                }
                self.persisted.params = results.classification.params.clone();
                self.error = None;
                self.last_run = Some(format!("run finished in {:.1} s", elapsed.as_secs_f64()));
                self.results = Some(Arc::new(*results));
                if self.selected.is_none() {
                    // Start where the review starts: the first item of the grid's order.
                    self.navigate(Nav::First);
                }
            }
            Outcome::Failed {
                error: JobError::Cancelled,
                ..
            } => {
                self.last_run = Some(match cancel_latency {
                    Some(t) => format!(
                        "run cancelled (stopped {:.0} ms after Cancel)",
                        t.as_secs_f64() * 1e3
                    ),
                    None => "run cancelled".into(),
                });
            }
            Outcome::Failed {
                error: JobError::Failed(msg),
                path,
            } => {
                // The loader's sentences name the file already; other failures get the path.
                let path = path.display().to_string();
                self.error = Some(if msg.contains(&path) {
                    msg
                } else {
                    format!("{path}: {msg}")
                });
            }
        }
    }

    pub fn apply(&mut self, ctx: &egui::Context, cmd: Command) {
        match cmd {
            Command::OpenDialog => self.actions.push(Action::PickDatasetFolder),
            Command::Quit => self.actions.push(Action::Quit),
            Command::OpenDataset(path) => {
                let params = self.persisted.params.clone();
                self.draft = params.clone();
                self.start(ctx, Request::Open { path, params });
            }
            Command::Rerun => {
                if self.job.is_some() {
                    self.notices
                        .push("A run is in progress; cancel it before starting another.".into());
                    return;
                }
                self.persisted.params = self.draft.clone();
                let params = self.draft.clone();
                let request = match (&self.results, &self.requested) {
                    (Some(r), _) => Request::Rerun {
                        dataset: r.dataset.clone(),
                        params,
                    },
                    (None, Some(path)) => Request::Open {
                        path: path.clone(),
                        params,
                    },
                    (None, None) => return,
                };
                self.start(ctx, request);
            }
            Command::CancelRun => {
                if let Some(job) = &mut self.job {
                    job.cancel();
                }
            }
            Command::DismissError => {
                self.error = None;
                self.notices.clear();
            }
            Command::Select(i) => self.selected = i,
            Command::Navigate(nav) => self.navigate(nav),
            Command::SortBy(col) => self.grid.sort_by(col),
            Command::FilterCell(cell) => self.grid.filter.cell = Some(cell),
            Command::ClearCellFilter => self.grid.filter.cell = None,
            Command::InspectPair(m, pair) => {
                self.inspector.inspect(m, pair);
                self.persisted.tab = Tab::Inspector;
                self.persisted.show_side_panel = true;
            }
            Command::ShowTab(tab) => {
                self.persisted.tab = tab;
                self.persisted.show_side_panel = true;
            }
        }
    }

    fn navigate(&mut self, nav: Nav) {
        let Some(results) = &self.results else { return };
        let page = self.grid.page_rows.max(1);
        let order = self.grid.refresh(results);
        if order.is_empty() {
            return;
        }
        let last = order.len() - 1;
        let current = self
            .selected
            .and_then(|i| order.iter().position(|&j| j as usize == i));
        let pos = match (nav, current) {
            (Nav::First, _) | (Nav::Next | Nav::PageDown, None) => 0,
            (Nav::Last, _) | (Nav::Previous | Nav::PageUp, None) => last,
            (Nav::Next, Some(p)) => (p + 1).min(last),
            (Nav::Previous, Some(p)) => p.saturating_sub(1),
            (Nav::PageDown, Some(p)) => (p + page).min(last),
            (Nav::PageUp, Some(p)) => p.saturating_sub(page),
        };
        self.selected = Some(order[pos] as usize);
        self.grid.scroll_to = Some(pos);
    }
}
