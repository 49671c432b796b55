//! One run: for each modality, baseline → pair selection → tournament.

use ndarray::Array2;

use crate::selection::PairRecord;
use crate::{Cancelled, ClassId, Dataset, Modality, Monitor, Params};

/// Results for one modality. `scores`, `baseline`, `pairwise` … are in items.csv order.
#[derive(Clone, Debug)]
pub struct ModalityResult {
    pub modality: Modality,
    /// `1 / ‖x_i‖` (0 for a zero row), so the app can show normalised values.
    pub inv_norms: Vec<f64>,
    /// Baseline cosines `n × C`.
    pub scores: Array2<f64>,
    pub baseline: Vec<ClassId>,
    /// The floor used (given or derived).
    pub floor: f64,
    /// One record per class pair, in `PairKey::index` order.
    pub pairs: Vec<PairRecord>,
    pub pairwise: Vec<ClassId>,
    /// Margin of each item's final match (its winner against the runner-up), ≥ 0.
    pub pairwise_margin: Vec<f64>,
    /// The permutations the tournament used, one per round.
    pub permutations: Vec<Vec<usize>>,
    /// Seconds spent per stage, in order.
    pub timings: Vec<(&'static str, f64)>,
}

/// The result of `classify` for every requested modality that the dataset has.
#[derive(Clone, Debug)]
pub struct Classification {
    pub params: Params,
    pub image: Option<ModalityResult>,
    pub text: Option<ModalityResult>,
}

impl Classification {
    pub fn get(&self, m: Modality) -> Option<&ModalityResult> {
        match m {
            Modality::Image => self.image.as_ref(),
            Modality::Text => self.text.as_ref(),
        }
    }

    pub fn modalities(&self) -> Vec<Modality> {
        Modality::ALL
            .into_iter()
            .filter(|&m| self.get(m).is_some())
            .collect()
    }
}

/// Why `classify` stopped without a result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    /// The monitor's stop flag was set.
    #[error("the run was cancelled")]
    Cancelled,
    /// `params.permutations` does not fit the number of classes (one sentence saying which
    /// round and what was expected).
    #[error("{0}")]
    BadPermutations(String),
}

impl From<Cancelled> for ClassifyError {
    fn from(_: Cancelled) -> ClassifyError {
        ClassifyError::Cancelled
    }
}

/// Classify every modality in `params.modalities` that `ds` has.
pub fn classify(
    ds: &Dataset,
    params: &Params,
    monitor: &Monitor,
) -> Result<Classification, ClassifyError> {
    let _ = (ds, params, monitor);
    todo!("engine")
}
