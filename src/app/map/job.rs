//! The layout on a worker thread: the cached layout if there is one, else the PCA at once and
//! the UMAP layout when it is ready (then cached). Cancelled through its `Monitor`.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use pairwise_audit::map::{self, Layout, MapParams, MapView, cache};
use pairwise_audit::{Dataset, Monitor, Progress};

pub enum Msg {
    /// The first picture, while the layout runs.
    Pca(Layout),
    /// The final layout, and a sentence if it could not be cached.
    Done {
        layout: Layout,
        cached: bool,
        note: Option<String>,
    },
    Failed(String),
    Cancelled,
}

pub struct LayoutJob {
    pub monitor: Arc<Monitor>,
    rx: Receiver<Msg>,
}

impl LayoutJob {
    pub fn spawn(
        ctx: &egui::Context,
        dataset: Arc<Dataset>,
        view: MapView,
        params: MapParams,
        cache_dir: Option<PathBuf>,
    ) -> LayoutJob {
        let monitor = Arc::new(Monitor::new());
        let (tx, rx) = channel();
        let (m, ds, ctx) = (monitor.clone(), dataset, ctx.clone());
        std::thread::Builder::new()
            .name("pairwise-audit map".into())
            .spawn(move || {
                let send = |msg| {
                    // The receiver is gone when the map was replaced: nothing left to tell.
                    let _ = tx.send(msg);
                    ctx.request_repaint();
                };
                let key = cache::key(&ds, view, &params);
                let file = cache_dir.map(|d| cache::path(&d, view, &key));
                if let Some(layout) = file.as_ref().and_then(|f| cache::read(f, &key, ds.len())) {
                    send(Msg::Done {
                        layout,
                        cached: true,
                        note: None,
                    });
                    return;
                }
                let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    map::compute(&ds, view, &params, &m, |pca| send(Msg::Pca(pca)))
                }));
                let msg = match run {
                    Ok(Ok(layout)) => {
                        let note = file
                            .as_ref()
                            .and_then(|f| cache::write(f, &key, &layout).err())
                            .map(|e| format!("The map could not be cached: {e}"));
                        Msg::Done {
                            layout,
                            cached: false,
                            note,
                        }
                    }
                    Ok(Err(map::MapError::Cancelled(_))) => Msg::Cancelled,
                    Ok(Err(e)) => Msg::Failed(e.to_string()),
                    Err(_) => Msg::Failed("internal error while laying out the map".into()),
                };
                send(msg);
            })
            .expect("the OS refused to start a worker thread");
        LayoutJob { monitor, rx }
    }

    pub fn cancel(&self) {
        self.monitor.cancel();
    }

    pub fn progress(&self) -> Progress {
        self.monitor.sample()
    }

    /// Every message that arrived since the last poll; `None` once the thread is gone.
    pub fn poll(&self) -> Option<Vec<Msg>> {
        let mut out = Vec::new();
        loop {
            match self.rx.try_recv() {
                Ok(m) => out.push(m),
                Err(TryRecvError::Empty) => return Some(out),
                Err(TryRecvError::Disconnected) => {
                    return if out.is_empty() { None } else { Some(out) };
                }
            }
        }
    }
}
