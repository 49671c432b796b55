//! Parquet catalogues: files written by pyarrow, pandas and polars (tests/fixtures/parquet,
//! from scripts/parquet_fixtures.py), files written here with arrow-rs, the SQID-shaped
//! sample, and one test per kind of bad input.
#![cfg(feature = "parquet")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{FixedSizeListBuilder, Float32Builder, Int64Builder, ListBuilder};
use arrow_array::{ArrayRef, RecordBatch, StringArray};
use arrow_schema::{Field, Schema};
use pairwise_audit::audit::Audit;
use pairwise_audit::dataset::{ColumnOverrides, LoadOptions};
use pairwise_audit::scorers::scorer_by_name;
use pairwise_audit::{Dataset, Modality, Monitor, Params, classify, output};
use parquet::arrow::ArrowWriter;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/parquet")
        .join(name)
}

fn load(path: &Path) -> Result<Dataset, String> {
    Dataset::load(path).map_err(|e| e.to_string())
}

fn load_with(path: &Path, columns: ColumnOverrides) -> Result<Dataset, String> {
    let options = LoadOptions {
        columns,
        classes: None,
    };
    Dataset::load_options(path, &options).map_err(|e| e.to_string())
}

fn row(ds: &Dataset, m: Modality, i: usize) -> Vec<f32> {
    ds.embeddings(m).unwrap().row(i).to_vec()
}

// ---- Files from the Python writers -------------------------------------------------------

#[test]
fn pyarrow_lists_with_a_null_and_an_empty_vector() {
    let ds = load(&fixture("pyarrow_list")).unwrap();
    assert_eq!((ds.len(), ds.dim(), ds.num_classes()), (12, 8, 3));
    let t = ds.table.as_ref().unwrap();
    assert_eq!(t.mapping.id, "id");
    assert_eq!(
        t.mapping.image_embedding.as_deref(),
        Some("image_embedding")
    );
    assert_eq!(t.mapping.text_embedding.as_deref(), Some("text_embedding"));
    // Item 3 has a null image vector, item 5 an empty text vector: missing views.
    let missing = |m| (0..12).filter(|&i| !ds.views.has(m, i)).collect::<Vec<_>>();
    assert_eq!(missing(Modality::Image), [3]);
    assert_eq!(missing(Modality::Text), [5]);
    assert!(row(&ds, Modality::Image, 3).iter().all(|&v| v == 0.0));
    assert_eq!(ds.items[2].label, ds.class_index("fish"));
    assert_eq!(ds.items[2].description, "a fish number 2");
}

#[test]
fn every_writer_gives_the_same_vectors() {
    let reference = load(&fixture("pyarrow_list")).unwrap();
    for name in ["pyarrow_fixed", "pandas", "polars"] {
        let ds = load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(ds.len(), 12, "{name}");
        let ids: Vec<&str> = ds.items.iter().map(|it| it.id.as_str()).collect();
        let want: Vec<&str> = reference.items.iter().map(|it| it.id.as_str()).collect();
        assert_eq!(ids, want, "{name}");
        for i in [0, 4, 11] {
            assert_eq!(
                row(&ds, Modality::Image, i),
                row(&reference, Modality::Image, i),
                "{name} row {i}"
            );
        }
        assert_eq!(ds.annotations(), reference.annotations(), "{name}");
    }
}

#[test]
fn a_fixed_size_null_row_is_a_missing_view() {
    // pyarrow writes a null into a fixed_size_list column as a row of null elements.
    let ds = load(&fixture("pyarrow_fixed")).unwrap();
    assert!(!ds.views.has(Modality::Image, 3));
    assert!(ds.views.get(Modality::Text).is_none());
    assert_eq!(ds.table.as_ref().unwrap().mapping.id, "item_id");
}

#[test]
fn float16_shards_read_in_name_order() {
    let ds = load(&fixture("pyarrow_f16_shards")).unwrap();
    assert_eq!(ds.len(), 12);
    assert_eq!(ds.items[7].id, "item-07");
    assert!(ds.text_embeddings.is_none());
    let reference = load(&fixture("pyarrow_list")).unwrap();
    for (a, b) in row(&ds, Modality::Image, 9)
        .iter()
        .zip(row(&reference, Modality::Image, 9))
    {
        assert!((a - b).abs() < 2e-3 * b.abs().max(1.0), "{a} vs {b}");
    }
}

// ---- The SQID-shaped sample ----------------------------------------------------------------

fn predictions_csv(ds: &Dataset, dir: &Path) -> String {
    let monitor = Monitor::new();
    let cls = classify(ds, &Params::default(), &monitor).unwrap();
    let scorer = scorer_by_name(pairwise_audit::scorers::DEFAULT_SCORER).unwrap();
    let audit = Audit::run(ds, &cls, scorer.as_ref(), &monitor).unwrap();
    let path = dir.join("predictions.csv");
    output::write_predictions(&path, ds, &audit).unwrap();
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn the_sqid_shaped_sample_classifies_exactly_as_the_folder() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let folder = Dataset::load(&root.join("sample_data")).unwrap();
    let tables = Dataset::load(&root.join("tests/fixtures/sqid_sample")).unwrap();
    assert_eq!(tables.items.len(), folder.items.len());
    // The URL and title tables are shuffled: the join must restore the features' order.
    for (a, b) in tables.items.iter().zip(&folder.items) {
        assert_eq!(
            (&a.id, &a.description, a.label),
            (&b.id, &b.description, b.label)
        );
    }
    assert!(
        tables.items[0]
            .image
            .as_ref()
            .unwrap()
            .starts_with("https://")
    );
    assert_eq!(tables.image_embeddings, folder.image_embeddings);
    let dir = tempfile::tempdir().unwrap();
    let from_tables = predictions_csv(&tables, dir.path());
    let from_folder = predictions_csv(&folder, dir.path());
    assert_eq!(from_tables.lines().count(), 1871);
    assert!(from_tables == from_folder, "predictions differ");
}

// ---- Files written here ----------------------------------------------------------------------

fn strings(values: &[&str]) -> ArrayRef {
    Arc::new(StringArray::from(values.to_vec()))
}

fn list(rows: &[Option<Vec<Option<f32>>>]) -> ArrayRef {
    let mut b = ListBuilder::new(Float32Builder::new());
    for r in rows {
        match r {
            Some(v) => {
                for x in v {
                    b.values().append_option(*x);
                }
                b.append(true);
            }
            None => b.append(false),
        }
    }
    Arc::new(b.finish())
}

fn vecs(rows: &[&[f32]]) -> Vec<Option<Vec<Option<f32>>>> {
    rows.iter()
        .map(|r| Some(r.iter().map(|&v| Some(v)).collect()))
        .collect()
}

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

const GOOD: [&[f32]; 4] = [
    &[1.0, 0.1, 0.0],
    &[0.1, 1.0, 0.0],
    &[0.9, 0.2, 0.1],
    &[0.2, 0.8, 0.1],
];

/// A folder with classes.parquet (a, b in 3-d) and items.parquet made of `columns`.
fn catalogue(columns: Vec<(&str, ArrayRef)>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join("classes.parquet"),
        vec![
            ("name", strings(&["a", "b"])),
            ("prompt", strings(&["an a", "a b"])),
            (
                "embedding",
                list(&vecs(&[&[1.0, 0.0, 0.0], &[0.0, 1.0, 0.0]])),
            ),
        ],
    );
    write(&dir.path().join("items.parquet"), columns);
    dir
}

fn ids() -> ArrayRef {
    strings(&["w", "x", "y", "z"])
}

fn labels() -> ArrayRef {
    strings(&["a", "b", "a", "b"])
}

#[test]
fn files_written_by_arrow_rs_load_and_classify() {
    let dir = catalogue(vec![
        ("id", ids()),
        ("label", labels()),
        ("image_embedding", list(&vecs(&GOOD))),
        ("text_embedding", list(&vecs(&GOOD))),
    ]);
    let ds = load(&dir.path().join("items.parquet")).unwrap();
    assert_eq!((ds.len(), ds.dim()), (4, 3));
    let cls = classify(&ds, &Params::default(), &Monitor::new()).unwrap();
    assert_eq!(cls.get(Modality::Image).unwrap().baseline, [0, 1, 0, 1]);
}

#[test]
fn an_item_missing_one_view_is_classified_from_the_other_with_empty_columns() {
    let mut image = vecs(&GOOD);
    image[2] = None;
    let mut text = vecs(&GOOD);
    text[1] = Some(vec![]);
    let dir = catalogue(vec![
        ("id", ids()),
        ("label", labels()),
        ("image_embedding", list(&image)),
        ("text_embedding", list(&text)),
    ]);
    let ds = load(dir.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    let csv = predictions_csv(&ds, out.path());
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    let col = |name: &str| rows[0].iter().position(|h| *h == name).unwrap();
    let (ib, ip, tb, tp) = (
        col("image_base"),
        col("image_pairwise"),
        col("text_base"),
        col("text_pairwise"),
    );
    // Row 3 (y) has no image view, row 2 (x) no text view.
    assert_eq!((rows[3][ib], rows[3][ip]), ("", ""));
    assert_eq!((rows[3][tb], rows[3][tp]), ("a", "a"));
    assert_eq!((rows[2][tb], rows[2][tp]), ("", ""));
    assert_eq!((rows[2][ib], rows[2][ip]), ("b", "b"));
    assert_eq!(rows[1][ib], "a");
    assert!(!rows[1][col("image_pairwise_margin")].is_empty());
    assert_eq!(rows[3][col("image_pairwise_margin")], "");
}

#[test]
fn the_mapping_can_be_given() {
    let dir = catalogue(vec![
        ("key", ids()),
        ("truth", labels()),
        ("v1", list(&vecs(&GOOD))),
    ]);
    let err = load(dir.path()).unwrap_err();
    assert!(
        err.contains("no id column") && err.contains("--id-column"),
        "{err}"
    );
    let ds = load_with(
        dir.path(),
        ColumnOverrides {
            id: Some("key".into()),
            label: Some("truth".into()),
            text_embedding: Some("v1".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ds.items[1].id, "x");
    assert_eq!(ds.items[1].label, Some(1));
    assert!(ds.image_embeddings.is_none() && ds.text_embeddings.is_some());
}

// ---- Bad input: one sentence naming the file, column and row --------------------------------

fn load_err(columns: Vec<(&str, ArrayRef)>) -> String {
    let dir = catalogue(columns);
    let e = load(dir.path()).unwrap_err();
    assert!(e.contains("items.parquet"), "names the file: {e}");
    assert_eq!(e.lines().count(), 1, "one sentence: {e}");
    e
}

fn with_image(rows: Vec<Option<Vec<Option<f32>>>>) -> String {
    load_err(vec![
        ("id", ids()),
        ("label", labels()),
        ("image_embedding", list(&rows)),
    ])
}

#[test]
fn a_ragged_vector_is_refused() {
    let mut rows = vecs(&GOOD);
    rows[2] = Some(vec![Some(1.0), Some(2.0)]);
    let e = with_image(rows);
    assert!(
        e.contains("row 3, column `image_embedding`") && e.contains("2 elements"),
        "{e}"
    );
}

#[test]
fn nan_and_infinity_are_refused() {
    for bad in [f32::NAN, f32::INFINITY] {
        let mut rows = vecs(&GOOD);
        rows[1] = Some(vec![Some(1.0), Some(bad), Some(0.0)]);
        let e = with_image(rows);
        assert!(
            e.contains("row 2, column `image_embedding`: element 2"),
            "{e}"
        );
        assert!(e.contains("finite"), "{e}");
    }
}

#[test]
fn a_null_element_is_refused() {
    let mut rows = vecs(&GOOD);
    rows[3] = Some(vec![Some(1.0), None, Some(0.0)]);
    let e = with_image(rows);
    assert!(
        e.contains("row 4, column `image_embedding`: element 2 of the vector is null"),
        "{e}"
    );
}

#[test]
fn a_list_of_integers_is_not_an_embedding() {
    let mut b = ListBuilder::new(Int64Builder::new());
    for _ in 0..4 {
        b.values().append_value(1);
        b.append(true);
    }
    let dir = catalogue(vec![
        ("id", ids()),
        ("image_embedding", Arc::new(b.finish()) as ArrayRef),
        ("text_embedding", list(&vecs(&GOOD))),
    ]);
    let e = load_with(
        dir.path(),
        ColumnOverrides {
            image_embedding: Some("image_embedding".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.contains("`image_embedding` holds List(Int64"), "{e}");
    assert!(e.contains("float"), "{e}");
}

#[test]
fn a_missing_column_is_named_with_the_ones_there() {
    let dir = catalogue(vec![("id", ids()), ("image_embedding", list(&vecs(&GOOD)))]);
    let e = load_with(
        dir.path(),
        ColumnOverrides {
            label: Some("category".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.contains("`category`") && e.contains("`id`, `image_embedding`"),
        "{e}"
    );
}

#[test]
fn duplicate_ids_are_refused() {
    let e = load_err(vec![
        ("id", strings(&["w", "x", "w", "z"])),
        ("image_embedding", list(&vecs(&GOOD))),
    ]);
    assert!(
        e.contains("id `w` appears in row 1 and again in row 3"),
        "{e}"
    );
}

#[test]
fn a_corrupt_or_truncated_file_is_refused() {
    let dir = catalogue(vec![("id", ids()), ("image_embedding", list(&vecs(&GOOD)))]);
    let path = dir.path().join("items.parquet");
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let e = load(dir.path()).unwrap_err();
    assert!(
        e.contains("items.parquet: is not a readable Parquet file, or it is truncated"),
        "{e}"
    );
    std::fs::write(&path, b"PAR1 this is not parquet at all PAR1").unwrap();
    assert!(
        load(dir.path())
            .unwrap_err()
            .contains("not a readable Parquet file")
    );
}

#[test]
fn a_codec_this_build_lacks_is_named() {
    let e = load(&fixture("brotli")).unwrap_err();
    assert!(
        e.contains("is compressed with brotli, which this build cannot read"),
        "{e}"
    );
}

#[test]
fn an_item_with_neither_view_is_refused_by_its_id() {
    let mut image = vecs(&GOOD);
    image[2] = None;
    let mut text = vecs(&GOOD);
    text[2] = Some(vec![]);
    let e = load_err(vec![
        ("id", ids()),
        ("image_embedding", list(&image)),
        ("text_embedding", list(&text)),
    ]);
    assert!(
        e.contains("row 3: item `y` has neither an image nor a text embedding"),
        "{e}"
    );
}

#[test]
fn an_unknown_label_names_the_row_and_id() {
    let e = load_err(vec![
        ("id", ids()),
        ("label", strings(&["a", "b", "c", "a"])),
        ("image_embedding", list(&vecs(&GOOD))),
    ]);
    assert!(e.contains("row 3: \"c\" (id y)"), "{e}");
}

#[test]
fn a_fixed_size_list_written_here_keeps_its_empty_rows_apart() {
    let mut b = FixedSizeListBuilder::new(Float32Builder::new(), 3).with_field(Arc::new(
        Field::new("item", arrow_schema::DataType::Float32, true),
    ));
    for (i, r) in GOOD.iter().enumerate() {
        if i == 1 {
            for _ in 0..3 {
                b.values().append_null();
            }
            b.append(false);
        } else {
            for &v in *r {
                b.values().append_value(v);
            }
            b.append(true);
        }
    }
    let dir = catalogue(vec![
        ("id", ids()),
        ("text_embedding", list(&vecs(&GOOD))),
        ("image_embedding", Arc::new(b.finish()) as ArrayRef),
    ]);
    let ds = load(dir.path()).unwrap();
    assert!(!ds.views.has(Modality::Image, 1));
    assert!(ds.views.has(Modality::Image, 2));
    assert_eq!(row(&ds, Modality::Image, 2), GOOD[2]);
    let _ = Schema::empty();
}
