//! Accuracy and F1 against values worked out by hand (and cross-checked once with
//! scikit-learn 1.x: `accuracy_score`, `f1_score(average=…, zero_division=0)`).

use pairwise_audit::metrics::Confusion;

fn some(v: &[usize]) -> Vec<Option<usize>> {
    v.iter().map(|&c| Some(c)).collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn three_classes_with_an_unused_fourth() {
    // y_true = [0,0,0,1,1,2], y_pred = [0,0,1,1,2,2]; class 3 appears in neither and must not
    // be averaged in.
    //   class 0: tp 2, support 3, predicted 2 → F1 = 2·2/(3+2) = 4/5
    //   class 1: tp 1, support 2, predicted 2 → F1 = 2/4   = 1/2
    //   class 2: tp 1, support 1, predicted 2 → F1 = 2/3
    // accuracy = 4/6; weighted = (4/5·3 + 1/2·2 + 2/3·1)/6 = (61/15)/6 = 61/90;
    // macro = (4/5 + 1/2 + 2/3)/3 = (59/30)/3 = 59/90 (59/120 if class 3 were counted).
    let m = Confusion::new(&some(&[0, 0, 0, 1, 1, 2]), &some(&[0, 0, 1, 1, 2, 2]), 4);
    assert!(close(m.accuracy(), 4.0 / 6.0));
    assert!(close(m.weighted_f1(), 61.0 / 90.0), "{}", m.weighted_f1());
    assert!(close(m.macro_f1(), 59.0 / 90.0), "{}", m.macro_f1());
    let f1 = m.f1_per_class();
    assert_eq!(f1[3], None);
    assert!(close(f1[0].unwrap(), 0.8));
}

#[test]
fn a_class_only_predicted_counts_in_macro_but_not_weighted() {
    // y_true = [0,0,1,1], y_pred = [0,2,1,1]
    //   class 0: tp 1, support 2, predicted 1 → 2/3
    //   class 1: tp 2, support 2, predicted 2 → 1
    //   class 2: tp 0, support 0, predicted 1 → 0 (zero_division = 0), weight 0
    // accuracy 3/4; weighted = (2/3·2 + 1·2)/4 = 5/6; macro = (2/3 + 1 + 0)/3 = 5/9.
    let m = Confusion::new(&some(&[0, 0, 1, 1]), &some(&[0, 2, 1, 1]), 3);
    assert!(close(m.accuracy(), 0.75));
    assert!(close(m.weighted_f1(), 5.0 / 6.0));
    assert!(close(m.macro_f1(), 5.0 / 9.0));
}

#[test]
fn all_wrong_is_zero_not_nan() {
    // Every F1 has tp = 0 → 0; nothing divides by zero into NaN.
    let m = Confusion::new(&some(&[1, 1, 1]), &some(&[0, 0, 0]), 2);
    let s = m.scores();
    assert_eq!((s.accuracy, s.weighted_f1, s.macro_f1), (0.0, 0.0, 0.0));
}

#[test]
fn unlabelled_items_are_excluded_from_every_score() {
    // Same as the 4-class case plus two items that a side leaves unlabelled: the scores
    // must not move.
    let mut t = some(&[0, 0, 0, 1, 1, 2]);
    let mut p = some(&[0, 0, 1, 1, 2, 2]);
    t.extend([None, Some(2)]);
    p.extend([Some(0), None]);
    let m = Confusion::new(&t, &p, 4);
    assert_eq!(m.excluded, 2);
    assert_eq!(m.total(), 6);
    assert!(close(m.weighted_f1(), 61.0 / 90.0));
}

#[test]
fn perfect_agreement_is_one() {
    let y = some(&[2, 0, 1, 1, 0]);
    let s = Confusion::new(&y, &y, 3).scores();
    assert_eq!((s.accuracy, s.weighted_f1, s.macro_f1), (1.0, 1.0, 1.0));
}
