//! Confusion matrices, accuracy and F1 (scikit-learn's definitions), and the write-up's
//! agreement table.
//!
//! Conventions, chosen to match `sklearn.metrics` exactly:
//! * the labels scored are the union of the classes present in `y_true` and `y_pred`
//!   (a class absent from both is not averaged in);
//! * precision, recall or F1 with a zero denominator count as 0 (`zero_division=0`);
//! * weighted F1 weights each label's F1 by its support (its count in `y_true`);
//! * macro F1 is the unweighted mean over the labels scored.
//!
//! Items where either side has no label (`None`: no annotation, or a modality the item lacks)
//! are left out of the comparison and counted in `excluded`.

use serde::{Deserialize, Serialize};

use crate::{ClassId, Classification, Dataset, Modality};

/// Counts of (true, predicted) label pairs over `C` classes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Confusion {
    num_classes: usize,
    /// Row-major `C × C`: `counts[t * C + p]`.
    counts: Vec<u64>,
    /// Items left out because either side had no label.
    pub excluded: usize,
}

impl Confusion {
    /// Compare two label sources item by item. Both slices must have one entry per item.
    ///
    /// # Panics
    /// If the slices differ in length or a label is `≥ num_classes` (both are programming
    /// errors: every label source of a dataset has one entry per item and valid classes).
    pub fn new(
        y_true: &[Option<ClassId>],
        y_pred: &[Option<ClassId>],
        num_classes: usize,
    ) -> Confusion {
        assert_eq!(
            y_true.len(),
            y_pred.len(),
            "two label sources of different lengths"
        );
        let mut counts = vec![0u64; num_classes * num_classes];
        let mut excluded = 0;
        for (t, p) in y_true.iter().zip(y_pred) {
            match (t, p) {
                (Some(t), Some(p)) => {
                    assert!(*t < num_classes && *p < num_classes, "label out of range");
                    counts[t * num_classes + p] += 1;
                }
                _ => excluded += 1,
            }
        }
        Confusion {
            num_classes,
            counts,
            excluded,
        }
    }

    pub fn num_classes(&self) -> usize {
        self.num_classes
    }

    /// Items with true label `t` predicted as `p`.
    pub fn get(&self, t: ClassId, p: ClassId) -> u64 {
        self.counts[t * self.num_classes + p]
    }

    /// Rows (true label) of the matrix, for printing and JSON.
    pub fn rows(&self) -> Vec<Vec<u64>> {
        self.counts
            .chunks(self.num_classes.max(1))
            .map(|r| r.to_vec())
            .collect()
    }

    /// Items compared (both sides labelled).
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn correct(&self) -> u64 {
        (0..self.num_classes).map(|c| self.get(c, c)).sum()
    }

    /// Count of class `c` in `y_true`.
    pub fn support(&self, c: ClassId) -> u64 {
        (0..self.num_classes).map(|p| self.get(c, p)).sum()
    }

    /// Count of class `c` in `y_pred`.
    pub fn predicted(&self, c: ClassId) -> u64 {
        (0..self.num_classes).map(|t| self.get(t, c)).sum()
    }

    /// Fraction of compared items on the diagonal; 0 when nothing was compared.
    pub fn accuracy(&self) -> f64 {
        ratio(self.correct(), self.total())
    }

    /// F1 of each class, `None` for a class present in neither source (not scored).
    pub fn f1_per_class(&self) -> Vec<Option<f64>> {
        (0..self.num_classes)
            .map(|c| {
                let tp = self.get(c, c);
                let support = self.support(c);
                let predicted = self.predicted(c);
                if support == 0 && predicted == 0 {
                    return None;
                }
                // 2·P·R/(P+R) = 2tp / (2tp + fp + fn) = 2tp / (support + predicted), and it is
                // 0 whenever tp = 0, which is what zero_division=0 gives too.
                Some(ratio(2 * tp, support + predicted))
            })
            .collect()
    }

    /// F1 averaged over the scored classes, weighted by support; 0 when nothing was compared.
    pub fn weighted_f1(&self) -> f64 {
        let f1 = self.f1_per_class();
        let mut sum = 0.0;
        for (c, f) in f1.iter().enumerate() {
            if let Some(f) = f {
                sum += f * self.support(c) as f64;
            }
        }
        let total = self.total();
        if total == 0 { 0.0 } else { sum / total as f64 }
    }

    /// Unweighted mean F1 over the scored classes; 0 when nothing was compared.
    pub fn macro_f1(&self) -> f64 {
        let scored: Vec<f64> = self.f1_per_class().into_iter().flatten().collect();
        if scored.is_empty() {
            0.0
        } else {
            scored.iter().sum::<f64>() / scored.len() as f64
        }
    }

    pub fn scores(&self) -> Scores {
        Scores {
            compared: self.total() as usize,
            excluded: self.excluded,
            accuracy: self.accuracy(),
            weighted_f1: self.weighted_f1(),
            macro_f1: self.macro_f1(),
        }
    }
}

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

/// The summary numbers of one comparison.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Items where both sides had a label.
    pub compared: usize,
    /// Items left out because a side had none.
    pub excluded: usize,
    pub accuracy: f64,
    pub weighted_f1: f64,
    pub macro_f1: f64,
}

/// A named vector of labels, one per item: the annotation or a classifier's output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabelSource {
    Annotation,
    Baseline(Modality),
    Pairwise(Modality),
}

impl LabelSource {
    /// The four classifier outputs, in the column order of `predictions.csv`.
    pub const CLASSIFIERS: [LabelSource; 4] = [
        LabelSource::Baseline(Modality::Image),
        LabelSource::Pairwise(Modality::Image),
        LabelSource::Baseline(Modality::Text),
        LabelSource::Pairwise(Modality::Text),
    ];

    /// Column name: `annotation`, `image_base`, `image_pairwise`, `text_base`, `text_pairwise`.
    pub fn name(self) -> String {
        match self {
            LabelSource::Annotation => "annotation".to_string(),
            LabelSource::Baseline(m) => format!("{m}_base"),
            LabelSource::Pairwise(m) => format!("{m}_pairwise"),
        }
    }

    /// The labels, or `None` when the source does not exist in this run (a modality that
    /// was not classified).
    pub fn labels(self, ds: &Dataset, cls: &Classification) -> Option<Vec<Option<ClassId>>> {
        match self {
            LabelSource::Annotation => Some(ds.annotations()),
            LabelSource::Baseline(m) => cls
                .get(m)
                .map(|r| (0..r.baseline.len()).map(|i| r.baseline_label(i)).collect()),
            LabelSource::Pairwise(m) => cls
                .get(m)
                .map(|r| (0..r.pairwise.len()).map(|i| r.pairwise_label(i)).collect()),
        }
    }
}

/// One row of the write-up's table: text labels scored against image labels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgreementRow {
    /// `baseline` or `pairwise`.
    pub method: String,
    pub scores: Scores,
    /// Rows = image label, columns = text label.
    pub confusion: Vec<Vec<u64>>,
}

/// One label source scored against the annotation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AnnotationRow {
    /// `image_base`, `image_pairwise`, `text_base` or `text_pairwise`.
    pub source: String,
    pub scores: Scores,
    /// Rows = annotation, columns = this source's label.
    pub confusion: Vec<Vec<u64>>,
}

/// Everything `metrics.json` and the command-line summary report about label quality.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MetricsReport {
    /// How `agreement` is oriented (text labels as `y_pred`, image labels as `y_true`).
    pub agreement_convention: String,
    /// Image vs text agreement, baseline then pairwise; empty unless both modalities ran.
    pub agreement: Vec<AgreementRow>,
    /// Each classifier output that exists vs the annotation (`y_true` = annotation).
    pub vs_annotation: Vec<AnnotationRow>,
}

pub const AGREEMENT_CONVENTION: &str = "y_true = image labels, y_pred = text labels";

impl MetricsReport {
    pub fn compute(ds: &Dataset, cls: &Classification) -> MetricsReport {
        let c = ds.num_classes();
        let mut agreement = Vec::new();
        for (method, image, text) in [
            (
                "baseline",
                LabelSource::Baseline(Modality::Image),
                LabelSource::Baseline(Modality::Text),
            ),
            (
                "pairwise",
                LabelSource::Pairwise(Modality::Image),
                LabelSource::Pairwise(Modality::Text),
            ),
        ] {
            if let (Some(y_true), Some(y_pred)) = (image.labels(ds, cls), text.labels(ds, cls)) {
                let m = Confusion::new(&y_true, &y_pred, c);
                agreement.push(AgreementRow {
                    method: method.to_string(),
                    scores: m.scores(),
                    confusion: m.rows(),
                });
            }
        }
        let annotation = ds.annotations();
        let vs_annotation = LabelSource::CLASSIFIERS
            .into_iter()
            .filter_map(|src| {
                let y_pred = src.labels(ds, cls)?;
                let m = Confusion::new(&annotation, &y_pred, c);
                Some(AnnotationRow {
                    source: src.name(),
                    scores: m.scores(),
                    confusion: m.rows(),
                })
            })
            .collect();
        MetricsReport {
            agreement_convention: AGREEMENT_CONVENTION.to_string(),
            agreement,
            vs_annotation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_counts_and_excludes_unlabelled() {
        let t = vec![Some(0), Some(1), None, Some(1), Some(2)];
        let p = vec![Some(0), Some(2), Some(1), None, Some(2)];
        let m = Confusion::new(&t, &p, 3);
        assert_eq!(m.excluded, 2);
        assert_eq!(m.total(), 3);
        assert_eq!(m.rows(), vec![vec![1, 0, 0], vec![0, 0, 1], vec![0, 0, 1]]);
    }

    #[test]
    fn empty_comparison_scores_zero() {
        let m = Confusion::new(&[None, Some(1)], &[Some(0), None], 2);
        let s = m.scores();
        assert_eq!((s.compared, s.excluded), (0, 2));
        assert_eq!((s.accuracy, s.weighted_f1, s.macro_f1), (0.0, 0.0, 0.0));
    }
}
