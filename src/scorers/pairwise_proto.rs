//! The write-up's pairwise decision, run against leave-one-out class prototypes instead of
//! class prompts. Each class pair's dimensions are the top `pair_dims` by cross ratio between
//! the two ANNOTATED class distributions (METHOD.md §2–3 with annotations in place of baseline
//! labels, no floor or margin filter: the annotations are mostly right, and the filters exist to
//! make up for zero-shot labels that are not).
//!
//! margin(i, c) = cos(x_D, P_c,D) − cos(x_D, P_y⁻ⁱ,D), D = dims of pair (c, y).
//! Cost: `n · d` for the moments, `C² · d log d` for the selection, `n · C · pair_dims`.

use ndarray::{Array2, Axis, Zip};

use super::{Inputs, Rows, ScorerKind, ScorerParams, Suspicion, class_sums, from_class_margins};
use crate::{ClassId, PairKey};

pub fn score(inputs: &Inputs, labels: &[Option<ClassId>], params: &ScorerParams) -> Suspicion {
    let margins = inputs
        .views
        .iter()
        .map(|(m, x)| {
            (
                *m,
                margins(x.rows(), labels, inputs.num_classes, params.pair_dims),
            )
        })
        .collect();
    from_class_margins(ScorerKind::PairwisePrototype, labels, margins, 0.0)
}

/// Cross ratio of one dimension from two samples' means and population variances; a constant
/// dimension on either side scores 0, below every informative dimension (whose ratio is ≥ 1).
pub fn cross_ratio(mean_a: f64, var_a: f64, mean_b: f64, var_b: f64) -> f64 {
    if var_a <= 0.0 || var_b <= 0.0 {
        return 0.0;
    }
    let crossvar = 0.5 * (var_a + mean_a * mean_a + var_b + mean_b * mean_b) - mean_a * mean_b;
    (crossvar / (var_a.sqrt() * var_b.sqrt())).sqrt()
}

/// The top `k` dimensions of every class pair (in `PairKey::index` order), best first; ties go
/// to the lower dimension.
pub fn pair_dimensions(
    x: Rows,
    labels: &[Option<ClassId>],
    num_classes: usize,
    k: usize,
) -> Vec<Vec<usize>> {
    let d = x.ncols();
    let (sums, counts) = class_sums(x, labels, None, num_classes);
    let mut sq = Array2::<f64>::zeros((num_classes, d));
    for (i, row) in x.raw.axis_iter(Axis(0)).enumerate() {
        let inv = x.inv_norm[i] as f64;
        if let Some(y) = labels[i] {
            Zip::from(sq.row_mut(y))
                .and(row)
                .for_each(|a, &v| *a += (v as f64 * inv) * (v as f64 * inv));
        }
    }
    let mean = |c: usize, j: usize| sums[[c, j]] / counts[c].max(1) as f64;
    let var =
        |c: usize, j: usize| (sq[[c, j]] / counts[c].max(1) as f64 - mean(c, j).powi(2)).max(0.0);
    PairKey::all(num_classes)
        .into_iter()
        .map(|p| {
            let mut dims: Vec<(f64, usize)> = (0..d)
                .map(|j| {
                    (
                        cross_ratio(mean(p.a, j), var(p.a, j), mean(p.b, j), var(p.b, j)),
                        j,
                    )
                })
                .collect();
            dims.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)));
            dims.into_iter()
                .take(k.clamp(1, d))
                .map(|(_, j)| j)
                .collect()
        })
        .collect()
}

/// `n × C` head-to-head margins against leave-one-out prototypes (0 on own columns).
pub fn margins(x: Rows, labels: &[Option<ClassId>], num_classes: usize, k: usize) -> Array2<f64> {
    let dims = pair_dimensions(x, labels, num_classes, k);
    let (sums, counts) = class_sums(x, labels, None, num_classes);
    // ‖S_c,D‖² for each pair's D and each side.
    let pairs = PairKey::all(num_classes);
    let norms: Vec<[f64; 2]> = pairs
        .iter()
        .zip(&dims)
        .map(|(p, dd)| {
            let nsq = |c: usize| dd.iter().map(|&j| sums[[c, j]] * sums[[c, j]]).sum::<f64>();
            [nsq(p.a), nsq(p.b)]
        })
        .collect();
    let mut out = Array2::<f64>::zeros((x.nrows(), num_classes));
    Zip::indexed(out.axis_iter_mut(Axis(0))).par_for_each(|i, mut row| {
        let Some(y) = labels[i] else { return };
        let xi = x.raw.row(i);
        let inv = x.inv_norm[i] as f64;
        for c in (0..num_classes).filter(|&c| c != y) {
            if counts[c] == 0 {
                // No annotated member: no prototype, not a challenger.
                row[c] = f64::NEG_INFINITY;
                continue;
            }
            let p = PairKey::new(c, y);
            let pi = p.index(num_classes);
            let dd = &dims[pi];
            let (side_c, side_y) = if p.a == c { (0, 1) } else { (1, 0) };
            let (mut xs_c, mut xs_y, mut xx) = (0.0, 0.0, 0.0);
            for &j in dd {
                let v = xi[j] as f64 * inv;
                xs_c += v * sums[[c, j]];
                xs_y += v * sums[[y, j]];
                xx += v * v;
            }
            let cos = |dot: f64, nsq: f64| {
                if nsq > 1e-18 && xx > 0.0 {
                    dot / (nsq.sqrt() * xx.sqrt())
                } else {
                    0.0
                }
            };
            let cos_c = cos(xs_c, norms[pi][side_c]);
            let cos_y = if counts[y] > 1 {
                cos(xs_y - xx, norms[pi][side_y] - 2.0 * xs_y + xx)
            } else {
                cos(xs_y, norms[pi][side_y])
            };
            row[c] = cos_c - cos_y;
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cross_ratio_is_one_for_identical_samples_and_zero_for_constant_ones() {
        assert!((cross_ratio(0.3, 0.04, 0.3, 0.04) - 1.0).abs() < 1e-12);
        assert!(cross_ratio(0.0, 1.0, 2.0, 1.0) > 1.0);
        assert_eq!(cross_ratio(0.0, 0.0, 1.0, 1.0), 0.0);
    }

    #[test]
    fn the_separating_dimension_is_selected_first() {
        // Dimension 1 separates the classes, dimension 0 is noise shared by both.
        let x = array![
            [0.1f32, 1.0, 0.0],
            [-0.1, 0.9, 0.0],
            [0.1, -1.0, 0.0],
            [-0.1, -0.9, 0.0]
        ];
        let v = crate::scorers::View::owned(x);
        let dims = pair_dimensions(v.rows(), &[Some(0), Some(0), Some(1), Some(1)], 2, 2);
        assert_eq!(dims, vec![vec![1, 0]]);
    }

    #[test]
    fn own_prototype_leaves_the_item_out_on_the_pair_dimensions() {
        // With k = d the margin equals the full prototype margin.
        let x = array![[1.0f32, 0.0], [0.0, 1.0], [0.0, 1.0], [0.6, 0.8]];
        let labels = [Some(0), Some(1), Some(0), Some(1)];
        let v = crate::scorers::View::owned(x);
        let m = margins(v.rows(), &labels, 2, 2);
        let full = super::super::prototype::margins(v.rows(), &labels, None, 2);
        for i in 0..4 {
            let c = 1 - labels[i].unwrap();
            assert!(
                (m[[i, c]] - full[[i, c]]).abs() < 1e-5,
                "item {i}: {} vs {}",
                m[[i, c]],
                full[[i, c]]
            );
        }
    }
}
