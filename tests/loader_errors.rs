//! Every kind of bad input stops the load with one sentence naming the file, the place in it
//! and what was expected versus found. Rows count from 1 after the header (see
//! docs/dataset-format.md).

mod loader_fixture;

use loader_fixture::{D, Fixture, N, assert_mentions, f32_npy, npy_bytes, values};
use pairwise_audit::{Dataset, DatasetError};

#[test]
fn a_missing_required_file_is_named() {
    for name in ["items.csv", "classes.csv", "class_embeddings.npy"] {
        let fx = Fixture::valid();
        fx.remove(name);
        let (err, text) = fx.error_about(name);
        assert!(matches!(err, DatasetError::MissingFile { .. }), "{text}");
        assert_mentions(&text, &["file not found"]);
    }
}

#[test]
fn a_folder_that_does_not_exist_is_named() {
    let fx = Fixture::valid();
    let gone = fx.file("no-such-folder");
    let err = Dataset::load(&gone).unwrap_err();
    assert!(matches!(err, DatasetError::NotAFolder { .. }));
    assert_mentions(&err.to_string(), &["no-such-folder", "not a folder"]);
}

#[test]
fn neither_embedding_file_is_an_error_naming_both() {
    let fx = Fixture::valid();
    fx.remove("image_embeddings.npy");
    fx.remove("text_embeddings.npy");
    let err = Dataset::load(fx.path()).unwrap_err();
    assert!(matches!(err, DatasetError::NoEmbeddings { .. }));
    assert_eq!(err.path(), fx.path());
    assert_mentions(
        &err.to_string(),
        &[
            "image_embeddings.npy",
            "text_embeddings.npy",
            "at least one",
        ],
    );
}

#[test]
fn a_wrong_items_header_names_the_missing_column_and_what_was_found() {
    let fx = Fixture::valid();
    fx.write("items.csv", "id,text,image,label\na1,x,,cat\n");
    let (err, text) = fx.error_about("items.csv");
    assert!(matches!(err, DatasetError::WrongHeader { .. }), "{text}");
    assert_mentions(
        &text,
        &[
            "id,description,image,label",
            "`description`",
            "found: id,text,image,label",
        ],
    );
}

#[test]
fn a_wrong_classes_header_is_reported() {
    let fx = Fixture::valid();
    fx.write("classes.csv", "class,prompt\ncat,a\ndog,b\nbird,c\n");
    let (_, text) = fx.error_about("classes.csv");
    assert_mentions(&text, &["name,prompt", "`name`", "found: class,prompt"]);
}

#[test]
fn an_empty_items_file_has_a_wrong_header() {
    let fx = Fixture::valid();
    fx.write("items.csv", "");
    let (err, text) = fx.error_about("items.csv");
    assert!(matches!(err, DatasetError::WrongHeader { .. }), "{text}");
    assert_mentions(
        &text,
        &[
            "lacks `id`, `description`, `image` and `label`",
            "found: nothing",
        ],
    );
}

#[test]
fn a_row_count_mismatch_gives_both_counts() {
    let fx = Fixture::valid();
    fx.write(
        "text_embeddings.npy",
        f32_npy(N - 1, D, &values(N - 1, D, 2.0)),
    );
    let (err, text) = fx.error_about("text_embeddings.npy");
    assert!(
        matches!(err, DatasetError::RowCountMismatch { .. }),
        "{text}"
    );
    assert_mentions(&text, &["has 5 rows", "items.csv has 6"]);
}

#[test]
fn a_dimension_mismatch_between_modalities_names_both_files() {
    let fx = Fixture::valid();
    fx.write(
        "text_embeddings.npy",
        f32_npy(N, D + 1, &values(N, D + 1, 2.0)),
    );
    let (err, text) = fx.error_about("text_embeddings.npy");
    assert!(matches!(err, DatasetError::DimMismatch { .. }), "{text}");
    assert_mentions(&text, &["has 5 dimensions", "image_embeddings.npy has 4"]);
}

#[test]
fn a_dimension_mismatch_with_the_classes_names_the_class_file() {
    let fx = Fixture::valid();
    fx.write(
        "class_embeddings.npy",
        f32_npy(3, D + 2, &values(3, D + 2, 0.5)),
    );
    let (err, text) = fx.error_about("class_embeddings.npy");
    assert!(matches!(err, DatasetError::DimMismatch { .. }), "{text}");
    assert_mentions(&text, &["has 6 dimensions", "image_embeddings.npy has 4"]);
}

#[test]
fn class_embedding_rows_must_match_classes_csv() {
    let fx = Fixture::valid();
    fx.write("class_embeddings.npy", f32_npy(2, D, &values(2, D, 0.5)));
    let (err, text) = fx.error_about("class_embeddings.npy");
    assert!(
        matches!(err, DatasetError::RowCountMismatch { .. }),
        "{text}"
    );
    assert_mentions(&text, &["has 2 rows", "classes.csv has 3"]);
}

#[test]
fn a_nan_is_reported_at_its_first_row_and_column() {
    let fx = Fixture::valid();
    let mut v = values(N, D, 1.0);
    v[2 * D + 1] = f32::NAN; // row 3, column 2
    v[4 * D] = f32::NAN; // a later one, not reported
    fx.write("image_embeddings.npy", f32_npy(N, D, &v));
    let (err, text) = fx.error_about("image_embeddings.npy");
    assert!(
        matches!(
            err,
            DatasetError::NonFinite {
                row: 3,
                column: 2,
                ..
            }
        ),
        "{text}"
    );
    assert_mentions(
        &text,
        &["row 3, column 2", "NumPy index [2, 1]", "NaN", "finite"],
    );
}

#[test]
fn an_infinity_is_reported_in_the_class_embeddings_too() {
    let fx = Fixture::valid();
    let mut v = values(3, D, 0.5);
    v[D + 3] = f32::INFINITY; // row 2, column 4
    fx.write("class_embeddings.npy", f32_npy(3, D, &v));
    let (_, text) = fx.error_about("class_embeddings.npy");
    assert_mentions(&text, &["row 2, column 4", "inf"]);
}

#[test]
fn a_nan_in_a_fortran_order_file_is_reported_in_row_order() {
    let fx = Fixture::valid();
    let mut v = values(N, D, 2.0);
    v[D + 3] = f32::NAN; // row 2, column 4: first in row order …
    v[4 * D] = f32::NAN; // … though row 5, column 1 comes first in column order
    let mut data = Vec::new();
    for j in 0..D {
        for i in 0..N {
            data.extend_from_slice(&v[i * D + j].to_le_bytes());
        }
    }
    fx.write(
        "text_embeddings.npy",
        npy_bytes("<f4", true, &[N, D], &data),
    );
    let (_, text) = fx.error_about("text_embeddings.npy");
    assert_mentions(&text, &["row 2, column 4", "NaN"]);
}

#[test]
fn an_all_zero_row_is_reported() {
    let fx = Fixture::valid();
    let mut v = values(N, D, 1.0);
    v[3 * D..4 * D].fill(0.0); // row 4
    fx.write("image_embeddings.npy", f32_npy(N, D, &v));
    let (err, text) = fx.error_about("image_embeddings.npy");
    assert!(
        matches!(err, DatasetError::ZeroRow { row: 4, .. }),
        "{text}"
    );
    assert_mentions(&text, &["row 4", "NumPy index 3", "zero"]);
}

#[test]
fn duplicate_ids_name_both_rows() {
    let fx = Fixture::valid();
    fx.write(
        "items.csv",
        "id,description,image,label\na1,x,,cat\na2,x,,dog\na3,x,,cat\na4,x,,\na2,y,,bird\na6,x,,\n",
    );
    let (err, text) = fx.error_about("items.csv");
    assert!(
        matches!(
            err,
            DatasetError::Duplicate {
                first: 2,
                second: 5,
                ..
            }
        ),
        "{text}"
    );
    assert_mentions(&text, &["id `a2`", "row 2", "row 5"]);
}

#[test]
fn duplicate_class_names_are_reported() {
    let fx = Fixture::valid();
    fx.write("classes.csv", "name,prompt\ncat,a\ndog,b\ncat,c\n");
    let (_, text) = fx.error_about("classes.csv");
    assert_mentions(&text, &["class name `cat`", "row 1", "row 3"]);
}

#[test]
fn unknown_labels_are_counted_with_a_few_examples() {
    let fx = Fixture::valid();
    fx.write(
        "items.csv",
        "id,description,image,label\n\
         a1,x,,cat\na2,x,,horse\na3,x,,Cat\na4,x,,\na5,x,,fish\na6,x,,horse\n",
    );
    let (err, text) = fx.error_about("items.csv");
    assert!(
        matches!(err, DatasetError::UnknownLabels { count: 4, .. }),
        "{text}"
    );
    assert_mentions(
        &text,
        &[
            "4 row(s)",
            "row 2: \"horse\"",
            "row 3: \"Cat\"",
            "row 5: \"fish\"",
        ],
    );
    assert!(!text.contains("row 6"), "only a few examples: {text}");
}

#[test]
fn a_header_only_items_file_is_an_empty_dataset() {
    let fx = Fixture::valid();
    fx.write("items.csv", "id,description,image,label\n");
    let (err, text) = fx.error_about("items.csv");
    assert!(matches!(err, DatasetError::Empty { .. }), "{text}");
    assert_mentions(&text, &["no data rows"]);
}

#[test]
fn fewer_than_two_classes_is_an_error() {
    let fx = Fixture::valid();
    fx.write("classes.csv", "name,prompt\ncat,a photo of a cat\n");
    let (err, text) = fx.error_about("classes.csv");
    assert!(
        matches!(err, DatasetError::TooFewClasses { found: 1, .. }),
        "{text}"
    );
    assert_mentions(&text, &["1 class", "at least 2"]);
}

#[test]
fn an_integer_dtype_is_named() {
    let fx = Fixture::valid();
    let data: Vec<u8> = (0..(N * D) as i64).flat_map(|v| v.to_le_bytes()).collect();
    fx.write(
        "image_embeddings.npy",
        npy_bytes("<i8", false, &[N, D], &data),
    );
    let (err, text) = fx.error_about("image_embeddings.npy");
    assert!(matches!(err, DatasetError::WrongDtype { .. }), "{text}");
    assert_mentions(
        &text,
        &["int64 (`<i8`)", "expected float32, float16 or float64"],
    );
}

#[test]
fn an_array_that_is_not_two_dimensional_gives_its_shape() {
    let fx = Fixture::valid();
    let flat: Vec<u8> = values(N, D, 1.0)
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    fx.write(
        "image_embeddings.npy",
        npy_bytes("<f4", false, &[N * D], &flat),
    );
    let (err, text) = fx.error_about("image_embeddings.npy");
    assert!(matches!(err, DatasetError::WrongShape { .. }), "{text}");
    assert_mentions(&text, &["shape (24,)", "2-D"]);

    fx.write(
        "image_embeddings.npy",
        npy_bytes("<f4", false, &[N, 2, 2], &flat),
    );
    let (_, text) = fx.error_about("image_embeddings.npy");
    assert_mentions(&text, &["shape (6, 2, 2)"]);
}

#[test]
fn a_truncated_npy_gives_announced_and_found_bytes() {
    let fx = Fixture::valid();
    let mut bytes = f32_npy(N, D, &values(N, D, 1.0));
    bytes.truncate(bytes.len() - 10);
    fx.write("image_embeddings.npy", bytes);
    let (err, text) = fx.error_about("image_embeddings.npy");
    assert!(matches!(err, DatasetError::Truncated { .. }), "{text}");
    assert_mentions(&text, &["truncated", "96 bytes", "holds 86"]);
}

#[test]
fn an_npy_cut_inside_its_header_is_reported() {
    let fx = Fixture::valid();
    let bytes = f32_npy(N, D, &values(N, D, 1.0));
    fx.write("text_embeddings.npy", &bytes[..40]);
    let (err, text) = fx.error_about("text_embeddings.npy");
    assert!(
        matches!(err, DatasetError::TruncatedHeader { len: 40, .. }),
        "{text}"
    );
    assert_mentions(&text, &["truncated", "header", "ends after 40 bytes"]);
}

#[test]
fn extra_bytes_after_the_data_are_reported() {
    let fx = Fixture::valid();
    let mut bytes = f32_npy(N, D, &values(N, D, 1.0));
    bytes.extend_from_slice(&[0; 8]);
    fx.write("image_embeddings.npy", bytes);
    let (err, text) = fx.error_about("image_embeddings.npy");
    assert!(
        matches!(err, DatasetError::TrailingBytes { extra: 8, .. }),
        "{text}"
    );
}

#[test]
fn a_file_that_is_not_npy_is_named() {
    let fx = Fixture::valid();
    fx.write("class_embeddings.npy", "name,prompt\ncat,a\n");
    let (err, text) = fx.error_about("class_embeddings.npy");
    assert!(matches!(err, DatasetError::NotNpy { .. }), "{text}");
    assert_mentions(&text, &["not a .npy file", "magic"]);

    fx.write("class_embeddings.npy", "");
    let (err, _) = fx.error_about("class_embeddings.npy");
    assert!(matches!(err, DatasetError::NotNpy { .. }));
}

#[test]
fn invalid_utf8_names_the_row_and_column() {
    let fx = Fixture::valid();
    let mut csv = b"id,description,image,label\na1,x,,cat\na2,x,,dog\na3,caf".to_vec();
    csv.extend_from_slice(&[0xe9, 0x21]); // Latin-1 "é!"
    csv.extend_from_slice(b",,bird\na4,x,,\na5,x,,\na6,x,,\n");
    fx.write("items.csv", csv);
    let (err, text) = fx.error_about("items.csv");
    assert!(
        matches!(err, DatasetError::InvalidUtf8 { row: 3, .. }),
        "{text}"
    );
    assert_mentions(
        &text,
        &["row 3 (line 4)", "column description", "UTF-8", "byte 3"],
    );
}

#[test]
fn a_ragged_row_gives_expected_and_found_field_counts() {
    let fx = Fixture::valid();
    fx.write(
        "items.csv",
        "id,description,image,label\na1,x,,cat\na2,x,,dog,extra\na3,x,,\n",
    );
    let (err, text) = fx.error_about("items.csv");
    assert!(
        matches!(
            err,
            DatasetError::RaggedRow {
                row: 2,
                expected: 4,
                found: 5,
                ..
            }
        ),
        "{text}"
    );
    assert_mentions(&text, &["row 2 (line 3)", "expected 4 fields", "found 5"]);
}

#[test]
fn rows_and_lines_differ_after_a_multi_line_field() {
    let fx = Fixture::valid();
    fx.write(
        "items.csv",
        "id,description,image,label\na1,\"two\nlines\",,cat\na2,x,,\na3,x\n",
    );
    let (_, text) = fx.error_about("items.csv");
    assert_mentions(&text, &["row 3 (line 5)", "expected 4 fields", "found 2"]);
}

#[test]
fn an_empty_id_is_reported() {
    let fx = Fixture::valid();
    fx.write(
        "items.csv",
        "id,description,image,label\na1,x,,cat\n,x,,dog\n",
    );
    let (err, text) = fx.error_about("items.csv");
    assert!(
        matches!(err, DatasetError::EmptyField { row: 2, .. }),
        "{text}"
    );
    assert_mentions(&text, &["row 2 (line 3)", "id is empty"]);
}
