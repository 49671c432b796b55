//! The zero-shot suspicion score of METHOD.md ("beyond the write-up"): for an item annotated
//! `y`, every other class `c` plays `y` on the pair `(c, y)`'s selected dimensions in every
//! classified modality; the challenger is the `c` with the largest summed margin, and that
//! sum is the score. Positive: some class beats the annotation head to head.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;

use super::scorer::{Evidence, ItemScore, ScoreInput, ScoreSet, Scorer};
use crate::tournament::PairKernel;
use crate::{Cancelled, Classification, Dataset, Modality, PairKey};

/// Items per unit of parallel work (and per progress tick).
const CHUNK: usize = 512;

/// The strongest challenger's head-to-head margin against the annotation, summed over
/// modalities.
#[derive(Clone, Copy, Debug, Default)]
pub struct HeadToHead;

impl HeadToHead {
    pub const NAME: &'static str = "head-to-head";
}

/// How one pair's margin is computed.
enum PairMargin {
    /// On the pair's selected dimensions: the tournament's own kernel, so margins match its
    /// decisions bit for bit.
    Kernel(PairKernel),
    /// The pair uses every dimension (the fallback): the cosine on all of `d` is the
    /// baseline cosine, already computed, so the margin is a difference of two scores
    /// instead of a pass over `d` dimensions for every item.
    Baseline,
}

/// One classified modality, ready to score.
struct View<'a> {
    modality: Modality,
    x: ArrayView2<'a, f32>,
    /// Baseline cosines `n × C`.
    scores: ArrayView2<'a, f64>,
    /// In `PairKey::index` order.
    pairs: Vec<PairMargin>,
}

fn views<'a>(ds: &'a Dataset, cls: &'a Classification) -> Vec<View<'a>> {
    let classes = ds.class_embeddings.view();
    let d = ds.dim();
    cls.modalities()
        .into_iter()
        .filter_map(|m| {
            let r = cls.get(m)?;
            let x = ds.embeddings(m)?.view();
            // Every pair with the annotation is played here: a run that computed only the
            // pairs its tournament played computes the others now.
            let pairs = PairKey::all(ds.num_classes())
                .into_par_iter()
                .map(|key| {
                    let rec = r.pair_record(x, key, false);
                    let all_dims = rec.dims.len() == d
                        && rec
                            .dims
                            .iter()
                            .enumerate()
                            .all(|(j, &dim)| j == dim as usize);
                    if all_dims {
                        PairMargin::Baseline
                    } else {
                        PairMargin::Kernel(PairKernel::new(classes, &rec))
                    }
                })
                .collect();
            Some(View {
                modality: m,
                x,
                scores: r.scores.view(),
                pairs,
            })
        })
        .collect()
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
        let views = views(ds, cls);
        monitor.begin(crate::Stage::Audit, None, annotations.len() as u64);

        let chunks: Vec<Result<Vec<Option<ItemScore>>, Cancelled>> = annotations
            .par_chunks(CHUNK)
            .enumerate()
            .map(|(chunk, labels)| {
                monitor.check()?;
                let start = chunk * CHUNK;
                // Per-modality margin of each challenger, reused across the chunk.
                let mut margins = vec![[0.0f64; 2]; c_count];
                let mut copy = Vec::new();
                let out = labels
                    .iter()
                    .enumerate()
                    .map(|(offset, label)| {
                        let y = (*label)?;
                        if c_count < 2 || views.is_empty() {
                            return None;
                        }
                        let i = start + offset;
                        for (slot, v) in views.iter().enumerate() {
                            let row = row_slice(v.x.row(i), &mut copy);
                            let s = v.scores.row(i);
                            for (c, m) in margins.iter_mut().enumerate() {
                                if c != y {
                                    m[slot] = challenger_margin(v, row, s, c, y, c_count);
                                }
                            }
                        }
                        best_challenger(&margins, y, &views)
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

/// The row as a slice; rows of a standard-layout array are contiguous, others are copied.
fn row_slice<'a>(x: ArrayView1<'a, f32>, copy: &'a mut Vec<f32>) -> &'a [f32] {
    match x.to_slice() {
        Some(r) => r,
        None => {
            copy.clear();
            copy.extend(x.iter());
            copy
        }
    }
}

/// `cos(x_D, K_c,D) − cos(x_D, K_y,D)` on the dimensions of pair `(c, y)`.
fn challenger_margin(
    v: &View<'_>,
    row: &[f32],
    scores: ArrayView1<'_, f64>,
    c: usize,
    y: usize,
    c_count: usize,
) -> f64 {
    let key = PairKey::new(c, y);
    match &v.pairs[key.index(c_count)] {
        // The kernel is oriented a − b with a < b.
        PairMargin::Kernel(k) => {
            let h = k.margin(row);
            if c == key.a { h } else { -h }
        }
        PairMargin::Baseline => scores[c] - scores[y],
    }
}

/// The class with the largest summed margin (ties to the lower index), and its evidence.
fn best_challenger(margins: &[[f64; 2]], y: usize, views: &[View<'_>]) -> Option<ItemScore> {
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
            .position(|v| v.modality == m)
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
}
