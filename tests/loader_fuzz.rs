//! The loaders survive damaged input: a small valid catalogue has one of its files mutated at
//! random (bytes flipped, cut, inserted, repeated) and the load must return — an error or a
//! dataset — never panic or abort on a huge allocation.
//!
//! CI runs a few cases per file; the long run (10,000 per loader) is
//!
//!     PAIRWISE_FUZZ_CASES=10000 cargo test --release --test loader_fuzz

use std::path::{Path, PathBuf};

use pairwise_audit::Dataset;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("PAIRWISE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48)
}

#[derive(Clone, Debug)]
enum Mutation {
    Flip { at: usize, xor: u8 },
    Truncate { keep: usize },
    Insert { at: usize, bytes: Vec<u8> },
    Repeat { at: usize, len: usize },
    Overwrite { at: usize, value: u64 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1..=255u8).prop_map(|(at, xor)| Mutation::Flip { at, xor }),
        any::<usize>().prop_map(|keep| Mutation::Truncate { keep }),
        (
            any::<usize>(),
            proptest::collection::vec(any::<u8>(), 1..16)
        )
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        (any::<usize>(), 1..64usize).prop_map(|(at, len)| Mutation::Repeat { at, len }),
        // Large integers where lengths and counts live.
        (any::<usize>(), any::<u64>()).prop_map(|(at, value)| Mutation::Overwrite { at, value }),
    ]
}

fn apply(bytes: &mut Vec<u8>, m: &Mutation) {
    if bytes.is_empty() {
        return;
    }
    let n = bytes.len();
    match m {
        Mutation::Flip { at, xor } => bytes[at % n] ^= xor,
        Mutation::Truncate { keep } => bytes.truncate(keep % n),
        Mutation::Insert { at, bytes: b } => {
            let at = at % n;
            bytes.splice(at..at, b.iter().copied());
        }
        Mutation::Repeat { at, len } => {
            let at = at % n;
            let end = (at + len).min(n);
            let copy = bytes[at..end].to_vec();
            bytes.splice(at..at, copy);
        }
        Mutation::Overwrite { at, value } => {
            let at = at % n;
            for (i, b) in value.to_le_bytes().iter().enumerate() {
                if let Some(x) = bytes.get_mut(at + i) {
                    *x = *b;
                }
            }
        }
    }
}

/// Mutate `file` of the catalogue in `source` (copied to a temporary folder) `cases()` times,
/// loading the catalogue at `load` (relative to the copy) after each.
fn fuzz(source: &Path, file: &str, load: &str) {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(source).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
        }
    }
    let original = std::fs::read(source.join(file)).unwrap();
    let target: PathBuf = dir.path().join(file);
    let root = dir.path().join(load);
    let mut runner = TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(mutation(), 1..4), |ms| {
            let mut bytes = original.clone();
            for m in &ms {
                apply(&mut bytes, m);
            }
            std::fs::write(&target, &bytes).unwrap();
            // Either outcome is fine; a panic fails the case.
            let _ = Dataset::load(&root);
            Ok(())
        })
        .unwrap();
}

fn small_folder() -> tempfile::TempDir {
    // The first rows of sample_data, in 384 dimensions: small enough for many cases.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let dir = tempfile::tempdir().unwrap();
    let ds = Dataset::load(&sample).unwrap();
    let rows = 40;
    let items = std::fs::read_to_string(sample.join("items.csv")).unwrap();
    let head: Vec<&str> = items.lines().take(rows + 1).collect();
    std::fs::write(dir.path().join("items.csv"), head.join("\n") + "\n").unwrap();
    std::fs::copy(sample.join("classes.csv"), dir.path().join("classes.csv")).unwrap();
    let write = |name: &str, a: ndarray::ArrayView2<f32>| {
        ndarray_npy::write_npy(dir.path().join(name), &a.to_owned()).unwrap();
    };
    write("class_embeddings.npy", ds.class_embeddings.view());
    write(
        "image_embeddings.npy",
        ds.image_embeddings
            .as_ref()
            .unwrap()
            .slice(ndarray::s![..rows, ..]),
    );
    write(
        "text_embeddings.npy",
        ds.text_embeddings
            .as_ref()
            .unwrap()
            .slice(ndarray::s![..rows, ..]),
    );
    assert!(
        Dataset::load(dir.path()).is_ok(),
        "the unmutated catalogue loads"
    );
    dir
}

#[test]
fn mutated_items_csv_never_panics() {
    let dir = small_folder();
    fuzz(dir.path(), "items.csv", ".");
}

#[test]
fn mutated_classes_csv_never_panics() {
    let dir = small_folder();
    fuzz(dir.path(), "classes.csv", ".");
}

#[test]
fn mutated_npy_never_panics() {
    let dir = small_folder();
    fuzz(dir.path(), "image_embeddings.npy", ".");
}

#[cfg(feature = "parquet")]
#[test]
fn mutated_parquet_items_never_panic() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet/pyarrow_list");
    assert!(Dataset::load(&source).is_ok());
    fuzz(&source, "items.parquet", "items.parquet");
}

#[cfg(feature = "parquet")]
#[test]
fn mutated_polars_zstd_parquet_never_panics() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet/polars");
    fuzz(&source, "items.parquet", "items.parquet");
}

#[cfg(feature = "parquet")]
#[test]
fn mutated_parquet_class_table_never_panics() {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/parquet/pyarrow_fixed");
    fuzz(&source, "classes.parquet", "items.parquet");
}
