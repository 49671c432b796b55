//! Approximate k nearest neighbours by cosine, for catalogues where the exact search (`n²·d`)
//! would take minutes: an inverted file over the leading principal directions, searched
//! among a bounded set of reference items.
//!
//! 1. The leading `dims` eigen-directions of the unit rows' second-moment matrix (estimated on
//!    an even stride of at most `SAMPLE` rows) span the search space; every row is projected
//!    and re-normalised there, so similarities are cosines in that subspace.
//! 2. The reference items are every item up to `reference` items, else an even stride of
//!    `reference` of them: the vote then reads the labels of a thinned neighbourhood, whose
//!    label shares estimate the same local class mix at a cost that stops growing with `n²`.
//! 3. Spherical k-means (seeded from an even stride, a few rounds) splits the reference items
//!    into `cells ≈ √(m · probe)` cells (`m` reference items), balancing the two costs below.
//! 4. Each item is compared exactly (gemm, grouped by cell) with the reference items of the
//!    `probe` cells whose centroids are nearest to it.
//!
//! Cost per modality: `n·d·dims` to project, `n·cells·dims` to assign and
//! `n·probe·(m/cells)·dims` to search, against `n²·d` exact. Every step has a fixed order
//! and no random state, so the neighbours are the same at any thread count.

use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

use super::linalg::{gram, top_eigen};
use super::{Neighbours, Rows};
use crate::{Cancelled, Modality, Monitor};

/// Rows used to estimate the principal directions and to train the cells.
const SAMPLE: usize = 32_768;
/// k-means rounds on the sample (the cells need only be reasonable, not optimal).
const ROUNDS: usize = 4;
/// Cells searched between two write-outs of their lists.
const CELL_BATCH: usize = 64;
/// Rows per gemm block (projection, assignment, search).
const BLOCK: usize = 512;

/// Progress units `neighbours` reports for `n` rows: each row once when projected, once when
/// assigned to its cells and once when searched (the three passes cost about the same).
pub fn progress_units(n: usize) -> u64 {
    3 * n as u64
}

/// Knobs of the approximate search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnnParams {
    /// Dimensions of the principal subspace searched.
    pub dims: usize,
    /// Cells searched per item (the nearest cells to it, its own first).
    pub probe: usize,
    /// At most this many reference items (an even stride) are searched.
    pub reference: usize,
}

/// The `k` most cosine-similar other reference rows of every row in the
/// `params.dims`-dimensional principal subspace, best first (ties to the lower index); `k`
/// is clamped to `m − 1` for `m` reference rows. Advances `monitor` by `progress_units(n)`
/// in all; stops within one block or one cell's search of a cancel.
pub fn neighbours(
    x: Rows,
    k: usize,
    modality: Modality,
    params: AnnParams,
    monitor: &Monitor,
) -> Result<Neighbours, Cancelled> {
    let n = x.nrows();
    let stride = n.div_ceil(params.reference.max(2)).max(1);
    let refs: Vec<u32> = (0..n as u32).step_by(stride).collect();
    let k = k.min(refs.len().saturating_sub(1));
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
    let y = project(x, params.dims, monitor)?;
    monitor.check()?;
    let probe = params.probe.max(1);
    let ref_rows = y.select(
        Axis(0),
        &refs.iter().map(|&i| i as usize).collect::<Vec<_>>(),
    );
    let num_cells =
        ((refs.len() as f64 * probe as f64).sqrt().round() as usize).clamp(1, refs.len());
    let centroids = train_cells(ref_rows.view(), num_cells);
    drop(ref_rows);
    let num_cells = centroids.nrows();
    let probe = probe.min(num_cells);
    monitor.check()?;
    let probes = assign(y.view(), centroids.view(), probe, monitor)?;
    let primary = |i: u32| probes[i as usize * probe];

    // Reference rows in cell order, so that each cell's candidates are one block.
    let (ref_order, ref_start) = group_by_cell(refs, num_cells, primary);
    let ref_sorted = y.select(
        Axis(0),
        &ref_order.iter().map(|&i| i as usize).collect::<Vec<_>>(),
    );
    let cells = Cells {
        y: y.view(),
        rows: ref_sorted.view(),
        order: &ref_order,
        start: &ref_start,
    };
    // Queries grouped by their nearest cell: neighbouring queries probe the same cells.
    let (query_order, query_start) = group_by_cell((0..n as u32).collect(), num_cells, primary);

    // Cells in batches, each batch's lists written out before the next: the lists of every
    // item at once would add a third of the neighbour arrays' size again to peak memory.
    let cell_ids: Vec<usize> = (0..num_cells).collect();
    for batch in cell_ids.chunks(CELL_BATCH) {
        let lists: Vec<Vec<Vec<(f32, u32)>>> = batch
            .par_iter()
            .map(|&c| {
                monitor.check()?;
                let queries = &query_order[query_start[c]..query_start[c + 1]];
                let out = search(&cells, queries, &probes, probe, k);
                monitor.advance(queries.len() as u64);
                Ok(out)
            })
            .collect::<Result<_, Cancelled>>()?;
        for (&c, cell) in batch.iter().zip(lists) {
            let queries = &query_order[query_start[c]..query_start[c + 1]];
            for (&i, list) in queries.iter().zip(cell) {
                for (j, (sim, idx)) in list.into_iter().enumerate() {
                    indices[[i as usize, j]] = idx;
                    sims[[i as usize, j]] = sim;
                }
            }
        }
    }
    Ok(Neighbours {
        modality,
        k,
        indices,
        similarities: sims,
    })
}

/// `rows` ordered by cell (stable), and where each cell starts (`num_cells + 1` entries).
fn group_by_cell(
    mut rows: Vec<u32>,
    num_cells: usize,
    cell: impl Fn(u32) -> u32,
) -> (Vec<u32>, Vec<usize>) {
    rows.sort_by_key(|&i| cell(i));
    let mut start = vec![0usize; num_cells + 1];
    for &i in &rows {
        start[cell(i) as usize + 1] += 1;
    }
    for c in 0..num_cells {
        start[c + 1] += start[c];
    }
    (rows, start)
}

/// The projected rows `y`, and the reference rows grouped by nearest cell: cell `c` is rows
/// `start[c]..start[c + 1]` of `rows`, which are the rows `order[start[c]..start[c + 1]]`
/// of `y`.
struct Cells<'a> {
    y: ArrayView2<'a, f32>,
    rows: ArrayView2<'a, f32>,
    order: &'a [u32],
    start: &'a [usize],
}

/// Unit rows projected on the leading `dims` directions of their second moment, each
/// re-normalised (a zero projection stays zero).
pub fn project(x: Rows, dims: usize, monitor: &Monitor) -> Result<Array2<f32>, Cancelled> {
    let (n, d) = (x.nrows(), x.ncols());
    let dims = dims.clamp(1, d);
    let stride = n.div_ceil(SAMPLE).max(1);
    let sample: Vec<usize> = (0..n).step_by(stride).collect();
    let mut rows = Array2::<f32>::zeros((sample.len(), d));
    for (mut r, &i) in rows.axis_iter_mut(Axis(0)).zip(&sample) {
        let inv = x.inv_norm[i];
        r.zip_mut_with(&x.raw.row(i), |o, &v| *o = v * inv);
    }
    let mut second = gram(rows.view());
    second.mapv_inplace(|v| v / sample.len().max(1) as f64);
    let (_, basis) = top_eigen(&second, dims, 8);
    let basis = basis.mapv(|v| v as f32);
    monitor.check()?;
    let mut y = Array2::<f32>::zeros((n, basis.ncols()));
    y.axis_chunks_iter_mut(Axis(0), BLOCK)
        .into_par_iter()
        .enumerate()
        .try_for_each(|(b, mut out)| {
            monitor.check()?;
            let r0 = b * BLOCK;
            let block = x.raw.slice(s![r0..r0 + out.nrows(), ..]);
            ndarray::linalg::general_mat_mul(1.0, &block, &basis, 0.0, &mut out);
            for mut row in out.rows_mut() {
                let nn: f32 = row.iter().map(|v| v * v).sum();
                if nn > 0.0 {
                    let inv = nn.sqrt().recip();
                    row.mapv_inplace(|v| v * inv);
                }
            }
            monitor.advance(out.nrows() as u64);
            Ok(())
        })?;
    Ok(y)
}

/// Spherical k-means on an even stride of at most `SAMPLE` rows, started from an even
/// stride of them: `num_cells` unit centroids (fewer when the sample is smaller).
fn train_cells(y: ArrayView2<f32>, num_cells: usize) -> Array2<f32> {
    let n = y.nrows();
    let stride = n.div_ceil(SAMPLE.max(num_cells)).max(1);
    let sample = y.slice(s![..;stride, ..]).to_owned();
    let num_cells = num_cells.min(sample.nrows()).max(1);
    let step = sample.nrows() / num_cells;
    let mut centroids = sample
        .slice(s![..;step, ..])
        .slice(s![..num_cells, ..])
        .to_owned();
    for _ in 0..ROUNDS {
        let cell_of = assign(sample.view(), centroids.view(), 1, &Monitor::new())
            .expect("a private monitor is never cancelled");
        let mut sums = Array2::<f32>::zeros(centroids.raw_dim());
        for (row, &c) in sample.rows().into_iter().zip(&cell_of) {
            let mut s = sums.row_mut(c as usize);
            s += &row;
        }
        for (mut c, s) in centroids.rows_mut().into_iter().zip(sums.rows()) {
            let nn: f32 = s.iter().map(|v| v * v).sum();
            // An emptied cell keeps its old centroid.
            if nn > 0.0 {
                let inv = nn.sqrt().recip();
                c.zip_mut_with(&s, |o, &v| *o = v * inv);
            }
        }
    }
    centroids
}

/// The `probe` most similar centroids of every row, best first (ties to the lower cell):
/// row `i`'s are entries `i·probe .. (i + 1)·probe`.
fn assign(
    y: ArrayView2<f32>,
    centroids: ArrayView2<f32>,
    probe: usize,
    monitor: &Monitor,
) -> Result<Vec<u32>, Cancelled> {
    let ct = centroids.t();
    let parts: Vec<Vec<u32>> = (0..y.nrows())
        .step_by(BLOCK)
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|r0| {
            monitor.check()?;
            let block = y.slice(s![r0..(r0 + BLOCK).min(y.nrows()), ..]);
            let dots = block.dot(&ct);
            let mut out = Vec::with_capacity(block.nrows() * probe);
            let mut best: Vec<(f32, u32)> = Vec::with_capacity(probe + 1);
            for r in dots.rows() {
                best.clear();
                for (c, &v) in r.iter().enumerate() {
                    if best.len() == probe && v <= best[probe - 1].0 {
                        continue;
                    }
                    let pos = best.partition_point(|&(b, _)| b >= v);
                    best.insert(pos, (v, c as u32));
                    best.truncate(probe);
                }
                out.extend(best.iter().map(|&(_, c)| c));
            }
            monitor.advance(block.nrows() as u64);
            Ok(out)
        })
        .collect::<Result<_, Cancelled>>()?;
    Ok(parts.concat())
}

/// Exact top-`k` of each of `queries` among the reference rows of the cells it probes, in
/// the order of `queries`. A row whose probed cells hold fewer than `k` others is compared
/// with every reference row instead.
fn search(
    cells: &Cells,
    queries: &[u32],
    probes: &[u32],
    probe: usize,
    k: usize,
) -> Vec<Vec<(f32, u32)>> {
    let r = cells.rows.ncols();
    // (probed cell, query position), grouped by the probed cell.
    let mut wants: Vec<(u32, u32)> = queries
        .iter()
        .enumerate()
        .flat_map(|(q, &i)| {
            probes[i as usize * probe..(i as usize + 1) * probe]
                .iter()
                .map(move |&p| (p, q as u32))
        })
        .collect();
    let Some(&first) = queries.first() else {
        return Vec::new();
    };
    // The queries' own cell first: their nearest candidates then raise the bar early and
    // most later candidates fail one comparison.
    let own = probes[first as usize * probe];
    wants.sort_unstable_by_key(|&(p, q)| (p != own, p, q));
    let mut lists: Vec<Vec<(f32, u32)>> = vec![Vec::with_capacity(k + 1); queries.len()];
    for group in wants.chunk_by(|a, b| a.0 == b.0) {
        let cell = group[0].0 as usize;
        let (lo, hi) = (cells.start[cell], cells.start[cell + 1]);
        if lo == hi {
            continue;
        }
        let cand = cells.rows.slice(s![lo..hi, ..]);
        let ids = &cells.order[lo..hi];
        for block in group.chunks(BLOCK) {
            let mut q = Array2::<f32>::zeros((block.len(), r));
            for (mut row, &(_, pos)) in q.rows_mut().into_iter().zip(block) {
                row.assign(&cells.y.row(queries[pos as usize] as usize));
            }
            let sims = q.dot(&cand.t());
            for (&(_, pos), srow) in block.iter().zip(sims.rows()) {
                let me = queries[pos as usize];
                let list = &mut lists[pos as usize];
                insert_best(list, srow.iter().copied().zip(ids.iter().copied()), me, k);
            }
        }
    }
    for (pos, list) in lists.iter_mut().enumerate() {
        if list.len() < k {
            let me = queries[pos];
            let all = cells.rows.dot(&cells.y.row(me as usize));
            list.clear();
            insert_best(
                list,
                all.iter().copied().zip(cells.order.iter().copied()),
                me,
                k,
            );
        }
    }
    lists
}

/// Merge `(similarity, row)` candidates into the sorted best-`k` list (more similar first,
/// ties to the lower row), skipping row `me`.
fn insert_best(
    list: &mut Vec<(f32, u32)>,
    candidates: impl Iterator<Item = (f32, u32)>,
    me: u32,
    k: usize,
) {
    let better = |a: (f32, u32), b: (f32, u32)| a.0 > b.0 || (a.0 == b.0 && a.1 < b.1);
    let mut bar = if list.len() == k {
        list[k - 1].0
    } else {
        f32::NEG_INFINITY
    };
    for (sim, j) in candidates {
        // One comparison for the many that cannot enter; ties go the long way.
        if sim < bar || j == me || (list.len() == k && !better((sim, j), list[k - 1])) {
            continue;
        }
        let pos = list.partition_point(|&e| better(e, (sim, j)));
        list.insert(pos, (sim, j));
        list.truncate(k);
        if list.len() == k {
            bar = list[k - 1].0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::View;
    use rand::{Rng, SeedableRng};

    /// `clusters` tight clusters of `per` rows around random unit centres in `d` dimensions.
    fn clustered(clusters: usize, per: usize, d: usize, seed: u64) -> Array2<f32> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let centres = Array2::from_shape_fn((clusters, d), |_| rng.random_range(-1.0f32..1.0));
        Array2::from_shape_fn((clusters * per, d), |(i, j)| {
            centres[[i % clusters, j]] + rng.random_range(-0.05f32..0.05)
        })
    }

    fn exact(x: &Array2<f32>, k: usize) -> Vec<Vec<u32>> {
        let u = crate::scorers::unit_rows(x.view());
        (0..u.nrows())
            .map(|i| {
                let mut all: Vec<(f32, u32)> = (0..u.nrows())
                    .filter(|&j| j != i)
                    .map(|j| (u.row(i).dot(&u.row(j)), j as u32))
                    .collect();
                all.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
                all.into_iter().take(k).map(|(_, j)| j).collect()
            })
            .collect()
    }

    const PARAMS: AnnParams = AnnParams {
        dims: 16,
        probe: 4,
        reference: 100_000,
    };

    #[test]
    fn on_clustered_data_it_finds_the_exact_neighbours_the_same_at_any_thread_count() {
        let x = clustered(30, 40, 16, 1);
        let view = View::owned(x.clone());
        let nb = neighbours(view.rows(), 10, Modality::Image, PARAMS, &Monitor::new()).unwrap();
        let want = exact(&x, 10);
        let hits: usize = (0..x.nrows())
            .map(|i| {
                let got = nb.indices.row(i);
                want[i]
                    .iter()
                    .filter(|j| got.iter().any(|g| g == *j))
                    .count()
            })
            .sum();
        let recall = hits as f64 / (10 * x.nrows()) as f64;
        assert!(recall > 0.95, "recall {recall}");
        // Every list is sorted best first and never holds the item itself.
        for i in 0..x.nrows() {
            let s = nb.similarities.row(i);
            assert!(
                s.iter().zip(s.iter().skip(1)).all(|(a, b)| a >= b),
                "row {i}"
            );
            assert!(
                nb.indices.row(i).iter().all(|&j| j as usize != i),
                "row {i}"
            );
        }
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| neighbours(view.rows(), 10, Modality::Image, PARAMS, &Monitor::new()))
            .unwrap();
        assert_eq!(one, nb);
    }

    #[test]
    fn neighbours_come_from_the_reference_items_only() {
        let x = clustered(20, 50, 16, 2);
        let view = View::owned(x);
        let params = AnnParams {
            reference: 250,
            ..PARAMS
        };
        let nb = neighbours(view.rows(), 5, Modality::Text, params, &Monitor::new()).unwrap();
        // 1,000 rows, at most 250 references: every 4th row.
        assert!(nb.indices.iter().all(|&j| j % 4 == 0));
        assert!((0..1000).all(|i| nb.indices.row(i).iter().all(|&j| j as usize != i)));
    }

    #[test]
    fn progress_counts_every_row_in_each_of_the_three_passes() {
        let view = View::owned(clustered(12, 25, 8, 4));
        let m = Monitor::new();
        m.begin(crate::Stage::Audit, None, progress_units(300));
        neighbours(view.rows(), 5, Modality::Image, PARAMS, &m).unwrap();
        let p = m.sample();
        assert_eq!((p.done, p.total), (900, 900));
    }

    #[test]
    fn a_cancelled_monitor_stops_the_search() {
        let view = View::owned(clustered(10, 30, 8, 3));
        let m = Monitor::new();
        m.cancel();
        assert_eq!(
            neighbours(view.rows(), 5, Modality::Image, PARAMS, &m),
            Err(Cancelled)
        );
    }
}
