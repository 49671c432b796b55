//! The files a `classify` run writes (schemas in `docs/output-files.md`), each written
//! atomically: a temporary file in the same folder, flushed and fsynced, then renamed over
//! the target, so a reader never sees half a file and a crash never leaves one.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::audit::{Audit, Scorer};
use crate::metrics::MetricsReport;
use crate::selection::PairRecord;
use crate::{ClassId, Classification, Dataset, Modality, Monitor, Params, Stage};

/// The four files of a run, in the order `write_all` writes them.
pub const FILES: [&str; 4] = [
    "predictions.csv",
    "flagged.csv",
    "pairs.json",
    "metrics.json",
];

/// A file that could not be written: one sentence with the path and the cause.
#[derive(Debug, thiserror::Error)]
#[error("could not write {}: {source}", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// Write `path` through `fill` atomically (temp file in the same folder, fsync, rename).
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut BufWriter<&File>) -> io::Result<()>,
) -> Result<(), WriteError> {
    let err = |source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path.file_name().ok_or_else(|| {
        err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ))
    })?;
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let file = File::create(&tmp)?;
        let mut w = BufWriter::with_capacity(1 << 20, &file);
        fill(&mut w)?;
        w.flush()?;
        drop(w);
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_file(&tmp);
        return Err(err(e));
    }
    // Make the rename itself durable; not every platform can open a directory, and a failure
    // here loses nothing that was written, so it is best effort.
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

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
    monitor.begin(Stage::Write, None, FILES.len() as u64);
    write_predictions(&dir.join(FILES[0]), ds, audit)?;
    monitor.advance(1);
    write_flagged(&dir.join(FILES[1]), ds, audit)?;
    monitor.advance(1);
    write_pairs(&dir.join(FILES[2]), ds, cls)?;
    monitor.advance(1);
    write_metrics(&dir.join(FILES[3]), ds, cls, audit, metrics, run)?;
    monitor.advance(1);
    Ok(())
}

fn name(ds: &Dataset, c: Option<ClassId>) -> &str {
    c.map_or("", |c| ds.class_name(c))
}

fn fmt_f64(buf: &mut String, v: f64) -> &str {
    use std::fmt::Write as _;
    buf.clear();
    let _ = write!(buf, "{v:.6}");
    buf
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
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(PREDICTIONS_HEADER)?;
        let image = audit.labels(Modality::Image);
        let text = audit.labels(Modality::Text);
        let mut nums: [String; 5] = Default::default();
        let mut flags = String::new();
        for i in 0..audit.len() {
            flags.clear();
            for (k, n) in audit.flags[i].names().into_iter().enumerate() {
                if k > 0 {
                    flags.push(';');
                }
                flags.push_str(n);
            }
            let score = audit.scores.items[i].as_ref();
            let [s, ib, ip, tb, tp] = &mut nums;
            let opt = |buf: &mut String, v: Option<f64>| match v {
                Some(v) => fmt_f64(buf, v).to_string(),
                None => String::new(),
            };
            let suspicion = opt(s, score.map(|s| s.score));
            let ibm = opt(ib, image.map(|l| l.baseline_margin[i]));
            let ipm = opt(ip, image.map(|l| l.pairwise_margin[i]));
            let tbm = opt(tb, text.map(|l| l.baseline_margin[i]));
            let tpm = opt(tp, text.map(|l| l.pairwise_margin[i]));
            csv.write_record([
                ds.items[i].id.as_str(),
                name(ds, audit.annotations[i]),
                name(ds, image.map(|l| l.baseline[i])),
                name(ds, image.map(|l| l.pairwise[i])),
                name(ds, text.map(|l| l.baseline[i])),
                name(ds, text.map(|l| l.pairwise[i])),
                &flags,
                &suspicion,
                audit.kinds[i].name(),
                name(ds, score.map(|s| s.challenger)),
                &ibm,
                &ipm,
                &tbm,
                &tpm,
            ])?;
        }
        csv.flush()?;
        Ok(())
    })
}

/// The header of `flagged.csv`.
pub const FLAGGED_HEADER: [&str; 11] = [
    "rank",
    "row",
    "id",
    "annotation",
    "flag",
    "suspicion",
    "challenger",
    "image_pairwise",
    "text_pairwise",
    "flags",
    "evidence",
];

/// The flagged items, most suspicious first.
pub fn write_flagged(path: &Path, ds: &Dataset, audit: &Audit) -> Result<(), WriteError> {
    write_atomic(path, |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(FLAGGED_HEADER)?;
        let image = audit.labels(Modality::Image);
        let text = audit.labels(Modality::Text);
        let mut buf = String::new();
        for (rank, i) in audit.flagged_ranking().into_iter().enumerate() {
            let score = audit.scores.items[i].as_ref();
            let suspicion = match score {
                Some(s) => fmt_f64(&mut buf, s.score).to_string(),
                None => String::new(),
            };
            csv.write_record([
                (rank + 1).to_string().as_str(),
                i.to_string().as_str(),
                ds.items[i].id.as_str(),
                name(ds, audit.annotations[i]),
                audit.kinds[i].name(),
                &suspicion,
                name(ds, score.map(|s| s.challenger)),
                name(ds, image.map(|l| l.pairwise[i])),
                name(ds, text.map(|l| l.pairwise[i])),
                &audit.flags[i].names().join(";"),
                &score.map(|s| s.evidence.describe()).unwrap_or_default(),
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
    write_json(path, &file)
}

#[derive(Serialize)]
struct MetricsFile<'a> {
    tool: String,
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
    let file = MetricsFile {
        tool: format!("pairwise-audit {}", env!("CARGO_PKG_VERSION")),
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
    write_atomic(path, |w| {
        serde_json::to_writer_pretty(&mut *w, value).map_err(io::Error::other)?;
        w.write_all(b"\n")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_replaces_and_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        write_atomic(&p, |w| w.write_all(b"one")).unwrap();
        write_atomic(&p, |w| w.write_all(b"two")).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.txt");
        write_atomic(&p, |w| w.write_all(b"old")).unwrap();
        let e = write_atomic(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(e.to_string().contains("x.txt") && e.to_string().contains("disk full"));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_missing_folder_is_a_write_error() {
        let e = write_atomic(Path::new("/nonexistent-dir-xyz/x.txt"), |_| Ok(())).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("could not write /nonexistent-dir-xyz/x.txt")
        );
    }
}
