//! Annotation-aware suspicion scorers: training-free statistics of the annotated classes that
//! rank items by how likely their existing annotation is wrong (see `docs/scorers.md`).
//!
//! Every scorer is a plain function of the unit-normalised embeddings of each modality and the
//! annotations, and returns a [`Suspicion`]: one score per item (higher = more suspicious), the
//! class that challenges the annotation, and the evidence that put the item high (the
//! per-modality contributions, and for the neighbour vote the neighbours themselves).

pub mod ann;
pub mod combine;
pub mod head_to_head;
pub mod knn;
pub mod linalg;
pub mod pairwise_proto;
pub mod prototype;
pub mod registered;
pub mod scorer;
pub mod whitened;
pub mod zeroshot;

use ndarray::{Array2, ArrayView2, Axis, CowArray, Ix2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{Cancelled, ClassId, Dataset, Modality, Monitor};

pub use head_to_head::HeadToHead;
pub use scorer::{
    DEFAULT_SCORER, Evidence, ItemScore, ScoreInput, ScoreSet, Scorer, registry, scorer_by_name,
    scorer_names,
};

/// The scorers this module offers. `Combined` is the default ranking.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScorerKind {
    /// Baseline cosine to the strongest other class prompt minus cosine to the annotated
    /// class prompt; ignores the annotations of other items (the zero-shot reference).
    ZeroShot,
    /// Leave-one-out class prototypes (mean unit embedding per annotated class).
    Prototype,
    /// The write-up's pairwise decision against leave-one-out prototypes, on each pair's
    /// dimensions chosen by cross ratio from the annotated class distributions.
    PairwisePrototype,
    /// Leave-one-out prototypes compared in the metric of the pooled within-class covariance
    /// (shrunk towards a multiple of the identity).
    Whitened,
    /// Label vote of the k nearest neighbours by cosine (exact up to `knn_exact_max_items`
    /// items, else in a principal subspace through `ann`).
    Knn,
    /// Calibrated sum of `Whitened` and `Knn` over the modalities (see `combine`). The
    /// default ranking.
    Combined,
}

impl ScorerKind {
    pub const ALL: [ScorerKind; 6] = [
        ScorerKind::ZeroShot,
        ScorerKind::Prototype,
        ScorerKind::PairwisePrototype,
        ScorerKind::Whitened,
        ScorerKind::Knn,
        ScorerKind::Combined,
    ];

    /// The name used on the command line and in output files.
    pub fn name(self) -> &'static str {
        match self {
            ScorerKind::ZeroShot => "zero-shot",
            ScorerKind::Prototype => "prototype",
            ScorerKind::PairwisePrototype => "pairwise-prototype",
            ScorerKind::Whitened => "whitened",
            ScorerKind::Knn => "knn",
            ScorerKind::Combined => "combined",
        }
    }

    pub fn parse(s: &str) -> Option<ScorerKind> {
        let s = s.trim().to_ascii_lowercase();
        ScorerKind::ALL.into_iter().find(|k| k.name() == s)
    }

    /// One sentence for help texts and the app's tooltips.
    pub fn describe(self) -> &'static str {
        match self {
            ScorerKind::ZeroShot => {
                "cosine to the strongest other class prompt minus cosine to the annotated prompt"
            }
            ScorerKind::Prototype => {
                "cosine margin of the strongest other class prototype over the annotated class's \
                 leave-one-out prototype"
            }
            ScorerKind::PairwisePrototype => {
                "head-to-head margin against leave-one-out prototypes on each pair's \
                 cross-ratio dimensions"
            }
            ScorerKind::Whitened => {
                "squared Mahalanobis distance to the leave-one-out annotated prototype minus the \
                 distance to the nearest other prototype"
            }
            ScorerKind::Knn => "share of the k nearest neighbours annotated with another class",
            ScorerKind::Combined => "z-scored sum of the whitened and neighbour-vote scores",
        }
    }
}

impl std::fmt::Display for ScorerKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Knobs of the scorers; `Default` gives the documented, measured defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ScorerParams {
    /// Neighbours per item for the vote.
    pub knn_k: usize,
    /// Dimensions per class pair for `PairwisePrototype` (clamped to `d`).
    pub pair_dims: usize,
    /// Shrinkage of the pooled covariance towards `mean variance × I`, in `[0, 1]`.
    pub shrinkage: f64,
    /// Covariance estimated from at most this many items (an even stride through the data),
    /// to bound the cost at `max_cov_items · d²`.
    pub max_cov_items: usize,
    /// Leading covariance directions kept exactly in the whitened scorer's leave-one-out
    /// correction (the rest is treated as isotropic).
    pub metric_rank: usize,
    /// The neighbour search is exact (`n²·d`) up to this many items and approximate above
    /// (`ann`: an inverted file over the leading principal directions).
    pub knn_exact_max_items: usize,
    /// Principal directions the approximate search works in.
    pub knn_dims: usize,
    /// Cells the approximate search visits per item.
    pub knn_probe: usize,
    /// The approximate search looks for neighbours among at most this many reference items
    /// (an even stride through the catalogue).
    pub knn_reference_items: usize,
    /// Robust prototypes: after a first pass, this fraction of the most suspicious items is
    /// left out of every prototype and the scores are recomputed. 0 disables it.
    pub trim: f64,
}

impl Default for ScorerParams {
    fn default() -> ScorerParams {
        ScorerParams {
            knn_k: 20,
            pair_dims: 100,
            shrinkage: 0.1,
            max_cov_items: 10_000,
            metric_rank: 32,
            knn_exact_max_items: 5_000,
            knn_dims: 32,
            knn_probe: 8,
            knn_reference_items: 100_000,
            trim: 0.1,
        }
    }
}

/// What the scorers read: the embeddings of each modality present (as loaded, with their
/// inverse row norms), the unit class prompt embeddings, and the number of classes.
#[derive(Clone, Debug)]
pub struct Inputs<'a> {
    pub views: Vec<(Modality, View<'a>)>,
    pub class_embeddings: Array2<f32>,
    pub num_classes: usize,
}

impl<'a> Inputs<'a> {
    /// The requested modalities of `ds` (all present ones when `modalities` is empty),
    /// borrowed: no copy of the embeddings is made.
    pub fn from_dataset(ds: &'a Dataset, modalities: &[Modality]) -> Inputs<'a> {
        let views = ds
            .modalities()
            .into_iter()
            .filter(|m| modalities.is_empty() || modalities.contains(m))
            .filter_map(|m| ds.embeddings(m).map(|x| (m, View::borrowed(x.view()))))
            .collect();
        Inputs {
            views,
            class_embeddings: unit_rows(ds.class_embeddings.view()),
            num_classes: ds.num_classes(),
        }
    }

    pub fn len(&self) -> usize {
        self.views.first().map_or(0, |(_, x)| x.nrows())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One modality's embeddings as given (not normalised) and `1/‖x_i‖` per row (0 for a zero
/// row). Scorers work on unit rows through [`Rows`] without a normalised copy: at 50 000 ×
/// 768 × 2 modalities that copy alone would be 300 MB.
#[derive(Clone, Debug)]
pub struct View<'a> {
    pub data: CowArray<'a, f32, Ix2>,
    pub inv_norm: Vec<f32>,
}

impl<'a> View<'a> {
    pub fn borrowed(x: ArrayView2<'a, f32>) -> View<'a> {
        let inv_norm = inverse_norms(x);
        View {
            data: CowArray::from(x),
            inv_norm,
        }
    }

    pub fn owned(x: Array2<f32>) -> View<'static> {
        let inv_norm = inverse_norms(x.view());
        View {
            data: CowArray::from(x),
            inv_norm,
        }
    }

    pub fn rows(&self) -> Rows<'_> {
        Rows {
            raw: self.data.view(),
            inv_norm: &self.inv_norm,
        }
    }

    pub fn nrows(&self) -> usize {
        self.data.nrows()
    }
}

/// Raw rows and their inverse norms: row `i` of the unit matrix is `raw[i] · inv_norm[i]`.
#[derive(Clone, Copy, Debug)]
pub struct Rows<'a> {
    pub raw: ArrayView2<'a, f32>,
    pub inv_norm: &'a [f32],
}

impl Rows<'_> {
    pub fn nrows(&self) -> usize {
        self.raw.nrows()
    }

    pub fn ncols(&self) -> usize {
        self.raw.ncols()
    }

    /// `‖unit row i‖²`: 1, or 0 for a zero row.
    pub fn unit_sq_norm(&self, i: usize) -> f64 {
        if self.inv_norm[i] > 0.0 { 1.0 } else { 0.0 }
    }
}

fn inverse_norms(x: ArrayView2<f32>) -> Vec<f32> {
    x.axis_iter(Axis(0))
        .into_par_iter()
        .map(|row| {
            let norm = row
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 { (1.0 / norm) as f32 } else { 0.0 }
        })
        .collect()
}

/// Rows scaled to unit length; an all-zero row stays zero (cosine 0 with everything).
pub fn unit_rows(x: ArrayView2<f32>) -> Array2<f32> {
    let mut out = x.to_owned();
    out.axis_iter_mut(Axis(0))
        .into_par_iter()
        .for_each(|mut row| {
            let norm = row
                .iter()
                .map(|&v| (v as f64) * (v as f64))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                let inv = (1.0 / norm) as f32;
                row.mapv_inplace(|v| v * inv);
            }
        });
    out
}

/// A named per-item contribution to a score (e.g. `whitened/image`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Part {
    pub name: String,
    pub values: Vec<f64>,
}

/// The k nearest neighbours of every item in one modality, best first.
#[derive(Clone, Debug, PartialEq)]
pub struct Neighbours {
    pub modality: Modality,
    pub k: usize,
    /// `n × k` item indices.
    pub indices: Array2<u32>,
    /// `n × k` cosines, parallel to `indices` (from the approximate search: cosines in its
    /// principal subspace).
    pub similarities: Array2<f32>,
}

/// The output of one scorer.
#[derive(Clone, Debug)]
pub struct Suspicion {
    pub scorer: ScorerKind,
    /// One per item, higher = more likely wrong. Items without an annotation score 0 and have
    /// no challenger.
    pub score: Vec<f64>,
    /// The class that beats (or comes closest to beating) the annotation.
    pub challenger: Vec<Option<ClassId>>,
    /// Items scoring above this are flagged by this scorer (its natural decision point, e.g.
    /// margin 0 = the challenger wins; see `docs/scorers.md`).
    pub flag_threshold: f64,
    /// What the score is made of; summing `parts` (after calibration for `Combined`) gives
    /// `score`.
    pub parts: Vec<Part>,
    pub neighbours: Vec<Neighbours>,
}

/// Why one item scored what it did, ready to show.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    pub scorer: ScorerKind,
    pub score: f64,
    pub flagged: bool,
    pub challenger: Option<ClassId>,
    /// `(part name, value)`.
    pub contributions: Vec<(String, f64)>,
    /// `(modality, neighbour indices best first)`.
    pub neighbours: Vec<(Modality, Vec<u32>)>,
}

impl Suspicion {
    pub fn flagged(&self, i: usize) -> bool {
        self.challenger[i].is_some() && self.score[i] > self.flag_threshold
    }

    pub fn explain(&self, i: usize) -> Explanation {
        Explanation {
            scorer: self.scorer,
            score: self.score[i],
            flagged: self.flagged(i),
            challenger: self.challenger[i],
            contributions: self
                .parts
                .iter()
                .map(|p| (p.name.clone(), p.values[i]))
                .collect(),
            neighbours: self
                .neighbours
                .iter()
                .map(|nb| (nb.modality, nb.indices.row(i).to_vec()))
                .collect(),
        }
    }

    /// Item indices, most suspicious first (ties by index).
    pub fn ranking(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.score.len()).collect();
        order.sort_by(|&a, &b| self.score[b].total_cmp(&self.score[a]).then(a.cmp(&b)));
        order
    }
}

/// Bad scorer input, as one sentence.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScoreError {
    #[error("the catalogue has no embeddings for the requested modalities")]
    NoViews,
    #[error("{0} annotations were given for {1} items")]
    LabelCount(usize, usize),
    #[error("annotation {label} of item {item} is not one of the {classes} classes")]
    BadLabel {
        item: usize,
        label: ClassId,
        classes: usize,
    },
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// Check what every scorer assumes about its inputs.
pub fn validate(inputs: &Inputs, labels: &[Option<ClassId>]) -> Result<(), ScoreError> {
    if inputs.views.is_empty() {
        return Err(ScoreError::NoViews);
    }
    let n = inputs.len();
    if labels.len() != n {
        return Err(ScoreError::LabelCount(labels.len(), n));
    }
    if let Some((item, &Some(label))) = labels
        .iter()
        .enumerate()
        .find(|(_, l)| l.is_some_and(|c| c >= inputs.num_classes))
    {
        return Err(ScoreError::BadLabel {
            item,
            label,
            classes: inputs.num_classes,
        });
    }
    Ok(())
}

/// Run one scorer.
pub fn score(
    kind: ScorerKind,
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    params: &ScorerParams,
) -> Result<Suspicion, ScoreError> {
    score_with(kind, inputs, labels, params, &Monitor::new())
}

/// `score`, reporting progress to and stopping on `monitor` (the scorers that run long
/// enough to need it: the neighbour search and the whitened metric).
pub fn score_with(
    kind: ScorerKind,
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    params: &ScorerParams,
    monitor: &Monitor,
) -> Result<Suspicion, ScoreError> {
    validate(inputs, labels)?;
    Ok(match kind {
        ScorerKind::ZeroShot => zeroshot::score(inputs, labels),
        ScorerKind::Prototype => prototype::score(inputs, labels, params),
        ScorerKind::PairwisePrototype => pairwise_proto::score(inputs, labels, params),
        ScorerKind::Whitened => whitened::score(inputs, labels, params, monitor)?,
        ScorerKind::Knn => knn::score(inputs, labels, params, monitor)?,
        ScorerKind::Combined => combine::combined(inputs, labels, params, monitor)?,
    })
}

/// Combine per-modality class margins. `margins[m]` is `n × C`: how strongly class `c` beats
/// item `i`'s annotation in modality `m` (the annotated column is ignored).
///
/// The score sums, over the modalities, each modality's strongest challenger margin — every
/// view gets to name its own most threatening class, so an item that the image puts in one
/// wrong class and the text in another is still suspicious in both (measured on the sample:
/// better at the top of the ranking than maximising the summed margin of one shared
/// challenger). The reported challenger is the class with the largest summed margin: the one
/// the views point to together. Parts are the per-modality maxima, so they sum to the score.
pub(crate) fn from_class_margins(
    scorer: ScorerKind,
    labels: &[Option<ClassId>],
    margins: Vec<(Modality, Array2<f64>)>,
    flag_threshold: f64,
) -> Suspicion {
    let n = labels.len();
    let c = margins.first().map_or(0, |(_, m)| m.ncols());
    let mut score = vec![0.0; n];
    let mut challenger = vec![None; n];
    let mut parts: Vec<Part> = margins
        .iter()
        .map(|(m, _)| Part {
            name: format!("{}/{}", scorer.name(), m.name()),
            values: vec![0.0; n],
        })
        .collect();
    for i in 0..n {
        let Some(y) = labels[i] else { continue };
        let others = || (0..c).filter(move |&k| k != y);
        for (p, (_, m)) in parts.iter_mut().zip(&margins) {
            let best = others()
                .map(|k| m[[i, k]])
                .fold(f64::NEG_INFINITY, f64::max);
            if best.is_finite() {
                p.values[i] = best;
                score[i] += best;
            }
        }
        let mut top: Option<(ClassId, f64)> = None;
        for k in others() {
            let total: f64 = margins.iter().map(|(_, m)| m[[i, k]]).sum();
            if top.is_none_or(|(_, b)| total > b) {
                top = Some((k, total));
            }
        }
        challenger[i] = top.map(|(k, _)| k);
    }
    Suspicion {
        scorer,
        score,
        challenger,
        flag_threshold,
        parts,
        neighbours: Vec::new(),
    }
}

/// Sum of unit rows per annotated class (f64), and the counts; items not kept or without an
/// annotation are left out.
pub(crate) fn class_sums(
    x: Rows,
    labels: &[Option<ClassId>],
    keep: Option<&[bool]>,
    num_classes: usize,
) -> (Array2<f64>, Vec<usize>) {
    let d = x.ncols();
    let empty = || {
        (
            Array2::<f64>::zeros((num_classes, d)),
            vec![0usize; num_classes],
        )
    };
    // Chunks of rows summed in parallel, then merged (sums are additive).
    (0..x.nrows())
        .into_par_iter()
        .with_min_len(2048)
        .fold(empty, |(mut sums, mut counts), i| {
            let Some(y) = labels[i] else {
                return (sums, counts);
            };
            if keep.is_some_and(|k| !k[i]) {
                return (sums, counts);
            }
            counts[y] += 1;
            let inv = x.inv_norm[i] as f64;
            let mut s = sums.row_mut(y);
            for (a, &v) in s.iter_mut().zip(x.raw.row(i).iter()) {
                *a += v as f64 * inv;
            }
            (sums, counts)
        })
        .reduce(empty, |(s1, c1), (s2, c2)| {
            (s1 + s2, c1.iter().zip(&c2).map(|(a, b)| a + b).collect())
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn unit_rows_keeps_zero_rows_and_scales_others() {
        let x = array![[3.0f32, 4.0], [0.0, 0.0]];
        let u = unit_rows(x.view());
        assert!((u[[0, 0]] - 0.6).abs() < 1e-6 && (u[[0, 1]] - 0.8).abs() < 1e-6);
        assert_eq!(u.row(1).to_vec(), vec![0.0, 0.0]);
    }

    #[test]
    fn scorer_names_round_trip() {
        for k in ScorerKind::ALL {
            assert_eq!(ScorerKind::parse(k.name()), Some(k));
        }
        assert_eq!(ScorerKind::parse("nope"), None);
    }

    #[test]
    fn validate_rejects_foreign_labels() {
        let inputs = Inputs {
            views: vec![(
                Modality::Text,
                View::owned(array![[1.0f32, 0.0], [0.0, 1.0]]),
            )],
            class_embeddings: array![[1.0f32, 0.0], [0.0, 1.0]],
            num_classes: 2,
        };
        assert_eq!(
            validate(&inputs, &[Some(0), Some(2)]),
            Err(ScoreError::BadLabel {
                item: 1,
                label: 2,
                classes: 2
            })
        );
        assert_eq!(
            validate(&inputs, &[Some(0)]),
            Err(ScoreError::LabelCount(1, 2))
        );
        assert!(validate(&inputs, &[Some(0), None]).is_ok());
    }

    #[test]
    fn the_whitened_and_combined_scorers_stop_on_a_cancelled_monitor() {
        let inputs = Inputs {
            views: vec![(
                Modality::Text,
                View::owned(array![[1.0f32, 0.1], [0.9, 0.2], [0.1, 1.0], [0.2, 0.9]]),
            )],
            class_embeddings: array![[1.0f32, 0.0], [0.0, 1.0]],
            num_classes: 2,
        };
        let labels = [Some(0), Some(0), Some(1), Some(1)];
        let params = ScorerParams::default();
        let monitor = Monitor::new();
        for kind in [ScorerKind::Whitened, ScorerKind::Combined] {
            assert!(score_with(kind, &inputs, &labels, &params, &monitor).is_ok());
        }
        monitor.cancel();
        for kind in [ScorerKind::Whitened, ScorerKind::Combined] {
            assert_eq!(
                score_with(kind, &inputs, &labels, &params, &monitor).err(),
                Some(ScoreError::Cancelled(Cancelled)),
                "{kind:?}"
            );
        }
    }
}
