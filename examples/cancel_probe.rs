//! How quickly Cancel stops the default scorer's audit: runs it once to time it, then cancels
//! it at eight moments spread over that time and prints how long each took to return.
//!
//!     cargo run --release --no-default-features --example cancel_probe -- 100000

use std::sync::Arc;
use std::time::Instant;

use pairwise_audit::audit::Audit;
use pairwise_audit::scorers::{DEFAULT_SCORER, scorer_by_name};
use pairwise_audit::synth::{SynthParams, generate, to_dataset};
use pairwise_audit::{Monitor, Params, classify};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let params = SynthParams {
        n,
        d: 768,
        classes: 13,
        ..SynthParams::default()
    };
    let ds = Arc::new(to_dataset(&generate(&params)));
    let cls = Arc::new(classify(&ds, &Params::default(), &Monitor::new()).expect("classifies"));
    let scorer = scorer_by_name(DEFAULT_SCORER).expect("the default scorer exists");
    let t = Instant::now();
    Audit::run(&ds, &cls, scorer.as_ref(), &Monitor::new()).expect("not cancelled");
    let full = t.elapsed();
    println!(
        "n = {n}: whole `{DEFAULT_SCORER}` audit {:.0} ms",
        full.as_secs_f64() * 1e3
    );
    for k in 1..=8 {
        let at = full.mul_f64(k as f64 / 9.0);
        let monitor = Arc::new(Monitor::new());
        let (ds, cls, m) = (ds.clone(), cls.clone(), monitor.clone());
        let worker = std::thread::spawn(move || {
            let scorer = scorer_by_name(DEFAULT_SCORER).expect("the default scorer exists");
            let cancelled = Audit::run(&ds, &cls, scorer.as_ref(), &m).is_err();
            (cancelled, Instant::now())
        });
        std::thread::sleep(at);
        let asked = Instant::now();
        monitor.cancel();
        let (cancelled, ended) = worker.join().expect("the audit thread ran");
        println!(
            "cancel at {:>4.0} ms: {} {:.0} ms later",
            at.as_secs_f64() * 1e3,
            if cancelled { "stopped" } else { "had finished" },
            ended.saturating_duration_since(asked).as_secs_f64() * 1e3
        );
    }
}
