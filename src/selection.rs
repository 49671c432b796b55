//! Per class pair: which items are sure enough to describe the pair, and which dimensions
//! separate it best by cross ratio.

use serde::{Deserialize, Serialize};

use crate::PairKey;

/// Everything the selection decided for one class pair; kept for the app's plots and
/// `pairs.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairRecord {
    pub pair: PairKey,
    /// Items whose baseline label is `a`, `b`.
    pub candidates: [usize; 2],
    /// Of those, the ones that passed the floor and the margin.
    pub kept: [usize; 2],
    /// The cosine floor and the margin this pair was filtered with.
    pub floor: f64,
    pub margin: f64,
    /// A side had fewer than `min_items` kept items: all dimensions are used.
    pub fallback: bool,
    /// The selected dimensions, best first.
    pub dims: Vec<u32>,
    /// Cross ratio of each selected dimension, parallel to `dims`.
    pub dim_ratios: Vec<f64>,
    /// Cross ratio of every dimension, in dimension order.
    pub ratios: Vec<f64>,
}
