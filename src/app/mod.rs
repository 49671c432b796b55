//! The egui review app. `shell` is the eframe side (window, storage, dialogs); `AuditApp`
//! owns the persisted settings (`state::Persisted`) and, beside them, the runtime state
//! (results, background job, textures). Panels draw from the state and emit `Command`s;
//! `AuditApp::apply` carries them out after every panel has drawn. Platform work (folder
//! dialogs, quitting) leaves the UI as an `Action` that the shell performs, so the whole UI
//! runs in tests without a display.
//!
//! Files are grouped by screen: `grid/` (the item table, its filters and thumbnails),
//! `review/` (the run's results, the review strip, decisions and their actions), `panels/`
//! (the side panel's tabs) and `tests/` (kittest flows); the shell, commands, state and worker
//! that every screen shares sit at the top.

mod commands;
mod embedding;
mod engine_glue;
mod grid;
mod map;
#[cfg(feature = "parquet")]
mod mapping_sheet;
mod menu;
mod panels;
mod review;
mod shell;
mod similar;
mod state;
mod status;
mod widgets;
mod worker;

#[cfg(test)]
mod tests;

pub use shell::run;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use commands::{Action, Command, Nav};
use review::Results;
use state::{Persisted, Tab};
use worker::{Job, JobError, Outcome, Pipeline, Request, Source};

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
    /// A catalogue folder that failed to open for lack of embeddings, which `embed` can make.
    pub embed_offer: Option<PathBuf>,
    /// The Settings tab's edited class prompts, for the run of this generation.
    pub prompt_draft: Option<(u64, Vec<String>)>,
    /// Non-fatal messages (e.g. unreadable saved settings), shown until dismissed.
    pub notices: Vec<String>,
    /// One line about the last finished or cancelled run.
    pub last_run: Option<String>,
    pub selected: Option<usize>,
    pub grid: grid::Grid,
    pub inspector: panels::inspector::InspectorState,
    pub confusion: panels::confusion::Cache,
    pub map: map::MapScreen,
    pub similar: similar::SimilarItems,
    pub thumbs: grid::thumbnails::Thumbnails,
    /// Platform work for the shell.
    pub actions: Vec<Action>,
    /// Frames drawn so far.
    pub frames: u64,
    /// Settings edited in the panel but not yet run.
    pub draft: pairwise_audit::Params,
    /// The loaded dataset's decision log, once open.
    pub session: Option<review::decisions::Session>,
    opening: Option<review::decisions::Opening>,
    /// Why the decision log could not be opened, until the user picks another place.
    pub log_error: Option<String>,
    /// Items marked with Ctrl/Shift-click; decisions apply to them when any are marked.
    pub marked: BTreeSet<usize>,
    pub picker: Option<review::bar::Picker>,
    /// A bulk verdict waiting for confirmation, with the items it would apply to.
    pub pending_bulk: Option<(review::decisions::Verdict, Vec<u32>)>,
    pub cheat_sheet: bool,
    exports: Vec<review::actions::ExportJob>,
    /// The one-vs-rest kept items being written as a catalogue, to be opened when done.
    carve: Option<panels::one_vs_rest::CarveJob>,
    /// The last export's or bulk action's outcome, one line.
    pub last_export: Option<String>,
    pub draft_scorer: String,
    /// The column-mapping sheet of a Parquet catalogue being opened.
    #[cfg(feature = "parquet")]
    pub mapping_sheet: Option<mapping_sheet::Sheet>,
    /// A Parquet catalogue whose columns a thread is reading for the sheet (the UI thread
    /// never reads a footer itself): its path and the answer to come.
    #[cfg(feature = "parquet")]
    pending_sheet: Option<(PathBuf, PendingSheet)>,
}

#[cfg(feature = "parquet")]
type PendingSheet = std::sync::mpsc::Receiver<Option<Result<mapping_sheet::Sheet, String>>>;

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
            draft_scorer: persisted.scorer.clone(),
            persisted,
            results: None,
            job: None,
            pipeline,
            generation: 0,
            requested: None,
            error: None,
            embed_offer: None,
            prompt_draft: None,
            notices: Vec::new(),
            last_run: None,
            selected: None,
            grid: grid::Grid::default(),
            inspector: panels::inspector::InspectorState::default(),
            confusion: panels::confusion::Cache::default(),
            map: map::MapScreen::default(),
            similar: similar::SimilarItems::default(),
            thumbs: grid::thumbnails::Thumbnails::new(600, threads),
            actions: Vec::new(),
            frames: 0,
            session: None,
            opening: None,
            log_error: None,
            marked: BTreeSet::new(),
            picker: None,
            pending_bulk: None,
            cheat_sheet: false,
            exports: Vec::new(),
            carve: None,
            last_export: None,
            #[cfg(feature = "parquet")]
            mapping_sheet: None,
            #[cfg(feature = "parquet")]
            pending_sheet: None,
        }
    }

    /// The sheet's reading thread has answered: show the sheet, the error, or (a mapping
    /// was remembered) start the run.
    #[cfg(feature = "parquet")]
    fn poll_sheet(&mut self, ctx: &egui::Context) {
        use std::sync::mpsc::TryRecvError;
        let Some((path, rx)) = &self.pending_sheet else {
            return;
        };
        let answer = match rx.try_recv() {
            Err(TryRecvError::Empty) => {
                ctx.request_repaint_after(Duration::from_millis(50));
                return;
            }
            Ok(answer) => answer,
            Err(TryRecvError::Disconnected) => Some(Err(format!(
                "{}: reading its columns stopped unexpectedly",
                path.display()
            ))),
        };
        let path = path.clone();
        self.pending_sheet = None;
        match answer {
            Some(Ok(sheet)) => self.mapping_sheet = Some(sheet),
            Some(Err(e)) => self.error = Some(e),
            None => self.open_path(ctx, path),
        }
    }

    fn open_path(&mut self, ctx: &egui::Context, path: PathBuf) {
        self.draft = self.persisted.params.clone();
        self.draft_scorer = self.persisted.scorer.clone();
        let request = Request {
            source: Source::Path(path),
            params: self.persisted.params.clone(),
            scorer: self.persisted.scorer.clone(),
            embed: None,
        };
        self.start(ctx, request);
    }

    /// The open mapping sheet, and what its buttons start.
    #[cfg(feature = "parquet")]
    fn mapping_sheet_ui(&mut self, ctx: &egui::Context) {
        let Some(sheet) = &mut self.mapping_sheet else {
            return;
        };
        match sheet.ui(ctx) {
            None => {}
            Some(mapping_sheet::Outcome::Cancel) => self.mapping_sheet = None,
            Some(mapping_sheet::Outcome::Open(path)) => {
                if let Err(e) = sheet.remember() {
                    self.notices.push(e);
                }
                let options = sheet.options.clone();
                self.mapping_sheet = None;
                self.draft = self.persisted.params.clone();
                self.draft_scorer = self.persisted.scorer.clone();
                let request = Request {
                    source: Source::Tables(path, options),
                    params: self.persisted.params.clone(),
                    scorer: self.persisted.scorer.clone(),
                    embed: None,
                };
                self.start(ctx, request);
            }
        }
    }

    #[cfg(test)]
    pub fn is_running(&self) -> bool {
        self.job.is_some()
    }

    /// Whether a Parquet catalogue's columns are still being read for the mapping sheet.
    #[cfg(test)]
    pub fn is_reading_columns(&self) -> bool {
        #[cfg(feature = "parquet")]
        return self.pending_sheet.is_some();
        #[cfg(not(feature = "parquet"))]
        return false;
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
        self.poll_review();
        self.thumbs.begin_frame(&ctx);
        let mut cmds = Vec::new();
        self.collect_input(&ctx, &mut cmds);

        egui::Panel::top("menu").show(ui, |ui| menu::bar(ui, self, &mut cmds));
        egui::Panel::bottom("status").show(ui, |ui| status::bar(ui, self, &mut cmds));
        // Side columns are bounded by the window's width, so the grid keeps at least ~40% of
        // it at every size; content wider than a column is clipped, not pushed into the grid.
        let width = ui.available_width();
        if self.results.is_some() {
            egui::Panel::left("filters")
                .resizable(true)
                .default_size(190.0)
                .size_range(150.0..=(0.2 * width).max(150.0))
                .show(ui, |ui| {
                    widgets::clipped(ui, |ui| grid::filters::panel(ui, self))
                });
        }
        if self.persisted.show_side_panel {
            egui::Panel::right("side")
                .resizable(true)
                .default_size(470.0f32.min(0.34 * width))
                .size_range(260.0..=(0.4 * width).max(260.0))
                .show(ui, |ui| {
                    widgets::clipped(ui, |ui| self.side_panel(ui, &mut cmds))
                });
        }
        egui::CentralPanel::default().show(ui, |ui| self.central(ui, &mut cmds));

        review::bar::overlays(&ctx, self, &mut cmds);
        #[cfg(feature = "parquet")]
        self.poll_sheet(&ctx);
        self.poll_carve(&ctx);
        #[cfg(feature = "parquet")]
        self.mapping_sheet_ui(&ctx);
        self.drop_hint(&ctx);
        for cmd in cmds {
            self.apply(&ctx, cmd);
        }
        if self.job.is_some() || self.map.is_computing() {
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
            // A dropped items.csv (or any file) means its folder; a Parquet file is itself a
            // catalogue.
            let dir = if path.is_dir() || pairwise_audit::dataset::is_table_catalogue(&path) {
                path
            } else {
                path.parent().map(Path::to_path_buf).unwrap_or(path)
            };
            cmds.push(Command::OpenDataset(dir));
        }
        // While typing in a text field plain keys are text; Ctrl/Cmd shortcuts still act.
        // A modal (class picker, confirmation) owns the keyboard while it is open.
        let typing =
            ctx.egui_wants_keyboard_input() || self.picker.is_some() || self.pending_bulk.is_some();
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

    fn side_panel(&mut self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        ui.horizontal_wrapped(|ui| {
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
            Tab::Detail => panels::detail::panel(ui, self, cmds),
            Tab::Inspector => panels::inspector::panel(ui, self, cmds),
            Tab::Confusion => panels::confusion::panel(ui, self, cmds),
            Tab::Metrics => panels::metrics::panel(ui, self, cmds),
            Tab::Settings => panels::settings::panel(ui, self, cmds),
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
            embedding::offer(ui, self, cmds);
            ui.add_space(4.0);
        }
        let Some(results) = self.results.clone() else {
            ui.vertical_centered(|ui| {
                ui.add_space(ui.available_height() * 0.3);
                #[cfg(feature = "parquet")]
                let reading = self.pending_sheet.is_some();
                #[cfg(not(feature = "parquet"))]
                let reading = false;
                if reading {
                    ui.spinner();
                    ui.label("Reading the catalogue's columns…");
                } else if self.job.is_some() {
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
        if let Some(notice) = &results.notice {
            ui.horizontal_wrapped(|ui| {
                ui.label(egui::RichText::new("About this data:").strong());
                ui.label(egui::RichText::new(notice).color(ui.visuals().warn_fg_color));
            });
        }
        grid::filters::search_bar(ui, self, &results, cmds);
        self.log_banner(ui, cmds);
        review::bar::strip(ui, self, &results, cmds);
        match self.persisted.central {
            map::Central::Grid => self.table(ui, &results, cmds),
            map::Central::Map => map::screen(ui, self, &results, cmds),
            map::Central::Split => {
                let w = ui.available_width();
                let h = (ui.available_height() * 0.55).max(220.0);
                ui.allocate_ui(egui::vec2(w, h), |ui| map::screen(ui, self, &results, cmds));
                ui.separator();
                self.table(ui, &results, cmds);
            }
        }
    }

    fn table(&mut self, ui: &mut egui::Ui, results: &Results, cmds: &mut Vec<Command>) {
        grid::table(
            ui,
            &mut self.grid,
            results,
            grid::Marks {
                selected: self.selected,
                marked: &self.marked,
                review: self.session.as_ref(),
            },
            &mut self.thumbs,
            cmds,
        );
    }

    /// When the decision log could not be opened: say so where the reviewer looks, with the
    /// way out.
    fn log_banner(&self, ui: &mut egui::Ui, cmds: &mut Vec<Command>) {
        let Some(msg) = &self.log_error else { return };
        ui.horizontal_wrapped(|ui| {
            ui.colored_label(ui.visuals().warn_fg_color, msg);
            if ui.button(Command::PickLogPath.label()).clicked() {
                cmds.push(Command::PickLogPath);
            }
        });
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
                    self.grid.similar = None;
                    if self.grid.sort == grid::SortColumn::Similarity {
                        self.grid.sort_by(grid::SortColumn::Suspicion);
                    }
                    self.inspector = panels::inspector::InspectorState::default();
                    self.marked.clear();
                    self.pending_bulk = None;
                    self.picker = None;
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
                self.embed_offer = None;
                self.last_run = Some(format!("run finished in {:.1} s", elapsed.as_secs_f64()));
                self.results = Some(Arc::new(*results));
                if !same_dataset {
                    self.open_log(ctx, None);
                }
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
                self.embed_offer = embedding::lacks_embeddings(&path).then(|| path.clone());
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
        if self.apply_review(ctx, &cmd) {
            return;
        }
        match cmd {
            Command::OpenDialog => self.actions.push(Action::PickDatasetFolder),
            Command::OpenFileDialog => self.actions.push(Action::PickDatasetFile),
            Command::Quit => self.actions.push(Action::Quit),
            Command::OpenDataset(path) => {
                #[cfg(feature = "parquet")]
                if pairwise_audit::dataset::is_table_catalogue(&path) {
                    let (tx, rx) = std::sync::mpsc::channel();
                    let (source, ctx) = (path.clone(), ctx.clone());
                    std::thread::spawn(move || {
                        let _ = tx.send(mapping_sheet::Sheet::for_source(&source));
                        ctx.request_repaint();
                    });
                    self.pending_sheet = Some((path, rx));
                    return;
                }
                self.open_path(ctx, path);
            }
            Command::Rerun => {
                if self.job.is_some() {
                    self.notices
                        .push("A run is in progress; cancel it before starting another.".into());
                    return;
                }
                self.persisted.params = self.draft.clone();
                self.persisted.scorer = self.draft_scorer.clone();
                let source = match (&self.results, &self.requested) {
                    (Some(r), _) => Source::Loaded(r.dataset.clone()),
                    (None, Some(path)) => Source::Path(path.clone()),
                    (None, None) => return,
                };
                let request = Request {
                    source,
                    params: self.draft.clone(),
                    scorer: self.draft_scorer.clone(),
                    embed: None,
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
            Command::Select(i) => {
                self.marked.clear();
                self.selected = i;
            }
            Command::Navigate(nav) => {
                self.marked.clear();
                self.navigate(nav);
            }
            Command::SortBy(col) => self.grid.sort_by(col),
            Command::FilterCell(cell) => self.grid.filter.cell = Some(cell),
            Command::ClearCellFilter => self.grid.filter.cell = None,
            Command::FilterRegion(region) => self.grid.filter.region = Some(region),
            Command::ClearRegion => self.grid.filter.region = None,
            Command::Reveal(i) => {
                if let Some(r) = &self.results {
                    let order = self.grid.refresh(r);
                    self.grid.scroll_to = order.iter().position(|&j| j as usize == i);
                }
            }
            Command::SortBySimilarity(similarity) => {
                self.grid.similar = Some(similarity);
                self.grid.sort = grid::SortColumn::Similarity;
                self.grid.descending = true;
                self.grid.scroll_to = Some(0);
            }
            Command::ShowCentral(c) => self.persisted.central = c,
            Command::InspectPair(m, pair) => {
                self.inspector.inspect(m, pair);
                self.persisted.tab = Tab::Inspector;
                self.persisted.show_side_panel = true;
            }
            Command::ShowTab(tab) => {
                self.persisted.tab = tab;
                self.persisted.show_side_panel = true;
            }
            Command::CarveDialog => self.actions.push(Action::PickCarveFolder),
            Command::CarveTo(path) => self.start_carve(ctx, path),
            Command::PickModelFolder {
                dataset,
                classes_only,
            } => self.actions.push(Action::PickModelFolder {
                dataset,
                classes_only,
            }),
            Command::Embed {
                dataset,
                model,
                classes_only,
            } => {
                self.persisted.embed_model = Some(model.clone());
                self.error = None;
                let request = Request {
                    source: Source::Path(dataset),
                    params: self.persisted.params.clone(),
                    scorer: self.persisted.scorer.clone(),
                    embed: Some(embedding::EmbedStep {
                        model,
                        classes_only,
                        prompts: None,
                    }),
                };
                self.start(ctx, request);
            }
            Command::SavePrompts(prompts) => {
                let (Some(r), Some(model)) = (&self.results, &self.persisted.embed_model) else {
                    self.notices
                        .push("Open a folder catalogue and pick its model first.".into());
                    return;
                };
                let request = Request {
                    source: Source::Path(r.dataset.root.clone()),
                    params: self.persisted.params.clone(),
                    scorer: self.persisted.scorer.clone(),
                    embed: Some(embedding::EmbedStep {
                        model: model.clone(),
                        classes_only: true,
                        prompts: Some(prompts),
                    }),
                };
                self.start(ctx, request);
            }
            // Review commands were carried out by `apply_review` above.
            _ => {}
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
