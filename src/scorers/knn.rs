//! Exact k-nearest-neighbour search by cosine, and the neighbours' label vote.
//!
//! Cost: `n² · d` multiply-adds per modality (every pair of items once per direction), done as
//! f32 gemm over row blocks × column tiles so that memory stays `O(n·k + threads·block·tile)`;
//! the `n × n` similarity matrix never exists. Row blocks run in parallel. Measured numbers are
//! in BENCHMARKS.md ("Suspicion quality"); on 2 cores 100 000 items at d = 384 take minutes,
//! not hours: above `knn_exact_max_items` the vote uses the approximate search of `ann`.

use ndarray::{Array2, Axis, s};
use rayon::prelude::*;

use super::{Inputs, Neighbours, Part, Rows, ScorerKind, ScorerParams, Suspicion};
use crate::{Cancelled, ClassId, Modality, Monitor, Stage};

const ROW_BLOCK: usize = 256;
const COL_TILE: usize = 4096;

/// The `k` most cosine-similar other items of every row of the unit-row matrix `x`, best first;
/// ties go to the lower index. `k` is clamped to `n − 1`.
pub fn neighbours(x: Rows, k: usize, modality: Modality) -> Neighbours {
    neighbours_with(x, k, modality, &Monitor::new()).expect("nobody can cancel a private monitor")
}

/// `neighbours`, advancing `monitor` by the rows done and stopping when it is cancelled.
pub fn neighbours_with(
    x: Rows,
    k: usize,
    modality: Modality,
    monitor: &Monitor,
) -> Result<Neighbours, Cancelled> {
    let n = x.nrows();
    let k = k.min(n.saturating_sub(1));
    let mut indices = Array2::<u32>::zeros((n, k));
    let mut sims = Array2::<f32>::zeros((n, k));
    if k == 0 {
        return Ok(Neighbours {
            modality,
            k,
            indices,
            similarities: sims,
        });
    }
    indices
        .axis_chunks_iter_mut(Axis(0), ROW_BLOCK)
        .into_par_iter()
        .zip(sims.axis_chunks_iter_mut(Axis(0), ROW_BLOCK))
        .enumerate()
        .for_each(|(b, (mut idx_block, mut sim_block))| {
            if monitor.is_cancelled() {
                return;
            }
            let r0 = b * ROW_BLOCK;
            let rows = x.raw.slice(s![r0..r0 + idx_block.nrows(), ..]);
            // Per row: the current best k as (similarity, index), sorted best first.
            let mut best: Vec<Vec<(f32, u32)>> = vec![Vec::with_capacity(k + 1); rows.nrows()];
            for c0 in (0..n).step_by(COL_TILE) {
                let cols = x.raw.slice(s![c0..(c0 + COL_TILE).min(n), ..]);
                let tile = rows.dot(&cols.t());
                for (r, tile_row) in tile.axis_iter(Axis(0)).enumerate() {
                    let list = &mut best[r];
                    let me = r0 + r;
                    for (j, &dot) in tile_row.iter().enumerate() {
                        let idx = c0 + j;
                        if idx == me {
                            continue;
                        }
                        // Ranking a row's candidates needs only the column norms; the row's
                        // own norm is applied when storing.
                        let sim = dot * x.inv_norm[idx];
                        // Columns arrive in increasing index, so "strictly better than the
                        // worst kept" keeps the lower index on ties.
                        if list.len() == k && sim <= list[k - 1].0 {
                            continue;
                        }
                        let pos = list.partition_point(|&(s, _)| s >= sim);
                        list.insert(pos, (sim, idx as u32));
                        list.truncate(k);
                    }
                }
            }
            for (r, list) in best.into_iter().enumerate() {
                let inv = x.inv_norm[r0 + r];
                for (j, (sim, idx)) in list.into_iter().enumerate() {
                    idx_block[[r, j]] = idx;
                    sim_block[[r, j]] = sim * inv;
                }
            }
            monitor.advance(idx_block.nrows() as u64);
        });
    monitor.check()?;
    Ok(Neighbours {
        modality,
        k,
        indices,
        similarities: sims,
    })
}

/// Share of an item's annotated neighbours that carry another annotation, summed over the
/// modalities (so 0 ..= number of modalities); the challenger is the other class with the most
/// votes over all modalities. Flagged above half the modalities' worth (a majority disagrees).
pub fn score(
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    params: &ScorerParams,
    monitor: &Monitor,
) -> Result<Suspicion, Cancelled> {
    score_votes(inputs, labels, params, true, monitor)
}

/// `score`; without `with_fallback` an item whose neighbours all agree has no challenger
/// (a combination takes its other members' instead of paying for the prototypes).
pub fn score_votes(
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    params: &ScorerParams,
    with_fallback: bool,
    monitor: &Monitor,
) -> Result<Suspicion, Cancelled> {
    let mut nbs = Vec::new();
    for (m, x) in &inputs.views {
        let nb = if x.nrows() <= params.knn_exact_max_items {
            monitor.begin(Stage::Audit, Some(*m), x.nrows() as u64);
            neighbours_with(x.rows(), params.knn_k, *m, monitor)?
        } else {
            monitor.begin(
                Stage::Audit,
                Some(*m),
                super::ann::progress_units(x.nrows()),
            );
            let ann = super::ann::AnnParams {
                dims: params.knn_dims,
                probe: params.knn_probe,
                reference: params.knn_reference_items,
            };
            super::ann::neighbours(x.rows(), params.knn_k, *m, ann, monitor)?
        };
        nbs.push(nb);
    }
    let mut s = vote(nbs, labels, inputs.num_classes);
    // Items whose neighbours all agree have no challenger from the vote; name the strongest
    // other prototype so that every annotated item has one (a combination names its own).
    if with_fallback && (0..labels.len()).any(|i| labels[i].is_some() && s.challenger[i].is_none())
    {
        let fallback = super::prototype::score(inputs, labels, params);
        for i in 0..labels.len() {
            if s.challenger[i].is_none() {
                s.challenger[i] = fallback.challenger[i];
            }
        }
    }
    Ok(s)
}

/// The vote over precomputed neighbours (so that evaluation can reuse one search).
pub fn vote(nbs: Vec<Neighbours>, labels: &[Option<ClassId>], num_classes: usize) -> Suspicion {
    let n = labels.len();
    let mut parts: Vec<Part> = nbs
        .iter()
        .map(|nb| Part {
            name: format!("knn/{}", nb.modality.name()),
            values: vec![0.0; n],
        })
        .collect();
    let mut score = vec![0.0; n];
    let mut challenger = vec![None; n];
    let mut votes = vec![0.0f64; num_classes];
    for i in 0..n {
        let Some(y) = labels[i] else { continue };
        votes.fill(0.0);
        for (p, nb) in parts.iter_mut().zip(&nbs) {
            let mut counted = 0usize;
            let mut other = 0usize;
            let mut local = vec![0usize; num_classes];
            for &j in nb.indices.row(i) {
                if let Some(l) = labels[j as usize] {
                    counted += 1;
                    local[l] += 1;
                    if l != y {
                        other += 1;
                    }
                }
            }
            if counted > 0 {
                p.values[i] = other as f64 / counted as f64;
                for (v, &c) in votes.iter_mut().zip(&local) {
                    *v += c as f64 / counted as f64;
                }
            }
            score[i] += p.values[i];
        }
        challenger[i] = (0..num_classes).filter(|&c| c != y && votes[c] > 0.0).fold(
            None,
            |best: Option<usize>, c| match best {
                Some(b) if votes[b] >= votes[c] => Some(b),
                _ => Some(c),
            },
        );
    }
    Suspicion {
        scorer: ScorerKind::Knn,
        score,
        challenger,
        flag_threshold: 0.5 * nbs.len() as f64,
        parts,
        neighbours: nbs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::{View, unit_rows};
    use ndarray::ArrayView2;
    use rand::{Rng, SeedableRng};

    fn brute(x: ArrayView2<f32>, k: usize) -> Vec<Vec<u32>> {
        (0..x.nrows())
            .map(|i| {
                let mut all: Vec<(f32, u32)> = (0..x.nrows())
                    .filter(|&j| j != i)
                    .map(|j| (x.row(i).dot(&x.row(j)), j as u32))
                    .collect();
                all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                all.into_iter().take(k).map(|(_, j)| j).collect()
            })
            .collect()
    }

    #[test]
    fn blocked_search_equals_brute_force_across_blocks_and_tiles() {
        // n spans several row blocks and two column tiles, so block edges are exercised.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let n = COL_TILE + 300;
        let raw = Array2::from_shape_fn((n, 8), |_| rng.random_range(-1.0f32..1.0));
        let x = unit_rows(raw.view());
        // Searched on the raw rows: the norms are applied on the fly.
        let nb = neighbours(View::owned(raw).rows(), 5, Modality::Text);
        let want = brute(x.view(), 5);
        for i in (0..n).step_by(97).chain([0, 255, 256, n - 1]) {
            assert_eq!(nb.indices.row(i).to_vec(), want[i], "row {i}");
        }
    }

    #[test]
    fn ties_go_to_the_lower_index_and_k_is_clamped() {
        let x = Array2::from_shape_vec((4, 2), vec![1.0f32, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0])
            .unwrap();
        let nb = neighbours(View::owned(x).rows(), 10, Modality::Image);
        assert_eq!(nb.k, 3);
        assert_eq!(nb.indices.row(2).to_vec(), vec![0, 1, 3]);
        assert_eq!(nb.indices.row(3).to_vec(), vec![0, 1, 2]);
    }

    #[test]
    fn vote_counts_disagreeing_annotated_neighbours() {
        let nb = Neighbours {
            modality: Modality::Text,
            k: 3,
            indices: Array2::from_shape_vec((4, 3), vec![1, 2, 3, 0, 2, 3, 0, 1, 3, 0, 1, 2])
                .unwrap(),
            similarities: Array2::zeros((4, 3)),
        };
        let s = vote(vec![nb], &[Some(0), Some(1), Some(1), None], 2);
        // Item 0: annotated neighbours 1, 2 (3 is unannotated) both say 1.
        assert_eq!(s.score[0], 1.0);
        assert_eq!(s.challenger[0], Some(1));
        assert!(s.flagged(0));
        // Item 1: neighbours 0 (class 0) and 2 (class 1): half disagree, not a majority.
        assert_eq!(s.score[1], 0.5);
        assert!(!s.flagged(1));
        assert_eq!(s.score[3], 0.0);
        assert_eq!(s.challenger[3], None);
    }
}
