//! The pairwise decision and the tournament bracket of `docs/method.md` §5.

use ndarray::{ArrayView1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::ClassId;
use crate::selection::PairRecord;

/// One played match of an item's bracket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub round: usize,
    pub a: ClassId,
    pub b: ClassId,
    pub winner: ClassId,
    /// `cos(x_D, K_a,D) − cos(x_D, K_b,D)` (positive: `a` wins).
    pub margin: f64,
}

/// One random permutation per round for a bracket of `num_classes`, drawn from `seed`.
pub fn draw_permutations(num_classes: usize, seed: u64) -> Vec<Vec<usize>> {
    let _ = (num_classes, seed);
    todo!("engine")
}

/// `Ok` when `perms` has one permutation of `0..s` per round of a `num_classes` bracket.
pub fn validate_permutations(perms: &[Vec<usize>], num_classes: usize) -> Result<(), String> {
    let _ = (perms, num_classes);
    todo!("engine")
}

/// `cos(x_D, K_a,D) − cos(x_D, K_b,D)` for `(a, b) = rec.pair` and `D = rec.dims`.
pub fn head_to_head(x: ArrayView1<f32>, classes: ArrayView2<f32>, rec: &PairRecord) -> f64 {
    let _ = (x, classes, rec);
    todo!("engine")
}

/// One item's bracket, match by match. `pairs` is in `PairKey::index` order.
pub fn trace(
    x: ArrayView1<f32>,
    classes: ArrayView2<f32>,
    pairs: &[PairRecord],
    perms: &[Vec<usize>],
) -> Vec<Match> {
    let _ = (x, classes, pairs, perms);
    todo!("engine")
}
