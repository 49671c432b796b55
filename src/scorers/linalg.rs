//! The little dense linear algebra the whitened scorer needs, without a LAPACK dependency:
//! a parallel Gram matrix, Cholesky factorisation and the inverse of a lower triangle.

use ndarray::{Array2, ArrayView2, Axis, s};
use rayon::prelude::*;

/// `Rᵀ R` for the rows of `r`, in f64. Chunks of rows go through the f32 gemm in parallel
/// (fast) and are summed in f64 (accurate across many chunks). Only the blocks on and above
/// the diagonal are multiplied (the product is symmetric): with 4 column blocks, 10 of 16.
pub fn gram(r: ArrayView2<f32>) -> Array2<f64> {
    const CHUNK: usize = 2048;
    let d = r.ncols();
    let nb = if d >= 256 { 4 } else { 1 };
    let edges: Vec<usize> = (0..=nb).map(|b| b * d / nb).collect();
    let tasks: Vec<(usize, usize, usize)> = (0..r.nrows())
        .step_by(CHUNK)
        .flat_map(|s0| (0..nb).flat_map(move |bi| (bi..nb).map(move |bj| (s0, bi, bj))))
        .collect();
    let blocks: Vec<((usize, usize), Array2<f64>)> = tasks
        .par_iter()
        .map(|&(s0, bi, bj)| {
            let rows = s0..(s0 + CHUNK).min(r.nrows());
            let a = r.slice(s![rows.clone(), edges[bi]..edges[bi + 1]]);
            let b = r.slice(s![rows, edges[bj]..edges[bj + 1]]);
            ((bi, bj), a.t().dot(&b).mapv(f64::from))
        })
        .collect();
    let mut g = Array2::<f64>::zeros((d, d));
    for ((bi, bj), blk) in blocks {
        let (r0, r1, c0, c1) = (edges[bi], edges[bi + 1], edges[bj], edges[bj + 1]);
        g.slice_mut(s![r0..r1, c0..c1])
            .zip_mut_with(&blk, |x, &v| *x += v);
        if bi != bj {
            g.slice_mut(s![c0..c1, r0..r1])
                .zip_mut_with(&blk.t(), |x, &v| *x += v);
        }
    }
    g
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
    fn gram_matches_the_plain_product_across_column_blocks() {
        let r = Array2::from_shape_fn((2100, 259), |(i, j)| {
            ((i * 13 + j * 5) % 17) as f32 / 8.0 - 1.0
        });
        let g = gram(r.view());
        let want = r.mapv(f64::from).t().dot(&r.mapv(f64::from));
        assert!(
            (&g - &want)
                .iter()
                .all(|v| v.abs() < 1e-6 * want[[0, 0]].abs().max(1.0))
        );
    }

    #[test]
    fn gram_matches_the_plain_product_across_chunks() {
        let r = Array2::from_shape_fn((5000, 3), |(i, j)| ((i * 7 + j * 3) % 11) as f32 - 5.0);
        let g = gram(r.view());
        let want = r.mapv(f64::from).t().dot(&r.mapv(f64::from));
        assert!((&g - &want).iter().all(|v| v.abs() < 1e-6));
    }
}

/// Solve `L Lᵀ X = B` for `X` (columns of `b` are right-hand sides), `L` lower-triangular.
pub fn cholesky_solve(l: &Array2<f64>, b: &Array2<f64>) -> Array2<f64> {
    let d = l.nrows();
    let mut x = b.clone();
    for mut col in x.columns_mut() {
        // Forward: L y = b.
        for i in 0..d {
            let mut acc = col[i];
            for k in 0..i {
                acc -= l[[i, k]] * col[k];
            }
            col[i] = acc / l[[i, i]];
        }
        // Backward: Lᵀ x = y.
        for i in (0..d).rev() {
            let mut acc = col[i];
            for k in i + 1..d {
                acc -= l[[k, i]] * col[k];
            }
            col[i] = acc / l[[i, i]];
        }
    }
    x
}

/// Eigenvalues (descending) and eigenvectors (columns) of a small symmetric matrix, by cyclic
/// Jacobi rotations.
pub fn symmetric_eigen(a: &Array2<f64>) -> (Vec<f64>, Array2<f64>) {
    let p = a.nrows();
    let mut m = a.clone();
    let mut v = Array2::<f64>::eye(p);
    for _sweep in 0..60 {
        let off: f64 = (0..p)
            .flat_map(|i| (0..p).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| m[[i, j]] * m[[i, j]])
            .sum();
        let scale: f64 = m.iter().map(|x| x * x).sum::<f64>().max(1e-300);
        if off <= 1e-24 * scale {
            break;
        }
        for i in 0..p {
            for j in i + 1..p {
                let apq = m[[i, j]];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (m[[j, j]] - m[[i, i]]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..p {
                    let (mki, mkj) = (m[[k, i]], m[[k, j]]);
                    m[[k, i]] = c * mki - s * mkj;
                    m[[k, j]] = s * mki + c * mkj;
                }
                for k in 0..p {
                    let (mik, mjk) = (m[[i, k]], m[[j, k]]);
                    m[[i, k]] = c * mik - s * mjk;
                    m[[j, k]] = s * mik + c * mjk;
                }
                for k in 0..p {
                    let (vki, vkj) = (v[[k, i]], v[[k, j]]);
                    v[[k, i]] = c * vki - s * vkj;
                    v[[k, j]] = s * vki + c * vkj;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..p).collect();
    order.sort_by(|&x, &y| m[[y, y]].total_cmp(&m[[x, x]]));
    let values = order.iter().map(|&i| m[[i, i]]).collect();
    let mut vectors = Array2::<f64>::zeros((p, p));
    for (new, &old) in order.iter().enumerate() {
        vectors.column_mut(new).assign(&v.column(old));
    }
    (values, vectors)
}

/// The leading `r` eigenpairs of the symmetric positive semi-definite `w` (d × d) by subspace
/// iteration with Rayleigh–Ritz: `iterations · d² · (r + 8)` operations instead of a full
/// `d³` decomposition. Deterministic (fixed start).
pub fn top_eigen(w: &Array2<f64>, r: usize, iterations: usize) -> (Vec<f64>, Array2<f64>) {
    let d = w.nrows();
    let p = (r + 8).min(d);
    if p == d {
        // Nothing to iterate: the whole space is the subspace.
        let (values, vectors) = symmetric_eigen(w);
        let r = r.min(d);
        return (values[..r].to_vec(), vectors.slice(s![.., ..r]).to_owned());
    }
    // A fixed, well-spread start: a cheap deterministic pseudo-random matrix.
    let mut q = Array2::from_shape_fn((d, p), |(i, j)| {
        let h = (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (j as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        ((h >> 11) as f64 / (1u64 << 53) as f64) - 0.5
    });
    orthonormalise(&mut q);
    for _ in 0..iterations {
        q = w.dot(&q);
        // Twice: one Gram–Schmidt pass loses orthogonality on the nearly parallel columns
        // that power iteration produces ("twice is enough").
        orthonormalise(&mut q);
        orthonormalise(&mut q);
    }
    let t = q.t().dot(&w.dot(&q));
    let (values, u) = symmetric_eigen(&t);
    let vectors = q.dot(&u);
    let r = r.min(p);
    (values[..r].to_vec(), vectors.slice(s![.., ..r]).to_owned())
}

/// Modified Gram–Schmidt on the columns; a column that collapses is replaced by zeros.
fn orthonormalise(q: &mut Array2<f64>) {
    for j in 0..q.ncols() {
        for k in 0..j {
            let dot = q.column(j).dot(&q.column(k));
            let ck = q.column(k).to_owned();
            q.column_mut(j).scaled_add(-dot, &ck);
        }
        let norm = q.column(j).dot(&q.column(j)).sqrt();
        if norm > 1e-12 {
            q.column_mut(j).mapv_inplace(|v| v / norm);
        } else {
            q.column_mut(j).fill(0.0);
        }
    }
}

#[cfg(test)]
mod eigen_tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn jacobi_finds_hand_computed_eigenpairs() {
        // [[2,1],[1,2]]: eigenvalues 3 (1,1)/√2 and 1 (1,−1)/√2.
        let (vals, vecs) = symmetric_eigen(&array![[2.0, 1.0], [1.0, 2.0]]);
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        assert!((vecs[[0, 0]].abs() - std::f64::consts::FRAC_1_SQRT_2).abs() < 1e-12);
        assert!((vecs[[0, 0]] - vecs[[1, 0]]).abs() < 1e-12);
    }

    #[test]
    fn subspace_iteration_recovers_the_leading_eigenvalues() {
        // Diagonal spectrum 40, 39, …, 1 in a rotated basis (a permutation keeps it exact).
        let d = 40;
        let w = Array2::from_shape_fn((d, d), |(i, j)| {
            if i == j {
                (d - (i * 7) % d) as f64
            } else {
                0.0
            }
        });
        let (vals, vecs) = top_eigen(&w, 3, 200);
        assert!(
            (vals[0] - 40.0).abs() < 1e-6
                && (vals[1] - 39.0).abs() < 1e-6
                && (vals[2] - 38.0).abs() < 1e-6,
            "{vals:?}"
        );
        let back = w.dot(&vecs.column(0));
        assert!(
            (&back - &(&vecs.column(0) * vals[0]))
                .iter()
                .all(|v| v.abs() < 1e-5)
        );
    }

    #[test]
    fn cholesky_solve_inverts_the_product() {
        let a = array![[4.0, 2.0, 0.4], [2.0, 3.0, 0.5], [0.4, 0.5, 2.0]];
        let l = cholesky(&a).unwrap();
        let b = array![[1.0, 0.0], [2.0, 1.0], [3.0, -1.0]];
        let x = cholesky_solve(&l, &b);
        assert!((&a.dot(&x) - &b).iter().all(|v| v.abs() < 1e-12));
    }
}

#[cfg(test)]
mod eigen_full_tests {
    use super::*;

    #[test]
    fn full_rank_eigen_reconstructs_a_random_spd_matrix() {
        let d = 60;
        let b = Array2::from_shape_fn((d, d), |(i, j)| {
            (((i * 31 + j * 17) % 23) as f64 - 11.0) / 7.0
        });
        let w = b.t().dot(&b) + Array2::<f64>::eye(d) * 0.5;
        for rank in [d, 20] {
            let (vals, vecs) = top_eigen(&w, rank, 12);
            for (j, &l) in vals.iter().enumerate() {
                let v = vecs.column(j);
                let resid = &w.dot(&v) - &(&v * l);
                let err = resid.iter().map(|x| x * x).sum::<f64>().sqrt();
                assert!(
                    err < 1e-6 * l.abs().max(1.0),
                    "rank {rank}, pair {j}: λ {l}, residual {err}"
                );
            }
        }
    }
}
