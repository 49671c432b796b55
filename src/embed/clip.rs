//! CLIP's two towers from candle-transformers, assembled here rather than through candle's
//! `ClipModel` so that the text is pooled where this crate puts the end-of-text token (candle
//! pools at the largest id, which is only right while end-of-text is the vocabulary's last
//! token) and so that a checkpoint missing `class_embedding` is refused instead of getting a
//! random one.

use std::path::Path;

use candle_core::{DType, Device, IndexOp, Module, Tensor};
use candle_nn::{Linear, VarBuilder};
use candle_transformers::models::clip::text_model::ClipTextTransformer;
use candle_transformers::models::clip::vision_model::ClipVisionTransformer;

use super::EmbedError;
use super::config::ClipShapes;

pub struct ClipEncoder {
    text: ClipTextTransformer,
    vision: ClipVisionTransformer,
    text_projection: Linear,
    visual_projection: Linear,
    device: Device,
    pub shapes: ClipShapes,
}

/// Tensors that candle would otherwise invent at random when a checkpoint lacks them.
const MUST_EXIST: [&str; 4] = [
    "vision_model.embeddings.class_embedding",
    "vision_model.embeddings.patch_embedding.weight",
    "text_model.embeddings.token_embedding.weight",
    "text_projection.weight",
];

impl ClipEncoder {
    /// Load the weights at `weights` (`model.safetensors`, or a PyTorch `pytorch_model.bin`).
    pub fn load(
        weights: &Path,
        shapes: ClipShapes,
        device: &Device,
    ) -> Result<ClipEncoder, EmbedError> {
        let is_pth = weights.extension().is_some_and(|e| e == "bin");
        let vb = if is_pth {
            VarBuilder::from_pth(weights, DType::F32, device)
        } else {
            // SAFETY: the file is mapped read-only for the encoder's lifetime; like every
            // reader of model weights we rely on nobody truncating it meanwhile.
            unsafe { VarBuilder::from_mmaped_safetensors(&[weights], DType::F32, device) }
        }
        .map_err(|e| {
            EmbedError::input(format!(
                "{}: cannot be read as model weights ({e}).",
                weights.display()
            ))
        })?;
        Self::from_var_builder(vb, shapes, device).map_err(|e| match e {
            EmbedError::Input(m) => EmbedError::Input(format!("{}: {m}", weights.display())),
            other => other,
        })
    }

    /// Build the towers over `vb` (a checkpoint, or a test's VarMap).
    pub fn from_var_builder(
        vb: VarBuilder,
        shapes: ClipShapes,
        device: &Device,
    ) -> Result<ClipEncoder, EmbedError> {
        for name in MUST_EXIST {
            if !vb.contains_tensor(name) {
                return Err(EmbedError::input(format!(
                    "holds no tensor `{name}`; expected a transformers CLIPModel checkpoint (saved with save_pretrained)."
                )));
            }
        }
        let shape_error = |e: candle_core::Error| {
            EmbedError::input(format!(
                "does not match config.json ({e}); the weights and the config belong to different models."
            ))
        };
        let text =
            ClipTextTransformer::new(vb.pp("text_model"), &shapes.text).map_err(shape_error)?;
        let vision = ClipVisionTransformer::new(vb.pp("vision_model"), &shapes.vision)
            .map_err(shape_error)?;
        let visual_projection = candle_nn::linear_no_bias(
            shapes.vision.embed_dim,
            shapes.projection_dim,
            vb.pp("visual_projection"),
        )
        .map_err(shape_error)?;
        let text_projection = candle_nn::linear_no_bias(
            shapes.text.embed_dim,
            shapes.projection_dim,
            vb.pp("text_projection"),
        )
        .map_err(shape_error)?;
        Ok(ClipEncoder {
            text,
            vision,
            text_projection,
            visual_projection,
            device: device.clone(),
            shapes,
        })
    }

    pub fn dim(&self) -> usize {
        self.shapes.projection_dim
    }

    /// L2-normalised text embeddings, each pooled at its last token (where the tokenizer put
    /// end-of-text).
    pub fn embed_texts(&self, ids: &[Vec<u32>]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let positions: Vec<usize> = ids.iter().map(|s| s.len().saturating_sub(1)).collect();
        self.embed_texts_pooled_at(ids, &positions)
    }

    /// Text embeddings pooled at explicit positions (tests use it to show what a wrong
    /// pooling position does).
    pub fn embed_texts_pooled_at(
        &self,
        ids: &[Vec<u32>],
        positions: &[usize],
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let len = ids.iter().map(Vec::len).max().unwrap_or(1).max(1);
        // The mask is causal, so whatever follows a text's end cannot change its pooled
        // token: shorter texts are padded with id 0.
        let mut flat = Vec::with_capacity(ids.len() * len);
        for s in ids {
            flat.extend_from_slice(s);
            flat.extend(std::iter::repeat_n(0u32, len - s.len()));
        }
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let input = Tensor::from_vec(flat, (ids.len(), len), &self.device)?;
            let hidden = self.text.forward_with_mask(&input, usize::MAX)?;
            let rows = positions
                .iter()
                .enumerate()
                .map(|(b, &p)| hidden.i((b, p.min(len - 1))))
                .collect::<candle_core::Result<Vec<_>>>()?;
            let pooled = Tensor::stack(&rows, 0)?;
            self.text_projection.forward(&pooled)?.to_vec2::<f32>()
        };
        Ok(normalised(run().map_err(EmbedError::candle)?))
    }

    /// L2-normalised image embeddings of `n` preprocessed images (`n × 3 × s × s` values).
    pub fn embed_images(&self, pixels: Vec<f32>, n: usize) -> Result<Vec<Vec<f32>>, EmbedError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        let s = self.shapes.image_size();
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let input = Tensor::from_vec(pixels, (n, 3, s, s), &self.device)?;
            let pooled = self.vision.forward(&input)?;
            self.visual_projection.forward(&pooled)?.to_vec2::<f32>()
        };
        Ok(normalised(run().map_err(EmbedError::candle)?))
    }
}

fn normalised(rows: Vec<Vec<f32>>) -> Vec<Vec<f32>> {
    rows.into_iter()
        .map(|mut r| {
            let norm = r
                .iter()
                .map(|v| (*v as f64) * (*v as f64))
                .sum::<f64>()
                .sqrt();
            if norm > 0.0 {
                r.iter_mut().for_each(|v| *v = (*v as f64 / norm) as f32);
            }
            r
        })
        .collect()
}

/// The device named on the command line (`cpu`, `cuda`, `cuda:1`, `metal`).
pub fn device(name: &str) -> Result<Device, EmbedError> {
    let (kind, ordinal) = match name.split_once(':') {
        Some((k, o)) => (
            k,
            o.parse::<usize>().map_err(|_| {
                EmbedError::input(format!(
                    "--device {name}: the part after `:` must be a GPU number."
                ))
            })?,
        ),
        None => (name, 0),
    };
    match kind {
        "cpu" => Ok(Device::Cpu),
        "cuda" if cfg!(feature = "cuda") => Device::new_cuda(ordinal)
            .map_err(|e| EmbedError::input(format!("--device {name}: no usable CUDA GPU ({e})."))),
        "metal" if cfg!(feature = "metal") => Device::new_metal(ordinal)
            .map_err(|e| EmbedError::input(format!("--device {name}: no usable Metal GPU ({e})."))),
        "cuda" | "metal" => Err(EmbedError::input(format!(
            "--device {name}: this binary was built without the `{kind}` feature; rebuild with `cargo build --release --features {kind}` or use --device cpu."
        ))),
        _ => Err(EmbedError::input(format!(
            "--device {name}: unknown device; expected cpu, cuda[:N] or metal[:N]."
        ))),
    }
}
