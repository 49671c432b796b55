//! Flags and suspicion scores for the existing annotations.
//!
//! Flags compare the **pairwise** labels of each modality with each other and with the
//! annotation (the baseline labels are kept alongside for reference, not flagged on):
//!
//! | flag                   | meaning                                                    |
//! |------------------------|------------------------------------------------------------|
//! | `image_text_disagree`  | image label ≠ text label (both modalities classified)      |
//! | `agree_not_annotation` | image label = text label ≠ annotation                      |
//! | `image_not_annotation` | image label ≠ annotation                                   |
//! | `text_not_annotation`  | text label ≠ annotation                                    |
//!
//! Each item also gets one primary [`FlagKind`] for display and filtering, strongest first:
//! `agree_not_annotation` (both views agree on another class), `both_not_annotation` (both
//! views reject the annotation but disagree on the alternative), `one_not_annotation`
//! (exactly one view rejects it, or the only view of a single-modality run),
//! `image_text_disagree` (the views disagree on an item without annotation), none.
//! An item is *flagged* when its kind is not `None`.
//!
//! The suspicion score comes from a pluggable [`Scorer`] of `crate::scorers`.

pub mod estimate;
pub mod lookalikes;

use serde::{Deserialize, Serialize};

use crate::scorers::{ScoreInput, ScoreSet, Scorer};
use estimate::Calibration;

use crate::{Cancelled, ClassId, Classification, Dataset, Modality, ModalityResult, Monitor};

/// The set of flags of one item (bits below).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Flags(pub u8);

impl Flags {
    pub const IMAGE_TEXT_DISAGREE: Flags = Flags(1);
    pub const AGREE_NOT_ANNOTATION: Flags = Flags(2);
    pub const IMAGE_NOT_ANNOTATION: Flags = Flags(4);
    pub const TEXT_NOT_ANNOTATION: Flags = Flags(8);

    /// Every flag with its name, in the order `names` lists them.
    pub const ALL: [(Flags, &'static str); 4] = [
        (Flags::AGREE_NOT_ANNOTATION, "agree_not_annotation"),
        (Flags::IMAGE_TEXT_DISAGREE, "image_text_disagree"),
        (Flags::IMAGE_NOT_ANNOTATION, "image_not_annotation"),
        (Flags::TEXT_NOT_ANNOTATION, "text_not_annotation"),
    ];

    pub fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }

    /// The names of the set flags.
    pub fn names(self) -> Vec<&'static str> {
        Flags::ALL
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

/// An item's primary flag. The derived order is the strength order: `None` < … <
/// `AgreeNotAnnotation`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    #[default]
    None,
    /// The views disagree on an item without annotation.
    ImageTextDisagree,
    /// Exactly one view rejects the annotation (or the only view of a one-modality run).
    OneNotAnnotation,
    /// Both views reject the annotation but disagree on the alternative.
    BothNotAnnotation,
    /// Both views agree on a class other than the annotation: the strongest evidence.
    AgreeNotAnnotation,
}

impl FlagKind {
    /// Strongest first (the order the summary and the app list them).
    pub const BY_STRENGTH: [FlagKind; 4] = [
        FlagKind::AgreeNotAnnotation,
        FlagKind::BothNotAnnotation,
        FlagKind::OneNotAnnotation,
        FlagKind::ImageTextDisagree,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FlagKind::None => "",
            FlagKind::ImageTextDisagree => "image_text_disagree",
            FlagKind::OneNotAnnotation => "one_not_annotation",
            FlagKind::BothNotAnnotation => "both_not_annotation",
            FlagKind::AgreeNotAnnotation => "agree_not_annotation",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            FlagKind::None => "not flagged",
            FlagKind::ImageTextDisagree => "image ≠ text (no annotation)",
            FlagKind::OneNotAnnotation => "one modality ≠ annotation",
            FlagKind::BothNotAnnotation => "image ≠ text, both ≠ annotation",
            FlagKind::AgreeNotAnnotation => "image = text ≠ annotation",
        }
    }
}

/// Flags and primary kind from an item's pairwise labels (`None` = modality not classified)
/// and annotation.
pub fn flag_item(
    image: Option<ClassId>,
    text: Option<ClassId>,
    annotation: Option<ClassId>,
) -> (Flags, FlagKind) {
    let mut flags = Flags::default();
    if let (Some(i), Some(t)) = (image, text)
        && i != t
    {
        flags.insert(Flags::IMAGE_TEXT_DISAGREE);
    }
    let Some(y) = annotation else {
        let kind = if flags.is_empty() {
            FlagKind::None
        } else {
            FlagKind::ImageTextDisagree
        };
        return (flags, kind);
    };
    let image_off = image.is_some_and(|i| i != y);
    let text_off = text.is_some_and(|t| t != y);
    if image_off {
        flags.insert(Flags::IMAGE_NOT_ANNOTATION);
    }
    if text_off {
        flags.insert(Flags::TEXT_NOT_ANNOTATION);
    }
    let kind = match (image_off, text_off) {
        (true, true) if image == text => {
            flags.insert(Flags::AGREE_NOT_ANNOTATION);
            FlagKind::AgreeNotAnnotation
        }
        (true, true) => FlagKind::BothNotAnnotation,
        (true, false) | (false, true) => FlagKind::OneNotAnnotation,
        (false, false) => FlagKind::None,
    };
    (flags, kind)
}

/// One modality's labels and margins, per item.
#[derive(Clone, Debug, PartialEq)]
pub struct ModalityLabels {
    pub modality: Modality,
    pub baseline: Vec<ClassId>,
    /// Top baseline cosine minus the second (≥ 0).
    pub baseline_margin: Vec<f64>,
    pub pairwise: Vec<ClassId>,
    /// Margin of the item's final tournament match (≥ 0).
    pub pairwise_margin: Vec<f64>,
    /// Which items have this view; `None` when all do (see `ModalityResult::present`).
    pub present: Option<Vec<bool>>,
}

impl ModalityLabels {
    pub fn from_result(r: &ModalityResult) -> ModalityLabels {
        let baseline_margin = r
            .scores
            .rows()
            .into_iter()
            .map(|row| {
                let (mut top, mut second) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
                for &s in row {
                    if s > top {
                        second = top;
                        top = s;
                    } else if s > second {
                        second = s;
                    }
                }
                if second.is_finite() {
                    top - second
                } else {
                    0.0
                }
            })
            .collect();
        ModalityLabels {
            modality: r.modality,
            baseline: r.baseline.clone(),
            baseline_margin,
            pairwise: r.pairwise.clone(),
            pairwise_margin: r.pairwise_margin.clone(),
            present: r.present.clone(),
        }
    }

    /// Whether item `i` has this view.
    pub fn has(&self, i: usize) -> bool {
        self.present.as_ref().is_none_or(|p| p[i])
    }

    pub fn baseline_at(&self, i: usize) -> Option<ClassId> {
        self.has(i).then(|| self.baseline[i])
    }

    pub fn pairwise_at(&self, i: usize) -> Option<ClassId> {
        self.has(i).then(|| self.pairwise[i])
    }

    pub fn baseline_margin_at(&self, i: usize) -> Option<f64> {
        self.has(i).then(|| self.baseline_margin[i])
    }

    pub fn pairwise_margin_at(&self, i: usize) -> Option<f64> {
        self.has(i).then(|| self.pairwise_margin[i])
    }
}

/// How many items carry each flag and each primary kind.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagCounts {
    pub items: usize,
    pub annotated: usize,
    /// Items whose primary kind is not `None`.
    pub flagged: usize,
    /// Primary kinds (each item counted once).
    pub agree_not_annotation: usize,
    pub both_not_annotation: usize,
    pub one_not_annotation: usize,
    pub image_text_disagree: usize,
    /// Individual flags (an item may carry several).
    pub flag_image_text_disagree: usize,
    pub flag_image_not_annotation: usize,
    pub flag_text_not_annotation: usize,
}

/// The audit of one classification: labels, flags and suspicion for every item.
#[derive(Clone, Debug, PartialEq)]
pub struct Audit {
    /// The classified modalities, image first.
    pub modalities: Vec<ModalityLabels>,
    pub annotations: Vec<Option<ClassId>>,
    pub flags: Vec<Flags>,
    pub kinds: Vec<FlagKind>,
    pub scores: ScoreSet,
    /// The error-count estimate and per-item probabilities fitted to the scores (`None`
    /// with fewer than 20 scored items).
    pub calibration: Option<Calibration>,
    /// Items that look the same but are annotated differently (`lookalikes`).
    pub lookalikes: Vec<lookalikes::LookAlike>,
}

impl Audit {
    /// Audit the dataset's own annotations with `scorer`.
    pub fn run(
        ds: &Dataset,
        cls: &Classification,
        scorer: &dyn Scorer,
        monitor: &Monitor,
    ) -> Result<Audit, Cancelled> {
        Audit::with_annotations(ds, cls, ds.annotations(), scorer, monitor)
    }

    /// Audit `annotations` (one per item) instead of the dataset's, e.g. injected flips.
    pub fn with_annotations(
        ds: &Dataset,
        cls: &Classification,
        annotations: Vec<Option<ClassId>>,
        scorer: &dyn Scorer,
        monitor: &Monitor,
    ) -> Result<Audit, Cancelled> {
        let modalities: Vec<ModalityLabels> = cls
            .modalities()
            .into_iter()
            .filter_map(|m| cls.get(m).map(ModalityLabels::from_result))
            .collect();
        let pairwise = |m: Modality, i: usize| {
            modalities
                .iter()
                .find(|l| l.modality == m)
                .and_then(|l| l.pairwise_at(i))
        };
        let (flags, kinds) = (0..annotations.len())
            .map(|i| {
                flag_item(
                    pairwise(Modality::Image, i),
                    pairwise(Modality::Text, i),
                    annotations[i],
                )
            })
            .unzip();
        // Scorers that report no progress of their own still show as this stage.
        monitor.begin(crate::Stage::Audit, None, annotations.len() as u64);
        let scores = scorer.score(&ScoreInput {
            ds,
            cls,
            annotations: &annotations,
            monitor,
        })?;
        let score: Vec<Option<f64>> = (0..annotations.len()).map(|i| scores.score(i)).collect();
        let challengers: Vec<Option<ClassId>> = scores
            .items
            .iter()
            .map(|s| s.as_ref().map(|s| s.challenger))
            .collect();
        // The second pass that measures how wrong annotations score on this catalogue.
        let reference = match estimate::reference_flips(&annotations, ds.num_classes()) {
            Some(f) => {
                monitor.begin(crate::Stage::Audit, None, annotations.len() as u64);
                let again = scorer.score(&ScoreInput {
                    ds,
                    cls,
                    annotations: &f.labels,
                    monitor,
                })?;
                estimate::split_pass(&f.flipped, |i| again.score(i))
            }
            None => (Vec::new(), Vec::new()),
        };
        let calibration = Calibration::fit(
            &score,
            &reference.0,
            &reference.1,
            &annotations,
            &challengers,
            ds.num_classes(),
        );
        let lookalikes = lookalikes::find(ds, &annotations, &scores, lookalikes::SAME_COSINE);
        Ok(Audit {
            modalities,
            annotations,
            flags,
            kinds,
            scores,
            calibration,
            lookalikes,
        })
    }

    pub fn len(&self) -> usize {
        self.annotations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.annotations.is_empty()
    }

    pub fn labels(&self, m: Modality) -> Option<&ModalityLabels> {
        self.modalities.iter().find(|l| l.modality == m)
    }

    pub fn suspicion(&self, i: usize) -> Option<f64> {
        self.scores.score(i)
    }

    pub fn is_flagged(&self, i: usize) -> bool {
        self.kinds[i] != FlagKind::None
    }

    /// Every item ordered for review: by suspicion, highest first; unscored items last;
    /// ties by stronger primary kind, then items.csv order.
    pub fn ranking(&self) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        order.sort_by(|&i, &j| {
            let (si, sj) = (self.suspicion(i), self.suspicion(j));
            match (si, sj) {
                (Some(a), Some(b)) => b.total_cmp(&a),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            }
            .then(self.kinds[j].cmp(&self.kinds[i]))
            .then(i.cmp(&j))
        });
        order
    }

    /// The flagged items in `ranking` order (the rows of `flagged.csv`).
    /// The review queue at the default cut, most suspicious first; without a calibration,
    /// the flagged items.
    pub fn queue(&self) -> Vec<usize> {
        match &self.calibration {
            Some(c) => c.queue(estimate::DEFAULT_CUT).items,
            None => self.flagged_ranking(),
        }
    }

    /// The probability that item `i`'s annotation is wrong, where calibrated.
    pub fn p_wrong(&self, i: usize) -> Option<f64> {
        self.calibration.as_ref().and_then(|c| c.posterior[i])
    }

    pub fn flagged_ranking(&self) -> Vec<usize> {
        self.ranking()
            .into_iter()
            .filter(|&i| self.is_flagged(i))
            .collect()
    }

    pub fn counts(&self) -> FlagCounts {
        let mut c = FlagCounts {
            items: self.len(),
            annotated: self.annotations.iter().filter(|a| a.is_some()).count(),
            ..FlagCounts::default()
        };
        for (&f, &k) in self.flags.iter().zip(&self.kinds) {
            match k {
                FlagKind::None => {}
                FlagKind::ImageTextDisagree => c.image_text_disagree += 1,
                FlagKind::OneNotAnnotation => c.one_not_annotation += 1,
                FlagKind::BothNotAnnotation => c.both_not_annotation += 1,
                FlagKind::AgreeNotAnnotation => c.agree_not_annotation += 1,
            }
            c.flagged += usize::from(k != FlagKind::None);
            c.flag_image_text_disagree += usize::from(f.contains(Flags::IMAGE_TEXT_DISAGREE));
            c.flag_image_not_annotation += usize::from(f.contains(Flags::IMAGE_NOT_ANNOTATION));
            c.flag_text_not_annotation += usize::from(f.contains(Flags::TEXT_NOT_ANNOTATION));
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_the_table() {
        use FlagKind as K;
        let cases = [
            // image, text, annotation → kind, flags
            (
                Some(1),
                Some(1),
                Some(0),
                K::AgreeNotAnnotation,
                vec![
                    "agree_not_annotation",
                    "image_not_annotation",
                    "text_not_annotation",
                ],
            ),
            (
                Some(1),
                Some(2),
                Some(0),
                K::BothNotAnnotation,
                vec![
                    "image_text_disagree",
                    "image_not_annotation",
                    "text_not_annotation",
                ],
            ),
            (
                Some(0),
                Some(2),
                Some(0),
                K::OneNotAnnotation,
                vec!["image_text_disagree", "text_not_annotation"],
            ),
            (
                Some(2),
                Some(0),
                Some(0),
                K::OneNotAnnotation,
                vec!["image_text_disagree", "image_not_annotation"],
            ),
            (Some(0), Some(0), Some(0), K::None, vec![]),
            (
                Some(0),
                Some(1),
                None,
                K::ImageTextDisagree,
                vec!["image_text_disagree"],
            ),
            (Some(1), Some(1), None, K::None, vec![]),
            // one-modality runs
            (
                None,
                Some(1),
                Some(0),
                K::OneNotAnnotation,
                vec!["text_not_annotation"],
            ),
            (Some(0), None, Some(0), K::None, vec![]),
            (Some(0), None, None, K::None, vec![]),
        ];
        for (i, t, y, kind, names) in cases {
            let (f, k) = flag_item(i, t, y);
            assert_eq!(k, kind, "{i:?} {t:?} {y:?}");
            assert_eq!(f.names(), names, "{i:?} {t:?} {y:?}");
        }
    }

    #[test]
    fn strength_order_is_documented_order() {
        let mut sorted = FlagKind::BY_STRENGTH;
        sorted.sort();
        sorted.reverse();
        assert_eq!(sorted, FlagKind::BY_STRENGTH);
        assert!(FlagKind::None < FlagKind::ImageTextDisagree);
    }
}
