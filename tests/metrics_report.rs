//! The write-up's table and the per-source scores: which side is `y_true` matters for
//! weighted F1, so the orientation is checked on labels where the two orders differ.

use ndarray::Array2;
use pairwise_audit::dataset::{ClassInfo, Item};
use pairwise_audit::metrics::{AGREEMENT_CONVENTION, MetricsReport};
use pairwise_audit::{Classification, Dataset, Modality, ModalityResult, Params};

const IMAGE: [usize; 5] = [0, 0, 0, 1, 2];
const TEXT: [usize; 5] = [0, 1, 1, 1, 1];
const ANNOTATION: [usize; 5] = [0, 0, 1, 1, 2];

fn result(m: Modality, pairwise: &[usize]) -> ModalityResult {
    let n = pairwise.len();
    ModalityResult {
        modality: m,
        inv_norms: vec![1.0; n],
        scores: Array2::zeros((n, 3)),
        // The baseline says class 0 everywhere, so its row of the table is all agreement.
        baseline: vec![0; n],
        floor: 0.0,
        pairs: vec![],
        pairwise: pairwise.to_vec(),
        pairwise_margin: vec![0.0; n],
        permutations: vec![],
        timings: vec![],
        basis: None,
        present: None,
    }
}

fn dataset() -> Dataset {
    Dataset {
        root: ".".into(),
        items: ANNOTATION
            .iter()
            .enumerate()
            .map(|(i, &c)| Item {
                id: format!("i{i}"),
                description: String::new(),
                image: None,
                label: Some(c),
            })
            .collect(),
        classes: ["a", "b", "c"]
            .iter()
            .map(|n| ClassInfo {
                name: n.to_string(),
                prompt: n.to_string(),
            })
            .collect(),
        class_embeddings: Array2::eye(3),
        image_embeddings: Some(Array2::zeros((5, 3))),
        text_embeddings: Some(Array2::zeros((5, 3))),
        warnings: vec![],
        missing_images: 0,
        fingerprint: String::new(),
        views: Default::default(),
        table: None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn agreement_scores_text_against_image_and_sources_against_the_annotation() {
    let cls = Classification {
        params: Params::default(),
        image: Some(result(Modality::Image, &IMAGE)),
        text: Some(result(Modality::Text, &TEXT)),
        one_vs_rest: None,
    };
    let r = MetricsReport::compute(&dataset(), &cls);
    assert_eq!(r.agreement_convention, AGREEMENT_CONVENTION);

    // Baseline: both views say 0 for every item → perfect agreement.
    assert_eq!(r.agreement[0].method, "baseline");
    assert_eq!(r.agreement[0].scores.weighted_f1, 1.0);

    // Pairwise, y_true = image [0,0,0,1,2], y_pred = text [0,1,1,1,1]:
    //   class 0: tp 1, support 3, predicted 1 → 2/4;  class 1: tp 1, support 1, predicted 4
    //   → 2/5;  class 2: tp 0, support 1 → 0.  weighted = (.5·3 + .4·1 + 0)/5 = 0.38,
    //   macro = (.5 + .4 + 0)/3 = 0.3, accuracy 2/5. (The other orientation gives 0.42.)
    let p = &r.agreement[1];
    assert_eq!(p.method, "pairwise");
    assert!(
        close(p.scores.weighted_f1, 0.38),
        "{}",
        p.scores.weighted_f1
    );
    assert!(close(p.scores.macro_f1, 0.3));
    assert!(close(p.scores.accuracy, 0.4));
    assert_eq!(p.confusion[0], vec![1, 2, 0], "rows are the image labels");

    // y_true = annotation [0,0,1,1,2].
    //   image_pairwise [0,0,0,1,2]: class 0: tp 2, sup 2, pred 3 → 4/5; class 1: tp 1, sup 2,
    //   pred 1 → 2/3; class 2: tp 1 → 1.  weighted = (.8·2 + 2/3·2 + 1)/5 = 59/75.
    //   text_pairwise [0,1,1,1,1]: classes 0 and 1 → 2/3 each, class 2 → 0.
    //   weighted = (2/3·2 + 2/3·2)/5 = 8/15.
    let names: Vec<&str> = r.vs_annotation.iter().map(|a| a.source.as_str()).collect();
    assert_eq!(
        names,
        ["image_base", "image_pairwise", "text_base", "text_pairwise"]
    );
    let ip = &r.vs_annotation[1].scores;
    assert!(close(ip.weighted_f1, 59.0 / 75.0) && close(ip.accuracy, 0.8));
    let tp = &r.vs_annotation[3].scores;
    assert!(close(tp.weighted_f1, 8.0 / 15.0) && close(tp.accuracy, 0.6));
    assert_eq!((tp.compared, tp.excluded), (5, 0));
}

#[test]
fn one_modality_has_no_agreement_row_and_unannotated_items_are_excluded() {
    let mut ds = dataset();
    ds.items[4].label = None;
    let cls = Classification {
        params: Params::default(),
        image: None,
        text: Some(result(Modality::Text, &TEXT)),
        one_vs_rest: None,
    };
    let r = MetricsReport::compute(&ds, &cls);
    assert!(r.agreement.is_empty());
    let names: Vec<&str> = r.vs_annotation.iter().map(|a| a.source.as_str()).collect();
    assert_eq!(names, ["text_base", "text_pairwise"]);
    // Four annotated items [0,0,1,1] vs text [0,1,1,1]: accuracy 3/4.
    let tp = &r.vs_annotation[1].scores;
    assert_eq!((tp.compared, tp.excluded), (4, 1));
    assert!(close(tp.accuracy, 0.75));
}
