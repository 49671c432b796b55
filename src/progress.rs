//! Progress and cancellation shared between a long job and whoever watches it.
//!
//! The job updates atomic counters; a watcher (the command line's progress bar, the app's
//! status bar) samples them a few times a second. Cancelling is setting the stop flag; every
//! stage checks it between chunks of work and returns `Err(Cancelled)`.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};

/// The stages a run goes through, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Stage {
    Idle = 0,
    LoadItems,
    LoadEmbeddings,
    CheckImages,
    Baseline,
    Moments,
    Selection,
    Tournament,
    Audit,
    Write,
    MapPca,
    MapNeighbours,
    MapLayout,
    Done,
    EmbedImages,
    EmbedTexts,
    EmbedClasses,
}

impl Stage {
    const ALL: [Stage; 17] = [
        Stage::Idle,
        Stage::LoadItems,
        Stage::LoadEmbeddings,
        Stage::CheckImages,
        Stage::Baseline,
        Stage::Moments,
        Stage::Selection,
        Stage::Tournament,
        Stage::Audit,
        Stage::Write,
        Stage::MapPca,
        Stage::MapNeighbours,
        Stage::MapLayout,
        Stage::Done,
        Stage::EmbedImages,
        Stage::EmbedTexts,
        Stage::EmbedClasses,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Stage::Idle => "idle",
            Stage::LoadItems => "reading items.csv",
            Stage::LoadEmbeddings => "reading embeddings",
            Stage::CheckImages => "checking image files",
            Stage::Baseline => "cosine baseline",
            Stage::Moments => "class moments",
            Stage::Selection => "selecting pair dimensions",
            Stage::Tournament => "tournament",
            Stage::Audit => "auditing annotations",
            Stage::Write => "writing results",
            Stage::MapPca => "map: projecting",
            Stage::MapNeighbours => "map: neighbours",
            Stage::MapLayout => "map: layout",
            Stage::Done => "done",
            Stage::EmbedImages => "embedding images",
            Stage::EmbedTexts => "embedding descriptions",
            Stage::EmbedClasses => "embedding class prompts",
        }
    }

    fn from_u8(v: u8) -> Stage {
        Stage::ALL.get(v as usize).copied().unwrap_or(Stage::Idle)
    }
}

/// A sampled, copyable view of a job's progress.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    pub stage: Stage,
    /// Which modality the stage works on, if any (0 = none, 1 = image, 2 = text).
    pub modality: u8,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0) as f32
        }
    }
}

/// Returned by a stage that saw the stop flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the run was cancelled")]
pub struct Cancelled;

/// Shared by a job and its watchers (wrap in `Arc`).
#[derive(Debug, Default)]
pub struct Monitor {
    stop: AtomicBool,
    stage: AtomicU8,
    modality: AtomicU8,
    done: AtomicU64,
    total: AtomicU64,
}

impl Monitor {
    pub fn new() -> Monitor {
        Monitor::default()
    }

    /// Ask the job to stop at its next check.
    pub fn cancel(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once `cancel` was called; stages call this between chunks.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }

    /// Enter a stage with `total` units of work.
    pub fn begin(&self, stage: Stage, modality: Option<crate::Modality>, total: u64) {
        self.stage.store(stage as u8, Ordering::Relaxed);
        let m = match modality {
            None => 0,
            Some(crate::Modality::Image) => 1,
            Some(crate::Modality::Text) => 2,
        };
        self.modality.store(m, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
    }

    /// Record `n` more units done (cheap; call once per chunk, not once per item).
    pub fn advance(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }

    pub fn sample(&self) -> Progress {
        Progress {
            stage: Stage::from_u8(self.stage.load(Ordering::Relaxed)),
            modality: self.modality.load(Ordering::Relaxed),
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancel_is_seen_by_check() {
        let m = Monitor::new();
        assert!(m.check().is_ok());
        m.cancel();
        assert_eq!(m.check(), Err(Cancelled));
    }

    #[test]
    fn sample_reports_stage_and_counts() {
        let m = Monitor::new();
        m.begin(Stage::Tournament, Some(crate::Modality::Text), 10);
        m.advance(3);
        m.advance(2);
        let p = m.sample();
        assert_eq!(p.stage, Stage::Tournament);
        assert_eq!(p.modality, 2);
        assert_eq!((p.done, p.total), (5, 10));
        assert!((p.fraction() - 0.5).abs() < 1e-6);
    }
}
