//! Per-class, per-dimension moments (count, sum, sum of squares) in f64. Additive, so they
//! merge across threads and shards.
//!
//! The values summed are the **L2-normalised** embedding values `x_ij / ‖x_i‖`, not the raw
//! ones: the baseline and every cosine of the method see items on the unit sphere, and an
//! item's length (which varies with the encoder's confidence, image size, text length …)
//! should not weigh on which dimensions separate two classes. The cross ratio is invariant to
//! per-dimension affine maps but not to per-row scaling, so this choice matters.

use std::ops::{Add, AddAssign, Sub, SubAssign};

use ndarray::ArrayView2;
use rayon::prelude::*;

use crate::{Cancelled, ClassId, Monitor};

/// Moments of one sample over all `d` dimensions.
#[derive(Clone, Debug, PartialEq)]
pub struct Moments {
    pub count: u64,
    pub sum: Vec<f64>,
    pub sum_sq: Vec<f64>,
}

impl Moments {
    /// The empty sample in `d` dimensions.
    pub fn new(d: usize) -> Moments {
        Moments {
            count: 0,
            sum: vec![0.0; d],
            sum_sq: vec![0.0; d],
        }
    }

    pub fn dim(&self) -> usize {
        self.sum.len()
    }

    /// Add one observation (all dimensions).
    #[inline]
    pub fn add_row(&mut self, row: &[f64]) {
        debug_assert_eq!(row.len(), self.dim());
        self.count += 1;
        accumulate(&mut self.sum, &mut self.sum_sq, row);
    }

    /// Add every observation of `other`.
    pub fn merge(&mut self, other: &Moments) {
        assert_eq!(self.dim(), other.dim(), "moments of different dimension");
        self.count += other.count;
        for (s, o) in self.sum.iter_mut().zip(&other.sum) {
            *s += o;
        }
        for (q, o) in self.sum_sq.iter_mut().zip(&other.sum_sq) {
            *q += o;
        }
    }

    /// Remove the observations of `other`, which must be a sub-sample of `self`.
    pub fn remove(&mut self, other: &Moments) {
        assert_eq!(self.dim(), other.dim(), "moments of different dimension");
        assert!(
            other.count <= self.count,
            "removing more observations than present"
        );
        self.count -= other.count;
        for (s, o) in self.sum.iter_mut().zip(&other.sum) {
            *s -= o;
        }
        for (q, o) in self.sum_sq.iter_mut().zip(&other.sum_sq) {
            *q -= o;
        }
    }

    /// `mean(x_j)`; 0 for the empty sample.
    pub fn mean(&self, j: usize) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum[j] / self.count as f64
        }
    }

    /// `mean(x_j²)`; 0 for the empty sample.
    pub fn mean_sq(&self, j: usize) -> f64 {
        if self.count == 0 {
            0.0
        } else {
            self.sum_sq[j] / self.count as f64
        }
    }

    /// Population variance of dimension `j` (see `crossvar::variance`).
    pub fn variance(&self, j: usize) -> f64 {
        crate::crossvar::variance(self.mean(j), self.mean_sq(j))
    }

    /// Cross ratio of every dimension between `self` and `other`. An empty side carries no
    /// information: every ratio is then 1.
    pub fn crossratios(&self, other: &Moments) -> Vec<f64> {
        assert_eq!(self.dim(), other.dim(), "moments of different dimension");
        if self.count == 0 || other.count == 0 {
            return vec![1.0; self.dim()];
        }
        (0..self.dim())
            .map(|j| {
                crate::crossvar::crossratio(
                    self.mean(j),
                    self.mean_sq(j),
                    other.mean(j),
                    other.mean_sq(j),
                )
            })
            .collect()
    }
}

impl AddAssign<&Moments> for Moments {
    fn add_assign(&mut self, rhs: &Moments) {
        self.merge(rhs);
    }
}

impl Add for Moments {
    type Output = Moments;
    fn add(mut self, rhs: Moments) -> Moments {
        self.merge(&rhs);
        self
    }
}

impl SubAssign<&Moments> for Moments {
    fn sub_assign(&mut self, rhs: &Moments) {
        self.remove(rhs);
    }
}

impl Sub for Moments {
    type Output = Moments;
    fn sub(mut self, rhs: Moments) -> Moments {
        self.remove(&rhs);
        self
    }
}

/// Whether the row kernels below may take their AVX2 build. Every kernel has one source,
/// compiled twice (baseline x86-64 and AVX2) and picked at run time; the lanes of each
/// reduction are fixed in the source, so both builds give bit-identical results.
#[inline]
pub(crate) fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Declares `pub fn $name` running `$generic` through an AVX2 build when available.
macro_rules! dispatch {
    ($(#[$doc:meta])* $vis:vis fn $name:ident / $avx2:ident => $generic:ident ($($arg:ident : $ty:ty),*) $(-> $ret:ty)?) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        fn $avx2($($arg: $ty),*) $(-> $ret)? {
            $generic($($arg),*)
        }

        $(#[$doc])*
        #[inline]
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            if $crate::moments::has_avx2() {
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { $avx2($($arg),*) };
            }
            $generic($($arg),*)
        }
    };
}

pub(crate) use dispatch;

/// Lanes of the f64 reductions: element `j` goes to lane `j % 8`, lanes are combined in a
/// fixed tree. Eight independent chains also hide the add latency.
pub(crate) const LANES: usize = 8;

#[inline(always)]
pub(crate) fn combine(l: [f64; LANES]) -> f64 {
    ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7]))
}

#[inline(always)]
fn sum_sq_generic(row: &[f32]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut chunks = row.chunks_exact(LANES);
    for c in &mut chunks {
        for l in 0..LANES {
            let v = c[l] as f64;
            acc[l] += v * v;
        }
    }
    for (l, &v) in chunks.remainder().iter().enumerate() {
        acc[l] += v as f64 * v as f64;
    }
    combine(acc)
}

dispatch! {
    /// `Σ row_j²` in f64, with the fixed lanes of this module.
    pub fn sum_sq / sum_sq_avx2 => sum_sq_generic(row: &[f32]) -> f64
}

/// `1 / ‖row‖` in f64, or 0 for a zero row (its normalised values are then all 0).
#[inline]
pub fn inv_norm(row: &[f32]) -> f64 {
    inv_from_sum_sq(sum_sq(row))
}

/// `1 / sqrt(nn)`, or 0 when `nn` is 0.
#[inline]
pub fn inv_from_sum_sq(nn: f64) -> f64 {
    if nn > 0.0 { 1.0 / nn.sqrt() } else { 0.0 }
}

#[inline(always)]
fn widen_sum_sq_generic(row: &[f32], out: &mut [f64]) -> f64 {
    let mut acc = [0.0f64; LANES];
    let mut chunks = row.chunks_exact(LANES);
    let mut outs = out.chunks_exact_mut(LANES);
    for (c, o) in (&mut chunks).zip(&mut outs) {
        for l in 0..LANES {
            let v = c[l] as f64;
            o[l] = v;
            acc[l] += v * v;
        }
    }
    for (l, (&v, o)) in chunks
        .remainder()
        .iter()
        .zip(outs.into_remainder())
        .enumerate()
    {
        *o = v as f64;
        acc[l] += v as f64 * v as f64;
    }
    combine(acc)
}

dispatch! {
    /// Write `row` into `out` in f64 and return `Σ row_j²` (bit-identical to `sum_sq`).
    pub fn widen_sum_sq / widen_sum_sq_avx2 => widen_sum_sq_generic(row: &[f32], out: &mut [f64]) -> f64
}

#[inline(always)]
pub(crate) fn scaled_row_generic(row: &[f32], scale: f64, out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(row) {
        *o = v as f64 * scale;
    }
}

dispatch! {
    /// Write `row · scale` into `out` in f64.
    pub fn scaled_row / scaled_row_avx2 => scaled_row_generic(row: &[f32], scale: f64, out: &mut [f64])
}

#[inline(always)]
pub(crate) fn accumulate_generic(sum: &mut [f64], sum_sq: &mut [f64], row: &[f64]) {
    for ((s, q), &v) in sum.iter_mut().zip(sum_sq.iter_mut()).zip(row) {
        *s += v;
        *q += v * v;
    }
}

dispatch! {
    /// `sum += row; sum_sq += row²`, element by element.
    fn accumulate / accumulate_avx2 => accumulate_generic(sum: &mut [f64], sum_sq: &mut [f64], row: &[f64])
}

/// Row `i` of `x` as a slice, copying into `buf` only when the array is not row-contiguous.
#[inline]
pub(crate) fn row_slice<'a>(
    x: &'a ArrayView2<'a, f32>,
    i: usize,
    buf: &'a mut Vec<f32>,
) -> &'a [f32] {
    let row = x.row(i);
    match row.to_slice() {
        Some(s) => s,
        None => {
            buf.clear();
            buf.extend(row.iter().copied());
            buf
        }
    }
}

/// Rows per unit of parallel work (and between cancellation checks).
const CHUNK: usize = 1024;

/// Moments of the normalised rows of each class: `result[c]` sums the items `i` with
/// `labels[i] == Some(c)`. Parallel over row chunks, merged in chunk order (so the sums are
/// the same bits at any thread count); checks `monitor` between chunks.
pub fn class_moments(
    x: ArrayView2<f32>,
    labels: &[Option<ClassId>],
    num_classes: usize,
    monitor: &Monitor,
) -> Result<Vec<Moments>, Cancelled> {
    assert_eq!(x.nrows(), labels.len(), "one label per row");
    let d = x.ncols();
    let starts: Vec<usize> = (0..x.nrows()).step_by(CHUNK).collect();
    let mut total = vec![Moments::new(d); num_classes];
    // A bounded number of chunk results in flight: memory stays flat at any n.
    for batch in starts.chunks(32) {
        let parts = batch
            .par_iter()
            .map(|&start| {
                monitor.check()?;
                let mut acc = vec![Moments::new(d); num_classes];
                let mut buf = vec![0.0; d];
                let mut copy = Vec::new();
                for (i, label) in labels.iter().enumerate().skip(start).take(CHUNK) {
                    if let Some(c) = *label {
                        let row = row_slice(&x, i, &mut copy);
                        scaled_row(row, inv_norm(row), &mut buf);
                        acc[c].add_row(&buf);
                    }
                }
                monitor.advance(1);
                Ok(acc)
            })
            .collect::<Result<Vec<_>, Cancelled>>()?;
        for part in parts {
            for (m, p) in total.iter_mut().zip(&part) {
                m.merge(p);
            }
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn class_moments_sum_normalised_rows_per_class() {
        let x = array![[3.0f32, 4.0], [0.0, 2.0], [1.0, 0.0], [0.0, 0.0]];
        let labels = [Some(0), Some(1), Some(1), None];
        let m = class_moments(x.view(), &labels, 2, &Monitor::new()).unwrap();
        assert_eq!(m[0].count, 1);
        assert!((m[0].sum[0] - 0.6).abs() < 1e-15 && (m[0].sum[1] - 0.8).abs() < 1e-15);
        assert_eq!(m[1].count, 2);
        assert_eq!(m[1].sum, vec![1.0, 1.0]);
        assert_eq!(m[1].sum_sq, vec![1.0, 1.0]);
        assert_eq!(m[1].mean(0), 0.5);
        assert_eq!(m[1].variance(0), 0.25);
    }

    #[test]
    fn merged_halves_equal_the_whole_and_removal_undoes_merge() {
        let mut a = Moments::new(2);
        a.add_row(&[1.0, 2.0]);
        let mut b = Moments::new(2);
        b.add_row(&[3.0, -1.0]);
        b.add_row(&[0.5, 0.5]);
        let mut whole = Moments::new(2);
        for r in [[1.0, 2.0], [3.0, -1.0], [0.5, 0.5]] {
            whole.add_row(&r);
        }
        assert_eq!(a.clone() + b.clone(), whole);
        assert_eq!(whole - b, a);
    }

    #[test]
    fn dispatched_kernels_match_their_portable_build() {
        for len in [0usize, 1, 7, 8, 9, 31, 768] {
            let row: Vec<f32> = (0..len)
                .map(|i| ((i * 29 % 17) as f32 - 8.0) / 3.0)
                .collect();
            let mut wide = vec![0.0; len];
            let nn = widen_sum_sq(&row, &mut wide);
            assert_eq!(nn, sum_sq(&row));
            assert_eq!(nn, sum_sq_generic(&row));
            assert!((nn - row.iter().map(|&v| (v as f64).powi(2)).sum::<f64>()).abs() < 1e-9);
            assert!(wide.iter().zip(&row).all(|(&w, &v)| w == v as f64));
            let mut a = vec![0.0; len];
            let mut b = vec![0.0; len];
            scaled_row(&row, 0.3, &mut a);
            scaled_row_generic(&row, 0.3, &mut b);
            assert_eq!(a, b);
        }
    }

    proptest::proptest! {
        #[test]
        fn merging_two_halves_gives_the_whole_and_ratios_match_the_definition(
            rows in proptest::collection::vec(proptest::collection::vec(-2.0f64..2.0, 3), 2..30),
            other in proptest::collection::vec(proptest::collection::vec(-2.0f64..2.0, 3), 2..30),
            split in 0usize..30,
        ) {
            let split = split.min(rows.len());
            let mut whole = Moments::new(3);
            let (mut left, mut right) = (Moments::new(3), Moments::new(3));
            for (i, r) in rows.iter().enumerate() {
                whole.add_row(r);
                if i < split { left.add_row(r) } else { right.add_row(r) }
            }
            let merged = left + right;
            proptest::prop_assert_eq!(merged.count, whole.count);
            for j in 0..3 {
                proptest::prop_assert!((merged.sum[j] - whole.sum[j]).abs() < 1e-12);
                proptest::prop_assert!((merged.sum_sq[j] - whole.sum_sq[j]).abs() < 1e-12);
            }

            let mut b = Moments::new(3);
            for r in &other {
                b.add_row(r);
            }
            let ratios = whole.crossratios(&b);
            for j in 0..3 {
                let xs: Vec<f64> = rows.iter().map(|r| r[j]).collect();
                let ys: Vec<f64> = other.iter().map(|r| r[j]).collect();
                let mut double_sum = 0.0;
                for x in &xs {
                    for y in &ys {
                        double_sum += (x - y) * (x - y);
                    }
                }
                let cv = double_sum / (2.0 * xs.len() as f64 * ys.len() as f64);
                let sd = |v: &[f64]| {
                    let m = v.iter().sum::<f64>() / v.len() as f64;
                    (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
                };
                let (sa, sb) = (sd(&xs), sd(&ys));
                proptest::prop_assume!(sa > 1e-3 && sb > 1e-3);
                let want = (cv / (sa * sb)).sqrt();
                proptest::prop_assert!((ratios[j] - want).abs() <= 1e-9 * want, "{} vs {}", ratios[j], want);
            }
        }
    }

    #[test]
    fn zero_row_has_zero_inverse_norm() {
        assert_eq!(inv_norm(&[0.0, 0.0]), 0.0);
        assert_eq!(inv_norm(&[3.0, 4.0]), 0.2);
    }

    #[test]
    fn cancelled_monitor_stops_the_pass() {
        let x = ndarray::Array2::<f32>::ones((10, 3));
        let m = Monitor::new();
        m.cancel();
        assert_eq!(
            class_moments(x.view(), &[Some(0); 10], 1, &m),
            Err(Cancelled)
        );
    }
}
