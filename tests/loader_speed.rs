//! A measurement, not a timed test: load the catalogue in `$LOADER_BENCH_DIR` a few times and
//! print the wall time and the peak resident memory against the embedding bytes.
//!
//! The first load of a process is the one a command-line run pays; `LOADER_BENCH_REPEATS=1`
//! measures only that.
//!
//!     LOADER_BENCH_DIR=/path/to/50k cargo test --release --no-default-features \
//!         --test loader_speed -- --ignored --nocapture

use std::time::Instant;

use pairwise_audit::Dataset;

fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[test]
#[ignore = "a measurement; needs LOADER_BENCH_DIR"]
fn measure_load_time_and_peak_memory() {
    let dir = std::env::var("LOADER_BENCH_DIR").expect("set LOADER_BENCH_DIR");
    let mut times = Vec::new();
    let mut embedding_bytes = 0;
    let repeats: usize = std::env::var("LOADER_BENCH_REPEATS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(5);
    for _ in 0..repeats {
        let start = Instant::now();
        let ds = Dataset::load(dir.as_ref()).unwrap_or_else(|e| panic!("{e}"));
        times.push(start.elapsed().as_secs_f64());
        println!("load {} took {:.3} s", times.len(), times[times.len() - 1]);
        embedding_bytes = ds
            .modalities()
            .iter()
            .map(|&m| ds.embeddings(m).unwrap().len() * 4)
            .sum::<usize>();
        println!(
            "n = {}, d = {}, modalities = {:?}, fingerprint = {}",
            ds.len(),
            ds.dim(),
            ds.modalities(),
            &ds.fingerprint[..12]
        );
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
