//! Per class pair: which items are sure enough to describe the pair, and which dimensions
//! separate it best by cross ratio.

use ndarray::{ArrayView2, Axis};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::moments::{Moments, accumulate_generic, row_slice, scaled_row_generic};
use crate::{Cancelled, ClassId, Monitor, PairKey, Params};

/// Everything the selection decided for one class pair; kept for the app's plots and
/// `pairs.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairRecord {
    pub pair: PairKey,
    /// Items whose baseline label is `a`, `b`.
    pub candidates: [usize; 2],
    /// Of those, the ones that passed the floor and the margin.
    pub kept: [usize; 2],
    /// The cosine floor and the margin this pair was filtered with.
    pub floor: f64,
    pub margin: f64,
    /// A side had fewer than `min_items` kept items: all dimensions are used.
    pub fallback: bool,
    /// The selected dimensions, best first.
    pub dims: Vec<u32>,
    /// Cross ratio of each selected dimension, parallel to `dims`; empty, like `ratios`, in
    /// the records a many-class run keeps.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dim_ratios: Vec<f64>,
    /// Cross ratio of every dimension, in dimension order; empty when the run kept only the
    /// selected dimensions' ratios (many classes; see `ModalityResult::pairs`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ratios: Vec<f64>,
}

/// The `p`-th percentile (0–100) of `values`, interpolating linearly between order
/// statistics exactly as numpy's default (`method="linear"`), including its rounding
/// (`numpy.lib._function_base_impl._lerp`). `None` for an empty slice. Reorders `values`.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let virtual_index = (n - 1) as f64 * (p / 100.0);
    let lo = (virtual_index.floor().max(0.0) as usize).min(n - 1);
    let gamma = virtual_index - lo as f64;
    let (_, &mut a, upper) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let b = if lo + 1 < n {
        upper.iter().copied().fold(f64::INFINITY, f64::min)
    } else {
        a
    };
    let diff = b - a;
    Some(if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    })
}

/// The thresholds that decide which items describe each pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Thresholds {
    /// One cosine floor for the modality.
    pub floor: f64,
    /// One margin per pair, in `PairKey::index` order.
    pub margins: Vec<f64>,
    /// Items of each class (by baseline label), in item order.
    pub members: Vec<Vec<u32>>,
    /// With many classes (above `MEMBER_COLUMNS_ABOVE`): per class `a`, its members' baseline
    /// cosines column by column — `member_scores[a][b * n_a + j]` is `S[members[a][j], b]` —
    /// so that a pair's margin test reads two short contiguous runs instead of two scattered
    /// values from every member's row of the `n × C` matrix (measured: at 1 000 classes those
    /// cache misses were most of the tournament's time). Empty with few classes.
    pub member_scores: Vec<Vec<f64>>,
}

impl Thresholds {
    /// `S[members[a][j], b]` for every member `j` of class `a`, in member order (`None`
    /// without the column layout).
    pub fn column(&self, a: ClassId, b: ClassId) -> Option<&[f64]> {
        let cols = self.member_scores.get(a)?;
        let n = self.members[a].len();
        Some(&cols[b * n..(b + 1) * n])
    }
}

/// Above this many classes `thresholds` keeps the column layout (`member_scores`): the pairs
/// then outnumber what a row-by-row read can serve from cache. It doubles the memory of the
/// baseline cosines while a modality is classified.
pub const MEMBER_COLUMNS_ABOVE: usize = 64;

/// Transpose each class's members' score rows into columns (see `Thresholds::member_scores`).
fn member_columns(scores: ArrayView2<f64>, members: &[Vec<u32>]) -> Vec<Vec<f64>> {
    let c = scores.ncols();
    members
        .par_iter()
        .map(|m| {
            let n = m.len();
            let mut cols = vec![0.0; n * c];
            for (j, &i) in m.iter().enumerate() {
                for (b, &v) in scores.row(i as usize).iter().enumerate() {
                    cols[b * n + j] = v;
                }
            }
            cols
        })
        .collect()
}

/// The floor (given, or the `floor_percentile` of every item's top cosine) and the per-pair
/// margins (given, or the `margin_percentile` of `|S[i,a] − S[i,b]|` over the pair's
/// candidates — before the floor is applied). A pair without candidates gets margin 0.
/// Checks `monitor` between pairs (at n = 10⁶ this stage takes a noticeable fraction of a
/// second).
pub fn thresholds(
    scores: ArrayView2<f64>,
    baseline: &[ClassId],
    params: &Params,
    monitor: &Monitor,
) -> Result<Thresholds, Cancelled> {
    let num_classes = scores.ncols();
    let mut members = vec![Vec::new(); num_classes];
    for (i, &c) in baseline.iter().enumerate() {
        members[c].push(i as u32);
    }
    let floor = params.floor.unwrap_or_else(|| {
        let mut top: Vec<f64> = baseline
            .iter()
            .enumerate()
            .map(|(i, &c)| scores[[i, c]])
            .collect();
        percentile(&mut top, params.floor_percentile).unwrap_or(0.0)
    });
    let member_scores = if num_classes > MEMBER_COLUMNS_ABOVE {
        member_columns(scores, &members)
    } else {
        Vec::new()
    };
    let th = Thresholds {
        floor,
        margins: Vec::new(),
        members,
        member_scores,
    };
    let margins = PairKey::all(num_classes)
        .into_par_iter()
        .map(|PairKey { a, b }| {
            monitor.check()?;
            if let Some(m) = params.margin {
                return Ok(m);
            }
            // The same gaps in the same order either way (class a's members, then b's).
            let mut gaps: Vec<f64> = match (th.column(a, a), th.column(a, b)) {
                (Some(own_a), Some(other_a)) => {
                    let (own_b, other_b) = (th.column(b, b).unwrap(), th.column(b, a).unwrap());
                    let gap = |(x, y): (&f64, &f64)| (x - y).abs();
                    own_a
                        .iter()
                        .zip(other_a)
                        .map(gap)
                        .chain(other_b.iter().zip(own_b).map(gap))
                        .collect()
                }
                _ => th.members[a]
                    .iter()
                    .chain(&th.members[b])
                    .map(|&i| (scores[[i as usize, a]] - scores[[i as usize, b]]).abs())
                    .collect(),
            };
            Ok(percentile(&mut gaps, params.margin_percentile).unwrap_or(0.0))
        })
        .collect::<Result<_, Cancelled>>()?;
    Ok(Thresholds { margins, ..th })
}

/// The moments each pair's sides are scored with, in a form that costs about a quarter of a
/// full pass per pair instead of a full pass.
///
/// An item whose baseline label is `a` has `max(S[i,a], S[i,b]) = S[i,a]` (its top cosine)
/// for every `b`, so the floor does not depend on the pair: `floor[a]` holds the moments of
/// the floor-passing items of class `a`, computed once. The margin does depend on the pair,
/// but by construction it removes only about `margin_percentile` % of the candidates, so
/// `removed[a][b]` holds the moments of the floor-passing items of class `a` that fail pair
/// `(a, b)`'s margin, and the kept side is `floor[a] − removed[a][b]`.
#[derive(Clone, Debug)]
pub struct KeptMoments {
    pub floor: Vec<Moments>,
    /// `removed[a][b]`; `removed[a][a]` is empty.
    pub removed: Vec<Vec<Moments>>,
}

impl KeptMoments {
    /// Moments of the items of class `side` kept for the pair `{side, other}`.
    pub fn kept(&self, side: ClassId, other: ClassId) -> Moments {
        let mut m = self.floor[side].clone();
        m.remove(&self.removed[side][other]);
        m
    }
}

/// Items per unit of work (and between cancellation checks) in the moments pass.
const CHUNK: usize = 1024;
/// Chunks in flight between two (ordered) merges: bounds memory at any n and C.
const BATCH: usize = 64;

/// Number of progress units `kept_moments` reports.
pub fn moments_progress_units(th: &Thresholds) -> u64 {
    th.members
        .iter()
        .map(|m| m.len().div_ceil(CHUNK) as u64)
        .sum()
}

/// One pass over the floor-passing items (see `KeptMoments`), parallel over chunks of each
/// class's items. An item exactly at a threshold is kept.
///
/// Chunk results are merged in a fixed order, so the sums (and hence every ratio and
/// label) are the same bits whatever the thread count or scheduling.
pub fn kept_moments(
    x: ArrayView2<f32>,
    inv_norms: &[f64],
    scores: ArrayView2<f64>,
    th: &Thresholds,
    monitor: &Monitor,
) -> Result<KeptMoments, Cancelled> {
    let (_, d) = x.dim();
    let num_classes = scores.ncols();
    let tasks: Vec<(ClassId, &[u32])> = (0..num_classes)
        .flat_map(|a| th.members[a].chunks(CHUNK).map(move |chunk| (a, chunk)))
        .collect();
    let mut floor = vec![Moments::new(d); num_classes];
    let mut removed = vec![vec![Moments::new(d); num_classes]; num_classes];
    for batch in tasks.chunks(BATCH) {
        let parts = batch
            .par_iter()
            .map(|&(a, chunk)| {
                monitor.check()?;
                let part = chunk_moments(x, inv_norms, scores, th, a, chunk);
                monitor.advance(1);
                Ok(part)
            })
            .collect::<Result<Vec<_>, Cancelled>>()?;
        for (&(a, _), (f, r)) in batch.iter().zip(parts) {
            floor[a].merge(&f);
            for (m, o) in removed[a].iter_mut().zip(&r) {
                m.merge(o);
            }
        }
    }
    Ok(KeptMoments { floor, removed })
}

crate::moments::dispatch! {
    /// Moments of one chunk of class `a`'s items: the floor-passing ones, and per other class
    /// `b` those of them that fail pair `(a, b)`'s margin.
    fn chunk_moments / chunk_moments_avx2 => chunk_moments_generic(
        x: ArrayView2<f32>,
        inv_norms: &[f64],
        scores: ArrayView2<f64>,
        th: &Thresholds,
        a: ClassId,
        chunk: &[u32]
    ) -> (Moments, Vec<Moments>)
}

#[inline(always)]
fn chunk_moments_generic(
    x: ArrayView2<f32>,
    inv_norms: &[f64],
    scores: ArrayView2<f64>,
    th: &Thresholds,
    a: ClassId,
    chunk: &[u32],
) -> (Moments, Vec<Moments>) {
    let (_, d) = x.dim();
    let num_classes = scores.ncols();
    let mut floor = Moments::new(d);
    let mut removed = vec![Moments::new(d); num_classes];
    // Which items count, and which removal sets each one joins.
    let mut kept: Vec<usize> = Vec::with_capacity(chunk.len());
    let mut targets: Vec<u32> = Vec::new();
    let mut ends: Vec<usize> = Vec::with_capacity(chunk.len());
    for &i in chunk {
        let i = i as usize;
        let s = scores.row(i);
        if s[a] < th.floor {
            continue;
        }
        kept.push(i);
        floor.count += 1;
        for b in (0..num_classes).filter(|&b| b != a) {
            let margin = th.margins[PairKey::new(a, b).index(num_classes)];
            if (s[a] - s[b]).abs() < margin {
                targets.push(b as u32);
                removed[b].count += 1;
            }
        }
        ends.push(targets.len());
    }
    // Each row once, widened and normalised once, added to its floor set and removal sets.
    // (Tiling the dimensions so the accumulators stay in L1 was measured slower: they fit
    // in L2 at C = 13, and the per-tile overhead outweighs the gain.)
    let mut buf = vec![0.0f64; d];
    let mut copy = Vec::new();
    let mut start = 0;
    for (&i, &end) in kept.iter().zip(&ends) {
        let row = row_slice(&x, i, &mut copy);
        scaled_row_generic(row, inv_norms[i], &mut buf);
        accumulate_generic(&mut floor.sum, &mut floor.sum_sq, &buf);
        for &b in &targets[start..end] {
            let m = &mut removed[b as usize];
            accumulate_generic(&mut m.sum, &mut m.sum_sq, &buf);
        }
        start = end;
    }
    (floor, removed)
}

/// Score every dimension of every pair by cross ratio and keep the top `k` (ties to the lower
/// dimension index), or all dimensions, in index order, when a side kept fewer than
/// `min_items` items. `k` is clamped to `1..=d`.
pub fn score_pairs(
    th: &Thresholds,
    km: &KeptMoments,
    d: usize,
    params: &Params,
) -> Vec<PairRecord> {
    PairKey::all(th.members.len())
        .into_par_iter()
        .map(|pair| {
            let (a, b) = (pair.a, pair.b);
            score_pair(th, pair, &km.kept(a, b), &km.kept(b, a), d, params, true)
        })
        .collect()
}

/// One pair's record from the moments of its two kept sides. Without `with_ratios` the
/// record's `ratios` and `dim_ratios` stay empty (the tournament needs only `dims`).
fn score_pair(
    th: &Thresholds,
    pair: PairKey,
    side_a: &Moments,
    side_b: &Moments,
    d: usize,
    params: &Params,
    with_ratios: bool,
) -> PairRecord {
    let num_classes = th.members.len();
    let k = params.k.clamp(1, d.max(1));
    let (a, b) = (pair.a, pair.b);
    let ratios = side_a.crossratios(side_b);
    let kept = [side_a.count as usize, side_b.count as usize];
    let fallback = kept.iter().any(|&n| n < params.min_items);
    let dims: Vec<u32> = if fallback {
        (0..d as u32).collect()
    } else {
        let mut order: Vec<u32> = (0..d as u32).collect();
        let by_ratio = |x: &u32, y: &u32| {
            ratios[*y as usize]
                .total_cmp(&ratios[*x as usize])
                .then(x.cmp(y))
        };
        if k < d {
            order.select_nth_unstable_by(k - 1, by_ratio);
            order.truncate(k);
        }
        order.sort_unstable_by(by_ratio);
        order
    };
    PairRecord {
        pair,
        candidates: [th.members[a].len(), th.members[b].len()],
        kept,
        floor: th.floor,
        margin: th.margins[pair.index(num_classes)],
        fallback,
        dim_ratios: if with_ratios {
            dims.iter().map(|&j| ratios[j as usize]).collect()
        } else {
            Vec::new()
        },
        dims,
        ratios: if with_ratios { ratios } else { Vec::new() },
    }
}

/// `C² · d` at or below this: every pair's removal moments are accumulated in one pass and
/// every pair's record is computed up front (64 MB of moments at most; at C = 13, d = 768
/// it is 2 MB). Above it, pairs are computed when first asked for (`PairBasis::record`).
pub const EAGER_PAIR_VALUES: usize = 1 << 22;

/// Whether a run with `num_classes` classes in `d` dimensions computes every pair up front.
pub fn all_pairs_up_front(num_classes: usize, d: usize) -> bool {
    num_classes.saturating_mul(num_classes).saturating_mul(d) <= EAGER_PAIR_VALUES
}

/// What any pair's record is computed from: the thresholds, the floor-passing moments of each
/// class, and — for few classes — every pair's removal moments (see `KeptMoments`). With many
/// classes the removal moments of a pair are accumulated when the pair is asked for, in the
/// same chunks and order as the one-pass version, so a pair's record is the same bits either
/// way.
#[derive(Clone, Debug)]
pub struct PairBasis {
    pub thresholds: Thresholds,
    pub floor: Vec<Moments>,
    removed: Option<Vec<Vec<Moments>>>,
    pub params: Params,
    pub d: usize,
}

impl PairBasis {
    /// The floor moments of every class and, when `all_pairs_up_front`, every pair's removal
    /// moments: one pass over the floor-passing items.
    pub fn build(
        x: ArrayView2<f32>,
        inv_norms: &[f64],
        scores: ArrayView2<f64>,
        thresholds: Thresholds,
        params: &Params,
        monitor: &Monitor,
    ) -> Result<PairBasis, Cancelled> {
        let up_front = all_pairs_up_front(scores.ncols(), x.ncols());
        PairBasis::build_with(x, inv_norms, scores, thresholds, params, up_front, monitor)
    }

    /// `build`, choosing whether to hold every pair's removal moments (`eager`) instead of
    /// deciding by size (for tests and benchmarks of both ways).
    pub fn build_with(
        x: ArrayView2<f32>,
        inv_norms: &[f64],
        scores: ArrayView2<f64>,
        thresholds: Thresholds,
        params: &Params,
        eager: bool,
        monitor: &Monitor,
    ) -> Result<PairBasis, Cancelled> {
        let d = x.ncols();
        let (floor, removed) = if eager {
            let km = kept_moments(x, inv_norms, scores, &thresholds, monitor)?;
            (km.floor, Some(km.removed))
        } else {
            (
                floor_moments(x, inv_norms, scores, &thresholds, monitor)?,
                None,
            )
        };
        Ok(PairBasis {
            thresholds,
            floor,
            removed,
            params: params.clone(),
            d,
        })
    }

    pub fn num_classes(&self) -> usize {
        self.floor.len()
    }

    /// Whether every pair's removal moments are held (then `record` costs `O(d log d)`).
    pub fn is_eager(&self) -> bool {
        self.removed.is_some()
    }

    /// Moments of the items of class `side` kept for the pair `{side, other}`.
    pub fn kept(
        &self,
        x: ArrayView2<f32>,
        inv_norms: &[f64],
        scores: ArrayView2<f64>,
        side: ClassId,
        other: ClassId,
    ) -> Moments {
        let mut m = self.floor[side].clone();
        match &self.removed {
            Some(removed) => m.remove(&removed[side][other]),
            None => m.remove(&removed_moments(
                x,
                inv_norms,
                scores,
                &self.thresholds,
                side,
                other,
            )),
        }
        m
    }

    /// The record of `pair`, with every dimension's ratio when `with_ratios`. `x`,
    /// `inv_norms` and `scores` must be the ones the basis was built from.
    pub fn record(
        &self,
        x: ArrayView2<f32>,
        inv_norms: &[f64],
        scores: ArrayView2<f64>,
        pair: PairKey,
        with_ratios: bool,
    ) -> PairRecord {
        let side_a = self.kept(x, inv_norms, scores, pair.a, pair.b);
        let side_b = self.kept(x, inv_norms, scores, pair.b, pair.a);
        score_pair(
            &self.thresholds,
            pair,
            &side_a,
            &side_b,
            self.d,
            &self.params,
            with_ratios,
        )
    }
}

/// The floor part of `kept_moments` alone (the same chunks and merge order, so the same
/// bits), for runs with too many classes to hold every pair's removal moments.
pub fn floor_moments(
    x: ArrayView2<f32>,
    inv_norms: &[f64],
    scores: ArrayView2<f64>,
    th: &Thresholds,
    monitor: &Monitor,
) -> Result<Vec<Moments>, Cancelled> {
    let d = x.ncols();
    let num_classes = scores.ncols();
    let tasks: Vec<(ClassId, &[u32])> = (0..num_classes)
        .flat_map(|a| th.members[a].chunks(CHUNK).map(move |chunk| (a, chunk)))
        .collect();
    let mut floor = vec![Moments::new(d); num_classes];
    for batch in tasks.chunks(BATCH) {
        let parts = batch
            .par_iter()
            .map(|&(a, chunk)| {
                monitor.check()?;
                let mut part = Moments::new(d);
                let mut buf = vec![0.0f64; d];
                let mut copy = Vec::new();
                for &i in chunk {
                    let i = i as usize;
                    if scores[[i, a]] < th.floor {
                        continue;
                    }
                    part.count += 1;
                    let row = row_slice(&x, i, &mut copy);
                    scaled_row_generic(row, inv_norms[i], &mut buf);
                    accumulate_generic(&mut part.sum, &mut part.sum_sq, &buf);
                }
                monitor.advance(1);
                Ok(part)
            })
            .collect::<Result<Vec<_>, Cancelled>>()?;
        for (&(a, _), part) in batch.iter().zip(parts) {
            floor[a].merge(&part);
        }
    }
    Ok(floor)
}

crate::moments::dispatch! {
    /// Moments of the floor-passing items of class `a` that fail pair `(a, b)`'s margin: one
    /// entry of `KeptMoments::removed`, accumulated in the same chunks and order. (With many
    /// classes this runs once per pair played: measured the largest cost of the tournament at
    /// 1 000 classes, so it takes the AVX2 build like the one-pass version.)
    pub fn removed_moments / removed_moments_avx2 => removed_moments_generic(
        x: ArrayView2<f32>,
        inv_norms: &[f64],
        scores: ArrayView2<f64>,
        th: &Thresholds,
        a: ClassId,
        b: ClassId
    ) -> Moments
}

#[inline(always)]
fn removed_moments_generic(
    x: ArrayView2<f32>,
    inv_norms: &[f64],
    scores: ArrayView2<f64>,
    th: &Thresholds,
    a: ClassId,
    b: ClassId,
) -> Moments {
    let d = x.ncols();
    let margin = th.margins[PairKey::new(a, b).index(scores.ncols())];
    let mut total = Moments::new(d);
    let mut buf = vec![0.0f64; d];
    let mut copy = Vec::new();
    let columns = th.column(a, a).zip(th.column(a, b));
    for (c, chunk) in th.members[a].chunks(CHUNK).enumerate() {
        let mut part = Moments::new(d);
        for (j, &i) in chunk.iter().enumerate() {
            let i = i as usize;
            let (sa, sb) = match columns {
                Some((own, other)) => (own[c * CHUNK + j], other[c * CHUNK + j]),
                None => (scores[[i, a]], scores[[i, b]]),
            };
            if sa < th.floor || (sa - sb).abs() >= margin {
                continue;
            }
            part.count += 1;
            let row = row_slice(&x, i, &mut copy);
            scaled_row_generic(row, inv_norms[i], &mut buf);
            accumulate_generic(&mut part.sum, &mut part.sum_sq, &buf);
        }
        total.merge(&part);
    }
    total
}

/// Thresholds, kept moments and pair records in one call (for tests and the app; `classify`
/// times the stages separately).
pub fn select(
    x: ArrayView2<f32>,
    inv_norms: &[f64],
    scores: ArrayView2<f64>,
    baseline: &[ClassId],
    params: &Params,
    monitor: &Monitor,
) -> Result<(f64, Vec<PairRecord>), Cancelled> {
    let th = thresholds(scores, baseline, params, monitor)?;
    let km = kept_moments(x, inv_norms, scores, &th, monitor)?;
    Ok((th.floor, score_pairs(&th, &km, x.len_of(Axis(1)), params)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_layout_gives_the_same_margins_and_removals_bit_for_bit() {
        use crate::synth::{SynthParams, generate};
        let s = generate(&SynthParams {
            n: 3000,
            d: 32,
            classes: MEMBER_COLUMNS_ABOVE + 6,
            seed: 2,
            ..SynthParams::default()
        });
        let m = Monitor::new();
        let base =
            crate::baseline::baseline(s.text_embeddings.view(), s.class_embeddings.view(), &m)
                .unwrap();
        let th = thresholds(base.scores.view(), &base.labels, &Params::default(), &m).unwrap();
        assert!(!th.member_scores.is_empty());
        let rows = Thresholds {
            member_scores: Vec::new(),
            ..th.clone()
        };
        // Margins as the row-by-row reads give them.
        let c = s.class_embeddings.nrows();
        for PairKey { a, b } in PairKey::all(c).into_iter().step_by(97) {
            let mut gaps: Vec<f64> = th.members[a]
                .iter()
                .chain(&th.members[b])
                .map(|&i| (base.scores[[i as usize, a]] - base.scores[[i as usize, b]]).abs())
                .collect();
            let want = percentile(&mut gaps, 25.0).unwrap_or(0.0);
            assert_eq!(
                th.margins[PairKey::new(a, b).index(c)].to_bits(),
                want.to_bits()
            );
            for (side, other) in [(a, b), (b, a)] {
                let x = s.text_embeddings.view();
                let cols =
                    removed_moments(x, &base.inv_norms, base.scores.view(), &th, side, other);
                let scattered =
                    removed_moments(x, &base.inv_norms, base.scores.view(), &rows, side, other);
                assert_eq!(cols, scattered);
            }
        }
    }

    #[test]
    fn percentile_matches_numpy_linear() {
        // numpy.percentile([1, 2, 3, 4], 10) == 1.3; [..., 25] == 1.75; 50 → 2.5; 100 → 4.
        let v = [4.0, 1.0, 3.0, 2.0];
        let p = |q| percentile(&mut v.clone(), q).unwrap();
        assert!((p(10.0) - 1.3).abs() < 1e-15);
        assert_eq!(p(25.0), 1.75);
        assert_eq!(p(50.0), 2.5);
        assert_eq!(p(0.0), 1.0);
        assert_eq!(p(100.0), 4.0);
        assert_eq!(percentile(&mut [7.0], 10.0), Some(7.0));
        assert_eq!(percentile(&mut [], 10.0), None);
        // numpy.percentile(np.arange(11) / 10, 10) == 0.1 exactly (an order statistic).
        let mut tenths: Vec<f64> = (0..11).map(|i| i as f64 / 10.0).collect();
        assert_eq!(percentile(&mut tenths, 10.0), Some(0.1));
    }

    #[test]
    fn percentile_reproduces_numpys_lerp_rounding() {
        // numpy.percentile([0.1, 0.7], 70) == 0.52 (b − diff·(1 − t) branch, t ≥ 0.5),
        // numpy.percentile([0.1, 0.7], 30) == 0.28 (a + diff·t branch).
        let mut v = [0.7, 0.1];
        let diff: f64 = 0.7 - 0.1;
        assert_eq!(percentile(&mut v, 70.0), Some(0.7 - diff * (1.0 - 0.7)));
        assert_eq!(percentile(&mut v, 30.0), Some(0.1 + diff * (0.3)));
    }
}
