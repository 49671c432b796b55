//! A small valid catalogue in a temporary folder, and a hand-written .npy encoder so that tests
//! can produce every dtype, byte order, layout and kind of damage the loader must handle.

#![allow(dead_code)] // each test file uses a different part of this helper

use std::path::{Path, PathBuf};

use pairwise_audit::{Dataset, DatasetError};
use tempfile::TempDir;

pub const N: usize = 6;
pub const D: usize = 4;
pub const CLASSES: [&str; 3] = ["cat", "dog", "bird"];

/// An .npy file (format 1.0) with the given dtype descriptor, layout, shape and raw data.
pub fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let shape_text = match shape {
        [one] => format!("({one},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let order = if fortran { "True" } else { "False" };
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape_text}, }}");
    // Magic (6) + version (2) + length (2) + dict + '\n' is padded to a multiple of 64.
    while (10 + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(dict.len() as u16).to_le_bytes());
    out.extend_from_slice(dict.as_bytes());
    out.extend_from_slice(data);
    out
}

/// A C-order little-endian float32 `.npy` of `rows × cols` values.
pub fn f32_npy(rows: usize, cols: usize, values: &[f32]) -> Vec<u8> {
    assert_eq!(values.len(), rows * cols);
    let data: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    npy_bytes("<f4", false, &[rows, cols], &data)
}

/// Distinct, non-zero, mixed-sign values; `seed` tells arrays apart.
pub fn values(rows: usize, cols: usize, seed: f32) -> Vec<f32> {
    (0..rows * cols)
        .map(|k| {
            let v = seed + 0.25 * (k as f32 + 1.0);
            if k % 3 == 1 { -v } else { v }
        })
        .collect()
}

pub struct Fixture {
    pub dir: TempDir,
}

impl Fixture {
    /// N items (two without a label, one without an image), 3 classes, d = D, both modalities,
    /// every referenced image present.
    pub fn valid() -> Fixture {
        let fx = Fixture {
            dir: tempfile::tempdir().unwrap(),
        };
        fx.write(
            "items.csv",
            "id,description,image,label\n\
             a1,a tabby cat,images/a1.png,cat\n\
             a2,a beagle,images/a2.png,dog\n\
             a3,a robin,images/a3.png,bird\n\
             a4,a sleeping cat,images/a4.png,\n\
             a5,no picture,,dog\n\
             a6,a parrot,images/a6.png,\n",
        );
        fx.write(
            "classes.csv",
            "name,prompt\ncat,a photo of a cat\ndog,a photo of a dog\nbird,a photo of a bird\n",
        );
        fx.write("class_embeddings.npy", f32_npy(3, D, &values(3, D, 0.5)));
        fx.write("image_embeddings.npy", f32_npy(N, D, &values(N, D, 1.0)));
        fx.write("text_embeddings.npy", f32_npy(N, D, &values(N, D, 2.0)));
        for id in ["a1", "a2", "a3", "a4", "a6"] {
            fx.write(
                &format!("images/{id}.png"),
                b"not really a png, but present",
            );
        }
        fx
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) {
        let path = self.file(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, contents).unwrap();
    }

    pub fn remove(&self, name: &str) {
        std::fs::remove_file(self.file(name)).unwrap();
    }

    pub fn load(&self) -> Dataset {
        Dataset::load(self.path()).unwrap_or_else(|e| panic!("fixture should load: {e}"))
    }

    /// The load error, checked to be one sentence that names `file`.
    pub fn error_about(&self, file: &str) -> (DatasetError, String) {
        let err = match Dataset::load(self.path()) {
            Ok(_) => panic!("loading should fail because of {file}"),
            Err(e) => e,
        };
        let text = err.to_string();
        assert!(
            text.contains(&self.file(file).display().to_string()),
            "the error should name {file}: {text}"
        );
        assert_eq!(err.path(), self.file(file), "{text}");
        assert!(!text.contains('\n'), "one line: {text}");
        assert!(text.ends_with('.'), "one sentence: {text}");
        (err, text)
    }
}

/// Assert that `text` contains every one of `facts`.
pub fn assert_mentions(text: &str, facts: &[&str]) {
    for fact in facts {
        assert!(text.contains(fact), "expected {fact:?} in: {text}");
    }
}
