//! The decision log keeps every acknowledged decision across crashes, kills and reopenings.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

use pairwise_audit::review::{
    Action, Decision, LabelSource, LogWriter, ReviewStatus, Step, read_log,
};

fn relabel(id: &str, to: &str) -> Step {
    Step {
        decisions: vec![Decision {
            id: id.into(),
            action: Action::Relabel {
                label: to.into(),
                source: LabelSource::Image,
            },
            time: 1_700_000_000,
        }],
    }
}

fn accept_all(ids: &[&str]) -> Step {
    Step {
        decisions: ids
            .iter()
            .map(|id| Decision {
                id: id.to_string(),
                action: Action::Accept,
                time: 1_700_000_000,
            })
            .collect(),
    }
}

#[test]
fn reopening_restores_every_decision_and_the_undo_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(".pairwise-audit").join("decisions.jsonl");
    {
        let (mut w, opened) = LogWriter::open(&path, "fp1").unwrap();
        assert_eq!(opened.history.cursor(), 0);
        w.record_step(&relabel("a", "cat"));
        w.record_step(&accept_all(&["b", "c", "d"]));
        w.record_step(&relabel("e", "dog"));
        w.record_undo();
        assert!(w.wait_durable(Duration::from_secs(5)));
    }
    let (_w, opened) = LogWriter::open(&path, "fp1").unwrap();
    assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    let h = &opened.history;
    assert_eq!(h.cursor(), 2, "the undo position is restored");
    assert!(h.can_redo(), "the undone step can still be redone");
    assert_eq!(h.get("a").unwrap().label.as_deref(), Some("cat"));
    assert_eq!(h.get("c").unwrap().status, ReviewStatus::Accepted);
    assert!(h.get("e").is_none(), "the undone relabel is not in effect");
}

#[test]
fn a_torn_last_record_is_skipped_with_a_warning_and_cut_before_appending() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    {
        let (mut w, _) = LogWriter::open(&path, "fp").unwrap();
        w.record_step(&relabel("a", "cat"));
        w.record_step(&relabel("b", "dog"));
        assert!(w.wait_durable(Duration::from_secs(5)));
    }
    // Simulate a crash in the middle of writing the last record.
    let mut bytes = std::fs::read(&path).unwrap();
    let cut = bytes.len() - 12;
    bytes.truncate(cut);
    std::fs::write(&path, &bytes).unwrap();

    let opened = read_log(&path, Some("fp")).unwrap();
    assert_eq!(opened.warnings.len(), 1);
    assert!(
        opened.warnings[0].contains("cut short"),
        "{}",
        opened.warnings[0]
    );
    assert_eq!(
        opened.history.get("a").unwrap().label.as_deref(),
        Some("cat")
    );
    assert!(opened.history.get("b").is_none());

    {
        let (mut w, _) = LogWriter::open(&path, "fp").unwrap();
        w.record_step(&relabel("c", "cow"));
        assert!(w.wait_durable(Duration::from_secs(5)));
    }
    let reread = read_log(&path, Some("fp")).unwrap();
    assert!(reread.warnings.is_empty(), "{:?}", reread.warnings);
    assert_eq!(
        reread.history.get("c").unwrap().label.as_deref(),
        Some("cow")
    );
    assert_eq!(reread.history.reviewed_count(), 2);
}

#[test]
fn a_log_of_another_items_csv_is_read_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    {
        let (mut w, _) = LogWriter::open(&path, "old").unwrap();
        w.record_step(&relabel("a", "cat"));
        assert!(w.wait_durable(Duration::from_secs(5)));
    }
    let opened = read_log(&path, Some("new")).unwrap();
    assert_eq!(opened.fingerprint.as_deref(), Some("old"));
    assert!(
        opened
            .warnings
            .iter()
            .any(|w| w.contains("different items.csv"))
    );
    assert_eq!(opened.history.reviewed_count(), 1);
}

#[test]
fn a_file_that_is_not_a_log_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("items.csv");
    std::fs::write(&path, "id,description,image,label\n").unwrap();
    let err = read_log(&path, None).unwrap_err().to_string();
    assert!(
        err.contains("is not a pairwise-audit decision log"),
        "{err}"
    );
    assert!(err.contains("items.csv"), "{err}");
}

const CHILD_ENV: &str = "PAIRWISE_AUDIT_CHILD_LOG";

/// Run only as the child of `decisions_acknowledged_before_a_kill_survive_it`: records
/// decisions as fast as it can and prints each id once it is durable.
#[test]
#[ignore = "child process of a crash test"]
fn child_records_decisions_until_killed() {
    let path = std::env::var(CHILD_ENV).expect("run by the crash test only");
    let (mut w, _) = LogWriter::open(path.as_ref(), "fp").unwrap();
    let mut out = std::io::stdout().lock();
    for i in 0..100_000 {
        let id = format!("item-{i}");
        w.record_step(&relabel(&id, "cat"));
        assert!(w.wait_durable(Duration::from_secs(10)));
        writeln!(out, "ack {id}").unwrap();
        out.flush().unwrap();
    }
}

#[test]
fn decisions_acknowledged_before_a_kill_survive_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("decisions.jsonl");
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "child_records_decisions_until_killed",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, &path)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut acked = Vec::new();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    while acked.len() < 300 {
        let line = lines.next().expect("child ended early").unwrap();
        if let Some(id) = line.strip_prefix("ack ") {
            acked.push(id.to_string());
        }
    }
    // SIGKILL: no destructor, no flush, no chance to finish the record in flight.
    child.kill().unwrap();
    child.wait().unwrap();

    let opened = read_log(&path, Some("fp")).unwrap();
    for id in &acked {
        let r = opened.history.get(id);
        assert_eq!(
            r.and_then(|r| r.label.as_deref()),
            Some("cat"),
            "decision on {id} was acknowledged before the kill but is missing"
        );
    }
    assert!(opened.history.reviewed_count() >= acked.len());
}

/// Timing of the log and the export at catalogue scale, for BENCHMARKS.md:
/// `cargo test --release --no-default-features --test review_log -- --ignored --nocapture review_scale`
#[test]
#[ignore = "a measurement, not a check"]
fn review_scale() {
    use pairwise_audit::review::export::{ExportFormat, export};
    use std::time::Instant;
    let n = 100_000;
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,description,image,label\n");
    for i in 0..n {
        csv.push_str(&format!(
            "item-{i},\"description of item {i}, with a comma\",,cat\n"
        ));
    }
    std::fs::write(dir.path().join("items.csv"), csv).unwrap();
    let path = dir.path().join("log.jsonl");
    let (mut w, _) = LogWriter::open(&path, "fp").unwrap();
    // One bulk step over every item, then 1 000 single decisions.
    let bulk = Step {
        decisions: (0..n)
            .map(|i| Decision {
                id: format!("item-{i}"),
                action: Action::Relabel {
                    label: "dog".into(),
                    source: LabelSource::Manual,
                },
                time: 1_700_000_000,
            })
            .collect(),
    };
    let t = Instant::now();
    w.record_step(&bulk);
    let handed = t.elapsed();
    assert!(w.wait_durable(Duration::from_secs(60)));
    let durable = t.elapsed();
    let t = Instant::now();
    for i in 0..1000 {
        w.record_step(&relabel(&format!("item-{i}"), "cow"));
    }
    let handed_1000 = t.elapsed();
    assert!(w.wait_durable(Duration::from_secs(60)));
    let durable_1000 = t.elapsed();
    drop(w);
    let t = Instant::now();
    let opened = read_log(&path, Some("fp")).unwrap();
    let read = t.elapsed();
    assert_eq!(opened.history.reviewed_count(), n);
    let mut h = opened.history;
    let t = Instant::now();
    h.undo();
    let undo = t.elapsed();
    h.redo();
    let t = Instant::now();
    let rows = export(
        dir.path(),
        &h,
        &dir.path().join("c.csv"),
        ExportFormat::Csv,
        false,
    )
    .unwrap();
    let corrections = t.elapsed();
    let t = Instant::now();
    export(
        dir.path(),
        &h,
        &dir.path().join("all.csv"),
        ExportFormat::Csv,
        true,
    )
    .unwrap();
    let all = t.elapsed();
    assert_eq!(rows, n);
    let size = std::fs::metadata(&path).unwrap().len();
    println!(
        "n = {n}: bulk step handed over {:.2} ms, durable {:.1} ms; 1000 single steps handed over \
         {:.2} ms, durable {:.1} ms; log {:.1} MB read back in {:.1} ms; undo of one of 1001 \
         steps {:.1} ms; export corrections {:.1} ms, all items {:.1} ms",
        handed.as_secs_f64() * 1e3,
        durable.as_secs_f64() * 1e3,
        handed_1000.as_secs_f64() * 1e3,
        durable_1000.as_secs_f64() * 1e3,
        size as f64 / 1e6,
        read.as_secs_f64() * 1e3,
        undo.as_secs_f64() * 1e3,
        corrections.as_secs_f64() * 1e3,
        all.as_secs_f64() * 1e3,
    );
}
