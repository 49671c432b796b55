//! The background run: load → classify → audit on a worker thread, watched through a
//! `Monitor`. The UI polls the job each frame; the worker wakes the UI when it finishes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};
use std::time::{Duration, Instant};

use pairwise_audit::audit::Audit;
use pairwise_audit::classify::ClassifyError;
use pairwise_audit::dataset::{LoadError, LoadOptions};
use pairwise_audit::scorers::{scorer_by_name, scorer_names};
use pairwise_audit::{Classification, Dataset, Monitor, Params, Progress};

use crate::app::review::{self, Results};

/// Where a run's catalogue comes from.
#[derive(Clone)]
pub enum Source {
    /// Read it from disk (a Parquet catalogue with the mapping remembered for it, if any).
    Path(PathBuf),
    /// Read a Parquet catalogue from disk with these columns (only the mapping sheet, a
    /// `parquet` feature, makes one).
    #[cfg_attr(not(feature = "parquet"), allow(dead_code))]
    Tables(PathBuf, LoadOptions),
    /// Already loaded: classify it again with other settings.
    Loaded(Arc<Dataset>),
}

/// One run: the catalogue, the classifier's parameters and the suspicion scorer's name.
#[derive(Clone)]
pub struct Request {
    pub source: Source,
    pub params: Params,
    pub scorer: String,
    /// Embeddings to compute into the catalogue folder first.
    pub embed: Option<crate::app::embedding::EmbedStep>,
}

impl Request {
    pub fn path(&self) -> PathBuf {
        match &self.source {
            Source::Path(path) | Source::Tables(path, _) => path.clone(),
            Source::Loaded(dataset) => dataset.root.clone(),
        }
    }
}

/// Why a run produced no results.
#[derive(Clone, Debug, PartialEq)]
pub enum JobError {
    /// One sentence for the user (the loader's error, or an internal failure).
    Failed(String),
    Cancelled,
}

/// The work itself, swappable so that tests can run the UI against a scripted engine.
pub type Pipeline = Arc<dyn Fn(&Request, &Monitor) -> Result<Run, JobError> + Send + Sync>;

/// What the pipeline hands back.
pub struct Run {
    pub dataset: Arc<Dataset>,
    pub classification: Classification,
    pub audit: Audit,
}

/// The real engine: `Dataset::load_with`, `classify`, then the audit with the chosen scorer.
pub fn engine_pipeline() -> Pipeline {
    Arc::new(|request: &Request, monitor: &Monitor| {
        let scorer = scorer_by_name(&request.scorer).ok_or_else(|| {
            JobError::Failed(format!(
                "there is no suspicion scorer called {:?}; the scorers are {}",
                request.scorer,
                scorer_names().join(", ")
            ))
        })?;
        if let Some(step) = &request.embed {
            crate::app::embedding::run(step, &request.path(), monitor)?;
        }
        let dataset = match &request.source {
            Source::Path(_) | Source::Tables(..) => {
                let (path, options) = match &request.source {
                    Source::Tables(path, options) => (path, options.clone()),
                    Source::Path(path) => (path, remembered(path)),
                    Source::Loaded(_) => unreachable!("matched above"),
                };
                let ds =
                    Dataset::load_with_options(path, &options, monitor).map_err(|e| match e {
                        LoadError::Invalid(e) => JobError::Failed(e.to_string()),
                        LoadError::Cancelled(_) => JobError::Cancelled,
                    })?;
                Arc::new(ds)
            }
            Source::Loaded(dataset) => dataset.clone(),
        };
        let mut params = request.params.clone();
        // Settings carry the one-vs-rest class from catalogue to catalogue; one that this
        // catalogue lacks is left out here (the Settings tab says so), not a failed run.
        if params
            .one_vs_rest
            .as_ref()
            .is_some_and(|spec| pairwise_audit::one_vs_rest::resolve(&dataset, spec).is_err())
        {
            params.one_vs_rest = None;
        }
        let classification =
            pairwise_audit::classify(&dataset, &params, monitor).map_err(|e| match e {
                ClassifyError::Cancelled => JobError::Cancelled,
                other => JobError::Failed(other.to_string()),
            })?;
        let audit = Audit::run(&dataset, &classification, scorer.as_ref(), monitor)
            .map_err(|_| JobError::Cancelled)?;
        Ok(Run {
            dataset,
            classification,
            audit,
        })
    })
}

/// The columns chosen for a Parquet catalogue in an earlier session, else detection's.
fn remembered(path: &std::path::Path) -> LoadOptions {
    #[cfg(feature = "parquet")]
    if pairwise_audit::dataset::is_table_catalogue(path) {
        return pairwise_audit::dataset::parquet::remembered_options(path).unwrap_or_default();
    }
    let _ = path;
    LoadOptions::default()
}

/// How a run ended.
pub enum Outcome {
    Done(Box<Results>),
    Failed { path: PathBuf, error: JobError },
}

/// A running job. Dropping it does not stop the thread; call `cancel` first.
pub struct Job {
    pub request_path: PathBuf,
    pub monitor: Arc<Monitor>,
    pub started: Instant,
    pub cancel_requested: Option<Instant>,
    rx: Receiver<Outcome>,
    /// When the stage now shown began, for its rate and ETA.
    stage_clock: std::sync::Mutex<Option<(pairwise_audit::Stage, u8, Instant)>>,
}

impl Job {
    pub fn spawn(
        ctx: &egui::Context,
        pipeline: Pipeline,
        request: Request,
        generation: u64,
    ) -> Job {
        let monitor = Arc::new(Monitor::new());
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        let m = monitor.clone();
        let request_path = request.path();
        let path = request_path.clone();
        std::thread::Builder::new()
            .name("pairwise-audit run".into())
            .spawn(move || {
                let started = Instant::now();
                // A panic in the engine must not take the window down with it: report it as
                // a failed run instead.
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    pipeline(&request, &m)
                }))
                .unwrap_or_else(|panic| Err(JobError::Failed(panic_sentence(panic))));
                let outcome = match result {
                    Ok(_) if m.is_cancelled() => Outcome::Failed {
                        path,
                        error: JobError::Cancelled,
                    },
                    Ok(run) => Outcome::Done(Box::new(review::build(
                        generation,
                        run.dataset,
                        Arc::new(run.classification),
                        run.audit,
                        started.elapsed(),
                    ))),
                    Err(error) => Outcome::Failed { path, error },
                };
                // The receiver is gone only when the app closed; nothing left to tell.
                let _ = tx.send(outcome);
                ctx.request_repaint();
            })
            .expect("the OS refused to start a worker thread");
        Job {
            request_path,
            monitor,
            started: Instant::now(),
            cancel_requested: None,
            rx,
            stage_clock: std::sync::Mutex::new(None),
        }
    }

    pub fn cancel(&mut self) {
        self.monitor.cancel();
        self.cancel_requested.get_or_insert_with(Instant::now);
    }

    pub fn progress(&self) -> Progress {
        self.monitor.sample()
    }

    /// Items per second in the current stage and the time left at that rate, once the stage
    /// has run long enough to say.
    pub fn rate_and_eta(&self, p: &Progress) -> Option<(f64, Duration)> {
        let mut clock = self.stage_clock.lock().ok()?;
        let since = match *clock {
            Some((stage, modality, t)) if stage == p.stage && modality == p.modality => t,
            _ => {
                *clock = Some((p.stage, p.modality, Instant::now()));
                return None;
            }
        };
        let secs = since.elapsed().as_secs_f64();
        if p.done == 0 || p.total == 0 || secs < 1.0 {
            return None;
        }
        let rate = p.done as f64 / secs;
        let left = p.total.saturating_sub(p.done) as f64 / rate;
        Some((rate, Duration::from_secs_f64(left)))
    }

    /// The outcome, once the worker has finished.
    pub fn poll(&self) -> Option<Outcome> {
        match self.rx.try_recv() {
            Ok(outcome) => Some(outcome),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Outcome::Failed {
                path: self.request_path.clone(),
                error: JobError::Failed("the worker thread stopped without a result".into()),
            }),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

fn panic_sentence(panic: Box<dyn std::any::Any + Send>) -> String {
    let msg = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error in the engine: {msg}")
}
