//! The pairwise decision and the tournament bracket of `docs/method.md` §5.
//!
//! The whole catalogue plays round by round: each round every item's matches are grouped by
//! class pair, and each pair's matches run through one tight kernel (its selected dimensions
//! and weights stay in L1). Items are processed in chunks so that a chunk's rows stay in cache
//! across its rounds; chunks run in parallel and are the unit of progress and cancellation.

use std::sync::OnceLock;

use ndarray::{ArrayView1, ArrayView2};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::moments::{LANES, combine, has_avx2, inv_norm, row_slice};
use crate::selection::PairRecord;
use crate::{Cancelled, ClassId, Monitor, PairKey};

/// One played match of an item's bracket.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Match {
    pub round: usize,
    pub a: ClassId,
    pub b: ClassId,
    pub winner: ClassId,
    /// `cos(x_D, K_a,D) − cos(x_D, K_b,D)` (positive: `a` wins).
    pub margin: f64,
}

/// Survivors entering each round of a `num_classes` bracket: `C, ⌈C/2⌉, …` down to 2.
pub fn round_sizes(num_classes: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    let mut s = num_classes;
    while s > 1 {
        sizes.push(s);
        s = s.div_ceil(2);
    }
    sizes
}

/// One random permutation per round for a bracket of `num_classes`, drawn from `seed`
/// (ChaCha8 seeded with `seed`, one Fisher–Yates shuffle per round, in round order).
pub fn draw_permutations(num_classes: usize, seed: u64) -> Vec<Vec<usize>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    round_sizes(num_classes)
        .into_iter()
        .map(|s| {
            let mut p: Vec<usize> = (0..s).collect();
            p.shuffle(&mut rng);
            p
        })
        .collect()
}

/// `Ok` when `perms` has one permutation of `0..s` per round of a `num_classes` bracket.
pub fn validate_permutations(perms: &[Vec<usize>], num_classes: usize) -> Result<(), String> {
    let sizes = round_sizes(num_classes);
    if perms.len() != sizes.len() {
        let rounds = |n: usize| {
            if n == 1 {
                "1 round".to_string()
            } else {
                format!("{n} rounds")
            }
        };
        return Err(format!(
            "the permutations have {} but a bracket of {num_classes} classes plays {} \
             (one permutation per round, of sizes {sizes:?})",
            rounds(perms.len()),
            rounds(sizes.len())
        ));
    }
    for (r, (p, &s)) in perms.iter().zip(&sizes).enumerate() {
        let mut seen = vec![false; s];
        let ok = p.len() == s
            && p.iter()
                .all(|&j| j < s && !std::mem::replace(&mut seen[j], true));
        if !ok {
            return Err(format!(
                "round {r} of the permutations: expected a permutation of 0..{s} \
                 (each of 0 to {} once), found {p:?}",
                s - 1
            ));
        }
    }
    Ok(())
}

/// A pair's decision, precomputed: the selected dimensions and
/// `w = K_a,D/‖K_a,D‖ − K_b,D/‖K_b,D‖`, so that
/// `cos(x_D, K_a,D) − cos(x_D, K_b,D) = (x_D · w) / ‖x_D‖` in one pass over `D`.
#[derive(Clone, Debug)]
pub struct PairKernel {
    dims: Vec<u32>,
    w: Vec<f64>,
    /// Row length the kernel was built for; every entry of `dims` is below it.
    d: usize,
}

impl PairKernel {
    pub fn new(classes: ArrayView2<f32>, rec: &PairRecord) -> PairKernel {
        let d = classes.ncols();
        assert!(
            rec.dims.iter().all(|&j| (j as usize) < d),
            "pair {:?} selects a dimension ≥ d = {d}",
            rec.pair
        );
        let pick = |c: ClassId| -> Vec<f32> {
            rec.dims.iter().map(|&j| classes[[c, j as usize]]).collect()
        };
        let (ka, kb) = (pick(rec.pair.a), pick(rec.pair.b));
        let (ia, ib) = (inv_norm(&ka), inv_norm(&kb));
        let w = ka
            .iter()
            .zip(&kb)
            .map(|(&va, &vb)| va as f64 * ia - vb as f64 * ib)
            .collect::<Vec<f64>>();
        // Ascending dimension order: the gathers then walk each row front to back.
        let mut by_dim: Vec<(u32, f64)> = rec.dims.iter().copied().zip(w).collect();
        by_dim.sort_unstable_by_key(|&(j, _)| j);
        let (dims, w) = by_dim.into_iter().unzip();
        PairKernel { dims, w, d }
    }

    /// `cos(x_D, K_a,D) − cos(x_D, K_b,D)` for a raw row (cosine is scale-free); a zero
    /// `x_D` has cosine 0 with both, so the margin is 0 and `a` wins.
    #[inline]
    pub fn margin(&self, row: &[f32]) -> f64 {
        assert_eq!(
            row.len(),
            self.d,
            "row length differs from the class embeddings"
        );
        // SAFETY (both calls): every index in `dims` is below `d` (checked in `new`) and
        // `d == row.len()`; the AVX2 build runs only on a CPU that has AVX2.
        #[cfg(target_arch = "x86_64")]
        let (dot, nn) = if has_avx2() {
            unsafe { gather_dot_avx2(row, &self.dims, &self.w) }
        } else {
            unsafe { gather_dot(row, &self.dims, &self.w) }
        };
        #[cfg(not(target_arch = "x86_64"))]
        let (dot, nn) = unsafe { gather_dot(row, &self.dims, &self.w) };
        if nn > 0.0 { dot / nn.sqrt() } else { 0.0 }
    }
}

/// `(Σ x_j·w, Σ x_j²)` over `j ∈ dims`, in the fixed lanes of `moments::combine`: element `i`
/// of the first `8⌊len/8⌋` goes to lane `i % 8`, the rest to lanes 0, 1, ….
///
/// This is the tournament's inner loop (C − 1 calls of k elements per item). Measured on
/// the 2-core AMD EPYC of `BENCHMARKS.md`: dropping the bounds checks saves about 20 %, and
/// the AVX2 arithmetic of `gather_dot_avx2` another 20 %; AVX2 gather instructions
/// (`vgatherdps`) were 1.5× slower than scalar loads, so there are none.
///
/// # Safety
/// Every entry of `dims` must be below `row.len()`.
#[inline(always)]
unsafe fn gather_dot(row: &[f32], dims: &[u32], w: &[f64]) -> (f64, f64) {
    debug_assert!(dims.iter().all(|&j| (j as usize) < row.len()));
    let mut dot = [0.0f64; LANES];
    let mut nn = [0.0f64; LANES];
    let mut d8 = dims.chunks_exact(LANES);
    let mut w8 = w.chunks_exact(LANES);
    for (d, w) in (&mut d8).zip(&mut w8) {
        for l in 0..LANES {
            // SAFETY: in bounds by the caller's contract.
            let v = unsafe { *row.get_unchecked(d[l] as usize) } as f64;
            dot[l] += v * w[l];
            nn[l] += v * v;
        }
    }
    for (l, (&j, &w)) in d8.remainder().iter().zip(w8.remainder()).enumerate() {
        let v = row[j as usize] as f64;
        dot[l] += v * w;
        nn[l] += v * v;
    }
    (combine(dot), combine(nn))
}

/// `gather_dot` with the arithmetic in AVX2 vectors: the eight lanes are two vectors of four,
/// each lane does the same multiply-then-add (no fused multiply-add) in the same order, so
/// the result is the same bits. The loads stay scalar (see `gather_dot`).
///
/// # Safety
/// The CPU must support AVX2 and every entry of `dims` must be below `row.len()`.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn gather_dot_avx2(row: &[f32], dims: &[u32], w: &[f64]) -> (f64, f64) {
    use std::arch::x86_64::*;
    debug_assert_eq!(dims.len(), w.len());
    let full = dims.len() / LANES * LANES;
    let (mut dot_lo, mut dot_hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let (mut nn_lo, mut nn_hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
    let mut i = 0;
    while i < full {
        // SAFETY: i + 8 ≤ full ≤ dims.len() = w.len(), and the row indices are in bounds by
        // the caller's contract.
        unsafe {
            let g = |k: usize| *row.get_unchecked(*dims.get_unchecked(i + k) as usize);
            let v_lo = _mm256_cvtps_pd(_mm_set_ps(g(3), g(2), g(1), g(0)));
            let v_hi = _mm256_cvtps_pd(_mm_set_ps(g(7), g(6), g(5), g(4)));
            let w_lo = _mm256_loadu_pd(w.as_ptr().add(i));
            let w_hi = _mm256_loadu_pd(w.as_ptr().add(i + 4));
            dot_lo = _mm256_add_pd(dot_lo, _mm256_mul_pd(v_lo, w_lo));
            dot_hi = _mm256_add_pd(dot_hi, _mm256_mul_pd(v_hi, w_hi));
            nn_lo = _mm256_add_pd(nn_lo, _mm256_mul_pd(v_lo, v_lo));
            nn_hi = _mm256_add_pd(nn_hi, _mm256_mul_pd(v_hi, v_hi));
        }
        i += LANES;
    }
    let mut dot = [0.0f64; LANES];
    let mut nn = [0.0f64; LANES];
    // SAFETY: each array holds eight f64: two unaligned stores of four.
    unsafe {
        _mm256_storeu_pd(dot.as_mut_ptr(), dot_lo);
        _mm256_storeu_pd(dot.as_mut_ptr().add(4), dot_hi);
        _mm256_storeu_pd(nn.as_mut_ptr(), nn_lo);
        _mm256_storeu_pd(nn.as_mut_ptr().add(4), nn_hi);
    }
    for (l, (&j, &w)) in dims[full..].iter().zip(&w[full..]).enumerate() {
        let v = row[j as usize] as f64;
        dot[l] += v * w;
        nn[l] += v * v;
    }
    (combine(dot), combine(nn))
}

#[cfg(test)]
#[test]
fn gather_dot_matches_a_plain_sum() {
    let row: Vec<f32> = (0..97)
        .map(|i| ((i * 37 % 23) as f32 - 11.0) / 7.0)
        .collect();
    for len in [0usize, 3, 8, 13, 64, 97] {
        let dims: Vec<u32> = (0..len as u32).map(|i| (i * 53) % 97).collect();
        let w: Vec<f64> = (0..len).map(|i| (i as f64 * 0.37).sin()).collect();
        // SAFETY: indices are < 97 = row.len().
        let (dot, nn) = unsafe { gather_dot(&row, &dims, &w) };
        #[cfg(target_arch = "x86_64")]
        if has_avx2() {
            // SAFETY: AVX2 checked; indices as above.
            assert_eq!(
                unsafe { gather_dot_avx2(&row, &dims, &w) },
                (dot, nn),
                "len {len}"
            );
        }
        let brute: f64 = dims
            .iter()
            .zip(&w)
            .map(|(&j, &w)| row[j as usize] as f64 * w)
            .sum();
        let brute_nn: f64 = dims.iter().map(|&j| (row[j as usize] as f64).powi(2)).sum();
        assert!(
            (dot - brute).abs() < 1e-12 && (nn - brute_nn).abs() < 1e-12,
            "len {len}"
        );
    }
}

/// `cos(x_D, K_a,D) − cos(x_D, K_b,D)` for `(a, b) = rec.pair` and `D = rec.dims`.
/// Bit-identical to the value the tournament computed for the same pair.
pub fn head_to_head(x: ArrayView1<f32>, classes: ArrayView2<f32>, rec: &PairRecord) -> f64 {
    let kernel = PairKernel::new(classes, rec);
    match x.as_slice() {
        Some(row) => kernel.margin(row),
        None => kernel.margin(&x.to_vec()),
    }
}

/// Winner of a match between `a < b` with margin `cos_a − cos_b`: ties go to `a`.
#[inline]
fn winner(a: ClassId, b: ClassId, margin: f64) -> ClassId {
    if margin >= 0.0 { a } else { b }
}

/// One item's bracket, match by match. `pairs` is sorted by pair (`PairKey::index` order) and
/// holds at least the pairs this item plays (every pair, or the played ones of a lazy run);
/// `perms` must pass `validate_permutations`.
pub fn trace(
    x: ArrayView1<f32>,
    classes: ArrayView2<f32>,
    pairs: &[PairRecord],
    perms: &[Vec<usize>],
) -> Vec<Match> {
    let num_classes = classes.nrows();
    let mut cols: Vec<ClassId> = (0..num_classes).collect();
    let mut matches = Vec::with_capacity(num_classes.saturating_sub(1));
    for (round, perm) in perms.iter().enumerate() {
        let shuffled: Vec<ClassId> = perm.iter().map(|&j| cols[j]).collect();
        let mut next = Vec::with_capacity(shuffled.len().div_ceil(2));
        for duel in shuffled.chunks_exact(2) {
            let key = PairKey::new(duel[0], duel[1]);
            let rec = match pairs.binary_search_by_key(&key, |r| r.pair) {
                Ok(at) => &pairs[at],
                Err(_) => panic!("pair {key:?} is not among the records given to trace"),
            };
            let margin = head_to_head(x, classes, rec);
            let w = winner(key.a, key.b, margin);
            matches.push(Match {
                round,
                a: key.a,
                b: key.b,
                winner: w,
                margin,
            });
            next.push(w);
        }
        if shuffled.len() % 2 == 1 {
            next.push(shuffled[shuffled.len() - 1]);
        }
        cols = next;
    }
    matches
}

/// Items per chunk: their rows (384 KB at d = 768) stay in L2 across the rounds (measured:
/// 128 beats 512 by a quarter; 64 is no better).
pub const CHUNK: usize = 128;

/// Number of progress units `run` reports for `n` items.
pub fn progress_units(n: usize) -> u64 {
    n.div_ceil(CHUNK) as u64
}

/// The bracket's result for every item.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    pub labels: Vec<ClassId>,
    /// `|cos_a − cos_b|` of each item's final match; 0 with a single class.
    pub final_margins: Vec<f64>,
}

/// Play every item's bracket. `pairs` is in `PairKey::index` order (every pair); `perms`
/// must pass `validate_permutations` for `classes.nrows()` classes.
pub fn run(
    x: ArrayView2<f32>,
    classes: ArrayView2<f32>,
    pairs: &[PairRecord],
    perms: &[Vec<usize>],
    monitor: &Monitor,
) -> Result<Outcome, Cancelled> {
    let num_classes = classes.nrows();
    assert_eq!(
        pairs.len(),
        num_classes * num_classes.saturating_sub(1) / 2,
        "one record per pair"
    );
    let kernels: Vec<PairKernel> = pairs
        .iter()
        .map(|rec| PairKernel::new(classes, rec))
        .collect();
    play_all(x, num_classes, &|p: usize| &kernels[p], perms, monitor)
}

/// `run` for many classes: a pair's record is computed by `record` the first time a match
/// needs it (once, whichever thread asks first), so the work follows the pairs played, not
/// C². Returns the outcome and the played pairs' records in `PairKey::index` order. The
/// labels are those of `run` given every pair's record.
pub fn run_lazy<F>(
    x: ArrayView2<f32>,
    classes: ArrayView2<f32>,
    record: F,
    perms: &[Vec<usize>],
    monitor: &Monitor,
) -> Result<(Outcome, Vec<PairRecord>), Cancelled>
where
    F: Fn(PairKey) -> PairRecord + Sync,
{
    let num_classes = classes.nrows();
    let num_pairs = num_classes * num_classes.saturating_sub(1) / 2;
    let slots: Vec<OnceLock<(PairRecord, PairKernel)>> =
        (0..num_pairs).map(|_| OnceLock::new()).collect();
    let kernel = |p: usize| -> &PairKernel {
        &slots[p]
            .get_or_init(|| {
                let rec = record(PairKey::from_index(p, num_classes));
                let kernel = PairKernel::new(classes, &rec);
                (rec, kernel)
            })
            .1
    };
    // Every item plays the same first round: its pairs in parallel up front, so that the
    // chunks don't queue behind each other for them.
    if let Some(first) = perms.first() {
        first.par_chunks_exact(2).try_for_each(|duel| {
            monitor.check()?;
            kernel(PairKey::new(duel[0], duel[1]).index(num_classes));
            Ok(())
        })?;
    }
    let outcome = play_all(x, num_classes, &kernel, perms, monitor)?;
    let played = slots
        .into_iter()
        .filter_map(|s| s.into_inner().map(|(rec, _)| rec))
        .collect();
    Ok((outcome, played))
}

fn play_all<'k>(
    x: ArrayView2<f32>,
    num_classes: usize,
    kernel: &(dyn Fn(usize) -> &'k PairKernel + Sync),
    perms: &[Vec<usize>],
    monitor: &Monitor,
) -> Result<Outcome, Cancelled> {
    let n = x.nrows();
    assert!(num_classes <= u16::MAX as usize, "at most 65535 classes");
    let mut labels = vec![0; n];
    let mut final_margins = vec![0.0; n];
    labels
        .par_chunks_mut(CHUNK)
        .zip(final_margins.par_chunks_mut(CHUNK))
        .enumerate()
        .try_for_each(|(c, (labels, margins))| {
            monitor.check()?;
            play_chunk(x, c * CHUNK, kernel, num_classes, perms, labels, margins);
            monitor.advance(1);
            Ok(())
        })?;
    Ok(Outcome {
        labels,
        final_margins,
    })
}

/// The bracket of items `start .. start + labels.len()`, round by round, each round's
/// matches grouped by class pair.
fn play_chunk<'k>(
    x: ArrayView2<f32>,
    start: usize,
    kernel: &(dyn Fn(usize) -> &'k PairKernel + Sync),
    num_classes: usize,
    perms: &[Vec<usize>],
    labels: &mut [ClassId],
    margins: &mut [f64],
) {
    let len = labels.len();
    let width = num_classes;
    // Survivor columns per item, row-major `len × width` (only the first `s` are live).
    let mut cols: Vec<u16> = (0..len).flat_map(|_| 0..width as u16).collect();
    let mut shuffled = vec![0u16; width];
    // (pair index, match slot) of each match, sorted to group the matches by pair: a sort
    // of the round's matches costs the same at any C, where counting into C² buckets did not.
    let mut by_pair: Vec<(u32, u32)> = Vec::new();
    let mut match_margin: Vec<f64> = Vec::new();
    let mut copy = Vec::new();

    for perm in perms {
        let s = perm.len();
        let per_item = s / 2;
        let total = len * per_item;
        // Reorder each item's columns and note which pair each of its matches is.
        by_pair.clear();
        for item in 0..len {
            let row = &mut cols[item * width..item * width + s];
            for (dst, &j) in shuffled.iter_mut().zip(perm) {
                *dst = row[j];
            }
            row.copy_from_slice(&shuffled[..s]);
            for m in 0..per_item {
                let key = PairKey::new(row[2 * m] as usize, row[2 * m + 1] as usize);
                by_pair.push((key.index(num_classes) as u32, (item * per_item + m) as u32));
            }
        }
        by_pair.sort_unstable();
        // Play each pair's matches with its kernel.
        match_margin.resize(total, 0.0);
        for group in by_pair.chunk_by(|x, y| x.0 == y.0) {
            let k = kernel(group[0].0 as usize);
            for &(_, slot) in group {
                let item = slot as usize / per_item;
                let row = row_slice(&x, start + item, &mut copy);
                match_margin[slot as usize] = k.margin(row);
            }
        }
        // Winners in match order, then the bye.
        for item in 0..len {
            let row = &mut cols[item * width..item * width + s];
            for m in 0..per_item {
                let (u, v) = (row[2 * m] as usize, row[2 * m + 1] as usize);
                let margin = match_margin[item * per_item + m];
                row[m] = winner(u.min(v), u.max(v), margin) as u16;
                if s == 2 {
                    margins[item] = margin.abs();
                }
            }
            if s % 2 == 1 {
                row[per_item] = row[s - 1];
            }
        }
    }
    for (item, label) in labels.iter_mut().enumerate() {
        *label = cols[item * width] as ClassId;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_sizes_halve_rounding_up() {
        assert_eq!(round_sizes(1), Vec::<usize>::new());
        assert_eq!(round_sizes(2), vec![2]);
        assert_eq!(round_sizes(3), vec![3, 2]);
        assert_eq!(round_sizes(13), vec![13, 7, 4, 2]);
        assert_eq!(round_sizes(16), vec![16, 8, 4, 2]);
    }

    #[test]
    fn drawn_permutations_are_valid_and_seeded() {
        for c in 1..20 {
            let p = draw_permutations(c, 7);
            validate_permutations(&p, c).unwrap();
            assert_eq!(p, draw_permutations(c, 7));
        }
        assert_ne!(draw_permutations(13, 1), draw_permutations(13, 2));
    }

    #[test]
    fn invalid_permutations_are_named_by_round() {
        let e = validate_permutations(&[vec![0, 1, 2], vec![1, 1]], 3).unwrap_err();
        assert!(e.starts_with("round 1 of the permutations: expected a permutation of 0..2"));
        let e = validate_permutations(&[vec![0, 1, 3], vec![1, 0]], 3).unwrap_err();
        assert!(e.starts_with("round 0"), "{e}");
        let e = validate_permutations(&[vec![0, 1, 2]], 3).unwrap_err();
        assert!(
            e.contains("have 1 round but a bracket of 3 classes plays 2 rounds"),
            "{e}"
        );
    }
}
