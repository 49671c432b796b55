//! End to end: a folder with only items.csv, classes.csv and images goes through `embed` with
//! the tiny checkpoint and then through `classify`; a re-run embeds only what changed;
//! unreadable images become missing image views; bad models are refused with one sentence.
#![cfg(feature = "embed")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use pairwise_audit::embed::{EmbedOptions, Model, ModelFiles, Part, embed_catalogue};
use pairwise_audit::{Dataset, Modality, Monitor};

const BIN: &str = env!("CARGO_BIN_EXE_pairwise-audit");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tiny_model() -> PathBuf {
    root().join("tests/fixtures/clip_tiny")
}

/// A fresh copy of the image-and-text catalogue (no embeddings yet).
fn catalogue() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("tests/fixtures/embed_catalogue");
    for f in ["items.csv", "classes.csv"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::create_dir(dir.path().join("images")).unwrap();
    for e in std::fs::read_dir(src.join("images")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join("images").join(e.file_name())).unwrap();
    }
    dir
}

fn embed(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "embed",
        dir.to_str().unwrap(),
        "--model",
        tiny_model().to_str().unwrap().to_string().leak(),
        "--quiet",
    ];
    args.extend_from_slice(extra);
    Command::new(BIN).args(&args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The "N computed, M from the cache" counts of one line of the summary.
fn counts(out: &str, name: &str) -> (usize, usize) {
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with(name))
        .unwrap_or_else(|| panic!("no `{name}` line in {out}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .take(2)
        .map(|s| s.parse().unwrap())
        .collect();
    (nums[0], nums[1])
}

#[test]
fn embed_then_classify_and_a_rerun_embeds_only_what_changed() {
    let dir = catalogue();
    let o = embed(dir.path(), &["--batch", "3"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    // 4 readable images; broken.png and a missing file are unreadable; i7 has no image.
    assert_eq!(counts(&out, "images"), (4, 0), "{out}");
    assert!(out.contains("2 unreadable, 1 without an image"), "{out}");
    assert_eq!(counts(&out, "texts"), (7, 0));
    // Each class prompt is also some item's description: the text cache already holds it.
    assert_eq!(counts(&out, "classes"), (0, 3));

    let ds = Dataset::load(dir.path()).unwrap();
    assert_eq!(ds.dim(), 24);
    let ids: Vec<&str> = (0..ds.len())
        .filter(|&i| !ds.views.has(Modality::Image, i))
        .map(|i| ds.items[i].id.as_str())
        .collect();
    assert_eq!(ids, ["i5", "i6", "i7"]);
    // Row i1's description is the reference's first text: the written file holds its embedding.
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(tiny_model().join("expected.json")).unwrap())
            .unwrap();
    let text = ds.text_embeddings.as_ref().unwrap();
    for (j, want) in expected["text"][0].as_array().unwrap().iter().enumerate() {
        assert!((text[[0, j]] as f64 - want.as_f64().unwrap()).abs() < 1e-4);
    }
    // Class "cat"'s prompt is the same text, so it has the same embedding.
    assert_eq!(ds.class_embeddings.row(0), text.row(0));

    let results = dir.path().join("results");
    let c = Command::new(BIN)
        .args([
            "classify",
            dir.path().to_str().unwrap(),
            "--out",
            results.to_str().unwrap(),
            "--quiet",
        ])
        .output()
        .unwrap();
    assert!(c.status.success(), "{}", stderr(&c));
    let predictions = std::fs::read_to_string(results.join("predictions.csv")).unwrap();
    assert_eq!(predictions.lines().count(), 1 + 7);

    // Nothing changed: everything comes from the cache.
    let again = stdout(&embed(dir.path(), &[]));
    assert_eq!(counts(&again, "images"), (0, 4), "{again}");
    assert_eq!(counts(&again, "texts"), (0, 7));
    assert_eq!(counts(&again, "classes"), (0, 3));

    // One description edited and one item added (its image a copy of another, so already
    // known by content): two texts and no image go through the model.
    let items = std::fs::read_to_string(dir.path().join("items.csv")).unwrap();
    let items =
        items.replace("a red shirt", "a crimson shirt") + "i8,a striped dress,images/copy.png,\n";
    std::fs::write(dir.path().join("items.csv"), items).unwrap();
    std::fs::copy(
        dir.path().join("images/tall.png"),
        dir.path().join("images/copy.png"),
    )
    .unwrap();
    let changed = stdout(&embed(dir.path(), &[]));
    assert_eq!(counts(&changed, "images"), (0, 5), "{changed}");
    assert_eq!(counts(&changed, "texts"), (2, 6));
    assert_eq!(Dataset::load(dir.path()).unwrap().len(), 8);
}

#[test]
fn a_cancelled_run_writes_nothing_and_keeps_its_cache() {
    let dir = catalogue();
    let model = Model::load(
        ModelFiles::local(&tiny_model()).unwrap(),
        &candle_core::Device::Cpu,
    )
    .unwrap();
    let text_only = EmbedOptions {
        parts: vec![Part::Text],
        batch: 2,
    };
    // The text pass completes; the class pass is cancelled before it starts a batch.
    embed_catalogue(dir.path(), &model, &text_only, &Monitor::new()).unwrap();
    let stopped = Monitor::new();
    stopped.cancel();
    let err = embed_catalogue(dir.path(), &model, &EmbedOptions::default(), &stopped).unwrap_err();
    assert!(matches!(
        err,
        pairwise_audit::embed::EmbedError::Cancelled(_)
    ));
    assert!(!dir.path().join("image_embeddings.npy").exists());
    assert!(!dir.path().join("class_embeddings.npy").exists());
    // The resumed run takes the texts from the cache.
    let report = embed_catalogue(
        dir.path(),
        &model,
        &EmbedOptions::default(),
        &Monitor::new(),
    )
    .unwrap();
    assert_eq!((report.text.computed, report.text.cached), (0, 7));
    assert_eq!(report.image.computed, 4);
}

#[test]
fn bad_models_are_refused_with_one_sentence() {
    let dir = catalogue();
    let o = Command::new(BIN)
        .args([
            "embed",
            dir.path().to_str().unwrap(),
            "--model",
            "/no/such/model",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("is neither a model folder"),
        "{}",
        stderr(&o)
    );

    let broken = tempfile::tempdir().unwrap();
    for f in [
        "config.json",
        "model.safetensors",
        "preprocessor_config.json",
    ] {
        std::fs::copy(tiny_model().join(f), broken.path().join(f)).unwrap();
    }
    let o = Command::new(BIN)
        .args([
            "embed",
            dir.path().to_str().unwrap(),
            "--model",
            broken.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("no tokenizer.json") && e.lines().count() == 1,
        "{e}"
    );

    // A checkpoint trained with another activation would run and be wrong: refused.
    std::fs::copy(
        tiny_model().join("tokenizer.json"),
        broken.path().join("tokenizer.json"),
    )
    .unwrap();
    let config = std::fs::read_to_string(tiny_model().join("config.json")).unwrap();
    std::fs::write(
        broken.path().join("config.json"),
        config.replacen("quick_gelu", "gelu", 1),
    )
    .unwrap();
    let o = Command::new(BIN)
        .args([
            "embed",
            dir.path().to_str().unwrap(),
            "--model",
            broken.path().to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("hidden_act is `gelu`"),
        "{}",
        stderr(&o)
    );

    let o = embed(dir.path(), &["--device", "cuda"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("without the `cuda` feature"),
        "{}",
        stderr(&o)
    );
}

/// Ctrl-C (SIGINT) mid-run: the command stops with one sentence, writes no `.npy`, and the
/// next run takes what was computed from the cache.
#[cfg(target_os = "linux")]
#[test]
fn ctrl_c_stops_cleanly_and_the_rerun_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("tests/fixtures/embed_catalogue");
    std::fs::copy(src.join("classes.csv"), dir.path().join("classes.csv")).unwrap();
    // Many distinct texts, one per forward pass, so the run is still going when interrupted.
    let mut items = String::from("id,description,image,label\n");
    for i in 0..20_000 {
        items.push_str(&format!("t{i},a photo number {i},,\n"));
    }
    std::fs::write(dir.path().join("items.csv"), items).unwrap();
    let child = Command::new(BIN)
        .args(["embed", dir.path().to_str().unwrap(), "--model"])
        .arg(tiny_model())
        .args(["--modalities", "text", "--batch", "1", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let cache = dir.path().join(".pairwise-audit/embed-cache");
    // Interrupt once the first batches are on disk.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !cache.exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(300));
    // SAFETY: kill() only sends a signal to the child this test started.
    unsafe {
        libc::kill(child.id() as libc::pid_t, libc::SIGINT);
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("stopped by Ctrl-C"),
        "{}",
        stderr(&out)
    );
    assert!(!dir.path().join("text_embeddings.npy").exists());

    // The re-run (only the first 50 items, to keep it short) finds earlier work in the cache.
    let items = std::fs::read_to_string(dir.path().join("items.csv")).unwrap();
    let head: String = items.lines().take(51).map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.path().join("items.csv"), head).unwrap();
    let again = embed(dir.path(), &["--modalities", "text"]);
    assert!(again.status.success(), "{}", stderr(&again));
    let (computed, cached) = counts(&stdout(&again), "texts");
    assert_eq!(computed + cached, 50);
    assert!(cached > 0, "nothing was kept from the interrupted run");
}
