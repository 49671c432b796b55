//! Times the map's layout and measures how well it keeps neighbourhoods:
//!
//!     cargo run --release --example map_layout -- DATASET [joined|image|text] [sample]
//!
//! Prints, per stage, wall and process CPU seconds, then the share of each sampled item's 10
//! exact cosine neighbours kept among its 10 nearest map points, for the PCA and the layout.

use std::time::Instant;

use pairwise_audit::map::{self, MapParams, MapView, quality};
use pairwise_audit::scorers::unit_rows;
use pairwise_audit::{Dataset, Monitor};

fn cpu() -> f64 {
    // utime + stime of this process, from /proc (Linux only, as the benchmarks are).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit(')')
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(dir) = args.get(1) else {
        eprintln!("usage: map_layout DATASET [joined|image|text] [sample]");
        std::process::exit(2);
    };
    let view = match args.get(2).map(String::as_str) {
        Some("image") => MapView::Image,
        Some("text") => MapView::Text,
        _ => MapView::Joined,
    };
    let sample: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let ds = match Dataset::load(std::path::Path::new(dir)) {
        Ok(ds) => ds,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    println!(
        "{dir}: {} items, d = {}, view {}",
        ds.len(),
        ds.dim(),
        view.name()
    );
    let mut params = MapParams::default();
    if let Some(d) = std::env::var("MAP_DIMS").ok().and_then(|v| v.parse().ok()) {
        params.dims = d;
    }
    if let Some(e) = std::env::var("MAP_EPOCHS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        params.epochs = e;
    }
    println!("{params:?}");
    let (t, c) = (Instant::now(), cpu());
    let mut pca_at = None;
    let mut pca = None;
    let layout = map::compute(&ds, view, &params, &Monitor::new(), |l| {
        pca_at = Some((t.elapsed().as_secs_f64(), cpu() - c));
        pca = Some(l);
    })
    .expect("the catalogue has embeddings");
    let (wall, total_cpu) = (t.elapsed().as_secs_f64(), cpu() - c);
    let (pw, pc) = pca_at.unwrap_or_default();
    println!("PCA shown after: wall {pw:.2} s, cpu {pc:.2} s");
    println!(
        "whole layout ({} epochs): wall {wall:.2} s, cpu {total_cpu:.2} s",
        params.epochs_for(ds.len())
    );
    let units: Vec<_> = view
        .modalities(&ds)
        .into_iter()
        .filter_map(|m| ds.embeddings(m).map(|x| unit_rows(x.view())))
        .collect();
    let views: Vec<_> = units.iter().map(|u| u.view()).collect();
    let t = Instant::now();
    let q_pca = quality::preserved(
        &views,
        &pca.as_ref().expect("PCA came first").xy,
        10,
        sample,
    );
    let q_map = quality::preserved(&views, &layout.xy, 10, sample);
    // How much of that the graph itself keeps: the ceiling of any layout drawn from it.
    let space =
        map::space::build(&ds, &view.modalities(&ds), params.dims, &Monitor::new()).unwrap();
    if let Ok(out) = std::env::var("MAP_WRITE_SPACE") {
        ndarray_npy::write_npy(&out, &space).expect("the space file is writable");
    }
    // Another tool's layout of the same items (n × 2 .npy), measured the same way.
    if let Ok(other) = std::env::var("MAP_XY") {
        let xy: ndarray::Array2<f32> = ndarray_npy::read_npy(&other).expect("an n × 2 f32 .npy");
        let xy: Vec<[f32; 2]> = xy.rows().into_iter().map(|r| [r[0], r[1]]).collect();
        println!(
            "{other}: 10-NN kept {:.3}, annotation share of the 10 map neighbours {:.3}",
            quality::preserved(&views, &xy, 10, sample),
            quality::label_agreement(&ds.annotations(), &xy, 10, sample)
        );
    }
    let graph = map::space::neighbours(space, 10, &Monitor::new()).unwrap();
    let n = ds.len();
    let stride = n.div_ceil(sample.max(1)).max(1);
    let (mut hit, mut all) = (0usize, 0usize);
    for i in (0..n).step_by(stride) {
        let mut cos: Vec<(f32, usize)> = (0..n)
            .filter(|&j| j != i)
            .map(|j| {
                (
                    views.iter().map(|v| v.row(i).dot(&v.row(j))).sum::<f32>(),
                    j,
                )
            })
            .collect();
        cos.sort_by(|a, b| b.0.total_cmp(&a.0));
        let got = graph.indices.row(i);
        hit += cos[..10]
            .iter()
            .filter(|(_, j)| got.iter().any(|&g| g as usize == *j))
            .count();
        all += 10;
    }
    println!(
        "graph's 10-NN recall vs exact: {:.3}",
        hit as f64 / all as f64
    );
    let agree = |xy: &[[f32; 2]]| quality::label_agreement(&ds.annotations(), xy, 10, sample);
    println!(
        "share of the 10 map neighbours with the item's annotation: PCA {:.3}, layout {:.3}",
        agree(&pca.as_ref().expect("PCA came first").xy),
        agree(&layout.xy)
    );
    println!(
        "10-NN kept on the map ({sample} sampled items, exact cosine): PCA {q_pca:.3}, layout {q_map:.3} ({:.1} s to measure)",
        t.elapsed().as_secs_f64()
    );
}
