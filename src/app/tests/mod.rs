//! The app driven as a user drives it (egui_kittest), and its frame-time benchmark.

mod bench;
#[cfg(feature = "embed")]
mod embed_flow;
mod flows;
mod layout;
mod many_classes;
mod map;
mod one_vs_rest;
pub(crate) mod review;
