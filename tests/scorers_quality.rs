//! The annotation-aware scorers on a small synthetic catalogue with injected flips: they must
//! find the flips far better than the zero-shot margin, and their evidence must hold up.

use ndarray::Array2;
use pairwise_audit::evaluate::{FlipMode, auroc, inject_flips, precision_recall_at_k};
use pairwise_audit::scorers::{self, Inputs, ScorerKind, ScorerParams, View, unit_rows};
use pairwise_audit::{ClassId, Modality};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

const N: usize = 1200;
const C: usize = 5;
const D: usize = 48;
const SPREAD: f32 = 3.5;
const PROMPT_NOISE: f32 = 2.0;

/// Classes are Gaussian clusters in each view; the class prompts are the true centres plus
/// a large shared error, so the zero-shot margin is informative but weak — as with real
/// prompts, which describe a class only roughly.
fn catalogue(seed: u64) -> (Inputs<'static>, Vec<Option<ClassId>>) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let unit = Normal::new(0.0f32, 1.0).unwrap();
    let centres = Array2::from_shape_fn((C, D), |_| unit.sample(&mut rng));
    let labels: Vec<Option<ClassId>> = (0..N).map(|i| Some((i * 7 + i / 13) % C)).collect();
    let view = |rng: &mut ChaCha8Rng, spread: f32| {
        Array2::from_shape_fn((N, D), |(i, j)| {
            centres[[labels[i].unwrap(), j]] + spread * unit.sample(rng)
        })
    };
    let image = view(&mut rng, SPREAD);
    let text = view(&mut rng, SPREAD * 1.1);
    let prompts = Array2::from_shape_fn((C, D), |(c, j)| {
        centres[[c, j]] + PROMPT_NOISE * unit.sample(&mut rng)
    });
    let inputs = Inputs {
        views: vec![
            // Raw rows: the scorers normalise on the fly.
            (Modality::Image, View::owned(image)),
            (Modality::Text, View::owned(text)),
        ],
        class_embeddings: unit_rows(prompts.view()),
        num_classes: C,
    };
    (inputs, labels)
}

fn quality(
    kind: ScorerKind,
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    wrong: &[bool],
) -> (f64, f64) {
    let s = scorers::score(kind, inputs, labels, &ScorerParams::default()).unwrap();
    let k = wrong.iter().filter(|&&w| w).count();
    let a = auroc(&s.score, wrong).unwrap();
    let (p, _) = precision_recall_at_k(&s.score, wrong, k).unwrap();
    (a, p)
}

#[test]
fn annotation_aware_scorers_beat_the_zero_shot_margin() {
    for seed in 0..2 {
        let (inputs, clean) = catalogue(seed);
        let f = inject_flips(&clean, C, 0.1, FlipMode::Uniform, None, seed).unwrap();
        let (zs_auc, zs_p) = quality(ScorerKind::ZeroShot, &inputs, &f.labels, &f.flipped);
        for kind in [
            ScorerKind::Prototype,
            ScorerKind::PairwisePrototype,
            ScorerKind::Whitened,
            ScorerKind::Knn,
            ScorerKind::Combined,
        ] {
            let (a, p) = quality(kind, &inputs, &f.labels, &f.flipped);
            assert!(
                a > zs_auc + 0.05,
                "{kind} AUROC {a:.3} vs zero-shot {zs_auc:.3}"
            );
            assert!(p > zs_p + 0.1, "{kind} P@k {p:.3} vs zero-shot {zs_p:.3}");
        }
        let (a, p) = quality(ScorerKind::Combined, &inputs, &f.labels, &f.flipped);
        assert!(a > 0.97 && p > 0.7, "combined AUROC {a:.3}, P@k {p:.3}");
    }
}

#[test]
fn challengers_point_back_to_the_true_class() {
    let (inputs, clean) = catalogue(5);
    let f = inject_flips(&clean, C, 0.1, FlipMode::Uniform, None, 5).unwrap();
    let s = scorers::score(
        ScorerKind::Combined,
        &inputs,
        &f.labels,
        &ScorerParams::default(),
    )
    .unwrap();
    let flipped: Vec<usize> = (0..N).filter(|&i| f.flipped[i]).collect();
    let recovered = flipped
        .iter()
        .filter(|&&i| s.challenger[i] == clean[i])
        .count();
    assert!(
        recovered as f64 > 0.85 * flipped.len() as f64,
        "{recovered} of {}",
        flipped.len()
    );
    // The explanation names the parts and carries the neighbours of both views.
    let e = s.explain(flipped[0]);
    let names: Vec<&str> = e.contributions.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        ["whitened/image", "whitened/text", "knn/image", "knn/text"]
    );
    let total: f64 = e.contributions.iter().map(|(_, v)| v).sum();
    assert!((total - e.score).abs() < 1e-9);
    assert_eq!(e.neighbours.len(), 2);
    assert_eq!(e.neighbours[0].1.len(), ScorerParams::default().knn_k);
    assert!(
        !e.neighbours[0].1.contains(&(flipped[0] as u32)),
        "an item is not its own neighbour"
    );
}

/// One wrong annotation among clean ones: ranked first, flagged, and its true class named;
/// no clean item is flagged. (`prototype::tests` checks the leave-one-out arithmetic itself.)
#[test]
fn a_lone_wrong_member_is_caught_by_leave_one_out() {
    let x = ndarray::array![
        [1.0f32, 0.0],
        [0.98, 0.2],
        [0.0, 1.0],
        [0.1, 0.99],
        [0.99, 0.1]
    ];
    // Item 4 sits with class 0 but is annotated 1.
    let labels = [Some(0), Some(0), Some(1), Some(1), Some(1)];
    let inputs = Inputs {
        views: vec![(Modality::Text, View::owned(x))],
        class_embeddings: ndarray::array![[1.0f32, 0.0], [0.0, 1.0]],
        num_classes: 2,
    };
    let s = scorers::score(
        ScorerKind::Prototype,
        &inputs,
        &labels,
        &ScorerParams::default(),
    )
    .unwrap();
    assert_eq!(s.ranking()[0], 4);
    assert!(s.flagged(4) && s.challenger[4] == Some(0));
    assert!((0..4).all(|i| !s.flagged(i)));
}

#[test]
fn trimming_keeps_quality_when_many_labels_are_wrong() {
    let (inputs, clean) = catalogue(9);
    let f = inject_flips(
        &clean,
        C,
        0.3,
        FlipMode::Confusable,
        Some(&sim(&inputs, &clean)),
        9,
    )
    .unwrap();
    let plain = scorers::score(
        ScorerKind::Prototype,
        &inputs,
        &f.labels,
        &ScorerParams::default(),
    )
    .unwrap();
    let trimmed = scorers::score(
        ScorerKind::Prototype,
        &inputs,
        &f.labels,
        &ScorerParams {
            trim: 0.3,
            ..ScorerParams::default()
        },
    )
    .unwrap();
    let a0 = auroc(&plain.score, &f.flipped).unwrap();
    let a1 = auroc(&trimmed.score, &f.flipped).unwrap();
    assert!(a1 >= a0 - 0.005, "trimmed {a1:.4} vs plain {a0:.4}");
}

fn sim(inputs: &Inputs, labels: &[Option<ClassId>]) -> Array2<f64> {
    pairwise_audit::evaluate::class_similarity(inputs, labels)
}

/// A class that nobody annotated has no prototype: it must never be named as a challenger
/// (a mean at the origin would otherwise attract every item in the whitened metric).
#[test]
fn a_class_without_annotations_is_never_a_challenger() {
    let (inputs, clean) = catalogue(11);
    // Nobody is annotated with class 4; its items keep no annotation.
    let labels: Vec<Option<ClassId>> = clean.iter().map(|l| l.filter(|&c| c != 4)).collect();
    for kind in [
        ScorerKind::Prototype,
        ScorerKind::PairwisePrototype,
        ScorerKind::Whitened,
        ScorerKind::Combined,
    ] {
        let s = scorers::score(kind, &inputs, &labels, &ScorerParams::default()).unwrap();
        assert!(
            s.challenger.iter().all(|c| *c != Some(4)),
            "{kind} names the empty class"
        );
        assert!(
            s.score.iter().all(|v| v.is_finite()),
            "{kind} has a non-finite score"
        );
        // The clean items flagged stay about as many as when class 4 is annotated too.
        let full = scorers::score(kind, &inputs, &clean, &ScorerParams::default()).unwrap();
        let count = |s: &scorers::Suspicion| {
            (0..N)
                .filter(|&i| labels[i].is_some() && s.flagged(i))
                .count()
        };
        assert!(
            count(&s) <= count(&full) + N / 100,
            "{kind}: {} vs {}",
            count(&s),
            count(&full)
        );
    }
}
