//! The Rust CLIP encoder against the independent NumPy forward pass
//! (`scripts/clip_fixtures.py`) on the tiny random checkpoint in tests/fixtures/clip_tiny/:
//! token ids, preprocessed pixels and embeddings must match, and deliberate mistakes (exact
//! gelu instead of quick_gelu, pooling at position 0 as `eos_token_id: 2` would) must move the
//! output beyond the tolerance.
#![cfg(feature = "embed")]

use std::path::{Path, PathBuf};

use candle_core::Device;
use pairwise_audit::embed::{Model, ModelFiles};
use serde_json::Value;

const TOL: f64 = 1e-4;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/clip_tiny")
}

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture().join("expected.json")).unwrap())
        .unwrap()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect()
        })
        .collect()
}

fn max_diff(a: &[Vec<f32>], b: &[Vec<f64>]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| {
            assert_eq!(x.len(), y.len());
            x.iter().zip(y).map(|(p, q)| (*p as f64 - q).abs())
        })
        .fold(0.0, f64::max)
}

fn model() -> Model {
    Model::load(ModelFiles::local(&fixture()).unwrap(), &Device::Cpu).unwrap()
}

#[test]
fn token_ids_match_the_python_tokenizer_and_long_texts_are_cut() {
    let m = model();
    let e = expected();
    let max = m.tokenizer.max_len;
    for (text, ids) in e["texts"]
        .as_array()
        .unwrap()
        .iter()
        .zip(e["ids"].as_array().unwrap())
    {
        let want: Vec<u32> = ids
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_u64().unwrap() as u32)
            .collect();
        let got = m.tokenizer.encode_one(text.as_str().unwrap()).unwrap();
        assert_eq!(got, want, "{text}");
        assert!(got.len() <= max);
        assert_eq!(*got.last().unwrap(), m.tokenizer.eos);
    }
    // The last text is longer than the model's positions and was cut to exactly that many.
    let long = m
        .tokenizer
        .encode_one(e["texts"][4].as_str().unwrap())
        .unwrap();
    assert_eq!(long.len(), max);
    // config.json says eos_token_id 2; the tokenizer's end-of-text is another, higher id.
    assert_ne!(m.tokenizer.eos, 2);
}

#[test]
fn text_embeddings_match_numpy_and_wrong_pooling_would_not() {
    let m = model();
    let e = expected();
    let ids: Vec<Vec<u32>> = e["ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_u64().unwrap() as u32)
                .collect()
        })
        .collect();
    let got = m.encoder.embed_texts(&ids).unwrap();
    let want = matrix(&e["text"]);
    let d = max_diff(&got, &want);
    eprintln!("text: {d:.2e} from NumPy");
    assert!(d < TOL, "text embeddings differ from NumPy by {d}");
    for row in &got {
        let norm: f64 = row.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
    }
    // The tolerance is tight enough to see the activation: NumPy with exact gelu is far off.
    let gelu = max_diff(&got, &matrix(&e["text_gelu"]));
    assert!(
        gelu > 10.0 * TOL,
        "gelu moved the text output by only {gelu}"
    );
    // Pooling where id 2 (config.json's eos_token_id) sits — nowhere, so position 0 — is
    // what NumPy's pool-at-0 variant computes; it must be far from the right answer.
    let wrong_positions: Vec<usize> = ids
        .iter()
        .map(|s| s.iter().position(|&t| t == 2).unwrap_or(0))
        .collect();
    let pooled0 = m
        .encoder
        .embed_texts_pooled_at(&ids, &wrong_positions)
        .unwrap();
    assert!(max_diff(&pooled0, &matrix(&e["text_pool0"])) < TOL);
    let off = max_diff(&pooled0, &want);
    assert!(
        off > 0.1,
        "pooling at position 0 moved the output by only {off}"
    );
}

#[test]
fn image_embeddings_match_numpy_from_the_files() {
    let m = model();
    let e = expected();
    let names: Vec<&str> = e["images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let folder =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/embed_catalogue/images");
    let want_pixels = e["pixels"].as_array().unwrap();
    let want = matrix(&e["image"]);
    let want_gelu = matrix(&e["image_gelu"]);
    let mut exact = Vec::new();
    for (k, name) in names.iter().enumerate() {
        let img = image::open(folder.join(name)).unwrap();
        let px = m.preprocess.pixels(&img);
        let reference: Vec<f64> = want_pixels[k]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|c| c.as_array().unwrap().iter())
            .flat_map(|r| r.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()))
            .collect();
        assert_eq!(px.len(), reference.len());
        let pd = px
            .iter()
            .zip(&reference)
            .map(|(a, b)| (*a as f64 - b).abs())
            .fold(0.0, f64::max);
        let emb = m.encoder.embed_images(px, 1).unwrap();
        let d = max_diff(&emb, &want[k..k + 1]);
        if name.ends_with(".png") {
            // No resampling needed at this size: the pixels are PIL's to float precision.
            assert!(pd < 1e-5, "{name}: pixels differ from PIL's by {pd}");
            assert!(d < TOL, "{name}: image embedding differs from NumPy by {d}");
            exact.push(emb[0].clone());
            let g = max_diff(&emb, &want_gelu[k..k + 1]);
            assert!(g > 10.0 * TOL, "{name}: gelu moved the output by only {g}");
        } else {
            // big.jpg is resized (the image crate's Catmull-Rom vs PIL's bicubic) and is a
            // JPEG (two decoders): a few grey levels apart, normalised by std ≈ 0.27.
            eprintln!("{name}: pixels differ from PIL's by up to {pd:.4}, the embedding by {d:.5}");
            assert!(pd < 0.25, "{name}: pixels differ from PIL's by {pd}");
            assert!(d < 0.05, "{name}: embedding differs from NumPy by {d}");
        }
    }
    // A batch gives what single images give.
    let mut batch = Vec::new();
    for name in names.iter().filter(|n| n.ends_with(".png")) {
        batch.extend(
            m.preprocess
                .pixels(&image::open(folder.join(name)).unwrap()),
        );
    }
    let batched = m.encoder.embed_images(batch, exact.len()).unwrap();
    let as_f64: Vec<Vec<f64>> = exact
        .iter()
        .map(|r| r.iter().map(|v| *v as f64).collect())
        .collect();
    assert!(max_diff(&batched, &as_f64) < 1e-5);
}
