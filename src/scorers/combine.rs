//! Combining scorers and modalities.
//!
//! Calibration: each part (one scorer in one modality) is z-scored over the annotated items —
//! `(v − mean) / sd` — and the z-scores are summed with equal weight. Scores of different
//! scorers live on unrelated scales (cosine margins, squared Mahalanobis differences, vote
//! shares); z-scoring puts them on one scale without looking at any truth. Rank-normalising
//! (`rank / n`) is the alternative (`Calibration::Rank`); on the measured catalogues z-scores
//! were as good or slightly better at the top of the ranking, where review effort goes.
//!
//! Flags: the combination flags as many items as its most conservative member (the one
//! flagging the fewest), taken from the top of the combined ranking: the members' own decision
//! rules estimate how many annotations are wrong, the combined ranking chooses which. (Mapping
//! each part's threshold through its calibration and summing flagged far too many items when
//! one member is noisy, e.g. the neighbour vote on the synthetic catalogues.)
//!
//! The challenger is that of the scorer contributing most to the item.

use super::{Inputs, Part, ScorerKind, ScorerParams, Suspicion, knn, whitened};
use crate::{Cancelled, ClassId, Monitor};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calibration {
    ZScore,
    Rank,
}

/// The default ranking: whitened prototypes and the neighbour vote, every modality.
pub fn combined(
    inputs: &Inputs,
    labels: &[Option<ClassId>],
    params: &ScorerParams,
    monitor: &Monitor,
) -> Result<Suspicion, Cancelled> {
    let members = vec![
        whitened::score(inputs, labels, params, monitor)?,
        knn::score_votes(inputs, labels, params, false, monitor)?,
    ];
    Ok(combine(&members, labels, Calibration::ZScore))
}

/// Combine already computed scorers part by part (see the module docs).
pub fn combine(
    members: &[Suspicion],
    labels: &[Option<ClassId>],
    calibration: Calibration,
) -> Suspicion {
    let n = labels.len();
    let annotated: Vec<usize> = (0..n).filter(|&i| labels[i].is_some()).collect();
    let mut score = vec![0.0; n];
    let mut parts = Vec::new();
    // Per member, per item: its calibrated contribution (to choose the challenger).
    let mut member_contrib = vec![vec![0.0; n]; members.len()];
    for (mi, s) in members.iter().enumerate() {
        for p in &s.parts {
            let cal = Calibrator::fit(&p.values, &annotated, calibration);
            let values: Vec<f64> = (0..n)
                .map(|i| {
                    if labels[i].is_some() {
                        cal.apply(p.values[i])
                    } else {
                        0.0
                    }
                })
                .collect();
            for i in 0..n {
                score[i] += values[i];
                member_contrib[mi][i] += values[i];
            }
            parts.push(Part {
                name: p.name.clone(),
                values,
            });
        }
    }
    let challenger = (0..n)
        .map(|i| {
            labels[i]?;
            let mut order: Vec<usize> = (0..members.len()).collect();
            order.sort_by(|&a, &b| member_contrib[b][i].total_cmp(&member_contrib[a][i]));
            order.into_iter().find_map(|m| members[m].challenger[i])
        })
        .collect();
    // As many flags as the most conservative member raises, from the top of this ranking.
    let budget = members
        .iter()
        .map(|m| (0..n).filter(|&i| m.flagged(i)).count())
        .min()
        .unwrap_or(0);
    let mut ranked: Vec<f64> = annotated.iter().map(|&i| score[i]).collect();
    ranked.sort_by(|a, b| b.total_cmp(a));
    let threshold = match budget {
        0 => f64::INFINITY,
        b if b >= ranked.len() => f64::NEG_INFINITY,
        // Strictly above the first unflagged score (ties at the cut stay unflagged).
        b => ranked[b],
    };
    Suspicion {
        scorer: ScorerKind::Combined,
        score,
        challenger,
        flag_threshold: threshold,
        parts,
        neighbours: members.iter().flat_map(|s| s.neighbours.clone()).collect(),
    }
}

/// A monotone map fitted on the annotated items' values.
enum Calibrator {
    Z { mean: f64, sd: f64 },
    Rank { sorted: Vec<f64> },
}

impl Calibrator {
    fn fit(values: &[f64], annotated: &[usize], how: Calibration) -> Calibrator {
        let vals: Vec<f64> = annotated.iter().map(|&i| values[i]).collect();
        match how {
            Calibration::ZScore => {
                let m = vals.len().max(1) as f64;
                let mean = vals.iter().sum::<f64>() / m;
                let var = vals.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
                // A constant part carries no ranking information: it contributes 0.
                let sd = if var > 0.0 { var.sqrt() } else { f64::INFINITY };
                Calibrator::Z { mean, sd }
            }
            Calibration::Rank => {
                let mut sorted = vals;
                sorted.sort_by(f64::total_cmp);
                Calibrator::Rank { sorted }
            }
        }
    }

    fn apply(&self, v: f64) -> f64 {
        match self {
            Calibrator::Z { mean, sd } => (v - mean) / sd,
            // Mid-rank of v among the fitted values, in [0, 1].
            Calibrator::Rank { sorted } => {
                let below = sorted.partition_point(|&s| s < v);
                let upto = sorted.partition_point(|&s| s <= v);
                (below + upto) as f64 / (2.0 * sorted.len().max(1) as f64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scorers::ScorerKind;

    fn member(values: Vec<f64>, threshold: f64, challenger: Option<usize>) -> Suspicion {
        let n = values.len();
        Suspicion {
            scorer: ScorerKind::Prototype,
            score: values.clone(),
            challenger: vec![challenger; n],
            flag_threshold: threshold,
            parts: vec![Part {
                name: "p".into(),
                values,
            }],
            neighbours: vec![],
        }
    }

    #[test]
    fn z_scores_are_summed() {
        // Part a: mean 2, sd 1 (values 1, 3); part b: mean 0, sd 10 (values −10, 10).
        let a = member(vec![1.0, 3.0], 2.0, Some(1));
        let b = member(vec![10.0, -10.0], 0.0, Some(2));
        let c = combine(&[a, b], &[Some(0), Some(0)], Calibration::ZScore);
        assert!((c.score[0] - (-1.0 + 1.0)).abs() < 1e-12);
        assert!((c.score[1] - (1.0 - 1.0)).abs() < 1e-12);
        // Item 0's largest contribution comes from b.
        assert_eq!(c.challenger, vec![Some(2), Some(1)]);
    }

    #[test]
    fn flags_as_many_as_the_most_conservative_member() {
        // a flags items 3, 4 (> 0.5); b flags items 1, 2, 3, 4 (> 0): budget 2.
        // Mid-rank sums: [0.2, 1.2, 0.8, 1.4, 1.4] → the top two are items 3 and 4.
        let a = member(vec![0.0, 0.1, 0.2, 0.9, 1.0], 0.5, Some(1));
        let b = member(vec![0.0, 5.0, 1.0, 3.0, 2.0], 0.0, Some(1));
        let c = combine(&[a, b], &[Some(0); 5], Calibration::Rank);
        let flagged: Vec<usize> = (0..5).filter(|&i| c.flagged(i)).collect();
        assert_eq!(flagged, vec![3, 4]);
    }

    #[test]
    fn rank_calibration_uses_mid_ranks() {
        let a = member(vec![5.0, 1.0, 5.0, 3.0], 0.0, Some(1));
        let c = combine(&[a], &[Some(0); 4], Calibration::Rank);
        assert_eq!(c.score, vec![0.75, 0.125, 0.75, 0.375]);
    }
}
