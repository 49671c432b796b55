//! The annotation-aware scorers behind the audit's pluggable `Scorer` trait, so that
//! `classify --scorer NAME`, `predictions.csv`'s `suspicion` column and the app can use them.

use super::scorer::{Evidence, ItemScore, ScoreInput, ScoreSet, Scorer};
use crate::Cancelled;

use super::{Inputs, ScoreError, ScorerKind, ScorerParams};

/// One of `ScorerKind` with its parameters.
#[derive(Clone, Debug)]
pub struct AnnotationScorer {
    pub kind: ScorerKind,
    pub params: ScorerParams,
}

impl AnnotationScorer {
    pub fn new(kind: ScorerKind) -> AnnotationScorer {
        AnnotationScorer {
            kind,
            params: ScorerParams::default(),
        }
    }
}

/// Every annotation-aware scorer with default parameters, `Combined` first.
pub fn all() -> Vec<Box<dyn Scorer>> {
    let mut kinds = ScorerKind::ALL.to_vec();
    kinds.sort_by_key(|&k| k != ScorerKind::Combined);
    kinds
        .into_iter()
        .map(|k| Box::new(AnnotationScorer::new(k)) as Box<dyn Scorer>)
        .collect()
}

impl Scorer for AnnotationScorer {
    fn name(&self) -> &'static str {
        self.kind.name()
    }

    fn description(&self) -> &'static str {
        self.kind.describe()
    }

    fn score(&self, input: &ScoreInput<'_>) -> Result<ScoreSet, Cancelled> {
        input.monitor.check()?;
        // The modalities the run classified (it honours `--modalities`).
        let inputs = Inputs::from_dataset(input.ds, &input.cls.modalities());
        let n = input.annotations.len();
        let s = match super::score_with(
            self.kind,
            &inputs,
            input.annotations,
            &self.params,
            input.monitor,
        ) {
            Ok(s) => s,
            Err(ScoreError::Cancelled(c)) => return Err(c),
            // The loader has validated labels and shapes; what is left is a run with no
            // modality, where there is nothing to score.
            Err(_) => {
                return Ok(ScoreSet {
                    scorer: self.name(),
                    items: vec![None; n],
                });
            }
        };
        let items = (0..n)
            .map(|i| {
                input.annotations[i]?;
                let e = s.explain(i);
                Some(ItemScore {
                    score: e.score,
                    challenger: e.challenger?,
                    evidence: Evidence::Annotated {
                        parts: e.contributions,
                        neighbours: e.neighbours,
                    },
                })
            })
            .collect();
        Ok(ScoreSet {
            scorer: self.name(),
            items,
        })
    }
}
