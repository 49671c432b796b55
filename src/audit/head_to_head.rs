//! The zero-shot suspicion score of METHOD.md ("beyond the write-up"): for an item annotated
//! `y`, every other class `c` plays `y` on the pair `(c, y)`'s selected dimensions in every
//! classified modality; the challenger is the `c` with the largest summed margin, and that
//! sum is the score. Positive: some class beats the annotation head to head.

use rayon::prelude::*;

use super::scorer::{Evidence, ItemScore, ScoreInput, ScoreSet, Scorer};
use crate::tournament::PairKernel;
use crate::{Cancelled, Modality, PairKey};

/// Items per unit of parallel work (and per progress tick).
const CHUNK: usize = 512;

/// The strongest challenger's head-to-head margin against the annotation, summed over
/// modalities.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeadToHead;

impl HeadToHead {
    pub const NAME: &'static str = "head-to-head";
}

impl Scorer for HeadToHead {
    fn name(&self) -> &'static str {
        Self::NAME
    }

    fn description(&self) -> &'static str {
        "zero-shot: margin of the strongest other class over the annotated class on their \
         pair's selected dimensions, summed over image and text"
    }

    fn score(&self, input: &ScoreInput<'_>) -> Result<ScoreSet, Cancelled> {
        let ScoreInput {
            ds,
            cls,
            annotations,
            monitor,
        } = *input;
        let c_count = ds.num_classes();
        let classes = ds.class_embeddings.view();
        // (modality, embeddings, one kernel per pair) for every classified modality; the
        // kernels are the tournament's own, so margins match its decisions bit for bit.
        let views: Vec<(Modality, _, Vec<PairKernel>)> = cls
            .modalities()
            .into_iter()
            .filter_map(|m| {
                let emb = ds.embeddings(m)?;
                let kernels = cls
                    .get(m)?
                    .pairs
                    .iter()
                    .map(|rec| PairKernel::new(classes, rec))
                    .collect();
                Some((m, emb.view(), kernels))
            })
            .collect();
        monitor.begin(crate::Stage::Audit, None, annotations.len() as u64);

        let chunks: Vec<Result<Vec<Option<ItemScore>>, Cancelled>> = annotations
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk, labels)| {
                monitor.check()?;
                let start = chunk * CHUNK;
                // Per modality margin of each challenger, reused across the chunk.
                let mut margins = vec![[0.0f64; 2]; c_count];
                let out = labels
                    .iter()
                    .enumerate()
                    .map(|(offset, label)| {
                        let y = (*label)?;
                        if c_count < 2 || views.is_empty() {
                            return None;
                        }
                        let i = start + offset;
                        for (slot, (_, emb, kernels)) in views.iter().enumerate() {
                            let x = emb.row(i);
                            // Rows of a standard-layout array are contiguous; copy otherwise.
                            let owned;
                            let row = match x.as_slice() {
                                Some(r) => r,
                                None => {
                                    owned = x.to_vec();
                                    &owned
                                }
                            };
                            for (c, m) in margins.iter_mut().enumerate() {
                                if c != y {
                                    m[slot] = challenger_margin(kernels, row, c, y, c_count);
                                }
                            }
                        }
                        // Ties go to the lower class index.
                        let mut best: Option<(usize, f64)> = None;
                        for (c, m) in margins.iter().enumerate() {
                            if c == y {
                                continue;
                            }
                            let total: f64 = m[..views.len()].iter().sum();
                            if best.is_none_or(|(_, b)| total > b) {
                                best = Some((c, total));
                            }
                        }
                        let (challenger, score) = best?;
                        let per = |m: Modality| {
                            views
                                .iter()
                                .position(|v| v.0 == m)
                                .map(|slot| margins[challenger][slot])
                        };
                        Some(ItemScore {
                            score,
                            challenger,
                            evidence: Evidence::HeadToHead {
                                image: per(Modality::Image),
                                text: per(Modality::Text),
                            },
                        })
                    })
                    .collect();
                monitor.advance(labels.len() as u64);
                Ok(out)
            })
            .collect();

        let mut items = Vec::with_capacity(annotations.len());
        for chunk in chunks {
            items.extend(chunk?);
        }
        Ok(ScoreSet {
            scorer: Self::NAME,
            items,
        })
    }
}

/// `cos(x_D, K_c,D) − cos(x_D, K_y,D)` on the dimensions of pair `(c, y)`.
fn challenger_margin(
    kernels: &[PairKernel],
    row: &[f32],
    c: usize,
    y: usize,
    c_count: usize,
) -> f64 {
    let key = PairKey::new(c, y);
    // The kernel is oriented a − b with a < b.
    let h = kernels[key.index(c_count)].margin(row);
    if c == key.a { h } else { -h }
}
