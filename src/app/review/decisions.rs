//! The reviewer's decisions inside the app: a session over the dataset's decision log
//! (`pairwise_audit::review`), opened off the UI thread, with per-item statuses the grid
//! filters and sorts on. Every decision goes to the log's writer thread the moment it is made.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use pairwise_audit::review::{
    Action as LogAction, Decision, History, LabelSource, LogWriter, ReviewStatus, Step,
};
use pairwise_audit::{ClassId, Dataset, Modality};

use crate::app::review::Results;

/// What a reviewer can say about an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The annotation is right.
    Accept,
    /// Take the image modality's pairwise label.
    RelabelImage,
    /// Take the text modality's pairwise label.
    RelabelText,
    /// A class picked by hand.
    RelabelTo(ClassId),
    /// Unsure; come back later.
    Skip,
    /// Forget the decision.
    Clear,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Accept => "Accept",
            Verdict::RelabelImage => "Relabel to image label",
            Verdict::RelabelText => "Relabel to text label",
            Verdict::RelabelTo(_) => "Relabel to class",
            Verdict::Skip => "Skip",
            Verdict::Clear => "Clear decision",
        }
    }
}

/// Per-item status as the grid stores it: one byte, so that filtering and sorting 1M items
/// stays cheap.
pub const UNREVIEWED: u8 = 0;

pub fn status_code(s: Option<ReviewStatus>) -> u8 {
    match s {
        None => UNREVIEWED,
        Some(ReviewStatus::Accepted) => 1,
        Some(ReviewStatus::Relabeled) => 2,
        Some(ReviewStatus::Skipped) => 3,
    }
}

/// A filter on review status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusFilter {
    Unreviewed,
    Reviewed,
    Accepted,
    Relabeled,
    Skipped,
}

impl StatusFilter {
    pub const ALL: [StatusFilter; 5] = [
        StatusFilter::Unreviewed,
        StatusFilter::Reviewed,
        StatusFilter::Accepted,
        StatusFilter::Relabeled,
        StatusFilter::Skipped,
    ];

    pub fn label(self) -> &'static str {
        match self {
            StatusFilter::Unreviewed => "unreviewed",
            StatusFilter::Reviewed => "reviewed",
            StatusFilter::Accepted => "accepted",
            StatusFilter::Relabeled => "relabeled",
            StatusFilter::Skipped => "skipped",
        }
    }

    pub fn keeps(self, code: u8) -> bool {
        match self {
            StatusFilter::Unreviewed => code == UNREVIEWED,
            StatusFilter::Reviewed => code != UNREVIEWED,
            StatusFilter::Accepted => code == 1,
            StatusFilter::Relabeled => code == 2,
            StatusFilter::Skipped => code == 3,
        }
    }
}

/// An open decision log for the loaded dataset.
pub struct Session {
    pub log_path: PathBuf,
    writer: Option<LogWriter>,
    pub history: History,
    /// Item index by id.
    index: HashMap<String, usize>,
    /// `status_code` per item, in items.csv order.
    pub status: Vec<u8>,
    /// Bumped on every change, so views derived from `status` know to recompute.
    pub generation: u64,
    /// Warnings from reading the log (torn record, other items.csv …).
    pub warnings: Vec<String>,
}

impl Session {
    fn new(writer: LogWriter, opened: pairwise_audit::review::OpenedLog, ds: &Dataset) -> Session {
        let index: HashMap<String, usize> = ds
            .items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.clone(), i))
            .collect();
        let mut s = Session {
            log_path: writer.path().to_path_buf(),
            writer: Some(writer),
            history: opened.history,
            index,
            status: vec![UNREVIEWED; ds.len()],
            generation: 1,
            warnings: opened.warnings,
        };
        s.refresh_all();
        s
    }

    fn refresh_all(&mut self) {
        self.status.fill(UNREVIEWED);
        for (id, review) in self.history.reviewed() {
            if let Some(&i) = self.index.get(id) {
                self.status[i] = status_code(Some(review.status));
            }
        }
        self.generation += 1;
    }

    fn refresh_ids<'a>(&mut self, ids: impl Iterator<Item = &'a String>) {
        for id in ids {
            if let Some(&i) = self.index.get(id) {
                self.status[i] = status_code(self.history.get(id).map(|r| r.status));
            }
        }
        self.generation += 1;
    }

    /// Record `verdict` on `targets` (item indices) as one undo step. Items the verdict
    /// cannot apply to (no image label for `RelabelImage` …) are left out; returns how many
    /// items the step holds.
    pub fn decide(&mut self, r: &Results, targets: &[usize], verdict: Verdict) -> usize {
        let time = pairwise_audit::review::decision::now();
        let class = |c: Option<ClassId>| c.map(|c| r.dataset.class_name(c).to_string());
        let decisions: Vec<Decision> = targets
            .iter()
            .filter_map(|&i| {
                let row = &r.rows[i];
                let action = match verdict {
                    Verdict::Accept => LogAction::Accept,
                    Verdict::Skip => LogAction::Skip,
                    Verdict::Clear => LogAction::Clear,
                    Verdict::RelabelImage => LogAction::Relabel {
                        label: class(row.pairwise(Modality::Image))?,
                        source: LabelSource::Image,
                    },
                    Verdict::RelabelText => LogAction::Relabel {
                        label: class(row.pairwise(Modality::Text))?,
                        source: LabelSource::Text,
                    },
                    Verdict::RelabelTo(c) => LogAction::Relabel {
                        label: class(Some(c))?,
                        source: LabelSource::Manual,
                    },
                };
                Some(Decision {
                    id: r.dataset.items[i].id.clone(),
                    action,
                    time,
                })
            })
            .collect();
        if decisions.is_empty() {
            return 0;
        }
        let n = decisions.len();
        let step = Step { decisions };
        if let Some(w) = &mut self.writer {
            w.record_step(&step);
        }
        let ids: Vec<String> = step.decisions.iter().map(|d| d.id.clone()).collect();
        self.history.push(step);
        self.refresh_ids(ids.iter());
        n
    }

    /// Take back the newest step; false when there is none.
    pub fn undo(&mut self) -> bool {
        let Some(step) = self.history.undo() else {
            return false;
        };
        let ids: Vec<String> = step.decisions.iter().map(|d| d.id.clone()).collect();
        if let Some(w) = &mut self.writer {
            w.record_undo();
        }
        self.refresh_ids(ids.iter());
        true
    }

    pub fn redo(&mut self) -> bool {
        let Some(step) = self.history.redo() else {
            return false;
        };
        let ids: Vec<String> = step.decisions.iter().map(|d| d.id.clone()).collect();
        if let Some(w) = &mut self.writer {
            w.record_redo();
        }
        self.refresh_ids(ids.iter());
        true
    }

    pub fn status_of(&self, i: usize) -> u8 {
        self.status.get(i).copied().unwrap_or(UNREVIEWED)
    }

    /// The grid's review cell for item `i`.
    pub fn describe(&self, r: &Results, i: usize) -> Option<String> {
        let review = self.history.get(&r.dataset.items[i].id)?;
        Some(match review.status {
            // The default fonts have no check mark or arrow.
            ReviewStatus::Accepted => "accepted".into(),
            ReviewStatus::Skipped => "skipped".into(),
            ReviewStatus::Relabeled => format!("» {}", review.label.as_deref().unwrap_or("?")),
        })
    }

    /// Records not yet on disk, and the writer's last failure.
    pub fn save_state(&self) -> (u64, Option<String>) {
        match &self.writer {
            Some(w) => (w.pending(), w.error()),
            None => (0, None),
        }
    }

    /// Hand the writer to a thread that finishes its writes, so the UI never waits on them.
    pub fn close_in_background(mut self) {
        if let Some(w) = self.writer.take() {
            let _ = std::thread::Builder::new()
                .name("decision-log close".into())
                .spawn(move || drop(w));
        }
    }

    /// For shutdown and tests: block until every decision is on disk.
    pub fn flush(&self, timeout: std::time::Duration) -> bool {
        self.writer.as_ref().is_none_or(|w| w.wait_durable(timeout))
    }
}

/// A log being opened on a background thread.
pub struct Opening {
    pub root: PathBuf,
    rx: Receiver<Result<Session, String>>,
}

impl Opening {
    pub fn start(ctx: &egui::Context, dataset: Arc<Dataset>, path: PathBuf) -> Opening {
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let root = dataset.root.clone();
        let _ = std::thread::Builder::new()
            .name("decision-log open".into())
            .spawn(move || {
                let result = LogWriter::open(&path, &dataset.fingerprint)
                    .map(|(writer, opened)| Session::new(writer, opened, &dataset))
                    .map_err(|e| e.to_string());
                let _ = tx.send(result);
                ctx.request_repaint();
            });
        Opening { root, rx }
    }

    /// The session once the thread is done.
    pub fn poll(&self) -> Option<Result<Session, String>> {
        match self.rx.try_recv() {
            Ok(r) => Some(r),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => {
                Some(Err("the decision log could not be opened".into()))
            }
        }
    }
}

/// Where the log of `root` lives: a place the user picked earlier, or beside the dataset.
pub fn log_path_for(root: &Path, chosen: &[(PathBuf, PathBuf)]) -> PathBuf {
    let canonical = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    chosen
        .iter()
        .find(|(r, _)| *r == canonical)
        .map(|(_, log)| log.clone())
        .unwrap_or_else(|| pairwise_audit::review::default_log_path(root))
}
