//! The binary step against the independent NumPy implementation: `scripts/method_reference.py
//! --one-vs-rest` ran on sample_data and wrote, per view, the selected dimensions and every
//! item's four scores (class and rest, full and sub-dimension). The engine must pick the same
//! dimensions, in the same order, and agree on every score and decision.

use std::path::Path;

use pairwise_audit::one_vs_rest::{DimSet, OneVsRestParams};
use pairwise_audit::{Dataset, Modality, Monitor, Params, classify};

fn check(class: &str, rest: Option<&str>, k: usize, fixture: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ds = Dataset::load(&root.join("sample_data")).unwrap();
    let params = Params {
        k,
        one_vs_rest: Some(OneVsRestParams {
            class: class.into(),
            rest: rest.map(Into::into),
            ..OneVsRestParams::default()
        }),
        ..Params::default()
    };
    let cls = classify(&ds, &params, &Monitor::new()).unwrap();
    let ovr = cls.one_vs_rest.as_ref().unwrap();
    let text = std::fs::read_to_string(root.join("tests/fixtures").join(fixture)).unwrap();
    let (dims_line, table) = text.split_once('\n').unwrap();

    for part in dims_line.trim_start_matches("# dims ").split(" | ") {
        let (m, dims) = part.split_once(':').unwrap();
        let view = ovr.get(Modality::parse(m).unwrap()).unwrap();
        let theirs: Vec<u32> = dims.split(' ').map(|d| d.parse().unwrap()).collect();
        assert_eq!(view.dims, theirs, "{m}: selected dimensions");
    }

    let mut reader = csv::Reader::from_reader(table.as_bytes());
    let headers = reader.headers().unwrap().clone();
    let mut worst = 0.0f64;
    let mut flipped = Vec::new();
    let mut rows = 0;
    for (i, rec) in reader.records().enumerate() {
        let rec = rec.unwrap();
        assert_eq!(&rec[0], ds.items[i].id, "row {i}");
        for m in Modality::ALL {
            let view = ovr.get(m).unwrap();
            for (set, tag) in [(DimSet::Full, "full"), (DimSet::Selected, "sub")] {
                let col = |side: &str| {
                    let name = format!("{m}_{tag}_{side}");
                    let at = headers.iter().position(|h| h == name).unwrap();
                    rec[at].parse::<f64>().unwrap()
                };
                let (c, r) = (col("class"), col("rest"));
                let ours = view.scores(set);
                worst = worst
                    .max((ours.class[i] - c).abs())
                    .max((ours.rest[i] - r).abs());
                if ours.says_class(i) != (c >= r) {
                    flipped.push(format!("{} {m} {tag}", &rec[0]));
                }
            }
        }
        rows += 1;
    }
    assert_eq!(rows, ds.len());
    assert!(worst < 1e-9, "largest score difference {worst:e}");
    assert!(flipped.is_empty(), "decisions differ: {flipped:?}");
}

#[test]
fn flags_against_the_other_classes_agree_with_the_numpy_reference() {
    check("flags", None, 100, "reference_ovr_flags.csv");
}

#[test]
fn animals_against_a_rest_class_at_k20_agree_with_the_numpy_reference() {
    check(
        "animals_nature",
        Some("objects"),
        20,
        "reference_ovr_animals_vs_objects_k20.csv",
    );
}
