//! Flags and the head-to-head suspicion ranking on a hand-built catalogue whose margins can
//! be worked out by hand.
//!
//! d = 4, three classes whose prompts are the unit vectors e0, e1, e2 (dim 3 is unused).
//! Pair dims: (0,1) → [0,1], (0,2) → [0,2], (1,2) → [1,2]. On a pair's dims the cosine of
//! an item to a class is x_D·e_c/‖x_D‖ (0 when x_D = 0).

use ndarray::{Array2, array};
use pairwise_audit::audit::{Audit, FlagKind};
use pairwise_audit::dataset::{ClassInfo, Item};
use pairwise_audit::scorers::{Evidence, HeadToHead, Scorer, scorer_by_name};
use pairwise_audit::selection::PairRecord;
use pairwise_audit::{Classification, Dataset, Modality, ModalityResult, Monitor, PairKey, Params};

fn pair(a: usize, b: usize, dims: &[u32]) -> PairRecord {
    PairRecord {
        pair: PairKey::new(a, b),
        candidates: [1, 1],
        kept: [1, 1],
        floor: 0.0,
        margin: 0.0,
        fallback: false,
        dims: dims.to_vec(),
        dim_ratios: vec![1.0; dims.len()],
        ratios: vec![1.0; 4],
    }
}

fn result(m: Modality, pairwise: Vec<usize>, scores: Array2<f64>) -> ModalityResult {
    let n = pairwise.len();
    ModalityResult {
        modality: m,
        inv_norms: vec![1.0; n],
        baseline: pairwise.clone(),
        scores,
        floor: 0.0,
        pairs: vec![
            pair(0, 1, &[0, 1]),
            pair(0, 2, &[0, 2]),
            pair(1, 2, &[1, 2]),
        ],
        pairwise_margin: vec![0.1; n],
        pairwise,
        permutations: vec![vec![0, 1, 2], vec![0, 1]],
        timings: vec![],
        basis: None,
        present: None,
    }
}

fn dataset(labels: &[Option<usize>]) -> Dataset {
    let image = array![
        [1.0f32, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.6, 0.8, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
    ];
    let text = array![
        [1.0f32, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [1.0, 0.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
    ];
    Dataset {
        root: ".".into(),
        items: labels
            .iter()
            .enumerate()
            .map(|(i, &label)| Item {
                id: format!("item{i}"),
                description: String::new(),
                image: None,
                label,
            })
            .collect(),
        classes: ["shirt", "dress", "shoe"]
            .iter()
            .map(|n| ClassInfo {
                name: n.to_string(),
                prompt: format!("a photo of a {n}"),
            })
            .collect(),
        class_embeddings: array![
            [1.0f32, 0.0, 0.0, 0.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 0.0]
        ],
        image_embeddings: Some(image),
        text_embeddings: Some(text),
        warnings: vec![],
        missing_images: 0,
        fingerprint: String::new(),
        views: Default::default(),
        table: None,
    }
}

const LABELS: [Option<usize>; 5] = [Some(0), Some(0), Some(0), None, Some(1)];

fn classification(with_image: bool) -> Classification {
    let scores = Array2::from_shape_fn((5, 3), |(i, c)| {
        if c == 0 {
            0.9
        } else {
            0.5 - 0.1 * (i + c) as f64
        }
    });
    Classification {
        params: Params::default(),
        image: with_image.then(|| result(Modality::Image, vec![0, 1, 1, 0, 2], scores.clone())),
        text: Some(result(Modality::Text, vec![0, 1, 0, 2, 1], scores)),
        one_vs_rest: None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 // f32 inputs
}

#[test]
fn flags_use_the_pairwise_labels() {
    let ds = dataset(&LABELS);
    let audit = Audit::run(&ds, &classification(true), &HeadToHead, &Monitor::new()).unwrap();
    // image [0,1,1,0,2], text [0,1,0,2,1], annotation [0,0,0,–,1]
    assert_eq!(
        audit.kinds,
        vec![
            FlagKind::None,
            FlagKind::AgreeNotAnnotation,
            FlagKind::OneNotAnnotation,
            FlagKind::ImageTextDisagree,
            FlagKind::OneNotAnnotation,
        ]
    );
    let c = audit.counts();
    assert_eq!((c.items, c.annotated, c.flagged), (5, 4, 4));
    assert_eq!(
        (
            c.agree_not_annotation,
            c.both_not_annotation,
            c.one_not_annotation,
            c.image_text_disagree
        ),
        (1, 0, 2, 1)
    );
    // image ≠ text: items 2, 3, 4; image ≠ annotation: 1, 2, 4; text ≠ annotation: 1.
    assert_eq!(
        (
            c.flag_image_text_disagree,
            c.flag_image_not_annotation,
            c.flag_text_not_annotation
        ),
        (3, 3, 1)
    );
}

#[test]
fn suspicion_is_the_strongest_challengers_summed_margin() {
    // item0 (x = e0 both views, annotated 0): every challenger loses 1 per view → −2, tie → 1.
    // item1 (e1 / e1, annotated 0): class 1 on [0,1] wins by 1 per view → +2; class 2 on
    //        [0,2] sees a zero vector → 0.
    // item2 (image (.6,.8,0,0), text e0, annotated 0): class 1: image .8 − .6 = +.2, text −1
    //        → −.8; class 2: image −1, text −1 → −2. Challenger 1, −0.8.
    // item3 has no annotation → no score.
    // item4 (image e2, text e1, annotated 1): class 0: image 0 (zero on [0,1]), text −1 → −1;
    //        class 2: image +1, text −1 → 0. Challenger 2, 0.
    let ds = dataset(&LABELS);
    let audit = Audit::run(&ds, &classification(true), &HeadToHead, &Monitor::new()).unwrap();
    let expect = [
        Some((-2.0, 1)),
        Some((2.0, 1)),
        Some((-0.8, 1)),
        None,
        Some((0.0, 2)),
    ];
    for (i, e) in expect.iter().enumerate() {
        let got = audit.scores.items[i]
            .as_ref()
            .map(|s| (s.score, s.challenger));
        match (got, e) {
            (Some((s, c)), Some((es, ec))) => {
                assert!(close(s, *es), "item {i}: score {s}, expected {es}");
                assert_eq!(c, *ec, "item {i}: challenger");
            }
            (None, None) => {}
            _ => panic!("item {i}: {got:?} vs {e:?}"),
        }
    }
    match &audit.scores.items[2].as_ref().unwrap().evidence {
        Evidence::HeadToHead { image, text } => {
            assert!(close(image.unwrap(), 0.2) && close(text.unwrap(), -1.0));
        }
        other => panic!("head-to-head evidence expected, found {other:?}"),
    }
    assert_eq!(audit.ranking(), vec![1, 4, 2, 0, 3]);
    // item0 is not flagged, so flagged.csv keeps the rest in the same order.
    assert_eq!(audit.flagged_ranking(), vec![1, 4, 2, 3]);
}

#[test]
fn a_one_modality_run_scores_on_that_modality_only() {
    let ds = dataset(&LABELS);
    let audit = Audit::run(&ds, &classification(false), &HeadToHead, &Monitor::new()).unwrap();
    // Text only: item1 → class 1 by +1; item4 (text e1, annotated 1) → both challengers −1,
    // tie to class 0; item2 (text e0, annotated 0) → −1.
    let s = |i: usize| audit.scores.items[i].as_ref().unwrap();
    assert!(close(s(1).score, 1.0) && s(1).challenger == 1);
    assert!(close(s(4).score, -1.0) && s(4).challenger == 0);
    assert!(matches!(
        s(1).evidence,
        Evidence::HeadToHead {
            image: None,
            text: Some(_)
        }
    ));
    // Text labels [0,1,0,2,1] vs annotation [0,0,0,–,1]: only item1 is off.
    assert_eq!(audit.kinds[1], FlagKind::OneNotAnnotation);
    assert_eq!(audit.counts().flagged, 1);
}

#[test]
fn injected_annotations_replace_the_datasets() {
    // Relabel item0 as class 2: its image and text (e0) both beat class 2 on [0,2] by 1.
    let ds = dataset(&LABELS);
    let mut labels = LABELS.to_vec();
    labels[0] = Some(2);
    let audit = Audit::with_annotations(
        &ds,
        &classification(true),
        labels,
        &HeadToHead,
        &Monitor::new(),
    )
    .unwrap();
    let s = audit.scores.items[0].as_ref().unwrap();
    assert!(close(s.score, 2.0) && s.challenger == 0);
    assert_eq!(audit.kinds[0], FlagKind::AgreeNotAnnotation);
}

#[test]
fn the_registry_finds_the_default_scorer() {
    let s = scorer_by_name(pairwise_audit::scorers::DEFAULT_SCORER).expect("default registered");
    assert_eq!(s.name(), "combined");
    assert!(scorer_by_name(HeadToHead.name()).is_some());
    assert!(scorer_by_name("no-such-scorer").is_none());
}

#[test]
fn a_cancelled_monitor_stops_the_scorer() {
    let ds = dataset(&LABELS);
    let m = Monitor::new();
    m.cancel();
    assert!(Audit::run(&ds, &classification(true), &HeadToHead, &m).is_err());
}

#[test]
fn fallback_pairs_score_from_the_baseline_cosines() {
    // Pair (0,1) uses every dimension (a fallback): its margin comes from the baseline
    // cosines instead of a pass over d. It must agree with the engine's head_to_head.
    use pairwise_audit::tournament::head_to_head;
    let ds = dataset(&LABELS);
    let k = &ds.class_embeddings;
    let mut cls = classification(true);
    for r in [cls.image.as_mut().unwrap(), cls.text.as_mut().unwrap()] {
        r.pairs[0] = pair(0, 1, &[0, 1, 2, 3]);
        r.pairs[0].fallback = true;
        let x = ds.embeddings(r.modality).unwrap();
        // True cosines, as the engine's baseline computes them.
        r.scores = Array2::from_shape_fn((5, 3), |(i, c)| {
            let (xi, kc) = (x.row(i), k.row(c));
            let dot: f32 = xi.dot(&kc);
            (dot / (xi.dot(&xi).sqrt() * kc.dot(&kc).sqrt())) as f64
        });
    }
    let audit = Audit::run(&ds, &cls, &HeadToHead, &Monitor::new()).unwrap();
    for (i, label) in LABELS.iter().enumerate() {
        let Some(y) = *label else { continue };
        let mut best = (usize::MAX, f64::NEG_INFINITY);
        for c in (0..3).filter(|&c| c != y) {
            let key = PairKey::new(c, y);
            let mut total = 0.0;
            for r in [cls.image.as_ref().unwrap(), cls.text.as_ref().unwrap()] {
                let x = ds.embeddings(r.modality).unwrap().row(i);
                let h = head_to_head(x, k.view(), &r.pairs[key.index(3)]);
                total += if c == key.a { h } else { -h };
            }
            if total > best.1 {
                best = (c, total);
            }
        }
        let s = audit.scores.items[i].as_ref().unwrap();
        assert_eq!(s.challenger, best.0, "item {i}");
        assert!(
            close(s.score, best.1),
            "item {i}: {} vs {}",
            s.score,
            best.1
        );
    }
}
