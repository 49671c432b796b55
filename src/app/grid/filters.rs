//! The filter column (flag kinds with counts, class filters) and the search bar above the grid.

use egui::RichText;
use pairwise_audit::ClassId;

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::grid::flag_colour;
use crate::app::review::decisions::StatusFilter;
use crate::app::review::{FLAG_KINDS, Results, flag_label, flag_tooltip};

/// The filters edit `app.grid.filter` in place: they are the widgets' own state, and the grid
/// recomputes its order from them at its next draw.
pub fn panel(ui: &mut egui::Ui, app: &mut AuditApp) {
    let Some(r) = app.results.clone() else { return };
    let filter = &mut app.grid.filter;
    egui::ScrollArea::vertical().show(ui, |ui| {
        ui.heading("Flags");
        if ui
            .selectable_label(filter.flag.is_none(), format!("all items ({})", r.len()))
            .clicked()
        {
            filter.flag = None;
        }
        for (kind, count) in FLAG_KINDS.into_iter().zip(r.flag_counts) {
            let text = RichText::new(format!("{} ({count})", flag_label(kind)))
                .color(flag_colour(kind, ui.visuals()));
            if ui
                .selectable_label(filter.flag == Some(kind), text)
                .on_hover_text(flag_tooltip(kind))
                .clicked()
            {
                filter.flag = if filter.flag == Some(kind) {
                    None
                } else {
                    Some(kind)
                };
            }
        }
        queue_filter(ui, &r, filter, &mut app.persisted.queue_cut);
        let pairs = r.audit.lookalikes.len();
        if ui
            .selectable_label(filter.lookalikes, format!("look-alikes ({pairs} pairs)"))
            .on_hover_text(
                "Items that look the same as another item (cosine ≥ 0.90 in every view) \
                 but are annotated differently",
            )
            .clicked()
        {
            filter.lookalikes = !filter.lookalikes;
        }
        crate::app::panels::one_vs_rest::filter(ui, &r, filter);
        ui.add_space(8.0);
        ui.heading("Classes");
        class_combo(ui, "Annotation", &r, &mut filter.annotation);
        class_combo(ui, "Predicted", &r, &mut filter.predicted)
            .on_hover_text("Items whose image or text pairwise label is this class");
        ui.add_space(8.0);
        ui.heading("Review");
        if ui
            .selectable_label(filter.status.is_none(), "any status")
            .clicked()
        {
            filter.status = None;
        }
        for st in StatusFilter::ALL {
            if ui
                .selectable_label(filter.status == Some(st), st.label())
                .clicked()
            {
                filter.status = if filter.status == Some(st) {
                    None
                } else {
                    Some(st)
                };
            }
        }
        ui.add_space(8.0);
        if ui
            .add_enabled(
                *filter != Default::default(),
                egui::Button::new("Clear all filters"),
            )
            .clicked()
        {
            *filter = Default::default();
        }
    });
}

fn class_combo(
    ui: &mut egui::Ui,
    label: &str,
    r: &Results,
    value: &mut Option<ClassId>,
) -> egui::Response {
    let names: Vec<&str> = r.dataset.classes.iter().map(|c| c.name.as_str()).collect();
    crate::app::widgets::class_combo(ui, label, Some(label), &names, value, Some("any"), 100.0)
}

/// The review queue: toggle it as a filter and move its cut, seeing the expected precision.
fn queue_filter(
    ui: &mut egui::Ui,
    r: &Results,
    filter: &mut crate::app::grid::Filter,
    cut: &mut u8,
) {
    ui.add_space(8.0);
    ui.heading("Review queue");
    let Some(stats) = r.queue_stats(f64::from(*cut) / 100.0) else {
        ui.weak("No estimate for this run (too few scored items).");
        return;
    };
    if ui
        .selectable_label(filter.queue.is_some(), format!("queue ({})", stats.items))
        .on_hover_text(
            "Items whose annotation is more likely wrong than the cut, most suspicious first",
        )
        .clicked()
    {
        filter.queue = if filter.queue.is_some() {
            None
        } else {
            Some(*cut)
        };
    }
    // Room for the value box and its label beside the slider in a narrow column.
    ui.spacing_mut().slider_width = (ui.available_width() - 90.0).max(40.0);
    let moved = ui
        .add(egui::Slider::new(cut, 5..=99).text("% cut"))
        .on_hover_text("Queue the items at least this likely to carry a wrong annotation")
        .changed();
    if moved && filter.queue.is_some() {
        filter.queue = Some(*cut);
    }
    ui.weak(format!(
        "expected precision {}",
        stats
            .expected_precision
            .map_or("–".into(), |p| format!("{p:.2}"))
    ));
}

/// Room the Grid | Map | Split switch takes at the right of the search bar.
const CENTRAL_SWITCH_WIDTH: f32 = 130.0;

pub fn search_bar(ui: &mut egui::Ui, app: &mut AuditApp, r: &Results, cmds: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        // The widest the count can be: all items shown.
        let widest = format!("showing {} of {}", r.len(), r.len());
        let needed = ui.fonts_mut(|f| {
            f.layout_no_wrap(
                widest,
                egui::TextStyle::Body.resolve(ui.style()),
                egui::Color32::WHITE,
            )
            .size()
            .x
        });
        ui.label("Search");
        // The field gives way to the count and the Grid | Map | Split switch on narrow
        // windows rather than running under them.
        let room = ui.available_width() - needed - 60.0 - CENTRAL_SWITCH_WIDTH;
        ui.add(
            egui::TextEdit::singleline(&mut app.grid.filter.search)
                .hint_text("search id or description")
                .desired_width(room.clamp(100.0, 260.0)),
        );
        if !app.grid.filter.search.is_empty()
            && ui
                .small_button("×")
                .on_hover_text("Clear the search")
                .clicked()
        {
            app.grid.filter.search.clear();
        }
        if let Some(cell) = &app.grid.filter.cell {
            let chip = egui::Button::new(format!("{}  ×", cell.describe(r)))
                .fill(ui.visuals().selection.bg_fill)
                .corner_radius(10.0);
            if ui.add(chip).on_hover_text("Remove this filter").clicked() {
                cmds.push(Command::ClearCellFilter);
            }
        }
        if let Some(region) = &app.grid.filter.region {
            let chip = egui::Button::new(format!("map selection: {} items  ×", region.count))
                .fill(ui.visuals().selection.bg_fill)
                .corner_radius(10.0);
            if ui.add(chip).on_hover_text("Remove this filter").clicked() {
                cmds.push(Command::ClearRegion);
            }
        }
        if app.grid.sort == crate::app::grid::SortColumn::Similarity
            && let Some(s) = &app.grid.similar
        {
            let id = r.dataset.items.get(s.item).map_or("?", |it| it.id.as_str());
            let chip = egui::Button::new(format!("most similar to {id} first  ×"))
                .fill(ui.visuals().selection.bg_fill)
                .corner_radius(10.0);
            if ui
                .add(chip)
                .on_hover_text("Sort by suspicion again")
                .clicked()
            {
                cmds.push(Command::SortBy(crate::app::grid::SortColumn::Suspicion));
            }
        }
        let showing = format!("showing {} of {}", app.grid.refresh(r).len(), r.len());
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            for c in crate::app::map::Central::ALL.into_iter().rev() {
                if ui
                    .selectable_label(app.persisted.central == c, c.label())
                    .on_hover_text(
                        "Show the grid, the map of the catalogue, or the map above the grid",
                    )
                    .clicked()
                {
                    cmds.push(Command::ShowCentral(c));
                }
            }
            ui.separator();
            ui.label(showing);
        });
    });
}
