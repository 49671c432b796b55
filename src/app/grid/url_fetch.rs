//! Item images given as `http://` URLs, fetched into an on-disk cache by the thumbnail
//! workers (never the UI thread): at most `MAX_CONCURRENT` downloads at once, a connect and
//! a whole-download deadline, a size limit, and every failure counted and reported as one
//! sentence on the thumbnail — never fatal.
//!
//! `http://` goes through a small HTTP/1.1 GET over `std::net` (redirects, chunked bodies);
//! `https://` through ureq with rustls (the `https` feature, on by default). Without that
//! feature such images are counted as failures with a sentence saying so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Downloads running at once, whatever the number of decoder threads.
pub const MAX_CONCURRENT: usize = 4;
const REDIRECTS: usize = 3;
const MAX_HEADER_BYTES: usize = 64 << 10;

pub struct Fetcher {
    pub cache_dir: PathBuf,
    pub connect_timeout: Duration,
    /// For the whole download, so that a server trickling bytes cannot hold a worker.
    pub deadline: Duration,
    pub max_bytes: u64,
    running: Mutex<usize>,
    freed: Condvar,
    pub failures: AtomicUsize,
    pub fetched: AtomicUsize,
}

impl Fetcher {
    pub fn new(cache_dir: PathBuf) -> Fetcher {
        Fetcher {
            cache_dir,
            connect_timeout: Duration::from_secs(5),
            deadline: Duration::from_secs(20),
            max_bytes: 16 << 20,
            running: Mutex::new(0),
            freed: Condvar::new(),
            failures: AtomicUsize::new(0),
            fetched: AtomicUsize::new(0),
        }
    }

    /// `$XDG_CACHE_HOME/pairwise-audit/images`, else `~/.cache/…`, else the temp folder.
    pub fn default_cache_dir() -> PathBuf {
        std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir)
            .join("pairwise-audit")
            .join("images")
    }

    /// Where `url` is (or will be) cached.
    pub fn cache_path(&self, url: &str) -> PathBuf {
        let digest: String = Sha256::digest(url.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.cache_dir.join(digest)
    }

    /// The local copy of `url`, downloading it first if it is not cached.
    pub fn local_file(&self, url: &str) -> Result<PathBuf, String> {
        let path = self.cache_path(url);
        if path.is_file() {
            return Ok(path);
        }
        let result = self.download(url, &path);
        match &result {
            Ok(_) => self.fetched.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failures.fetch_add(1, Ordering::Relaxed),
        };
        result.map(|()| path)
    }

    fn download(&self, url: &str, path: &Path) -> Result<(), String> {
        let _slot = self.acquire();
        let bytes = get(url, self.connect_timeout, self.deadline, self.max_bytes)?;
        std::fs::create_dir_all(&self.cache_dir).map_err(|e| {
            format!(
                "the image cache {} cannot be created: {e}",
                self.cache_dir.display()
            )
        })?;
        // Written aside and renamed, so that a half-written file is never taken for an image.
        let tmp = path.with_extension(format!("part{}", std::process::id()));
        std::fs::write(&tmp, &bytes)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| {
                let _ = std::fs::remove_file(&tmp);
                format!("the image cache cannot be written: {e}")
            })
    }

    fn acquire(&self) -> Slot<'_> {
        let mut running = self.running.lock().unwrap();
        while *running >= MAX_CONCURRENT {
            running = self.freed.wait(running).unwrap();
        }
        *running += 1;
        Slot(self)
    }
}

/// A download slot, given back when dropped.
struct Slot<'a>(&'a Fetcher);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.running.lock().unwrap() -= 1;
        self.0.freed.notify_one();
    }
}

pub fn is_url(s: &str) -> bool {
    let lower = s.get(..8).unwrap_or(s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// GET `url`, following a few redirects; the body, or one sentence on why not.
fn get(url: &str, connect: Duration, deadline: Duration, max: u64) -> Result<Vec<u8>, String> {
    #[cfg(feature = "https")]
    if url
        .get(..8)
        .is_some_and(|s| s.eq_ignore_ascii_case("https://"))
    {
        return get_tls(url, connect, deadline, max);
    }
    let start = Instant::now();
    let mut url = url.to_string();
    for _ in 0..=REDIRECTS {
        match get_once(&url, connect, start + deadline, max)? {
            Response::Body(b) => return Ok(b),
            Response::Redirect(to) => {
                url = if to.starts_with('/') {
                    let (host, _) = split(&url)?;
                    format!("http://{host}{to}")
                } else {
                    to
                };
            }
        }
    }
    Err(format!("{url}: more than {REDIRECTS} redirects"))
}

/// GET over TLS with ureq, under the same limits.
#[cfg(feature = "https")]
fn get_tls(url: &str, connect: Duration, deadline: Duration, max: u64) -> Result<Vec<u8>, String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_connect(Some(connect))
        .timeout_global(Some(deadline))
        .max_redirects(REDIRECTS as u32)
        .user_agent("pairwise-audit")
        .build()
        .into();
    let describe = |e: ureq::Error| match e {
        ureq::Error::StatusCode(code) => format!("{url}: the server answered HTTP {code}"),
        ureq::Error::Timeout(_) => format!("{url}: the server did not answer in time"),
        ureq::Error::BodyExceedsLimit(_) => {
            format!("{url}: the image is larger than {} MB", max >> 20)
        }
        other => format!("{url}: {other}"),
    };
    let mut response = agent.get(url).call().map_err(describe)?;
    response
        .body_mut()
        .with_config()
        .limit(max)
        .read_to_vec()
        .map_err(describe)
}

enum Response {
    Body(Vec<u8>),
    Redirect(String),
}

/// `host[:port]` and the path of an `http://` URL.
fn split(url: &str) -> Result<(String, String), String> {
    let lower = url.to_ascii_lowercase();
    if lower.starts_with("https://") {
        return Err(format!(
            "{url}: https images need TLS, which this build was made without (the `https` feature)"
        ));
    }
    let rest = url
        .get(7..)
        .filter(|_| lower.starts_with("http://"))
        .ok_or_else(|| format!("{url}: not an http URL"))?;
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if host.is_empty() {
        return Err(format!("{url}: the URL names no host"));
    }
    Ok((host.to_string(), path.to_string()))
}

fn get_once(url: &str, connect: Duration, until: Instant, max: u64) -> Result<Response, String> {
    let (host, path) = split(url)?;
    let addr = if host.contains(':') {
        host.clone()
    } else {
        format!("{host}:80")
    };
    let fail = |what: String| format!("{url}: {what}");
    let addrs: Vec<_> = addr
        .to_socket_addrs()
        .map_err(|e| fail(format!("the host cannot be resolved ({e})")))?
        .collect();
    let stream = addrs
        .iter()
        .find_map(|a| TcpStream::connect_timeout(a, connect).ok())
        .ok_or_else(|| fail(format!("no connection within {} s", connect.as_secs())))?;
    let remaining = || {
        until
            .saturating_duration_since(Instant::now())
            .max(Duration::from_millis(1))
    };
    stream.set_write_timeout(Some(remaining())).ok();
    stream.set_read_timeout(Some(remaining())).ok();
    let mut w = &stream;
    write!(
        w,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: pairwise-audit\r\nAccept: image/*\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| fail(format!("the request could not be sent ({e})")))?;

    let mut reader = BufReader::new(&stream);
    let timed_out = |e: std::io::Error| {
        if matches!(
            e.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        ) {
            fail("the server did not answer in time".into())
        } else {
            fail(format!("the connection failed ({e})"))
        }
    };
    let mut header_bytes = 0;
    let mut line = String::new();
    let mut read_line = |reader: &mut BufReader<&TcpStream>, line: &mut String| {
        line.clear();
        let n = reader.read_line(line).map_err(timed_out)?;
        header_bytes += n;
        if n == 0 || header_bytes > MAX_HEADER_BYTES {
            return Err(fail("the response header is missing or too long".into()));
        }
        Ok(())
    };
    read_line(&mut reader, &mut line)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| fail("the answer is not HTTP".into()))?;
    let (mut length, mut chunked, mut location) = (None::<u64>, false, None::<String>);
    loop {
        read_line(&mut reader, &mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((name, value)) = l.split_once(':') {
            let value = value.trim();
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse().ok(),
                "transfer-encoding" => chunked = value.to_ascii_lowercase().contains("chunked"),
                "location" => location = Some(value.to_string()),
                _ => {}
            }
        }
    }
    if (300..400).contains(&status) {
        return location
            .map(Response::Redirect)
            .ok_or_else(|| fail(format!("HTTP {status} without a Location")));
    }
    if status != 200 {
        return Err(fail(format!("the server answered HTTP {status}")));
    }
    let too_big = || fail(format!("the image is larger than {} MB", max >> 20));
    if length.is_some_and(|n| n > max) {
        return Err(too_big());
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            read_line(&mut reader, &mut line)?;
            let size = u64::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| fail("a chunk size is not hexadecimal".into()))?;
            if size == 0 {
                break;
            }
            if body.len() as u64 + size > max {
                return Err(too_big());
            }
            let at = body.len();
            body.resize(at + size as usize, 0);
            reader.read_exact(&mut body[at..]).map_err(timed_out)?;
            read_line(&mut reader, &mut line)?;
        }
    } else {
        // One byte more than allowed tells an oversized body without a length apart.
        (&mut reader)
            .take(length.unwrap_or(max + 1).min(max + 1))
            .read_to_end(&mut body)
            .map_err(timed_out)?;
        if body.len() as u64 > max {
            return Err(too_big());
        }
        if length.is_some_and(|n| (body.len() as u64) < n) {
            return Err(fail(
                "the connection closed before the whole image arrived".into(),
            ));
        }
    }
    if Instant::now() > until {
        return Err(fail("the download took too long".into()));
    }
    Ok(Response::Body(body))
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::Arc;

    use super::*;

    /// A server on 127.0.0.1 answering each path its own way, until the test ends.
    fn server() -> (String, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut s) = stream else { continue };
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::spawn(move || {
                    let mut line = String::new();
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    r.read_line(&mut line).unwrap();
                    let path = line
                        .split_whitespace()
                        .nth(1)
                        .unwrap_or("/")
                        .split('?')
                        .next()
                        .unwrap_or("/")
                        .to_string();
                    loop {
                        let mut l = String::new();
                        if r.read_line(&mut l).unwrap_or(0) == 0 || l == "\r\n" {
                            break;
                        }
                    }
                    let body = b"\x89PNG fake image bytes";
                    let reply: Vec<u8> = match path.as_str() {
                        "/ok.png" => [
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len())
                                .into_bytes(),
                            body.to_vec(),
                        ]
                        .concat(),
                        "/chunked.png" => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n\x89PNG \r\n4\r\nfake\r\n0\r\n\r\n".to_vec(),
                        "/moved" => b"HTTP/1.1 302 Found\r\nLocation: /ok.png\r\nContent-Length: 0\r\n\r\n".to_vec(),
                        "/fail" => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n".to_vec(),
                        "/big" => b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\n".to_vec(),
                        "/endless" => {
                            let _ = s.write_all(b"HTTP/1.1 200 OK\r\n\r\n");
                            let chunk = vec![0u8; 4096];
                            while s.write_all(&chunk).is_ok() {}
                            return;
                        }
                        "/slow" => {
                            std::thread::sleep(Duration::from_secs(3));
                            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec()
                        }
                        _ => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
                    };
                    let _ = s.write_all(&reply);
                });
            }
        });
        (base, hits)
    }

    fn fetcher() -> (Fetcher, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let mut f = Fetcher::new(dir.path().join("cache"));
        f.deadline = Duration::from_millis(800);
        f.max_bytes = 1 << 20;
        (f, dir)
    }

    #[test]
    fn fetches_into_the_cache_once_and_follows_redirects() {
        let (base, hits) = server();
        let (f, _dir) = fetcher();
        let url = format!("{base}/ok.png");
        let path = f.local_file(&url).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"\x89PNG fake image bytes");
        let before = hits.load(Ordering::SeqCst);
        assert_eq!(f.local_file(&url).unwrap(), path, "served from the cache");
        assert_eq!(hits.load(Ordering::SeqCst), before, "no second request");
        let moved = f.local_file(&format!("{base}/moved")).unwrap();
        assert_eq!(std::fs::read(moved).unwrap(), b"\x89PNG fake image bytes");
        let chunked = f.local_file(&format!("{base}/chunked.png")).unwrap();
        assert_eq!(std::fs::read(chunked).unwrap(), b"\x89PNG fake");
        assert_eq!(f.fetched.load(Ordering::Relaxed), 3);
        assert_eq!(f.failures.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn failing_slow_and_oversized_answers_are_counted_failures() {
        let (base, _) = server();
        let (f, _dir) = fetcher();
        let fail = f.local_file(&format!("{base}/fail")).unwrap_err();
        assert!(fail.contains("HTTP 500"), "{fail}");
        let missing = f.local_file(&format!("{base}/nothing.png")).unwrap_err();
        assert!(missing.contains("HTTP 404"), "{missing}");
        let t = Instant::now();
        let slow = f.local_file(&format!("{base}/slow")).unwrap_err();
        assert!(slow.contains("in time"), "{slow}");
        assert!(t.elapsed() < Duration::from_secs(2), "the deadline held");
        let big = f.local_file(&format!("{base}/big")).unwrap_err();
        assert!(big.contains("larger than 1 MB"), "{big}");
        let endless = f.local_file(&format!("{base}/endless")).unwrap_err();
        assert!(endless.contains("larger than 1 MB"), "{endless}");
        // Nothing listens on port 1: the https path fails, counted, within the limits.
        let tls = f.local_file("https://127.0.0.1:1/a.png").unwrap_err();
        assert!(tls.starts_with("https://127.0.0.1:1/a.png: "), "{tls}");
        assert_eq!(f.failures.load(Ordering::Relaxed), 6);
        assert!(
            std::fs::read_dir(&f.cache_dir).map_or(0, |d| d.count()) == 0,
            "nothing half-written is cached"
        );
    }

    #[test]
    fn no_more_than_the_limit_download_at_once() {
        let (base, _) = server();
        let (f, _dir) = fetcher();
        let f = Arc::new(f);
        let peak = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..10)
            .map(|i| {
                let (f, peak, base) = (f.clone(), peak.clone(), base.clone());
                std::thread::spawn(move || {
                    let _slot = f.acquire();
                    let now = *f.running.lock().unwrap();
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(20));
                    drop(_slot);
                    let _ = f.local_file(&format!("{base}/ok.png?{i}"));
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= MAX_CONCURRENT);
        assert_eq!(f.fetched.load(Ordering::Relaxed), 10);
    }
}
