//! Small types that travel between the engine's stages and its front ends.

use serde::{Deserialize, Serialize};

/// Index of a class in `classes.csv` order.
pub type ClassId = usize;

/// One of the two views of an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modality {
    Image,
    Text,
}

impl Modality {
    pub const ALL: [Modality; 2] = [Modality::Image, Modality::Text];

    pub fn name(self) -> &'static str {
        match self {
            Modality::Image => "image",
            Modality::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<Modality> {
        match s.trim().to_ascii_lowercase().as_str() {
            "image" => Some(Modality::Image),
            "text" => Some(Modality::Text),
            _ => None,
        }
    }
}

impl std::fmt::Display for Modality {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unordered class pair, stored with `a < b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PairKey {
    pub a: ClassId,
    pub b: ClassId,
}

impl PairKey {
    pub fn new(x: ClassId, y: ClassId) -> PairKey {
        assert_ne!(x, y, "a class pair needs two different classes");
        PairKey {
            a: x.min(y),
            b: x.max(y),
        }
    }

    /// Position of this pair in the row-major list of all pairs `(0,1), (0,2), …, (C−2,C−1)`.
    pub fn index(self, num_classes: usize) -> usize {
        let PairKey { a, b } = self;
        a * (2 * num_classes - a - 1) / 2 + (b - a - 1)
    }

    /// The pair at position `index` of `all(num_classes)` (the inverse of `index`).
    pub fn from_index(index: usize, num_classes: usize) -> PairKey {
        // The first pair of row `a` sits at `a·(2C − a − 1)/2`: the last row starting at or
        // before `index` is `a`.
        let start = |a: usize| a * (2 * num_classes - a - 1) / 2;
        let (mut lo, mut hi) = (0, num_classes.saturating_sub(1));
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if start(mid) <= index {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        PairKey {
            a: lo,
            b: lo + 1 + index - start(lo),
        }
    }

    /// Every unordered pair of `num_classes` classes, in `index` order.
    pub fn all(num_classes: usize) -> Vec<PairKey> {
        let mut pairs = Vec::with_capacity(num_classes * num_classes.saturating_sub(1) / 2);
        for a in 0..num_classes {
            for b in a + 1..num_classes {
                pairs.push(PairKey { a, b });
            }
        }
        pairs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pair_index_matches_enumeration_order() {
        for c in 2..15 {
            for (i, p) in PairKey::all(c).into_iter().enumerate() {
                assert_eq!(p.index(c), i, "pair {p:?} of {c} classes");
                assert_eq!(PairKey::from_index(i, c), p, "index {i} of {c} classes");
            }
        }
    }
}
