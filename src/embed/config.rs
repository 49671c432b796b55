//! `config.json` of a transformers `CLIPModel` checkpoint, mapped by hand onto candle's CLIP
//! configs (which have no serde), refusing every setting candle's CLIP cannot run.

use std::path::Path;

use candle_transformers::models::clip::text_model::{Activation, ClipTextConfig};
use candle_transformers::models::clip::vision_model::ClipVisionConfig;
use serde_json::{Map, Value};

use super::EmbedError;

/// The two towers' shapes and the shared projection width.
#[derive(Clone, Debug)]
pub struct ClipShapes {
    pub text: ClipTextConfig,
    pub vision: ClipVisionConfig,
    pub projection_dim: usize,
}

impl ClipShapes {
    /// Side of the square image the vision tower takes.
    pub fn image_size(&self) -> usize {
        self.vision.image_size
    }
}

/// Read and check `config.json`.
pub fn read(path: &Path) -> Result<ClipShapes, EmbedError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| EmbedError::input(format!("{}: cannot be read ({e}).", path.display())))?;
    parse(&text).map_err(|why| EmbedError::input(format!("{}: {why}", path.display())))
}

/// Map the JSON text of a `config.json`; the error is the sentence after the file name.
pub fn parse(text: &str) -> Result<ClipShapes, String> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| format!("is not valid JSON ({e})."))?;
    let root = root
        .as_object()
        .ok_or("is not a JSON object; expected a transformers CLIPModel config.")?;
    match root.get("model_type").and_then(Value::as_str) {
        None | Some("clip") => {}
        Some(other) => {
            return Err(format!(
                "has model_type `{other}`; only CLIP checkpoints (model_type `clip`, e.g. openai/clip-vit-base-patch32) can be run."
            ));
        }
    }
    // Old exports keep the towers under `*_config_dict`, newer ones under `*_config`.
    let tower = |name: &str| -> Map<String, Value> {
        root.get(name)
            .or_else(|| root.get(&format!("{name}_dict")))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (t, v) = (tower("text_config"), tower("vision_config"));
    let projection_dim = field(root, "projection_dim", 512)?;
    // transformers' CLIPTextConfig / CLIPVisionConfig defaults, for fields a config leaves out.
    let text = ClipTextConfig {
        vocab_size: field(&t, "vocab_size", 49408)?,
        embed_dim: field(&t, "hidden_size", 512)?,
        activation: activation(&t, "text_config")?,
        intermediate_size: field(&t, "intermediate_size", 2048)?,
        max_position_embeddings: field(&t, "max_position_embeddings", 77)?,
        pad_with: None,
        num_hidden_layers: field(&t, "num_hidden_layers", 12)?,
        num_attention_heads: field(&t, "num_attention_heads", 8)?,
        projection_dim,
    };
    let vision = ClipVisionConfig {
        embed_dim: field(&v, "hidden_size", 768)?,
        activation: activation(&v, "vision_config")?,
        intermediate_size: field(&v, "intermediate_size", 3072)?,
        num_hidden_layers: field(&v, "num_hidden_layers", 12)?,
        num_attention_heads: field(&v, "num_attention_heads", 12)?,
        projection_dim,
        num_channels: field(&v, "num_channels", 3)?,
        image_size: field(&v, "image_size", 224)?,
        patch_size: field(&v, "patch_size", 32)?,
    };
    layer_norm_eps(&t, "text_config")?;
    layer_norm_eps(&v, "vision_config")?;
    for (tower, hidden, heads) in [
        ("text_config", text.embed_dim, text.num_attention_heads),
        (
            "vision_config",
            vision.embed_dim,
            vision.num_attention_heads,
        ),
    ] {
        if heads == 0 || !hidden.is_multiple_of(heads) {
            return Err(format!(
                "{tower}: hidden_size {hidden} is not a multiple of num_attention_heads {heads}."
            ));
        }
    }
    if vision.patch_size == 0 || !vision.image_size.is_multiple_of(vision.patch_size) {
        return Err(format!(
            "vision_config: image_size {} is not a multiple of patch_size {}.",
            vision.image_size, vision.patch_size
        ));
    }
    if vision.num_channels != 3 {
        return Err(format!(
            "vision_config: num_channels is {}; only RGB models (3) can be run.",
            vision.num_channels
        ));
    }
    if text.max_position_embeddings < 2 {
        return Err(
            "text_config: max_position_embeddings must be at least 2 (start and end of text)."
                .into(),
        );
    }
    Ok(ClipShapes {
        text,
        vision,
        projection_dim,
    })
}

fn field(obj: &Map<String, Value>, name: &str, default: usize) -> Result<usize, String> {
    match obj.get(name) {
        None | Some(Value::Null) => Ok(default),
        Some(v) => v
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("`{name}` is {v}; expected a positive whole number.")),
    }
}

/// candle's CLIP only has quick_gelu; a model trained with another activation would run
/// and give wrong embeddings, so it is refused.
fn activation(obj: &Map<String, Value>, tower: &str) -> Result<Activation, String> {
    match obj.get("hidden_act").and_then(Value::as_str) {
        None | Some("quick_gelu") => Ok(Activation::QuickGelu),
        Some(other) => Err(format!(
            "{tower}: hidden_act is `{other}`; this build runs CLIP models with quick_gelu only (as the OpenAI CLIP checkpoints use)."
        )),
    }
}

/// candle's CLIP layer norms use 1e-5, as every OpenAI CLIP checkpoint does.
fn layer_norm_eps(obj: &Map<String, Value>, tower: &str) -> Result<(), String> {
    match obj.get("layer_norm_eps").and_then(Value::as_f64) {
        None => Ok(()),
        Some(eps) if (eps - 1e-5).abs() <= 1e-12 => Ok(()),
        Some(eps) => Err(format!(
            "{tower}: layer_norm_eps is {eps}; this build runs CLIP models with 1e-5 only."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn old_style_config_with_dict_towers_and_defaults() {
        let c = parse(r#"{"projection_dim": 768, "text_config_dict": {"hidden_size": 768, "num_attention_heads": 12}, "vision_config_dict": {"hidden_size": 1024, "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14, "intermediate_size": 4096}}"#).unwrap();
        assert_eq!(c.text.embed_dim, 768);
        assert_eq!(c.text.max_position_embeddings, 77);
        assert_eq!(c.vision.patch_size, 14);
        assert_eq!(c.vision.num_hidden_layers, 24);
        assert_eq!(c.projection_dim, 768);
    }

    #[test]
    fn refuses_what_candle_cannot_run() {
        let gelu = parse(r#"{"vision_config": {"hidden_act": "gelu"}}"#).unwrap_err();
        assert!(gelu.contains("hidden_act is `gelu`"), "{gelu}");
        let siglip = parse(r#"{"model_type": "siglip"}"#).unwrap_err();
        assert!(siglip.contains("model_type `siglip`"), "{siglip}");
        let eps = parse(r#"{"text_config": {"layer_norm_eps": 1e-6}}"#).unwrap_err();
        assert!(eps.contains("layer_norm_eps"), "{eps}");
        let heads =
            parse(r#"{"text_config": {"hidden_size": 30, "num_attention_heads": 4}}"#).unwrap_err();
        assert!(heads.contains("not a multiple"), "{heads}");
        let bad = parse(r#"{"text_config": {"hidden_size": "big"}}"#).unwrap_err();
        assert!(bad.contains("`hidden_size`"), "{bad}");
    }
}
