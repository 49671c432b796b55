//! Similar items: every item's cosine to one item, per view and averaged over the views, and
//! the most similar ones. Exact: one pass over the embeddings (`n·d`), cheap enough to run
//! for each selection on a background thread even at a million items.

use rayon::prelude::*;

use crate::scorers::View;
use crate::{Dataset, Modality};

/// Cosines of every item to item `i` in one view (0 for items without that view).
pub fn cosines(view: &View, i: usize) -> Vec<f32> {
    let rows = view.rows();
    let q = rows.raw.row(i);
    let qi = rows.inv_norm[i];
    (0..rows.nrows())
        .into_par_iter()
        .with_min_len(4096)
        .map(|j| rows.raw.row(j).dot(&q) * qi * rows.inv_norm[j])
        .collect()
}

/// Item `i`'s similarities in every view `ds` has, and their mean (over the views in which
/// both items have embeddings: a missing view counts as no evidence, not as dissimilar).
#[derive(Clone, Debug, PartialEq)]
pub struct Similarity {
    pub item: usize,
    pub views: Vec<(Modality, Vec<f32>)>,
    pub mean: Vec<f32>,
}

pub fn to_item(ds: &Dataset, i: usize) -> Similarity {
    let views: Vec<(Modality, Vec<f32>)> = ds
        .modalities()
        .into_iter()
        .filter_map(|m| {
            let x = ds.embeddings(m)?;
            Some((m, cosines(&View::borrowed(x.view()), i)))
        })
        .collect();
    let n = ds.len();
    let mean = (0..n)
        .map(|j| {
            let (sum, count) = views
                .iter()
                .filter(|(_, s)| s[j] != 0.0)
                .fold((0.0f32, 0u32), |(a, c), (_, s)| (a + s[j], c + 1));
            if count == 0 { 0.0 } else { sum / count as f32 }
        })
        .collect();
    Similarity {
        item: i,
        views,
        mean,
    }
}

/// The `k` most similar items other than `me`, best first (ties to the lower index).
pub fn top_k(sims: &[f32], k: usize, me: usize) -> Vec<(usize, f32)> {
    let mut all: Vec<(usize, f32)> = sims
        .iter()
        .copied()
        .enumerate()
        .filter(|&(j, _)| j != me)
        .collect();
    let better = |a: &(usize, f32), b: &(usize, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    let k = k.min(all.len());
    if k == 0 {
        return Vec::new();
    }
    all.select_nth_unstable_by(k - 1, better);
    all.truncate(k);
    all.sort_by(better);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn cosines_and_top_k_find_the_nearest_others() {
        let x = array![
            [1.0f32, 0.0],
            [2.0, 0.1],
            [0.0, 3.0],
            [0.0, 0.0],
            [1.0, 1.0]
        ];
        let s = cosines(&View::owned(x), 0);
        assert!((s[0] - 1.0).abs() < 1e-6);
        assert_eq!(s[3], 0.0);
        let top: Vec<usize> = top_k(&s, 2, 0).into_iter().map(|(j, _)| j).collect();
        assert_eq!(top, vec![1, 4]);
        assert_eq!(top_k(&s, 10, 0).len(), 4);
    }
}
