//! A CLIP-like synthetic catalogue generator, for tests and benchmarks.
//!
//! The model, in the terms of the method:
//! - each class is carried by a sparse set of dimensions (its *signature*, ±1-ish values);
//! - class prompt vectors are the text-modality offset plus the class signature plus dense
//!   "wording" noise (a prompt says more than the visual class);
//! - an item of class `t` is a modality offset (image and text live in different cones, as
//!   CLIP's modality gap) + a few large nuisance factors shared by every class (background,
//!   colour, style: the same item values in both views) + its class signature scaled by an
//!   item-level clarity + view-specific isotropic noise, times a random length.
//!
//! On the full embedding the offsets and nuisance factors dot with the prompts' wording
//! noise and drown the signature, so the cosine baseline is confused; restricted to the
//! dimensions that separate a pair, the signature dominates. Class sizes are imbalanced and a
//! fraction `flip` of annotations is changed to another class.
//!
//! Generation is parallel over chunks of items, each with its own ChaCha8 stream derived from
//! the seed, so the output depends on the seed only (not on the thread count).

use std::io::Write;
use std::path::Path;

use ndarray::{Array2, ArrayViewMut2, Axis};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::dataset::{ClassInfo, Item};
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
    /// Class sizes fall off as `rank^-zipf` (0 = balanced; 1 = Zipf's law).
    pub zipf: f64,
    pub seed: u64,
    /// Group the classes into this many departments (0: none). Every class of a department
    /// also carries the department's own signature; the catalogue written is then the
    /// department one (class table, annotations and truth by department), with each item's
    /// generating class kept in `fine_truth`.
    pub departments: usize,
}

impl Default for SynthParams {
    fn default() -> SynthParams {
        SynthParams {
            n: 10_000,
            d: 768,
            classes: 13,
            noise: 1.0,
            flip: 0.05,
            zipf: IMBALANCE,
            seed: 0,
            departments: 0,
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
    /// With departments: each item's generating class and the names of those classes (the
    /// class table, annotations and truth above are then by department).
    pub fine_truth: Option<(Vec<String>, Vec<ClassId>)>,
}

// The model's constants (units: a signature entry is about 1).
/// Signature dimensions per class: `d / 32`, at least 4.
const CARRIER_DIVISOR: usize = 32;
/// Per-dimension spread of the modality offsets.
const OFFSET_SCALE: f32 = 0.6;
/// Per-dimension spread of the prompts' wording noise.
const PROMPT_NOISE: f32 = 0.45;
/// Weight of the signature in the prompts.
const PROMPT_SIGNAL: f32 = 1.0;
/// Shared nuisance factors and the spread of an item's value on each.
const NUISANCE_FACTORS: usize = 16;
const NUISANCE_SCALE: f32 = 3.0;
/// Per-dimension isotropic noise of the image and text views.
const IMAGE_NOISE: f32 = 0.2;
const TEXT_NOISE: f32 = 0.3;
/// Weight of the signature in the image and text views.
const IMAGE_SIGNAL: f32 = 1.0;
const TEXT_SIGNAL: f32 = 1.0;
/// Range of an item's clarity (the weight of its class signature).
const CLARITY: std::ops::Range<f32> = 0.7..1.3;
/// Default exponent of the class frequencies, `rank^-zipf`.
pub const IMBALANCE: f64 = 0.7;
/// Items per chunk (one RNG stream each).
const CHUNK: usize = 2048;

const NAMES: [&str; 20] = [
    "t-shirt", "shirt", "sweater", "jacket", "coat", "dress", "skirt", "trousers", "jeans",
    "shorts", "shoes", "sneakers", "bag", "hat", "scarf", "socks", "belt", "gloves", "boots",
    "suit",
];

/// What every item shares: class frequencies, signatures, offsets, nuisance directions.
struct World {
    /// Cumulative class probabilities.
    cdf: Vec<f64>,
    /// `C × d`, zero off each class's carriers.
    signatures: Array2<f32>,
    image_offset: Vec<f32>,
    text_offset: Vec<f32>,
    /// `F × d`, unit rows.
    nuisance: Array2<f32>,
    /// `D × d` department signatures (empty without departments).
    departments: Array2<f32>,
}

/// `(d / 768)^power`: the noise levels are tuned at d = 768 and scaled with `d` so that the
/// signal-to-noise ratio of both the baseline and the pairwise decisions stays about the same
/// at other sizes (the class signal grows as `d`, dense dot products as `√d`).
fn dscale(d: usize, power: f32) -> f32 {
    (d as f32 / 768.0).powf(power)
}

fn normal(rng: &mut ChaCha8Rng) -> f32 {
    StandardNormal.sample(rng)
}

fn world(p: &SynthParams, rng: &mut ChaCha8Rng) -> World {
    let (c, d) = (p.classes, p.d);
    let mut order: Vec<usize> = (0..c).collect();
    order.shuffle(rng);
    let weights: Vec<f64> = order
        .iter()
        .map(|&rank| (rank as f64 + 1.0).powf(-p.zipf))
        .collect();
    let total: f64 = weights.iter().sum();
    let cdf = weights
        .iter()
        .scan(0.0, |acc, w| {
            *acc += w / total;
            Some(*acc)
        })
        .collect();

    let carriers = (d / CARRIER_DIVISOR).max(4).min(d);
    let dims: Vec<usize> = (0..d).collect();
    let sparse = |rows: usize, rng: &mut ChaCha8Rng| {
        let mut m = Array2::<f32>::zeros((rows, d));
        for mut row in m.rows_mut() {
            for &j in dims.choose_multiple(rng, carriers) {
                let sign = if rng.random::<bool>() { 1.0 } else { -1.0 };
                row[j] = sign * rng.random_range(0.6..1.4);
            }
        }
        m
    };
    let mut signatures = sparse(c, rng);
    let mut offset = || -> Vec<f32> {
        (0..d)
            .map(|_| OFFSET_SCALE * dscale(d, 0.25) * normal(rng))
            .collect()
    };
    let image_offset = offset();
    let text_offset = offset();
    let mut nuisance = Array2::from_shape_simple_fn((NUISANCE_FACTORS, d), || normal(rng));
    for mut row in nuisance.rows_mut() {
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
        row /= norm;
    }
    // Drawn last, so that a catalogue without departments is the one it always was.
    let departments = sparse(p.departments, rng);
    for (class, mut row) in signatures.rows_mut().into_iter().enumerate() {
        if p.departments > 0 {
            row += &departments.row(department_of(class, p.departments));
        }
    }
    World {
        cdf,
        signatures,
        image_offset,
        text_offset,
        nuisance,
        departments,
    }
}

/// The department of a class: classes are dealt round-robin.
pub fn department_of(class: ClassId, departments: usize) -> usize {
    class % departments
}

const DEPARTMENT_NAMES: [&str; 8] = [
    "clothing",
    "electronics",
    "home",
    "sports",
    "toys",
    "beauty",
    "garden",
    "books",
];

/// Generate a catalogue; deterministic per `params.seed`. Needs `n ≥ 1`, `d ≥ 1`,
/// `classes ≥ 2`, `noise ≥ 0`, `zipf ≥ 0` and `flip` in `[0, 1]`.
pub fn generate(params: &SynthParams) -> Synthetic {
    let p = params;
    assert!(
        p.n >= 1 && p.d >= 1 && p.classes >= 2,
        "synth needs n, d ≥ 1 and 2+ classes"
    );
    let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
    let w = world(p, &mut rng);

    let class_names: Vec<String> = (0..p.classes)
        .map(|c| match NAMES.get(c) {
            Some(name) if p.classes <= NAMES.len() => name.to_string(),
            _ => format!("class_{c}"),
        })
        .collect();
    let class_prompts = class_names
        .iter()
        .map(|n| format!("a photo of a {n}"))
        .collect();
    let mut class_embeddings = Array2::<f32>::zeros((p.classes, p.d));
    for (c, mut row) in class_embeddings.rows_mut().into_iter().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = w.text_offset[j]
                + PROMPT_SIGNAL * w.signatures[[c, j]]
                + PROMPT_NOISE * dscale(p.d, 0.25) * normal(&mut rng);
        }
    }

    let mut image = Array2::<f32>::zeros((p.n, p.d));
    let mut text = Array2::<f32>::zeros((p.n, p.d));
    let mut truth = vec![0; p.n];
    let mut annotations = vec![0; p.n];
    image
        .axis_chunks_iter_mut(Axis(0), CHUNK)
        .into_par_iter()
        .zip(text.axis_chunks_iter_mut(Axis(0), CHUNK))
        .zip(truth.par_chunks_mut(CHUNK))
        .zip(annotations.par_chunks_mut(CHUNK))
        .enumerate()
        .for_each(|(chunk, (((img, txt), truth), ann))| {
            let mut rng = ChaCha8Rng::seed_from_u64(p.seed);
            rng.set_stream(chunk as u64 + 1);
            items(p, &w, &mut rng, img, txt, truth, ann);
        });

    let mut out = Synthetic {
        ids: (0..p.n).map(|i| format!("s{i:07}")).collect(),
        descriptions: (0..p.n).map(|i| format!("synthetic item {i}")).collect(),
        class_names,
        class_prompts,
        class_embeddings,
        image_embeddings: image,
        text_embeddings: text,
        truth,
        annotations,
        fine_truth: None,
    };
    if p.departments > 0 {
        by_department(&mut out, p, &w, &mut rng);
    }
    out
}

/// Turn the catalogue into its department catalogue: a department's prompt carries the
/// department's signature (what its classes share), an annotation or truth becomes its class's
/// department — so a flip inside a department is no error at this level.
fn by_department(s: &mut Synthetic, p: &SynthParams, w: &World, rng: &mut ChaCha8Rng) {
    let dept = |c: ClassId| department_of(c, p.departments);
    let names: Vec<String> = (0..p.departments)
        .map(|g| match DEPARTMENT_NAMES.get(g) {
            Some(name) if p.departments <= DEPARTMENT_NAMES.len() => name.to_string(),
            _ => format!("department_{g}"),
        })
        .collect();
    let mut embeddings = Array2::<f32>::zeros((p.departments, p.d));
    for (g, mut row) in embeddings.rows_mut().into_iter().enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            *v = w.text_offset[j]
                + PROMPT_SIGNAL * w.departments[[g, j]]
                + PROMPT_NOISE * dscale(p.d, 0.25) * normal(rng);
        }
    }
    let fine_names = std::mem::replace(&mut s.class_names, names);
    s.class_prompts = s
        .class_names
        .iter()
        .map(|n| format!("a photo of {n}"))
        .collect();
    s.class_embeddings = embeddings;
    let fine = std::mem::take(&mut s.truth);
    s.truth = fine.iter().map(|&c| dept(c)).collect();
    for a in &mut s.annotations {
        *a = dept(*a);
    }
    s.fine_truth = Some((fine_names, fine));
}

/// One chunk of items: labels, then both views row by row.
fn items(
    p: &SynthParams,
    w: &World,
    rng: &mut ChaCha8Rng,
    mut img: ArrayViewMut2<f32>,
    mut txt: ArrayViewMut2<f32>,
    truth: &mut [ClassId],
    ann: &mut [ClassId],
) {
    let noise = p.noise as f32;
    let len = truth.len();
    let mut factors = Array2::<f32>::zeros((len, NUISANCE_FACTORS));
    let mut lengths = vec![[0f32; 2]; len];
    for (r, (t, a)) in truth.iter_mut().zip(ann.iter_mut()).enumerate() {
        let u: f64 = rng.random();
        // Binary search: at 1,000 classes a linear scan was most of the generation time.
        *t = w.cdf.partition_point(|&q| q <= u).min(p.classes - 1);
        *a = if rng.random::<f64>() < p.flip {
            let other = rng.random_range(0..p.classes - 1);
            if other >= *t { other + 1 } else { other }
        } else {
            *t
        };
        for f in factors.row_mut(r).iter_mut() {
            *f = noise * NUISANCE_SCALE * dscale(p.d, 1.0) * normal(rng);
        }
        let clarity: f32 = rng.random_range(CLARITY);
        let sig = w.signatures.row(*t);
        for (v, (mut row, offset, signal, iso)) in [
            (
                img.row_mut(r),
                &w.image_offset,
                IMAGE_SIGNAL,
                IMAGE_NOISE * dscale(p.d, 0.5),
            ),
            (
                txt.row_mut(r),
                &w.text_offset,
                TEXT_SIGNAL,
                TEXT_NOISE * dscale(p.d, 0.5),
            ),
        ]
        .into_iter()
        .enumerate()
        {
            let row = row.as_slice_mut().expect("generated rows are contiguous");
            for (j, x) in row.iter_mut().enumerate() {
                *x = offset[j] + signal * clarity * sig[j] + noise * iso * normal(rng);
            }
            lengths[r][v] = rng.random_range(0.8..1.25);
        }
    }
    // The shared nuisance factors of the whole chunk in one matrix product per view (the
    // same item values in both), then each row's length.
    for (v, mut view) in [img.view_mut(), txt.view_mut()].into_iter().enumerate() {
        ndarray::linalg::general_mat_mul(1.0, &factors, &w.nuisance, 1.0, &mut view);
        for (mut row, l) in view.rows_mut().into_iter().zip(&lengths) {
            row *= l[v];
        }
    }
}

/// Write `synth` into `dir` (created if missing) in the dataset format, plus `truth.csv`
/// (`id,label`) and, with departments, `fine_truth.csv` (`id,class`: the generating class).
pub fn write(synth: &Synthetic, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let npy = |name: &str, a: &Array2<f32>| -> std::io::Result<()> {
        ndarray_npy::write_npy(dir.join(name), a).map_err(std::io::Error::other)
    };
    let csv_err = |e: csv::Error| std::io::Error::other(e);

    let mut items = csv::Writer::from_path(dir.join("items.csv")).map_err(csv_err)?;
    items
        .write_record(["id", "description", "image", "label"])
        .map_err(csv_err)?;
    for (i, id) in synth.ids.iter().enumerate() {
        let label = &synth.class_names[synth.annotations[i]];
        items
            .write_record([id.as_str(), &synth.descriptions[i], "", label])
            .map_err(csv_err)?;
    }
    items.flush()?;

    let mut classes = csv::Writer::from_path(dir.join("classes.csv")).map_err(csv_err)?;
    classes.write_record(["name", "prompt"]).map_err(csv_err)?;
    for (name, prompt) in synth.class_names.iter().zip(&synth.class_prompts) {
        classes.write_record([name, prompt]).map_err(csv_err)?;
    }
    classes.flush()?;

    let mut truth = std::io::BufWriter::new(std::fs::File::create(dir.join("truth.csv"))?);
    writeln!(truth, "id,label")?;
    for (id, &t) in synth.ids.iter().zip(&synth.truth) {
        writeln!(truth, "{id},{}", synth.class_names[t])?;
    }
    truth.flush()?;
    if let Some((names, fine)) = &synth.fine_truth {
        let mut out = std::io::BufWriter::new(std::fs::File::create(dir.join("fine_truth.csv"))?);
        writeln!(out, "id,class")?;
        for (id, &c) in synth.ids.iter().zip(fine) {
            writeln!(out, "{id},{}", names[c])?;
        }
        out.flush()?;
    }

    npy("class_embeddings.npy", &synth.class_embeddings)?;
    npy("image_embeddings.npy", &synth.image_embeddings)?;
    npy("text_embeddings.npy", &synth.text_embeddings)
}

/// An in-memory `Dataset` (for tests and benchmarks), copying the arrays.
pub fn to_dataset(synth: &Synthetic) -> Dataset {
    synth.clone().into_dataset()
}

impl Synthetic {
    /// `to_dataset` without the copy.
    pub fn into_dataset(self) -> Dataset {
        let items = self
            .ids
            .into_iter()
            .zip(self.descriptions)
            .zip(&self.annotations)
            .map(|((id, description), &label)| Item {
                id,
                description,
                image: None,
                label: Some(label),
            })
            .collect();
        let classes = self
            .class_names
            .into_iter()
            .zip(self.class_prompts)
            .map(|(name, prompt)| ClassInfo { name, prompt })
            .collect();
        Dataset {
            root: std::path::PathBuf::from("<synthetic>"),
            items,
            classes,
            class_embeddings: self.class_embeddings,
            image_embeddings: Some(self.image_embeddings),
            text_embeddings: Some(self.text_embeddings),
            warnings: Vec::new(),
            missing_images: 0,
            fingerprint: String::from("synthetic"),
            views: Default::default(),
            table: None,
        }
    }
}
