//! Computing a catalogue's embeddings in-process: CLIP's image and text towers (candle), its
//! tokenizer (`tokenizers`) and image preprocessing, from a local Hugging Face model folder or
//! the hub, with a resume cache. Built with the `embed` feature; no egui here.
//!
//! See docs/embedding.md for the models, the cache and where preprocessing differs from PIL.

mod cache;
pub mod clip;
pub mod config;
pub mod hub;
pub mod job;
pub mod model;
pub mod preprocess;
pub mod tokenize;

pub use job::{EmbedOptions, EmbedReport, Part, embed_catalogue};
pub use model::{Model, ModelFiles};

/// Why embedding stopped, as one sentence.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// The user can fix it (a model, a file, an option).
    #[error("{0}")]
    Input(String),
    /// Something failed on our side or the machine's.
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Cancelled(#[from] crate::Cancelled),
}

impl EmbedError {
    pub fn input(m: impl Into<String>) -> EmbedError {
        EmbedError::Input(m.into())
    }

    pub fn internal(m: impl Into<String>) -> EmbedError {
        EmbedError::Internal(m.into())
    }

    fn candle(e: candle_core::Error) -> EmbedError {
        EmbedError::Internal(format!("the model failed to run ({e})."))
    }
}

/// Resolve `--model`: a local folder in the Hugging Face layout, or a hub id.
pub fn resolve_model(
    model: &str,
    revision: &str,
    progress: bool,
) -> Result<ModelFiles, EmbedError> {
    let path = std::path::Path::new(model);
    if path.is_dir() {
        ModelFiles::local(path)
    } else if hub::looks_like_hub_id(model) {
        hub::fetch(model, revision, progress)
    } else {
        Err(EmbedError::input(format!(
            "--model {model}: is neither a model folder (with config.json, model.safetensors, tokenizer.json and preprocessor_config.json) nor a Hugging Face hub id such as openai/clip-vit-base-patch32."
        )))
    }
}
