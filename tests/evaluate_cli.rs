//! `pairwise-audit evaluate` end to end on the shipped sample catalogue.

use std::path::{Path, PathBuf};
use std::process::Command;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_pairwise-audit"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

/// The mean AUROC and P@k columns of a scorer's row.
fn row(stdout: &str, scorer: &str) -> (f64, f64) {
    let line = stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(scorer))
        .unwrap_or_else(|| panic!("no row for {scorer} in\n{stdout}"));
    let cols: Vec<&str> = line.split_whitespace().collect();
    let mean = |s: &str| s.split('±').next().unwrap().parse::<f64>().unwrap();
    (mean(cols[1]), mean(cols[3]))
}

#[test]
fn injected_flips_on_the_sample_rank_combined_above_zero_shot() {
    let out = bin()
        .args(["evaluate"])
        .arg(sample())
        .args([
            "--seeds",
            "2",
            "--scorer",
            "zero-shot,prototype,combined",
            "--quiet",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1870 items, 9 classes, image+text; 10% uniform flips (187 per run)"),
        "{stdout}"
    );
    let (zs_auc, zs_p) = row(&stdout, "zero-shot");
    let (pr_auc, _) = row(&stdout, "prototype");
    let (co_auc, co_p) = row(&stdout, "combined");
    assert!(
        co_auc >= 0.98 && co_auc > pr_auc && pr_auc > zs_auc + 0.05,
        "{stdout}"
    );
    assert!(co_p >= 0.8 && co_p > zs_p + 0.2, "{stdout}");
}

#[test]
fn a_catalogue_with_truth_csv_is_measured_against_it() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "classes.csv",
        "class_embeddings.npy",
        "image_embeddings.npy",
        "text_embeddings.npy",
    ] {
        std::fs::copy(sample().join(f), dir.path().join(f)).unwrap();
    }
    // Relabel every 20th item to the next class; truth.csv keeps the originals.
    let classes: Vec<String> = csv::Reader::from_path(sample().join("classes.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let mut rdr = csv::Reader::from_path(sample().join("items.csv")).unwrap();
    let mut items = csv::Writer::from_path(dir.path().join("items.csv")).unwrap();
    let mut truth = csv::Writer::from_path(dir.path().join("truth.csv")).unwrap();
    items
        .write_record(["id", "description", "image", "label"])
        .unwrap();
    truth.write_record(["id", "label"]).unwrap();
    let mut wrong = 0;
    for (i, r) in rdr.records().enumerate() {
        let r = r.unwrap();
        let label = &r[3];
        let c = classes.iter().position(|n| n == label).unwrap();
        let given: &str = if i % 20 == 0 {
            wrong += 1;
            classes[(c + 1) % classes.len()].as_str()
        } else {
            label
        };
        items.write_record([&r[0], &r[1], "", given]).unwrap();
        truth.write_record([&r[0], label]).unwrap();
    }
    items.flush().unwrap();
    truth.flush().unwrap();
    let out = bin()
        .arg("evaluate")
        .arg(dir.path())
        .args(["--scorer", "prototype", "--quiet"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("annotations vs truth.csv ({wrong} wrong)")),
        "{stdout}"
    );
    let (auc, _) = row(&stdout, "prototype");
    assert!(auc > 0.9, "{stdout}");
}

#[test]
fn bad_arguments_get_one_sentence_and_status_2() {
    let out = bin()
        .arg("evaluate")
        .arg(sample())
        .args(["--flip", "1.5"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the flip fraction must lie between 0 and 1, found 1.5"),
        "{err}"
    );

    let out = bin()
        .arg("evaluate")
        .arg(sample())
        .args(["--scorer", "magic"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown scorer `magic`; available: combined, head-to-head"),
        "{err}"
    );

    let out = bin()
        .arg("evaluate")
        .arg(sample())
        .arg("--truth")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no truth.csv"));
}
