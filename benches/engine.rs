//! Engine benchmarks at the size of the write-up: n = 50 000 items, d = 768, C = 13, both
//! modalities, from the in-memory synthetic generator.
//!
//!     cargo bench --no-default-features --bench engine
//!
//! (`--no-default-features` only skips building the app; the engine is the same.)

use criterion::{Criterion, criterion_group, criterion_main};
use pairwise_audit::synth::{SynthParams, generate};
use pairwise_audit::{Dataset, Monitor, Params, baseline, classify, selection, tournament};

fn catalogue() -> Dataset {
    generate(&SynthParams {
        n: 50_000,
        d: 768,
        classes: 13,
        seed: 1,
        ..SynthParams::default()
    })
    .into_dataset()
}

fn engine(c: &mut Criterion) {
    let ds = catalogue();
    let params = Params::default();
    let monitor = Monitor::new();
    let x = ds.image_embeddings.as_ref().unwrap().view();
    let k = ds.class_embeddings.view();

    let mut g = c.benchmark_group("n50k_d768_c13");
    g.sample_size(20);

    g.bench_function("classify_both_modalities", |b| {
        b.iter(|| classify(&ds, &params, &monitor).unwrap())
    });

    g.bench_function("baseline_one_modality", |b| {
        b.iter(|| baseline::baseline(x, k, &monitor).unwrap())
    });

    let base = baseline::baseline(x, k, &monitor).unwrap();
    g.bench_function("selection_one_modality", |b| {
        b.iter(|| {
            selection::select(
                x,
                &base.inv_norms,
                base.scores.view(),
                &base.labels,
                &params,
                &monitor,
            )
            .unwrap()
        })
    });

    let (_, pairs) = selection::select(
        x,
        &base.inv_norms,
        base.scores.view(),
        &base.labels,
        &params,
        &monitor,
    )
    .unwrap();
    let perms = tournament::draw_permutations(ds.num_classes(), params.seed);
    g.bench_function("tournament_one_modality", |b| {
        b.iter(|| tournament::run(x, k, &pairs, &perms, &monitor).unwrap())
    });
    g.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
