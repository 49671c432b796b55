//! `classify --one-vs-rest` / `--keep` through the binary: the per-item file, the binary table
//! in metrics.json, the carved-out catalogue, and the errors.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pairwise-audit");

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn classify(dataset: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "classify",
        dataset.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    Command::new(BIN).args(&args).output().unwrap()
}

fn rows(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn col(header: &[String], name: &str) -> usize {
    header.iter().position(|h| h == name).unwrap()
}

#[test]
fn keep_carves_out_the_items_both_views_send_to_the_class() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = classify(&sample(), &out, &["--keep", "flags"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains("One vs rest: `flags`"), "{stdout}");

    // Per item: kept = 1 exactly when both views' sub-dimension scores favour the class.
    let (h, items) = rows(&out.join("one_vs_rest.csv"));
    assert_eq!(items.len(), 1870);
    let num = |r: &[String], c: &str| r[col(&h, c)].parse::<f64>().unwrap();
    let mut kept_ids = Vec::new();
    for r in &items {
        let both = num(r, "image_sub_class") >= num(r, "image_sub_rest")
            && num(r, "text_sub_class") >= num(r, "text_sub_rest");
        assert_eq!(r[col(&h, "kept")] == "1", both, "{}", r[0]);
        let decides = |m: &str| {
            let says = num(r, &format!("{m}_sub_class")) >= num(r, &format!("{m}_sub_rest"));
            assert_eq!(
                r[col(&h, &format!("{m}_sub_decision"))],
                if says { "class" } else { "rest" }
            );
            says
        };
        let agree = decides("image") == decides("text");
        assert_eq!(r[col(&h, "agree_sub")], if agree { "1" } else { "0" });
        if both {
            kept_ids.push(r[0].clone());
        }
    }
    assert!(!kept_ids.is_empty() && kept_ids.len() < 1870);

    // The binary table agrees with the file.
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    let t = &m["one_vs_rest"];
    assert_eq!(t["class"], "flags");
    assert_eq!(t["kept"].as_u64().unwrap() as usize, kept_ids.len());
    let sub = &t["rows"][1];
    assert_eq!(sub["stage"], "sub-dimensions");
    let says_image = items
        .iter()
        .filter(|r| num(r, "image_sub_class") >= num(r, "image_sub_rest"))
        .count();
    assert_eq!(
        sub["image_says_class"].as_u64().unwrap() as usize,
        says_image
    );
    for row in t["rows"].as_array().unwrap() {
        let f1 = row["text_vs_image_weighted_f1"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&f1));
    }

    // The carved-out catalogue is exactly those items, and classifies on its own.
    let (kh, kept) = rows(&out.join("kept/items.csv"));
    let ids: Vec<String> = kept.iter().map(|r| r[col(&kh, "id")].clone()).collect();
    assert_eq!(ids, kept_ids);
    let image = &kept[0][col(&kh, "image")];
    assert!(
        Path::new(image).is_absolute() && Path::new(image).exists(),
        "{image}"
    );
    let again = classify(&out.join("kept"), &dir.path().join("again"), &[]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let (_, preds) = rows(&dir.path().join("again/predictions.csv"));
    assert_eq!(preds.len(), kept_ids.len());
}

#[test]
fn a_run_without_the_step_removes_an_earlier_runs_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let o = classify(
        &sample(),
        &out,
        &["--one-vs-rest", "animals_nature", "--rest", "objects"],
    );
    assert!(o.status.success());
    let m: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["one_vs_rest"]["rest"], "objects");
    assert!(out.join("one_vs_rest.csv").exists());
    assert!(
        !out.join("kept").exists(),
        "--one-vs-rest alone writes no subset"
    );
    assert!(classify(&sample(), &out, &[]).status.success());
    assert!(!out.join("one_vs_rest.csv").exists());
}

#[test]
fn unknown_classes_and_flags_out_of_place_are_one_sentence_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    for (args, needle) in [
        (
            &["--one-vs-rest", "clothing"][..],
            "`clothing` is not a class of the catalogue; its classes are smileys_emotion",
        ),
        (
            &["--one-vs-rest", "flags", "--rest", "flags"][..],
            "is the one-vs-rest class itself",
        ),
        (&["--rest", "flags"][..], "--rest needs --one-vs-rest"),
        (
            &["--one-vs-rest", "flags", "--keep", "objects"][..],
            "name different classes",
        ),
    ] {
        let o = classify(&sample(), &out, args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}
