//! Neighbour recall of the approximate search against exact cosine search, on sampled rows.
//!
//!     cargo run --release --example knn_recall -- DATASET [dims probe [rows [reference]]]
//!
//! For each modality: the time of the approximate search over every item, and recall@k of
//! its lists against the exact top-k (full dimension, brute force, among the same reference
//! items) of `rows` evenly spread items (default 300), with the exact search's time for
//! those rows.

use std::time::Instant;

use pairwise_audit::scorers::ann::{self, AnnParams};
use pairwise_audit::scorers::{Inputs, ScorerParams};
use pairwise_audit::{Dataset, Monitor};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = args.first() else {
        eprintln!("usage: knn_recall DATASET [dims probe [rows [reference]]]");
        std::process::exit(2);
    };
    let defaults = ScorerParams::default();
    let num = |i: usize, d: usize| args.get(i).map_or(d, |v| v.parse().expect("a number"));
    let params = AnnParams {
        dims: num(1, defaults.knn_dims),
        probe: num(2, defaults.knn_probe),
        reference: num(4, defaults.knn_reference_items),
    };
    let rows = num(3, 300);
    let k = defaults.knn_k;
    let ds = Dataset::load(std::path::Path::new(path)).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(1)
    });
    let inputs = Inputs::from_dataset(&ds, &[]);
    for (m, view) in &inputs.views {
        let x = view.rows();
        let n = x.nrows();
        let t = Instant::now();
        let nb = ann::neighbours(x, k, *m, params, &Monitor::new()).expect("not cancelled");
        let approx_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let step = (n / rows.max(1)).max(1);
        let sampled: Vec<usize> = (0..n).step_by(step).take(rows).collect();
        let mut hits = 0usize;
        for &i in &sampled {
            let xi = x.raw.row(i);
            // Against the same reference rows the approximate search looks among.
            let ref_stride = n.div_ceil(params.reference.max(2)).max(1);
            let mut all: Vec<(f32, u32)> = (0..n)
                .step_by(ref_stride)
                .filter(|&j| j != i)
                .map(|j| (xi.dot(&x.raw.row(j)) * x.inv_norm[j], j as u32))
                .collect();
            let kk = nb.k.min(all.len());
            if kk == 0 {
                continue;
            }
            all.select_nth_unstable_by(kk - 1, |a, b| b.0.total_cmp(&a.0));
            let exact: std::collections::HashSet<u32> = all[..kk].iter().map(|e| e.1).collect();
            hits += nb
                .indices
                .row(i)
                .iter()
                .filter(|j| exact.contains(j))
                .count();
        }
        println!(
            "{m}: n {n}, d {}, dims {}, probe {}: approximate search {approx_s:.2} s; \
             recall@{} {:.3} on {} rows (exact for those rows {:.2} s)",
            x.ncols(),
            params.dims,
            params.probe,
            nb.k,
            hits as f64 / (nb.k * sampled.len()).max(1) as f64,
            sampled.len(),
            t.elapsed().as_secs_f64()
        );
    }
}
