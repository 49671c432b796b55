//! "Which dimensions separate these two classes?": every dimension's cross ratio for one class
//! pair, the selected top-k highlighted; one dimension's normalised values for the two
//! classes as overlaid histograms, with the selected item's value marked.

use std::sync::{Arc, OnceLock};

use egui::{Color32, RichText};
use egui_plot::{Bar, BarChart, Plot, VLine};
use pairwise_audit::one_vs_rest::{BinaryView, DimSet};
use pairwise_audit::selection::PairRecord;
use pairwise_audit::{ClassId, Modality, PairKey};

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::review::Results;
use crate::app::widgets::swatch;

/// The inspector's choices, plus a cache of the histogram on screen.
#[derive(Default)]
pub struct InspectorState {
    pub modality: Option<Modality>,
    /// `None`: follow the selected item (annotation vs challenger).
    pub pair: Option<PairKey>,
    pub dim: Option<usize>,
    /// Show the run's one-vs-rest step (class against the rest) instead of a pair.
    pub binary: bool,
    hist: Option<(HistKey, Histograms)>,
    /// A pair whose every-dimension ratios the run did not keep (many classes), computed on
    /// a thread of its own so that the frame never waits for a pass over the items.
    on_demand: Option<(PairJob, Arc<OnceLock<PairRecord>>)>,
}

#[derive(Clone, Copy, PartialEq)]
struct PairJob {
    generation: u64,
    modality: Modality,
    pair: PairKey,
}

impl InspectorState {
    /// The record of `pair` with every dimension's ratio: the run's own when it kept them,
    /// else the one computed in the background (`None` while it is being computed).
    fn full_record(
        &mut self,
        ctx: &egui::Context,
        r: &Results,
        m: Modality,
        pair: PairKey,
    ) -> Option<PairRecord> {
        let res = r.classification.get(m)?;
        if let Some(rec) = res.pair(pair)
            && rec.ratios.len() == r.dataset.dim()
        {
            return Some(rec.clone());
        }
        let job = PairJob {
            generation: r.generation,
            modality: m,
            pair,
        };
        if let Some((running, slot)) = &self.on_demand
            && *running == job
        {
            return slot.get().cloned();
        }
        let slot = Arc::new(OnceLock::new());
        let (ds, cls, done, ctx) = (
            Arc::clone(&r.dataset),
            Arc::clone(&r.classification),
            Arc::clone(&slot),
            ctx.clone(),
        );
        std::thread::spawn(move || {
            if let (Some(res), Some(x)) = (cls.get(m), ds.embeddings(m)) {
                let _ = done.set(res.pair_record(x.view(), pair, true).into_owned());
                ctx.request_repaint();
            }
        });
        self.on_demand = Some((job, slot));
        None
    }

    pub fn inspect(&mut self, m: Modality, pair: PairKey) {
        self.modality = Some(m);
        self.pair = Some(pair);
        self.dim = None;
        self.binary = false;
    }
}

#[derive(Clone, Copy, PartialEq)]
struct HistKey {
    generation: u64,
    modality: Modality,
    /// `None`: the one-vs-rest sides.
    pair: Option<PairKey>,
    dim: usize,
}

const BINS: usize = 40;

struct Histograms {
    lo: f64,
    width: f64,
    /// Fraction of each class's items per bin, `[a, b]`.
    share: [Vec<f64>; 2],
    counts: [usize; 2],
}

const COLOUR_A: Color32 = Color32::from_rgb(90, 160, 240);
const COLOUR_B: Color32 = Color32::from_rgb(240, 130, 60);
const TOP_K: Color32 = Color32::from_rgb(90, 190, 120);

pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    let Some(r) = app.results.clone() else {
        ui.weak("No results yet.");
        return;
    };
    let modalities = r.classification.modalities();
    let Some(&first) = modalities.first() else {
        ui.weak("This run classified no modality.");
        return;
    };
    let st = &mut app.inspector;
    let m = *st.modality.get_or_insert(first);
    let m = if modalities.contains(&m) { m } else { first };
    let follow_pair = app
        .selected
        .and_then(|i| Some(PairKey::new(r.rows[i].annotation?, r.rows[i].challenger?)));

    ui.horizontal_wrapped(|ui| {
        ui.label("modality");
        for mm in &modalities {
            if ui.selectable_label(m == *mm, mm.name()).clicked() {
                st.modality = Some(*mm);
                st.dim = None;
            }
        }
        ui.separator();
        let mut following = st.pair.is_none();
        if ui
            .checkbox(&mut following, "follow selected item")
            .on_hover_text("Use the selected item's annotation and challenger as the pair")
            .changed()
        {
            st.pair = if following {
                None
            } else {
                follow_pair.or(Some(PairKey::new(0, 1)))
            };
            st.dim = None;
        }
    });
    if let Some(ovr) = r.classification.one_vs_rest.as_ref() {
        let class = r.dataset.class_name(ovr.class);
        ui.horizontal(|ui| {
            ui.label("show");
            if ui.selectable_label(!st.binary, "a class pair").clicked() && st.binary {
                st.binary = false;
                st.dim = None;
            }
            if ui
                .selectable_label(st.binary, format!("{class} vs rest"))
                .on_hover_text("The one-vs-rest step: the class against the rest of the catalogue")
                .clicked()
                && !st.binary
            {
                st.binary = true;
                st.dim = None;
            }
        });
        if st.binary {
            match ovr.get(m) {
                Some(view) => binary(ui, st, &r, view, ovr.class, ovr.rest, app.selected),
                None => {
                    ui.weak("The one-vs-rest step did not run on this modality.");
                }
            }
            return;
        }
    }
    let c = r.dataset.num_classes();
    if c < 2 {
        ui.weak("A pair needs at least two classes.");
        return;
    }
    let pair = match st.pair {
        Some(p) => p,
        None => match follow_pair {
            Some(p) => p,
            None => {
                ui.weak("The selected item has no challenger (its labels agree), or nothing is selected. Untick “follow selected item” to pick a pair.");
                return;
            }
        },
    };
    // Class pickers: changing either side pins the pair.
    ui.horizontal(|ui| {
        let (mut a, mut b) = (pair.a, pair.b);
        swatch(ui, COLOUR_A, "");
        class_picker(ui, "inspector class a", &r, &mut a);
        ui.label("vs");
        swatch(ui, COLOUR_B, "");
        class_picker(ui, "inspector class b", &r, &mut b);
        if (a, b) != (pair.a, pair.b) && a != b {
            cmds.push(Command::InspectPair(m, PairKey::new(a, b)));
        }
    });
    let Some(rec) = st.full_record(ui.ctx(), &r, m, pair) else {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.weak("Computing this pair's ratios (the tournament did not play it, or the run kept only the selected dimensions)…");
        });
        return;
    };
    let rec = &rec;
    if st.dim.is_none() {
        // Start on the pair's best dimension: the histogram is the point of the tab.
        st.dim = rec.dims.first().map(|&d| d as usize);
    }
    pair_facts(ui, &r, rec);
    ratio_chart(ui, st, &rec.ratios, &rec.dims, ("ratios", m, rec.pair));
    if let Some(dim) = st.dim {
        histogram(ui, st, &r, m, rec, dim, app.selected);
    } else {
        ui.weak("Click a bar (or a dimension above) to see the two classes' values on it.");
    }
}

fn class_picker(ui: &mut egui::Ui, id: &str, r: &Results, value: &mut ClassId) {
    let names: Vec<&str> = r.dataset.classes.iter().map(|c| c.name.as_str()).collect();
    let mut chosen = Some(*value);
    crate::app::widgets::class_combo(ui, id, None, &names, &mut chosen, None, 120.0);
    *value = chosen.unwrap_or(*value);
}

fn pair_facts(ui: &mut egui::Ui, r: &Results, rec: &PairRecord) {
    let (a, b) = (
        r.class_name(Some(rec.pair.a)),
        r.class_name(Some(rec.pair.b)),
    );
    egui::Grid::new("pair facts")
        .num_columns(3)
        .spacing([14.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            ui.colored_label(COLOUR_A, a);
            ui.colored_label(COLOUR_B, b);
            ui.end_row();
            ui.weak("candidates (baseline)");
            ui.label(rec.candidates[0].to_string());
            ui.label(rec.candidates[1].to_string());
            ui.end_row();
            ui.weak("kept");
            ui.label(format!("kept {}", rec.kept[0]));
            ui.label(format!("kept {}", rec.kept[1]));
            ui.end_row();
        });
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("floor {:.4}", rec.floor));
        ui.label(format!("margin {:.4}", rec.margin));
        ui.label(format!("{} dimensions kept", rec.dims.len()));
        if rec.fallback {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "fallback: too few items, all dimensions used",
            )
            .on_hover_text(
                "A side kept fewer than the minimum items, so the pair uses every dimension",
            );
        }
    });
}

fn ratio_chart(
    ui: &mut egui::Ui,
    st: &mut InspectorState,
    ratios: &[f64],
    dims: &[u32],
    id: impl std::hash::Hash + std::fmt::Debug,
) {
    let mut ranked: Vec<usize> = (0..ratios.len()).collect();
    ranked.sort_by(|&x, &y| ratios[y].total_cmp(&ratios[x]).then(x.cmp(&y)));
    let selected: std::collections::HashSet<u32> = dims.iter().copied().collect();
    ui.horizontal_wrapped(|ui| {
        ui.weak("top:");
        for &d in ranked.iter().take(8) {
            let text = format!("d{d} ({:.3})", ratios[d]);
            if ui.selectable_label(st.dim == Some(d), text).clicked() {
                st.dim = Some(d);
            }
        }
    });
    let grey = Color32::from_gray(120);
    let bars: Vec<Bar> = ranked
        .iter()
        .enumerate()
        .map(|(rank, &d)| {
            let colour = if st.dim == Some(d) {
                Color32::from_rgb(250, 220, 60)
            } else if selected.contains(&(d as u32)) {
                TOP_K
            } else {
                grey
            };
            let v = if ratios[d].is_finite() {
                ratios[d]
            } else {
                1.0
            };
            // Bars rise from 1 (identical distributions), the ratio's floor.
            Bar::new(rank as f64, v - 1.0)
                .base_offset(1.0)
                .name(format!("d{d}"))
                .fill(colour)
                .stroke(egui::Stroke::NONE)
                .width(1.0)
        })
        .collect();
    let chart = BarChart::new("cross ratio", bars).element_formatter(Box::new(|bar, _| {
        format!("{}: cross ratio {:.4}", bar.name, bar.value + 1.0)
    }));
    let resp = Plot::new(id)
        .height(170.0)
        .include_y(1.0)
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("dimensions, by cross ratio")
        .y_axis_label("cross ratio")
        .show(ui, |plot| {
            plot.add(chart);
            plot.pointer_coordinate()
        });
    if resp.response.clicked()
        && let Some(p) = resp.inner
    {
        let rank = p.x.round();
        if rank >= 0.0 && (rank as usize) < ranked.len() {
            st.dim = Some(ranked[rank as usize]);
        }
    }
    ui.horizontal(|ui| {
        swatch(ui, TOP_K, "selected top-k");
        swatch(ui, grey, "not selected");
    });
}

#[allow(clippy::too_many_arguments)]
fn histogram(
    ui: &mut egui::Ui,
    st: &mut InspectorState,
    r: &Results,
    m: Modality,
    rec: &PairRecord,
    dim: usize,
    selected: Option<usize>,
) {
    let Some(res) = r.classification.get(m) else {
        return;
    };
    let Some(x) = r.dataset.embeddings(m) else {
        return;
    };
    if dim >= x.ncols() {
        return;
    }
    let key = HistKey {
        generation: r.generation,
        modality: m,
        pair: Some(rec.pair),
        dim,
    };
    if st.hist.as_ref().map(|(k, _)| *k) != Some(key) {
        let classes = [rec.pair.a, rec.pair.b];
        let mut values: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for (i, &label) in res.baseline.iter().enumerate() {
            // An item without this view has a placeholder label and a zero row.
            if !res.has(i) {
                continue;
            }
            if let Some(side) = classes.iter().position(|&c| c == label) {
                values[side].push(x[[i, dim]] as f64 * res.inv_norms[i]);
            }
        }
        st.hist = Some((key, bin(&values)));
    }
    let (_, h) = st.hist.as_ref().expect("computed above");
    let names = [
        r.class_name(Some(rec.pair.a)),
        r.class_name(Some(rec.pair.b)),
    ];
    let ratio = rec.ratios.get(dim).copied().unwrap_or(f64::NAN);
    let rank = rec.dims.iter().position(|&d| d as usize == dim);
    let marker = selected.map(|i| {
        (
            r.dataset.items[i].id.clone(),
            x[[i, dim]] as f64 * res.inv_norms[i],
        )
    });
    draw_histograms(
        ui,
        h,
        names,
        dim,
        ratio,
        rank,
        marker,
        ("hist", m, rec.pair, dim),
    );
}

/// One dimension's two histograms, with the selected item's value marked.
#[allow(clippy::too_many_arguments)]
fn draw_histograms(
    ui: &mut egui::Ui,
    h: &Histograms,
    names: [&str; 2],
    dim: usize,
    ratio: f64,
    rank: Option<usize>,
    marker: Option<(String, f64)>,
    id: impl std::hash::Hash + std::fmt::Debug,
) {
    ui.label(
        RichText::new(format!(
            "dimension {dim}: cross ratio {ratio:.4}{}",
            rank.map_or(" (not selected)".to_string(), |k| format!(
                " (selected, #{})",
                k + 1
            ))
        ))
        .strong(),
    );
    let charts: Vec<BarChart> = (0..2)
        .map(|side| {
            let colour = [COLOUR_A, COLOUR_B][side];
            let bars = h.share[side]
                .iter()
                .enumerate()
                .map(|(k, &s)| {
                    Bar::new(h.lo + (k as f64 + 0.5) * h.width, s)
                        .width(h.width)
                        .fill(colour.gamma_multiply(0.35))
                        .stroke(egui::Stroke::new(1.0, colour))
                })
                .collect();
            BarChart::new(format!("{} (n = {})", names[side], h.counts[side]), bars).color(colour)
        })
        .collect();
    Plot::new(id)
        .height(170.0)
        .legend(egui_plot::Legend::default())
        .allow_drag(false)
        .allow_scroll(false)
        .x_axis_label("normalised value")
        .y_axis_label("share of class")
        .show(ui, |plot| {
            for c in charts {
                plot.add(c);
            }
            if let Some((id, v)) = marker {
                plot.add(
                    VLine::new(format!("item {id}"), v)
                        .color(Color32::from_rgb(250, 220, 60))
                        .width(2.0),
                );
            }
        });
}

/// The one-vs-rest step on one modality: the two sides' counts, every dimension's cross ratio
/// of the class against the rest, and one dimension's two distributions.
fn binary(
    ui: &mut egui::Ui,
    st: &mut InspectorState,
    r: &Results,
    view: &BinaryView,
    class: ClassId,
    rest: Option<ClassId>,
    selected: Option<usize>,
) {
    let m = view.modality;
    let Some(x) = r.dataset.embeddings(m) else {
        return;
    };
    let class_name = r.dataset.class_name(class);
    let rest_name = rest.map_or("the rest", |c| r.dataset.class_name(c));
    egui::Grid::new("binary facts")
        .num_columns(3)
        .spacing([14.0, 2.0])
        .show(ui, |ui| {
            ui.label("");
            ui.colored_label(COLOUR_A, class_name);
            ui.colored_label(COLOUR_B, rest_name);
            ui.end_row();
            ui.weak("candidates (full dimension)");
            ui.label(view.candidates[0].to_string());
            ui.label(view.candidates[1].to_string());
            ui.end_row();
            ui.weak("kept");
            ui.label(format!("kept {}", view.kept[0]));
            ui.label(format!("kept {}", view.kept[1]));
            ui.end_row();
        });
    ui.horizontal_wrapped(|ui| {
        ui.label(format!("floor {:.4}", view.floor));
        ui.label(format!("margin {:.4}", view.margin));
        ui.label(format!("{} dimensions kept", view.dims.len()));
        if view.fallback {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                "fallback: too few items, all dimensions used",
            );
        }
    });
    if st.dim.is_none() {
        st.dim = view.dims.first().map(|&d| d as usize);
    }
    ratio_chart(
        ui,
        st,
        &view.ratios,
        &view.dims,
        ("binary ratios", m, class),
    );
    let Some(dim) = st.dim.filter(|&d| d < x.ncols()) else {
        return;
    };
    let key = HistKey {
        generation: r.generation,
        modality: m,
        pair: None,
        dim,
    };
    let Some(res) = r.classification.get(m) else {
        return;
    };
    if st.hist.as_ref().map(|(k, _)| *k) != Some(key) {
        let mut values: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
        for i in 0..x.nrows() {
            if let Some(to_class) = view.says_class(i, DimSet::Full) {
                values[usize::from(!to_class)].push(x[[i, dim]] as f64 * res.inv_norms[i]);
            }
        }
        st.hist = Some((key, bin(&values)));
    }
    let (_, h) = st.hist.as_ref().expect("computed above");
    let rank = view.dims.iter().position(|&d| d as usize == dim);
    let marker = selected.filter(|&i| view.has(i)).map(|i| {
        (
            r.dataset.items[i].id.clone(),
            x[[i, dim]] as f64 * res.inv_norms[i],
        )
    });
    draw_histograms(
        ui,
        h,
        [class_name, rest_name],
        dim,
        view.ratios[dim],
        rank,
        marker,
        ("binary hist", m, dim),
    );
}

/// Shared-range histograms normalised per class, so classes of different size compare.
fn bin(values: &[Vec<f64>; 2]) -> Histograms {
    let all = values.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if lo.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (lo.min(0.0) - 0.5, lo.max(0.0) + 0.5)
    };
    let width = (hi - lo) / BINS as f64;
    let mut share = [vec![0.0; BINS], vec![0.0; BINS]];
    for side in 0..2 {
        let n = values[side].len().max(1) as f64;
        for &v in &values[side] {
            if v.is_finite() {
                let k = (((v - lo) / width) as usize).min(BINS - 1);
                share[side][k] += 1.0 / n;
            }
        }
    }
    Histograms {
        lo,
        width,
        share,
        counts: [values[0].len(), values[1].len()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histograms_sum_to_one_per_class() {
        let h = bin(&[vec![0.0, 0.1, 0.2, 1.0], vec![0.5, 0.5]]);
        for side in 0..2 {
            let total: f64 = h.share[side].iter().sum();
            assert!((total - 1.0).abs() < 1e-9);
        }
        assert_eq!(h.counts, [4, 2]);
        // The maximum lands in the last bin, not past it.
        assert!(h.share[0][BINS - 1] > 0.0);
    }
}
