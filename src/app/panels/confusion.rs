//! The confusion matrix of two label sources as a clickable heatmap. A click filters the grid
//! to exactly that cell's items.

use egui::{Color32, Role, Sense, WidgetInfo};

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::grid::CellFilter;
use pairwise_audit::metrics::LabelSource;

use crate::app::review::{Results, source_name};

/// The last matrix computed, so that the heatmap costs nothing per frame.
#[derive(Default)]
pub struct Cache {
    key: Option<(u64, LabelSource, LabelSource)>,
    counts: Vec<u32>,
    /// The largest confusions of `counts` (many classes), ranked with them rather than per
    /// frame: at 1 000 classes that is a pass over a million cells.
    top: Vec<(usize, usize, u32)>,
    /// The class search over the ranked confusions (many classes).
    search: String,
}

/// `C × C` counts, row-major: row = `rows` label, column = `cols` label. Items missing either
/// label are not counted.
pub fn counts(r: &Results, rows: LabelSource, cols: LabelSource) -> Vec<u32> {
    let c = r.dataset.num_classes();
    let mut m = vec![0u32; c * c];
    for row in &r.rows {
        if let (Some(a), Some(b)) = (row.label(rows), row.label(cols)) {
            m[a * c + b] += 1;
        }
    }
    m
}

pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    let Some(r) = app.results.clone() else {
        ui.weak("No results yet.");
        return;
    };
    let sources = r.sources();
    let p = &mut app.persisted;
    if !sources.contains(&p.confusion_rows) {
        p.confusion_rows = sources[0];
    }
    if !sources.contains(&p.confusion_cols) {
        p.confusion_cols = *sources.get(1).unwrap_or(&sources[0]);
    }
    ui.horizontal_wrapped(|ui| {
        ui.label("rows");
        source_picker(ui, "confusion rows", &sources, &mut p.confusion_rows);
        ui.label("columns");
        source_picker(ui, "confusion cols", &sources, &mut p.confusion_cols);
        ui.checkbox(&mut p.confusion_normalise, "normalise rows");
    });
    let key = (r.generation, p.confusion_rows, p.confusion_cols);
    let c = r.dataset.num_classes();
    if app.confusion.key != Some(key) {
        app.confusion.counts = counts(&r, key.1, key.2);
        app.confusion.top = if c > HEATMAP_CLASSES {
            top_cells(&app.confusion.counts, c, TOP_CONFUSIONS)
        } else {
            Vec::new()
        };
        app.confusion.key = Some(key);
    }
    let (rows, cols, normalise) = (p.confusion_rows, p.confusion_cols, p.confusion_normalise);
    let active = app.grid.filter.cell.clone();
    let counts = &app.confusion.counts;
    // A full heatmap stops being readable (and cheap to draw) past a few dozen classes: then
    // the largest confusions are ranked in a list, and the heatmap shows their classes only.
    let classes: Vec<usize> = if c <= HEATMAP_CLASSES {
        (0..c).collect()
    } else {
        let top = top_cells(counts, c, TOP_CONFUSIONS);
        top_list(
            ui,
            &r,
            &top,
            rows,
            cols,
            active.as_ref(),
            &mut app.confusion.search,
            cmds,
        );
        let mut chosen = Vec::new();
        for &(a, b, _) in &top {
            for k in [a, b] {
                if chosen.len() < HEATMAP_CLASSES && !chosen.contains(&k) {
                    chosen.push(k);
                }
            }
        }
        ui.add_space(6.0);
        ui.weak(format!(
            "Heatmap of the {} classes in the largest confusions (of {c}):",
            chosen.len()
        ));
        chosen
    };
    egui::ScrollArea::both()
        .id_salt("confusion heatmap")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            heatmap(
                ui,
                &r,
                counts,
                &classes,
                rows,
                cols,
                normalise,
                active.as_ref(),
                cmds,
            );
        });
}

/// Above this many classes the heatmap shows only the classes of the largest confusions.
const HEATMAP_CLASSES: usize = 24;
/// Confusions listed with many classes.
const TOP_CONFUSIONS: usize = 200;

/// The `limit` largest off-diagonal cells `(row class, column class, count)`, largest first
/// (ties by class order).
pub fn top_cells(counts: &[u32], c: usize, limit: usize) -> Vec<(usize, usize, u32)> {
    let mut cells: Vec<(usize, usize, u32)> = (0..c * c)
        .filter(|&k| k / c != k % c && counts[k] > 0)
        .map(|k| (k / c, k % c, counts[k]))
        .collect();
    let by_count = |x: &(usize, usize, u32), y: &(usize, usize, u32)| {
        y.2.cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1)))
    };
    if cells.len() > limit {
        cells.select_nth_unstable_by(limit - 1, by_count);
        cells.truncate(limit);
    }
    cells.sort_unstable_by(by_count);
    cells
}

/// The ranked confusions, searchable by class name; a click filters the grid to the cell.
#[allow(clippy::too_many_arguments)]
fn top_list(
    ui: &mut egui::Ui,
    r: &Results,
    top: &[(usize, usize, u32)],
    rows: LabelSource,
    cols: LabelSource,
    active: Option<&CellFilter>,
    search: &mut String,
    cmds: &mut Vec<Command>,
) {
    ui.label(egui::RichText::new("Largest confusions").strong());
    ui.horizontal(|ui| {
        let l = ui.label("find class");
        ui.add(egui::TextEdit::singleline(search).desired_width(180.0))
            .labelled_by(l.id);
    });
    let needle = search.to_lowercase();
    let names = |a: usize| r.dataset.class_name(a);
    egui::ScrollArea::vertical()
        .id_salt("top confusions")
        .max_height(220.0)
        .show(ui, |ui| {
            for &(a, b, n) in top.iter().filter(|(a, b, _)| {
                needle.is_empty()
                    || names(*a).to_lowercase().contains(&needle)
                    || names(*b).to_lowercase().contains(&needle)
            }) {
                let this = CellFilter {
                    rows,
                    cols,
                    row_class: a,
                    col_class: b,
                };
                let text = format!("{} as {}: {n}", names(a), names(b));
                if ui
                    .selectable_label(active == Some(&this), text)
                    .on_hover_text(format!(
                        "{} = {}, {} = {}: click to show these items in the grid",
                        source_name(rows),
                        names(a),
                        source_name(cols),
                        names(b)
                    ))
                    .clicked()
                {
                    cmds.push(Command::FilterCell(this));
                }
            }
        });
}

fn source_picker(ui: &mut egui::Ui, id: &str, sources: &[LabelSource], value: &mut LabelSource) {
    egui::ComboBox::from_id_salt(id)
        .selected_text(source_name(*value))
        .show_ui(ui, |ui| {
            for &s in sources {
                ui.selectable_value(value, s, source_name(s));
            }
        })
        .response
        .widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, id));
}

#[allow(clippy::too_many_arguments)]
fn heatmap(
    ui: &mut egui::Ui,
    r: &Results,
    counts: &[u32],
    classes: &[usize],
    rows: LabelSource,
    cols: LabelSource,
    normalise: bool,
    active: Option<&CellFilter>,
    cmds: &mut Vec<Command>,
) {
    let c = r.dataset.num_classes();
    let shown = classes.len();
    let font = egui::TextStyle::Small.resolve(ui.style());
    let name_w = classes
        .iter()
        .map(|&k| {
            ui.painter()
                .layout_no_wrap(
                    r.dataset.class_name(k).to_string(),
                    font.clone(),
                    Color32::WHITE,
                )
                .size()
                .x
        })
        .fold(0.0f32, f32::max)
        + 8.0;
    let cell = ((ui.available_width() - name_w - 8.0) / shown.max(1) as f32).clamp(22.0, 56.0);
    let row_totals: Vec<u32> = (0..c)
        .map(|a| counts[a * c..(a + 1) * c].iter().sum())
        .collect();
    // The diagonal (agreement) and the rest (confusions) get their own scales: otherwise the
    // large diagonal washes out every confusion.
    let max_of = |diag: bool| {
        classes
            .iter()
            .flat_map(|&a| classes.iter().map(move |&b| (a, b)))
            .filter(|&(a, b)| (a == b) == diag)
            .map(|(a, b)| counts[a * c + b])
            .max()
            .unwrap_or(0)
            .max(1) as f32
    };
    let (max_diag, max_off) = (max_of(true), max_of(false));
    let text_colour = ui.visuals().text_color();
    let (rect, _) = ui.allocate_exact_size(
        egui::vec2(
            name_w + cell * shown as f32,
            name_w + cell * shown as f32 + 4.0,
        ),
        Sense::hover(),
    );
    let origin = rect.min + egui::vec2(name_w, name_w);
    let painter = ui.painter_at(rect.expand(2.0));
    // Column names, rotated to read bottom-up.
    for (col, &k) in classes.iter().enumerate() {
        let galley = painter.layout_no_wrap(
            r.dataset.class_name(k).to_string(),
            font.clone(),
            text_colour,
        );
        let pos = egui::pos2(
            origin.x + cell * (col as f32 + 0.5) - galley.size().y / 2.0,
            origin.y - 4.0,
        );
        painter.add(
            egui::epaint::TextShape::new(pos, galley, text_colour)
                .with_angle(-std::f32::consts::FRAC_PI_2),
        );
    }
    for (row_at, &a) in classes.iter().enumerate() {
        painter.text(
            egui::pos2(origin.x - 4.0, origin.y + cell * (row_at as f32 + 0.5)),
            egui::Align2::RIGHT_CENTER,
            r.dataset.class_name(a),
            font.clone(),
            text_colour,
        );
        for (col_at, &b) in classes.iter().enumerate() {
            let n = counts[a * c + b];
            let share = n as f32 / row_totals[a].max(1) as f32;
            let strength = if normalise {
                share
            } else {
                n as f32 / if a == b { max_diag } else { max_off }
            };
            let cell_rect = egui::Rect::from_min_size(
                origin + egui::vec2(cell * col_at as f32, cell * row_at as f32),
                egui::vec2(cell, cell),
            );
            let id = ui.scope_id().with(("confusion cell", a, b));
            let resp = ui.interact(cell_rect, id, Sense::click());
            let label = format!(
                "{} × {}: {n}",
                r.dataset.class_name(a),
                r.dataset.class_name(b)
            );
            resp.widget_info(|| WidgetInfo::labeled(Role::Button, true, &label));
            let fill = heat(strength, a == b, ui.visuals().dark_mode);
            painter.rect_filled(cell_rect.shrink(0.5), 2.0, fill);
            let this = CellFilter {
                rows,
                cols,
                row_class: a,
                col_class: b,
            };
            if active == Some(&this) || resp.hovered() {
                painter.rect_stroke(
                    cell_rect,
                    2.0,
                    egui::Stroke::new(2.0, ui.visuals().strong_text_color()),
                    egui::StrokeKind::Inside,
                );
            }
            if n > 0 && cell >= 22.0 {
                let ink = if luminance(fill) > 0.45 {
                    Color32::BLACK
                } else {
                    Color32::WHITE
                };
                let t = if normalise && cell >= 34.0 {
                    format!("{:.0}%", 100.0 * share)
                } else {
                    n.to_string()
                };
                painter.text(
                    cell_rect.center(),
                    egui::Align2::CENTER_CENTER,
                    t,
                    font.clone(),
                    ink,
                );
            }
            let resp = resp.on_hover_text(format!(
                "{} = {}\n{} = {}\n{n} items ({:.1} % of the row)\nclick to show them in the grid",
                source_name(rows),
                r.dataset.class_name(a),
                source_name(cols),
                r.dataset.class_name(b),
                100.0 * n as f64 / row_totals[a].max(1) as f64
            ));
            if resp.clicked() {
                cmds.push(Command::FilterCell(this));
            }
        }
    }
    ui.weak(format!(
        "rows: {} · columns: {} · green diagonal = agreement, orange = confusions (own scale)",
        source_name(rows),
        source_name(cols)
    ));
    ui.weak("Click a cell to show exactly its items in the grid.");
}

/// Off-diagonal cells in warm colours (errors), the diagonal in green, both scaling with the
/// share so that small counts stay visible.
fn heat(strength: f32, diagonal: bool, dark: bool) -> Color32 {
    let s = strength.clamp(0.0, 1.0).sqrt();
    let bg = if dark {
        Color32::from_gray(35)
    } else {
        Color32::from_gray(245)
    };
    let hot = if diagonal {
        Color32::from_rgb(80, 200, 120)
    } else {
        Color32::from_rgb(250, 150, 60)
    };
    if strength == 0.0 {
        return bg;
    }
    lerp(bg, hot, 0.15 + 0.85 * s)
}

/// Relative luminance in 0..1, to pick readable ink.
fn luminance(c: Color32) -> f32 {
    (0.2126 * c.r() as f32 + 0.7152 * c.g() as f32 + 0.0722 * c.b() as f32) / 255.0
}

fn lerp(a: Color32, b: Color32, t: f32) -> Color32 {
    let f = |x: u8, y: u8| (x as f32 + (y as f32 - x as f32) * t).round() as u8;
    Color32::from_rgb(f(a.r(), b.r()), f(a.g(), b.g()), f(a.b(), b.b()))
}

/// Items in one cell (for tests and the chip's count).
#[allow(dead_code)]
pub fn cell_items(r: &Results, f: &CellFilter) -> Vec<usize> {
    (0..r.len())
        .filter(|&i| {
            r.rows[i].label(f.rows) == Some(f.row_class)
                && r.rows[i].label(f.cols) == Some(f.col_class)
        })
        .collect()
}
