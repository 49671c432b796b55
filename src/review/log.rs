//! The decision log: an append-only file of JSON lines beside the dataset
//! (`DATASET/.pairwise-audit/decisions.jsonl`, format in `docs/review-log.md`).
//!
//! Every record is written, flushed and fsynced by a writer thread before it counts as
//! acknowledged, so the UI thread never waits on the disk and a decision is durable a few
//! milliseconds after it was made. Replaying the records rebuilds the history and the undo
//! position. A crash can only tear the last line; reading skips it with a warning and the next
//! writer cuts it off before appending.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::decision::{Step, now};
use super::history::History;

const FORMAT: &str = "pairwise-audit decision log";
const VERSION: u32 = 1;

/// Where the log of the dataset in `root` lives unless the user picks another place.
pub fn default_log_path(root: &Path) -> PathBuf {
    root.join(".pairwise-audit").join("decisions.jsonl")
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Record {
    Header {
        format: String,
        version: u32,
        /// `Dataset::fingerprint` of the items.csv the decisions were made on.
        fingerprint: String,
        created: u64,
    },
    Step(Step),
    Undo,
    Redo,
}

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("cannot {action} the decision log {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a pairwise-audit decision log: its first line is not a log header", path.display())]
    NotALog { path: PathBuf },
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> LogError + 'a {
    move |source| LogError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// A log as read back.
#[derive(Debug, Default)]
pub struct OpenedLog {
    pub path: PathBuf,
    pub history: History,
    /// One sentence per problem found (torn record, dataset changed …).
    pub warnings: Vec<String>,
    /// The fingerprint in the log's header (`None` for a new or header-less log).
    pub fingerprint: Option<String>,
    /// Bytes of whole, valid records; anything after is a torn tail.
    valid_len: u64,
}

/// Read the log at `path` (missing file: an empty history). `expected_fingerprint`, when
/// given, is compared with the header's and a mismatch becomes a warning.
pub fn read_log(path: &Path, expected_fingerprint: Option<&str>) -> Result<OpenedLog, LogError> {
    let mut log = OpenedLog {
        path: path.to_path_buf(),
        ..OpenedLog::default()
    };
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(log),
        Err(e) => return Err(io_err("read", path)(e)),
    };
    let mut offset = 0usize;
    let mut line_no = 0usize;
    while offset < bytes.len() {
        line_no += 1;
        let Some(len) = bytes[offset..].iter().position(|&b| b == b'\n') else {
            log.warnings.push(format!(
                "{}: the last record (line {line_no}) was cut short, probably by a crash while \
                 it was written; it was skipped",
                path.display()
            ));
            break;
        };
        let line = &bytes[offset..offset + len];
        offset += len + 1;
        match serde_json::from_slice::<Record>(line) {
            Ok(Record::Header { fingerprint, .. }) if line_no == 1 => {
                log.fingerprint = Some(fingerprint);
            }
            Ok(_) if line_no == 1 => return Err(LogError::NotALog { path: path.into() }),
            Ok(Record::Header { .. }) => log.warnings.push(format!(
                "{}: line {line_no} is a second header; it was ignored",
                path.display()
            )),
            Ok(Record::Step(step)) => log.history.push(step),
            Ok(Record::Undo) => {
                log.history.undo();
            }
            Ok(Record::Redo) => {
                log.history.redo();
            }
            Err(_) if line_no == 1 => return Err(LogError::NotALog { path: path.into() }),
            Err(e) => log.warnings.push(format!(
                "{}: line {line_no} is not a valid record ({e}); it was skipped",
                path.display()
            )),
        }
        log.valid_len = offset as u64;
    }
    if let (Some(found), Some(expected)) = (&log.fingerprint, expected_fingerprint)
        && found != expected
    {
        log.warnings.push(format!(
            "{}: the decisions were made on a different items.csv (fingerprint {found}, now \
             {expected}); items whose ids no longer exist are ignored",
            path.display()
        ));
    }
    Ok(log)
}

/// Counters shared with the writer thread.
#[derive(Default)]
struct Shared {
    acked: AtomicU64,
    error: Mutex<Option<String>>,
    acked_changed: Condvar,
    acked_lock: Mutex<()>,
}

/// Appends records on a background thread; see the module docs.
pub struct LogWriter {
    path: PathBuf,
    tx: Option<Sender<Record>>,
    sent: u64,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl LogWriter {
    /// Open (or create) the log at `path` for the dataset with `fingerprint`, read what it
    /// holds, and start the writer.
    pub fn open(path: &Path, fingerprint: &str) -> Result<(LogWriter, OpenedLog), LogError> {
        let opened = read_log(path, Some(fingerprint))?;
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(io_err("create the folder of", path))?;
        }
        // Append mode: every write lands at the end even if another process (a second window
        // on the same dataset) appended meanwhile.
        let mut file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(io_err("open", path))?;
        // Cut a torn tail so that the next record starts on a line of its own.
        file.set_len(opened.valid_len)
            .map_err(io_err("repair", path))?;
        if opened.valid_len == 0 {
            let header = Record::Header {
                format: FORMAT.into(),
                version: VERSION,
                fingerprint: fingerprint.into(),
                created: now(),
            };
            write_records(&mut file, &[header]).map_err(io_err("write", path))?;
            sync_dir(path);
        }
        let shared = Arc::new(Shared::default());
        let (tx, rx) = mpsc::channel();
        let thread = {
            let shared = shared.clone();
            let owned = path.to_path_buf();
            std::thread::Builder::new()
                .name("decision-log".into())
                .spawn(move || writer_loop(file, &owned, rx, &shared))
                .map_err(io_err("start the writer of", path))?
        };
        let writer = LogWriter {
            path: path.to_path_buf(),
            tx: Some(tx),
            sent: 0,
            shared,
            thread: Some(thread),
        };
        Ok((writer, opened))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn record_step(&mut self, step: &Step) {
        self.send(Record::Step(step.clone()));
    }

    pub fn record_undo(&mut self) {
        self.send(Record::Undo);
    }

    pub fn record_redo(&mut self) {
        self.send(Record::Redo);
    }

    fn send(&mut self, record: Record) {
        if let Some(tx) = &self.tx
            && tx.send(record).is_ok()
        {
            self.sent += 1;
        }
    }

    /// Records handed to the writer and not yet on disk.
    pub fn pending(&self) -> u64 {
        self.sent - self.shared.acked.load(Ordering::Acquire)
    }

    /// Records on disk (fsynced) since this writer opened.
    pub fn acknowledged(&self) -> u64 {
        self.shared.acked.load(Ordering::Acquire)
    }

    /// The last write failure, while records are still waiting to be retried.
    pub fn error(&self) -> Option<String> {
        self.shared.error.lock().ok().and_then(|e| e.clone())
    }

    /// Block until every record sent so far is on disk or `timeout` passes; true when durable.
    /// For the command line, tests and shutdown, never the UI thread.
    pub fn wait_durable(&self, timeout: Duration) -> bool {
        let deadline = std::time::Instant::now() + timeout;
        let mut guard = self
            .shared
            .acked_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        while self.pending() > 0 {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return false;
            }
            guard = self
                .shared
                .acked_changed
                .wait_timeout(guard, left.min(Duration::from_millis(50)))
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }
}

impl Drop for LogWriter {
    fn drop(&mut self) {
        // Closing the channel lets the writer finish what it has and exit.
        self.tx.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn writer_loop(mut file: File, path: &Path, rx: Receiver<Record>, shared: &Shared) {
    let mut queue: Vec<Record> = Vec::new();
    let mut open = true;
    while open || !queue.is_empty() {
        // Wait for work; while a failed batch waits, wake up to retry it.
        let wait = if queue.is_empty() {
            Duration::from_secs(3600)
        } else {
            Duration::from_millis(500)
        };
        match rx.recv_timeout(wait) {
            Ok(r) => queue.push(r),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => open = false,
        }
        queue.extend(rx.try_iter());
        if queue.is_empty() {
            continue;
        }
        let good_len = file.metadata().map(|m| m.len()).unwrap_or(0);
        match write_records(&mut file, &queue) {
            Ok(()) => {
                let n = queue.len() as u64;
                queue.clear();
                *shared.error.lock().unwrap_or_else(|p| p.into_inner()) = None;
                let _guard = shared.acked_lock.lock().unwrap_or_else(|p| p.into_inner());
                shared.acked.fetch_add(n, Ordering::Release);
                shared.acked_changed.notify_all();
            }
            Err(e) => {
                // Undo a partial write so a retry does not glue onto half a line.
                let _ = file.set_len(good_len);
                *shared.error.lock().unwrap_or_else(|p| p.into_inner()) = Some(format!(
                    "cannot write the decision log {}: {e}; {} record(s) wait to be retried",
                    path.display(),
                    queue.len()
                ));
                if !open {
                    // Shutting down with the disk still failing: nothing more can be done.
                    return;
                }
            }
        }
    }
}

fn write_records(file: &mut File, records: &[Record]) -> std::io::Result<()> {
    let mut buf = Vec::new();
    for r in records {
        serde_json::to_writer(&mut buf, r).map_err(std::io::Error::other)?;
        buf.push(b'\n');
    }
    file.write_all(&buf)?;
    file.sync_data()
}

/// Make a newly created file's directory entry durable too (best effort: not all
/// filesystems allow opening a directory).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = File::open(dir)
    {
        let _ = d.sync_all();
    }
}
