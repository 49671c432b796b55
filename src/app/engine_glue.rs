//! The few engine calls the app makes beyond `classify`, in one place so that their shape
//! changes touch one file.

use pairwise_audit::Modality;
use pairwise_audit::tournament::Match;

use super::review::Results;

/// Item `i`'s tournament matches in modality `m`, replayed from the run's permutations.
pub fn trace(_r: &Results, _i: usize, _m: Modality) -> Option<Vec<Match>> {
    None
}
