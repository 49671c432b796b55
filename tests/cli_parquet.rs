//! The command line on Parquet catalogues: classify says what it detected, inspect shows the
//! mapping and fill, export writes corrections keyed by the id column (CSV or Parquet), and
//! bad input exits with status 2 and one sentence.
#![cfg(feature = "parquet")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use pairwise_audit::Dataset;
use pairwise_audit::review::{Action, Decision, LabelSource, LogWriter, Step, default_log_path};

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pairwise-audit"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn repo(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(p)
}

/// A private copy of the SQID-shaped sample, so that logs and exports stay out of the repo.
fn sqid_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for e in std::fs::read_dir(repo("tests/fixtures/sqid_sample")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, dir.path().join(p.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn classify_reads_a_parquet_file_and_says_what_it_detected() {
    let out = tempfile::tempdir().unwrap();
    let items = repo("tests/fixtures/parquet/pandas/items.parquet");
    let o = run(&[
        "classify",
        items.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let err = text(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("as Parquet tables"), "{err}");
    assert!(err.contains("id: `product_id` (detected"), "{err}");
    assert!(
        err.contains("text embedding: `text_vector` (detected"),
        "{err}"
    );
    let predictions = std::fs::read_to_string(out.path().join("predictions.csv")).unwrap();
    assert_eq!(predictions.lines().count(), 13);
    // Item 5 has no text vector: its text columns stay empty.
    let row6: Vec<&str> = predictions.lines().nth(6).unwrap().split(',').collect();
    assert_eq!(row6[0], "item-05");
    assert_eq!((row6[4], row6[5]), ("", ""));
    assert!(!row6[2].is_empty());
}

#[test]
fn inspect_prints_mapping_counts_dims_norms_and_first_rows() {
    let dataset = repo("tests/fixtures/parquet/pyarrow_list");
    let o = run(&["inspect", dataset.to_str().unwrap(), "--rows", "2"]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    for want in [
        "image: `image` (detected: by its name)",
        "items: 12; classes: 3 (cat, dog, fish); dimensions: 8",
        "image embedding `image_embedding`: 1 of 12 rows null or empty",
        "image view: 11 of 12 items, norms min",
        "item-01 | dog | a dog number 1 | images/1.png",
        "image_embedding: List(Float32",
    ] {
        assert!(out.contains(want), "missing {want:?} in\n{out}");
    }
    assert!(!out.contains("item-02"), "only two rows:\n{out}");
}

#[test]
fn an_override_wins_over_detection() {
    let dataset = repo("tests/fixtures/sqid_sample");
    let o = run(&[
        "inspect",
        dataset.to_str().unwrap(),
        "--text-column",
        "product_locale",
        "--rows",
        "1",
    ]);
    let out = text(&o.stdout);
    assert!(o.status.success(), "{}", text(&o.stderr));
    assert!(
        out.contains("description: `product_locale` (given)"),
        "{out}"
    );
    assert!(
        out.contains("id: `product_id` (from catalogue.ron)"),
        "{out}"
    );
    assert!(out.contains("| smileys_emotion | us |"), "{out}");
}

#[test]
fn bad_input_exits_2_with_one_sentence() {
    let out = tempfile::tempdir().unwrap();
    for (dataset, extra, want) in [
        (
            "tests/fixtures/parquet/brotli",
            vec![],
            "compressed with brotli",
        ),
        (
            "tests/fixtures/parquet/pyarrow_list",
            vec!["--label-column", "nope"],
            "the label column `nope`",
        ),
        (
            "sample_data",
            vec!["--id-column", "id"],
            "apply to Parquet catalogues only",
        ),
    ] {
        let d = repo(dataset);
        let mut args = vec!["classify", d.to_str().unwrap(), "--out"];
        args.push(out.path().to_str().unwrap());
        args.extend(extra);
        let o = run(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{dataset}: {err}");
        let errors: Vec<&str> = err.lines().filter(|l| l.starts_with("error:")).collect();
        assert_eq!(errors.len(), 1, "{err}");
        assert!(errors[0].contains(want), "{dataset}: {err}");
    }
}

fn log_decisions(dir: &Path) {
    let ds = Dataset::load(dir).unwrap();
    let (mut w, _) = LogWriter::open(&default_log_path(&ds.root), &ds.fingerprint).unwrap();
    w.record_step(&Step {
        decisions: vec![Decision {
            id: "U+1f6d1".into(),
            action: Action::Relabel {
                label: "symbols".into(),
                source: LabelSource::Text,
            },
            time: 1_764_201_600,
        }],
    });
    assert!(w.wait_durable(Duration::from_secs(5)));
}

#[test]
fn export_keys_corrections_by_the_id_column_in_csv_and_parquet() {
    let dir = sqid_copy();
    log_decisions(dir.path());
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("corrections.csv");
    let o = run(&[
        "export",
        dir.path().to_str().unwrap(),
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let written = std::fs::read_to_string(&csv).unwrap();
    let lines: Vec<&str> = written.lines().collect();
    assert_eq!(
        lines[0],
        "product_id,old_label,new_label,decision,source,timestamp"
    );
    assert!(
        lines[1].starts_with("U+1f6d1,travel_places,symbols,relabel,text,"),
        "{written}"
    );

    let pq = out.path().join("corrections.parquet");
    let o = run(&[
        "export",
        dir.path().to_str().unwrap(),
        "--out",
        pq.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let file = std::fs::File::open(&pq).unwrap();
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<_> = reader.map(|b| b.unwrap()).collect();
    let batch = &batches[0];
    assert_eq!(batch.num_rows(), 1);
    assert_eq!(batch.schema().field(0).name(), "product_id");
    use arrow_array::cast::AsArray;
    assert_eq!(batch.column(2).as_string::<i32>().value(0), "symbols");

    // The whole item table with the corrected label, as Parquet.
    let all = out.path().join("items.parquet");
    let o = run(&[
        "export",
        dir.path().to_str().unwrap(),
        "--out",
        all.to_str().unwrap(),
        "--all-items",
        "--format",
        "parquet",
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let back = pairwise_audit::dataset::parquet::table::Table::open(&all, &[]).unwrap();
    assert_eq!(back.rows(), 1870);
    assert!(back.has("product_title") && back.has("label"));

    // Never into the catalogue's own tables.
    let o = run(&[
        "export",
        dir.path().to_str().unwrap(),
        "--out",
        dir.path().join("products.parquet").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
}
