//! `embed` on a folder catalogue: the images, descriptions and class prompts of `items.csv`
//! and `classes.csv` through the model, in batches, with the resume cache; then the `.npy`
//! files and `embeddings.json` the loader reads.

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::Array2;
use ndarray_npy::WriteNpyExt;
use rayon::prelude::*;

use super::cache::{self, Cache, Hash};
use super::{EmbedError, Model};
use crate::atomic_file::write_atomic;
use crate::dataset::{
    CLASS_EMBEDDINGS_FILE, ClassInfo, Dataset, EmbeddingsManifest, Item, MANIFEST_FILE,
    ManifestEntry, embeddings_file,
};
use crate::{Modality, Monitor, Stage};

/// What `embed` computes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    Image,
    Text,
    Classes,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Image, Part::Text, Part::Classes];

    pub fn parse(s: &str) -> Option<Part> {
        match s.trim().to_ascii_lowercase().as_str() {
            "image" | "images" => Some(Part::Image),
            "text" | "texts" => Some(Part::Text),
            "classes" | "class" => Some(Part::Classes),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Part::Image => "image",
            Part::Text => "text",
            Part::Classes => "classes",
        }
    }
}

#[derive(Clone, Debug)]
pub struct EmbedOptions {
    pub parts: Vec<Part>,
    /// Inputs per forward pass.
    pub batch: usize,
}

impl Default for EmbedOptions {
    fn default() -> Self {
        EmbedOptions {
            parts: Part::ALL.to_vec(),
            batch: 16,
        }
    }
}

/// How many inputs of one kind went through the model, and how many came from the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Counts {
    pub computed: usize,
    pub cached: usize,
    /// Wall-clock seconds spent on this kind of input.
    pub seconds: f64,
}

#[derive(Clone, Debug, Default)]
pub struct EmbedReport {
    pub image: Counts,
    pub text: Counts,
    pub classes: Counts,
    /// Items whose image path is set but whose file could not be read or decoded: id, why.
    pub unreadable: Vec<(String, String)>,
    /// Items with an empty image column.
    pub without_image: usize,
    pub dim: usize,
    pub written: Vec<PathBuf>,
    /// Non-fatal findings from reading the tables.
    pub warnings: Vec<String>,
}

/// Embed the catalogue folder `root` with `model`, writing its `.npy` files.
pub fn embed_catalogue(
    root: &Path,
    model: &Model,
    options: &EmbedOptions,
    monitor: &Monitor,
) -> Result<EmbedReport, EmbedError> {
    if crate::dataset::is_table_catalogue(root) {
        return Err(EmbedError::input(format!(
            "{}: is a table (Parquet) catalogue; embed works on folder catalogues (items.csv, classes.csv and images), whose .npy files it writes.",
            root.display()
        )));
    }
    let (items, classes, warnings) =
        Dataset::read_folder_tables(root).map_err(|e| EmbedError::input(e.to_string()))?;
    let key = model.cache_key();
    let cache_dir = root.join(".pairwise-audit").join("embed-cache");
    let dim = model.encoder.dim();
    let batch = options.batch.max(1);
    let mut report = EmbedReport {
        dim,
        warnings,
        ..EmbedReport::default()
    };
    let wants = |p: Part| options.parts.contains(&p);

    let mut image_out = None;
    if wants(Part::Image) {
        let started = Instant::now();
        let mut cache = Cache::open(&cache_dir, &key, "image", dim)?;
        image_out = Some(embed_images(
            root,
            &items,
            model,
            &mut cache,
            &key,
            batch,
            monitor,
            &mut report,
        )?);
        report.image.seconds = started.elapsed().as_secs_f64();
    }
    let mut text_out = None;
    let mut class_out = None;
    if wants(Part::Text) || wants(Part::Classes) {
        let mut cache = Cache::open(&cache_dir, &key, "text", dim)?;
        if wants(Part::Text) {
            let texts: Vec<&str> = items.iter().map(|it| it.description.as_str()).collect();
            monitor.begin(Stage::EmbedTexts, None, texts.len() as u64);
            let started = Instant::now();
            let (rows, counts) = embed_texts(&texts, model, &mut cache, &key, batch, monitor)?;
            report.text = Counts {
                seconds: started.elapsed().as_secs_f64(),
                ..counts
            };
            text_out = Some(rows);
        }
        if wants(Part::Classes) {
            let prompts: Vec<&str> = classes.iter().map(prompt_of).collect();
            monitor.begin(Stage::EmbedClasses, None, prompts.len() as u64);
            let started = Instant::now();
            let (rows, counts) = embed_texts(&prompts, model, &mut cache, &key, batch, monitor)?;
            report.classes = Counts {
                seconds: started.elapsed().as_secs_f64(),
                ..counts
            };
            class_out = Some(rows);
        }
    }
    monitor.check()?;

    monitor.begin(Stage::Write, None, 0);
    let mut manifest = EmbeddingsManifest::read(root)
        .map_err(|e| EmbedError::input(e.to_string()))?
        .unwrap_or_default();
    let entry = |rows: usize, missing: Vec<String>| ManifestEntry {
        model: model.files.id.clone(),
        revision: model.files.revision.clone(),
        dim,
        rows,
        missing,
    };
    if let Some((matrix, present)) = image_out {
        let path = root.join(embeddings_file(Modality::Image));
        if present.iter().any(|&p| p) {
            write_npy(&path, &matrix)?;
            report.written.push(path);
            let missing = items
                .iter()
                .zip(&present)
                .filter(|(_, p)| !**p)
                .map(|(it, _)| it.id.clone())
                .collect();
            manifest.image = Some(entry(items.len(), missing));
        } else {
            // No image could be embedded: an older file would no longer match the items.
            let _ = std::fs::remove_file(&path);
            manifest.image = None;
        }
    }
    if let Some(matrix) = text_out {
        let path = root.join(embeddings_file(Modality::Text));
        write_npy(&path, &matrix)?;
        report.written.push(path);
        manifest.text = Some(entry(items.len(), Vec::new()));
    }
    if let Some(matrix) = class_out {
        let path = root.join(CLASS_EMBEDDINGS_FILE);
        write_npy(&path, &matrix)?;
        report.written.push(path);
        manifest.classes = Some(entry(classes.len(), Vec::new()));
    }
    let path = root.join(MANIFEST_FILE);
    let json = serde_json::to_string_pretty(&manifest)
        .map_err(|e| EmbedError::internal(format!("embeddings manifest: {e}")))?;
    write_atomic(&path, |w| {
        use std::io::Write;
        w.write_all(json.as_bytes())?;
        w.write_all(b"\n")
    })
    .map_err(|e| EmbedError::internal(e.to_string()))?;
    report.written.push(path);
    monitor.begin(Stage::Done, None, 0);
    Ok(report)
}

/// A class's text: its prompt, or its name when the prompt is empty.
fn prompt_of(c: &ClassInfo) -> &str {
    if c.prompt.trim().is_empty() {
        &c.name
    } else {
        &c.prompt
    }
}

fn write_npy(path: &Path, m: &Array2<f32>) -> Result<(), EmbedError> {
    write_atomic(path, |w| m.write_npy(w).map_err(std::io::Error::other))
        .map_err(|e| EmbedError::internal(e.to_string()))
}

/// One image read from disk: its embedding from the cache, or its content hash and pixels,
/// or why it cannot be used.
enum Loaded {
    Cached(Vec<f32>),
    Ready { hash: Hash, pixels: Vec<f32> },
    Unreadable(String),
}

#[allow(clippy::too_many_arguments)]
fn embed_images(
    root: &Path,
    items: &[Item],
    model: &Model,
    cache: &mut Cache,
    key: &str,
    batch: usize,
    monitor: &Monitor,
    report: &mut EmbedReport,
) -> Result<(Array2<f32>, Vec<bool>), EmbedError> {
    let dim = model.encoder.dim();
    let mut out = Array2::<f32>::zeros((items.len(), dim));
    let mut present = vec![false; items.len()];
    let rows: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].image.is_some())
        .collect();
    report.without_image = items.len() - rows.len();
    monitor.begin(Stage::EmbedImages, Some(Modality::Image), rows.len() as u64);
    for chunk in rows.chunks(batch) {
        monitor.check()?;
        let cache_ref = &*cache;
        let loaded: Vec<Loaded> = chunk
            .par_iter()
            .map(|&i| load_image(root, &items[i], model, cache_ref))
            .collect();
        let mut todo = Vec::new();
        let mut pixels = Vec::new();
        for (&i, l) in chunk.iter().zip(loaded) {
            match l {
                Loaded::Unreadable(why) => report.unreadable.push((items[i].id.clone(), why)),
                Loaded::Cached(v) => {
                    out.row_mut(i)
                        .assign(&ndarray::ArrayView1::from(v.as_slice()));
                    present[i] = true;
                    report.image.cached += 1;
                }
                Loaded::Ready { hash, pixels: p } => {
                    todo.push((i, hash));
                    pixels.extend(p);
                }
            }
        }
        let embedded = model.encoder.embed_images(pixels, todo.len())?;
        let mut records = Vec::with_capacity(todo.len());
        for ((i, hash), v) in todo.into_iter().zip(embedded) {
            out.row_mut(i)
                .assign(&ndarray::ArrayView1::from(v.as_slice()));
            present[i] = true;
            report.image.computed += 1;
            records.push((hash, v));
        }
        cache.put(key, &records)?;
        monitor.advance(chunk.len() as u64);
    }
    Ok((out, present))
}

fn load_image(root: &Path, item: &Item, model: &Model, cache: &Cache) -> Loaded {
    let Some(rel) = &item.image else {
        return Loaded::Unreadable("no image".into());
    };
    let text = rel.to_string_lossy();
    if text.starts_with("http://") || text.starts_with("https://") {
        return Loaded::Unreadable("images given as URLs are not fetched by embed".into());
    }
    let path = root.join(rel);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) => return Loaded::Unreadable(format!("{} cannot be read ({e})", rel.display())),
    };
    let hash = cache::hash("image", &bytes);
    if let Some(v) = cache.get(&hash) {
        return Loaded::Cached(v.clone());
    }
    match image::load_from_memory(&bytes) {
        Ok(img) => Loaded::Ready {
            hash,
            pixels: model.preprocess.pixels(&img),
        },
        Err(e) => Loaded::Unreadable(format!("{} is not a readable image ({e})", rel.display())),
    }
}

fn embed_texts(
    texts: &[&str],
    model: &Model,
    cache: &mut Cache,
    key: &str,
    batch: usize,
    monitor: &Monitor,
) -> Result<(Array2<f32>, Counts), EmbedError> {
    let dim = model.encoder.dim();
    let mut out = Array2::<f32>::zeros((texts.len(), dim));
    let mut counts = Counts::default();
    let rows: Vec<usize> = (0..texts.len()).collect();
    for chunk in rows.chunks(batch) {
        monitor.check()?;
        let mut todo = Vec::new();
        for &i in chunk {
            let hash = cache::hash("text", texts[i].as_bytes());
            if let Some(v) = cache.get(&hash) {
                out.row_mut(i)
                    .assign(&ndarray::ArrayView1::from(v.as_slice()));
                counts.cached += 1;
            } else {
                todo.push((i, hash));
            }
        }
        let ids = todo
            .iter()
            .map(|&(i, _)| model.tokenizer.encode_one(texts[i]))
            .collect::<Result<Vec<_>, _>>()?;
        let embedded = model.encoder.embed_texts(&ids)?;
        let mut records = Vec::with_capacity(todo.len());
        for ((i, hash), v) in todo.into_iter().zip(embedded) {
            out.row_mut(i)
                .assign(&ndarray::ArrayView1::from(v.as_slice()));
            counts.computed += 1;
            records.push((hash, v));
        }
        cache.put(key, &records)?;
        monitor.advance(chunk.len() as u64);
    }
    Ok((out, counts))
}
