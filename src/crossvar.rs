//! Cross-variance, cross-deviation and cross ratio of one dimension of two samples, from
//! their moments (see `docs/method.md`).
//!
//! Everything here takes the per-sample mean and mean of squares, never the samples: the
//! `p × q` double sum of the definition collapses to `½(mean(A²) + mean(B²)) − mean(A)·mean(B)`.

/// A variance at or below this fraction of the mean square is treated as zero.
///
/// `mean(x²) − mean(x)²` of a truly constant dimension comes out as a few ulps of `mean(x²)`
/// rather than 0 (and the selection's subtraction of moments adds a little more); without
/// this tolerance such a dimension would get a near-infinite ratio and be ranked first.
/// A real embedding dimension has a relative spread many orders of magnitude above it.
pub const CONSTANT_TOLERANCE: f64 = 1e-10;

/// `crossvar(A, B) = ½(mean(A²) + mean(B²)) − mean(A)·mean(B)`, clamped at 0 (it is a mean
/// of squares; a negative value can only be rounding).
pub fn crossvar(mean_a: f64, mean_sq_a: f64, mean_b: f64, mean_sq_b: f64) -> f64 {
    (0.5 * (mean_sq_a + mean_sq_b) - mean_a * mean_b).max(0.0)
}

/// `sqrt(crossvar(A, B))`.
pub fn crossdev(mean_a: f64, mean_sq_a: f64, mean_b: f64, mean_sq_b: f64) -> f64 {
    crossvar(mean_a, mean_sq_a, mean_b, mean_sq_b).sqrt()
}

/// Population variance `mean(x²) − mean(x)²`, clamped at 0, and snapped to exactly 0 when it
/// is within `CONSTANT_TOLERANCE` of the mean square (a constant dimension).
pub fn variance(mean: f64, mean_sq: f64) -> f64 {
    let v = (mean_sq - mean * mean).max(0.0);
    if v <= CONSTANT_TOLERANCE * mean_sq.abs() {
        0.0
    } else {
        v
    }
}

/// `sqrt(crossvar(A, B) / (σ_A·σ_B))` with population σ; `≥ 1` by AM–GM.
///
/// **σ = 0 guard:** when either side is constant on this dimension the ratio is defined as
/// exactly 1.0 — the value of two identical distributions, the least informative a
/// dimension can be — so a constant dimension never ranks ahead of one with real spread
/// (ties go to the lower dimension index). This deliberately includes the case where both
/// sides are constant with different means: on paper that dimension separates the sample
/// perfectly, but with the `min_items` floor of the selection it only happens on degenerate
/// data (duplicated items, heavily quantised storage), where the separation says more about
/// the sample than the classes, and an infinite ratio would put it ahead of everything.
///
/// Rounding can push the quotient a hair below 1; the result is clamped to 1.
pub fn crossratio(mean_a: f64, mean_sq_a: f64, mean_b: f64, mean_sq_b: f64) -> f64 {
    let var_a = variance(mean_a, mean_sq_a);
    let var_b = variance(mean_b, mean_sq_b);
    if var_a == 0.0 || var_b == 0.0 {
        return 1.0;
    }
    // sqrt(var_a·var_b) rather than σ_a·σ_b: for identical samples sqrt(v²) == v exactly,
    // so the ratio of a sample with itself is exactly 1.
    let cv = crossvar(mean_a, mean_sq_a, mean_b, mean_sq_b);
    (cv / (var_a * var_b).sqrt()).sqrt().max(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn means(xs: &[f64]) -> (f64, f64) {
        let n = xs.len() as f64;
        (
            xs.iter().sum::<f64>() / n,
            xs.iter().map(|x| x * x).sum::<f64>() / n,
        )
    }

    fn brute_crossvar(a: &[f64], b: &[f64]) -> f64 {
        let mut s = 0.0;
        for x in a {
            for y in b {
                s += (x - y) * (x - y);
            }
        }
        s / (2.0 * a.len() as f64 * b.len() as f64)
    }

    fn pop_var(xs: &[f64]) -> f64 {
        let n = xs.len() as f64;
        let m = xs.iter().sum::<f64>() / n;
        xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / n
    }

    proptest::proptest! {
        #[test]
        fn moment_formula_equals_double_sum(
            a in proptest::collection::vec(-3.0f64..3.0, 1..40),
            b in proptest::collection::vec(-3.0f64..3.0, 1..40),
        ) {
            let (ma, qa) = means(&a);
            let (mb, qb) = means(&b);
            let brute = brute_crossvar(&a, &b);
            let fast = crossvar(ma, qa, mb, qb);
            proptest::prop_assert!((brute - fast).abs() <= 1e-9 * (1.0 + brute), "{brute} vs {fast}");
        }

        #[test]
        fn crossvar_of_a_sample_with_itself_is_its_variance(
            a in proptest::collection::vec(-3.0f64..3.0, 1..60),
        ) {
            let (m, q) = means(&a);
            let v = pop_var(&a);
            proptest::prop_assert!((crossvar(m, q, m, q) - v).abs() <= 1e-9 * (1.0 + v));
        }

        #[test]
        fn ratio_is_at_least_one_and_one_for_identical_samples(
            a in proptest::collection::vec(-3.0f64..3.0, 2..40),
            b in proptest::collection::vec(-3.0f64..3.0, 2..40),
        ) {
            let (ma, qa) = means(&a);
            let (mb, qb) = means(&b);
            proptest::prop_assert!(crossratio(ma, qa, mb, qb) >= 1.0);
            let mut distinct = a.clone();
            distinct.dedup();
            if distinct.len() > 1 {
                proptest::prop_assert_eq!(crossratio(ma, qa, ma, qa), 1.0);
            }
        }

        #[test]
        fn ratio_grows_with_mean_separation(
            a in proptest::collection::vec(-1.0f64..1.0, 3..30),
            shift in 0.01f64..5.0,
        ) {
            let (ma, qa) = means(&a);
            proptest::prop_assume!(pop_var(&a) > 1e-3);
            let ratio_at = |t: f64| {
                let b: Vec<f64> = a.iter().map(|x| x + t).collect();
                let (mb, qb) = means(&b);
                crossratio(ma, qa, mb, qb)
            };
            let near = ratio_at(shift);
            let far = ratio_at(2.0 * shift);
            proptest::prop_assert!(near > 1.0);
            proptest::prop_assert!(far > near, "{far} <= {near}");
        }
    }

    #[test]
    fn ratio_matches_closed_form_for_two_point_samples() {
        // A = {−1, 1}, B = {1, 3}: σ = 1 each, crossvar = ½(1 + 5) − 0·2 = 3.
        assert!((crossratio(0.0, 1.0, 2.0, 5.0) - 3f64.sqrt()).abs() < 1e-15);
        assert!((crossdev(0.0, 1.0, 2.0, 5.0) - 3f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn constant_dimensions_rank_no_higher_than_identical_distributions() {
        // Both constant, same value: useless.
        assert_eq!(crossratio(0.3, 0.09, 0.3, 0.09), 1.0);
        // Both constant, different values: separating on paper, guarded to 1.
        assert_eq!(crossratio(0.3, 0.09, -0.2, 0.04), 1.0);
        // One side constant, the other spread.
        assert_eq!(crossratio(0.3, 0.09, 0.0, 1.0), 1.0);
        // Any dimension with spread and a mean shift beats them.
        assert!(crossratio(0.0, 1.0, 0.1, 1.01) > 1.0);
    }

    #[test]
    fn rounding_residue_of_a_constant_dimension_counts_as_constant() {
        // 0.1 summed 3 times: mean² and mean of squares disagree in the last bits.
        let xs = [0.1f64; 3];
        let (m, q) = means(&xs);
        assert_eq!(variance(m, q), 0.0);
        assert_eq!(crossratio(m, q, 0.5, 0.5), 1.0);
    }
}
