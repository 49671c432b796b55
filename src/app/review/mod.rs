//! The app's view of one finished run: the engine's audit plus per-item facts the grid sorts
//! and filters on, computed once on the worker thread so that no frame walks the engine's
//! arrays.

pub(crate) mod actions;
pub(crate) mod bar;
pub(crate) mod decisions;

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use pairwise_audit::audit::{Audit, FlagKind};
use pairwise_audit::metrics::{LabelSource, MetricsReport};
use pairwise_audit::one_vs_rest::BinaryTable;
use pairwise_audit::scorers::Evidence;
use pairwise_audit::tournament::Match;
use pairwise_audit::{ClassId, Classification, Dataset, Modality};

/// Flag kinds as the app lists them: strongest first, then unflagged.
pub const FLAG_KINDS: [FlagKind; 5] = [
    FlagKind::AgreeNotAnnotation,
    FlagKind::BothNotAnnotation,
    FlagKind::OneNotAnnotation,
    FlagKind::ImageTextDisagree,
    FlagKind::None,
];

pub fn flag_label(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::None => "ok",
        other => other.describe(),
    }
}

/// Fits the grid's flag column; the full sentence is the tooltip.
pub fn flag_short(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::AgreeNotAnnotation => "both say other",
        FlagKind::BothNotAnnotation => "both reject",
        FlagKind::OneNotAnnotation => "one rejects",
        FlagKind::ImageTextDisagree => "image ≠ text",
        FlagKind::None => "ok",
    }
}

pub fn flag_tooltip(kind: FlagKind) -> &'static str {
    match kind {
        FlagKind::AgreeNotAnnotation => {
            "Image and text agree with each other on a class other than the annotation: the strongest sign of a wrong label."
        }
        FlagKind::BothNotAnnotation => {
            "Both modalities reject the annotation but disagree on the alternative."
        }
        FlagKind::OneNotAnnotation => "Exactly one modality rejects the annotation.",
        FlagKind::ImageTextDisagree => {
            "The item has no annotation and its image and text labels differ."
        }
        FlagKind::None => "Every available label agrees.",
    }
}

/// A label source for people: "annotation", "image (pairwise)".
pub fn source_name(s: LabelSource) -> String {
    match s {
        LabelSource::Annotation => "annotation".into(),
        LabelSource::Baseline(m) => format!("{m} (baseline)"),
        LabelSource::Pairwise(m) => format!("{m} (pairwise)"),
    }
}

/// Everything the grid needs about one item.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub annotation: Option<ClassId>,
    /// `[image, text]` × `[baseline, pairwise]`; `None` when the modality was not classified.
    pub labels: [[Option<ClassId>; 2]; 2],
    pub flag: FlagKind,
    /// Higher is more likely wrong; `None` for items the scorer cannot score.
    pub suspicion: Option<f64>,
    /// The class the scorer would put in the annotation's place.
    pub challenger: Option<ClassId>,
}

fn slot(m: Modality) -> usize {
    match m {
        Modality::Image => 0,
        Modality::Text => 1,
    }
}

impl Row {
    pub fn label(&self, source: LabelSource) -> Option<ClassId> {
        match source {
            LabelSource::Annotation => self.annotation,
            LabelSource::Baseline(m) => self.labels[slot(m)][0],
            LabelSource::Pairwise(m) => self.labels[slot(m)][1],
        }
    }

    pub fn pairwise(&self, m: Modality) -> Option<ClassId> {
        self.labels[slot(m)][1]
    }
}

/// A finished run, shared read-only by every panel.
pub struct Results {
    /// Distinguishes runs so that caches keyed on it never mix two runs.
    pub generation: u64,
    pub dataset: Arc<Dataset>,
    pub classification: Arc<Classification>,
    pub audit: Audit,
    pub metrics: MetricsReport,
    pub rows: Vec<Row>,
    /// Each item's position among the ids / descriptions in byte order (equal strings share
    /// a rank), so that sorting by them compares integers.
    pub id_rank: Vec<u32>,
    pub description_rank: Vec<u32>,
    /// Lower-cased `id + " " + description`, for the search box.
    pub haystack: Vec<String>,
    pub has_images: bool,
    /// The dataset's `NOTICE.txt`, if it has one: what a reviewer must know about the data
    /// (read here, on the worker, so the UI never touches the disk for it).
    pub notice: Option<String>,
    /// Items per primary flag kind, in `FLAG_KINDS` order.
    pub flag_counts: [usize; FLAG_KINDS.len()],
    /// For each item, the items it looks the same as but is annotated differently from
    /// (`audit.lookalikes`); empty for most.
    pub lookalikes: Vec<Vec<usize>>,
    pub elapsed: Duration,
    /// The binary step's table and, per item, whether its keep rule keeps it (empty without
    /// a binary step).
    pub binary: Option<BinaryTable>,
    pub kept: Vec<bool>,
    /// The last `queue_stats` answer and its cut: the filter column asks every frame, and a
    /// pass over a million probabilities is not free.
    queue_cache: std::sync::Mutex<Option<(u64, Option<QueueStats>)>>,
    /// The last few items' tournament replays: the detail panel shows one every frame, and
    /// at a thousand classes a replay is 999 matches.
    trace_cache: std::sync::Mutex<Vec<(TraceKey, Arc<OnceLock<Trace>>)>>,
}

/// Up to this many classes an item's bracket is replayed within the frame.
const INLINE_TRACE_CLASSES: usize = 64;

/// Where an item's tournament replay stands.
pub enum TraceState {
    Pending,
    Unavailable,
    Ready(Arc<Vec<Match>>),
}

/// An item and a modality.
type TraceKey = (usize, Modality);
/// A replayed bracket, `None` when the run cannot replay it.
type Trace = Option<Arc<Vec<Match>>>;

/// The review queue at one cut: its size and the share of it expected to be wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct QueueStats {
    pub items: usize,
    pub expected_precision: Option<f64>,
}

impl Results {
    /// Item `i`'s tournament matches in modality `m` (see `engine_glue::trace`): replayed on
    /// a thread of its own the first time (at a thousand classes a replay is 999 matches, a
    /// frame's worth of work), `Pending` meanwhile; the last few items asked about are kept.
    pub fn trace(&self, ctx: &egui::Context, i: usize, m: Modality) -> TraceState {
        let mut cache = self.trace_cache.lock().unwrap_or_else(|e| e.into_inner());
        // A small bracket replays in microseconds: a thread would only make the path flicker
        // behind a spinner for a frame.
        if self.dataset.num_classes() <= INLINE_TRACE_CLASSES
            && !cache.iter().any(|(key, _)| *key == (i, m))
        {
            let slot = Arc::new(OnceLock::new());
            let _ = slot.set(
                crate::app::engine_glue::trace(&self.dataset, &self.classification, i, m)
                    .map(Arc::new),
            );
            if cache.len() >= 4 {
                cache.remove(0);
            }
            cache.push(((i, m), slot));
        }
        let slot = match cache.iter().find(|(key, _)| *key == (i, m)) {
            Some((_, slot)) => Arc::clone(slot),
            None => {
                let slot: Arc<OnceLock<Trace>> = Arc::new(OnceLock::new());
                let (ds, cls, done, ctx) = (
                    Arc::clone(&self.dataset),
                    Arc::clone(&self.classification),
                    Arc::clone(&slot),
                    ctx.clone(),
                );
                std::thread::spawn(move || {
                    let _ = done.set(crate::app::engine_glue::trace(&ds, &cls, i, m).map(Arc::new));
                    ctx.request_repaint();
                });
                if cache.len() >= 4 {
                    cache.remove(0);
                }
                cache.push(((i, m), Arc::clone(&slot)));
                slot
            }
        };
        match slot.get() {
            None => TraceState::Pending,
            Some(None) => TraceState::Unavailable,
            Some(Some(t)) => TraceState::Ready(Arc::clone(t)),
        }
    }

    /// The queue at `cut` (a probability), or `None` when the run has no calibration.
    pub fn queue_stats(&self, cut: f64) -> Option<QueueStats> {
        let mut cache = self.queue_cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((bits, stats)) = *cache
            && bits == cut.to_bits()
        {
            return stats;
        }
        let stats = self.count_queue(cut);
        *cache = Some((cut.to_bits(), stats));
        stats
    }

    fn count_queue(&self, cut: f64) -> Option<QueueStats> {
        let cal = self.audit.calibration.as_ref()?;
        let (mut items, mut mass) = (0usize, 0.0);
        for p in cal.posterior.iter().flatten() {
            if *p >= cut {
                items += 1;
                mass += p;
            }
        }
        Some(QueueStats {
            items,
            expected_precision: (items > 0).then(|| mass / items as f64),
        })
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn class_name(&self, c: Option<ClassId>) -> &str {
        match c {
            Some(c) => self.dataset.class_name(c),
            None => "—",
        }
    }

    /// The label sources this run can show, annotation first.
    pub fn sources(&self) -> Vec<LabelSource> {
        let mut v = vec![LabelSource::Annotation];
        for m in self.classification.modalities() {
            v.push(LabelSource::Baseline(m));
            v.push(LabelSource::Pairwise(m));
        }
        v
    }

    /// The scorer's reason for item `i`'s suspicion, in one line.
    pub fn evidence(&self, i: usize) -> Option<String> {
        let s = self.audit.scores.items.get(i)?.as_ref()?;
        Some(match &s.evidence {
            e @ Evidence::HeadToHead { .. } => {
                format!("head to head vs annotation: {}", e.describe())
            }
            // The detail panel lists the neighbours as items, so the line keeps the parts only.
            Evidence::Annotated { parts, .. } => parts
                .iter()
                .map(|(n, v)| format!("{n} {v:+.4}"))
                .collect::<Vec<_>>()
                .join(", "),
        })
    }
}

/// Builds the per-item facts from the engine's audit. Runs on the worker thread.
pub fn build(
    generation: u64,
    dataset: Arc<Dataset>,
    classification: Arc<Classification>,
    audit: Audit,
    elapsed: Duration,
) -> Results {
    let n = dataset.len();
    let rows = (0..n)
        .map(|i| {
            let mut labels = [[None; 2]; 2];
            for l in &audit.modalities {
                labels[slot(l.modality)] = [l.baseline_at(i), l.pairwise_at(i)];
            }
            let score = audit.scores.items[i].as_ref();
            Row {
                annotation: audit.annotations[i],
                labels,
                flag: audit.kinds[i],
                suspicion: score.map(|s| s.score),
                challenger: score.map(|s| s.challenger),
            }
        })
        .collect();
    let haystack = dataset
        .items
        .iter()
        .map(|it| format!("{} {}", it.id, it.description).to_lowercase())
        .collect();
    let has_images = dataset.items.iter().any(|it| it.image.is_some());
    let notice = std::fs::read_to_string(dataset.root.join("NOTICE.txt"))
        .ok()
        .map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|t| !t.is_empty());
    let id_rank = ranks(
        &dataset
            .items
            .iter()
            .map(|it| it.id.as_str())
            .collect::<Vec<_>>(),
    );
    let description_rank = ranks(
        &dataset
            .items
            .iter()
            .map(|it| it.description.as_str())
            .collect::<Vec<_>>(),
    );
    let metrics = MetricsReport::compute(&dataset, &classification);
    let mut flag_counts = [0; FLAG_KINDS.len()];
    for &kind in &audit.kinds {
        if let Some(k) = FLAG_KINDS.iter().position(|&f| f == kind) {
            flag_counts[k] += 1;
        }
    }
    let mut lookalikes = vec![Vec::new(); audit.len()];
    for p in &audit.lookalikes {
        lookalikes[p.a].push(p.b);
        lookalikes[p.b].push(p.a);
    }
    let binary = classification
        .one_vs_rest
        .as_ref()
        .map(|o| BinaryTable::compute(&dataset, o));
    let kept = classification
        .one_vs_rest
        .as_ref()
        .map_or_else(Vec::new, |o| (0..n).map(|i| o.keeps(i, o.keep)).collect());
    Results {
        generation,
        dataset,
        classification,
        audit,
        metrics,
        rows,
        id_rank,
        description_rank,
        haystack,
        has_images,
        notice,
        flag_counts,
        lookalikes,
        elapsed,
        binary,
        kept,
        queue_cache: std::sync::Mutex::new(None),
        trace_cache: std::sync::Mutex::new(Vec::new()),
    }
}

/// Dense ranks of `values` in byte order.
fn ranks(values: &[&str]) -> Vec<u32> {
    let mut idx: Vec<u32> = (0..values.len() as u32).collect();
    idx.sort_unstable_by(|&a, &b| values[a as usize].cmp(values[b as usize]));
    let mut rank = vec![0u32; values.len()];
    let mut r = 0;
    for (pos, &i) in idx.iter().enumerate() {
        if pos > 0 && values[i as usize] != values[idx[pos - 1] as usize] {
            r += 1;
        }
        rank[i as usize] = r;
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_are_dense_and_ordered() {
        assert_eq!(ranks(&["b", "a", "c", "a"]), vec![1, 0, 2, 0]);
        assert_eq!(ranks(&[]), Vec::<u32>::new());
    }
}
