use pairwise_audit::scorers::{self, Inputs, ScorerKind, ScorerParams};
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let ds = pairwise_audit::Dataset::load(std::path::Path::new(&a[1])).unwrap();
    let inputs = Inputs::from_dataset(&ds, &[]);
    let p = ScorerParams {
        metric_rank: a[3].parse().unwrap(),
        ..ScorerParams::default()
    };
    let s = scorers::score(
        ScorerKind::parse(&a[2]).unwrap(),
        &inputs,
        &ds.annotations(),
        &p,
    )
    .unwrap();
    for (i, v) in s.score.iter().enumerate() {
        println!("{v} {} {}", s.parts[0].values[i], s.challenger[i].unwrap());
    }
}
