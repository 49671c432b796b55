//! The app's performance on a 100 000-item catalogue, in the kittest harness (release mode):
//!
//!     cargo test --release --bin pairwise-audit app::bench -- --ignored --nocapture
//!
//! The catalogue is sample_data/ tiled to 100 980 items (each copy's embeddings perturbed
//! so that the classifier sees distinct items), images included, so the scroll test decodes
//! real thumbnails. Frame times are of `Harness::step`: egui layout plus kittest's
//! accessibility tree, without GPU painting.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use ndarray::Array2;
use pairwise_audit::audit::FlagKind;
use pairwise_audit::{Dataset, Monitor};

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::grid::SortColumn;
use crate::app::state::Persisted;
use crate::app::worker::{self, Request};

/// `copies` copies of `ds`, embeddings nudged per copy.
pub fn tiled(ds: &Dataset, copies: usize) -> Dataset {
    let n = ds.len();
    let mut items = Vec::with_capacity(n * copies);
    for k in 0..copies {
        for it in &ds.items {
            let mut it = it.clone();
            it.id = format!("{}#{k}", it.id);
            items.push(it);
        }
    }
    let tile = |x: &Array2<f32>| {
        let d = x.ncols();
        Array2::from_shape_fn((n * copies, d), |(i, j)| {
            let (k, src) = (i / n, i % n);
            // A small deterministic wobble, different per copy and dimension.
            let wobble = ((k * 7919 + j * 104_729 + src * 31) % 1000) as f32 / 1000.0 - 0.5;
            x[[src, j]] * (1.0 + 0.05 * wobble)
        })
    };
    Dataset {
        items,
        image_embeddings: ds.image_embeddings.as_ref().map(tile),
        text_embeddings: ds.text_embeddings.as_ref().map(tile),
        ..ds.clone()
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let k = ((sorted.len() - 1) as f64 * p / 100.0).round() as usize;
    sorted[k]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// CPU time of the calling thread: unlike wall time, not inflated when other processes
/// compete for the cores.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; CLOCK_THREAD_CPUTIME_ID exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

/// "median a, p99 b, max c" of `samples` (ms).
fn summary(samples: &mut [f64]) -> String {
    samples.sort_by(f64::total_cmp);
    format!(
        "median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        percentile(samples, 50.0),
        percentile(samples, 99.0),
        samples[samples.len() - 1]
    )
}

#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn bench_100k() {
    let sample = Dataset::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data")).unwrap();
    measure(Arc::new(tiled(&sample, 54)));
}

/// The engine's synthetic catalogue: 100 000 items, d = 768, 13 classes, no images.
#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn bench_synth_100k() {
    let synth = pairwise_audit::synth::generate(&pairwise_audit::synth::SynthParams {
        n: 100_000,
        ..Default::default()
    });
    measure(Arc::new(pairwise_audit::synth::to_dataset(&synth)));
}

fn measure(big: Arc<Dataset>) {
    let n = big.len();
    println!(
        "catalogue: {n} items, d = {}, {} classes, images: {}",
        big.dim(),
        big.num_classes(),
        big.items.iter().any(|it| it.image.is_some())
    );

    // The real pipeline, starting from the catalogue in memory (loading is the loader's
    // benchmark, not the app's).
    let engine = worker::engine_pipeline();
    let ds = big.clone();
    let pipeline: worker::Pipeline = Arc::new(move |request: &Request, monitor: &Monitor| {
        let request = Request {
            source: worker::Source::Loaded(ds.clone()),
            ..request.clone()
        };
        engine(&request, monitor)
    });
    let app = AuditApp::new(Persisted::default(), pipeline);
    let mut h = Harness::builder()
        .with_size([1600.0, 1000.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app);
    let ctx = h.ctx.clone();
    let t = Instant::now();
    h.state_mut()
        .apply(&ctx, Command::OpenDataset(big.root.clone()));
    while h.state().is_running() {
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "classify + audit + view model: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    h.run_steps(3);

    // Scrolling: a wheel notch per frame over the grid, thumbnails decoding meanwhile.
    let over_grid = egui::pos2(600.0, 500.0);
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..600 {
        h.hover_at(over_grid);
        h.event(egui::Event::MouseWheel {
            unit: egui::MouseWheelUnit::Point,
            delta: egui::vec2(0.0, -120.0),
            phase: egui::TouchPhase::Move,
            source: egui::MouseWheelSource::Unknown,
            modifiers: egui::Modifiers::NONE,
        });
        let (t, c) = (Instant::now(), thread_cpu());
        h.step();
        wall.push(ms(t.elapsed()));
        cpu.push(ms(thread_cpu() - c));
    }
    println!(
        "scroll, {} frames, {} thumbnails decoded meanwhile:\n  wall {}\n  cpu  {}",
        wall.len(),
        h.state().thumbs.ready(),
        summary(&mut wall),
        summary(&mut cpu)
    );

    // Sort and filter latency: the cached order recomputed from scratch.
    let r = h.state().results.clone().unwrap();
    let app = h.state_mut();
    let time = |app: &mut AuditApp, what: &str| {
        let (t, c) = (Instant::now(), thread_cpu());
        let shown = app.grid.refresh(&r).len();
        println!(
            "{what}: wall {:.1} ms, cpu {:.1} ms ({shown} rows)",
            ms(t.elapsed()),
            ms(thread_cpu() - c)
        );
    };
    for col in [
        SortColumn::Id,
        SortColumn::Description,
        SortColumn::Annotation,
        SortColumn::Image,
        SortColumn::Flag,
        SortColumn::Suspicion,
    ] {
        app.grid.sort_by(col);
        time(app, &format!("sort by {}", col.label()));
    }
    app.grid.filter.flag = Some(FlagKind::AgreeNotAnnotation);
    time(app, "filter flag = agree_not_annotation");
    app.grid.filter.flag = None;
    // A word that occurs in this catalogue: the first of a middle item's description.
    let word: String = r.dataset.items[r.len() / 2]
        .description
        .split_whitespace()
        .next()
        .unwrap_or("a")
        .to_lowercase();
    app.grid.filter.search = word.clone();
    time(app, &format!("filter search {word:?}"));
    app.grid.filter.search.clear();
    app.grid.filter.annotation = Some(0);
    time(app, "filter annotation = class 0");
    app.grid.filter.annotation = None;
    time(app, "no filter");

    // Cancel latency: re-run on the 100k catalogue, cancel mid-classification.
    let ctx = h.ctx.clone();
    let mut latencies = Vec::new();
    for wait_ms in [150, 400, 800] {
        h.state_mut().apply(&ctx, Command::Rerun);
        std::thread::sleep(Duration::from_millis(wait_ms));
        h.step();
        let stage = h.state().job.as_ref().map(|j| j.progress().stage.label());
        h.state_mut().apply(&ctx, Command::CancelRun);
        let t = Instant::now();
        while h.state().is_running() {
            h.step();
            std::thread::sleep(Duration::from_millis(1));
        }
        latencies.push((stage, ms(t.elapsed())));
    }
    println!("cancel → run ended (stage when cancelled, ms): {latencies:?}");
}

/// Writes the tiled 100k catalogue to `$TILED_DIR` (default /tmp/tiled100k) for timing the
/// real binary: `cargo test --release --bin pairwise-audit write_tiled -- --ignored`.
#[test]
#[ignore = "writes a 100k catalogue for manual timing"]
fn write_tiled_100k() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    let sample = Dataset::load(&root).unwrap();
    let big = tiled(&sample, 54);
    let dir =
        std::path::PathBuf::from(std::env::var("TILED_DIR").unwrap_or("/tmp/tiled100k".into()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut w = csv::Writer::from_path(dir.join("items.csv")).unwrap();
    w.write_record(["id", "description", "image", "label"])
        .unwrap();
    for it in &big.items {
        let image = it
            .image
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let label = it
            .label
            .map(|c| big.class_name(c).to_string())
            .unwrap_or_default();
        w.write_record([
            it.id.as_str(),
            it.description.as_str(),
            image.as_str(),
            label.as_str(),
        ])
        .unwrap();
    }
    w.flush().unwrap();
    std::fs::copy(root.join("classes.csv"), dir.join("classes.csv")).unwrap();
    ndarray_npy::write_npy(dir.join("class_embeddings.npy"), &big.class_embeddings).unwrap();
    ndarray_npy::write_npy(
        dir.join("image_embeddings.npy"),
        big.image_embeddings.as_ref().unwrap(),
    )
    .unwrap();
    ndarray_npy::write_npy(
        dir.join("text_embeddings.npy"),
        big.text_embeddings.as_ref().unwrap(),
    )
    .unwrap();
    let images = dir.join("images");
    if !images.exists() {
        std::os::unix::fs::symlink(root.join("images"), images).unwrap();
    }
    let back = Dataset::load(&dir).unwrap();
    assert_eq!(back.len(), big.len());
}
