//! The few engine calls the app makes beyond the run itself, in one place so that changes
//! of their shape touch one file.

use pairwise_audit::Modality;
use pairwise_audit::tournament::{self, Match};

use crate::app::review::Results;

/// Item `i`'s tournament matches in modality `m`, replayed from the run's permutations
/// (bit-identical to the run's decisions).
pub fn trace(r: &Results, i: usize, m: Modality) -> Option<Vec<Match>> {
    let res = r.classification.get(m)?;
    let x = r.dataset.embeddings(m)?;
    Some(tournament::trace(
        x.row(i),
        r.dataset.class_embeddings.view(),
        &res.pairs,
        &res.permutations,
    ))
}
