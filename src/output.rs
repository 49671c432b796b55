//! The files a `classify` run writes (schemas in `docs/output-files.md`), each written
//! atomically: a temporary file in the same folder, flushed and fsynced, then renamed over
//! the target, so a reader never sees half a file and a crash never leaves one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audit::{Audit, Flags};
use crate::metrics::MetricsReport;
use crate::one_vs_rest::{BinaryTable, DimSet, OneVsRest};
use crate::scorers::Scorer;
use crate::selection::PairRecord;
use crate::{ClassId, Classification, Dataset, Modality, Monitor, Params, Stage};

/// The files of a run, in the order `write_all` writes them.
pub const FILES: [&str; 5] = [
    "predictions.csv",
    "flagged.csv",
    "pairs.json",
    "metrics.json",
    "duplicates.csv",
];

/// Written beside `FILES` when the run has a binary step (`Params::one_vs_rest`).
pub const ONE_VS_REST_FILE: &str = "one_vs_rest.csv";

pub use crate::atomic_file::{WriteError, write_atomic};
use crate::atomic_file::{parent, replace_file, sync_dir};

/// What the run was, beyond its results: recorded in `metrics.json`.
#[derive(Clone, Debug, Serialize)]
pub struct RunInfo {
    /// The dataset folder as given.
    pub dataset: PathBuf,
    pub scorer: ScorerInfo,
    /// Seconds per stage in the order they ran (`load`, `image/baseline`, …, `write`).
    pub timings: Vec<Timing>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScorerInfo {
    pub name: &'static str,
    pub description: &'static str,
}

impl ScorerInfo {
    pub fn of(s: &dyn Scorer) -> ScorerInfo {
        ScorerInfo {
            name: s.name(),
            description: s.description(),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Timing {
    pub stage: String,
    pub seconds: f64,
}

/// Write the four files into `dir` (which must exist), reporting each on `monitor`.
/// The `write` timing is measured by the caller (it is recorded in `metrics.json` as far
/// as it is known when that file is written, i.e. without the write stage itself).
pub fn write_all(
    dir: &Path,
    ds: &Dataset,
    cls: &Classification,
    audit: &Audit,
    metrics: &MetricsReport,
    run: &RunInfo,
    monitor: &Monitor,
) -> Result<(), WriteError> {
    monitor.begin(
        Stage::Write,
        None,
        (FILES.len() + usize::from(cls.one_vs_rest.is_some())) as u64,
    );
    // The files are independent: formatting one overlaps with another's fsync.
    type Job<'a> = Box<dyn Fn() -> Result<(), WriteError> + Sync + 'a>;
    let mut jobs: Vec<Job> = vec![
        Box::new(|| predictions(&dir.join(FILES[0]), ds, audit)),
        Box::new(|| flagged(&dir.join(FILES[1]), ds, audit)),
        Box::new(|| pairs(&dir.join(FILES[2]), ds, cls)),
        Box::new(|| metrics_file(&dir.join(FILES[3]), ds, cls, audit, metrics, run)),
        Box::new(|| duplicates(&dir.join(FILES[4]), ds, audit)),
    ];
    match &cls.one_vs_rest {
        Some(ovr) => jobs.push(Box::new(|| {
            one_vs_rest(&dir.join(ONE_VS_REST_FILE), ds, ovr)
        })),
        // A run without the step must not leave an earlier run's file looking like its own.
        None => {
            let _ = std::fs::remove_file(dir.join(ONE_VS_REST_FILE));
        }
    }
    let results: Vec<Result<(), WriteError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .iter()
            .map(|job| {
                scope.spawn(|| {
                    let r = job();
                    monitor.advance(1);
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a writer thread panicked"))
            .collect()
    });
    sync_dir(dir);
    results.into_iter().collect()
}

fn name(ds: &Dataset, c: Option<ClassId>) -> &str {
    c.map_or("", |c| ds.class_name(c))
}

/// `v` with six decimals, as `{:.6}` would print it but through integer formatting: the
/// numeric CSV columns are most of a large run's write time. (A 7th decimal that is a
/// binary near-tie may round the other way.) An absent value is empty.
fn fixed6(buf: &mut String, v: Option<f64>) -> &str {
    use std::fmt::Write as _;
    buf.clear();
    match v {
        None => {}
        Some(v) if !v.is_finite() || v.abs() >= 9e12 => {
            let _ = write!(buf, "{v:.6}");
        }
        Some(v) => {
            let r = (v * 1e6).round() as i64;
            if r < 0 {
                buf.push('-');
            }
            let a = r.unsigned_abs();
            let _ = write!(buf, "{}.{:06}", a / 1_000_000, a % 1_000_000);
        }
    }
    buf
}

/// `;`-joined flag names for every possible flag set, indexed by its bits.
fn flag_strings() -> Vec<String> {
    (0..16u8).map(|b| Flags(b).names().join(";")).collect()
}

/// The header of `predictions.csv`.
pub const PREDICTIONS_HEADER: [&str; 14] = [
    "id",
    "annotation",
    "image_base",
    "image_pairwise",
    "text_base",
    "text_pairwise",
    "flags",
    "suspicion",
    "flag",
    "challenger",
    "image_base_margin",
    "image_pairwise_margin",
    "text_base_margin",
    "text_pairwise_margin",
];

/// One row per item in items.csv order.
pub fn write_predictions(path: &Path, ds: &Dataset, audit: &Audit) -> Result<(), WriteError> {
    predictions(path, ds, audit)?;
    sync_dir(parent(path));
    Ok(())
}

fn predictions(path: &Path, ds: &Dataset, audit: &Audit) -> Result<(), WriteError> {
    replace_file(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(PREDICTIONS_HEADER)?;
        let image = audit.labels(Modality::Image);
        let text = audit.labels(Modality::Text);
        let flags = flag_strings();
        let mut nums: [String; 5] = Default::default();
        for i in 0..audit.len() {
            let score = audit.scores.items[i].as_ref();
            let [s, ib, ip, tb, tp] = &mut nums;
            csv.write_record([
                ds.items[i].id.as_str(),
                name(ds, audit.annotations[i]),
                name(ds, image.and_then(|l| l.baseline_at(i))),
                name(ds, image.and_then(|l| l.pairwise_at(i))),
                name(ds, text.and_then(|l| l.baseline_at(i))),
                name(ds, text.and_then(|l| l.pairwise_at(i))),
                &flags[audit.flags[i].0 as usize],
                fixed6(s, score.map(|s| s.score)),
                audit.kinds[i].name(),
                name(ds, score.map(|s| s.challenger)),
                fixed6(ib, image.and_then(|l| l.baseline_margin_at(i))),
                fixed6(ip, image.and_then(|l| l.pairwise_margin_at(i))),
                fixed6(tb, text.and_then(|l| l.baseline_margin_at(i))),
                fixed6(tp, text.and_then(|l| l.pairwise_margin_at(i))),
            ])?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// The header of `flagged.csv`.
pub const FLAGGED_HEADER: [&str; 12] = [
    "rank",
    "row",
    "id",
    "annotation",
    "flag",
    "suspicion",
    "p_wrong",
    "challenger",
    "image_pairwise",
    "text_pairwise",
    "flags",
    "evidence",
];

/// The review queue (`Audit::queue`), most suspicious first.
pub fn write_flagged(path: &Path, ds: &Dataset, audit: &Audit) -> Result<(), WriteError> {
    flagged(path, ds, audit)?;
    sync_dir(parent(path));
    Ok(())
}

fn flagged(path: &Path, ds: &Dataset, audit: &Audit) -> Result<(), WriteError> {
    replace_file(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(FLAGGED_HEADER)?;
        let image = audit.labels(Modality::Image);
        let text = audit.labels(Modality::Text);
        let flags = flag_strings();
        let (mut buf, mut pbuf, mut evidence) = (String::new(), String::new(), String::new());
        for (rank, i) in audit.queue().into_iter().enumerate() {
            let score = audit.scores.items[i].as_ref();
            evidence.clear();
            if let Some(s) = score {
                evidence.push_str(&s.evidence.describe());
            }
            csv.write_record([
                (rank + 1).to_string().as_str(),
                i.to_string().as_str(),
                ds.items[i].id.as_str(),
                name(ds, audit.annotations[i]),
                audit.kinds[i].name(),
                fixed6(&mut buf, score.map(|s| s.score)),
                fixed6(&mut pbuf, audit.p_wrong(i)),
                name(ds, score.map(|s| s.challenger)),
                name(ds, image.and_then(|l| l.pairwise_at(i))),
                name(ds, text.and_then(|l| l.pairwise_at(i))),
                &flags[audit.flags[i].0 as usize],
                &evidence,
            ])?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// The header of `duplicates.csv`.
pub const DUPLICATES_HEADER: [&str; 6] = [
    "id_a",
    "id_b",
    "annotation_a",
    "annotation_b",
    "image_cosine",
    "text_cosine",
];

/// Look-alikes labelled differently (`audit::lookalikes`), the closest first.
const ONE_VS_REST_HEADER: [&str; 19] = [
    "id",
    "annotation",
    "kept",
    "image_class",
    "image_rest",
    "image_sub_class",
    "image_sub_rest",
    "image_decision",
    "image_sub_decision",
    "image_kept_side",
    "text_class",
    "text_rest",
    "text_sub_class",
    "text_sub_rest",
    "text_decision",
    "text_sub_decision",
    "text_kept_side",
    "agree",
    "agree_sub",
];

/// `class` / `rest` for a binary decision or side, empty for none.
fn side(class: Option<bool>) -> &'static str {
    match class {
        Some(true) => "class",
        Some(false) => "rest",
        None => "",
    }
}

/// Per item: whether the keep rule keeps it; per view the four cosines of the binary step, its
/// decision at full and sub-dimension, and which side (class / rest) it described, if any;
/// and whether the two views agree.
fn one_vs_rest(path: &Path, ds: &Dataset, ovr: &OneVsRest) -> Result<(), WriteError> {
    replace_file(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(ONE_VS_REST_HEADER)?;
        let mut nums: [String; 8] = Default::default();
        for i in 0..ds.len() {
            let mut record: Vec<&str> = Vec::with_capacity(ONE_VS_REST_HEADER.len());
            record.push(ds.items[i].id.as_str());
            record.push(name(ds, ds.items[i].label));
            record.push(if ovr.keeps(i, ovr.keep) { "1" } else { "0" });
            let [a, b, c, d, e, f, g, h] = &mut nums;
            for (m, bufs) in [
                (Modality::Image, [a, b, c, d]),
                (Modality::Text, [e, f, g, h]),
            ] {
                let v = ovr.get(m).filter(|v| v.has(i));
                let [b0, b1, b2, b3] = bufs;
                record.push(fixed6(b0, v.map(|v| v.full.class[i])));
                record.push(fixed6(b1, v.map(|v| v.full.rest[i])));
                record.push(fixed6(b2, v.map(|v| v.sub.class[i])));
                record.push(fixed6(b3, v.map(|v| v.sub.rest[i])));
                for set in DimSet::ALL {
                    record.push(side(v.and_then(|v| v.says_class(i, set))));
                }
                record.push(side(v.and_then(|v| v.kept_side(i))));
            }
            for set in DimSet::ALL {
                let says = |m| ovr.get(m).and_then(|v| v.says_class(i, set));
                record.push(match (says(Modality::Image), says(Modality::Text)) {
                    (Some(a), Some(b)) if a == b => "1",
                    (Some(_), Some(_)) => "0",
                    _ => "",
                });
            }
            csv.write_record(&record)?;
        }
        csv.flush()?;
        Ok(())
    })
}

fn duplicates(path: &Path, ds: &Dataset, audit: &Audit) -> Result<(), WriteError> {
    replace_file(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(DUPLICATES_HEADER)?;
        let (mut bi, mut bt) = (String::new(), String::new());
        for p in &audit.lookalikes {
            let cos = |m: Modality| p.cosines.iter().find(|c| c.0 == m).map(|c| f64::from(c.1));
            csv.write_record([
                ds.items[p.a].id.as_str(),
                ds.items[p.b].id.as_str(),
                name(ds, audit.annotations[p.a]),
                name(ds, audit.annotations[p.b]),
                fixed6(&mut bi, cos(Modality::Image)),
                fixed6(&mut bt, cos(Modality::Text)),
            ])?;
        }
        csv.flush()?;
        Ok(())
    })
}

#[derive(Serialize)]
struct PairsFile<'a> {
    classes: Vec<&'a str>,
    dim: usize,
    modalities: Vec<PairsOfModality<'a>>,
}

#[derive(Serialize)]
struct PairsOfModality<'a> {
    modality: Modality,
    floor: f64,
    pairs: Vec<NamedPair<'a>>,
}

#[derive(Serialize)]
struct NamedPair<'a> {
    names: [&'a str; 2],
    #[serde(flatten)]
    record: &'a PairRecord,
}

/// Every modality's per-pair selection records.
pub fn write_pairs(path: &Path, ds: &Dataset, cls: &Classification) -> Result<(), WriteError> {
    pairs(path, ds, cls)?;
    sync_dir(parent(path));
    Ok(())
}

fn pairs(path: &Path, ds: &Dataset, cls: &Classification) -> Result<(), WriteError> {
    let file = PairsFile {
        classes: ds.classes.iter().map(|c| c.name.as_str()).collect(),
        dim: ds.dim(),
        modalities: cls
            .modalities()
            .into_iter()
            .filter_map(|m| cls.get(m))
            .map(|r| PairsOfModality {
                modality: r.modality,
                floor: r.floor,
                pairs: r
                    .pairs
                    .iter()
                    .map(|p| NamedPair {
                        names: [ds.class_name(p.pair.a), ds.class_name(p.pair.b)],
                        record: p,
                    })
                    .collect(),
            })
            .collect(),
    };
    // Compact: d ratios per pair make a pretty-printed file mostly whitespace.
    replace_file(path, |w| {
        serde_json::to_writer(&mut *w, &file).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })
}

#[derive(Serialize)]
struct MetricsFile<'a> {
    tool: String,
    /// Expected number of wrong annotations (`audit::estimate`), then its 90% interval,
    /// the annotated × likely-true matrix and the queue beside it.
    estimated_errors: Option<f64>,
    estimated_errors_interval: Option<(f64, f64)>,
    /// Rows: annotated class; columns: likely true class; both in `dataset.classes` order.
    estimated_errors_matrix: Option<&'a [Vec<f64>]>,
    /// The annotated items that were scored, and how many injected flips measured how
    /// wrong annotations score.
    estimated_errors_scored: Option<usize>,
    estimated_errors_reference: Option<usize>,
    review_queue: Option<crate::audit::estimate::QueueSummary>,
    /// Pairs of items that look the same (cosine ≥ `look_alike_cosine` in every shared
    /// view) but are annotated differently: the rows of `duplicates.csv`.
    look_alikes: usize,
    look_alike_cosine: f32,
    /// The write-up's binary table, when the run had a binary step.
    #[serde(skip_serializing_if = "Option::is_none")]
    one_vs_rest: Option<BinaryTable>,
    dataset: DatasetInfo<'a>,
    metrics: &'a MetricsReport,
    flags: crate::audit::FlagCounts,
    scorer: &'a ScorerInfo,
    params: &'a Params,
    modalities: Vec<ModalityInfo<'a>>,
    timings: &'a [Timing],
}

#[derive(Serialize)]
struct DatasetInfo<'a> {
    path: &'a Path,
    items: usize,
    classes: Vec<&'a str>,
    dim: usize,
    modalities: Vec<Modality>,
    fingerprint: &'a str,
    missing_images: usize,
    warnings: &'a [String],
}

#[derive(Serialize)]
struct ModalityInfo<'a> {
    modality: Modality,
    floor: f64,
    permutations: &'a [Vec<usize>],
    fallback_pairs: usize,
    timings: Vec<Timing>,
}

/// The metrics table, flag counts, parameters, permutations and timings.
pub fn write_metrics(
    path: &Path,
    ds: &Dataset,
    cls: &Classification,
    audit: &Audit,
    metrics: &MetricsReport,
    run: &RunInfo,
) -> Result<(), WriteError> {
    metrics_file(path, ds, cls, audit, metrics, run)?;
    sync_dir(parent(path));
    Ok(())
}

fn metrics_file(
    path: &Path,
    ds: &Dataset,
    cls: &Classification,
    audit: &Audit,
    metrics: &MetricsReport,
    run: &RunInfo,
) -> Result<(), WriteError> {
    let estimate = audit.calibration.as_ref().map(|c| &c.estimate);
    let file = MetricsFile {
        tool: format!("pairwise-audit {}", env!("CARGO_PKG_VERSION")),
        estimated_errors: estimate.map(|e| e.count),
        estimated_errors_interval: estimate.map(|e| e.interval),
        estimated_errors_matrix: estimate.map(|e| e.matrix.as_slice()),
        estimated_errors_scored: estimate.map(|e| e.scored),
        estimated_errors_reference: estimate.map(|e| e.reference),
        review_queue: audit
            .calibration
            .as_ref()
            .map(|c| c.queue(crate::audit::estimate::DEFAULT_CUT).summary()),
        look_alikes: audit.lookalikes.len(),
        look_alike_cosine: crate::audit::lookalikes::SAME_COSINE,
        one_vs_rest: cls
            .one_vs_rest
            .as_ref()
            .map(|o| BinaryTable::compute(ds, o)),
        dataset: DatasetInfo {
            path: &run.dataset,
            items: ds.len(),
            classes: ds.classes.iter().map(|c| c.name.as_str()).collect(),
            dim: ds.dim(),
            modalities: ds.modalities(),
            fingerprint: &ds.fingerprint,
            missing_images: ds.missing_images,
            warnings: &ds.warnings,
        },
        metrics,
        flags: audit.counts(),
        scorer: &run.scorer,
        params: &cls.params,
        modalities: cls
            .modalities()
            .into_iter()
            .filter_map(|m| cls.get(m))
            .map(|r| ModalityInfo {
                modality: r.modality,
                floor: r.floor,
                permutations: &r.permutations,
                fallback_pairs: r.pairs.iter().filter(|p| p.fallback).count(),
                timings: r
                    .timings
                    .iter()
                    .map(|(s, t)| Timing {
                        stage: s.to_string(),
                        seconds: *t,
                    })
                    .collect(),
            })
            .collect(),
        timings: &run.timings,
    };
    write_json(path, &file)
}

fn write_json(path: &Path, value: &impl Serialize) -> Result<(), WriteError> {
    replace_file(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed6_matches_std_formatting() {
        let mut b = String::new();
        for v in [
            0.0,
            1.5,
            -0.25,
            0.123_456_7,
            12.000_000_4,
            -3.999_999_9,
            123456.789,
        ] {
            assert_eq!(fixed6(&mut b, Some(v)), format!("{v:.6}"), "{v}");
        }
        // A 7th decimal that is a binary near-tie may round the other way: at most one unit
        // of the last place apart.
        let v = 0.123_456_5;
        let got: f64 = fixed6(&mut b, Some(v)).parse().unwrap();
        assert!((got - v).abs() <= 1e-6);
        assert_eq!(fixed6(&mut b, None), "");
        assert_eq!(fixed6(&mut b, Some(f64::INFINITY)), "inf");
    }

    #[test]
    fn flag_strings_cover_every_combination() {
        let s = flag_strings();
        assert_eq!(s[0], "");
        assert_eq!(
            s[(Flags::IMAGE_TEXT_DISAGREE.0 | Flags::TEXT_NOT_ANNOTATION.0) as usize],
            "image_text_disagree;text_not_annotation"
        );
    }
}
