//! Similar items for the selection: every item's cosine to the selected one, computed on a
//! thread (one pass over the embeddings: milliseconds at 100k, a few hundred at 1M) and kept
//! until the selection changes, so no frame waits for it.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use pairwise_audit::Dataset;
use pairwise_audit::map::similar::{self, Similarity};

/// Embedding values up to which the cosines are computed on the UI thread (about a
/// millisecond).
const INLINE_WORK: usize = 2_000_000;

#[derive(Default)]
pub struct SimilarItems {
    current: Option<(Arc<Dataset>, Arc<Similarity>)>,
    pending: Option<(Arc<Dataset>, usize, Receiver<Similarity>)>,
}

impl SimilarItems {
    /// Item `i`'s similarities in `ds` if they are ready; otherwise starts computing them
    /// (the worker repaints when done) and answers `None`.
    pub fn get(
        &mut self,
        ctx: &egui::Context,
        ds: &Arc<Dataset>,
        i: usize,
    ) -> Option<Arc<Similarity>> {
        if let Some((d, s)) = &self.current
            && Arc::ptr_eq(d, ds)
            && s.item == i
        {
            return Some(s.clone());
        }
        if let Some((d, item, rx)) = &self.pending
            && Arc::ptr_eq(d, ds)
            && *item == i
        {
            return match rx.try_recv() {
                Ok(s) => {
                    let s = Arc::new(s);
                    self.current = Some((ds.clone(), s.clone()));
                    self.pending = None;
                    Some(s)
                }
                Err(TryRecvError::Empty) => None,
                Err(TryRecvError::Disconnected) => {
                    self.pending = None;
                    None
                }
            };
        }
        // Small catalogues answer within the frame (no placeholder flashing by).
        let work: usize = ds
            .modalities()
            .iter()
            .filter_map(|&m| ds.embeddings(m))
            .map(|x| x.len())
            .sum();
        if work <= INLINE_WORK {
            let s = Arc::new(similar::to_item(ds, i));
            self.current = Some((ds.clone(), s.clone()));
            self.pending = None;
            return Some(s);
        }
        // A newer selection replaces the pending one; its thread finishes unheard.
        let (tx, rx) = channel();
        let (d, ctx) = (ds.clone(), ctx.clone());
        std::thread::spawn(move || {
            let _ = tx.send(similar::to_item(&d, i));
            ctx.request_repaint();
        });
        self.pending = Some((ds.clone(), i, rx));
        None
    }
}
