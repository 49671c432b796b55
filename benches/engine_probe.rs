//! Measurements that criterion does not make, behind the numbers of BENCHMARKS.md's
//! "Engine benchmarks" section. Without a mode it does nothing, so a plain `cargo bench`
//! stays quick.
//!
//!     cargo bench --no-default-features --bench engine_probe -- quality [N] [D] [NOISE]
//!     cargo bench --no-default-features --bench engine_probe -- memory  [N]
//!     cargo bench --no-default-features --bench engine_probe -- cancel  [N]
//!     RAYON_NUM_THREADS=1 cargo bench --no-default-features --bench engine_probe -- stages [N]
//!
//! Defaults: N = 50 000, D = 768, NOISE = 1; 13 classes, synth seed 1, default `Params`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use pairwise_audit::metrics::Confusion;
use pairwise_audit::synth::{SynthParams, generate};
use pairwise_audit::{Dataset, Monitor, Params, baseline, classify, selection, tournament};

fn main() {
    // Cargo passes `--bench`; the mode and sizes are the other arguments.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let Some(mode) = args.first().map(String::as_str) else {
        return;
    };
    let num = |i: usize, default: f64| {
        args.get(i)
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let n = num(1, 50_000.0) as usize;
    let d = num(2, 768.0) as usize;
    let noise = num(3, 1.0);
    let started = Instant::now();
    let s = generate(&SynthParams {
        n,
        d,
        noise,
        classes: 13,
        seed: 1,
        ..SynthParams::default()
    });
    println!(
        "generated {n} × {d} (both views) in {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let truth = s.truth.clone();
    let ds = s.into_dataset();
    match mode {
        "quality" => quality(&ds, &truth),
        "memory" => memory(&ds),
        "cancel" => cancel(&ds),
        "stages" => stages(&ds),
        other => eprintln!("unknown mode {other:?}: quality, memory, cancel or stages"),
    }
}

fn quality(ds: &Dataset, truth: &[usize]) {
    let r = classify(ds, &Params::default(), &Monitor::new()).unwrap();
    let (im, tx) = (r.image.unwrap(), r.text.unwrap());
    let some = |v: &[usize]| v.iter().map(|&c| Some(c)).collect::<Vec<_>>();
    let wf1 = |a: &[usize], b: &[usize]| {
        Confusion::new(&some(a), &some(b), ds.num_classes()).weighted_f1()
    };
    let acc =
        |a: &[usize], b: &[usize]| Confusion::new(&some(a), &some(b), ds.num_classes()).accuracy();
    println!(
        "weighted F1, text vs image: baseline {:.3}, pairwise {:.3}",
        wf1(&im.baseline, &tx.baseline),
        wf1(&im.pairwise, &tx.pairwise)
    );
    println!(
        "image accuracy vs truth: baseline {:.3}, pairwise {:.3}",
        acc(truth, &im.baseline),
        acc(truth, &im.pairwise)
    );
    println!(
        "text accuracy vs truth: baseline {:.3}, pairwise {:.3}",
        acc(truth, &tx.baseline),
        acc(truth, &tx.pairwise)
    );
    let fallbacks = |p: &[selection::PairRecord]| p.iter().filter(|r| r.fallback).count();
    println!(
        "pairs falling back to all dimensions: image {}, text {} of {}",
        fallbacks(&im.pairs),
        fallbacks(&tx.pairs),
        im.pairs.len()
    );
}

/// `VmRSS` / `VmHWM` of this process in MiB.
fn status_mib(key: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with(key))
        .expect("field present");
    line.split_whitespace()
        .nth(1)
        .unwrap()
        .parse::<f64>()
        .unwrap()
        / 1024.0
}

fn memory(ds: &Dataset) {
    let emb = 2.0 * (ds.len() * ds.dim() * 4) as f64 / 1_048_576.0;
    // Reset the high-water mark so it measures classify alone.
    std::fs::write("/proc/self/clear_refs", "5").expect("Linux /proc");
    let before = status_mib("VmRSS:");
    classify(ds, &Params::default(), &Monitor::new()).unwrap();
    let peak = status_mib("VmHWM:");
    println!(
        "embeddings {emb:.1} MiB; RSS before classify {before:.1} MiB; peak {peak:.1} MiB = {:.3}× the embeddings ({:.1} MiB of working memory)",
        peak / emb,
        peak - before
    );
}

fn cancel(ds: &Dataset) {
    let started = Instant::now();
    classify(ds, &Params::default(), &Monitor::new()).unwrap();
    let full = started.elapsed();
    println!("full classify {:.2} s", full.as_secs_f64());
    for step in 1..=12 {
        let delay = full.mul_f64(step as f64 / 13.0);
        let monitor = Arc::new(Monitor::new());
        let remote = Arc::clone(&monitor);
        let canceller = std::thread::spawn(move || {
            std::thread::sleep(delay);
            remote.cancel();
            Instant::now()
        });
        let result = classify(ds, &Params::default(), &monitor);
        let returned = Instant::now();
        let cancelled_at = canceller.join().unwrap();
        let at = monitor.sample();
        println!(
            "cancel at {:>5} ms ({:?}, modality {}): {} {:.1} ms later",
            delay.as_millis(),
            at.stage,
            at.modality,
            if result.is_err() {
                "stopped"
            } else {
                "had finished"
            },
            returned
                .saturating_duration_since(cancelled_at)
                .as_secs_f64()
                * 1e3
        );
    }
}

/// Best of 10 per stage, on the image embeddings.
fn stages(ds: &Dataset) {
    let x = ds.image_embeddings.as_ref().unwrap().view();
    let k = ds.class_embeddings.view();
    let (p, m) = (Params::default(), Monitor::new());
    let best = |f: &mut dyn FnMut()| {
        (0..10)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .min()
            .unwrap_or(Duration::ZERO)
    };
    let base = baseline::baseline(x, k, &m).unwrap();
    let th = selection::thresholds(base.scores.view(), &base.labels, &p, &m).unwrap();
    let km = selection::kept_moments(x, &base.inv_norms, base.scores.view(), &th, &m).unwrap();
    let pairs = selection::score_pairs(&th, &km, ds.dim(), &p);
    let perms = tournament::draw_permutations(ds.num_classes(), p.seed);
    let ms = |t: Duration| t.as_secs_f64() * 1e3;
    println!(
        "baseline    {:.1} ms",
        ms(best(&mut || drop(baseline::baseline(x, k, &m).unwrap())))
    );
    println!(
        "thresholds  {:.1} ms",
        ms(best(&mut || drop(
            selection::thresholds(base.scores.view(), &base.labels, &p, &m).unwrap()
        )))
    );
    println!(
        "moments     {:.1} ms",
        ms(best(&mut || drop(
            selection::kept_moments(x, &base.inv_norms, base.scores.view(), &th, &m).unwrap()
        )))
    );
    println!(
        "selection   {:.1} ms",
        ms(best(&mut || drop(selection::score_pairs(
            &th,
            &km,
            ds.dim(),
            &p
        ))))
    );
    println!(
        "tournament  {:.1} ms",
        ms(best(&mut || drop(
            tournament::run(x, k, &pairs, &perms, &m).unwrap()
        )))
    );
}
