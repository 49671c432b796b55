//! The zero-shot reference: how much more an item's embedding resembles the strongest other
//! class prompt than its annotated class's prompt. It never looks at other items' annotations,
//! which is exactly why the annotation-aware scorers beat it.

use ndarray::Array2;

use super::{Inputs, ScorerKind, Suspicion, from_class_margins};
use crate::ClassId;

pub fn score(inputs: &Inputs, labels: &[Option<ClassId>]) -> Suspicion {
    let margins = inputs
        .views
        .iter()
        .map(|(m, x)| {
            let mut s = x.data.dot(&inputs.class_embeddings.t()).mapv(f64::from);
            for (mut row, &inv) in s.rows_mut().into_iter().zip(&x.inv_norm) {
                row.mapv_inplace(|v| v * inv as f64);
            }
            (*m, margins_from_scores(&s, labels))
        })
        .collect();
    from_class_margins(ScorerKind::ZeroShot, labels, margins, 0.0)
}

/// `margin[i, c] = s[i, c] − s[i, y_i]` (zero for unannotated rows).
pub(crate) fn margins_from_scores(s: &Array2<f64>, labels: &[Option<ClassId>]) -> Array2<f64> {
    let mut out = s.clone();
    for (i, mut row) in out.rows_mut().into_iter().enumerate() {
        match labels[i] {
            Some(y) => {
                let own = s[[i, y]];
                row.mapv_inplace(|v| v - own);
            }
            None => row.fill(0.0),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Modality;
    use ndarray::array;

    #[test]
    fn margin_is_strongest_other_prompt_minus_annotated_prompt() {
        let inputs = Inputs {
            // Row 1 is (0.6, 0.8) scaled by 5: cosines don't depend on the scale.
            views: vec![(
                Modality::Text,
                crate::scorers::View::owned(array![[1.0f32, 0.0], [3.0, 4.0]]),
            )],
            class_embeddings: array![[1.0f32, 0.0], [0.0, 1.0]],
            num_classes: 2,
        };
        let s = score(&inputs, &[Some(1), Some(1)]);
        assert!((s.score[0] - 1.0).abs() < 1e-6);
        assert!((s.score[1] - (0.6 - 0.8)).abs() < 1e-6);
        assert_eq!(s.challenger, vec![Some(0), Some(0)]);
        assert!(s.flagged(0) && !s.flagged(1));
    }
}
