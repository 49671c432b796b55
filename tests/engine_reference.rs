//! The engine against an independent implementation: `scripts/method_reference.py` (NumPy,
//! written from the method's text) classified sample_data with fixed permutations and wrote
//! its labels to tests/fixtures. Both must agree label for label, baseline and pairwise.

use std::path::Path;

use pairwise_audit::{Dataset, Modality, Monitor, Params, classify};

fn check(k: usize, fixture: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let ds = Dataset::load(&root.join("sample_data")).unwrap();
    let perms: Vec<Vec<usize>> = serde_json::from_slice(
        &std::fs::read(root.join("tests/fixtures/reference_perms.json")).unwrap(),
    )
    .unwrap();
    let params = Params {
        k,
        permutations: Some(perms),
        ..Params::default()
    };
    let cls = classify(&ds, &params, &Monitor::new()).unwrap();
    let mut reference = csv::Reader::from_path(root.join("tests/fixtures").join(fixture)).unwrap();
    let mut rows = 0;
    let mut disagreements = Vec::new();
    for (i, rec) in reference.records().enumerate() {
        let rec = rec.unwrap();
        assert_eq!(&rec[0], ds.items[i].id, "row {i}");
        for (m, col) in [(Modality::Image, 1), (Modality::Text, 3)] {
            let r = cls.get(m).unwrap();
            let ours = [ds.class_name(r.baseline[i]), ds.class_name(r.pairwise[i])];
            for (j, label) in ours.into_iter().enumerate() {
                if label != &rec[col + j] {
                    disagreements.push(format!(
                        "{} col {}: {label} vs {}",
                        &rec[0],
                        col + j,
                        &rec[col + j]
                    ));
                }
            }
        }
        rows += 1;
    }
    assert_eq!(rows, ds.len());
    assert!(
        disagreements.is_empty(),
        "k = {k}: {} disagreements, first {:?}",
        disagreements.len(),
        &disagreements[..disagreements.len().min(5)]
    );
}

#[test]
fn agrees_with_the_numpy_reference_at_k_100() {
    check(100, "reference_sample_k100.csv");
}

#[test]
fn agrees_with_the_numpy_reference_at_k_20() {
    check(20, "reference_sample_k20.csv");
}
