//! How many annotations are wrong, from the suspicion scores alone.
//!
//! The scores of the annotated items are a mixture `G = (1 − π)·C + π·W` of right (C) and
//! wrong (W) annotations, and neither C nor π is known. W can be *measured* on the catalogue
//! itself without any truth: flip a small random share of the annotations to other classes,
//! score again, and the flipped items' scores are a sample of W (for errors that land on a
//! random other class). π is then the largest share of W that G can contain — mixture
//! proportion estimation (Blanchard, Lee & Scott 2010; Scott 2015): `π̂ = min_t Ḡ(t) / W̄(t)`
//! over upper tails `{s ≥ t}` that hold at least a quarter of the W sample, where right
//! annotations rarely reach. Each item's probability of being wrong is the local ratio
//! `π̂·w(s) / g(s)` on quantile bins, made non-decreasing in the score; the review queue is
//! every item past a probability cut, and its expected precision is the mean probability in
//! it. A bootstrap over both samples gives the interval. Nothing is trained; the one extra
//! cost is a second scoring pass. See `docs/scorers.md` "How many are wrong".

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ClassId;

/// Bootstrap resamples for the interval.
const RESAMPLES: usize = 100;
/// The smallest share of the W sample an upper tail must hold to bound π.
const MIN_TAIL: f64 = 0.25;
/// Largest sample the bootstrap resamples from (a random subset beyond it).
const BOOTSTRAP_ITEMS: usize = 50_000;

/// The estimate of how many annotations are wrong.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorEstimate {
    /// Annotated items that were scored.
    pub scored: usize,
    /// Expected number of wrong annotations.
    pub count: f64,
    /// 90% bootstrap interval of `count`.
    pub interval: (f64, f64),
    /// Size of the reference sample of wrong annotations (the injected flips).
    pub reference: usize,
    /// Annotated class × likely true class (the challenger): expected wrong annotations.
    pub matrix: Vec<Vec<f64>>,
}

impl ErrorEstimate {
    /// The likeliest confusions: (annotated class, likely true class, expected count), the
    /// largest first, those of at least `min` expected items, at most `most` of them.
    pub fn top_confusions(&self, min: f64, most: usize) -> Vec<(ClassId, ClassId, f64)> {
        let mut cells: Vec<(ClassId, ClassId, f64)> = self
            .matrix
            .iter()
            .enumerate()
            .flat_map(|(y, row)| row.iter().enumerate().map(move |(c, &v)| (y, c, v)))
            .filter(|&(_, _, v)| v >= min)
            .collect();
        cells.sort_by(|a, b| b.2.total_cmp(&a.2).then((a.0, a.1).cmp(&(b.0, b.1))));
        cells.truncate(most);
        cells
    }
}

/// The review queue: items whose posterior passes `cut`, most suspicious first.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub cut: f64,
    /// Item indices, most suspicious first.
    pub items: Vec<usize>,
    /// Mean posterior of the queued items: the share of them expected to be wrong.
    pub expected_precision: Option<f64>,
    /// Share of the estimated errors the queue is expected to hold.
    pub expected_recall: Option<f64>,
}

/// What `metrics.json` and the summary say of a queue.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct QueueSummary {
    pub cut: f64,
    pub items: usize,
    pub expected_precision: Option<f64>,
    pub expected_recall: Option<f64>,
}

impl Queue {
    pub fn summary(&self) -> QueueSummary {
        QueueSummary {
            cut: self.cut,
            items: self.items.len(),
            expected_precision: self.expected_precision,
            expected_recall: self.expected_recall,
        }
    }
}

/// The posterior cut of the default queue: an item is queued when its annotation is more
/// likely wrong than right.
pub const DEFAULT_CUT: f64 = 0.5;

/// The annotations with a reference share of them flipped uniformly to another class, for
/// the second scoring pass that measures W: 10% on small catalogues, fewer on large ones
/// (at least 2%, and about 2,000 flips where that lies between). Uniform flips measure
/// errors that land anywhere; errors that all go to one look-alike class score lower than
/// these and are undercounted (measured in BENCHMARKS.md "Error-count estimate", where
/// sending half the reference flips to each item's challenger was tried and lost).
pub fn reference_flips(
    annotations: &[Option<ClassId>],
    num_classes: usize,
) -> Option<crate::evaluate::Flipped> {
    let annotated = annotations.iter().filter(|a| a.is_some()).count();
    if annotated == 0 || num_classes < 2 {
        return None;
    }
    let share = (2_000.0 / annotated as f64).clamp(0.02, 0.10);
    crate::evaluate::inject_flips(
        annotations,
        num_classes,
        share,
        crate::evaluate::FlipMode::Uniform,
        None,
        0xca11_b7a7e,
    )
    .ok()
}

/// A second pass's scores split into (kept annotations, flipped ones).
pub fn split_pass(flipped: &[bool], score: impl Fn(usize) -> Option<f64>) -> (Vec<f64>, Vec<f64>) {
    let (mut kept, mut wrong) = (Vec::new(), Vec::new());
    for (i, &f) in flipped.iter().enumerate() {
        if let Some(s) = score(i) {
            if f { wrong.push(s) } else { kept.push(s) }
        }
    }
    (kept, wrong)
}

/// Per-item probabilities (`None` where the item has no score) and the estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    pub posterior: Vec<Option<f64>>,
    pub estimate: ErrorEstimate,
    scores: Vec<Option<f64>>,
}

impl Calibration {
    /// Calibrate `scores` (one per item; `None` or non-finite = not scored). `second` is a
    /// second scoring pass with a reference share of the annotations flipped: `unflipped`
    /// holds its scores of the items whose annotation was kept, `reference` of the flipped
    /// ones (annotations known to be wrong). Both come from the same pass so that they share
    /// one scale (a scorer's scale moves with the noise it is fitted on); the first pass's
    /// scores are mapped onto it by quantile. Each item's probability is attributed to
    /// (annotation, challenger).
    pub fn fit(
        scores: &[Option<f64>],
        unflipped: &[f64],
        reference: &[f64],
        annotations: &[Option<ClassId>],
        challengers: &[Option<ClassId>],
        num_classes: usize,
    ) -> Option<Calibration> {
        let sorted = |v: &mut dyn Iterator<Item = f64>| {
            let mut out: Vec<f64> = v.filter(|s| s.is_finite()).collect();
            out.sort_by(f64::total_cmp);
            out
        };
        let first = sorted(&mut scores.iter().flatten().copied());
        let obs = sorted(&mut unflipped.iter().copied());
        let wrong = sorted(&mut reference.iter().copied());
        if first.len() < 20 || obs.len() < 20 || wrong.len() < 8 {
            return None;
        }
        let raw = proportion(&obs, &wrong);
        let curve = Posterior::new(&obs, &wrong, raw);
        let pi = (raw * curve.lift).min(1.0);
        let curve_obs = obs.clone();
        let on_second_scale = |s: f64| {
            let u = first.partition_point(|&v| v < s) as f64 / first.len() as f64;
            obs[((u * obs.len() as f64) as usize).min(obs.len() - 1)]
        };
        let posterior: Vec<Option<f64>> = scores
            .iter()
            .map(|s| {
                s.filter(|v| v.is_finite())
                    .map(|v| curve.at(on_second_scale(v)))
            })
            .collect();
        let obs = first;
        let count = pi * obs.len() as f64;
        // The minimum over tails leans low on resamples; the interval always holds the
        // estimate itself.
        let (lo, hi) = bootstrap(&curve_obs, &wrong, obs.len());
        let interval = (lo.min(count), hi.max(count));
        // The matrix shares the count out in proportion to each item's probability.
        let mass: f64 = posterior.iter().flatten().sum();
        let scale = if mass > 0.0 { count / mass } else { 0.0 };
        let mut matrix = vec![vec![0.0; num_classes]; num_classes];
        for (i, p) in posterior.iter().enumerate() {
            if let (Some(p), Some(y), Some(c)) = (p, annotations[i], challengers[i])
                && y < num_classes
                && c < num_classes
            {
                matrix[y][c] += p * scale;
            }
        }
        Some(Calibration {
            posterior,
            estimate: ErrorEstimate {
                scored: obs.len(),
                count,
                interval,
                reference: wrong.len(),
                matrix,
            },
            scores: scores.to_vec(),
        })
    }

    /// The queue at probability `cut`, most suspicious first.
    pub fn queue(&self, cut: f64) -> Queue {
        let mut items: Vec<usize> = (0..self.posterior.len())
            .filter(|&i| self.posterior[i].is_some_and(|p| p >= cut))
            .collect();
        items.sort_by(|&a, &b| {
            let (sa, sb) = (self.scores[a].unwrap_or(0.0), self.scores[b].unwrap_or(0.0));
            sb.total_cmp(&sa).then(a.cmp(&b))
        });
        // (`+ 0.0`: an empty f64 sum is −0.0, which prints as "-0".)
        let held: f64 = items.iter().filter_map(|&i| self.posterior[i]).sum::<f64>() + 0.0;
        let total: f64 = self.posterior.iter().flatten().sum::<f64>() + 0.0;
        Queue {
            cut,
            expected_precision: (!items.is_empty()).then(|| held / items.len() as f64),
            expected_recall: (total > 0.0).then(|| held / total),
            items,
        }
    }
}

/// Share of `sorted` at or above `t`.
fn tail(sorted: &[f64], t: f64) -> f64 {
    (sorted.len() - sorted.partition_point(|&v| v < t)) as f64 / sorted.len() as f64
}

/// `min_t Ḡ(t)/W̄(t)` over the W sample's points whose upper tail holds ≥ `MIN_TAIL` of it.
fn proportion(obs: &[f64], wrong: &[f64]) -> f64 {
    let m = wrong.len();
    let last = ((1.0 - MIN_TAIL) * m as f64).floor() as usize;
    // Each tail's ratio is taken at one standard error in its disfavour (Scott 2015):
    // the minimum over many noisy ratios would otherwise pick the luckiest and lean low.
    let (n, mf) = (obs.len() as f64, m as f64);
    let mut best: f64 = 1.0;
    for j in 0..=last.min(m - 1) {
        let t = wrong[j];
        let (w, g) = (tail(wrong, t), tail(obs, t));
        let w_low = w - (w * (1.0 - w) / mf).sqrt();
        // (+1/n: an empty tail still allows about one item.)
        let g_high = g + (g * (1.0 - g) / n).sqrt() + 1.0 / n;
        if w_low > 0.0 {
            best = best.min(g_high / w_low);
        }
    }
    best.clamp(0.0, 1.0)
}

/// The probability of being wrong as a step function of the score: on bins cut at the W
/// sample's quantiles, `π·w/g`, clipped to [0, 1] and made non-decreasing (pool adjacent
/// violators, weighted by the items in each bin). Below the W sample's lowest score: 0.
struct Posterior {
    /// Upper edges of the bins (the last is +∞).
    edges: Vec<f64>,
    value: Vec<f64>,
    /// The factor that brought the top to 1 (applied to π as well).
    lift: f64,
}

impl Posterior {
    fn new(obs: &[f64], wrong: &[f64], pi: f64) -> Posterior {
        let m = wrong.len();
        let bins = (m / 40).clamp(4, 40);
        let mut edges: Vec<f64> = vec![wrong[0]];
        for b in 1..bins {
            let e = wrong[b * m / bins];
            if e > *edges.last().expect("one edge") {
                edges.push(e);
            }
        }
        edges.push(f64::INFINITY);
        // Bin 0 is everything below the lowest W score.
        let (n, m) = (obs.len() as f64, m as f64);
        let mut value = Vec::with_capacity(edges.len());
        let mut weight = Vec::with_capacity(edges.len());
        let mut lo = f64::NEG_INFINITY;
        for &hi in &edges {
            let g = (tail(obs, lo) - tail(obs, hi)) * n;
            let w = (tail(wrong, lo) - tail(wrong, hi)) * m;
            // Clipped only after pooling: clipping first would let the noise of a small
            // W sample pull pure-error bins below 1.
            let p = if g > 0.0 { pi * n * (w / m) / g } else { 1.0 };
            value.push(if lo == f64::NEG_INFINITY { 0.0 } else { p });
            weight.push(g.max(1e-9));
            lo = hi;
        }
        pool_adjacent_violators(&mut value, &weight);
        // Where the scores are highest only wrong annotations reach (the assumption that
        // makes π identifiable at all), so the curve's top is 1; the minimum over tails
        // leans low, and the top block's shortfall measures by how much.
        let top = value.last().copied().unwrap_or(1.0);
        let lift = if (0.5..1.0).contains(&top) {
            1.0 / top
        } else {
            1.0
        };
        for v in &mut value {
            *v = (*v * lift).clamp(0.0, 1.0);
        }
        Posterior { edges, value, lift }
    }

    fn at(&self, s: f64) -> f64 {
        // Bin k holds [edges[k-1], edges[k]); bin 0 is below edges[0].
        self.value[self.edges.partition_point(|&e| e <= s)]
    }
}

/// Make `v` non-decreasing with the least weighted squared change.
fn pool_adjacent_violators(v: &mut [f64], w: &[f64]) {
    let mut blocks: Vec<(f64, f64, usize)> = Vec::new(); // (mean, weight, len)
    for (&x, &wx) in v.iter().zip(w) {
        blocks.push((x, wx, 1));
        while blocks.len() > 1 && blocks[blocks.len() - 2].0 > blocks[blocks.len() - 1].0 {
            let (m2, w2, l2) = blocks.pop().expect("two blocks");
            let (m1, w1, l1) = blocks.pop().expect("two blocks");
            blocks.push(((m1 * w1 + m2 * w2) / (w1 + w2), w1 + w2, l1 + l2));
        }
    }
    let mut k = 0;
    for (m, _, l) in blocks {
        for x in &mut v[k..k + l] {
            *x = m;
        }
        k += l;
    }
}

/// 90% interval of the count: π̂ on resamples (with replacement) of both samples.
fn bootstrap(obs: &[f64], wrong: &[f64], scored: usize) -> (f64, f64) {
    let mut rng = ChaCha8Rng::seed_from_u64(0x5eed);
    let k = obs.len().min(BOOTSTRAP_ITEMS);
    let mut counts: Vec<f64> = (0..RESAMPLES)
        .map(|_| {
            let mut o: Vec<f64> = (0..k)
                .map(|_| obs[rng.random_range(0..obs.len())])
                .collect();
            let mut w: Vec<f64> = (0..wrong.len())
                .map(|_| wrong[rng.random_range(0..wrong.len())])
                .collect();
            o.sort_by(f64::total_cmp);
            w.sort_by(f64::total_cmp);
            let raw = proportion(&o, &w);
            (raw * Posterior::new(&o, &w, raw).lift).min(1.0) * scored as f64
        })
        .collect();
    counts.sort_by(f64::total_cmp);
    let q = |p: f64| counts[((counts.len() - 1) as f64 * p).round() as usize];
    (q(0.05), q(0.95))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr::{Distribution, Normal, Uniform};

    /// Right annotations spread flat (as on the emoji sample), wrong ones above them with
    /// some overlap; returns (scores, is wrong, a separate W sample of `m`).
    fn sample(n_clean: usize, n_wrong: usize, m: usize, seed: u64) -> (Vec<Option<f64>>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let clean = Uniform::new(-6.0, 5.5).unwrap();
        let wrong = Normal::new(7.0, 1.5).unwrap();
        let mut v: Vec<Option<f64>> = (0..n_clean).map(|_| Some(clean.sample(&mut rng))).collect();
        v.extend((0..n_wrong).map(|_| Some(wrong.sample(&mut rng))));
        let reference = (0..m).map(|_| wrong.sample(&mut rng)).collect();
        (v, reference)
    }

    fn flat(scores: &[Option<f64>]) -> Vec<f64> {
        scores.iter().flatten().copied().collect()
    }

    #[test]
    fn scores_on_another_scale_are_mapped_by_quantile() {
        // The second pass scores everything at twice the first pass's scale.
        let (scores, reference) = sample(9_000, 1_000, 1_000, 13);
        let doubled: Vec<f64> = flat(&scores).iter().map(|s| 2.0 * s).collect();
        let reference: Vec<f64> = reference.iter().map(|s| 2.0 * s).collect();
        let labels = vec![Some(0); scores.len()];
        let cal = Calibration::fit(&scores, &doubled, &reference, &labels, &labels, 2).unwrap();
        let rel = (cal.estimate.count - 1_000.0).abs() / 1_000.0;
        assert!(rel < 0.1, "{:?}", cal.estimate);
        let q = cal.queue(DEFAULT_CUT);
        let hits = q.items.iter().filter(|&&i| i >= 9_000).count();
        assert!(
            hits > 800 && hits as f64 / q.items.len() as f64 > 0.9,
            "{hits} of {}",
            q.items.len()
        );
    }

    #[test]
    fn recovers_the_share_of_wrong_annotations_with_an_interval_around_it() {
        for (clean, wrong) in [(9_500, 500), (9_000, 1_000), (8_000, 2_000)] {
            let (scores, reference) = sample(clean, wrong, 1_000, 7);
            let labels = vec![Some(0); scores.len()];
            let cal =
                Calibration::fit(&scores, &flat(&scores), &reference, &labels, &labels, 2).unwrap();
            let e = &cal.estimate;
            let rel = (e.count - wrong as f64).abs() / wrong as f64;
            assert!(rel < 0.15, "{wrong} wrong, estimated {:.1}", e.count);
            assert!(e.interval.0 <= e.count && e.count <= e.interval.1, "{e:?}");
        }
    }

    #[test]
    fn a_catalogue_without_errors_is_estimated_near_zero() {
        let (scores, reference) = sample(10_000, 0, 1_000, 9);
        let labels = vec![Some(0); scores.len()];
        let cal =
            Calibration::fit(&scores, &flat(&scores), &reference, &labels, &labels, 2).unwrap();
        assert!(cal.estimate.count < 60.0, "{:?}", cal.estimate);
    }

    #[test]
    fn the_queue_is_ordered_by_score_and_its_expected_precision_matches_the_truth() {
        let (scores, reference) = sample(9_000, 1_000, 1_000, 3);
        let labels = vec![Some(0); scores.len()];
        let cal =
            Calibration::fit(&scores, &flat(&scores), &reference, &labels, &labels, 2).unwrap();
        let q = cal.queue(DEFAULT_CUT);
        let s = |i: usize| scores[i].unwrap();
        assert!(q.items.windows(2).all(|w| s(w[0]) >= s(w[1])));
        // Items 9000.. are the wrong ones.
        let hits = q.items.iter().filter(|&&i| i >= 9_000).count();
        let measured = hits as f64 / q.items.len() as f64;
        let expected = q.expected_precision.unwrap();
        assert!(
            (measured - expected).abs() < 0.08,
            "{measured} vs {expected}"
        );
        assert!(hits as f64 > 0.8 * 1_000.0, "recall {hits}");
        // A stricter cut queues fewer items at no lower expected precision.
        let strict = cal.queue(0.95);
        assert!(strict.items.len() < q.items.len());
        assert!(strict.expected_precision.unwrap() >= expected);
    }

    #[test]
    fn the_matrix_adds_up_to_the_count_and_never_pairs_a_class_with_itself() {
        let (scores, reference) = sample(900, 100, 200, 5);
        let ann: Vec<Option<ClassId>> = (0..1000).map(|i| Some(i % 3)).collect();
        let ch: Vec<Option<ClassId>> = (0..1000).map(|i| Some((i + 1) % 3)).collect();
        let cal = Calibration::fit(&scores, &flat(&scores), &reference, &ann, &ch, 3).unwrap();
        let total: f64 = cal.estimate.matrix.iter().flatten().sum();
        assert!((total - cal.estimate.count).abs() < 1e-6);
        for (y, row) in cal.estimate.matrix.iter().enumerate() {
            assert_eq!(row[y], 0.0);
        }
    }

    #[test]
    fn probabilities_never_decrease_with_the_score() {
        let (scores, reference) = sample(5_000, 500, 300, 11);
        let labels = vec![Some(0); scores.len()];
        let cal =
            Calibration::fit(&scores, &flat(&scores), &reference, &labels, &labels, 2).unwrap();
        let mut pairs: Vec<(f64, f64)> = scores
            .iter()
            .zip(&cal.posterior)
            .map(|(s, p)| (s.unwrap(), p.unwrap()))
            .collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(pairs.iter().all(|&(_, p)| (0.0..=1.0).contains(&p)));
    }

    #[test]
    fn too_few_scores_give_no_estimate() {
        let scores: Vec<Option<f64>> = (0..10).map(|i| Some(i as f64)).collect();
        let labels = vec![Some(0); 10];
        assert!(
            Calibration::fit(&scores, &flat(&scores), &[1.0; 50], &labels, &labels, 1).is_none()
        );
    }
}
