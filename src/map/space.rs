//! The space the map is laid out from: each view's unit rows in their leading principal
//! directions, the views side by side when joined. Working in `dims` (32) dimensions
//! instead of 768 makes the neighbour search an order of magnitude cheaper, and the scale
//! issue measured that the label vote keeps its quality on these neighbours.

use ndarray::{Array2, ArrayView2, Axis, s};

use crate::scorers::ann::{self, AnnParams};
use crate::scorers::linalg::{gram, symmetric_eigen};
use crate::scorers::{Neighbours, View};
use crate::{Cancelled, Dataset, Modality, Monitor};

/// `n × (dims · views)` rows of norm 1 (or 0 for an item without any of the views): each
/// view projected by `ann::project`, scaled by `1/√views` so that the dot product of two
/// rows is the mean of the views' cosines (in their subspaces).
pub fn build(
    ds: &Dataset,
    modalities: &[Modality],
    dims: usize,
    monitor: &Monitor,
) -> Result<Array2<f32>, Cancelled> {
    let n = ds.len();
    let parts: Vec<Array2<f32>> = modalities
        .iter()
        .filter_map(|&m| ds.embeddings(m))
        .map(|x| {
            let view = View::borrowed(x.view());
            ann::project(view.rows(), dims, monitor)
        })
        .collect::<Result<_, _>>()?;
    let width: usize = parts.iter().map(|p| p.ncols()).sum();
    let scale = (parts.len().max(1) as f32).sqrt().recip();
    let mut out = Array2::<f32>::zeros((n, width));
    let mut col = 0;
    for p in &parts {
        out.slice_mut(s![.., col..col + p.ncols()])
            .zip_mut_with(p, |o, &v| *o = v * scale);
        col += p.ncols();
    }
    Ok(out)
}

/// The first two principal components of `y`'s rows (centred), scaled so that the largest
/// coordinate is 10 (where UMAP starts its own layouts).
pub fn pca2(y: ArrayView2<f32>) -> Vec<[f32; 2]> {
    let n = y.nrows();
    if n == 0 || y.ncols() == 0 {
        return vec![[0.0; 2]; n];
    }
    let mean = y.mean_axis(Axis(0)).expect("n > 0");
    let centred = &y - &mean;
    let mut cov = gram(centred.view());
    cov.mapv_inplace(|v| v / n as f64);
    let (_, vectors) = symmetric_eigen(&cov);
    let basis = vectors
        .slice(s![.., ..2.min(vectors.ncols())])
        .mapv(|v| v as f32);
    let xy = centred.dot(&basis);
    let max = xy.iter().fold(0.0f32, |m, v| m.max(v.abs())).max(1e-12);
    xy.rows()
        .into_iter()
        .map(|r| {
            let at = |a: usize| r.get(a).copied().unwrap_or(0.0) * 10.0 / max;
            [at(0), at(1)]
        })
        .collect()
}

/// The `k` nearest other items of every item in `space` by cosine, every item a reference
/// (the map must not thin the neighbourhoods the way the scorer's vote may).
pub fn neighbours(
    space: Array2<f32>,
    k: usize,
    monitor: &Monitor,
) -> Result<Neighbours, Cancelled> {
    let n = space.nrows();
    let dims = space.ncols();
    let view = View::owned(space);
    ann::neighbours(
        view.rows(),
        k,
        // The search does not read the modality; the joined space has none of its own.
        Modality::Image,
        AnnParams {
            dims,
            probe: 8,
            reference: n.max(2),
        },
        monitor,
    )
}
