//! Per-pair selection: the floor and margin semantics, the kept moments, top-k and fallback.

use ndarray::{Array2, array};
use pairwise_audit::moments::{Moments, inv_norm};
use pairwise_audit::selection::{self, kept_moments, score_pairs, select, thresholds};
use pairwise_audit::{Monitor, PairKey, Params};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

/// Hand-made scores for 2 classes and 6 items (binary fractions, so gaps are exact).
/// Labels: [0, 0, 0, 1, 1, 1]; top cosines [0.5, 0.75, 0.25, 0.5, 0.625, 0.375];
/// gaps |S0 − S1| [0.25, 0.5, 0.125, 0.375, 0.5, 0.25].
fn two_class_scores() -> Array2<f64> {
    array![
        [0.5, 0.25],
        [0.75, 0.25],
        [0.25, 0.125],
        [0.125, 0.5],
        [0.125, 0.625],
        [0.125, 0.375],
    ]
}

#[test]
fn default_floor_and_margin_are_numpy_percentiles_of_top_cosine_and_gap() {
    let s = two_class_scores();
    let labels = [0, 0, 0, 1, 1, 1];
    let th = thresholds(s.view(), &labels, &Params::default(), &Monitor::new()).unwrap();
    // numpy.percentile([0.5, 0.75, 0.25, 0.5, 0.625, 0.375], 10) == 0.3125
    assert_eq!(th.floor, 0.3125);
    // numpy.percentile([0.25, 0.5, 0.125, 0.375, 0.5, 0.25], 25) == 0.25
    assert_eq!(th.margins, vec![0.25]);
    assert_eq!(th.members, vec![vec![0, 1, 2], vec![3, 4, 5]]);
}

#[test]
fn filters_apply_independently_and_keep_items_exactly_at_a_threshold() {
    let s = two_class_scores();
    let labels = [0, 0, 0, 1, 1, 1];
    // One-hot rows so each item's moments are recognisable: item i sits on dimension i.
    let x = Array2::<f32>::eye(6);
    let inv: Vec<f64> = x
        .rows()
        .into_iter()
        .map(|r| inv_norm(r.as_slice().unwrap()))
        .collect();
    let params = Params {
        floor: Some(0.375),
        margin: Some(0.25),
        min_items: 1,
        k: 6,
        ..Params::default()
    };
    let th = thresholds(s.view(), &labels, &params, &Monitor::new()).unwrap();
    let km = kept_moments(x.view(), &inv, s.view(), &th, &Monitor::new()).unwrap();
    // Class 0: item 2 fails the floor (0.25 < 0.375); item 0 sits exactly on the margin
    // (gap 0.25) and item 1 passes both → kept {0, 1}.
    // Class 1: item 5 sits exactly on the floor (0.375) and the margin (0.25), item 3 and 4
    // pass → kept {3, 4, 5}.
    let side0 = km.kept(0, 1);
    let side1 = km.kept(1, 0);
    assert_eq!(side0.count, 2);
    assert_eq!(side0.sum, vec![1.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(side1.count, 3);
    assert_eq!(side1.sum, vec![0.0, 0.0, 0.0, 1.0, 1.0, 1.0]);
    let recs = score_pairs(&th, &km, 6, &params);
    assert_eq!(recs[0].candidates, [3, 3]);
    assert_eq!(recs[0].kept, [2, 3]);
    assert_eq!((recs[0].floor, recs[0].margin), (0.375, 0.25));
    assert!(!recs[0].fallback);

    // Raise the margin just above item 0's gap: it goes, and the floor still removes item 2.
    let params = Params {
        margin: Some(0.2500001),
        ..params
    };
    let th = thresholds(s.view(), &labels, &params, &Monitor::new()).unwrap();
    let km = kept_moments(x.view(), &inv, s.view(), &th, &Monitor::new()).unwrap();
    assert_eq!(km.kept(0, 1).sum, vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0]);
    assert_eq!(km.kept(1, 0).count, 2);
}

#[test]
fn kept_moments_by_subtraction_equal_brute_force_per_pair() {
    let (n, d, c) = (600, 10, 4);
    let x = gaussian(n, d, 5);
    let k = gaussian(c, d, 6);
    let base = pairwise_audit::baseline::baseline(x.view(), k.view(), &Monitor::new()).unwrap();
    let params = Params::default();
    let th = thresholds(base.scores.view(), &base.labels, &params, &Monitor::new()).unwrap();
    let km = kept_moments(
        x.view(),
        &base.inv_norms,
        base.scores.view(),
        &th,
        &Monitor::new(),
    )
    .unwrap();
    for PairKey { a, b } in PairKey::all(c) {
        let margin = th.margins[PairKey::new(a, b).index(c)];
        for (side, other) in [(a, b), (b, a)] {
            let mut brute = Moments::new(d);
            for i in 0..n {
                let s = base.scores.row(i);
                let keep = base.labels[i] == side
                    && s[side].max(s[other]) >= th.floor
                    && (s[side] - s[other]).abs() >= margin;
                if keep {
                    let row: Vec<f64> = x
                        .row(i)
                        .iter()
                        .map(|&v| v as f64 * base.inv_norms[i])
                        .collect();
                    brute.add_row(&row);
                }
            }
            let fast = km.kept(side, other);
            assert_eq!(fast.count, brute.count, "pair ({a},{b}) side {side}");
            for j in 0..d {
                assert!((fast.sum[j] - brute.sum[j]).abs() < 1e-9);
                assert!((fast.sum_sq[j] - brute.sum_sq[j]).abs() < 1e-9);
            }
        }
    }
}

#[test]
fn top_k_ranks_by_ratio_with_ties_to_the_lower_dimension_and_falls_back_when_thin() {
    // Class 0 items near +e0, class 1 near −e4; dimensions 0 and 4 separate them most,
    // dimension 2 a little, dimensions 1, 3 and 5 are zero (constant after normalising).
    let x = array![
        [1.0f32, 0.0, 0.1, 0.0, 2.0, 0.0],
        [1.0, 0.0, 0.2, 0.0, 2.2, 0.0],
        [1.0, 0.0, 0.3, 0.0, 1.8, 0.0],
        [0.0, 0.0, 0.3, 0.0, -2.0, 0.0],
        [0.1, 0.0, 0.4, 0.0, -2.2, 0.0],
        [0.0, 0.0, 0.5, 0.0, -1.8, 0.0],
    ];
    let k = array![
        [1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0],
        [0.0, 1.0, 0.0, 0.0, -1.0, 0.0]
    ];
    let params = Params {
        k: 4,
        floor: Some(-1.0),
        margin: Some(0.0),
        min_items: 3,
        ..Params::default()
    };
    let base = pairwise_audit::baseline::baseline(x.view(), k.view(), &Monitor::new()).unwrap();
    assert_eq!(base.labels, vec![0, 0, 0, 1, 1, 1]);
    let (_, recs) = select(
        x.view(),
        &base.inv_norms,
        base.scores.view(),
        &base.labels,
        &params,
        &Monitor::new(),
    )
    .unwrap();
    let r = &recs[0];
    assert_eq!(r.kept, [3, 3]);
    assert!(!r.fallback);
    let mut top2 = r.dims[..2].to_vec();
    top2.sort();
    assert_eq!(top2, vec![0, 4]);
    assert!(r.ratios[4].min(r.ratios[0]) > r.ratios[2] && r.ratios[2] > 1.0);
    // Dimensions 1, 3, 5 are constant: ratio 1, and the lowest of them takes the last place.
    assert_eq!([r.ratios[1], r.ratios[3], r.ratios[5]], [1.0, 1.0, 1.0]);
    assert_eq!(&r.dims[2..], &[2, 1]);
    assert_eq!(
        r.dim_ratios,
        r.dims
            .iter()
            .map(|&j| r.ratios[j as usize])
            .collect::<Vec<_>>()
    );

    // One more item required per side than there are: every dimension, flagged.
    let thin = Params {
        min_items: 4,
        ..params
    };
    let (_, recs) = select(
        x.view(),
        &base.inv_norms,
        base.scores.view(),
        &base.labels,
        &thin,
        &Monitor::new(),
    )
    .unwrap();
    assert!(recs[0].fallback);
    assert_eq!(recs[0].dims, (0..6).collect::<Vec<u32>>());
    let th = thresholds(base.scores.view(), &base.labels, &thin, &Monitor::new()).unwrap();
    assert_eq!(selection::moments_progress_units(&th), 2);
    let stopped = Monitor::new();
    stopped.cancel();
    assert!(thresholds(base.scores.view(), &base.labels, &thin, &stopped).is_err());
}

#[test]
fn pairs_computed_on_demand_are_the_same_bits_as_the_one_pass_and_play_the_same_bracket() {
    // Chunks of 1,024 items per class: n spans several, so the merge order is exercised.
    let (n, d, c) = (7000, 24, 9);
    let x = gaussian(n, d, 11);
    let k = gaussian(c, d, 12);
    let m = Monitor::new();
    let base = pairwise_audit::baseline::baseline(x.view(), k.view(), &m).unwrap();
    let params = Params {
        k: 6,
        ..Params::default()
    };
    let th = thresholds(base.scores.view(), &base.labels, &params, &m).unwrap();
    let build = |eager| {
        selection::PairBasis::build_with(
            x.view(),
            &base.inv_norms,
            base.scores.view(),
            th.clone(),
            &params,
            eager,
            &m,
        )
        .unwrap()
    };
    let (eager, lazy) = (build(true), build(false));
    assert!(eager.is_eager() && !lazy.is_eager());
    let all: Vec<_> = PairKey::all(c)
        .into_iter()
        .map(|key| eager.record(x.view(), &base.inv_norms, base.scores.view(), key, true))
        .collect();
    for (key, want) in PairKey::all(c).into_iter().zip(&all) {
        let got = lazy.record(x.view(), &base.inv_norms, base.scores.view(), key, true);
        assert_eq!(&got, want, "pair {key:?}");
    }
    // The one-pass records are those of `score_pairs`.
    let km = kept_moments(x.view(), &base.inv_norms, base.scores.view(), &th, &m).unwrap();
    assert_eq!(score_pairs(&th, &km, d, &params), all);

    let perms = pairwise_audit::tournament::draw_permutations(c, 3);
    let full = pairwise_audit::tournament::run(x.view(), k.view(), &all, &perms, &m).unwrap();
    let (outcome, played) = pairwise_audit::tournament::run_lazy(
        x.view(),
        k.view(),
        |key| lazy.record(x.view(), &base.inv_norms, base.scores.view(), key, false),
        &perms,
        &m,
    )
    .unwrap();
    assert_eq!(outcome, full);
    assert!(!played.is_empty() && played.windows(2).all(|w| w[0].pair < w[1].pair));
    for rec in &played {
        let want = &all[rec.pair.index(c)];
        assert_eq!(rec.dims, want.dims);
        assert!(
            rec.ratios.is_empty() && rec.dim_ratios.is_empty(),
            "ratios are left out unless asked for"
        );
    }
    // Every item's bracket replays from the played records alone.
    for i in (0..n).step_by(701) {
        let t = pairwise_audit::tournament::trace(x.row(i), k.view(), &played, &perms);
        assert_eq!(t.last().unwrap().winner, full.labels[i], "item {i}");
    }
}
