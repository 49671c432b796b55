//! `--model OWNER/NAME` through hf-hub against a stand-in hub on 127.0.0.1 (`HF_ENDPOINT`):
//! a download into the Hugging Face cache (`HF_HOME`) that later runs find without the
//! network, a repository that answers 404, a connection dropped in the middle of the
//! weights, and no network with no cache.
#![cfg(feature = "embed")]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

const BIN: &str = env!("CARGO_BIN_EXE_pairwise-audit");
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";
const FILES: [&str; 4] = [
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "preprocessor_config.json",
];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A stand-in for the hub answering hf-hub 0.5's requests: `GET /{repo}/resolve/{rev}/{file}`
/// with `Range: bytes=0-0` for the metadata (etag, x-repo-commit, Content-Range) and
/// `Range: bytes=N-` for the body.
struct Hub {
    port: u16,
    /// Requests for model.safetensors bodies seen so far.
    weight_bodies: Arc<AtomicUsize>,
}

impl Hub {
    /// Serve `files` under repo `repo`; the first `drop_first` body downloads of
    /// model.safetensors are cut off halfway.
    fn start(repo: &'static str, files: HashMap<String, Vec<u8>>, drop_first: usize) -> Hub {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let files = Arc::new(files);
        let weight_bodies = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&weight_bodies);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let files = Arc::clone(&files);
                let seen = Arc::clone(&seen);
                std::thread::spawn(move || serve(stream, repo, &files, &seen, drop_first));
            }
        });
        Hub {
            port,
            weight_bodies,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

fn serve(
    mut stream: TcpStream,
    repo: &str,
    files: &HashMap<String, Vec<u8>>,
    seen: &AtomicUsize,
    drop_first: usize,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request = String::new();
    let mut range = None;
    // The whole request head, so that the client never writes into a closed socket.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if request.is_empty() {
            request = line.clone();
        }
        if let Some(v) = line
            .strip_prefix("Range: ")
            .or_else(|| line.strip_prefix("range: "))
        {
            range = v.trim().strip_prefix("bytes=").map(str::to_string);
        }
    }
    let path = request.split_whitespace().nth(1).unwrap_or("");
    let prefix = format!("/{repo}/resolve/main/");
    let file = path
        .strip_prefix(&prefix)
        .and_then(|f| files.get(f).map(|b| (f, b)));
    let Some((name, body)) = file else {
        let _ = stream.write_all(
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\nX-Error-Code: EntryNotFound\r\n\r\n",
        );
        return;
    };
    let etag: String = Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let (start, end) = match range.as_deref().and_then(|r| r.split_once('-')) {
        Some((s, e)) => (
            s.parse::<usize>().unwrap_or(0),
            e.parse::<usize>()
                .map_or(body.len() - 1, |e| e.min(body.len() - 1)),
        ),
        None => (0, body.len() - 1),
    };
    let part = &body[start..=end];
    let head = format!(
        "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {start}-{end}/{}\r\nETag: \"{etag}\"\r\nX-Repo-Commit: {COMMIT}\r\nConnection: close\r\n\r\n",
        part.len(),
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let is_weights_body = name == "model.safetensors" && part.len() > 1;
    if is_weights_body && seen.fetch_add(1, Ordering::SeqCst) < drop_first {
        let _ = stream.write_all(&part[..part.len() / 2]);
        let _ = stream.flush();
        let _ = stream.shutdown(std::net::Shutdown::Both);
        return;
    }
    let _ = stream.write_all(part);
}

fn tiny_files() -> HashMap<String, Vec<u8>> {
    FILES
        .iter()
        .map(|f| {
            let bytes = std::fs::read(root().join("tests/fixtures/clip_tiny").join(f)).unwrap();
            (f.to_string(), bytes)
        })
        .collect()
}

fn catalogue() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = root().join("tests/fixtures/embed_catalogue");
    for f in ["items.csv", "classes.csv"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    dir
}

fn embed(dataset: &Path, model: &str, endpoint: &str, hf_home: &Path) -> Output {
    Command::new(BIN)
        .args([
            "embed",
            dataset.to_str().unwrap(),
            "--model",
            model,
            "--quiet",
        ])
        .args(["--modalities", "text,classes"])
        .env("HF_ENDPOINT", endpoint)
        .env("HF_HOME", hf_home)
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn snapshot(hf_home: &Path, repo: &str) -> PathBuf {
    hf_home
        .join("hub")
        .join(format!("models--{}", repo.replace('/', "--")))
        .join("snapshots")
        .join(COMMIT)
}

/// A port nothing listens on: bound, then released.
fn dead_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

#[test]
fn downloads_into_the_cache_then_runs_offline() {
    let hub = Hub::start("test-org/tiny-clip", tiny_files(), 0);
    let home = tempfile::tempdir().unwrap();
    let ds = catalogue();
    let o = embed(
        ds.path(),
        "test-org/tiny-clip",
        &hub.endpoint(),
        home.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(out.contains(&format!("revision {COMMIT}")), "{out}");
    for f in FILES {
        let cached = std::fs::read(snapshot(home.path(), "test-org/tiny-clip").join(f)).unwrap();
        assert_eq!(cached, tiny_files()[f], "{f} in the cache");
    }
    let first = std::fs::read(ds.path().join("text_embeddings.npy")).unwrap();

    // No server any more: the cache is enough, and gives the same embeddings.
    let again = catalogue();
    let o = embed(
        again.path(),
        "test-org/tiny-clip",
        &dead_endpoint(),
        home.path(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        std::fs::read(again.path().join("text_embeddings.npy")).unwrap(),
        first
    );
}

#[test]
fn a_missing_repository_is_one_sentence() {
    let hub = Hub::start("test-org/tiny-clip", tiny_files(), 0);
    let home = tempfile::tempdir().unwrap();
    let o = embed(
        catalogue().path(),
        "test-org/no-such-model",
        &hub.endpoint(),
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("has no config.json at revision `main`"), "{e}");
    assert_eq!(e.trim().lines().count(), 1, "{e}");
}

#[test]
fn a_dropped_connection_fails_cleanly_and_the_next_run_completes() {
    let home = tempfile::tempdir().unwrap();
    let flaky = Hub::start("test-org/flaky", tiny_files(), 1);
    let o = embed(
        catalogue().path(),
        "test-org/flaky",
        &flaky.endpoint(),
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("could not download model.safetensors of test-org/flaky"),
        "{e}"
    );
    assert_eq!(flaky.weight_bodies.load(Ordering::SeqCst), 1);
    // Nothing half-written is taken for the weights: the next run downloads the rest.
    let ds = catalogue();
    let o = embed(ds.path(), "test-org/flaky", &flaky.endpoint(), home.path());
    assert!(o.status.success(), "{}", stderr(&o));
    let cached =
        std::fs::read(snapshot(home.path(), "test-org/flaky").join("model.safetensors")).unwrap();
    assert_eq!(cached, tiny_files()["model.safetensors"]);
}

#[test]
fn no_network_and_no_cache_says_what_to_download_and_where() {
    let home = tempfile::tempdir().unwrap();
    let o = embed(
        catalogue().path(),
        "openai/clip-vit-base-patch32",
        &dead_endpoint(),
        home.path(),
    );
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(
        e.contains("could not download config.json of openai/clip-vit-base-patch32"),
        "{e}"
    );
    assert!(
        e.contains(&home.path().join("hub").display().to_string()),
        "{e}"
    );
    assert!(
        e.contains("model.safetensors, tokenizer.json and preprocessor_config.json"),
        "{e}"
    );
    assert_eq!(e.trim().lines().count(), 1, "{e}");
}
