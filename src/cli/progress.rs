//! Progress bars on stderr, drawn by a watcher thread that samples the job's `Monitor` a few
//! times a second. A bar appears only once a stage has run for more than a second, so quick
//! runs print nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use pairwise_audit::{Monitor, Progress, Stage};

const SAMPLE_EVERY: Duration = Duration::from_millis(150);
const SHOW_AFTER: Duration = Duration::from_secs(1);

pub struct Watcher {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Watcher {
    pub fn start(monitor: Arc<Monitor>) -> Watcher {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let handle = std::thread::Builder::new()
            .name("progress".into())
            .spawn(move || watch(&monitor, &flag))
            .ok();
        Watcher { stop, handle }
    }

    /// Stop and clear any bar still drawn.
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

/// Identifies a stage run: the same stage on another modality is a new bar.
fn key(p: &Progress) -> (Stage, u8) {
    (p.stage, p.modality)
}

fn label(p: &Progress) -> String {
    match p.modality {
        1 => format!("image: {}", p.stage.label()),
        2 => format!("text: {}", p.stage.label()),
        _ => p.stage.label().to_string(),
    }
}

fn watch(monitor: &Monitor, stop: &AtomicBool) {
    let mut current = key(&monitor.sample());
    let mut since = Instant::now();
    let mut bar: Option<ProgressBar> = None;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(SAMPLE_EVERY);
        let p = monitor.sample();
        if key(&p) != current {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
            current = key(&p);
            since = Instant::now();
        }
        let idle = matches!(p.stage, Stage::Idle | Stage::Done);
        if bar.is_none() && !idle && since.elapsed() > SHOW_AFTER {
            bar = Some(new_bar(&p).with_elapsed(since.elapsed()));
        }
        if let Some(b) = &bar {
            if p.total > 0 {
                b.set_length(p.total);
                b.set_position(p.done.min(p.total));
            } else {
                b.tick();
            }
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

fn new_bar(p: &Progress) -> ProgressBar {
    let embedding = matches!(
        p.stage,
        Stage::EmbedImages | Stage::EmbedTexts | Stage::EmbedClasses
    );
    let b = if p.total > 0 && embedding {
        // The model is the slow part: say how fast it goes and when it will be done.
        ProgressBar::new(p.total).with_style(
            ProgressStyle::with_template(
                "{msg:32} [{bar:30}] {pos}/{len} {per_sec:.1} ETA {eta} ({elapsed})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        )
    } else if p.total > 0 {
        ProgressBar::new(p.total).with_style(
            ProgressStyle::with_template("{msg:32} [{bar:30}] {percent:>3}% {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        )
    } else {
        ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{msg:32} {spinner} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        )
    };
    b.set_message(label(p));
    b
}
