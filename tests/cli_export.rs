//! `pairwise-audit export` end to end: decisions in the log come out as corrections.

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use pairwise_audit::review::{Action, Decision, LabelSource, LogWriter, Step, default_log_path};

/// `pairwise-audit export DATASET --out OUT [extra…]`.
fn export(dataset: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pairwise-audit"))
        .arg("export")
        .args(extra)
        .arg(dataset)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

fn dataset_with_log() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for f in ["items.csv", "classes.csv"] {
        std::fs::copy(sample.join(f), dir.path().join(f)).unwrap();
    }
    let bytes = std::fs::read(dir.path().join("items.csv")).unwrap();
    let fp = pairwise_audit::dataset::fingerprint(&bytes);
    let (mut w, _) = LogWriter::open(&default_log_path(dir.path()), &fp).unwrap();
    let decision = |id: &str, action| Decision {
        id: id.into(),
        action,
        time: 1_764_201_600,
    };
    // U+1f600 is a smiley; U+1f6d1 (stop sign) is filed under travel_places.
    w.record_step(&Step {
        decisions: vec![
            decision(
                "U+1f6d1",
                Action::Relabel {
                    label: "symbols".into(),
                    source: LabelSource::Text,
                },
            ),
            decision("U+1f600", Action::Accept),
        ],
    });
    assert!(w.wait_durable(Duration::from_secs(5)));
    dir
}

#[test]
fn export_writes_the_logged_corrections() {
    let ds = dataset_with_log();
    let out = ds.path().join("corrections.csv");
    let o = export(ds.path(), &out, &[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "id,old_label,new_label,decision,source,timestamp");
    assert_eq!(
        lines[1],
        "U+1f6d1,travel_places,symbols,relabel,text,2025-11-27T00:00:00Z"
    );
    assert_eq!(lines.len(), 2, "an accepted annotation is not a correction");
}

#[test]
fn export_all_items_copies_items_csv_with_the_new_label() {
    let ds = dataset_with_log();
    let out = ds.path().join("corrected.json");
    let o = export(ds.path(), &out, &["--all-items"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 1870);
    let stop = rows.iter().find(|r| r["id"] == "U+1f6d1").unwrap();
    assert_eq!(stop["label"], "symbols");
    let mut original = csv::Reader::from_path(ds.path().join("items.csv")).unwrap();
    let changed = original
        .records()
        .zip(rows)
        .filter(|(rec, row)| row["label"] != rec.as_ref().unwrap()[3])
        .count();
    assert_eq!(
        changed, 1,
        "only the relabelled item differs from items.csv"
    );
}

#[test]
fn export_without_a_log_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("items.csv"), "id,description,image,label\n").unwrap();
    let o = export(dir.path(), Path::new("x.csv"), &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("no decision log"), "{err}");
}

#[test]
fn export_refuses_to_overwrite_items_csv() {
    let ds = dataset_with_log();
    let items = ds.path().join("items.csv");
    let before = std::fs::read(&items).unwrap();
    let o = export(ds.path(), &items, &["--all-items"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(std::fs::read(&items).unwrap(), before);
}
