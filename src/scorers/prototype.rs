//! Leave-one-out class prototypes: the mean unit embedding of the items annotated with a
//! class, the scored item itself left out, so that a wrong annotation cannot vouch for itself.
//!
//! Robustness to the errors being hunted: with `trim > 0`, a first pass ranks the items, the
//! `trim` fraction most suspicious is left out of every prototype, and the scores are
//! recomputed against the cleaner prototypes.

use ndarray::{Array2, Axis, Zip};

use super::{Inputs, Rows, ScorerKind, ScorerParams, Suspicion, class_sums, from_class_margins};
use crate::ClassId;

pub fn score(inputs: &Inputs, labels: &[Option<ClassId>], params: &ScorerParams) -> Suspicion {
    let first = pass(inputs, labels, None);
    if params.trim <= 0.0 {
        return first;
    }
    let keep = keep_mask(&first.score, labels, params.trim);
    pass(inputs, labels, Some(&keep))
}

fn pass(inputs: &Inputs, labels: &[Option<ClassId>], keep: Option<&[bool]>) -> Suspicion {
    let margins = inputs
        .views
        .iter()
        .map(|(m, x)| (*m, margins(x.rows(), labels, keep, inputs.num_classes)))
        .collect();
    from_class_margins(ScorerKind::Prototype, labels, margins, 0.0)
}

/// `false` for the `trim` fraction of annotated items with the highest score.
pub(crate) fn keep_mask(score: &[f64], labels: &[Option<ClassId>], trim: f64) -> Vec<bool> {
    let mut annotated: Vec<usize> = (0..score.len()).filter(|&i| labels[i].is_some()).collect();
    annotated.sort_by(|&a, &b| score[b].total_cmp(&score[a]).then(a.cmp(&b)));
    let drop = ((annotated.len() as f64) * trim.clamp(0.0, 1.0)).round() as usize;
    let mut keep = vec![true; score.len()];
    for &i in &annotated[..drop] {
        keep[i] = false;
    }
    keep
}

/// `n × C`: cosine to class `c`'s prototype minus cosine to the item's own leave-one-out
/// prototype. Prototypes are built from annotated items with `keep` set; an item that is not
/// part of its class's prototype is compared with the whole prototype. When leaving the item
/// out would empty its class, the full prototype is used (no evidence either way).
pub fn margins(
    x: Rows,
    labels: &[Option<ClassId>],
    keep: Option<&[bool]>,
    num_classes: usize,
) -> Array2<f64> {
    let (sums, counts) = class_sums(x, labels, keep, num_classes);
    let sum_sq: Vec<f64> = sums.rows().into_iter().map(|r| r.dot(&r)).collect();
    // x · sum_c for every item and class; f32 gemm on the means keeps the products well scaled.
    let means = class_means_f32(&sums, &counts);
    let dots = x.raw.dot(&means.t()).mapv(f64::from);
    let mut out = Array2::<f64>::zeros((x.nrows(), num_classes));
    Zip::indexed(out.axis_iter_mut(Axis(0))).par_for_each(|i, mut row| {
        let Some(y) = labels[i] else { return };
        let inv = x.inv_norm[i] as f64;
        let xx = x.unit_sq_norm(i);
        let cos = |c: usize| -> f64 {
            let dot = dots[[i, c]] * inv * counts[c] as f64;
            if sum_sq[c] > 0.0 {
                dot / sum_sq[c].sqrt()
            } else {
                0.0
            }
        };
        let in_own = keep.is_none_or(|k| k[i]);
        let own = if in_own && counts[y] > 1 {
            let dot = dots[[i, y]] * inv * counts[y] as f64 - xx;
            let norm_sq = sum_sq[y] - 2.0 * dots[[i, y]] * inv * counts[y] as f64 + xx;
            if norm_sq > 1e-12 {
                dot / norm_sq.sqrt()
            } else {
                0.0
            }
        } else {
            cos(y)
        };
        for c in 0..num_classes {
            row[c] = if c == y {
                0.0
            } else if counts[c] == 0 {
                // No annotated member: no prototype, not a challenger.
                f64::NEG_INFINITY
            } else {
                cos(c) - own
            };
        }
    });
    out
}

pub(crate) fn class_means_f32(sums: &Array2<f64>, counts: &[usize]) -> Array2<f32> {
    let mut means = sums.mapv(|v| v as f32);
    for (mut r, &n) in means.rows_mut().into_iter().zip(counts) {
        if n > 0 {
            r.mapv_inplace(|v| v / n as f32);
        }
    }
    means
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    /// Item 2 is annotated 0 but sits on class 1. With itself left out, class 0's prototype
    /// is item 0 alone (cosine 0 with item 2), so the margin is cos(item 2, class 1) − 0 = 1.
    /// Had the item been kept in its own prototype, the prototype (1,1)/√2 would give it
    /// cosine 0.707 and a margin of only 0.293.
    #[test]
    fn leave_one_out_excludes_the_item_itself() {
        let x = array![[1.0f32, 0.0], [0.0, 1.0], [0.0, 1.0]];
        let labels = [Some(0), Some(1), Some(0)];
        let v = crate::scorers::View::owned(x);
        let m = margins(v.rows(), &labels, None, 2);
        assert!((m[[2, 1]] - 1.0).abs() < 1e-9, "{}", m[[2, 1]]);
        // Item 0 is the only other member of class 0: its LOO prototype is item 2 = (0,1).
        assert!((m[[0, 1]] - (0.0 - 0.0)).abs() < 1e-9);
        // Item 1 is alone in class 1: falls back to the full prototype (itself), cosine 1;
        // class 0's prototype is (1,1)/√2.
        assert!((m[[1, 0]] - (std::f64::consts::FRAC_1_SQRT_2 - 1.0)).abs() < 1e-6);
    }

    #[test]
    fn trimming_drops_the_most_suspicious_annotated_items() {
        let keep = keep_mask(
            &[0.5, 2.0, 9.0, 1.0],
            &[Some(0), Some(0), None, Some(1)],
            0.34,
        );
        assert_eq!(keep, vec![true, false, true, true]);
    }
}
