//! The selected item: image, description, the five labels, per-class cosine bars per
//! modality, and its tournament path.

use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Plot};
use pairwise_audit::{ClassId, Modality, PairKey};

use pairwise_audit::tournament::Match;

use crate::app::review::TraceState;

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::grid::flag_colour;
use pairwise_audit::audit::FlagKind;
use pairwise_audit::metrics::LabelSource;

use crate::app::review::{Results, flag_label, flag_tooltip};
use crate::app::widgets::{BUTTON_CLASS_CHARS, elide, swatch};

pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    let Some(r) = app.results.clone() else {
        ui.weak("No results yet.");
        return;
    };
    let Some(i) = app.selected.filter(|&i| i < r.len()) else {
        ui.weak("Select an item in the grid (click a row, or use the arrow keys).");
        return;
    };
    egui::ScrollArea::vertical()
        .auto_shrink([false, false])
        .show(ui, |ui| {
            item_view(ui, app, &r, i, cmds);
        });
}

fn item_view(
    ui: &mut egui::Ui,
    app: &mut AuditApp,
    r: &Results,
    i: usize,
    cmds: &mut Vec<Command>,
) {
    let item = &r.dataset.items[i];
    let row = &r.rows[i];
    ui.horizontal_wrapped(|ui| {
        ui.heading(&item.id);
        ui.label(
            RichText::new(flag_label(row.flag))
                .color(flag_colour(row.flag, ui.visuals()))
                .strong(),
        )
        .on_hover_text(flag_tooltip(row.flag));
        if let Some(s) = row.suspicion {
            ui.label(format!("suspicion {s:.3}"));
        }
    });
    if let (Some(evidence), Some(c)) = (r.evidence(i), row.challenger) {
        ui.weak(format!("challenger {} — {evidence}", r.class_name(Some(c))));
    }
    similar_items(ui, app, r, i, cmds);
    neighbours(ui, r, i, cmds);
    lookalikes(ui, app, r, i, cmds);
    let path = r.dataset.image_path(i);
    if item.image.is_some() {
        let side = ui.available_width().min(240.0);
        let resp = app.thumbs.show(ui, i, path.as_deref(), side);
        if let Some(p) = &path {
            resp.on_hover_text(p.display().to_string());
        }
    }
    ui.add_space(4.0);
    ui.label(&item.description);
    ui.add_space(6.0);

    let weak = ui.visuals().weak_text_color();
    let warn = flag_colour(FlagKind::OneNotAnnotation, ui.visuals());
    // Two columns of class names share the panel's width (about 7 px a character).
    let class_chars = (((ui.available_width() - 70.0) / 2.0 / 7.0) as usize).clamp(8, 30);
    let class_text = |c: Option<ClassId>| {
        let t = RichText::new(elide(r.class_name(c), class_chars));
        if c.is_some() && row.annotation.is_some() && c != row.annotation {
            t.color(warn).strong()
        } else {
            t
        }
    };
    egui::Grid::new("labels")
        .num_columns(3)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.label(RichText::new("annotation").color(weak));
            ui.label(RichText::new(elide(r.class_name(row.annotation), 2 * class_chars)).strong())
                .on_hover_text(r.class_name(row.annotation));
            ui.end_row();
            ui.label("");
            ui.label(RichText::new("baseline").color(weak));
            ui.label(RichText::new("pairwise").color(weak));
            ui.end_row();
            for m in Modality::ALL {
                ui.label(RichText::new(m.name()).color(weak));
                for source in [LabelSource::Baseline(m), LabelSource::Pairwise(m)] {
                    let c = row.label(source);
                    ui.label(class_text(c)).on_hover_text(r.class_name(c));
                }
                ui.end_row();
            }
        });
    if let (Some(y), Some(p)) = (row.annotation, row.challenger) {
        for m in r.classification.modalities() {
            if ui
                .button(format!(
                    "Inspect {} vs {} ({m})",
                    elide(r.class_name(Some(y)), BUTTON_CLASS_CHARS),
                    elide(r.class_name(Some(p)), BUTTON_CLASS_CHARS)
                ))
                .on_hover_text(format!(
                    "Open the dimension inspector on the annotation ({}) and the challenger ({})",
                    r.class_name(Some(y)),
                    r.class_name(Some(p))
                ))
                .clicked()
            {
                cmds.push(Command::InspectPair(m, PairKey::new(y, p)));
            }
        }
    }

    for m in r.classification.modalities() {
        let Some(res) = r.classification.get(m) else {
            continue;
        };
        ui.separator();
        if !res.has(i) {
            ui.weak(format!(
                "{m}: this item has no {m} embedding (classified from its other view)"
            ));
            continue;
        }
        ui.label(RichText::new(format!("{m}: cosine to each class")).strong());
        cosine_chart(
            ui,
            r,
            i,
            m,
            res.scores.row(i).to_vec(),
            row.annotation,
            row.pairwise(m),
        );
        ui.label(RichText::new(format!("{m}: tournament path")).strong());
        tournament_path(ui, r, i, m);
    }
}

/// Horizontal bars, one per class, named on the axis; the annotation and the pairwise winner
/// are coloured so the eye finds them at once.
fn cosine_chart(
    ui: &mut egui::Ui,
    r: &Results,
    i: usize,
    m: Modality,
    scores: Vec<f64>,
    annotation: Option<ClassId>,
    winner: Option<ClassId>,
) {
    // Many classes: the best few by cosine, plus the annotation and the winner wherever they
    // rank, best first; a bar per class of a thousand would be unreadable and slow to draw.
    let shown = shown_classes(&scores, annotation, winner, BAR_CLASSES);
    let c = shown.len();
    let names: Vec<String> = shown
        .iter()
        .map(|&k| r.dataset.class_name(k).to_string())
        .collect();
    let base = Color32::from_rgb(110, 140, 190);
    let bars: Vec<Bar> = shown
        .iter()
        .enumerate()
        .map(|(pos, &k)| {
            let s = scores[k];
            let colour = if Some(k) == winner {
                Color32::from_rgb(90, 190, 120)
            } else if Some(k) == annotation {
                Color32::from_rgb(230, 170, 60)
            } else {
                base
            };
            // First shown at the top: the argument axis grows upwards.
            Bar::new((c - 1 - pos) as f64, s)
                .name(&names[pos])
                .fill(colour.gamma_multiply(0.8))
                .stroke(egui::Stroke::new(1.0, colour))
                .width(0.7)
        })
        .collect();
    let chart = BarChart::new(format!("{m} cosine"), bars)
        .horizontal()
        .element_formatter(Box::new(|bar, _| format!("{}: {:.4}", bar.name, bar.value)));
    // Axis labels elided (the bar's hover names the class in full), so that long taxonomy
    // names leave room for the bars.
    let label_names: Vec<String> = names.iter().map(|n| elide(n, 28).into_owned()).collect();
    let name_width = label_names
        .iter()
        .map(|n| {
            ui.fonts_mut(|f| {
                f.layout_no_wrap(n.clone(), egui::FontId::proportional(12.0), Color32::WHITE)
                    .size()
                    .x
            })
        })
        .fold(40.0f32, f32::max);
    // One tick label per class: the default spacing hides labels closer than 20 px.
    let y_axis = egui_plot::AxisHints::new_y()
        .formatter(move |mark, _| {
            let k = mark.value.round();
            if (mark.value - k).abs() > 1e-6 || k < 0.0 || k as usize >= c {
                return String::new();
            }
            label_names[c - 1 - k as usize].clone()
        })
        .label_spacing(8.0..=10.0)
        .min_thickness(name_width + 8.0);
    Plot::new(("cosines", m, i))
        .height((c as f32 * 18.0 + 30.0).clamp(90.0, 360.0))
        .allow_drag(false)
        .allow_zoom(false)
        .allow_scroll(false)
        .allow_boxed_zoom(false)
        .show_grid([true, false])
        .custom_y_axes(vec![y_axis])
        // About four labelled ticks whatever the cosines' range (the default spacer labels
        // too few on the narrow ranges cosines have).
        .x_grid_spacer(four_ticks)
        .y_grid_spacer(egui_plot::uniform_grid_spacer(|_| [1.0, 1.0, 1.0]))
        .show(ui, |plot| plot.add(chart));
    ui.horizontal(|ui| {
        swatch(ui, Color32::from_rgb(90, 190, 120), "pairwise label");
        swatch(ui, Color32::from_rgb(230, 170, 60), "annotation");
    });
    if c < scores.len() {
        ui.weak(format!(
            "the {c} classes shown of {}: the best by cosine, the annotation and the winner",
            scores.len()
        ));
    }
}

/// Up to this many classes, every one has a bar, in class order.
const BAR_CLASSES: usize = 15;

/// Every class in order when there are at most `limit`; else the `limit − 2` best by cosine
/// plus the annotation and the winner (wherever they rank), best first.
fn shown_classes(
    scores: &[f64],
    annotation: Option<ClassId>,
    winner: Option<ClassId>,
    limit: usize,
) -> Vec<ClassId> {
    if scores.len() <= limit {
        return (0..scores.len()).collect();
    }
    let mut order: Vec<ClassId> = (0..scores.len()).collect();
    let by_score = |a: &ClassId, b: &ClassId| scores[*b].total_cmp(&scores[*a]).then(a.cmp(b));
    order.select_nth_unstable_by(limit - 3, by_score);
    order.truncate(limit - 2);
    for extra in [annotation, winner].into_iter().flatten() {
        if !order.contains(&extra) {
            order.push(extra);
        }
    }
    order.sort_unstable_by(by_score);
    order
}

/// Grid marks at a round step giving about four intervals over the visible range.
fn four_ticks(input: egui_plot::GridInput) -> Vec<egui_plot::GridMark> {
    let (lo, hi) = input.bounds;
    let raw = ((hi - lo) / 4.0).max(1e-9);
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last)
        .map(|k| egui_plot::GridMark {
            value: k as f64 * step,
            step_size: step,
        })
        .collect()
}

fn tournament_path(ui: &mut egui::Ui, r: &Results, i: usize, m: Modality) {
    let matches = match r.trace(ui.ctx(), i, m) {
        TraceState::Ready(t) => t,
        TraceState::Pending => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.weak("replaying the bracket…");
            });
            return;
        }
        TraceState::Unavailable => {
            ui.weak("(the tournament path is not available for this run)");
            return;
        }
    };
    // The winner's own matches; with many classes the rest of the bracket (C − 1 matches in
    // all) folds away and scrolls, drawing only the rows on screen.
    let winner = matches.last().map(|mt| mt.winner);
    let path: Vec<&Match> = matches
        .iter()
        .filter(|mt| Some(mt.a) == winner || Some(mt.b) == winner)
        .collect();
    let row = |ui: &mut egui::Ui, mt: &Match| {
        ui.label(format!("{}", mt.round + 1));
        ui.label(format!(
            "{} vs {}",
            r.class_name(Some(mt.a)),
            r.class_name(Some(mt.b))
        ));
        ui.label(RichText::new(r.class_name(Some(mt.winner))).strong());
        ui.monospace(format!("{:+.4}", mt.margin));
        ui.end_row();
    };
    let header = |ui: &mut egui::Ui| {
        ui.weak("round");
        ui.weak("pair");
        ui.weak("winner");
        ui.weak("margin");
        ui.end_row();
    };
    if matches.len() <= PATH_ROWS {
        egui::Grid::new(("path", m))
            .num_columns(4)
            .striped(true)
            .show(ui, |ui| {
                header(ui);
                for mt in matches.iter() {
                    row(ui, mt);
                }
            });
        return;
    }
    egui::Grid::new(("winner path", m))
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            header(ui);
            for mt in &path {
                row(ui, mt);
            }
        });
    egui::CollapsingHeader::new(format!("all {} matches of the bracket", matches.len()))
        .id_salt(("all matches", m))
        .show(ui, |ui| {
            let h = ui.text_style_height(&egui::TextStyle::Body) + ui.spacing().item_spacing.y;
            egui::ScrollArea::vertical()
                .id_salt(("all matches scroll", m))
                .max_height(240.0)
                .show_rows(ui, h, matches.len(), |ui, range| {
                    egui::Grid::new(("all path", m))
                        .num_columns(4)
                        .show(ui, |ui| {
                            for mt in &matches[range] {
                                row(ui, mt);
                            }
                        });
                });
        });
}

/// Brackets up to this many matches are listed whole; larger ones show the winner's path.
const PATH_ROWS: usize = 20;

/// The neighbour vote's evidence as the items themselves: id and annotation, click to go there.
fn neighbours(ui: &mut egui::Ui, r: &Results, i: usize, cmds: &mut Vec<Command>) {
    let Some(Some(score)) = r.audit.scores.items.get(i) else {
        return;
    };
    let pairwise_audit::scorers::Evidence::Annotated { neighbours, .. } = &score.evidence else {
        return;
    };
    for (m, idx) in neighbours {
        ui.horizontal_wrapped(|ui| {
            ui.weak(format!("{m} neighbours:"));
            for &j in idx.iter().take(8) {
                let j = j as usize;
                let Some(item) = r.dataset.items.get(j) else {
                    continue;
                };
                let class = r.class_name(r.rows[j].annotation);
                let text = format!("{} ({})", item.id, elide(class, BUTTON_CLASS_CHARS));
                if ui
                    .small_button(text)
                    .on_hover_text(format!("{class}\n{}", item.description))
                    .clicked()
                {
                    cmds.push(Command::Select(Some(j)));
                }
            }
        });
    }
}

/// "These look the same but are labelled A and B": the item and each look-alike side by
/// side, and one button (or `L`) to settle a label for both.
fn lookalikes(
    ui: &mut egui::Ui,
    app: &mut AuditApp,
    r: &Results,
    i: usize,
    cmds: &mut Vec<Command>,
) {
    let others = &r.lookalikes[i];
    if others.is_empty() {
        return;
    }
    ui.separator();
    ui.label(RichText::new("Looks the same as another item, labelled differently").strong());
    let name = |k: usize| r.class_name(r.rows[k].annotation);
    for &j in others {
        ui.horizontal_wrapped(|ui| {
            for k in [i, j] {
                ui.vertical(|ui| {
                    if r.dataset.items[k].image.is_some() {
                        let path = r.dataset.image_path(k);
                        app.thumbs.show(ui, k, path.as_deref(), 72.0);
                    }
                    let id = &r.dataset.items[k].id;
                    if k == j {
                        if ui
                            .small_button(id)
                            .on_hover_text(&r.dataset.items[k].description)
                            .clicked()
                        {
                            cmds.push(Command::Select(Some(k)));
                        }
                    } else {
                        ui.label(RichText::new(id).strong());
                    }
                    ui.label(elide(name(k), BUTTON_CLASS_CHARS));
                });
            }
        });
        ui.horizontal_wrapped(|ui| {
            let keys = Command::SameLabelAs(None)
                .shortcuts()
                .first()
                .map(|s| format!(" ({})", ui.ctx().format_shortcut(s)))
                .unwrap_or_default();
            if ui
                .button(format!(
                    "Both are {}{keys}",
                    elide(name(i), BUTTON_CLASS_CHARS)
                ))
                .on_hover_text(Command::SameLabelAs(None).tooltip())
                .clicked()
            {
                cmds.push(Command::SameLabelAs(Some(i)));
            }
            if ui
                .button(format!("Both are {}", elide(name(j), BUTTON_CLASS_CHARS)))
                .clicked()
            {
                cmds.push(Command::SameLabelAs(Some(j)));
            }
        });
    }
}

/// Items shown per view in "Similar items".
const SIMILAR_SHOWN: usize = 8;

/// The selected item's nearest items in each view (exact cosine), as thumbnails with id and
/// annotation, clickable; and the button that sorts the grid by similarity to it.
fn similar_items(
    ui: &mut egui::Ui,
    app: &mut AuditApp,
    r: &Results,
    i: usize,
    cmds: &mut Vec<Command>,
) {
    let ctx = ui.ctx().clone();
    let Some(sim) = app.similar.get(&ctx, &r.dataset, i) else {
        // No spinner: it would repaint every frame while the thread works.
        ui.weak("finding similar items…");
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.label(RichText::new("Similar items").strong());
        if ui
            .small_button("Sort grid by similarity")
            .on_hover_text("Most similar to this item first (mean cosine over the views)")
            .clicked()
        {
            cmds.push(Command::SortBySimilarity(sim.clone()));
        }
    });
    let side = 48.0;
    let cell = side + 22.0;
    // Whole cells per row: a wrapped row of fixed-width cells would run past the panel.
    let per_row = ((ui.available_width() / (cell + 6.0)) as usize).clamp(1, SIMILAR_SHOWN);
    for (m, sims) in &sim.views {
        let top = pairwise_audit::map::similar::top_k(sims, per_row, i);
        ui.weak(format!("{m}:"));
        ui.horizontal(|ui| {
            for (j, cos) in top {
                ui.vertical(|ui| {
                    ui.set_width(cell);
                    if r.dataset.items[j].image.is_some() {
                        let path = r.dataset.image_path(j);
                        let resp = app.thumbs.show(ui, j, path.as_deref(), side);
                        if resp.interact(egui::Sense::click()).clicked() {
                            cmds.push(Command::Select(Some(j)));
                        }
                    }
                    let item = &r.dataset.items[j];
                    let class = r.class_name(r.rows[j].annotation);
                    let id =
                        egui::Label::new(RichText::new(elide(&item.id, 9)).small().underline())
                            .sense(egui::Sense::click())
                            .truncate();
                    if ui
                        .add(id)
                        .on_hover_text(format!(
                            "{}\n{class}\ncosine {cos:.3}\n{}",
                            item.id, item.description
                        ))
                        .clicked()
                    {
                        cmds.push(Command::Select(Some(j)));
                    }
                    let mut label = RichText::new(elide(class, 10)).small();
                    if r.rows[j].annotation != r.rows[i].annotation {
                        label = label.color(flag_colour(FlagKind::OneNotAnnotation, ui.visuals()));
                    }
                    ui.add(egui::Label::new(label).truncate());
                });
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::shown_classes;

    #[test]
    fn many_classes_show_the_best_and_always_the_annotation_and_winner() {
        let scores: Vec<f64> = (0..1000).map(|k| (k as f64 * 0.37).sin()).collect();
        let shown = shown_classes(&scores, Some(3), Some(998), 15);
        assert!(shown.len() <= 15 && shown.contains(&3) && shown.contains(&998));
        assert!(shown.windows(2).all(|w| scores[w[0]] >= scores[w[1]]));
        let best = (0..1000)
            .max_by(|&a, &b| scores[a].total_cmp(&scores[b]))
            .unwrap();
        assert_eq!(shown[0], best);
        assert_eq!(
            shown_classes(&scores[..9], None, None, 15),
            (0..9).collect::<Vec<_>>()
        );
    }
}
