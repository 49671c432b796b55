//! End to end: the built binary on the shipped sample catalogue, its output schemas, the
//! seed and `--perms`, and how it refuses bad input.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pairwise-audit");

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .output()
        .expect("the binary runs")
}

fn classify(out: &Path, extra: &[&str]) -> Output {
    let sample = sample();
    let mut args = vec![
        "classify",
        sample.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    run(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header = r.headers().unwrap().iter().map(String::from).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect();
    (header, rows)
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sample_ids() -> Vec<String> {
    read_csv(&sample().join("items.csv"))
        .1
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

fn sample_classes() -> Vec<String> {
    read_csv(&sample().join("classes.csv"))
        .1
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn classify_sample_writes_every_file_with_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    let o = classify(&out, &[]);
    assert!(o.status.success(), "exit {:?}: {}", o.status, stderr(&o));
    assert!(
        o.stderr.is_empty(),
        "--quiet leaves stderr empty: {}",
        stderr(&o)
    );
    let stdout = String::from_utf8(o.stdout).unwrap();
    for needle in [
        "weighted F1",
        "pairwise",
        "Against the annotation",
        "Timings",
        "load",
    ] {
        assert!(
            stdout.contains(needle),
            "summary lacks {needle:?}:\n{stdout}"
        );
    }

    let classes = sample_classes();
    let class_set: HashSet<&str> = classes.iter().map(String::as_str).collect();
    let ids = sample_ids();
    assert_eq!(ids.len(), 1870);

    // predictions.csv: one row per item, items.csv order, labels are class names.
    let (header, rows) = read_csv(&out.join("predictions.csv"));
    assert_eq!(
        header[..8],
        [
            "id",
            "annotation",
            "image_base",
            "image_pairwise",
            "text_base",
            "text_pairwise",
            "flags",
            "suspicion"
        ]
    );
    assert_eq!(rows.len(), 1870);
    let got_ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(got_ids, ids.iter().map(String::as_str).collect::<Vec<_>>());
    let known_flags = [
        "image_text_disagree",
        "agree_not_annotation",
        "image_not_annotation",
        "text_not_annotation",
    ];
    let flag_col = column(&header, "flag");
    let mut flagged_in_predictions = 0;
    for r in &rows {
        for c in 1..=5 {
            assert!(class_set.contains(r[c].as_str()), "row {r:?} column {c}");
        }
        for f in r[6].split(';').filter(|f| !f.is_empty()) {
            assert!(known_flags.contains(&f), "unknown flag {f}");
        }
        // Every sample item is annotated, so every item has a suspicion score.
        r[7].parse::<f64>().expect("suspicion is a number");
        flagged_in_predictions += usize::from(!r[flag_col].is_empty());
        // image ≠ text exactly when the flag says so.
        assert_eq!(r[3] != r[5], r[6].contains("image_text_disagree"), "{r:?}");
    }
    assert!(flagged_in_predictions > 0);

    // flagged.csv: the review queue, by suspicion descending, each more likely wrong than
    // right (the behaviour on known errors is `the_queue_finds_injected_errors…`).
    let (fh, frows) = read_csv(&out.join("flagged.csv"));
    let s = column(&fh, "suspicion");
    let p = column(&fh, "p_wrong");
    let scores: Vec<f64> = frows.iter().map(|r| r[s].parse().unwrap()).collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "flagged.csv is not sorted by suspicion"
    );
    assert!(frows.iter().all(|r| r[p].parse::<f64>().unwrap() >= 0.5));
    let idc = column(&fh, "id");
    let known_ids: HashSet<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert!(frows.iter().all(|r| known_ids.contains(r[idc].as_str())));

    // pairs.json: C(C−1)/2 records per modality, each with a ratio per dimension.
    let pairs = read_json(&out.join("pairs.json"));
    let c = classes.len();
    let d = pairs["dim"].as_u64().unwrap() as usize;
    assert_eq!(d, 384);
    let mods = pairs["modalities"].as_array().unwrap();
    assert_eq!(mods.len(), 2);
    for m in mods {
        let recs = m["pairs"].as_array().unwrap();
        assert_eq!(recs.len(), c * (c - 1) / 2);
        for rec in recs {
            assert_eq!(rec["ratios"].as_array().unwrap().len(), d);
            let dims = rec["dims"].as_array().unwrap().len();
            assert_eq!(rec["dim_ratios"].as_array().unwrap().len(), dims);
            assert!(dims == 100 || rec["fallback"] == true, "{}", rec["pair"]);
        }
    }

    // metrics.json: the table, flag counts, params, permutations, timings.
    let m = read_json(&out.join("metrics.json"));
    for key in [
        "tool",
        "dataset",
        "metrics",
        "flags",
        "scorer",
        "params",
        "modalities",
        "timings",
    ] {
        assert!(m.get(key).is_some(), "metrics.json lacks {key}");
    }
    let agreement = m["metrics"]["agreement"].as_array().unwrap();
    assert_eq!(agreement.len(), 2);
    for row in agreement {
        let f1 = row["scores"]["weighted_f1"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&f1));
    }
    assert_eq!(m["metrics"]["vs_annotation"].as_array().unwrap().len(), 4);
    assert_eq!(
        m["flags"]["flagged"].as_u64().unwrap() as usize,
        flagged_in_predictions
    );
    // The estimate: a count inside its interval, a C × C matrix, and the queue's size.
    let count = m["estimated_errors"].as_f64().unwrap();
    let interval = m["estimated_errors_interval"].as_array().unwrap();
    let (lo, hi) = (interval[0].as_f64().unwrap(), interval[1].as_f64().unwrap());
    assert!(
        lo <= count && count <= hi && hi <= 1870.0,
        "{count} in [{lo}, {hi}]"
    );
    let matrix = m["estimated_errors_matrix"].as_array().unwrap();
    assert_eq!(matrix.len(), c);
    assert!(matrix.iter().all(|r| r.as_array().unwrap().len() == c));
    assert_eq!(
        m["review_queue"]["items"].as_u64().unwrap() as usize,
        frows.len()
    );
    let perms = m["modalities"][0]["permutations"].as_array().unwrap();
    assert_eq!(perms.len(), 4, "⌈log₂ 9⌉ rounds");
    assert_eq!(perms[0].as_array().unwrap().len(), c);
    // Only the five result files are left behind: no temporary files.
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "duplicates.csv",
            "flagged.csv",
            "metrics.json",
            "pairs.json",
            "predictions.csv"
        ]
    );
}

/// sample_data with every `step`-th annotation moved to another class picked at random (a
/// fixed LCG): (folder, flipped ids).
fn sample_with_flips(step: usize) -> (tempfile::TempDir, HashSet<String>) {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "classes.csv",
        "image_embeddings.npy",
        "text_embeddings.npy",
        "class_embeddings.npy",
    ] {
        std::fs::copy(sample().join(f), dir.path().join(f)).unwrap();
    }
    let classes = sample_classes();
    let mut reader = csv::Reader::from_path(sample().join("items.csv")).unwrap();
    let header = reader.headers().unwrap().clone();
    let label = header.iter().position(|h| h == "label").unwrap();
    let mut writer = csv::Writer::from_path(dir.path().join("items.csv")).unwrap();
    writer.write_record(&header).unwrap();
    let mut flipped = HashSet::new();
    let mut state: u64 = 7;
    for (i, rec) in reader.records().enumerate() {
        let mut rec: Vec<String> = rec.unwrap().iter().map(String::from).collect();
        // No images in the copy: the column would point nowhere.
        if let Some(img) = header.iter().position(|h| h == "image") {
            rec[img].clear();
        }
        if i % step == 0 {
            let k = classes.iter().position(|c| *c == rec[label]).unwrap();
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let shift = 1 + (state >> 33) as usize % (classes.len() - 1);
            rec[label] = classes[(k + shift) % classes.len()].clone();
            flipped.insert(rec[0].clone());
        }
        writer.write_record(&rec).unwrap();
    }
    writer.flush().unwrap();
    (dir, flipped)
}

#[test]
fn the_queue_finds_injected_errors_and_the_estimate_counts_them() {
    let (data, flipped) = sample_with_flips(10);
    let out = tempfile::tempdir().unwrap();
    let o = run(&[
        "classify",
        data.path().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--quiet",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let m = read_json(&out.path().join("metrics.json"));
    let count = m["estimated_errors"].as_f64().unwrap();
    let truth = flipped.len() as f64;
    assert!(
        (count - truth).abs() <= 0.25 * truth,
        "{truth} flipped, estimated {count}"
    );
    let (fh, frows) = read_csv(&out.path().join("flagged.csv"));
    let idc = column(&fh, "id");
    let hits = frows.iter().filter(|r| flipped.contains(&r[idc])).count();
    let (precision, recall) = (hits as f64 / frows.len() as f64, hits as f64 / truth);
    let f1 = 2.0 * precision * recall / (precision + recall);
    assert!(
        f1 >= 0.75,
        "queue of {}: precision {precision:.3}, recall {recall:.3}",
        frows.len()
    );
    // Look-alikes: every pair found holds a flipped item (measured: all at the 0.90 cut).
    let (dh, drows) = read_csv(&out.path().join("duplicates.csv"));
    assert!(!drows.is_empty());
    let (a, b) = (column(&dh, "id_a"), column(&dh, "id_b"));
    assert!(
        drows
            .iter()
            .all(|r| flipped.contains(&r[a]) || flipped.contains(&r[b])),
        "{drows:?}"
    );
    assert_eq!(m["look_alikes"].as_u64().unwrap() as usize, drows.len());
    // The expected precision the tool states is near what it achieved.
    let expected = m["review_queue"]["expected_precision"].as_f64().unwrap();
    assert!(
        (expected - precision).abs() < 0.15,
        "expected {expected}, measured {precision}"
    );
}

fn permutations(out: &Path) -> Value {
    read_json(&out.join("metrics.json"))["modalities"][0]["permutations"].clone()
}

#[test]
fn the_seed_reproduces_and_perms_are_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    // The cheapest scorer: these runs are about the tournament, not the ranking.
    let fast = ["--scorer", "head-to-head"];
    assert!(
        classify(&a, &["--seed", "7", fast[0], fast[1]])
            .status
            .success()
    );
    assert!(
        classify(&b, &["--seed", "7", fast[0], fast[1]])
            .status
            .success()
    );
    let pred = |p: &Path| std::fs::read_to_string(p.join("predictions.csv")).unwrap();
    // (assert! rather than assert_eq!: a failure should not print two whole files)
    assert!(pred(&a) == pred(&b), "same seed, different predictions");

    // Replaying seed 7's permutations under another seed reproduces seed 7 exactly.
    let drawn = permutations(&a);
    let perms_file = dir.path().join("perms.json");
    std::fs::write(&perms_file, drawn.to_string()).unwrap();
    let o = classify(
        &c,
        &[
            "--seed",
            "12345",
            "--perms",
            perms_file.to_str().unwrap(),
            fast[0],
            fast[1],
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(permutations(&c), drawn);
    assert!(
        pred(&a) == pred(&c),
        "replayed permutations, different predictions"
    );

    // And a hand-written bracket is used as given.
    let d = dir.path().join("d");
    let mine = "[[8,7,6,5,4,3,2,1,0],[4,3,2,1,0],[2,1,0],[1,0]]";
    std::fs::write(&perms_file, mine).unwrap();
    let o = classify(
        &d,
        &["--perms", perms_file.to_str().unwrap(), fast[0], fast[1]],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        permutations(&d),
        serde_json::from_str::<Value>(mine).unwrap()
    );
}

/// Exit status 2 and a single `error: …` sentence mentioning `needle`.
fn assert_bad_input(o: &Output, needle: &str) {
    let err = stderr(o);
    assert_eq!(o.status.code(), Some(2), "stderr: {err}");
    assert!(err.contains(needle), "{needle:?} not in {err:?}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_exits_2_with_one_sentence() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let out_s = out.to_str().unwrap();

    // A dataset folder that does not exist.
    let missing = dir.path().join("no-such-dataset");
    let o = run(&["classify", missing.to_str().unwrap(), "--out", out_s, "-q"]);
    assert_bad_input(&o, "no-such-dataset");
    let err = stderr(&o);
    assert!(
        err.starts_with("error: ") && err.trim_end().lines().count() == 1,
        "{err}"
    );

    // --perms that is not JSON, that is JSON of the wrong shape, and that has a wrong round.
    let perms = dir.path().join("perms.json");
    let p = perms.to_str().unwrap();
    std::fs::write(&perms, "[[0,1,2],").unwrap();
    assert_bad_input(&classify(&out, &["--perms", p]), "perms.json");
    std::fs::write(&perms, r#"{"round": 1}"#).unwrap();
    assert_bad_input(
        &classify(&out, &["--perms", p]),
        "one permutation per round",
    );
    std::fs::write(&perms, "[[0,1,2],[1,0]]").unwrap();
    assert_bad_input(&classify(&out, &["--perms", p]), "perms.json");
    let missing_perms = dir.path().join("absent.json");
    assert_bad_input(
        &classify(&out, &["--perms", missing_perms.to_str().unwrap()]),
        "absent.json",
    );

    // A params file that is not RON.
    let params = dir.path().join("params.ron");
    std::fs::write(&params, "(k: \"many\")").unwrap();
    assert_bad_input(
        &classify(&out, &["--params", params.to_str().unwrap()]),
        "params.ron",
    );

    // Values that parse but mean nothing, from a flag or from the params file.
    assert_bad_input(&classify(&out, &["--k", "0"]), "at least 1");
    assert_bad_input(&classify(&out, &["--floor", "nan"]), "finite");
    std::fs::write(&params, "(margin_percentile: 250.0)").unwrap();
    assert_bad_input(
        &classify(&out, &["--params", params.to_str().unwrap()]),
        "margin_percentile",
    );

    // Arguments clap refuses.
    assert_bad_input(&classify(&out, &["--modalities", "audio"]), "audio");
    assert_bad_input(&classify(&out, &["--k", "many"]), "--k");
    assert_bad_input(&run(&["classify"]), "--out");

    // Nothing was written for any of these.
    assert!(!out.exists());
}

#[test]
fn an_output_that_cannot_be_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    // Naming a file as the output folder is caught before any work: bad input.
    assert_bad_input(&classify(&file, &[]), "a-file is a file, not a folder");
    // A folder that cannot be created is only found when writing: an internal error.
    let o = classify(&file.join("results"), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("a-file/results"), "{}", stderr(&o));
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
}

#[test]
fn params_file_and_flags_combine_and_one_modality_leaves_columns_empty() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let params = dir.path().join("p.ron");
    std::fs::write(&params, "(k: 12, seed: 5, min_items: 3)").unwrap();
    let o = classify(
        &out,
        &[
            "--params",
            params.to_str().unwrap(),
            "--seed",
            "6",
            "--modalities",
            "text",
            "--scorer",
            "head-to-head",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let m = read_json(&out.join("metrics.json"));
    // The file's k and min_items, the flag's seed.
    assert_eq!(m["params"]["k"], 12);
    assert_eq!(m["params"]["min_items"], 3);
    assert_eq!(m["params"]["seed"], 6);
    assert_eq!(m["params"]["modalities"], serde_json::json!(["text"]));
    assert_eq!(m["scorer"]["name"], "head-to-head");
    // No image run: no agreement table, image columns empty, two text sources scored.
    assert_eq!(m["metrics"]["agreement"].as_array().unwrap().len(), 0);
    assert_eq!(m["metrics"]["vs_annotation"].as_array().unwrap().len(), 2);
    let (header, rows) = read_csv(&out.join("predictions.csv"));
    let (ib, tp) = (
        column(&header, "image_base"),
        column(&header, "text_pairwise"),
    );
    assert!(rows.iter().all(|r| r[ib].is_empty() && !r[tp].is_empty()));
    let pairs = read_json(&out.join("pairs.json"));
    let mods = pairs["modalities"].as_array().unwrap();
    assert_eq!(mods.len(), 1);
    assert_eq!(mods[0]["modality"], "text");
    assert!(
        mods[0]["pairs"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["dims"].as_array().unwrap().len() == 12 || p["fallback"] == true)
    );
}

/// Without the app, the bare command explains `classify` (with it, it would open a window).
#[cfg(not(feature = "gui"))]
#[test]
fn without_the_app_the_bare_command_prints_classify_usage() {
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("Usage: pairwise-audit classify"), "{err}");
    assert!(err.contains("--out"), "{err}");
}

#[test]
fn with_many_classes_pairs_json_holds_the_played_pairs_and_all_ratios_on_request() {
    // 100 classes × 512 dims is past the up-front limit (C²·d > 2²²): pairs are computed as
    // the tournament plays them.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("many");
    let o = run(&[
        "synth",
        "--n",
        "1500",
        "--d",
        "512",
        "--classes",
        "100",
        "--zipf",
        "1",
        "--out",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let pairs_of = |extra: &[&str]| {
        let out = dir.path().join(format!("out{}", extra.len()));
        let mut args = vec![
            "classify",
            data.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--scorer",
            "prototype",
        ];
        args.extend_from_slice(extra);
        let o = run(&args);
        assert!(o.status.success(), "{}", stderr(&o));
        read_json(&out.join("pairs.json"))
    };
    let lean = pairs_of(&[]);
    let full = pairs_of(&["--all-ratios"]);
    for (l, f) in lean["modalities"]
        .as_array()
        .unwrap()
        .iter()
        .zip(full["modalities"].as_array().unwrap())
    {
        let (l, f) = (
            l["pairs"].as_array().unwrap(),
            f["pairs"].as_array().unwrap(),
        );
        assert!(!l.is_empty() && l.len() < 100 * 99 / 2, "{} pairs", l.len());
        assert_eq!(l.len(), f.len(), "the same pairs were played");
        for (a, b) in l.iter().zip(f) {
            assert_eq!(a["pair"], b["pair"]);
            assert_eq!(a["dims"], b["dims"]);
            assert!(a.get("ratios").is_none() && a.get("dim_ratios").is_none());
            assert_eq!(b["ratios"].as_array().unwrap().len(), 512);
            let dims = b["dims"].as_array().unwrap().len();
            assert_eq!(b["dim_ratios"].as_array().unwrap().len(), dims);
        }
    }
}
