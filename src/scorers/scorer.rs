//! Suspicion scorers: pluggable ways of ranking annotated items by how likely their
//! annotation is wrong.
//!
//! A scorer sees the whole dataset (embeddings, class prompts), the classification and the
//! annotations under audit, so scorers that need more than the zero-shot results (prototypes
//! of the annotated classes, nearest-neighbour votes, combinations) fit the same trait. The
//! annotations are passed separately from the dataset so that an evaluation can score
//! injected label flips without copying the catalogue.

use serde::{Deserialize, Serialize};

use crate::{Cancelled, ClassId, Classification, Dataset, Monitor};

/// What a scorer reads.
#[derive(Clone, Copy)]
pub struct ScoreInput<'a> {
    pub ds: &'a Dataset,
    pub cls: &'a Classification,
    /// The labels under audit, one per item (normally `ds.annotations()`).
    pub annotations: &'a [Option<ClassId>],
    /// Progress (`advance` per chunk of items) and cancellation.
    pub monitor: &'a Monitor,
}

/// Why an item scored what it did, for the app's detail view and `flagged.csv`.
///
/// Later scorers add their own variants (neighbours, prototype margins, components of a
/// combination); front ends that don't know a variant can still show `describe`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Evidence {
    /// Head-to-head margin `cos(x_D, K_challenger,D) − cos(x_D, K_annotation,D)` on the pair's
    /// dimensions `D`, per modality (`None`: the modality was not classified).
    HeadToHead {
        image: Option<f64>,
        text: Option<f64>,
    },
    /// An annotation-aware scorer of `crate::scorers`: its named parts (`scorer/modality`,
    /// z-scored in a combination) and, for the neighbour vote, each modality's nearest items
    /// (row indices, best first).
    Annotated {
        parts: Vec<(String, f64)>,
        neighbours: Vec<(crate::Modality, Vec<u32>)>,
    },
}

impl Evidence {
    /// One line for humans, e.g. `image +0.0312, text +0.0120`.
    pub fn describe(&self) -> String {
        match self {
            Evidence::HeadToHead { image, text } => {
                let mut parts = Vec::new();
                if let Some(v) = image {
                    parts.push(format!("image {v:+.4}"));
                }
                if let Some(v) = text {
                    parts.push(format!("text {v:+.4}"));
                }
                parts.join(", ")
            }
            Evidence::Annotated { parts, neighbours } => {
                let mut out: Vec<String> =
                    parts.iter().map(|(n, v)| format!("{n} {v:+.4}")).collect();
                for (m, idx) in neighbours {
                    let shown: Vec<String> = idx.iter().take(5).map(|i| i.to_string()).collect();
                    out.push(format!("{m} neighbours {}", shown.join(" ")));
                }
                out.join(", ")
            }
        }
    }
}

/// One annotated item's score.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ItemScore {
    /// Higher = the annotation is more likely wrong.
    pub score: f64,
    /// The class the scorer would put in the annotation's place.
    pub challenger: ClassId,
    pub evidence: Evidence,
}

/// A scorer's output: one entry per item, `None` for items it cannot score (no annotation).
#[derive(Clone, Debug, PartialEq)]
pub struct ScoreSet {
    pub scorer: &'static str,
    pub items: Vec<Option<ItemScore>>,
}

impl ScoreSet {
    pub fn score(&self, i: usize) -> Option<f64> {
        self.items[i].as_ref().map(|s| s.score)
    }
}

/// A way of ranking items by how likely their annotation is wrong.
pub trait Scorer: Send + Sync {
    /// Short identifier used on the command line (`--scorer`) and in output files.
    fn name(&self) -> &'static str;
    /// One sentence for `--help`, the app and `metrics.json`.
    fn description(&self) -> &'static str;
    /// Score every item; the `ScoreSet` has `input.annotations.len()` entries. Reports
    /// progress in items on `input.monitor` and stops with `Cancelled` when asked.
    fn score(&self, input: &ScoreInput<'_>) -> Result<ScoreSet, Cancelled>;
}

/// The scorer used when none is named.
/// `combined` (annotation-aware, see `crate::scorers` and BENCHMARKS.md "Suspicion quality"):
/// the best measured ranking of wrong annotations within the time budget.
pub const DEFAULT_SCORER: &str = "combined";

/// Every available scorer, default first.
pub fn registry() -> Vec<Box<dyn Scorer>> {
    let mut all: Vec<Box<dyn Scorer>> = crate::scorers::registered::all();
    all.insert(1, Box::new(super::HeadToHead));
    all
}

/// The scorer called `name`, if there is one.
pub fn scorer_by_name(name: &str) -> Option<Box<dyn Scorer>> {
    registry().into_iter().find(|s| s.name() == name)
}

/// The names of every scorer, for error messages and `--help`.
pub fn scorer_names() -> Vec<&'static str> {
    registry().iter().map(|s| s.name()).collect()
}
