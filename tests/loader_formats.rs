//! Every accepted variant of the format loads to the same values: float16/32/64, either byte
//! order, C or Fortran layout, CSV quoting, a byte-order mark, extra or reordered columns,
//! either modality alone, and missing images as a counted warning.

mod loader_fixture;

use std::path::Path;

use loader_fixture::{D, Fixture, N, f32_npy, npy_bytes, values};
use pairwise_audit::{Dataset, Modality, Monitor, Stage};

fn c_order_bytes(v: &[f32], encode: impl Fn(f32) -> Vec<u8>) -> Vec<u8> {
    v.iter().flat_map(|&x| encode(x)).collect()
}

fn fortran_bytes(v: &[f32], rows: usize, cols: usize, encode: impl Fn(f32) -> Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    for j in 0..cols {
        for i in 0..rows {
            out.extend(encode(v[i * cols + j]));
        }
    }
    out
}

fn image_values(ds: &Dataset) -> Vec<f32> {
    let a = ds.embeddings(Modality::Image).unwrap();
    assert!(
        a.is_standard_layout(),
        "kept row-major whatever the file's order"
    );
    a.iter().copied().collect()
}

#[test]
fn the_fixture_loads_as_written() {
    let fx = Fixture::valid();
    let ds = fx.load();
    assert_eq!((ds.len(), ds.num_classes(), ds.dim()), (N, 3, D));
    assert_eq!(ds.modalities(), vec![Modality::Image, Modality::Text]);
    assert_eq!(
        image_values(&ds),
        values(N, D, 1.0),
        "raw values, not normalised"
    );
    let labels: Vec<Option<&str>> = ds
        .items
        .iter()
        .map(|it| it.label.map(|c| ds.class_name(c)))
        .collect();
    assert_eq!(
        labels,
        [
            Some("cat"),
            Some("dog"),
            Some("bird"),
            None,
            Some("dog"),
            None
        ]
    );
    assert_eq!(ds.items[4].image, None);
    assert_eq!(ds.image_path(0), Some(fx.file("images/a1.png")));
    assert_eq!(ds.classes[2].prompt, "a photo of a bird");
    assert_eq!(ds.missing_images, 0);
    assert!(ds.warnings.is_empty(), "{:?}", ds.warnings);
}

#[test]
fn float16_float64_big_endian_and_fortran_files_give_the_same_f32_values() {
    let v = values(N, D, 1.0); // multiples of 0.25: exact in float16 too
    let variants: Vec<(&str, Vec<u8>)> = vec![
        (
            "<f2",
            c_order_bytes(&v, |x| half::f16::from_f32(x).to_le_bytes().to_vec()),
        ),
        (
            ">f2",
            c_order_bytes(&v, |x| half::f16::from_f32(x).to_be_bytes().to_vec()),
        ),
        (
            "<f8",
            c_order_bytes(&v, |x| f64::from(x).to_le_bytes().to_vec()),
        ),
        (">f4", c_order_bytes(&v, |x| x.to_be_bytes().to_vec())),
    ];
    for (descr, data) in variants {
        let fx = Fixture::valid();
        fx.write(
            "image_embeddings.npy",
            npy_bytes(descr, false, &[N, D], &data),
        );
        assert_eq!(image_values(&fx.load()), v, "{descr}");
    }
    for (descr, encode) in [
        (
            "<f4",
            (|x: f32| x.to_le_bytes().to_vec()) as fn(f32) -> Vec<u8>,
        ),
        ("<f8", |x: f32| f64::from(x).to_le_bytes().to_vec()),
        ("<f2", |x: f32| {
            half::f16::from_f32(x).to_le_bytes().to_vec()
        }),
    ] {
        let fx = Fixture::valid();
        let data = fortran_bytes(&v, N, D, encode);
        fx.write(
            "image_embeddings.npy",
            npy_bytes(descr, true, &[N, D], &data),
        );
        assert_eq!(image_values(&fx.load()), v, "Fortran {descr}");
    }
}

#[test]
fn csv_quoting_bom_extra_and_reordered_columns_are_accepted() {
    let fx = Fixture::valid();
    let mut csv = "\u{feff}label,notes,id,image,description\n".to_string();
    csv.push_str("cat,first,a1,images/a1.png,\"a cat, tabby\"\n");
    csv.push_str("dog,,a2,images/a2.png,\"two\nlines, with \"\"quotes\"\"\"\n");
    csv.push_str(
        "bird,,a3,images/a3.png,x\n,,a4,images/a4.png,x\ndog,,a5,,x\n,,a6,images/a6.png,x\n",
    );
    fx.write("items.csv", csv);
    fx.write(
        "classes.csv",
        "\u{feff}prompt,name,weight\na photo of a cat,cat,1\nof a dog,dog,2\nof a bird,bird,3\n",
    );
    let ds = fx.load();
    assert_eq!(
        ds.items[0].id, "a1",
        "the BOM is not part of the first header name"
    );
    assert_eq!(ds.items[0].description, "a cat, tabby");
    assert_eq!(ds.items[1].description, "two\nlines, with \"quotes\"");
    assert_eq!(ds.class_name(ds.items[1].label.unwrap()), "dog");
    assert_eq!(ds.classes[0].name, "cat");
    assert_eq!(ds.classes[0].prompt, "a photo of a cat");
    assert_eq!(ds.warnings.len(), 2, "{:?}", ds.warnings);
    assert!(
        ds.warnings
            .iter()
            .any(|w| w.contains("items.csv") && w.contains("`notes`"))
    );
    assert!(
        ds.warnings
            .iter()
            .any(|w| w.contains("classes.csv") && w.contains("`weight`"))
    );
}

#[test]
fn either_modality_may_be_missing() {
    for (gone, kept) in [
        ("image_embeddings.npy", Modality::Text),
        ("text_embeddings.npy", Modality::Image),
    ] {
        let fx = Fixture::valid();
        fx.remove(gone);
        let ds = fx.load();
        assert_eq!(ds.modalities(), vec![kept]);
    }
}

#[test]
fn missing_images_are_a_counted_warning_naming_a_few() {
    let fx = Fixture::valid();
    fx.remove("images/a2.png");
    fx.remove("images/a6.png");
    std::fs::create_dir(fx.file("images/a6.png")).unwrap(); // a folder is not an image file
    let ds = fx.load();
    assert_eq!(ds.missing_images, 2);
    assert_eq!(ds.warnings.len(), 1, "{:?}", ds.warnings);
    let w = &ds.warnings[0];
    for fact in [
        "2 of 5 image files",
        "row 2: images/a2.png",
        "row 6: images/a6.png",
    ] {
        assert!(w.contains(fact), "{fact:?} in {w}");
    }
}

#[test]
fn the_fingerprint_is_the_sha256_of_items_csv() {
    let fx = Fixture::valid();
    let before = fx.load().fingerprint;
    // sha256 of the empty input, a known value, shows it is SHA-256 in lower-case hex.
    assert_eq!(
        pairwise_audit::dataset::fingerprint(b""),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    let bytes = std::fs::read(fx.file("items.csv")).unwrap();
    assert_eq!(before, pairwise_audit::dataset::fingerprint(&bytes));
    fx.write("items.csv", [bytes.as_slice(), b"a7,x,,\n"].concat());
    fx.write(
        "image_embeddings.npy",
        f32_npy(N + 1, D, &values(N + 1, D, 1.0)),
    );
    fx.write(
        "text_embeddings.npy",
        f32_npy(N + 1, D, &values(N + 1, D, 2.0)),
    );
    assert_ne!(fx.load().fingerprint, before);
}

#[test]
fn a_large_file_is_read_in_many_chunks_with_progress_to_the_end() {
    // 3000 × 512 f32 is 6 MB: several 1 MB chunks, read in parallel, must reassemble in order.
    let (n, d) = (3000, 512);
    let fx = Fixture::valid();
    let ids: String = (0..n).map(|i| format!("i{i},x,,cat\n")).collect();
    fx.write("items.csv", format!("id,description,image,label\n{ids}"));
    let v: Vec<f32> = (0..n * d).map(|k| (k % 1013) as f32 + 1.0).collect();
    fx.write("image_embeddings.npy", f32_npy(n, d, &v));
    fx.remove("text_embeddings.npy");
    fx.write("class_embeddings.npy", f32_npy(3, d, &values(3, d, 0.5)));
    let monitor = Monitor::new();
    let ds = Dataset::load_with(fx.path(), &monitor).unwrap();
    assert_eq!(image_values(&ds), v);
    let p = monitor.sample();
    assert_eq!(p.stage, Stage::CheckImages);

    // The last row of a large array is checked like the first.
    let mut bad = v.clone();
    bad[(n - 1) * d + 7] = f32::NAN;
    fx.write("image_embeddings.npy", f32_npy(n, d, &bad));
    let text = Dataset::load(fx.path()).unwrap_err().to_string();
    assert!(text.contains("row 3000, column 8"), "{text}");
}

#[test]
fn a_relative_dataset_path_works() {
    let fx = Fixture::valid();
    let cwd = std::env::current_dir().unwrap();
    let rel = pathdiff(fx.path(), &cwd);
    let ds = Dataset::load(&rel).unwrap();
    assert_eq!(ds.missing_images, 0);
}

/// `target` relative to `base` using `..` (both absolute).
fn pathdiff(target: &Path, base: &Path) -> std::path::PathBuf {
    let ups = base.components().count() - 1;
    let mut p = std::path::PathBuf::new();
    for _ in 0..ups {
        p.push("..");
    }
    p.join(target.strip_prefix("/").unwrap())
}

#[test]
fn blank_lines_and_crlf_line_ends_are_accepted() {
    let fx = Fixture::valid();
    fx.write(
        "items.csv",
        "id,description,image,label\r\na1,x,,cat\r\n\r\na2,x,,dog\r\na3,x,,\r\na4,x,,\r\n\na5,x,,\r\na6,x,,bird\r\n\r\n",
    );
    let ds = fx.load();
    let ids: Vec<&str> = ds.items.iter().map(|it| it.id.as_str()).collect();
    assert_eq!(ids, ["a1", "a2", "a3", "a4", "a5", "a6"]);
    assert_eq!(ds.class_name(ds.items[5].label.unwrap()), "bird");
}
