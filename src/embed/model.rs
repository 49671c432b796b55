//! A CLIP model in the Hugging Face layout — `config.json`, `model.safetensors` (or
//! `pytorch_model.bin`), `tokenizer.json`, `preprocessor_config.json` — from a local folder or
//! from the hub (see `hub.rs`), loaded and checked.

use std::path::{Path, PathBuf};

use candle_core::Device;
use sha2::{Digest, Sha256};

use super::clip::ClipEncoder;
use super::preprocess::Preprocess;
use super::tokenize::TextTokenizer;
use super::{EmbedError, config};

pub const CONFIG: &str = "config.json";
pub const WEIGHTS: &str = "model.safetensors";
pub const WEIGHTS_PTH: &str = "pytorch_model.bin";
pub const TOKENIZER: &str = "tokenizer.json";
pub const PREPROCESSOR: &str = "preprocessor_config.json";

/// Where a model's four files are, and what it is called.
#[derive(Clone, Debug)]
pub struct ModelFiles {
    /// The hub id, or the folder as given.
    pub id: String,
    /// The hub commit, or a digest of the local files (see `local`).
    pub revision: String,
    pub config: PathBuf,
    pub weights: PathBuf,
    pub tokenizer: PathBuf,
    pub preprocessor: PathBuf,
}

impl ModelFiles {
    /// A local folder in the Hugging Face layout.
    pub fn local(folder: &Path) -> Result<ModelFiles, EmbedError> {
        let need = |name: &str, what: &str| -> Result<PathBuf, EmbedError> {
            let p = folder.join(name);
            if p.is_file() {
                Ok(p)
            } else {
                Err(EmbedError::input(format!(
                    "{}: the model folder has no {name} ({what}); a Hugging Face model folder holds {CONFIG}, {WEIGHTS}, {TOKENIZER} and {PREPROCESSOR}.",
                    folder.display()
                )))
            }
        };
        let config = need(CONFIG, "the model's shapes")?;
        let weights = if folder.join(WEIGHTS).is_file() {
            folder.join(WEIGHTS)
        } else if folder.join(WEIGHTS_PTH).is_file() {
            folder.join(WEIGHTS_PTH)
        } else {
            need(WEIGHTS, "the weights")?
        };
        let tokenizer = need(TOKENIZER, "the text tokenizer")?;
        let preprocessor = need(PREPROCESSOR, "how images are resized and normalised")?;
        let revision = local_revision(&[&config, &tokenizer, &preprocessor], &weights);
        Ok(ModelFiles {
            id: folder.display().to_string(),
            revision,
            config,
            weights,
            tokenizer,
            preprocessor,
        })
    }
}

/// A digest of the small files' bytes and the weights' size and modification time: any
/// re-export or edit changes it, and it costs no pass over gigabytes of weights.
fn local_revision(small: &[&Path], weights: &Path) -> String {
    let mut h = Sha256::new();
    for p in small {
        h.update(std::fs::read(p).unwrap_or_default());
    }
    if let Ok(m) = std::fs::metadata(weights) {
        h.update(m.len().to_le_bytes());
        if let Ok(t) = m.modified().and_then(|t| {
            t.duration_since(std::time::UNIX_EPOCH)
                .map_err(std::io::Error::other)
        }) {
            h.update(t.as_nanos().to_le_bytes());
        }
    }
    let hex: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
    format!("local-{}", &hex[..16])
}

/// Everything needed to embed: the encoder, its tokenizer and its image preprocessing.
pub struct Model {
    pub files: ModelFiles,
    pub encoder: ClipEncoder,
    pub tokenizer: TextTokenizer,
    pub preprocess: Preprocess,
}

impl Model {
    pub fn load(files: ModelFiles, device: &Device) -> Result<Model, EmbedError> {
        let shapes = config::read(&files.config)?;
        let preprocess = Preprocess::read(&files.preprocessor)?;
        let side = shapes.image_size() as u32;
        if preprocess.output_size() != Some((side, side)) {
            return Err(EmbedError::input(format!(
                "{}: gives images of {} but the model's vision_config.image_size is {side}; the two files belong to different models.",
                files.preprocessor.display(),
                match preprocess.output_size() {
                    Some((h, w)) => format!("{w}×{h} pixels"),
                    None => "no fixed size (no crop)".into(),
                }
            )));
        }
        let tokenizer = TextTokenizer::load(
            &files.tokenizer,
            shapes.text.max_position_embeddings,
            shapes.text.vocab_size,
        )?;
        let encoder = ClipEncoder::load(&files.weights, shapes, device)?;
        Ok(Model {
            files,
            encoder,
            tokenizer,
            preprocess,
        })
    }

    /// What an embedding depends on besides its input: the cache is keyed by it.
    pub fn cache_key(&self) -> String {
        format!(
            "{} @ {} | {} | eos {} max {}",
            self.files.id,
            self.files.revision,
            self.preprocess.key(),
            self.tokenizer.eos,
            self.tokenizer.max_len
        )
    }
}
