//! Full-embedding cosine baseline: `S = X̂ K̂ᵀ` and its argmax.
//!
//! Rows of `X` are stored raw; each block of rows is widened into a small f64 buffer (its
//! norms computed on the way), multiplied with `K̂ᵀ` (matrixmultiply's dgemm), and each score
//! row scaled by `1/‖x_i‖`; so no second `n × d` copy ever exists and every dot product
//! accumulates in f64.

use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

use crate::moments::{inv_from_sum_sq, inv_norm, widen_sum_sq};
use crate::{Cancelled, ClassId, Monitor};

/// Rows per block: the f64 copy of a block (`BLOCK × d × 8` bytes, 1.5 MB at d = 768) stays
/// in cache, and a block is short enough to check for cancellation between blocks.
pub const BLOCK: usize = 256;

/// The baseline of one modality.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// `n × C` cosines.
    pub scores: Array2<f64>,
    /// `argmax_c scores[i, c]`, ties to the lower class index.
    pub labels: Vec<ClassId>,
    /// `1 / ‖x_i‖`, 0 for a zero row.
    pub inv_norms: Vec<f64>,
}

/// Index of the largest value; ties go to the lower index. `0` for an empty slice.
pub fn argmax(row: &[f64]) -> ClassId {
    let mut best = 0;
    for (c, &v) in row.iter().enumerate().skip(1) {
        if v > row[best] {
            best = c;
        }
    }
    best
}

/// `K̂ᵀ` (`d × C`) in f64; a zero class row stays zero (its cosine with anything is 0).
pub fn normalised_classes_t(classes: ArrayView2<f32>) -> Array2<f64> {
    let mut kt = Array2::<f64>::zeros((classes.ncols(), classes.nrows()));
    for (c, row) in classes.rows().into_iter().enumerate() {
        let row: Vec<f32> = row.to_vec();
        let inv = inv_norm(&row);
        for (j, &v) in row.iter().enumerate() {
            kt[[j, c]] = v as f64 * inv;
        }
    }
    kt
}

/// Cosines of every row of `x` (`n × d`, raw) with every row of `classes` (`C × d`, raw).
/// Reports one unit of progress per block of `BLOCK` rows.
pub fn baseline(
    x: ArrayView2<f32>,
    classes: ArrayView2<f32>,
    monitor: &Monitor,
) -> Result<Baseline, Cancelled> {
    assert_eq!(x.ncols(), classes.ncols(), "items and classes differ in d");
    let (n, d) = x.dim();
    let num_classes = classes.nrows();
    let kt = normalised_classes_t(classes);
    let mut scores = Array2::<f64>::zeros((n, num_classes));
    let mut labels = vec![0; n];
    let mut inv_norms = vec![0.0; n];

    scores
        .axis_chunks_iter_mut(Axis(0), BLOCK)
        .into_par_iter()
        .zip(labels.par_chunks_mut(BLOCK))
        .zip(inv_norms.par_chunks_mut(BLOCK))
        .enumerate()
        .try_for_each_init(
            || Array2::<f64>::zeros((BLOCK, d)),
            |buf, (b, ((mut s_block, l_block), inv_block))| {
                monitor.check()?;
                let start = b * BLOCK;
                let rows = l_block.len();
                let block = x.slice(s![start..start + rows, ..]);
                let mut xb = buf.slice_mut(s![..rows, ..]);
                let mut copy = Vec::with_capacity(d);
                for (r, (row, out)) in block.rows().into_iter().zip(xb.rows_mut()).enumerate() {
                    let row: &[f32] = match row.to_slice() {
                        Some(sl) => sl,
                        None => {
                            copy.clear();
                            copy.extend(row.iter().copied());
                            &copy
                        }
                    };
                    let out = out.into_slice().expect("block rows are contiguous");
                    inv_block[r] = inv_from_sum_sq(widen_sum_sq(row, out));
                }
                // Cosines of the raw rows, then each score row scaled by its 1/‖x‖: one pass
                // over the data fewer than normalising first.
                ndarray::linalg::general_mat_mul(1.0, &xb, &kt, 0.0, &mut s_block);
                for ((l, mut srow), &inv) in
                    l_block.iter_mut().zip(s_block.rows_mut()).zip(&*inv_block)
                {
                    srow *= inv;
                    *l = argmax(srow.as_slice().expect("score rows are contiguous"));
                }
                monitor.advance(1);
                Ok(())
            },
        )?;
    Ok(Baseline {
        scores,
        labels,
        inv_norms,
    })
}

/// Number of progress units `baseline` reports for `n` rows.
pub fn progress_units(n: usize) -> u64 {
    n.div_ceil(BLOCK) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cosines_and_labels_of_a_small_case() {
        let x = array![[2.0f32, 0.0], [1.0, 1.0], [0.0, -3.0], [0.0, 0.0]];
        let k = array![[1.0f32, 0.0], [0.0, 5.0]];
        let b = baseline(x.view(), k.view(), &Monitor::new()).unwrap();
        let h = std::f64::consts::FRAC_1_SQRT_2;
        let expected = array![[1.0, 0.0], [h, h], [0.0, -1.0], [0.0, 0.0]];
        for (got, want) in b.scores.iter().zip(expected.iter()) {
            assert!((got - want).abs() < 1e-15, "{got} vs {want}");
        }
        // Row 1 ties (up to rounding both are 1/√2) and row 3 is all zero: lower index.
        assert_eq!(b.labels, vec![0, 0, 0, 0]);
        assert_eq!(b.inv_norms, vec![0.5, 1.0 / 2f64.sqrt(), 1.0 / 3.0, 0.0]);
    }

    #[test]
    fn argmax_breaks_ties_to_the_lower_index() {
        assert_eq!(argmax(&[0.1, 0.5, 0.5, 0.2]), 1);
        assert_eq!(argmax(&[0.0, 0.0]), 0);
        assert_eq!(argmax(&[-1.0, 2.0]), 1);
    }

    #[test]
    fn fortran_order_input_gives_the_same_scores() {
        let x = array![[0.3f32, -1.0, 2.0], [1.0, 1.0, 0.5], [4.0, 0.0, -0.1]];
        let k = array![[1.0f32, 0.2, 0.0], [0.0, 1.0, 1.0]];
        let xf = x.t().as_standard_layout().into_owned().reversed_axes();
        assert!(!xf.is_standard_layout());
        let m = Monitor::new();
        let a = baseline(x.view(), k.view(), &m).unwrap();
        let b = baseline(xf.view(), k.view(), &m).unwrap();
        assert_eq!(a.scores, b.scores);
    }
}
