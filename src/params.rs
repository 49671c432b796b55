//! Every knob of a run, as one serde struct (RON in the app's settings and `--params` files).

use serde::{Deserialize, Serialize};

use crate::Modality;

/// Parameters of the classifier. `Default` gives the documented defaults of `docs/method.md`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Params {
    /// Dimensions kept per class pair (the top `k` by cross ratio). Clamped to `d`.
    pub k: usize,
    /// Absolute cosine floor. `None`: per modality, the `floor_percentile` of every item's top
    /// baseline cosine.
    pub floor: Option<f64>,
    pub floor_percentile: f64,
    /// Absolute head-to-head margin. `None`: per pair, the `margin_percentile` of
    /// `|S[i,a] − S[i,b]|` over the pair's candidates.
    pub margin: Option<f64>,
    pub margin_percentile: f64,
    /// A pair side with fewer kept items than this falls back to all dimensions.
    pub min_items: usize,
    /// Seeds the tournament's per-round permutations.
    pub seed: u64,
    /// Which modalities to classify (those present in the dataset).
    pub modalities: Vec<Modality>,
    /// Explicit per-round permutations; when set they replace the seeded draw.
    pub permutations: Option<Vec<Vec<usize>>>,
    /// Also score one class against the rest (the write-up's binary step).
    pub one_vs_rest: Option<crate::one_vs_rest::OneVsRestParams>,
}

impl Default for Params {
    fn default() -> Params {
        Params {
            k: 100,
            floor: None,
            floor_percentile: 10.0,
            margin: None,
            margin_percentile: 25.0,
            min_items: 5,
            seed: 0,
            modalities: vec![Modality::Image, Modality::Text],
            permutations: None,
            one_vs_rest: None,
        }
    }
}

impl Params {
    pub fn to_ron(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .expect("Params always serialises")
    }

    pub fn from_ron(s: &str) -> Result<Params, ron::error::SpannedError> {
        ron::from_str(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ron_round_trip_keeps_every_field() {
        let p = Params {
            k: 7,
            floor: Some(0.2),
            margin: None,
            min_items: 3,
            seed: 42,
            modalities: vec![Modality::Text],
            permutations: Some(vec![vec![1, 0, 2], vec![1, 0]]),
            ..Params::default()
        };
        assert_eq!(Params::from_ron(&p.to_ron()).unwrap(), p);
    }

    #[test]
    fn missing_fields_take_defaults() {
        let p = Params::from_ron("(k: 12)").unwrap();
        assert_eq!(p.k, 12);
        assert_eq!(p.min_items, Params::default().min_items);
        assert_eq!(p.modalities, Params::default().modalities);
    }
}
