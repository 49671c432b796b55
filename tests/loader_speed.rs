//! A measurement, not a timed test: load the catalogue in `$LOADER_BENCH_DIR` a few times and
//! print the wall time per stage (sampled from the monitor every 0.2 ms) and the peak resident
//! memory against the embedding bytes.
//!
//! The first load of a process is the one a command-line run pays; `LOADER_BENCH_REPEATS=1`
//! measures only that.
//!
//!     LOADER_BENCH_DIR=/path/to/50k cargo test --release --no-default-features \
//!         --test loader_speed -- --ignored --nocapture

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use pairwise_audit::{Dataset, Monitor, Stage};

fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Load once while a watcher notes when each stage begins; returns the dataset, the total time
/// and the time spent in each stage (in the order entered).
fn timed_load(dir: &str) -> (Dataset, f64, Vec<(String, f64)>) {
    let monitor = Monitor::new();
    let done = AtomicBool::new(false);
    let start = Instant::now();
    let (ds, changes) = std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut changes: Vec<(Stage, u8, Instant)> = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let p = monitor.sample();
                if changes
                    .last()
                    .is_none_or(|&(st, m, _)| (st, m) != (p.stage, p.modality))
                {
                    changes.push((p.stage, p.modality, Instant::now()));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            changes
        });
        let ds = Dataset::load_with(dir.as_ref(), &monitor).unwrap_or_else(|e| panic!("{e:?}"));
        done.store(true, Ordering::Relaxed);
        (ds, watcher.join().unwrap())
    });
    let end = Instant::now();
    let total = (end - start).as_secs_f64();
    let mut stages = Vec::new();
    for (k, &(stage, modality, at)) in changes.iter().enumerate() {
        let until = changes.get(k + 1).map_or(end, |c| c.2);
        let name = match modality {
            1 => format!("{} (image)", stage.label()),
            2 => format!("{} (text)", stage.label()),
            _ => stage.label().to_string(),
        };
        stages.push((name, (until - at).as_secs_f64()));
    }
    (ds, total, stages)
}

#[test]
#[ignore = "a measurement; needs LOADER_BENCH_DIR"]
fn measure_load_time_and_peak_memory() {
    let dir = std::env::var("LOADER_BENCH_DIR").expect("set LOADER_BENCH_DIR");
    let repeats: usize = std::env::var("LOADER_BENCH_REPEATS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    let mut times = Vec::new();
    let mut embedding_bytes = 0;
    for k in 0..repeats {
        let (ds, total, stages) = timed_load(&dir);
        times.push(total);
        let parts: Vec<String> = stages.iter().map(|(n, t)| format!("{n} {t:.3}")).collect();
        println!("load {}: {total:.3} s = {}", k + 1, parts.join(", "));
        embedding_bytes = ds
            .modalities()
            .iter()
            .map(|&m| ds.embeddings(m).unwrap().len() * 4)
            .sum::<usize>();
        if k == 0 {
            println!(
                "n = {}, d = {}, modalities = {:?}, missing images = {}, fingerprint = {}…",
                ds.len(),
                ds.dim(),
                ds.modalities(),
                ds.missing_images,
                &ds.fingerprint[..12]
            );
        }
    }
    times.sort_by(f64::total_cmp);
    println!(
        "load: min {:.3} s, median {:.3} s, max {:.3} s",
        times[0],
        times[times.len() / 2],
        times[times.len() - 1]
    );
    if let Some(peak) = peak_rss_bytes() {
        println!(
            "peak RSS {:.1} MB = {:.2} × the f32 embedding bytes ({:.1} MB)",
            peak as f64 / 1e6,
            peak as f64 / embedding_bytes as f64,
            embedding_bytes as f64 / 1e6
        );
    }
}
