//! A CLIP-like synthetic catalogue generator, for tests and benchmarks.

use std::path::Path;

use ndarray::Array2;

use crate::{ClassId, Dataset};

/// Knobs of the generator (`pairwise-audit synth`).
#[derive(Clone, Debug, PartialEq)]
pub struct SynthParams {
    pub n: usize,
    pub d: usize,
    pub classes: usize,
    /// Scales every item-level noise source (1.0 = the default difficulty).
    pub noise: f64,
    /// Fraction of annotations flipped to another class.
    pub flip: f64,
    pub seed: u64,
}

impl Default for SynthParams {
    fn default() -> SynthParams {
        SynthParams {
            n: 10_000,
            d: 768,
            classes: 13,
            noise: 1.0,
            flip: 0.05,
            seed: 0,
        }
    }
}

/// A generated catalogue, in memory.
#[derive(Clone, Debug)]
pub struct Synthetic {
    pub ids: Vec<String>,
    pub descriptions: Vec<String>,
    pub class_names: Vec<String>,
    pub class_prompts: Vec<String>,
    /// `C × d`.
    pub class_embeddings: Array2<f32>,
    /// `n × d`.
    pub image_embeddings: Array2<f32>,
    /// `n × d`.
    pub text_embeddings: Array2<f32>,
    /// The class each item was generated from.
    pub truth: Vec<ClassId>,
    /// The annotation under audit: `truth` with a fraction `flip` changed.
    pub annotations: Vec<ClassId>,
}

/// Generate a catalogue; deterministic per `params.seed`.
pub fn generate(params: &SynthParams) -> Synthetic {
    let _ = params;
    todo!("engine")
}

/// Write `synth` into `dir` in the dataset format, plus `truth.csv` (`id,label`).
pub fn write(synth: &Synthetic, dir: &Path) -> std::io::Result<()> {
    let _ = (synth, dir);
    todo!("engine")
}

/// An in-memory `Dataset` (for tests and benchmarks), copying the arrays.
pub fn to_dataset(synth: &Synthetic) -> Dataset {
    let _ = synth;
    todo!("engine")
}
