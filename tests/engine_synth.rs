//! The synthetic generator, and the method's point on it: the pairwise tournament agrees with
//! the truth and across modalities clearly more than the full-embedding baseline.

use pairwise_audit::synth::{SynthParams, generate, to_dataset, write};
use pairwise_audit::{ClassifyError, Dataset, Modality, Monitor, Params, classify};

fn small(seed: u64) -> SynthParams {
    SynthParams {
        n: 2000,
        d: 768,
        seed,
        ..SynthParams::default()
    }
}

fn rate(a: &[usize], b: &[usize]) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / a.len() as f64
}

#[test]
fn generation_is_deterministic_per_seed_and_shaped_as_asked() {
    let p = SynthParams {
        n: 700,
        d: 64,
        classes: 5,
        flip: 0.2,
        seed: 9,
        ..SynthParams::default()
    };
    let a = generate(&p);
    let b = generate(&p);
    assert_eq!(a.image_embeddings, b.image_embeddings);
    assert_eq!(a.text_embeddings, b.text_embeddings);
    assert_eq!(a.class_embeddings, b.class_embeddings);
    assert_eq!(
        (a.truth.clone(), a.annotations.clone()),
        (b.truth.clone(), b.annotations.clone())
    );
    let c = generate(&SynthParams {
        seed: 10,
        ..p.clone()
    });
    assert_ne!(a.image_embeddings, c.image_embeddings);

    assert_eq!(a.image_embeddings.dim(), (700, 64));
    assert_eq!(a.text_embeddings.dim(), (700, 64));
    assert_eq!(a.class_embeddings.dim(), (5, 64));
    assert_eq!(a.class_names.len(), 5);
    let flipped = a
        .truth
        .iter()
        .zip(&a.annotations)
        .filter(|(t, l)| t != l)
        .count();
    assert!(
        (90..=190).contains(&flipped),
        "{flipped} of 700 flipped at 0.2"
    );
    // Every class occurs, and not equally often.
    let mut sizes = vec![0; 5];
    for &t in &a.truth {
        sizes[t] += 1;
    }
    assert!(sizes.iter().all(|&s| s > 0), "{sizes:?}");
    assert!(
        sizes.iter().max().unwrap() > &(2 * sizes.iter().min().unwrap()),
        "{sizes:?}"
    );
}

#[test]
fn written_catalogue_loads_with_the_dataset_loader() {
    let p = SynthParams {
        n: 50,
        d: 16,
        classes: 4,
        seed: 3,
        ..SynthParams::default()
    };
    let s = generate(&p);
    let dir = tempfile::tempdir().unwrap();
    write(&s, dir.path()).unwrap();
    let ds = Dataset::load(dir.path()).unwrap();
    assert_eq!(ds.len(), 50);
    assert_eq!(ds.num_classes(), 4);
    assert_eq!(ds.image_embeddings.as_ref().unwrap(), &s.image_embeddings);
    assert_eq!(ds.text_embeddings.as_ref().unwrap(), &s.text_embeddings);
    assert_eq!(ds.class_embeddings, s.class_embeddings);
    let labels: Vec<Option<usize>> = s.annotations.iter().map(|&a| Some(a)).collect();
    assert_eq!(ds.annotations(), labels);
    let truth = std::fs::read_to_string(dir.path().join("truth.csv")).unwrap();
    let mut lines = truth.lines();
    assert_eq!(lines.next(), Some("id,label"));
    assert_eq!(
        lines.next(),
        Some(format!("{},{}", s.ids[0], s.class_names[s.truth[0]]).as_str())
    );
    assert_eq!(lines.count(), 49);
}

#[test]
fn pairwise_labels_beat_the_baseline_on_a_synthetic_catalogue() {
    let s = generate(&small(1));
    let truth = s.truth.clone();
    let ds = to_dataset(&s);
    let r = classify(&ds, &Params::default(), &Monitor::new()).unwrap();
    let (im, tx) = (r.image.as_ref().unwrap(), r.text.as_ref().unwrap());
    let base_agree = rate(&im.baseline, &tx.baseline);
    let pw_agree = rate(&im.pairwise, &tx.pairwise);
    assert!(
        pw_agree > base_agree + 0.15,
        "image–text agreement: baseline {base_agree:.3}, pairwise {pw_agree:.3}"
    );
    for m in [im, tx] {
        let base = rate(&m.baseline, &truth);
        let pw = rate(&m.pairwise, &truth);
        assert!(
            pw > base + 0.1,
            "{}: accuracy baseline {base:.3}, pairwise {pw:.3}",
            m.modality
        );
    }
    // The run reports what it did.
    assert_eq!(
        im.permutations,
        pairwise_audit::tournament::draw_permutations(13, 0)
    );
    let names: Vec<&str> = im.timings.iter().map(|t| t.0).collect();
    assert_eq!(names, ["baseline", "moments", "selection", "tournament"]);
    assert_eq!(im.pairs.len(), 78);
    assert!(
        im.pairs
            .iter()
            .filter(|p| !p.fallback)
            .all(|p| p.dims.len() == 100)
    );
}

#[test]
fn classify_honours_modalities_permutations_and_cancel() {
    let s = generate(&SynthParams {
        n: 300,
        d: 32,
        classes: 3,
        seed: 4,
        ..SynthParams::default()
    });
    let ds = to_dataset(&s);
    let text_only = Params {
        modalities: vec![Modality::Text],
        permutations: Some(vec![vec![2, 0, 1], vec![1, 0]]),
        ..Params::default()
    };
    let r = classify(&ds, &text_only, &Monitor::new()).unwrap();
    assert!(r.image.is_none());
    assert_eq!(r.modalities(), vec![Modality::Text]);
    assert_eq!(
        r.text.unwrap().permutations,
        vec![vec![2, 0, 1], vec![1, 0]]
    );

    let bad = Params {
        permutations: Some(vec![vec![0, 1, 2], vec![0, 0]]),
        ..Params::default()
    };
    match classify(&ds, &bad, &Monitor::new()) {
        Err(ClassifyError::BadPermutations(msg)) => {
            assert!(msg.starts_with("round 1 of the permutations"), "{msg}")
        }
        other => panic!("expected BadPermutations, got {other:?}"),
    }

    let stopped = Monitor::new();
    stopped.cancel();
    assert_eq!(
        classify(&ds, &Params::default(), &stopped).unwrap_err(),
        ClassifyError::Cancelled
    );
}

#[test]
fn results_are_the_same_bits_at_any_thread_count() {
    let s = generate(&SynthParams {
        n: 3000,
        d: 48,
        classes: 6,
        seed: 8,
        ..SynthParams::default()
    });
    let ds = to_dataset(&s);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            classify(
                &ds,
                &Params {
                    k: 10,
                    ..Params::default()
                },
                &Monitor::new(),
            )
        })
        .unwrap()
    };
    let (one, three) = (run(1), run(3));
    for m in [Modality::Image, Modality::Text] {
        let (a, b) = (one.get(m).unwrap(), three.get(m).unwrap());
        assert_eq!(a.scores, b.scores);
        assert_eq!(a.pairs, b.pairs, "{m}: pair records differ");
        assert_eq!(a.pairwise, b.pairwise);
        assert_eq!(a.pairwise_margin, b.pairwise_margin);
    }
}

#[test]
fn zipf_sets_how_unequal_the_class_sizes_are() {
    let sizes = |zipf: f64| {
        let s = generate(&SynthParams {
            n: 20_000,
            d: 16,
            classes: 50,
            zipf,
            ..SynthParams::default()
        });
        let mut counts = vec![0usize; 50];
        for &t in &s.truth {
            counts[t] += 1;
        }
        counts.sort_unstable();
        (counts[0], counts[49])
    };
    let (small, big) = sizes(0.0);
    assert!(big < 2 * small, "balanced: {small}..{big}");
    let (small, big) = sizes(1.0);
    // Zipf's law over 50 ranks: the largest class is 50× the smallest in expectation.
    assert!(big > 20 * small.max(1), "zipf 1: {small}..{big}");
}

#[test]
fn departments_share_a_signature_and_the_binary_step_carves_one_out() {
    let p = SynthParams {
        n: 4000,
        d: 768,
        classes: 12,
        departments: 3,
        seed: 4,
        ..SynthParams::default()
    };
    let s = generate(&p);
    let (fine_names, fine) = s.fine_truth.clone().expect("a department catalogue");
    assert_eq!(fine_names.len(), 12);
    assert_eq!(s.class_names, ["clothing", "electronics", "home"]);
    assert_eq!(s.class_embeddings.nrows(), 3);
    for (t, f) in s.truth.iter().zip(&fine) {
        assert_eq!(*t, pairwise_audit::synth::department_of(*f, 3));
    }
    // Without departments the same seed draws the same classes.
    let plain = generate(&SynthParams {
        departments: 0,
        ..p.clone()
    });
    assert_eq!(plain.truth, fine);

    let ds = s.clone().into_dataset();
    let params = Params {
        one_vs_rest: Some(pairwise_audit::one_vs_rest::OneVsRestParams {
            class: "clothing".into(),
            ..Default::default()
        }),
        ..Params::default()
    };
    let cls = classify(&ds, &params, &Monitor::new()).unwrap();
    let ovr = cls.one_vs_rest.as_ref().unwrap();
    let truly = |i: usize| s.truth[i] == 0;
    for m in [Modality::Image, Modality::Text] {
        let v = ovr.get(m).unwrap();
        let acc = |set| {
            (0..p.n)
                .filter(|&i| v.says_class(i, set) == Some(truly(i)))
                .count() as f64
                / p.n as f64
        };
        let (full, sub) = (
            acc(pairwise_audit::one_vs_rest::DimSet::Full),
            acc(pairwise_audit::one_vs_rest::DimSet::Selected),
        );
        assert!(
            sub > full && sub > 0.97,
            "{m}: full {full:.3}, sub {sub:.3}"
        );
    }
}
