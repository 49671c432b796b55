//! The write-up's table for this dataset: weighted F1 of the text labels against the image
//! labels, baseline vs pairwise; and each label source's accuracy against the annotation.

use egui::RichText;
use pairwise_audit::Modality;

use super::AuditApp;
use super::review::{LabelSource, Method, Results};

/// Computed once per run.
#[derive(Default)]
pub struct Cache {
    generation: Option<u64>,
    table: Option<Table>,
}

struct Table {
    /// `[baseline, pairwise]`; `None` without both modalities.
    f1_text_vs_image: Option<[Score; 2]>,
    /// Per predicted source: accuracy and weighted F1 against the annotation, with the
    /// number of annotated items.
    vs_annotation: Vec<(LabelSource, Score)>,
    annotated: usize,
}

#[derive(Clone, Copy)]
struct Score {
    weighted_f1: f64,
    macro_f1: f64,
    accuracy: f64,
}

pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp) {
    let Some(r) = app.results.clone() else {
        ui.weak("No results yet.");
        return;
    };
    let cache = &mut app.metrics;
    if cache.generation != Some(r.generation) {
        cache.table = Some(table(&r));
        cache.generation = Some(r.generation);
    }
    let t = cache.table.as_ref().expect("computed above");
    ui.label(RichText::new("Agreement of text and image labels").strong());
    match &t.f1_text_vs_image {
        None => {
            ui.weak("Needs both modalities.");
        }
        Some(scores) => {
            egui::Grid::new("f1 table")
                .num_columns(4)
                .striped(true)
                .spacing([18.0, 4.0])
                .show(ui, |ui| {
                    ui.weak("text vs image");
                    ui.weak("weighted F1");
                    ui.weak("macro F1");
                    ui.weak("accuracy");
                    ui.end_row();
                    for (method, s) in [Method::Baseline, Method::Pairwise].iter().zip(scores) {
                        ui.label(method.name());
                        ui.monospace(format!("{:.3}", s.weighted_f1));
                        ui.monospace(format!("{:.3}", s.macro_f1));
                        ui.monospace(format!("{:.3}", s.accuracy));
                        ui.end_row();
                    }
                });
            let gain = scores[1].weighted_f1 - scores[0].weighted_f1;
            ui.weak(format!("pairwise − baseline: {gain:+.3} weighted F1"));
        }
    }
    ui.add_space(10.0);
    ui.label(
        RichText::new(format!(
            "Against the annotation ({} annotated items)",
            t.annotated
        ))
        .strong(),
    );
    if t.annotated == 0 {
        ui.weak("No item has an annotation.");
        return;
    }
    egui::Grid::new("vs annotation")
        .num_columns(4)
        .striped(true)
        .spacing([18.0, 4.0])
        .show(ui, |ui| {
            ui.weak("source");
            ui.weak("accuracy");
            ui.weak("weighted F1");
            ui.weak("macro F1");
            ui.end_row();
            for (source, s) in &t.vs_annotation {
                ui.label(source.name());
                ui.monospace(format!("{:.3}", s.accuracy));
                ui.monospace(format!("{:.3}", s.weighted_f1));
                ui.monospace(format!("{:.3}", s.macro_f1));
                ui.end_row();
            }
        });
}

fn table(r: &Results) -> Table {
    let c = r.dataset.num_classes();
    let has_both = r.classification.get(Modality::Image).is_some()
        && r.classification.get(Modality::Text).is_some();
    let f1_text_vs_image = has_both.then(|| {
        [Method::Baseline, Method::Pairwise].map(|method| {
            // Image labels play the reference, as in the write-up.
            score(
                r,
                c,
                LabelSource::Predicted(Modality::Image, method),
                LabelSource::Predicted(Modality::Text, method),
            )
        })
    });
    let vs_annotation = r
        .sources()
        .into_iter()
        .filter(|s| *s != LabelSource::Annotation)
        .map(|s| (s, score(r, c, LabelSource::Annotation, s)))
        .collect();
    Table {
        f1_text_vs_image,
        vs_annotation,
        annotated: r.rows.iter().filter(|row| row.annotation.is_some()).count(),
    }
}

fn score(r: &Results, c: usize, truth: LabelSource, pred: LabelSource) -> Score {
    let pairs: Vec<(usize, usize)> = r
        .rows
        .iter()
        .filter_map(|row| Some((row.label(truth)?, row.label(pred)?)))
        .collect();
    f1_scores(&pairs, c)
}

/// scikit-learn's definitions: per-class F1 from the confusion counts (0 when undefined),
/// weighted by support (weighted) or averaged over classes with support or predictions
/// (macro).
fn f1_scores(pairs: &[(usize, usize)], c: usize) -> Score {
    let mut tp = vec![0usize; c];
    let mut support = vec![0usize; c];
    let mut predicted = vec![0usize; c];
    for &(t, p) in pairs {
        support[t] += 1;
        predicted[p] += 1;
        if t == p {
            tp[t] += 1;
        }
    }
    let n = pairs.len();
    let f1 = |k: usize| {
        let denom = support[k] + predicted[k];
        if denom == 0 {
            0.0
        } else {
            2.0 * tp[k] as f64 / denom as f64
        }
    };
    let present: Vec<usize> = (0..c).filter(|&k| support[k] + predicted[k] > 0).collect();
    Score {
        weighted_f1: if n == 0 {
            0.0
        } else {
            (0..c).map(|k| f1(k) * support[k] as f64).sum::<f64>() / n as f64
        },
        macro_f1: if present.is_empty() {
            0.0
        } else {
            present.iter().map(|&k| f1(k)).sum::<f64>() / present.len() as f64
        },
        accuracy: if n == 0 {
            0.0
        } else {
            tp.iter().sum::<usize>() as f64 / n as f64
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f1_matches_scikit_learn_on_a_small_case() {
        // sklearn: f1_score([0,0,1,1,2], [0,1,1,1,0], average='weighted') = 0.52, macro 0.4333…
        let pairs = [(0, 0), (0, 1), (1, 1), (1, 1), (2, 0)];
        let s = f1_scores(&pairs, 3);
        assert!((s.weighted_f1 - 0.52).abs() < 1e-6, "{}", s.weighted_f1);
        assert!((s.macro_f1 - 0.433_333_333).abs() < 1e-6, "{}", s.macro_f1);
        assert!((s.accuracy - 0.6).abs() < 1e-12);
    }
}
