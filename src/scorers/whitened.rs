//! Leave-one-out prototypes measured in the metric of the pooled within-class covariance:
//! the closed-form Gaussian view of the annotated classes (one shared covariance, shrunk towards
//! `mean variance × I`). Nothing is trained or cross-validated; the statistics are means and one
//! covariance. Dimensions in which classes are tight count more than dimensions in which every
//! class spreads — the same idea as the write-up's cross ratio, for all directions at once.
//!
//! margin(i, c) = f² · ‖z_i − μ_y‖² − ‖z_i − μ_c‖², with `z = L⁻¹x`, `W = L Lᵀ` and
//! `f = n_y / (n_y − 1)`: leaving item i out of its class mean scales its distance to that mean
//! by exactly f² (`x − μ_y⁻ⁱ = f (x − μ_y)`).
//!
//! Cost per modality: `m·d²` for the covariance (`m ≤ max_cov_items`), `d³/3` twice for the
//! factorisation and the inverse, and `n·d²` to whiten — all through f32 gemm, in parallel.

use ndarray::{Array2, ArrayView2, Axis, Zip, s};
use rayon::prelude::*;

use super::linalg::{cholesky, gram, invert_lower};
use super::prototype::keep_mask;
use super::{Inputs, ScorerKind, ScorerParams, Suspicion, class_sums, from_class_margins};
use crate::ClassId;

pub fn score(inputs: &Inputs, labels: &[Option<ClassId>], params: &ScorerParams) -> Suspicion {
    let first = pass(inputs, labels, None, params);
    if params.trim <= 0.0 {
        return first;
    }
    let keep = keep_mask(&first.score, labels, params.trim);
    pass(inputs, labels, Some(&keep), params)
}

fn pass(
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    keep: Option<&[bool]>,
    params: &ScorerParams,
) -> Suspicion {
    let margins = inputs
        .views
        .iter()
        .map(|(m, x)| {
            (
                *m,
                margins(x.view(), labels, keep, inputs.num_classes, params),
            )
        })
        .collect();
    from_class_margins(ScorerKind::Whitened, labels, margins, 0.0)
}

/// `n × C` whitened margins (see the module docs); 0 for unannotated items and own columns.
pub fn margins(
    x: ArrayView2<f32>,
    labels: &[Option<ClassId>],
    keep: Option<&[bool]>,
    num_classes: usize,
    params: &ScorerParams,
) -> Array2<f64> {
    let n = x.nrows();
    let d = x.ncols();
    let (sums, counts) = class_sums(x, labels, keep, num_classes);
    let mut means = sums;
    for (mut r, &c) in means.rows_mut().into_iter().zip(&counts) {
        if c > 0 {
            r.mapv_inplace(|v| v / c as f64);
        }
    }
    let whiten = whitening(x, labels, keep, &means, params);
    // Whitened class means and their squared norms.
    let mw = means.dot(&whiten.t());
    let mw_sq: Vec<f64> = mw.rows().into_iter().map(|r| r.dot(&r)).collect();
    let whiten_f32 = whiten.t().mapv(|v| v as f32);
    let mw_f32 = mw.t().mapv(|v| v as f32);

    let mut out = Array2::<f64>::zeros((n, num_classes));
    const CHUNK: usize = 1024;
    out.axis_chunks_iter_mut(Axis(0), CHUNK)
        .into_par_iter()
        .enumerate()
        .for_each(|(ci, mut block)| {
            let s0 = ci * CHUNK;
            let xb = x.slice(s![s0..s0 + block.nrows(), ..]);
            let z = xb.dot(&whiten_f32);
            let zm = z.dot(&mw_f32);
            for (r, mut row) in block.axis_iter_mut(Axis(0)).enumerate() {
                let i = s0 + r;
                let Some(y) = labels[i] else { continue };
                let zz: f64 = z.row(r).iter().map(|&v| (v as f64) * (v as f64)).sum();
                let dist = |c: usize| zz - 2.0 * zm[[r, c]] as f64 + mw_sq[c];
                let in_own = keep.is_none_or(|k| k[i]);
                let f = if in_own && counts[y] > 1 {
                    counts[y] as f64 / (counts[y] - 1) as f64
                } else {
                    1.0
                };
                let own = f * f * dist(y);
                for c in 0..num_classes {
                    row[c] = if c == y { 0.0 } else { own - dist(c) };
                }
            }
        });
    let _ = d;
    out
}

/// `L⁻¹` for the shrunk pooled within-class covariance `W = L Lᵀ`.
fn whitening(
    x: ArrayView2<f32>,
    labels: &[Option<ClassId>],
    keep: Option<&[bool]>,
    means: &Array2<f64>,
    params: &ScorerParams,
) -> Array2<f64> {
    let d = x.ncols();
    let members: Vec<usize> = (0..x.nrows())
        .filter(|&i| labels[i].is_some() && keep.is_none_or(|k| k[i]))
        .collect();
    // An even stride through the members bounds the cost without favouring any region.
    let stride = members.len().div_ceil(params.max_cov_items.max(1)).max(1);
    let used: Vec<usize> = members.into_iter().step_by(stride).collect();
    let mut resid = Array2::<f32>::zeros((used.len(), d));
    resid
        .axis_iter_mut(Axis(0))
        .into_par_iter()
        .zip(used.par_iter())
        .for_each(|(mut row, &i)| {
            let mu = means.row(labels[i].expect("members are annotated"));
            Zip::from(&mut row)
                .and(x.row(i))
                .and(mu)
                .for_each(|r, &v, &m| *r = (v as f64 - m) as f32);
        });
    let mut w = gram(resid.view());
    let m = used.len().max(1) as f64;
    w.mapv_inplace(|v| v / m);
    let mean_var = (0..d).map(|j| w[[j, j]]).sum::<f64>() / d as f64;
    // A floor keeps degenerate data (identical rows, a single item) factorisable.
    let iso = params.shrinkage.clamp(0.0, 1.0) * mean_var + 1e-9;
    w.mapv_inplace(|v| v * (1.0 - params.shrinkage.clamp(0.0, 1.0)));
    for j in 0..d {
        w[[j, j]] += iso;
    }
    let l = cholesky(&w).unwrap_or_else(|| {
        // Only reachable through rounding on a nearly singular W: fall back to the isotropic
        // metric, i.e. plain (unnormalised) prototype distances.
        Array2::from_diag_elem(d, iso.sqrt().max(1e-6))
    });
    invert_lower(&l)
}

/// For tests and docs: the squared Mahalanobis distance of `v` under `W⁻¹ = L⁻ᵀL⁻¹`.
#[cfg(test)]
fn mahalanobis_sq(linv: &Array2<f64>, v: ArrayView2<f64>) -> Vec<f64> {
    let z = v.dot(&linv.t());
    z.rows().into_iter().map(|r| r.dot(&r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Brute force: recompute the class mean without the item and the distances directly.
    #[test]
    fn margins_match_a_direct_leave_one_out_computation() {
        let x = array![
            [1.0f32, 0.1, 0.0],
            [0.9, 0.2, 0.1],
            [1.0, 0.0, 0.3],
            [0.0, 1.0, 0.2],
            [0.1, 0.8, 0.0],
            [0.2, 1.0, 0.4],
            [0.1, 0.9, 0.1]
        ];
        let labels = [
            Some(0),
            Some(0),
            Some(0),
            Some(1),
            Some(1),
            Some(1),
            Some(0),
        ];
        let params = ScorerParams {
            shrinkage: 0.3,
            ..ScorerParams::default()
        };
        let m = margins(x.view(), &labels, None, 2, &params);
        let (sums, counts) = class_sums(x.view(), &labels, None, 2);
        let means = sums.clone() / array![[counts[0] as f64], [counts[1] as f64]];
        let linv = whitening(x.view(), &labels, None, &means, &params);
        let xf = x.mapv(f64::from);
        let i = 6; // the mislabelled-looking one
        let own_mean = (&sums.row(0) - &xf.row(i)) / (counts[0] - 1) as f64;
        let d_own = (&xf.row(i) - &own_mean).insert_axis(Axis(0));
        let d_other = (&xf.row(i) - &means.row(1)).insert_axis(Axis(0));
        let want =
            mahalanobis_sq(&linv, d_own.view())[0] - mahalanobis_sq(&linv, d_other.view())[0];
        assert!((m[[i, 1]] - want).abs() < 1e-4, "{} vs {want}", m[[i, 1]]);
        assert!(m[[i, 1]] > 0.0, "item 6 sits with class 1");
        assert!(m[[0, 1]] < 0.0, "item 0 sits with its own class");
    }
}
