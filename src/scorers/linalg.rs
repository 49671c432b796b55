//! The little dense linear algebra the whitened scorer needs, without a LAPACK dependency:
//! a parallel Gram matrix, Cholesky factorisation and the inverse of a lower triangle.

use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

/// `Rᵀ R` for the rows of `r`, in f64. Chunks of rows go through the f32 gemm in parallel
/// (fast) and are summed in f64 (accurate across many chunks).
pub fn gram(r: ArrayView2<f32>) -> Array2<f64> {
    const CHUNK: usize = 2048;
    let d = r.ncols();
    let starts: Vec<usize> = (0..r.nrows()).step_by(CHUNK).collect();
    starts
        .par_iter()
        .map(|&s0| {
            let block = r.slice(s![s0..(s0 + CHUNK).min(r.nrows()), ..]);
            block.t().dot(&block).mapv(f64::from)
        })
        .reduce(|| Array2::<f64>::zeros((d, d)), |a, b| a + b)
}

/// Lower-triangular `L` with `L Lᵀ = a`, or `None` when `a` is not positive definite.
pub fn cholesky(a: &Array2<f64>) -> Option<Array2<f64>> {
    let d = a.nrows();
    let mut l = Array2::<f64>::zeros((d, d));
    for j in 0..d {
        let lj = l.row(j).to_owned();
        let diag = a[[j, j]] - lj.slice(s![..j]).dot(&lj.slice(s![..j]));
        if diag <= 0.0 || !diag.is_finite() {
            return None;
        }
        let ljj = diag.sqrt();
        l[[j, j]] = ljj;
        // Rows below j are independent given rows ≤ j: fill them in parallel.
        let (done, mut rest) = l.view_mut().split_at(Axis(0), j + 1);
        let lj = done.row(j);
        rest.axis_iter_mut(Axis(0))
            .into_par_iter()
            .enumerate()
            .for_each(|(off, mut row)| {
                let i = j + 1 + off;
                let dot = row.slice(s![..j]).dot(&lj.slice(s![..j]));
                row[j] = (a[[i, j]] - dot) / ljj;
            });
    }
    Some(l)
}

/// Inverse of a lower-triangular matrix with a non-zero diagonal (itself lower-triangular).
pub fn invert_lower(l: &Array2<f64>) -> Array2<f64> {
    let d = l.nrows();
    // Column j of L⁻¹ solves L y = e_j by forward substitution; columns are independent.
    let cols: Vec<Vec<f64>> = (0..d)
        .into_par_iter()
        .map(|j| {
            let mut y = vec![0.0; d];
            y[j] = 1.0 / l[[j, j]];
            for i in j + 1..d {
                let row = l.row(i);
                let mut acc = 0.0;
                for k in j..i {
                    acc += row[k] * y[k];
                }
                y[i] = -acc / l[[i, i]];
            }
            y
        })
        .collect();
    let mut inv = Array2::<f64>::zeros((d, d));
    for (j, col) in cols.into_iter().enumerate() {
        for (i, v) in col.into_iter().enumerate().skip(j) {
            inv[[i, j]] = v;
        }
    }
    inv
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cholesky_reproduces_a_hand_factored_matrix() {
        // [[4,2],[2,3]] = L Lᵀ with L = [[2,0],[1,√2]].
        let l = cholesky(&array![[4.0, 2.0], [2.0, 3.0]]).unwrap();
        assert!((l[[0, 0]] - 2.0).abs() < 1e-12 && (l[[1, 0]] - 1.0).abs() < 1e-12);
        assert!((l[[1, 1]] - 2f64.sqrt()).abs() < 1e-12 && l[[0, 1]] == 0.0);
        assert!(cholesky(&array![[1.0, 2.0], [2.0, 1.0]]).is_none());
    }

    #[test]
    fn lower_inverse_times_matrix_is_identity() {
        let l = array![[2.0, 0.0, 0.0], [1.0, 3.0, 0.0], [-1.0, 0.5, 4.0]];
        let p = invert_lower(&l).dot(&l);
        for i in 0..3 {
            for j in 0..3 {
                let want = if i == j { 1.0 } else { 0.0 };
                assert!((p[[i, j]] - want).abs() < 1e-12, "{p}");
            }
        }
    }

    #[test]
    fn gram_matches_the_plain_product_across_chunks() {
        let r = Array2::from_shape_fn((5000, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f32 - 5.0);
        let g = gram(r.view());
        let want = r.mapv(f64::from).t().dot(&r.mapv(f64::from));
        assert!((&g - &want).iter().all(|v| v.abs() < 1e-6));
    }
}
