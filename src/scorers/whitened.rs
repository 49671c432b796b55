//! Leave-one-out prototypes measured in the metric of the pooled within-class covariance:
//! the closed-form Gaussian view of the annotated classes (one shared covariance, shrunk towards
//! `mean variance × I`). Nothing is trained or cross-validated; the statistics are means and one
//! covariance. Dimensions in which classes are tight count more than dimensions in which every
//! class spreads — the same idea as the write-up's cross ratio, for all directions at once.
//!
//! margin(i, c) = f² · d_y(x_i) − d_c(x_i), with d_c(x) = (x − μ_c)ᵀ W⁻¹ (x − μ_c) and
//! `f = n_y / (n_y − 1)`: leaving item i out of its class mean scales its distance to that mean
//! by exactly f² (`x − μ⁻ⁱ_y = f (x − μ_y)`). Expanded, d_c(x) = xᵀW⁻¹x − 2 x·a_c + μ_c·a_c with
//! `a_c = W⁻¹μ_c`: the class-dependent part is exact and costs `n·C·d`; the common term
//! `xᵀW⁻¹x` only survives through the leave-one-out factor, `(f² − 1)·xᵀW⁻¹x`, and is computed
//! on the leading `metric_rank` eigen-directions of W (isotropic on the rest), `n·d·rank`.
//!
//! Cost per modality: `m·d²` for the covariance (`m ≤ max_cov_items` items, an even stride),
//! `d³/6` for the Cholesky factor, `12·d²·(rank + 8)` for the leading eigenvectors, and
//! `n·d·(C + rank)` for the scores — gemm, in parallel. No `n·d²` term: at n = 50 000 the
//! covariance dominates.

use ndarray::{Array2, ArrayView2, Axis, Zip, s};
use rayon::prelude::*;

use super::linalg::{cholesky, cholesky_solve, gram, top_eigen};
use super::prototype::keep_mask;
use super::{Inputs, Rows, ScorerKind, ScorerParams, Suspicion, class_sums, from_class_margins};
use crate::{Cancelled, ClassId, Monitor};

/// Stops on `monitor` between its stages (fit, quadratic form, each pass), so that Cancel
/// waits for one stage at most.
pub fn score(
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    params: &ScorerParams,
    monitor: &Monitor,
) -> Result<Suspicion, Cancelled> {
    monitor.check()?;
    // The metric is fitted once per modality; a trimmed second pass only recomputes the means
    // (the errors move a mean far more than a covariance pooled over all classes, and the
    // second pass then costs `n·C·d` instead of a new `m·d²`).
    // Modalities in parallel too: their sequential steps (factorisation, eigenvectors) overlap.
    let metrics: Vec<Metric> = inputs
        .views
        .par_iter()
        .map(|(_, x)| Metric::fit(x.rows(), labels, inputs.num_classes, params))
        .collect();
    monitor.check()?;
    // `xᵀW⁻¹x` does not depend on the means: once per modality for both passes.
    let quads: Vec<Vec<f64>> = inputs
        .views
        .par_iter()
        .zip(metrics.par_iter())
        .map(|((_, x), metric)| metric.q_form.apply_rows(x.rows()))
        .collect();
    monitor.check()?;
    let pass = |keep: Option<&[bool]>| {
        let margins = inputs
            .views
            .par_iter()
            .zip(metrics.par_iter().zip(quads.par_iter()))
            .map(|((m, x), (metric, q))| {
                (
                    *m,
                    metric.margins(x.rows(), q, labels, keep, inputs.num_classes),
                )
            })
            .collect();
        from_class_margins(ScorerKind::Whitened, labels, margins, 0.0)
    };
    let first = pass(None);
    if params.trim <= 0.0 {
        return Ok(first);
    }
    monitor.check()?;
    let keep = keep_mask(&first.score, labels, params.trim);
    Ok(pass(Some(&keep)))
}

/// `n × C` whitened margins (see the module docs); 0 for unannotated items and own columns.
pub fn margins(
    x: Rows,
    labels: &[Option<ClassId>],
    keep: Option<&[bool]>,
    num_classes: usize,
    params: &ScorerParams,
) -> Array2<f64> {
    let metric = Metric::fit(x, labels, num_classes, params);
    let q = metric.q_form.apply_rows(x);
    metric.margins(x, &q, labels, keep, num_classes)
}

fn class_means(
    x: Rows,
    labels: &[Option<ClassId>],
    keep: Option<&[bool]>,
    num_classes: usize,
) -> (Array2<f64>, Vec<usize>) {
    let (mut means, counts) = class_sums(x, labels, keep, num_classes);
    for (mut r, &c) in means.rows_mut().into_iter().zip(&counts) {
        if c > 0 {
            r.mapv_inplace(|v| v / c as f64);
        }
    }
    (means, counts)
}

/// The fitted metric of one modality: the Cholesky factor of the shrunk pooled covariance and
/// the low-rank form of `xᵀW⁻¹x`.
struct Metric {
    l: Array2<f64>,
    q_form: QuadraticForm,
}

impl Metric {
    fn fit(
        x: Rows,
        labels: &[Option<ClassId>],
        num_classes: usize,
        params: &ScorerParams,
    ) -> Metric {
        let (means, _) = class_means(x, labels, None, num_classes);
        let w = covariance(x, labels, None, &means, params);
        let l = cholesky(&w).unwrap_or_else(|| {
            // Only reachable through rounding on a nearly singular W: use its diagonal.
            Array2::from_diag(&w.diag().mapv(|v| v.max(1e-12).sqrt()))
        });
        let q_form = QuadraticForm::new(&w, params.metric_rank);
        Metric { l, q_form }
    }

    /// `q[i]` = `xᵢᵀW⁻¹xᵢ` (unit rows), from `QuadraticForm::apply_rows`.
    fn margins(
        &self,
        x: Rows,
        q: &[f64],
        labels: &[Option<ClassId>],
        keep: Option<&[bool]>,
        num_classes: usize,
    ) -> Array2<f64> {
        let n = x.nrows();
        let (means, counts) = class_means(x, labels, keep, num_classes);
        // a_c = W⁻¹ μ_c and μ_cᵀ W⁻¹ μ_c: the exact linear part of every distance.
        let a = cholesky_solve(&self.l, &means.t().to_owned());
        let mu_a: Vec<f64> = (0..num_classes)
            .map(|c| means.row(c).dot(&a.column(c)))
            .collect();
        // f32 gemm: the products stay within ~1e-6 relative, far below the margins' spread
        // (checked on the sample: the same ranking metrics as f64).
        let a32 = a.mapv(|v| v as f32);
        let mut out = Array2::<f64>::zeros((n, num_classes));
        const CHUNK: usize = 1024;
        out.axis_chunks_iter_mut(Axis(0), CHUNK)
            .into_par_iter()
            .enumerate()
            .for_each(|(ci, mut block)| {
                let s0 = ci * CHUNK;
                let xs = x.raw.slice(s![s0..s0 + block.nrows(), ..]);
                // Products of the raw rows, scaled to unit rows afterwards (it is linear).
                let mut xa = xs.dot(&a32);
                for (r, mut p) in xa.rows_mut().into_iter().enumerate() {
                    let inv = x.inv_norm[s0 + r];
                    p.mapv_inplace(|v| v * inv);
                }
                for (r, mut row) in block.axis_iter_mut(Axis(0)).enumerate() {
                    let i = s0 + r;
                    let Some(y) = labels[i] else { continue };
                    let dist = |c: usize| q[i] - 2.0 * xa[[r, c]] as f64 + mu_a[c];
                    let in_own = keep.is_none_or(|k| k[i]);
                    let f = if in_own && counts[y] > 1 {
                        counts[y] as f64 / (counts[y] - 1) as f64
                    } else {
                        1.0
                    };
                    let own = f * f * dist(y);
                    for c in 0..num_classes {
                        row[c] = if c == y {
                            0.0
                        } else if counts[c] == 0 {
                            // No annotated member: its "mean" would sit at the origin.
                            f64::NEG_INFINITY
                        } else {
                            own - dist(c)
                        };
                    }
                }
            });
        out
    }
}

/// `xᵀ W⁻¹ x` for many `x`, exact on the leading `rank` eigen-directions of `W` and isotropic
/// (the mean of the remaining eigenvalues) on the rest: `n·d·rank` instead of `n·d²`. It only
/// enters the margin through the leave-one-out factor `(f² − 1)·xᵀW⁻¹x`, so the approximation
/// touches a small correction (measured: as good as the exact form).
struct QuadraticForm {
    /// `d × rank`, f32: the projections feed a small correction, f32 gemm is twice as fast.
    vectors: Array2<f32>,
    /// `1/λ_j − 1/σ²` per kept direction.
    weights: Vec<f64>,
    inv_rest: f64,
}

impl QuadraticForm {
    fn new(w: &Array2<f64>, rank: usize) -> QuadraticForm {
        let d = w.nrows();
        // Beyond ~128 directions the correction no longer changes (measured) while the
        // eigen-solver's cost grows with rank².
        let rank = rank.clamp(1, d.min(128));
        let (values, vectors) = top_eigen(w, rank, 12);
        let trace: f64 = w.diag().sum();
        let inv_rest = if rank < d {
            let rest = (trace - values.iter().sum::<f64>()) / (d - rank) as f64;
            if rest > 0.0 { 1.0 / rest } else { 0.0 }
        } else {
            0.0
        };
        let weights = values
            .iter()
            .map(|&v| if v > 0.0 { 1.0 / v - inv_rest } else { 0.0 })
            .collect();
        QuadraticForm {
            vectors: vectors.mapv(|v| v as f32),
            weights,
            inv_rest,
        }
    }

    /// `xᵢᵀW⁻¹xᵢ` for every unit row, in parallel chunks.
    fn apply_rows(&self, x: Rows) -> Vec<f64> {
        const CHUNK: usize = 1024;
        let starts: Vec<usize> = (0..x.nrows()).step_by(CHUNK).collect();
        let parts: Vec<Vec<f64>> = starts
            .par_iter()
            .map(|&s0| {
                let s1 = (s0 + CHUNK).min(x.nrows());
                let mut proj = x.raw.slice(s![s0..s1, ..]).dot(&self.vectors);
                for (r, mut p) in proj.rows_mut().into_iter().enumerate() {
                    let inv = x.inv_norm[s0 + r];
                    p.mapv_inplace(|v| v * inv);
                }
                let sq: Vec<f64> = (s0..s1).map(|i| x.unit_sq_norm(i)).collect();
                self.apply(&sq, proj.view())
            })
            .collect();
        parts.concat()
    }

    /// From each unit row's squared norm and its projections on `vectors`.
    fn apply(&self, sq_norms: &[f64], proj: ArrayView2<f32>) -> Vec<f64> {
        sq_norms
            .iter()
            .zip(proj.rows())
            .map(|(&xx, p)| {
                let mut q = self.inv_rest * xx;
                for (&v, w) in p.iter().zip(&self.weights) {
                    q += w * (v as f64) * (v as f64);
                }
                q
            })
            .collect()
    }
}

/// The pooled within-class covariance of the annotated (kept) items, shrunk towards
/// `mean variance × I`.
fn covariance(
    x: Rows,
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
            let inv = x.inv_norm[i] as f64;
            Zip::from(&mut row)
                .and(x.raw.row(i))
                .and(mu)
                .for_each(|r, &v, &m| *r = (v as f64 * inv - m) as f32);
        });
    let mut w = gram(resid.view());
    let m = used.len().max(1) as f64;
    w.mapv_inplace(|v| v / m);
    let mean_var = (0..d).map(|j| w[[j, j]]).sum::<f64>() / d as f64;
    let shrink = params.shrinkage.clamp(0.0, 1.0);
    // A floor keeps degenerate data (identical rows, a single item) factorisable.
    let iso = shrink * mean_var + 1e-9;
    w.mapv_inplace(|v| v * (1.0 - shrink));
    for j in 0..d {
        w[[j, j]] += iso;
    }
    w
}

/// For tests: the squared Mahalanobis distance of `v` under `W⁻¹ = L⁻ᵀL⁻¹`.
#[cfg(test)]
fn mahalanobis_sq(linv: &Array2<f64>, v: ArrayView2<f64>) -> Vec<f64> {
    let z = v.dot(&linv.t());
    z.rows().into_iter().map(|r| r.dot(&r)).collect()
}

#[cfg(test)]
mod tests {
    use super::super::linalg::invert_lower;
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
        let v = crate::scorers::View::owned(x.clone());
        let m = margins(v.rows(), &labels, None, 2, &params);
        let (sums, counts) = class_sums(v.rows(), &labels, None, 2);
        let means = sums.clone() / array![[counts[0] as f64], [counts[1] as f64]];
        let linv =
            invert_lower(&cholesky(&covariance(v.rows(), &labels, None, &means, &params)).unwrap());
        let xf = crate::scorers::unit_rows(x.view()).mapv(f64::from);
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
