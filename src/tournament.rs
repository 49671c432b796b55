//! The pairwise decision and the tournament bracket of `docs/method.md` §5.

use serde::{Deserialize, Serialize};

use crate::ClassId;

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
