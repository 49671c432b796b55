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
        for ((s, q), &v) in self.sum.iter_mut().zip(&mut self.sum_sq).zip(row) {
            *s += v;
            *q += v * v;
        }
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

/// `1 / ‖row‖` in f64, or 0 for a zero row (its normalised values are then all 0).
#[inline]
pub fn inv_norm(row: &[f32]) -> f64 {
    let nn: f64 = row.iter().map(|&v| v as f64 * v as f64).sum();
    if nn > 0.0 { 1.0 / nn.sqrt() } else { 0.0 }
}

/// Write `row · scale` into `out` in f64.
#[inline]
pub fn scaled_row(row: &[f32], scale: f64, out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(row) {
        *o = v as f64 * scale;
    }
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
/// `labels[i] == Some(c)`. Parallel over row chunks; checks `monitor` between chunks.
pub fn class_moments(
    x: ArrayView2<f32>,
    labels: &[Option<ClassId>],
    num_classes: usize,
    monitor: &Monitor,
) -> Result<Vec<Moments>, Cancelled> {
    assert_eq!(x.nrows(), labels.len(), "one label per row");
    let d = x.ncols();
    let empty = || vec![Moments::new(d); num_classes];
    let starts: Vec<usize> = (0..x.nrows()).step_by(CHUNK).collect();
    starts
        .into_par_iter()
        .try_fold(empty, |mut acc, start| {
            monitor.check()?;
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
        .try_reduce(empty, |mut a, b| {
            for (m, o) in a.iter_mut().zip(&b) {
                m.merge(o);
            }
            Ok(a)
        })
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
