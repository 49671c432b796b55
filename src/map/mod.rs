//! A 2-D map of the catalogue: every item a point, near neighbours in the embedding space
//! near each other on the map.
//!
//! 1. `space`: each view's unit rows projected on their 32 leading principal directions
//!    (`scorers::ann::project`); "both views" joins the two projections, each scaled by
//!    `1/√2`, so a cosine there is the mean of the two views' cosines.
//! 2. A 2-D PCA of that space, available at once (`Stage::MapPca`).
//! 3. The `k` nearest neighbours of every item in the space (`scorers::ann::neighbours`
//!    with every item a reference), then `umap`: a fuzzy neighbour graph laid out by
//!    stochastic gradient descent, started from the PCA.
//!
//! Nothing here knows about egui; the app runs `compute` on a worker thread and `cache`
//! keeps the result beside the decision log so that a re-open is instant.

pub mod cache;
pub mod quality;
pub mod similar;
pub mod space;
pub mod umap;

use serde::{Deserialize, Serialize};

use crate::{Cancelled, Dataset, Modality, Monitor, Stage};

/// Which embeddings the map is made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum MapView {
    Image,
    Text,
    /// Both views joined: neighbours by the mean of the two cosines.
    #[default]
    Joined,
}

impl MapView {
    pub const ALL: [MapView; 3] = [MapView::Joined, MapView::Image, MapView::Text];

    pub fn name(self) -> &'static str {
        match self {
            MapView::Image => "image",
            MapView::Text => "text",
            MapView::Joined => "both views",
        }
    }

    /// The modalities this view reads, of those `ds` has (a joined map of a one-view
    /// catalogue is that view's map).
    pub fn modalities(self, ds: &Dataset) -> Vec<Modality> {
        let want: &[Modality] = match self {
            MapView::Image => &[Modality::Image],
            MapView::Text => &[Modality::Text],
            MapView::Joined => &Modality::ALL,
        };
        ds.modalities()
            .into_iter()
            .filter(|m| want.contains(m))
            .collect()
    }
}

/// Knobs of the layout; `Default` gives the measured defaults (see BENCHMARKS.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MapParams {
    /// Principal directions of each view kept in the space.
    pub dims: usize,
    /// Neighbours per item in the graph.
    pub k: usize,
    /// SGD epochs (`0`: chosen from the catalogue's size, as UMAP does).
    pub epochs: usize,
    /// Random negative samples per positive edge sample.
    pub negatives: usize,
    pub seed: u64,
}

impl Default for MapParams {
    fn default() -> MapParams {
        MapParams {
            dims: 32,
            k: 15,
            epochs: 0,
            negatives: 5,
            seed: 42,
        }
    }
}

impl MapParams {
    /// The epochs a catalogue of `n` items gets: UMAP's 500 for small ones, 200 above 10k.
    pub fn epochs_for(&self, n: usize) -> usize {
        match self.epochs {
            0 if n <= 10_000 => 500,
            0 => 200,
            e => e,
        }
    }
}

/// Which algorithm produced a layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LayoutKind {
    Pca,
    Umap,
}

/// One point per item, in items.csv order.
#[derive(Clone, Debug, PartialEq)]
pub struct Layout {
    pub kind: LayoutKind,
    pub xy: Vec<[f32; 2]>,
}

impl Layout {
    pub fn len(&self) -> usize {
        self.xy.len()
    }

    pub fn is_empty(&self) -> bool {
        self.xy.is_empty()
    }

    /// `(min, max)` corners of the points' bounding box (a unit box when empty).
    pub fn bounds(&self) -> ([f32; 2], [f32; 2]) {
        let mut lo = [f32::INFINITY; 2];
        let mut hi = [f32::NEG_INFINITY; 2];
        for p in &self.xy {
            for a in 0..2 {
                lo[a] = lo[a].min(p[a]);
                hi[a] = hi[a].max(p[a]);
            }
        }
        if lo[0] > hi[0] {
            return ([0.0; 2], [1.0; 2]);
        }
        (lo, hi)
    }
}

/// Progress units of `compute` per stage, for `n` items.
fn stage_units(n: usize) -> u64 {
    n as u64
}

/// The map of `ds` in `view`: calls `on_pca` with the PCA layout as soon as it exists, then
/// returns the UMAP layout. Reports `Stage::MapPca`, `MapNeighbours` and `MapLayout` to
/// `monitor` and stops within one block or epoch of a cancel.
pub fn compute(
    ds: &Dataset,
    view: MapView,
    params: &MapParams,
    monitor: &Monitor,
    on_pca: impl FnOnce(Layout),
) -> Result<Layout, MapError> {
    let n = ds.len();
    let modalities = view.modalities(ds);
    if modalities.is_empty() {
        return Err(MapError::NoEmbeddings(view));
    }
    monitor.begin(
        Stage::MapPca,
        None,
        crate::scorers::ann::progress_units(n) / 3 * modalities.len() as u64,
    );
    let space = space::build(ds, &modalities, params.dims, monitor)?;
    let pca = space::pca2(space.view());
    on_pca(Layout {
        kind: LayoutKind::Pca,
        xy: pca.clone(),
    });
    monitor.begin(
        Stage::MapNeighbours,
        None,
        crate::scorers::ann::progress_units(n),
    );
    let graph = space::neighbours(space, params.k, monitor)?;
    let epochs = params.epochs_for(n);
    monitor.begin(Stage::MapLayout, None, stage_units(epochs));
    let xy = umap::layout(&graph, pca, epochs, params, monitor)?;
    Ok(Layout {
        kind: LayoutKind::Umap,
        xy,
    })
}

/// Why there is no map, as one sentence.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum MapError {
    #[error("the catalogue has no {} embeddings to map", .0.name())]
    NoEmbeddings(MapView),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{self, SynthParams};

    fn small() -> Dataset {
        synth::generate(&SynthParams {
            n: 400,
            d: 32,
            classes: 4,
            noise: 0.3,
            seed: 5,
            ..SynthParams::default()
        })
        .into_dataset()
    }

    #[test]
    fn the_pca_comes_first_then_a_layout_that_groups_the_classes_better() {
        let ds = small();
        let params = MapParams {
            epochs: 100,
            ..MapParams::default()
        };
        let mut pca = None;
        let layout = compute(&ds, MapView::Joined, &params, &Monitor::new(), |l| {
            pca = Some(l)
        })
        .unwrap();
        let pca = pca.expect("the PCA is handed over before the layout");
        assert_eq!((pca.kind, layout.kind), (LayoutKind::Pca, LayoutKind::Umap));
        assert_eq!((pca.len(), layout.len()), (ds.len(), ds.len()));
        assert!(
            layout
                .xy
                .iter()
                .all(|p| p[0].is_finite() && p[1].is_finite())
        );
        let labels = ds.annotations();
        let share = |xy: &[[f32; 2]]| quality::label_agreement(&labels, xy, 10, 400);
        assert!(
            share(&layout.xy) > share(&pca.xy).max(0.5),
            "layout {} vs PCA {}",
            share(&layout.xy),
            share(&pca.xy)
        );
        // The same seed gives the same map.
        let again = compute(&ds, MapView::Joined, &params, &Monitor::new(), |_| {}).unwrap();
        assert_eq!(again, layout);
    }

    #[test]
    fn a_cancel_stops_the_layout_and_a_missing_view_is_one_sentence() {
        let ds = small();
        let m = Monitor::new();
        m.cancel();
        assert_eq!(
            compute(&ds, MapView::Image, &MapParams::default(), &m, |_| {}),
            Err(MapError::Cancelled(Cancelled))
        );
        let text_only = Dataset {
            image_embeddings: None,
            ..ds
        };
        assert_eq!(MapView::Joined.modalities(&text_only), vec![Modality::Text]);
        let err = compute(
            &text_only,
            MapView::Image,
            &MapParams::default(),
            &Monitor::new(),
            |_| {},
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the catalogue has no image embeddings to map"
        );
    }
}
