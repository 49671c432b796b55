//! Cross-variance, cross-deviation and cross ratio of one dimension of two samples, from
//! their moments (see `docs/method.md`).

/// `crossvar(A, B) = ½(mean(A²) + mean(B²)) − mean(A)·mean(B)`.
pub fn crossvar(_mean_a: f64, _mean_sq_a: f64, _mean_b: f64, _mean_sq_b: f64) -> f64 {
    todo!("engine")
}
