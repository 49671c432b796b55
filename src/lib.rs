//! The pairwise-audit engine: load a catalogue, classify each modality with the pairwise
//! cross-variance tournament (see `docs/method.md`), audit the existing annotations, and
//! compute the metrics. Nothing here knows about egui; the command line and the app are two
//! front ends over the same calls.

pub mod atomic_file;
pub mod audit;
pub mod baseline;
pub mod classify;
pub mod crossvar;
pub mod dataset;
#[cfg(feature = "embed")]
pub mod embed;
pub mod error;
pub mod evaluate;
pub mod map;
pub mod metrics;
pub mod moments;
pub mod one_vs_rest;
pub mod output;
pub mod params;
pub mod progress;
pub mod review;
pub mod scorers;
pub mod selection;
pub mod synth;
pub mod tournament;
pub mod types;

pub use classify::{Classification, ClassifyError, ModalityResult, classify};
pub use dataset::Dataset;
pub use error::DatasetError;
pub use params::Params;
pub use progress::{Cancelled, Monitor, Progress, Stage};
pub use types::{ClassId, Modality, PairKey};
