//! Look-alikes labelled differently: pairs of annotated items whose embeddings are nearly
//! identical in every view both have, yet whose annotations differ. One of the two labels is
//! almost surely wrong (or the taxonomy has two names for one thing), and a reviewer settles
//! both at once.
//!
//! Candidates are the neighbours the scorer's vote already found (no second search); each
//! candidate pair is confirmed by its exact cosine in every shared view.

use ndarray::ArrayView1;
use serde::Serialize;

use crate::scorers::{Evidence, ScoreSet};
use crate::{ClassId, Dataset, Modality};

/// The cosine at or above which two items count as looking the same, in every shared view.
/// Measured (BENCHMARKS.md "Look-alikes"): the emoji sample's own labels give no pair even at
/// 0.85; with 177 injected flips every pair found holds a flipped item at 0.85 (30 pairs),
/// 0.90 (16) and 0.97 (6). 0.90 keeps a margin below where false pairs could begin.
pub const SAME_COSINE: f32 = 0.90;
/// How many of each item's nearest neighbours are tried.
const CANDIDATES: usize = 3;

/// Two items that look the same and are annotated differently (`a < b`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LookAlike {
    pub a: usize,
    pub b: usize,
    /// The cosine in each view both items have.
    pub cosines: Vec<(Modality, f32)>,
}

fn cosine(x: ArrayView1<'_, f32>, y: ArrayView1<'_, f32>) -> f32 {
    let (mut xy, mut xx, mut yy) = (0.0f64, 0.0f64, 0.0f64);
    for (&a, &b) in x.iter().zip(y) {
        let (a, b) = (f64::from(a), f64::from(b));
        xy += a * b;
        xx += a * a;
        yy += b * b;
    }
    if xx == 0.0 || yy == 0.0 {
        0.0
    } else {
        (xy / (xx.sqrt() * yy.sqrt())) as f32
    }
}

/// The look-alike pairs among `annotations`, from the neighbours in `scores`' evidence,
/// sorted by their lowest cosine, highest first.
pub fn find(
    ds: &Dataset,
    annotations: &[Option<ClassId>],
    scores: &ScoreSet,
    threshold: f32,
) -> Vec<LookAlike> {
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    for (i, item) in scores.items.iter().enumerate() {
        let Some(Evidence::Annotated { neighbours, .. }) = item.as_ref().map(|s| &s.evidence)
        else {
            continue;
        };
        for (_, list) in neighbours {
            for &j in list.iter().take(CANDIDATES) {
                let j = j as usize;
                if j != i
                    && j < annotations.len()
                    && annotations[i].is_some()
                    && annotations[j].is_some()
                    && annotations[i] != annotations[j]
                {
                    pairs.push((i.min(j), i.max(j)));
                }
            }
        }
    }
    pairs.sort_unstable();
    pairs.dedup();
    let mut out: Vec<LookAlike> = pairs
        .into_iter()
        .filter_map(|(a, b)| {
            let cosines: Vec<(Modality, f32)> = ds
                .modalities()
                .into_iter()
                .filter(|&m| ds.views.has(m, a) && ds.views.has(m, b))
                .filter_map(|m| {
                    let x = ds.embeddings(m)?;
                    Some((m, cosine(x.row(a), x.row(b))))
                })
                .collect();
            let all_close = !cosines.is_empty() && cosines.iter().all(|&(_, c)| c >= threshold);
            all_close.then_some(LookAlike { a, b, cosines })
        })
        .collect();
    let lowest = |p: &LookAlike| p.cosines.iter().map(|c| c.1).fold(f32::INFINITY, f32::min);
    out.sort_by(|x, y| {
        lowest(y)
            .total_cmp(&lowest(x))
            .then((x.a, x.b).cmp(&(y.a, y.b)))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::ItemScore;
    use ndarray::Array2;

    fn dataset(rows: Vec<[f32; 3]>) -> Dataset {
        let n = rows.len();
        let mut s = crate::synth::generate(&crate::synth::SynthParams {
            n,
            d: 3,
            classes: 2,
            ..Default::default()
        });
        s.image_embeddings = Array2::from_shape_fn((n, 3), |(i, k)| rows[i][k]);
        s.text_embeddings = s.image_embeddings.clone();
        s.into_dataset()
    }

    fn scores(neighbours: Vec<Vec<u32>>) -> ScoreSet {
        ScoreSet {
            scorer: "test",
            items: neighbours
                .into_iter()
                .map(|nb| {
                    Some(ItemScore {
                        score: 0.0,
                        challenger: 0,
                        evidence: Evidence::Annotated {
                            parts: vec![],
                            neighbours: vec![(Modality::Image, nb)],
                        },
                    })
                })
                .collect(),
        }
    }

    #[test]
    fn near_identical_items_with_other_labels_pair_up_once() {
        // 0 and 1 point the same way (cosine 0.9999); 2 is close to 0 but below the
        // threshold; 3 is identical to 0 but carries 0's label.
        let ds = dataset(vec![
            [1.0, 0.0, 0.0],
            [1.0, 0.01, 0.0],
            [1.0, 0.5, 0.0],
            [2.0, 0.0, 0.0],
        ]);
        let ann = vec![Some(0), Some(1), Some(1), Some(0)];
        let s = scores(vec![vec![1, 3, 2], vec![0, 3], vec![0], vec![0, 1]]);
        let found = find(&ds, &ann, &s, SAME_COSINE);
        let pairs: Vec<(usize, usize)> = found.iter().map(|p| (p.a, p.b)).collect();
        assert_eq!(pairs, vec![(0, 1), (1, 3)], "{found:?}");
        assert_eq!(found[0].cosines.len(), 2, "both views are checked");
    }

    #[test]
    fn an_unannotated_item_is_never_a_look_alike() {
        let ds = dataset(vec![[1.0, 0.0, 0.0], [1.0, 0.0, 0.0]]);
        let s = scores(vec![vec![1], vec![0]]);
        assert!(find(&ds, &[Some(0), None], &s, SAME_COSINE).is_empty());
    }
}
