//! How well a map keeps neighbourhoods: of each sampled item's `k` nearest neighbours in the
//! embeddings (exact, by cosine), the share that are also among its `k` nearest on the map.

use ndarray::ArrayView2;
use rayon::prelude::*;

/// Mean share of the `k` exact cosine neighbours (the mean cosine over `views`, each given as
/// unit rows) kept among the `k` nearest map points, over an even stride of `sample` items.
pub fn preserved(views: &[ArrayView2<f32>], xy: &[[f32; 2]], k: usize, sample: usize) -> f64 {
    let n = xy.len();
    if n <= k || views.is_empty() {
        return 1.0;
    }
    let stride = n.div_ceil(sample.max(1)).max(1);
    let rows: Vec<usize> = (0..n).step_by(stride).collect();
    let kept: usize = rows
        .par_iter()
        .map(|&i| {
            let mut cos = vec![0.0f32; n];
            for v in views {
                let q = v.row(i);
                for (c, r) in cos.iter_mut().zip(v.rows()) {
                    *c += q.dot(&r);
                }
            }
            let high = top(n, k, i, |j| cos[j]);
            let p = xy[i];
            let low = top(n, k, i, |j| {
                let d = [xy[j][0] - p[0], xy[j][1] - p[1]];
                -(d[0] * d[0] + d[1] * d[1])
            });
            high.iter().filter(|j| low.contains(j)).count()
        })
        .sum();
    kept as f64 / (rows.len() * k) as f64
}

/// Mean share of each sampled annotated item's `k` nearest map points that carry its
/// annotation: how cleanly classes form regions (the picture in which a mislabelled island
/// stands out).
pub fn label_agreement(
    labels: &[Option<crate::ClassId>],
    xy: &[[f32; 2]],
    k: usize,
    sample: usize,
) -> f64 {
    let n = xy.len();
    let stride = n.div_ceil(sample.max(1)).max(1);
    let rows: Vec<usize> = (0..n)
        .step_by(stride)
        .filter(|&i| labels[i].is_some())
        .collect();
    if rows.is_empty() || n <= k {
        return 0.0;
    }
    let same: usize = rows
        .par_iter()
        .map(|&i| {
            let p = xy[i];
            let near = top(n, k, i, |j| {
                let d = [xy[j][0] - p[0], xy[j][1] - p[1]];
                -(d[0] * d[0] + d[1] * d[1])
            });
            near.iter().filter(|&&j| labels[j] == labels[i]).count()
        })
        .sum();
    same as f64 / (rows.len() * k) as f64
}

/// The `k` items other than `me` with the largest `score`.
fn top(n: usize, k: usize, me: usize, score: impl Fn(usize) -> f32) -> Vec<usize> {
    let mut best: Vec<(f32, usize)> = (0..n).filter(|&j| j != me).map(|j| (score(j), j)).collect();
    let k = k.min(best.len());
    best.select_nth_unstable_by(k.saturating_sub(1), |a, b| b.0.total_cmp(&a.0));
    best.truncate(k);
    best.into_iter().map(|(_, j)| j).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn a_map_that_copies_the_space_keeps_every_neighbour_and_a_scrambled_one_does_not() {
        // Points on a circle: in 2-D unit rows, their map can be the rows themselves.
        let n = 60;
        let rows: Vec<[f32; 2]> = (0..n)
            .map(|i| {
                let t = i as f32 / n as f32 * std::f32::consts::TAU;
                [t.cos(), t.sin()]
            })
            .collect();
        let x = ndarray::Array2::from_shape_fn((n, 2), |(i, j)| rows[i][j]);
        assert_eq!(preserved(&[x.view()], &rows, 4, 60), 1.0);
        let scrambled: Vec<[f32; 2]> = (0..n).map(|i| rows[(i * 17) % n]).collect();
        assert!(preserved(&[x.view()], &scrambled, 4, 60) < 0.3);
        let _ = array![[0.0f32]];
    }
}
