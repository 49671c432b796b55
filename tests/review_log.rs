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
