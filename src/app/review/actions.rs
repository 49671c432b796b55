//! How the app carries out review commands: decisions with auto-advance, marks, bulk
//! actions, undo and redo, the decision log's opening and the exports. Disk work (opening
//! the log, exporting) runs on threads; the UI only polls.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use pairwise_audit::review::export::{ExportFormat, export, export_dataset};

use crate::app::AuditApp;
use crate::app::commands::{Action, Command};
use crate::app::review::bar::Picker;
use crate::app::review::decisions::{self, Opening, Verdict};

/// An export running on its own thread; the result is one sentence.
pub struct ExportJob {
    rx: Receiver<Result<String, String>>,
}

impl AuditApp {
    /// The items a decision applies to: the marked ones in the grid's order, else the
    /// selected one.
    pub fn targets(&self) -> Vec<usize> {
        if self.marked.is_empty() {
            return self.selected.into_iter().collect();
        }
        let order = self.grid.order();
        let mut in_view: Vec<usize> = order
            .iter()
            .map(|&i| i as usize)
            .filter(|i| self.marked.contains(i))
            .collect();
        if in_view.len() < self.marked.len() {
            // Marked items that a filter now hides still count, after the visible ones.
            let seen: std::collections::HashSet<usize> = in_view.iter().copied().collect();
            let hidden: Vec<usize> = self
                .marked
                .iter()
                .copied()
                .filter(|i| !seen.contains(i))
                .collect();
            in_view.extend(hidden);
        }
        in_view
    }

    /// Start opening the decision log of the loaded dataset (a new dataset, or a new place).
    pub(crate) fn open_log(&mut self, ctx: &egui::Context, path: Option<PathBuf>) {
        let Some(r) = &self.results else { return };
        if let Some(old) = self.session.take() {
            old.close_in_background();
        }
        let path = path
            .unwrap_or_else(|| decisions::log_path_for(&r.dataset.root, &self.persisted.log_paths));
        self.log_error = None;
        self.opening = Some(Opening::start(ctx, r.dataset.clone(), path));
    }

    pub(crate) fn poll_review(&mut self) {
        if let Some(opening) = &self.opening
            && let Some(result) = opening.poll()
        {
            let for_current = self
                .results
                .as_ref()
                .is_some_and(|r| r.dataset.root == opening.root);
            self.opening = None;
            match result {
                Ok(session) if for_current => {
                    self.notices.extend(session.warnings.iter().cloned());
                    self.session = Some(session);
                }
                Ok(session) => session.close_in_background(),
                Err(e) => {
                    self.log_error = Some(format!(
                        "{e}. Decisions cannot be saved until the log has a place \
                         (e.g. the dataset folder is read-only): choose where to keep it."
                    ));
                }
            }
        }
        self.exports.retain(|job| match job.rx.try_recv() {
            Ok(Ok(msg)) => {
                self.last_export = Some(msg);
                false
            }
            Ok(Err(e)) => {
                self.error = Some(e);
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        });
        self.grid.sync_review(self.session.as_ref());
    }

    /// Returns true when the command was a review command.
    pub(crate) fn apply_review(&mut self, ctx: &egui::Context, cmd: &Command) -> bool {
        match cmd {
            Command::Decide(v) => self.decide(*v),
            Command::OpenClassPicker => {
                if !self.targets().is_empty() {
                    self.picker = Some(Picker::new(false));
                }
            }
            Command::OpenBulkClassPicker => self.picker = Some(Picker::new(true)),
            Command::ClosePicker => self.picker = None,
            Command::Undo | Command::Redo => {
                if let Some(s) = &mut self.session {
                    let done = if *cmd == Command::Undo {
                        s.undo()
                    } else {
                        s.redo()
                    };
                    if !done {
                        self.notices
                            .push(format!("Nothing to {}.", cmd.label().to_lowercase()));
                    }
                }
            }
            Command::ToggleAutoAdvance => {
                self.persisted.auto_advance = !self.persisted.auto_advance;
            }
            Command::ToggleCheatSheet => self.cheat_sheet = !self.cheat_sheet,
            Command::BulkOnShown(v) => {
                if let Some(r) = self.results.clone() {
                    let order = self.grid.refresh(&r).to_vec();
                    if !order.is_empty() {
                        self.pending_bulk = Some((*v, order));
                    }
                }
            }
            Command::ConfirmBulk => {
                if let (Some((v, items)), Some(r), Some(s)) = (
                    self.pending_bulk.take(),
                    self.results.clone(),
                    &mut self.session,
                ) {
                    let items: Vec<usize> = items.into_iter().map(|i| i as usize).collect();
                    let n = s.decide(&r, &items, v);
                    self.last_export = Some(format!("{}: {n} items (one undo step)", v.label()));
                }
            }
            Command::CancelBulk => self.pending_bulk = None,
            Command::SameLabelAs(item) => self.same_label_as(item.or(self.selected)),
            Command::ToggleMark(i) => {
                if self.marked.is_empty()
                    && let Some(s) = self.selected
                {
                    self.marked.insert(s);
                }
                if !self.marked.remove(i) {
                    self.marked.insert(*i);
                }
                self.selected = Some(*i);
            }
            Command::MarkRange(i) => {
                let order = self.grid.order();
                let to = order.iter().position(|&j| j as usize == *i);
                let from = self
                    .selected
                    .and_then(|s| order.iter().position(|&j| j as usize == s))
                    .or(to);
                if let (Some(a), Some(b)) = (from, to) {
                    let (a, b) = (a.min(b), a.max(b));
                    self.marked.extend(order[a..=b].iter().map(|&j| j as usize));
                }
                self.selected = Some(*i);
            }
            Command::ExportDialog { all_items } => self.actions.push(Action::PickExportPath {
                all_items: *all_items,
            }),
            Command::ExportTo { path, all_items } => {
                self.start_export(ctx, path.clone(), *all_items)
            }
            Command::PickLogPath => self.actions.push(Action::PickLogPath),
            Command::UseLogPath(path) => {
                if let Some(r) = &self.results {
                    let root = std::fs::canonicalize(&r.dataset.root)
                        .unwrap_or_else(|_| r.dataset.root.clone());
                    self.persisted.log_paths.retain(|(d, _)| *d != root);
                    self.persisted.log_paths.push((root, path.clone()));
                }
                self.open_log(ctx, Some(path.clone()));
            }
            _ => return false,
        }
        true
    }

    /// `keep` keeps its annotation; its look-alikes take it (two undo steps: the accept,
    /// then the relabels).
    fn same_label_as(&mut self, keep: Option<usize>) {
        let (Some(keep), Some(r)) = (keep, self.results.clone()) else {
            return;
        };
        let (Some(class), false) = (r.rows[keep].annotation, r.lookalikes[keep].is_empty()) else {
            return;
        };
        let Some(session) = &mut self.session else {
            self.notices.push(
                "The decision log is not open, so the decision was not made (see the message above the grid)."
                    .into(),
            );
            return;
        };
        session.decide(&r, &[keep], Verdict::Accept);
        let n = session.decide(&r, &r.lookalikes[keep], Verdict::RelabelTo(class));
        self.last_export = Some(format!(
            "{} look-alike{} relabelled to {}",
            n,
            if n == 1 { "" } else { "s" },
            r.dataset.class_name(class)
        ));
        self.grid.sync_review(self.session.as_ref());
    }

    fn decide(&mut self, verdict: Verdict) {
        let Some(r) = self.results.clone() else {
            return;
        };
        if self.session.is_none() {
            self.notices.push(
                "The decision log is not open, so the decision was not made (see the message above the grid)."
                    .into(),
            );
            return;
        }
        let targets = self.targets();
        if targets.is_empty() {
            return;
        }
        // The next item in the order as it is now: after the decision a status filter may hide
        // the decided item, and the review goes on from where it was.
        let order = self.grid.refresh(&r).to_vec();
        let next = match (self.marked.is_empty(), self.selected) {
            (true, Some(s)) => order
                .iter()
                .position(|&j| j as usize == s)
                .and_then(|p| order.get(p + 1))
                .map(|&j| j as usize),
            _ => None,
        };
        let Some(session) = &mut self.session else {
            return;
        };
        let n = session.decide(&r, &targets, verdict);
        if n == 0 {
            self.notices.push(format!(
                "{}: the item has no such label, nothing was recorded.",
                verdict.label()
            ));
            return;
        }
        self.grid.sync_review(self.session.as_ref());
        if self.persisted.auto_advance
            && let Some(next) = next
        {
            self.selected = Some(next);
            let order = self.grid.refresh(&r);
            self.grid.scroll_to = order.iter().position(|&j| j as usize == next);
        }
    }

    fn start_export(&mut self, ctx: &egui::Context, out: PathBuf, all_items: bool) {
        let (Some(r), Some(s)) = (&self.results, &self.session) else {
            self.notices
                .push("Nothing to export: no dataset with a decision log is open.".into());
            return;
        };
        let dataset = std::sync::Arc::clone(&r.dataset);
        let history = s.history.clone();
        let format = ExportFormat::from_path(&out).unwrap_or(ExportFormat::Csv);
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let _ = std::thread::Builder::new()
            .name("export".into())
            .spawn(move || {
                // A table catalogue has no items.csv: export from the loaded items.
                let result = if dataset.table.is_some() {
                    export_dataset(&dataset, &history, &out, format, all_items)
                } else {
                    export(&dataset.root, &history, &out, format, all_items)
                };
                let result = result
                    .map(|n| {
                        let what = if all_items { "items" } else { "corrections" };
                        format!("Exported {n} {what} to {}", out.display())
                    })
                    .map_err(|e| e.to_string());
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        self.exports.push(ExportJob { rx });
    }
}
