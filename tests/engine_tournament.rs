//! The bracket of METHOD.md §5: shape, replay against hand-traced brackets, and the k = d
//! equivalence with the baseline.

use ndarray::{Array2, array};
use pairwise_audit::classify::classify_modality;
use pairwise_audit::selection::PairRecord;
use pairwise_audit::tournament::{self, Match, draw_permutations, head_to_head, trace};
use pairwise_audit::{Modality, Monitor, PairKey, Params};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};

fn gaussian(rows: usize, cols: usize, seed: u64) -> Array2<f32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    Array2::from_shape_simple_fn((rows, cols), || StandardNormal.sample(&mut rng))
}

/// A hand-made record: only `pair` and `dims` matter to the decision.
fn record(a: usize, b: usize, dims: &[u32]) -> PairRecord {
    PairRecord {
        pair: PairKey::new(a, b),
        candidates: [0, 0],
        kept: [0, 0],
        floor: 0.0,
        margin: 0.0,
        fallback: false,
        dims: dims.to_vec(),
        dim_ratios: vec![1.0; dims.len()],
        ratios: vec![],
    }
}

fn m(round: usize, a: usize, b: usize, winner: usize, margin: f64) -> Match {
    Match {
        round,
        a,
        b,
        winner,
        margin,
    }
}

fn assert_matches_close(got: &[Match], want: &[Match]) {
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(
            (g.round, g.a, g.b, g.winner),
            (w.round, w.a, w.b, w.winner),
            "{got:?}"
        );
        assert!((g.margin - w.margin).abs() < 1e-12, "{g:?} vs {w:?}");
    }
}

#[test]
fn every_item_plays_c_minus_one_matches_and_the_array_path_agrees_with_trace() {
    for &c in &[1usize, 2, 3, 13] {
        let (n, d) = (300, 24);
        let x = gaussian(n, d, c as u64);
        let k = gaussian(c, d, 100 + c as u64);
        let params = Params {
            k: 6,
            min_items: 2,
            seed: 3,
            ..Params::default()
        };
        let perms = draw_permutations(c, params.seed);
        assert_eq!(perms.len(), (c as f64).log2().ceil() as usize);
        let r = classify_modality(
            Modality::Image,
            x.view(),
            k.view(),
            &params,
            &perms,
            &Monitor::new(),
        )
        .unwrap();
        assert_eq!(r.pairs.len(), c * (c - 1) / 2);
        for i in 0..n {
            let t = trace(x.row(i), k.view(), &r.pairs, &perms);
            assert_eq!(t.len(), c - 1, "C = {c}");
            assert!(r.pairwise[i] < c);
            // Every class but the winner loses exactly once.
            let mut losses = vec![0; c];
            for mt in &t {
                assert!(mt.a < mt.b && (mt.winner == mt.a || mt.winner == mt.b));
                assert_eq!(mt.winner == mt.a, mt.margin >= 0.0);
                losses[if mt.winner == mt.a { mt.b } else { mt.a }] += 1;
            }
            let winner = t.last().map_or(0, |mt| mt.winner);
            assert_eq!(r.pairwise[i], winner, "item {i}, C = {c}");
            assert_eq!(losses.iter().sum::<usize>(), c - 1);
            assert_eq!(losses[winner], 0);
            let final_margin = t.last().map_or(0.0, |mt| mt.margin.abs());
            assert_eq!(r.pairwise_margin[i], final_margin);
        }
    }
}

#[test]
fn with_every_dimension_the_bracket_reproduces_the_baseline_argmax() {
    let (n, d, c) = (400, 16, 13);
    let mut x = gaussian(n, d, 1);
    x.row_mut(7).fill(0.0); // cosine 0 with every class: class 0 on both sides
    let mut k = gaussian(c, d, 2);
    // Two identical classes: exact ties, which both sides must give to the lower index.
    let dup = k.row(3).to_owned();
    k.row_mut(9).assign(&dup);
    for (k_dims, min_items) in [(d, 2), (5, 100_000)] {
        // k = d, or k < d with every pair falling back to all dimensions.
        let params = Params {
            k: k_dims,
            min_items,
            ..Params::default()
        };
        for seed in 0..4 {
            let perms = draw_permutations(c, seed);
            let r = classify_modality(
                Modality::Text,
                x.view(),
                k.view(),
                &params,
                &perms,
                &Monitor::new(),
            )
            .unwrap();
            assert!(r.pairs.iter().all(|p| p.dims.len() == d));
            assert_eq!(r.pairwise, r.baseline, "seed {seed}, k {k_dims}");
            assert_eq!(r.baseline[7], 0);
            assert!(!r.baseline.contains(&9));
        }
    }
}

/// Classes one-hot on dimensions 0..3; pair (0, 2) decided on dimension 3, where both class
/// vectors are zero: always a tie, which goes to 0. With x = (1, 2, 3, 0): 1 beats 0, 2 beats 1,
/// 0 beats 2 — a cycle, so the label depends on the bracket.
#[test]
fn replayed_three_class_cycle_matches_hand_traced_brackets() {
    let k = array![
        [1.0f32, 0.0, 0.0, 0.0],
        [0.0, 1.0, 0.0, 0.0],
        [0.0, 0.0, 1.0, 0.0]
    ];
    let pairs = vec![
        record(0, 1, &[0, 1]),
        record(0, 2, &[3]),
        record(1, 2, &[2, 1]),
    ];
    let x = array![[1.0f32, 2.0, 3.0, 0.0]];
    let s5 = 5f64.sqrt();
    let s13 = 13f64.sqrt();
    let m01 = 1.0 / s5 - 2.0 / s5;
    let m12 = 2.0 / s13 - 3.0 / s13;
    let cases = [
        // columns [0,1,2]: 0–1 → 1, bye 2; then [1,2]: 1–2 → 2.
        (
            vec![vec![0, 1, 2], vec![0, 1]],
            vec![m(0, 0, 1, 1, m01), m(1, 1, 2, 2, m12)],
            2,
        ),
        // columns [1,2,0]: 1–2 → 2, bye 0; then [2,0]: 0–2 tie → 0.
        (
            vec![vec![1, 2, 0], vec![0, 1]],
            vec![m(0, 1, 2, 2, m12), m(1, 0, 2, 0, 0.0)],
            0,
        ),
        // columns [2,0,1]: 0–2 → 0, bye 1; then [1,0] after perm [1,0]: 0–1 → 1.
        (
            vec![vec![2, 0, 1], vec![1, 0]],
            vec![m(0, 0, 2, 0, 0.0), m(1, 0, 1, 1, m01)],
            1,
        ),
    ];
    for (perms, want, label) in cases {
        tournament::validate_permutations(&perms, 3).unwrap();
        let got = trace(x.row(0), k.view(), &pairs, &perms);
        assert_matches_close(&got, &want);
        let out = tournament::run(x.view(), k.view(), &pairs, &perms, &Monitor::new()).unwrap();
        assert_eq!(out.labels, vec![label], "{perms:?}");
        assert!((out.final_margins[0] - want[1].margin.abs()).abs() < 1e-12);
    }
}

/// Five one-hot classes, every pair on all dimensions: the larger coordinate wins, and the
/// order of play follows the permutations column by column.
#[test]
fn replayed_five_class_bracket_follows_columns_winners_then_bye() {
    let k = Array2::<f32>::eye(5);
    let all: Vec<u32> = (0..5).collect();
    let pairs: Vec<PairRecord> = PairKey::all(5)
        .iter()
        .map(|p| record(p.a, p.b, &all))
        .collect();
    let x = array![[0.5f32, 0.9, 0.1, 0.7, 0.3]];
    let norm = x
        .iter()
        .map(|v| (*v as f64) * (*v as f64))
        .sum::<f64>()
        .sqrt();
    let mg = |a: usize, b: usize| (x[[0, a]] as f64 - x[[0, b]] as f64) / norm;
    // Round 0: columns [3,0,4,1,2] → 0–3 → 3, 1–4 → 1, bye 2 → [3, 1, 2].
    // Round 1: perm [2,0,1] → [2, 3, 1] → 2–3 → 3, bye 1 → [3, 1].
    // Round 2: perm [1,0] → [1, 3] → 1–3 → 1.
    let perms = vec![vec![3, 0, 4, 1, 2], vec![2, 0, 1], vec![1, 0]];
    let want = vec![
        m(0, 0, 3, 3, mg(0, 3)),
        m(0, 1, 4, 1, mg(1, 4)),
        m(1, 2, 3, 3, mg(2, 3)),
        m(2, 1, 3, 1, mg(1, 3)),
    ];
    let got = trace(x.row(0), k.view(), &pairs, &perms);
    assert_matches_close(&got, &want);
    for (g, rec) in got.iter().zip([&pairs[2], &pairs[6], &pairs[7], &pairs[5]]) {
        assert_eq!(rec.pair, PairKey::new(g.a, g.b));
        assert_eq!(head_to_head(x.row(0), k.view(), rec), g.margin);
    }
    let out = tournament::run(x.view(), k.view(), &pairs, &perms, &Monitor::new()).unwrap();
    assert_eq!(out.labels, vec![1]);
}

#[test]
fn a_cancelled_run_stops() {
    let x = gaussian(50, 8, 1);
    let k = gaussian(4, 8, 2);
    let mon = Monitor::new();
    mon.cancel();
    let perms = draw_permutations(4, 0);
    let r = classify_modality(
        Modality::Image,
        x.view(),
        k.view(),
        &Params::default(),
        &perms,
        &mon,
    );
    assert!(r.is_err());
}

#[test]
fn an_empty_catalogue_classifies_to_nothing_without_panicking() {
    let x = Array2::<f32>::zeros((0, 8));
    let k = gaussian(4, 8, 2);
    let perms = draw_permutations(4, 0);
    let r = classify_modality(
        Modality::Image,
        x.view(),
        k.view(),
        &Params::default(),
        &perms,
        &Monitor::new(),
    )
    .unwrap();
    assert!(r.pairwise.is_empty() && r.baseline.is_empty());
    assert_eq!(r.pairs.len(), 6);
    assert!(r.pairs.iter().all(|p| p.fallback && p.kept == [0, 0]));
}
