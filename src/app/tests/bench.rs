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
    let dir = tempfile::tempdir().unwrap();
    measure(Arc::new(in_folder(&synth, dir.path())));
}

/// A thousand classes: every side tab's frame time on 20 000 items (issue 8: no frame over
/// 16 ms at 1,000 classes).
#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn bench_classes_1000() {
    let synth = pairwise_audit::synth::generate(&pairwise_audit::synth::SynthParams {
        n: 20_000,
        classes: 1000,
        flip: 0.1,
        ..Default::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let big = Arc::new(in_folder(&synth, dir.path()));
    let ds = big.clone();
    let engine = worker::engine_pipeline();
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
        "1 000 classes, 20 000 items: classify + audit + view model {:.1} s",
        t.elapsed().as_secs_f64()
    );
    h.run_steps(3);
    for tab in crate::app::state::Tab::ALL {
        h.state_mut().apply(&ctx, Command::ShowTab(tab));
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        for k in 0..120 {
            // A new selection every few frames, so the detail and inspector redraw for it.
            if k % 10 == 0 {
                let i = (k * 97) % big.len();
                h.state_mut().apply(&ctx, Command::Select(Some(i)));
            }
            let (t, c) = (Instant::now(), thread_cpu());
            h.step();
            wall.push(ms(t.elapsed()));
            cpu.push(ms(thread_cpu() - c));
        }
        println!(
            "{} tab, 120 frames:\n  wall {}\n  cpu  {}",
            tab.label(),
            summary(&mut wall),
            summary(&mut cpu)
        );
    }
}

/// The catalogue in memory, rooted in `dir` so that the decision log and the map's cache go
/// there rather than into the working directory.
fn in_folder(synth: &pairwise_audit::synth::Synthetic, dir: &Path) -> Dataset {
    let mut ds = pairwise_audit::synth::to_dataset(synth);
    ds.root = dir.to_path_buf();
    ds
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

    map_frames(&mut h);

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

/// One frame of a pan: the pointer dragged `step` further with the button held.
fn pan_frame(h: &mut Harness<'_, AuditApp>, at: egui::Pos2) -> (f64, f64) {
    h.event(egui::Event::PointerMoved(at));
    let (t, c) = (Instant::now(), thread_cpu());
    h.step();
    (ms(t.elapsed()), ms(thread_cpu() - c))
}

/// The Map screen on the loaded catalogue: frames while the layout runs on the worker, the
/// layout's time, then panning and zooming the finished map.
fn map_frames(h: &mut Harness<'_, AuditApp>) {
    h.state_mut().persisted.central = crate::app::map::Central::Map;
    h.run_steps(2);
    let rect = h.state().map.rect.unwrap_or(egui::Rect::from_min_size(
        egui::pos2(300.0, 150.0),
        egui::vec2(700.0, 600.0),
    ));
    let centre = rect.center();
    let press = |h: &mut Harness<'_, AuditApp>, pressed: bool, pos: egui::Pos2| {
        h.event(egui::Event::PointerButton {
            pos,
            button: egui::PointerButton::Primary,
            pressed,
            modifiers: egui::Modifiers::NONE,
        });
    };
    let t = Instant::now();
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    while h.state().map.is_computing() && t.elapsed() < Duration::from_secs(900) {
        let (w, c) = pan_frame(h, centre);
        wall.push(w);
        cpu.push(c);
        std::thread::sleep(Duration::from_millis(10));
    }
    let layout_s = t.elapsed().as_secs_f64();
    println!(
        "map layout on the worker: {layout_s:.1} s; {} UI frames meanwhile:\n  wall {}\n  cpu  {}",
        wall.len(),
        summary(&mut wall),
        summary(&mut cpu)
    );
    h.run_steps(3);
    for (what, zoom) in [("pan", false), ("zoom", true)] {
        let (mut wall, mut cpu) = (Vec::new(), Vec::new());
        press(h, true, centre);
        for k in 0..300 {
            let (w, c) = if zoom {
                h.event(egui::Event::MouseWheel {
                    unit: egui::MouseWheelUnit::Point,
                    delta: egui::vec2(0.0, if k < 150 { 40.0 } else { -40.0 }),
                    phase: egui::TouchPhase::Move,
                    source: egui::MouseWheelSource::Unknown,
                    modifiers: egui::Modifiers::NONE,
                });
                pan_frame(h, centre)
            } else {
                let dx = 150.0 * ((k as f32) / 40.0).sin();
                pan_frame(h, centre + egui::vec2(dx, 0.3 * dx))
            };
            wall.push(w);
            cpu.push(c);
        }
        press(h, false, centre);
        h.run_steps(2);
        println!(
            "map {what}, {} frames, {} points drawn:\n  wall {}\n  cpu  {}",
            wall.len(),
            h.state().map.drawn,
            summary(&mut wall),
            summary(&mut cpu)
        );
    }
    h.state_mut().persisted.central = crate::app::map::Central::Grid;
    h.run_steps(2);
}

/// The map's drawing alone at 100k and 1M points (no catalogue behind it): building the
/// mesh, egui's frame and the tessellation into GPU triangles, per pan step.
#[test]
#[ignore = "benchmark: run in release with --ignored --nocapture"]
fn bench_map_canvas() {
    use crate::app::map::{DRAW_BUDGET, canvas};
    for n in [100_000usize, 1_000_000] {
        // A few hundred blobs, like a layout's clusters.
        let xy: Vec<[f32; 2]> = (0..n)
            .map(|i| {
                let c = (i % 300) as f32;
                let h = |k: u64| {
                    ((i as u64 * 0x9E37_79B9 + k * 0x85EB_CA6B) % 10_000) as f32 / 10_000.0
                };
                [
                    (c % 20.0) * 3.0 + 2.0 * h(1),
                    (c / 20.0).floor() * 3.0 + 2.0 * h(2),
                ]
            })
            .collect();
        let category: Vec<u16> = (0..n).map(|i| (i % 13) as u16).collect();
        let colours = vec![egui::Color32::LIGHT_BLUE; 13];
        let hidden = vec![false; 13];
        let shown: Vec<bool> = (0..n).map(|i| i % 3 != 0).collect();
        let mut frame = 0usize;
        let mut h = Harness::builder()
            .with_size([1200.0, 800.0])
            .build_ui(|ui| {
                let rect = ui.max_rect();
                let mut cam = canvas::Camera::fit(([0.0, 0.0], [60.0, 45.0]), rect);
                cam.pan(egui::vec2(3.0 * (frame % 50) as f32, 0.0));
                frame += 1;
                let paint = canvas::Paint {
                    category: &category,
                    colours: &colours,
                    hidden: &hidden,
                    shown: Some(&shown),
                    size: 2.0,
                    budget: DRAW_BUDGET,
                };
                let (meshes, _) = canvas::mesh(&xy, &cam, rect, &paint);
                for mesh in meshes {
                    ui.painter().add(egui::Shape::mesh(mesh));
                }
            });
        h.run_steps(3);
        let (mut wall, mut cpu, mut tess) = (Vec::new(), Vec::new(), Vec::new());
        for _ in 0..100 {
            let (t, c) = (Instant::now(), thread_cpu());
            h.step();
            wall.push(ms(t.elapsed()));
            cpu.push(ms(thread_cpu() - c));
            let shapes = h.output().shapes.clone();
            let t = Instant::now();
            let prims = h.ctx.tessellate(shapes, 1.0);
            tess.push(ms(t.elapsed()));
            drop(prims);
        }
        println!(
            "map canvas, {n} points (at most {DRAW_BUDGET} drawn):\n  frame wall {}\n  frame cpu  {}\n  tessellate {}",
            summary(&mut wall),
            summary(&mut cpu),
            summary(&mut tess)
        );
    }
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
