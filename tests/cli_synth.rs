//! `synth` writes a catalogue that `classify` reads, with truth to check against.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_pairwise-audit");

#[test]
fn synth_then_classify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("synth");
    let out = dir.path().join("out");
    let o = Command::new(BIN)
        .args([
            "synth",
            "--n",
            "1500",
            "--d",
            "64",
            "--classes",
            "5",
            "--flip",
            "0.1",
        ])
        .args(["--seed", "3", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for f in [
        "items.csv",
        "classes.csv",
        "class_embeddings.npy",
        "truth.csv",
    ] {
        assert!(data.join(f).exists(), "synth wrote no {f}");
    }

    let o = Command::new(BIN)
        .args(["classify", "--quiet", "--k", "16", "--out"])
        .arg(&out)
        .arg(&data)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let rows = csv::Reader::from_path(out.join("predictions.csv"))
        .unwrap()
        .records()
        .count();
    assert_eq!(rows, 1500);
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("metrics.json")).unwrap()).unwrap();
    assert_eq!(m["dataset"]["classes"].as_array().unwrap().len(), 5);
    assert_eq!(m["params"]["k"], 16);
    assert!(Path::new(&out.join("flagged.csv")).exists());
}

#[test]
fn synth_refuses_nonsense_sizes() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, value, needle) in [
        ("--classes", "1", "--classes"),
        ("--flip", "1.5", "--flip"),
        ("--n", "0", "--n"),
        ("--zipf=-1", "", "--zipf"),
    ] {
        let args: Vec<&str> = ["synth", flag, value, "--out"]
            .into_iter()
            .filter(|a| !a.is_empty())
            .collect();
        let o = Command::new(BIN)
            .args(args)
            .arg(dir.path().join("s"))
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {err}");
        assert!(err.contains(needle), "{err}");
    }
}
