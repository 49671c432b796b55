//! The few engine calls the app makes beyond the run itself, in one place so that changes
//! of their shape touch one file.

use pairwise_audit::tournament::{self, Match};
use pairwise_audit::{Classification, Dataset, Modality};

/// Item `i`'s tournament matches in modality `m`, replayed from the run's permutations
/// (bit-identical to the run's decisions).
pub fn trace(ds: &Dataset, cls: &Classification, i: usize, m: Modality) -> Option<Vec<Match>> {
    let res = cls.get(m)?;
    let x = ds.embeddings(m)?;
    Some(tournament::trace(
        x.row(i),
        ds.class_embeddings.view(),
        &res.pairs,
        &res.permutations,
    ))
}
