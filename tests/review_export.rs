//! Export round trip: what is exported is exactly what was decided.

use std::path::Path;

use pairwise_audit::review::export::{ExportFormat, export};
use pairwise_audit::review::{Action, Decision, History, LabelSource, Step};

fn write_items(dir: &Path) {
    std::fs::write(
        dir.join("items.csv"),
        "\u{feff}id,description,image,label,sku\n\
         a,\"red, round\",,fruit,1\n\
         b,\"two\nlines\",,fruit,2\n\
         c,plain,,veg,3\n\
         d,plain,,,4\n",
    )
    .unwrap();
}

fn decide(h: &mut History, id: &str, action: Action) {
    h.push(Step {
        decisions: vec![Decision {
            id: id.into(),
            action,
            time: 1_764_201_600,
        }],
    });
}

fn history() -> History {
    let mut h = History::new();
    let relabel = |label: &str, source| Action::Relabel {
        label: label.into(),
        source,
    };
    decide(&mut h, "a", relabel("veg", LabelSource::Text));
    decide(&mut h, "b", Action::Accept);
    decide(&mut h, "c", relabel("veg", LabelSource::Image)); // same as before: no change
    decide(&mut h, "d", relabel("fruit", LabelSource::Manual));
    h
}

#[test]
fn corrections_csv_has_exactly_the_changed_labels() {
    let dir = tempfile::tempdir().unwrap();
    write_items(dir.path());
    let out = dir.path().join("corrections.csv");
    let n = export(dir.path(), &history(), &out, ExportFormat::Csv, false).unwrap();
    assert_eq!(n, 2);
    let mut r = csv::Reader::from_path(&out).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec![
            "id",
            "old_label",
            "new_label",
            "decision",
            "source",
            "timestamp"
        ]
    );
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    assert_eq!(
        rows,
        vec![
            vec![
                "a",
                "fruit",
                "veg",
                "relabel",
                "text",
                "2025-11-27T00:00:00Z"
            ],
            vec![
                "d",
                "",
                "fruit",
                "relabel",
                "manual",
                "2025-11-27T00:00:00Z"
            ],
        ]
    );
}

#[test]
fn corrections_json_reads_back_to_the_decisions() {
    let dir = tempfile::tempdir().unwrap();
    write_items(dir.path());
    let out = dir.path().join("corrections.json");
    export(dir.path(), &history(), &out, ExportFormat::Json, false).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["a", "d"]);
    assert_eq!(v[0]["new_label"], "veg");
}

#[test]
fn all_items_export_keeps_every_column_and_quoting() {
    let dir = tempfile::tempdir().unwrap();
    write_items(dir.path());
    let out = dir.path().join("corrected_items.csv");
    let n = export(dir.path(), &history(), &out, ExportFormat::Csv, true).unwrap();
    assert_eq!(n, 4);
    let mut r = csv::Reader::from_path(&out).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec!["id", "description", "image", "label", "sku"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    let labels: Vec<&str> = rows.iter().map(|r| &r[3]).collect();
    assert_eq!(labels, ["veg", "fruit", "veg", "fruit"]);
    assert_eq!(&rows[0][1], "red, round");
    assert_eq!(&rows[1][1], "two\nlines");
    assert_eq!(&rows[3][4], "4");
}

#[test]
fn export_never_overwrites_an_input_file() {
    let dir = tempfile::tempdir().unwrap();
    write_items(dir.path());
    let before = std::fs::read(dir.path().join("items.csv")).unwrap();
    let err = export(
        dir.path(),
        &history(),
        &dir.path().join("items.csv"),
        ExportFormat::Csv,
        true,
    )
    .unwrap_err();
    assert!(err.to_string().contains("input file"), "{err}");
    assert_eq!(std::fs::read(dir.path().join("items.csv")).unwrap(), before);
}
