//! How well a suspicion score finds wrong annotations: inject label flips (or read a truth
//! file), run scorers, and measure the ranking against the known errors.
//!
//! Metric definitions follow scikit-learn where it has one: AUROC is `roc_auc_score` (tied
//! scores count one half, i.e. the mid-rank Mann–Whitney statistic) and average precision is
//! `average_precision_score` (precision at each distinct score threshold, weighted by the
//! recall gained there; no interpolation). Precision and recall at k take the expected value
//! over the order of tied items: when a group of equal scores straddles position k, it
//! contributes its share of positives pro rata.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::audit::estimate::{Calibration, DEFAULT_CUT, reference_flips, split_pass};
use crate::scorers::{self, Inputs, ScoreError, ScorerKind, ScorerParams, class_sums};
use crate::{ClassId, Dataset, Modality};

/// Area under the ROC curve of `score` for the `positive` items; `None` unless both classes
/// occur.
pub fn auroc(score: &[f64], positive: &[bool]) -> Option<f64> {
    let p = positive.iter().filter(|&&b| b).count();
    let q = positive.len() - p;
    if p == 0 || q == 0 {
        return None;
    }
    let ranks = mid_ranks(score);
    let rank_sum: f64 = ranks
        .iter()
        .zip(positive)
        .filter(|(_, b)| **b)
        .map(|(r, _)| r)
        .sum();
    Some((rank_sum - (p * (p + 1)) as f64 / 2.0) / (p as f64 * q as f64))
}

/// 1-based ranks in increasing score, ties sharing their mean rank.
fn mid_ranks(score: &[f64]) -> Vec<f64> {
    let order = ascending(score);
    let mut ranks = vec![0.0; score.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && score[order[j + 1]] == score[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        for &o in &order[i..=j] {
            ranks[o] = mid;
        }
        i = j + 1;
    }
    ranks
}

fn ascending(score: &[f64]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..score.len()).collect();
    order.sort_by(|&a, &b| score[a].total_cmp(&score[b]).then(a.cmp(&b)));
    order
}

/// Groups of tied scores, highest first, as (number of items, number of positives).
fn descending_groups(score: &[f64], positive: &[bool]) -> Vec<(usize, usize)> {
    let mut order = ascending(score);
    order.reverse();
    let mut groups = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        let mut pos = 0;
        while j < order.len() && score[order[j]] == score[order[i]] {
            pos += positive[order[j]] as usize;
            j += 1;
        }
        groups.push((j - i, pos));
        i = j;
    }
    groups
}

/// scikit-learn's average precision; `None` without positives.
pub fn average_precision(score: &[f64], positive: &[bool]) -> Option<f64> {
    let total_pos = positive.iter().filter(|&&b| b).count();
    if total_pos == 0 {
        return None;
    }
    let (mut seen, mut tp, mut ap) = (0usize, 0usize, 0.0);
    for (count, pos) in descending_groups(score, positive) {
        seen += count;
        tp += pos;
        ap += (pos as f64 / total_pos as f64) * (tp as f64 / seen as f64);
    }
    Some(ap)
}

/// Precision and recall of the top `k` (ties at the cut taken pro rata); `None` when `k = 0`
/// or there are no positives.
pub fn precision_recall_at_k(score: &[f64], positive: &[bool], k: usize) -> Option<(f64, f64)> {
    let total_pos = positive.iter().filter(|&&b| b).count();
    if k == 0 || total_pos == 0 {
        return None;
    }
    let k = k.min(score.len());
    let (mut taken, mut tp) = (0usize, 0.0);
    for (count, pos) in descending_groups(score, positive) {
        if taken + count <= k {
            taken += count;
            tp += pos as f64;
        } else {
            tp += pos as f64 * (k - taken) as f64 / count as f64;
            break;
        }
    }
    Some((tp / k as f64, tp / total_pos as f64))
}

/// Precision and recall of a flagged set; precision is `None` when nothing is flagged.
pub fn precision_recall_flagged(flagged: &[bool], positive: &[bool]) -> (Option<f64>, Option<f64>) {
    let nf = flagged.iter().filter(|&&b| b).count();
    let np = positive.iter().filter(|&&b| b).count();
    let tp = flagged
        .iter()
        .zip(positive)
        .filter(|(f, p)| **f && **p)
        .count() as f64;
    (
        (nf > 0).then(|| tp / nf as f64),
        (np > 0).then(|| tp / np as f64),
    )
}

/// Where injected flips point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlipMode {
    /// To one of the other classes, uniformly.
    Uniform,
    /// To the class most similar to the annotated one (by annotated-prototype cosine,
    /// averaged over modalities): the mistakes a hurried annotator makes.
    Confusable,
}

impl FlipMode {
    pub fn parse(s: &str) -> Option<FlipMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "uniform" => Some(FlipMode::Uniform),
            "confusable" => Some(FlipMode::Confusable),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            FlipMode::Uniform => "uniform",
            FlipMode::Confusable => "confusable",
        }
    }
}

/// Annotations after injection and which items were flipped.
#[derive(Clone, Debug, PartialEq)]
pub struct Flipped {
    pub labels: Vec<Option<ClassId>>,
    pub flipped: Vec<bool>,
}

/// Flip exactly `round(fraction × annotated items)` annotations, chosen uniformly without
/// replacement; deterministic per seed. `similarity` (C × C) is needed for `Confusable`.
pub fn inject_flips(
    labels: &[Option<ClassId>],
    num_classes: usize,
    fraction: f64,
    mode: FlipMode,
    similarity: Option<&ndarray::Array2<f64>>,
    seed: u64,
) -> Result<Flipped, EvalError> {
    if !(0.0..=1.0).contains(&fraction) {
        return Err(EvalError::Fraction(fraction));
    }
    if num_classes < 2 {
        return Err(EvalError::Classes(num_classes));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut annotated: Vec<usize> = (0..labels.len()).filter(|&i| labels[i].is_some()).collect();
    let count = (annotated.len() as f64 * fraction).round() as usize;
    // Partial Fisher–Yates: the first `count` positions become a uniform sample.
    for j in 0..count {
        let r = rng.random_range(j..annotated.len());
        annotated.swap(j, r);
    }
    let mut out = labels.to_vec();
    let mut flipped = vec![false; labels.len()];
    for &i in &annotated[..count] {
        let y = labels[i].expect("chosen among annotated items");
        let to = match mode {
            FlipMode::Uniform => {
                let r = rng.random_range(0..num_classes - 1);
                if r >= y { r + 1 } else { r }
            }
            FlipMode::Confusable => {
                let sim = similarity.expect("confusable flips need a class similarity");
                (0..num_classes)
                    .filter(|&c| c != y)
                    .fold(None, |best: Option<usize>, c| match best {
                        Some(b) if sim[[y, b]] >= sim[[y, c]] => Some(b),
                        _ => Some(c),
                    })
                    .expect("at least two classes")
            }
        };
        out[i] = Some(to);
        flipped[i] = true;
    }
    Ok(Flipped {
        labels: out,
        flipped,
    })
}

/// Cosine between annotated class prototypes, averaged over the modalities.
pub fn class_similarity(inputs: &Inputs, labels: &[Option<ClassId>]) -> ndarray::Array2<f64> {
    let c = inputs.num_classes;
    let mut sim = ndarray::Array2::<f64>::zeros((c, c));
    for (_, x) in &inputs.views {
        let (mut sums, _) = class_sums(x.rows(), labels, None, c);
        for mut r in sums.rows_mut() {
            let norm = r.dot(&r).sqrt();
            if norm > 0.0 {
                r.mapv_inplace(|v| v / norm);
            }
        }
        sim += &sums.dot(&sums.t());
    }
    sim / inputs.views.len().max(1) as f64
}

/// Read `truth.csv` (`id,label`, the clean labels) beside a catalogue, if present.
pub fn read_truth(ds: &Dataset) -> Result<Option<Vec<Option<ClassId>>>, EvalError> {
    let path = ds.root.join("truth.csv");
    if !path.exists() {
        return Ok(None);
    }
    read_truth_file(ds, &path).map(Some)
}

fn read_truth_file(ds: &Dataset, path: &Path) -> Result<Vec<Option<ClassId>>, EvalError> {
    let bad = |m: String| EvalError::Truth(format!("{}: {m}", path.display()));
    let mut rdr = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let headers = rdr.headers().map_err(|e| bad(e.to_string()))?.clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim_start_matches('\u{feff}') == name)
    };
    let (Some(id_col), Some(label_col)) = (col("id"), col("label")) else {
        return Err(bad(format!(
            "expected header `id,label`, found `{}`",
            headers.iter().collect::<Vec<_>>().join(",")
        )));
    };
    let index: HashMap<&str, usize> = ds
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.as_str(), i))
        .collect();
    let mut truth = vec![None; ds.len()];
    for (row, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| bad(e.to_string()))?;
        let line = row + 2;
        let id = rec.get(id_col).unwrap_or("");
        let label = rec.get(label_col).unwrap_or("");
        let &i = index
            .get(id)
            .ok_or_else(|| bad(format!("row {line}: id `{id}` is not in items.csv")))?;
        if label.is_empty() {
            continue;
        }
        let c = ds.class_index(label).ok_or_else(|| {
            bad(format!(
                "row {line}: label `{label}` is not a class in classes.csv"
            ))
        })?;
        truth[i] = Some(c);
    }
    Ok(truth)
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("the flip fraction must lie between 0 and 1, found {0}")]
    Fraction(f64),
    #[error("flipping labels needs at least 2 classes, found {0}")]
    Classes(usize),
    #[error("{0}")]
    Truth(String),
    #[error("the catalogue has no item whose annotation differs from truth.csv and none to flip")]
    NoErrors,
    #[error("unknown scorer `{0}`; available: {1}")]
    UnknownScorer(String, String),
    #[error("classifying the catalogue for the `{0}` scorer failed: {1}")]
    Classify(String, String),
    #[error(transparent)]
    Score(#[from] ScoreError),
}

/// Where the known errors come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ErrorSource {
    Injected {
        fraction: f64,
        mode: FlipMode,
    },
    /// The catalogue's annotations against its `truth.csv`.
    Truth,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    pub source: ErrorSource,
    /// Seeds `first_seed .. first_seed + seeds` (one run for a truth file).
    pub seeds: u64,
    pub first_seed: u64,
    /// Scorer names: any of `ScorerKind`, or any scorer of the audit registry (those that
    /// need the zero-shot classification get one, computed once).
    pub scorers: Vec<String>,
    pub params: ScorerParams,
    /// Empty: every modality present.
    pub modalities: Vec<Modality>,
}

impl Default for EvalConfig {
    fn default() -> EvalConfig {
        EvalConfig {
            source: ErrorSource::Injected {
                fraction: 0.1,
                mode: FlipMode::Uniform,
            },
            seeds: 5,
            first_seed: 0,
            scorers: ScorerKind::ALL
                .iter()
                .map(|k| k.name().to_string())
                .collect(),
            params: ScorerParams::default(),
            modalities: Vec::new(),
        }
    }
}

/// One scorer on one run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunMetrics {
    pub seed: u64,
    pub errors: usize,
    pub auroc: Option<f64>,
    pub average_precision: Option<f64>,
    pub precision_at_k: Option<f64>,
    pub recall_at_k: Option<f64>,
    pub flagged: usize,
    pub precision_flagged: Option<f64>,
    pub recall_flagged: Option<f64>,
    /// The training-free estimate of the error count (`audit::estimate`) from this score.
    pub estimated_errors: Option<f64>,
    /// The calibrated review queue: its size and its precision, recall and F1 against the
    /// known errors.
    pub queued: usize,
    /// What the calibration expects the queue's precision to be (to set beside the measured).
    pub expected_precision_queue: Option<f64>,
    pub precision_queue: Option<f64>,
    pub recall_queue: Option<f64>,
    pub f1_queue: Option<f64>,
    pub seconds: f64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ScorerReport {
    pub scorer: String,
    pub runs: Vec<RunMetrics>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub items: usize,
    pub classes: usize,
    pub modalities: Vec<Modality>,
    pub source: ErrorSource,
    pub scorers: Vec<ScorerReport>,
}

/// How one named scorer is run.
enum Method {
    Annotated(ScorerKind),
    /// A scorer of the audit registry that reads the zero-shot classification.
    Audit(Box<dyn crate::scorers::Scorer>),
}

impl Method {
    fn resolve(name: &str) -> Result<Method, EvalError> {
        if let Some(kind) = ScorerKind::parse(name) {
            return Ok(Method::Annotated(kind));
        }
        crate::scorers::scorer_by_name(name)
            .map(Method::Audit)
            .ok_or_else(|| {
                EvalError::UnknownScorer(name.to_string(), available_scorers().join(", "))
            })
    }
}

/// Every scorer name `evaluate` accepts.
pub fn available_scorers() -> Vec<String> {
    let mut names: Vec<String> = crate::scorers::scorer_names()
        .into_iter()
        .map(String::from)
        .collect();
    for k in ScorerKind::ALL {
        if !names.iter().any(|n| n == k.name()) {
            names.push(k.name().to_string());
        }
    }
    names
}

/// Mean and sample standard deviation of the values present (`None` if none are).
pub fn mean_sd(values: impl IntoIterator<Item = Option<f64>>) -> Option<(f64, f64)> {
    let v: Vec<f64> = values.into_iter().flatten().collect();
    if v.is_empty() {
        return None;
    }
    let m = v.iter().sum::<f64>() / v.len() as f64;
    let sd = if v.len() > 1 {
        (v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (v.len() - 1) as f64).sqrt()
    } else {
        0.0
    };
    Some((m, sd))
}

/// Run the evaluation; `on_run` hears about each finished (scorer, seed) for progress output.
pub fn evaluate(
    ds: &Dataset,
    config: &EvalConfig,
    mut on_run: impl FnMut(&str, &RunMetrics),
) -> Result<EvalReport, EvalError> {
    let inputs = Inputs::from_dataset(ds, &config.modalities);
    let annotations = ds.annotations();
    scorers::validate(&inputs, &annotations)?;
    let runs: Vec<(u64, Vec<Option<ClassId>>, Vec<bool>)> = match &config.source {
        ErrorSource::Truth => {
            let truth = read_truth(ds)?.ok_or_else(|| {
                EvalError::Truth(format!(
                    "{}: no truth.csv in the catalogue",
                    ds.root.display()
                ))
            })?;
            let wrong: Vec<bool> = annotations
                .iter()
                .zip(&truth)
                .map(|(a, t)| a.is_some() && t.is_some() && a != t)
                .collect();
            vec![(0, annotations.clone(), wrong)]
        }
        ErrorSource::Injected { fraction, mode } => {
            // A catalogue that knows its errors (truth.csv) is cleaned first, so that the
            // injected flips are the only errors and its own ones don't count as clean items.
            let base: Vec<Option<ClassId>> = match read_truth(ds)? {
                Some(truth) => annotations
                    .iter()
                    .zip(&truth)
                    .map(|(a, t)| if a.is_some() { t.or(*a) } else { None })
                    .collect(),
                None => annotations.clone(),
            };
            let sim = (*mode == FlipMode::Confusable).then(|| class_similarity(&inputs, &base));
            (config.first_seed..config.first_seed + config.seeds.max(1))
                .map(|seed| {
                    let f = inject_flips(
                        &base,
                        inputs.num_classes,
                        *fraction,
                        *mode,
                        sim.as_ref(),
                        seed,
                    )?;
                    Ok((seed, f.labels, f.flipped))
                })
                .collect::<Result<_, EvalError>>()?
        }
    };
    if runs.iter().all(|(_, _, wrong)| !wrong.iter().any(|&w| w)) {
        return Err(EvalError::NoErrors);
    }
    let methods: Vec<Method> = config
        .scorers
        .iter()
        .map(|name| Method::resolve(name))
        .collect::<Result<_, _>>()?;
    // The zero-shot classification does not depend on the annotations: one for all runs.
    let classification = if methods.iter().any(|m| matches!(m, Method::Audit(_))) {
        let params = crate::Params {
            modalities: inputs.views.iter().map(|(m, _)| *m).collect(),
            ..crate::Params::default()
        };
        let name = config
            .scorers
            .iter()
            .find(|n| ScorerKind::parse(n).is_none())
            .cloned()
            .unwrap_or_default();
        Some(
            crate::classify(ds, &params, &crate::Monitor::new())
                .map_err(|e| EvalError::Classify(name, e.to_string()))?,
        )
    } else {
        None
    };
    let mut reports: Vec<ScorerReport> = config
        .scorers
        .iter()
        .map(|s| ScorerReport {
            scorer: s.clone(),
            runs: Vec::new(),
        })
        .collect();
    for (seed, labels, wrong) in &runs {
        // Only annotated items can be wrong; unannotated ones are left out of every metric.
        let keep: Vec<usize> = (0..labels.len()).filter(|&i| labels[i].is_some()).collect();
        let positive: Vec<bool> = keep.iter().map(|&i| wrong[i]).collect();
        let errors = positive.iter().filter(|&&b| b).count();
        for (report, method) in reports.iter_mut().zip(&methods) {
            let start = Instant::now();
            let mut reference: (Vec<f64>, Vec<f64>) = (Vec::new(), Vec::new());
            let (score, flagged): (Vec<f64>, Vec<bool>) = match method {
                Method::Annotated(kind) => {
                    let s = scorers::score(*kind, &inputs, labels, &config.params)?;
                    if let Some(f) = &reference_flips(labels, inputs.num_classes) {
                        let again = scorers::score(*kind, &inputs, &f.labels, &config.params)?;
                        reference = split_pass(&f.flipped, |i| Some(again.score[i]));
                    }
                    keep.iter().map(|&i| (s.score[i], s.flagged(i))).unzip()
                }
                Method::Audit(scorer) => {
                    let cls = classification.as_ref().expect("classified above");
                    let monitor = crate::Monitor::new();
                    let set = scorer
                        .score(&crate::scorers::ScoreInput {
                            ds,
                            cls,
                            annotations: labels,
                            monitor: &monitor,
                        })
                        .map_err(ScoreError::from)?;
                    if let Some(f) = &reference_flips(labels, inputs.num_classes) {
                        let again = scorer
                            .score(&crate::scorers::ScoreInput {
                                ds,
                                cls,
                                annotations: &f.labels,
                                monitor: &monitor,
                            })
                            .map_err(ScoreError::from)?;
                        reference = split_pass(&f.flipped, |i| again.score(i));
                    }
                    // A margin-type score: positive means the challenger wins.
                    keep.iter()
                        .map(|&i| {
                            set.score(i)
                                .map_or((f64::NEG_INFINITY, false), |v| (v, v > 0.0))
                        })
                        .unzip()
                }
            };
            let seconds = start.elapsed().as_secs_f64();
            let at_k = precision_recall_at_k(&score, &positive, errors);
            let (pf, rf) = precision_recall_flagged(&flagged, &positive);
            let finite: Vec<Option<f64>> =
                score.iter().map(|&v| v.is_finite().then_some(v)).collect();
            let none = vec![None; finite.len()];
            let calibration =
                Calibration::fit(&finite, &reference.0, &reference.1, &none, &none, 0);
            let mut in_queue = vec![false; finite.len()];
            let mut expected_precision_queue = None;
            if let Some(c) = &calibration {
                let q = c.queue(DEFAULT_CUT);
                expected_precision_queue = q.expected_precision;
                for i in q.items {
                    in_queue[i] = true;
                }
            }
            let (pq, rq) = precision_recall_flagged(&in_queue, &positive);
            let f1 = match (pq, rq) {
                (Some(p), Some(r)) if p + r > 0.0 => Some(2.0 * p * r / (p + r)),
                (Some(_), Some(_)) => Some(0.0),
                _ => None,
            };
            let m = RunMetrics {
                seed: *seed,
                errors,
                auroc: auroc(&score, &positive),
                average_precision: average_precision(&score, &positive),
                precision_at_k: at_k.map(|p| p.0),
                recall_at_k: at_k.map(|p| p.1),
                flagged: flagged.iter().filter(|&&b| b).count(),
                precision_flagged: pf,
                recall_flagged: rf,
                estimated_errors: calibration.as_ref().map(|c| c.estimate.count),
                queued: in_queue.iter().filter(|&&b| b).count(),
                expected_precision_queue,
                precision_queue: pq,
                recall_queue: rq,
                f1_queue: f1,
                seconds,
            };
            on_run(&report.scorer, &m);
            report.runs.push(m);
        }
    }
    Ok(EvalReport {
        items: ds.len(),
        classes: ds.num_classes(),
        modalities: inputs.views.iter().map(|(m, _)| *m).collect(),
        source: config.source.clone(),
        scorers: reports,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auroc_counts_ties_as_half() {
        // Hand count: positives {0.8, 0.4}, negatives {0.4, 0.1}. Pairs: (0.8>0.4) 1,
        // (0.8>0.1) 1, (0.4=0.4) ½, (0.4>0.1) 1 → 3.5 / 4. scikit-learn gives 0.875.
        let s = [0.8, 0.4, 0.4, 0.1];
        let p = [true, true, false, false];
        assert!((auroc(&s, &p).unwrap() - 0.875).abs() < 1e-12);
        assert_eq!(auroc(&s, &[true; 4]), None);
    }

    #[test]
    fn average_precision_matches_scikit_learn_by_hand() {
        // scores 0.9(+) 0.8(−) 0.7(+) 0.6(−): AP = ½·1 + ½·(2/3) = 0.8333…
        let ap = average_precision(&[0.9, 0.8, 0.7, 0.6], &[true, false, true, false]).unwrap();
        assert!((ap - (0.5 + 1.0 / 3.0)).abs() < 1e-12);
        // A tie of one positive and one negative at the top forms one threshold:
        // precision ½ there (recall ½), then 2/3 with the second positive → ½·½ + ½·⅔.
        let ap = average_precision(&[0.9, 0.9, 0.5], &[true, false, true]).unwrap();
        assert!((ap - (0.25 + 1.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn precision_at_k_splits_a_straddling_tie() {
        // Top 2 of [0.9(+), 0.5(+), 0.5(−), 0.5(−)]: 1 + ⅓ expected positives.
        let (p, r) =
            precision_recall_at_k(&[0.9, 0.5, 0.5, 0.5], &[true, true, false, false], 2).unwrap();
        assert!((p - (4.0 / 3.0) / 2.0).abs() < 1e-12);
        assert!((r - (4.0 / 3.0) / 2.0).abs() < 1e-12);
        let (p, r) = precision_recall_at_k(&[0.1, 0.9, 0.3], &[false, true, true], 1).unwrap();
        assert_eq!((p, r), (1.0, 0.5));
    }

    #[test]
    fn flagged_precision_and_recall() {
        let (p, r) =
            precision_recall_flagged(&[true, true, false, false], &[true, false, true, false]);
        assert_eq!((p, r), (Some(0.5), Some(0.5)));
        assert_eq!(
            precision_recall_flagged(&[false; 2], &[true, false]).0,
            None
        );
    }

    #[test]
    fn flips_are_exact_in_number_reproducible_and_always_change_the_label() {
        let labels: Vec<Option<ClassId>> = (0..1000)
            .map(|i| if i % 10 == 9 { None } else { Some(i % 4) })
            .collect();
        let a = inject_flips(&labels, 4, 0.1, FlipMode::Uniform, None, 3).unwrap();
        let b = inject_flips(&labels, 4, 0.1, FlipMode::Uniform, None, 3).unwrap();
        let c = inject_flips(&labels, 4, 0.1, FlipMode::Uniform, None, 4).unwrap();
        assert_eq!(a, b);
        assert_ne!(a.flipped, c.flipped);
        assert_eq!(a.flipped.iter().filter(|&&f| f).count(), 90);
        for (i, label) in labels.iter().enumerate() {
            if a.flipped[i] {
                assert!(label.is_some() && a.labels[i] != *label && a.labels[i].unwrap() < 4);
            } else {
                assert_eq!(a.labels[i], *label);
            }
        }
        // Every other class is reachable.
        let targets: std::collections::HashSet<_> = (0..labels.len())
            .filter(|&i| a.flipped[i] && labels[i] == Some(0))
            .map(|i| a.labels[i])
            .collect();
        assert_eq!(targets.len(), 3);
    }

    #[test]
    fn confusable_flips_go_to_the_most_similar_class() {
        let sim = ndarray::array![[1.0, 0.2, 0.9], [0.2, 1.0, 0.5], [0.9, 0.5, 1.0]];
        let labels: Vec<Option<ClassId>> = (0..30).map(|i| Some(i % 3)).collect();
        let f = inject_flips(&labels, 3, 0.5, FlipMode::Confusable, Some(&sim), 1).unwrap();
        assert_eq!(f.flipped.iter().filter(|&&x| x).count(), 15);
        for i in (0..30).filter(|&i| f.flipped[i]) {
            let want = [2, 2, 0][labels[i].unwrap()];
            assert_eq!(f.labels[i], Some(want));
        }
        assert!(matches!(
            inject_flips(&labels, 3, 1.5, FlipMode::Uniform, None, 0),
            Err(EvalError::Fraction(_))
        ));
    }

    #[test]
    fn mean_sd_uses_the_sample_deviation() {
        let (m, sd) = mean_sd([Some(1.0), Some(3.0), None]).unwrap();
        assert_eq!(m, 2.0);
        assert!((sd - 2f64.sqrt()).abs() < 1e-12);
    }
}
