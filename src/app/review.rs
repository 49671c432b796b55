//! The app's view of one finished run: per-item facts the grid sorts and filters on, computed
//! once on the worker thread so that no frame ever walks the engine's arrays.

use std::sync::Arc;
use std::time::Duration;

use pairwise_audit::{ClassId, Classification, Dataset, Modality};
use serde::{Deserialize, Serialize};

/// Why an item is worth a look, strongest first. `Ord` follows that order so that sorting by
/// flag puts the strongest evidence on top.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum FlagKind {
    /// Image and text agree with each other on a class other than the annotation.
    BothDisagree,
    /// Image and text disagree with each other and with the annotation.
    AllDiffer,
    /// Only the image label differs from the annotation.
    ImageDisagrees,
    /// Only the text label differs from the annotation.
    TextDisagrees,
    /// No annotation to audit, and the two modalities disagree.
    ModalitiesDiffer,
    /// Nothing to report.
    Ok,
}

impl FlagKind {
    pub const ALL: [FlagKind; 6] = [
        FlagKind::BothDisagree,
        FlagKind::AllDiffer,
        FlagKind::ImageDisagrees,
        FlagKind::TextDisagrees,
        FlagKind::ModalitiesDiffer,
        FlagKind::Ok,
    ];

    pub fn label(self) -> &'static str {
        match self {
            FlagKind::BothDisagree => "image+text ≠ annotation",
            FlagKind::AllDiffer => "all three differ",
            FlagKind::ImageDisagrees => "image ≠ annotation",
            FlagKind::TextDisagrees => "text ≠ annotation",
            FlagKind::ModalitiesDiffer => "image ≠ text",
            FlagKind::Ok => "ok",
        }
    }

    pub fn tooltip(self) -> &'static str {
        match self {
            FlagKind::BothDisagree => {
                "Image and text agree with each other on a class other than the annotation: the strongest sign of a wrong label."
            }
            FlagKind::AllDiffer => "Image, text and annotation name three different classes.",
            FlagKind::ImageDisagrees => {
                "The image label differs from the annotation; the text agrees with it."
            }
            FlagKind::TextDisagrees => {
                "The text label differs from the annotation; the image agrees with it."
            }
            FlagKind::ModalitiesDiffer => {
                "The item has no annotation and its image and text labels differ."
            }
            FlagKind::Ok => "Every available label agrees.",
        }
    }
}

/// Which classifier stage a label comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Method {
    Baseline,
    Pairwise,
}

impl Method {
    pub fn name(self) -> &'static str {
        match self {
            Method::Baseline => "baseline",
            Method::Pairwise => "pairwise",
        }
    }
}

/// A column of labels: the annotation, or one modality's labels from one method.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum LabelSource {
    Annotation,
    Predicted(Modality, Method),
}

impl LabelSource {
    pub fn name(self) -> String {
        match self {
            LabelSource::Annotation => "annotation".to_string(),
            LabelSource::Predicted(m, method) => format!("{m} ({})", method.name()),
        }
    }
}

/// Everything the grid needs about one item.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub annotation: Option<ClassId>,
    /// `[image, text]` × `[baseline, pairwise]`; `None` when the modality was not classified.
    pub labels: [[Option<ClassId>; 2]; 2],
    pub flag: FlagKind,
    /// Higher is more likely wrong; 0 for items without a challenger.
    pub suspicion: f64,
    /// The class the evidence points to instead of the annotation.
    pub challenger: Option<ClassId>,
}

fn modality_slot(m: Modality) -> usize {
    match m {
        Modality::Image => 0,
        Modality::Text => 1,
    }
}

impl Row {
    pub fn label(&self, source: LabelSource) -> Option<ClassId> {
        match source {
            LabelSource::Annotation => self.annotation,
            LabelSource::Predicted(m, method) => {
                self.labels[modality_slot(m)][matches!(method, Method::Pairwise) as usize]
            }
        }
    }

    pub fn pairwise(&self, m: Modality) -> Option<ClassId> {
        self.label(LabelSource::Predicted(m, Method::Pairwise))
    }
}

/// A finished run, shared read-only by every panel.
pub struct Results {
    /// Distinguishes runs so that caches keyed on it never mix two runs.
    pub generation: u64,
    pub dataset: Arc<Dataset>,
    pub classification: Arc<Classification>,
    pub rows: Vec<Row>,
    /// Lower-cased `id + " " + description`, for the search box.
    pub haystack: Vec<String>,
    /// Class names lower-cased, for sorting by class name without allocating per compare.
    pub has_images: bool,
    pub elapsed: Duration,
}

impl Results {
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
            for method in [Method::Baseline, Method::Pairwise] {
                v.push(LabelSource::Predicted(m, method));
            }
        }
        v
    }
}

/// The primary flag of one item from its pairwise labels.
pub fn flag_of(
    annotation: Option<ClassId>,
    image: Option<ClassId>,
    text: Option<ClassId>,
) -> FlagKind {
    match annotation {
        None => match (image, text) {
            (Some(i), Some(t)) if i != t => FlagKind::ModalitiesDiffer,
            _ => FlagKind::Ok,
        },
        Some(y) => {
            let img_off = image.is_some_and(|i| i != y);
            let txt_off = text.is_some_and(|t| t != y);
            match (img_off, txt_off) {
                (true, true) if image == text => FlagKind::BothDisagree,
                (true, true) => FlagKind::AllDiffer,
                (true, false) => FlagKind::ImageDisagrees,
                (false, true) => FlagKind::TextDisagrees,
                (false, false) => FlagKind::Ok,
            }
        }
    }
}

/// Builds the per-item facts. Runs on the worker thread.
pub fn build(
    generation: u64,
    dataset: Arc<Dataset>,
    classification: Arc<Classification>,
    elapsed: Duration,
) -> Results {
    let n = dataset.len();
    let mut rows = Vec::with_capacity(n);
    for i in 0..n {
        let mut labels = [[None; 2]; 2];
        for m in Modality::ALL {
            if let Some(r) = classification.get(m) {
                labels[modality_slot(m)] = [Some(r.baseline[i]), Some(r.pairwise[i])];
            }
        }
        let annotation = dataset.items[i].label;
        let (image, text) = (labels[0][1], labels[1][1]);
        let flag = flag_of(annotation, image, text);
        // The challenger is the class the modalities point to instead of the annotation,
        // preferring the one both agree on.
        let challenger =
            annotation.and_then(|y| [image, text].into_iter().flatten().find(|&p| p != y));
        let suspicion = match (annotation, challenger) {
            (Some(y), Some(p)) => suspicion_of(&classification, i, p, y),
            _ => 0.0,
        };
        rows.push(Row {
            annotation,
            labels,
            flag,
            suspicion,
            challenger,
        });
    }
    let haystack = dataset
        .items
        .iter()
        .map(|it| format!("{} {}", it.id, it.description).to_lowercase())
        .collect();
    let has_images = dataset.items.iter().any(|it| it.image.is_some());
    Results {
        generation,
        dataset,
        classification,
        rows,
        haystack,
        has_images,
        elapsed,
    }
}

/// How strongly the evidence prefers challenger `p` over annotation `y`, summed over the
/// modalities: the cosine gap `S[i,p] − S[i,y]` of each.
fn suspicion_of(c: &Classification, i: usize, p: ClassId, y: ClassId) -> f64 {
    c.modalities()
        .into_iter()
        .filter_map(|m| c.get(m))
        .map(|r| r.scores[[i, p]] - r.scores[[i, y]])
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_follow_the_agreement_pattern() {
        assert_eq!(flag_of(Some(0), Some(1), Some(1)), FlagKind::BothDisagree);
        assert_eq!(flag_of(Some(0), Some(1), Some(2)), FlagKind::AllDiffer);
        assert_eq!(flag_of(Some(0), Some(1), Some(0)), FlagKind::ImageDisagrees);
        assert_eq!(flag_of(Some(0), Some(0), Some(2)), FlagKind::TextDisagrees);
        assert_eq!(flag_of(Some(0), Some(0), Some(0)), FlagKind::Ok);
        assert_eq!(flag_of(None, Some(0), Some(1)), FlagKind::ModalitiesDiffer);
        assert_eq!(flag_of(Some(0), None, Some(1)), FlagKind::TextDisagrees);
    }
}
