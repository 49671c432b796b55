use pairwise_audit::scorers::{self, Inputs, ScorerKind, ScorerParams};
use std::time::Instant;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let t = Instant::now();
    let ds = pairwise_audit::Dataset::load(std::path::Path::new(&path)).unwrap();
    println!("load {:.3}", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let inputs = Inputs::from_dataset(&ds, &[]);
    println!("inputs {:.3}", t.elapsed().as_secs_f64());
    let labels = ds.annotations();
    let x = &inputs.views[0].1;
    let t = Instant::now();
    let s = x.dot(&inputs.class_embeddings.t());
    println!("gemm n×C {:.3} {}", t.elapsed().as_secs_f64(), s[[0, 0]]);
    let t = Instant::now();
    let g = pairwise_audit::scorers::linalg::gram(x.view());
    println!("gram {:.3} {}", t.elapsed().as_secs_f64(), g[[0, 0]]);
    let w = ndarray::Array2::<f32>::eye(x.ncols());
    let t = Instant::now();
    let z = x.dot(&w);
    println!("n×d×d gemm {:.3} {}", t.elapsed().as_secs_f64(), z[[0, 0]]);
    let t = Instant::now();
    let l = pairwise_audit::scorers::linalg::cholesky(
        &(g.clone() + ndarray::Array2::<f64>::eye(x.ncols())),
    )
    .unwrap();
    println!("chol {:.3}", t.elapsed().as_secs_f64());
    let t = Instant::now();
    let li = pairwise_audit::scorers::linalg::invert_lower(&l);
    println!("inv {:.3} {}", t.elapsed().as_secs_f64(), li[[0, 0]]);
    for k in [
        ScorerKind::ZeroShot,
        ScorerKind::Prototype,
        ScorerKind::Whitened,
    ] {
        let t = Instant::now();
        let _ = scorers::score(k, &inputs, &labels, &ScorerParams::default()).unwrap();
        println!("{k} {:.3}", t.elapsed().as_secs_f64());
    }
}
