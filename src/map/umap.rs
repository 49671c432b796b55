//! A UMAP-style layout of a k-nearest-neighbour graph (McInnes, Healy & Melville 2018),
//! written here because no UMAP crate builds as pure Rust on our stack and t-SNE's
//! Barnes–Hut (`bhtsne`) is too slow at 100k items (see BENCHMARKS.md).
//!
//! 1. Fuzzy graph: for each item, `ρ` is the distance to its nearest neighbour and `σ` is
//!    found by bisection so that its `k` edge weights `exp(−(d − ρ)/σ)` sum to `log₂ k`; the
//!    directed weights are joined by the fuzzy union `a + b − ab`.
//! 2. SGD from the PCA layout: each edge is sampled in proportion to its weight, pulling its
//!    ends together under the curve `1 / (1 + a·d^{2b})` (`min_dist` 0.1), and each sample
//!    pushes the head away from `negatives` random items. The step size falls linearly.
//!
//! One thread, a fixed seed and a fixed edge order: the same layout on every machine.

use crate::scorers::Neighbours;
use crate::{Cancelled, Monitor};

use super::MapParams;

/// The curve's parameters for `min_dist = 0.1`, `spread = 1` (UMAP's fitted values).
const A: f32 = 1.577;
const B: f32 = 0.8951;
const CLIP: f32 = 4.0;

/// An undirected weighted edge.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    pub a: u32,
    pub b: u32,
    pub w: f32,
}

/// The fuzzy union of each item's neighbour weights, one edge per unordered pair (sorted).
pub fn fuzzy_graph(nb: &Neighbours) -> Vec<Edge> {
    let n = nb.indices.nrows();
    let k = nb.k;
    let target = (k.max(2) as f32).log2();
    let mut directed: Vec<(u32, u32, f32)> = Vec::with_capacity(n * k);
    let mut dist = vec![0.0f32; k];
    for i in 0..n {
        for (j, d) in dist.iter_mut().enumerate() {
            // Cosine distance; the search's cosines may exceed 1 by rounding.
            *d = (1.0 - nb.similarities[[i, j]]).max(0.0);
        }
        let rho = dist.iter().copied().fold(f32::INFINITY, f32::min);
        let rho = if rho.is_finite() { rho } else { 0.0 };
        let sum = |sigma: f32| -> f32 {
            dist.iter()
                .map(|&d| (-(d - rho).max(0.0) / sigma).exp())
                .sum()
        };
        let (mut lo, mut hi) = (1e-6f32, 1e3f32);
        for _ in 0..64 {
            let mid = (lo * hi).sqrt();
            if sum(mid) > target {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let sigma = (lo * hi).sqrt();
        for (j, &d) in dist.iter().enumerate() {
            let other = nb.indices[[i, j]];
            if other as usize == i {
                continue;
            }
            let w = (-(d - rho).max(0.0) / sigma).exp();
            let (a, b) = if (i as u32) < other {
                (i as u32, other)
            } else {
                (other, i as u32)
            };
            directed.push((a, b, w));
        }
    }
    directed.sort_unstable_by_key(|x| (x.0, x.1));
    let mut edges: Vec<Edge> = Vec::with_capacity(directed.len());
    for group in directed.chunk_by(|x, y| (x.0, x.1) == (y.0, y.1)) {
        // Both directions (or, with duplicate lists, the strongest two).
        let w = match group {
            [one] => one.2,
            [x, y, ..] => x.2 + y.2 - x.2 * y.2,
            [] => continue,
        };
        edges.push(Edge {
            a: group[0].0,
            b: group[0].1,
            w,
        });
    }
    edges
}

/// A small, fast, seeded generator for the negative samples.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (((self.next() >> 32) * n as u64) >> 32) as usize
    }
}

/// The layout of `nb`'s fuzzy graph after `epochs` epochs from `init`. Advances `monitor`
/// once per epoch.
pub fn layout(
    nb: &Neighbours,
    init: Vec<[f32; 2]>,
    epochs: usize,
    params: &MapParams,
    monitor: &Monitor,
) -> Result<Vec<[f32; 2]>, Cancelled> {
    let edges = fuzzy_graph(nb);
    optimise(&edges, init, epochs, params.negatives, params.seed, monitor)
}

/// SGD on `edges` from `init` (see the module comment).
pub fn optimise(
    edges: &[Edge],
    mut xy: Vec<[f32; 2]>,
    epochs: usize,
    negatives: usize,
    seed: u64,
    monitor: &Monitor,
) -> Result<Vec<[f32; 2]>, Cancelled> {
    let n = xy.len();
    if n < 2 || edges.is_empty() || epochs == 0 {
        return Ok(xy);
    }
    let w_max = edges.iter().map(|e| e.w).fold(0.0f32, f32::max);
    // Edges weaker than 1/epochs of the strongest would never be sampled: UMAP drops them.
    let floor = w_max / epochs as f32;
    let kept: Vec<Edge> = edges.iter().copied().filter(|e| e.w >= floor).collect();
    let period: Vec<f32> = kept.iter().map(|e| w_max / e.w).collect();
    let mut next = period.clone();
    let mut rng = XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
    for epoch in 0..epochs {
        monitor.check()?;
        let alpha = 1.0 - epoch as f32 / epochs as f32;
        let e = epoch as f32 + 1.0;
        for (idx, edge) in kept.iter().enumerate() {
            if next[idx] > e {
                continue;
            }
            next[idx] += period[idx];
            // Both directions, as UMAP's symmetric graph holds the edge twice: each end is
            // pulled and each end is pushed away from its own negative samples (pushing only
            // one end measurably worsened the layout).
            let (a, b) = (edge.a as usize, edge.b as usize);
            for (head, tail) in [(a, b), (b, a)] {
                attract(&mut xy, head, tail, alpha);
                for _ in 0..negatives {
                    let c = rng.below(n);
                    if c != head {
                        repel(&mut xy, head, c, alpha);
                    }
                }
            }
        }
        monitor.advance(1);
    }
    Ok(xy)
}

fn attract(xy: &mut [[f32; 2]], a: usize, b: usize, alpha: f32) {
    let (p, q) = (xy[a], xy[b]);
    let d = [p[0] - q[0], p[1] - q[1]];
    let d2 = d[0] * d[0] + d[1] * d[1];
    if d2 <= 0.0 {
        return;
    }
    let coef = -2.0 * A * B * d2.powf(B - 1.0) / (1.0 + A * d2.powf(B));
    for k in 0..2 {
        let g = (coef * d[k]).clamp(-CLIP, CLIP) * alpha;
        xy[a][k] += g;
        xy[b][k] -= g;
    }
}

fn repel(xy: &mut [[f32; 2]], a: usize, c: usize, alpha: f32) {
    let (p, q) = (xy[a], xy[c]);
    let d = [p[0] - q[0], p[1] - q[1]];
    let d2 = d[0] * d[0] + d[1] * d[1];
    let coef = 2.0 * B / ((0.001 + d2) * (1.0 + A * d2.powf(B)));
    for k in 0..2 {
        let g = if coef > 0.0 && d2 > 0.0 {
            (coef * d[k]).clamp(-CLIP, CLIP)
        } else {
            CLIP
        };
        xy[a][k] += g * alpha;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    fn graph(lists: &[&[(u32, f32)]]) -> Neighbours {
        let k = lists[0].len();
        let n = lists.len();
        Neighbours {
            modality: crate::Modality::Image,
            k,
            indices: Array2::from_shape_fn((n, k), |(i, j)| lists[i][j].0),
            similarities: Array2::from_shape_fn((n, k), |(i, j)| lists[i][j].1),
        }
    }

    #[test]
    fn the_fuzzy_union_keeps_one_edge_per_pair_with_the_nearest_at_weight_one() {
        let nb = graph(&[
            &[(1, 0.9), (2, 0.5)],
            &[(0, 0.9), (2, 0.8)],
            &[(1, 0.8), (0, 0.5)],
        ]);
        let edges = fuzzy_graph(&nb);
        let pairs: Vec<(u32, u32)> = edges.iter().map(|e| (e.a, e.b)).collect();
        assert_eq!(pairs, vec![(0, 1), (0, 2), (1, 2)]);
        // 0–1 is both ends' nearest neighbour: weight 1 from each side, 1 in the union.
        assert!((edges[0].w - 1.0).abs() < 1e-6);
        // 0–2 is the second neighbour of both: weaker than 0–1.
        assert!(edges[1].w < edges[0].w && edges[1].w > 0.0);
    }

    #[test]
    fn two_cliques_end_apart_and_each_together() {
        // Items 0..10 and 10..20, each a clique in the graph, started interleaved on a line.
        let n = 20usize;
        let mut edges = Vec::new();
        for a in 0..n as u32 {
            for b in a + 1..n as u32 {
                if a / 10 == b / 10 {
                    edges.push(Edge { a, b, w: 1.0 });
                }
            }
        }
        let init: Vec<[f32; 2]> = (0..n).map(|i| [i as f32 * 0.5, (i % 3) as f32]).collect();
        let xy = optimise(&edges, init, 200, 5, 1, &Monitor::new()).unwrap();
        let centre = |r: std::ops::Range<usize>| {
            let m = r.len() as f32;
            let (x, y) = r.fold((0.0, 0.0), |(x, y), i| (x + xy[i][0], y + xy[i][1]));
            [x / m, y / m]
        };
        let spread = |r: std::ops::Range<usize>, c: [f32; 2]| {
            r.map(|i| ((xy[i][0] - c[0]).powi(2) + (xy[i][1] - c[1]).powi(2)).sqrt())
                .fold(0.0f32, f32::max)
        };
        let (c0, c1) = (centre(0..10), centre(10..20));
        let gap = ((c0[0] - c1[0]).powi(2) + (c0[1] - c1[1]).powi(2)).sqrt();
        assert!(
            gap > 2.0 * spread(0..10, c0).max(spread(10..20, c1)),
            "gap {gap}, spreads {} {}",
            spread(0..10, c0),
            spread(10..20, c1)
        );
    }

    #[test]
    fn a_cancelled_monitor_stops_the_layout() {
        let edges = [Edge { a: 0, b: 1, w: 1.0 }];
        let m = Monitor::new();
        m.cancel();
        assert_eq!(
            optimise(&edges, vec![[0.0; 2], [1.0; 2]], 10, 1, 1, &m),
            Err(Cancelled)
        );
    }
}
