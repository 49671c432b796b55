//! The short text report `classify` prints on stdout.

use pairwise_audit::one_vs_rest::{AgainstAnnotation, BinaryTable};
use std::fmt::Write as _;
use std::path::Path;

use pairwise_audit::audit::{Audit, FlagKind};
use pairwise_audit::metrics::MetricsReport;
use pairwise_audit::output::{FILES, ONE_VS_REST_FILE, ScorerInfo, Timing};
use pairwise_audit::{Classification, Dataset};

/// How many of the most suspicious items the summary lists.
const TOP: usize = 5;

pub struct Run<'a> {
    pub dataset: &'a Path,
    pub out: &'a Path,
    pub ds: &'a Dataset,
    pub cls: &'a Classification,
    pub audit: &'a Audit,
    pub metrics: &'a MetricsReport,
    pub scorer: &'a ScorerInfo,
    pub timings: &'a [Timing],
}

pub fn render(r: &Run<'_>) -> String {
    let mut s = String::new();
    let mods: Vec<String> = r.cls.modalities().iter().map(|m| m.to_string()).collect();
    let _ = writeln!(
        s,
        "{}: {} items, {} classes, d = {}, classified {}",
        r.dataset.display(),
        r.ds.len(),
        r.ds.num_classes(),
        r.ds.dim(),
        mods.join(" + ")
    );
    if !r.ds.warnings.is_empty() {
        let _ = writeln!(
            s,
            "{} loader warnings ({} missing images)",
            r.ds.warnings.len(),
            r.ds.missing_images
        );
    }

    if !r.metrics.agreement.is_empty() {
        let _ = writeln!(
            s,
            "\nText vs image labels (agreement; {}):",
            r.metrics.agreement_convention
        );
        let _ = writeln!(
            s,
            "  {:<10} {:>11} {:>9} {:>9}",
            "", "weighted F1", "macro F1", "accuracy"
        );
        for row in &r.metrics.agreement {
            let _ = writeln!(
                s,
                "  {:<10} {:>11.3} {:>9.3} {:>9.3}",
                row.method, row.scores.weighted_f1, row.scores.macro_f1, row.scores.accuracy
            );
        }
    }

    if let Some(ovr) = &r.cls.one_vs_rest {
        binary_table(&mut s, &BinaryTable::compute(r.ds, ovr));
    }

    let counts = r.audit.counts();
    if counts.annotated > 0 {
        let _ = writeln!(
            s,
            "\nAgainst the annotation ({} of {} items annotated):",
            counts.annotated, counts.items
        );
        let _ = writeln!(
            s,
            "  {:<15} {:>9} {:>11} {:>9}",
            "", "accuracy", "weighted F1", "macro F1"
        );
        for row in &r.metrics.vs_annotation {
            let _ = writeln!(
                s,
                "  {:<15} {:>9.3} {:>11.3} {:>9.3}",
                row.source, row.scores.accuracy, row.scores.weighted_f1, row.scores.macro_f1
            );
        }
    } else {
        let _ = writeln!(
            s,
            "\nNo item carries an annotation: only image ≠ text is flagged."
        );
    }

    let _ = writeln!(
        s,
        "\nFlags (pairwise labels): {} of {} items flagged; ranked by `{}`",
        counts.flagged, counts.items, r.scorer.name
    );
    for kind in FlagKind::BY_STRENGTH {
        let n = match kind {
            FlagKind::AgreeNotAnnotation => counts.agree_not_annotation,
            FlagKind::BothNotAnnotation => counts.both_not_annotation,
            FlagKind::OneNotAnnotation => counts.one_not_annotation,
            FlagKind::ImageTextDisagree => counts.image_text_disagree,
            FlagKind::None => continue,
        };
        let _ = writeln!(s, "  {:<34} {:>7}", kind.describe(), n);
    }
    match &r.audit.calibration {
        Some(c) => {
            let e = &c.estimate;
            let q = c.queue(pairwise_audit::audit::estimate::DEFAULT_CUT);
            let _ = writeln!(
                s,
                "\nEstimated wrong annotations: {:.0} of {} scored ({:.1}%; 90% interval {:.0}–{:.0})",
                e.count,
                e.scored,
                100.0 * e.count / e.scored.max(1) as f64,
                e.interval.0,
                e.interval.1
            );
            let _ = writeln!(
                s,
                "Review queue (flagged.csv): {} items more likely wrong than right, expected precision {}, expected to hold {} of the errors",
                q.items.len(),
                q.expected_precision
                    .map_or("–".into(), |p| format!("{p:.2}")),
                q.expected_recall
                    .map_or("–".into(), |p| format!("{:.0}%", 100.0 * p))
            );
            let cells = e.top_confusions(0.5, 5);
            if !cells.is_empty() {
                let _ = writeln!(
                    s,
                    "Likely confusions (annotated → likely true: expected count):"
                );
                for (y, c, v) in cells {
                    let _ = writeln!(
                        s,
                        "  {} → {}: {v:.0}",
                        r.ds.class_name(y),
                        r.ds.class_name(c)
                    );
                }
            }
        }
        None => {
            let _ = writeln!(
                s,
                "\nNo error-count estimate: fewer than 20 items have a suspicion score; flagged.csv lists the flagged items."
            );
        }
    }
    if !r.audit.lookalikes.is_empty() {
        let _ = writeln!(
            s,
            "Look-alikes labelled differently (duplicates.csv): {} pairs, e.g.",
            r.audit.lookalikes.len()
        );
        for p in r.audit.lookalikes.iter().take(3) {
            let label = |i: usize| r.audit.annotations[i].map_or("", |c| r.ds.class_name(c));
            let _ = writeln!(
                s,
                "  {} ({}) ~ {} ({})",
                r.ds.items[p.a].id,
                label(p.a),
                r.ds.items[p.b].id,
                label(p.b)
            );
        }
    }
    let ranking = r.audit.queue();
    let scored: Vec<usize> = ranking
        .iter()
        .copied()
        .filter(|&i| r.audit.scores.items[i].is_some())
        .take(TOP)
        .collect();
    if !scored.is_empty() {
        let _ = writeln!(
            s,
            "\nMost suspicious queued items (all {} in flagged.csv):",
            ranking.len()
        );
        for i in scored {
            let Some(score) = &r.audit.scores.items[i] else {
                continue;
            };
            let annotation = r.audit.annotations[i].map_or("", |c| r.ds.class_name(c));
            let _ = writeln!(
                s,
                "  {:>+9.4}  {}  annotated {}, challenger {}  {}",
                score.score,
                r.ds.items[i].id,
                annotation,
                r.ds.class_name(score.challenger),
                short(&r.ds.items[i].description, 40)
            );
        }
    }

    let _ = writeln!(s, "\nPermutations (one per round):");
    for m in r.cls.modalities() {
        if let Some(res) = r.cls.get(m) {
            let fallback = res.pairs.iter().filter(|p| p.fallback).count();
            let _ = writeln!(
                s,
                "  {m:<6} {}  (floor {:.4}, {} of {} pairs fell back to all dims)",
                compact_json(&res.permutations),
                res.floor,
                fallback,
                res.pairs.len()
            );
        }
    }

    let _ = writeln!(s, "\nTimings (s):");
    for t in r.timings {
        let _ = writeln!(s, "  {:<28} {:>8.3}", t.stage, t.seconds);
    }
    let mut files = FILES.to_vec();
    if r.cls.one_vs_rest.is_some() {
        files.push(ONE_VS_REST_FILE);
    }
    let _ = writeln!(s, "\nWrote {} in {}", files.join(", "), r.out.display());
    s
}

/// The first `max` characters of `text` on one line, with an ellipsis if cut.
fn short(text: &str, max: usize) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() <= max {
        one_line
    } else {
        let cut: String = one_line.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

fn compact_json(perms: &[Vec<usize>]) -> String {
    serde_json::to_string(perms).unwrap_or_default()
}

/// The write-up's binary table: text vs image agreement and each view against the annotation,
/// at full dimension and on the sub-dimensions.
fn binary_table(s: &mut String, t: &BinaryTable) {
    let rest = t
        .rest
        .as_deref()
        .map_or("the other classes".to_string(), |r| format!("`{r}`"));
    let _ = writeln!(
        s,
        "\nOne vs rest: `{}` against {rest} (acc/F1: each view against \"annotated `{}`\"):",
        t.class, t.class
    );
    let _ = writeln!(
        s,
        "  {:<15} {:>16} {:>10} {:>10} {:>13} {:>13}",
        "", "text vs image F1", "image says", "text says", "image acc/F1", "text acc/F1"
    );
    let opt = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.3}"));
    let count = |v: Option<usize>| v.map_or("–".to_string(), |v| v.to_string());
    let vs = |a: &Option<AgainstAnnotation>| {
        a.as_ref().map_or("–".to_string(), |a| {
            format!("{:.3}/{:.3}", a.accuracy, a.weighted_f1)
        })
    };
    for row in &t.rows {
        let _ = writeln!(
            s,
            "  {:<15} {:>16} {:>10} {:>10} {:>13} {:>13}",
            row.stage,
            opt(row.text_vs_image_weighted_f1),
            count(row.image_says_class),
            count(row.text_says_class),
            vs(&row.image_vs_annotation),
            vs(&row.text_vs_annotation)
        );
    }
    for v in &t.views {
        let _ = writeln!(
            s,
            "  {}: kept {} + {} of {} + {} items to select {} dimensions{}",
            v.modality,
            v.kept[0],
            v.kept[1],
            v.candidates[0],
            v.candidates[1],
            v.dims.len(),
            if v.fallback {
                " (too few kept: every dimension)"
            } else {
                ""
            }
        );
    }
    let _ = writeln!(
        s,
        "  kept as `{}` ({} views' sub-dimension decision): {} items",
        t.class, t.keep_rule, t.kept
    );
}
