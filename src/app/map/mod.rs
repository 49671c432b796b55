//! The Map screen: every item a point of the catalogue's 2-D layout (`pairwise_audit::map`,
//! computed on a worker thread), coloured by a label source, suspicion or review status.
//! Scroll zooms, dragging pans, a lasso or box filters the grid to the items inside it (a
//! chip above the grid removes it), hovering shows an item and clicking selects it. Points
//! the grid's filters hide are dimmed.

pub(crate) mod canvas;
pub(crate) mod colours;
pub(crate) mod job;

use std::sync::Arc;

use egui::{Color32, Pos2, RichText, Sense, Stroke};
use pairwise_audit::map::{Layout, LayoutKind, MapParams, MapView};
use pairwise_audit::{Dataset, Modality};
use serde::{Deserialize, Serialize};

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::grid::RegionFilter;
use crate::app::review::Results;
use canvas::{Camera, Paint};
use colours::{Categories, ColourBy};
use job::{LayoutJob, Msg};

/// What the central area shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Central {
    #[default]
    Grid,
    Map,
    /// The map above the grid: both need the central area's width (the grid's columns, the
    /// map's clusters) more than its height.
    Split,
}

impl Central {
    pub const ALL: [Central; 3] = [Central::Grid, Central::Map, Central::Split];

    pub fn label(self) -> &'static str {
        match self {
            Central::Grid => "Grid",
            Central::Map => "Map",
            Central::Split => "Split",
        }
    }
}

/// What a primary-button drag does (Shift+drag always lassoes, right-drag always pans).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Tool {
    #[default]
    Pan,
    Lasso,
    Box,
}

/// Points drawn at most per frame; above it an even stride of those on screen.
pub const DRAW_BUDGET: usize = 120_000;
/// Hover and click reach, in screen points.
const PICK_RADIUS: f32 = 6.0;
const LEGEND_WIDTH: f32 = 170.0;

/// The map's runtime state (its persisted choices live in `Persisted`).
#[derive(Default)]
pub struct MapScreen {
    pub params: MapParams,
    pub layout: Option<Arc<Layout>>,
    layout_of: Option<(Arc<Dataset>, MapView)>,
    pub job: Option<LayoutJob>,
    pub camera: Option<Camera>,
    pub tool: Tool,
    /// The lasso (or the box's two corners) being drawn, in layout coordinates.
    drag: Option<Vec<[f32; 2]>>,
    categories: Option<(u64, u64, Categories)>,
    /// Legend entries switched off, per category of the current colouring.
    pub hidden: Vec<bool>,
    shown: Option<(u64, Option<Vec<bool>>)>,
    pub hovered: Option<usize>,
    /// One line about the layout (from the cache, cancelled, failed …).
    pub status: Option<String>,
    /// Points in the last frame's mesh.
    pub drawn: usize,
    /// Where the points were drawn in the last frame.
    pub rect: Option<egui::Rect>,
    next_region: u64,
}

impl MapScreen {
    /// Whether the layout for `ds` in `view` is the one on screen (or on its way).
    fn is_for(&self, ds: &Arc<Dataset>, view: MapView) -> bool {
        self.layout_of
            .as_ref()
            .is_some_and(|(d, v)| Arc::ptr_eq(d, ds) && *v == view)
    }

    pub fn is_computing(&self) -> bool {
        self.job.is_some()
    }

    /// Start (or restart) the layout of `ds` in `view`.
    fn start(
        &mut self,
        ctx: &egui::Context,
        ds: &Arc<Dataset>,
        view: MapView,
        cache: Option<std::path::PathBuf>,
    ) {
        if let Some(old) = self.job.take() {
            old.cancel();
        }
        self.layout = None;
        self.camera = None;
        self.drag = None;
        self.status = None;
        self.layout_of = Some((ds.clone(), view));
        self.job = Some(LayoutJob::spawn(
            ctx,
            ds.clone(),
            view,
            self.params.clone(),
            cache,
        ));
    }

    fn poll(&mut self) {
        let Some(job) = &self.job else { return };
        let msgs = job.poll();
        let finished = msgs.is_none();
        for msg in msgs.unwrap_or_default() {
            match msg {
                Msg::Pca(layout) => self.layout = Some(Arc::new(layout)),
                Msg::Done {
                    layout,
                    cached,
                    note,
                } => {
                    // The PCA's frame would not fit the layout's coordinates.
                    self.camera = None;
                    self.layout = Some(Arc::new(layout));
                    self.status = note.or(cached.then(|| "layout from the cache".to_string()));
                    self.job = None;
                }
                Msg::Failed(e) => {
                    self.status = Some(e);
                    self.job = None;
                }
                Msg::Cancelled => {
                    self.status = Some("layout cancelled; the PCA stays on screen".into());
                    self.job = None;
                }
            }
            if self.job.is_none() {
                return;
            }
        }
        if finished {
            self.status = Some("the layout thread stopped without a result".into());
            self.job = None;
        }
    }

    /// Cancel the running layout (the PCA, if it came, stays).
    pub fn cancel(&mut self) {
        if let Some(job) = &self.job {
            job.cancel();
        }
    }

    /// Install a layout directly (tests and benchmarks), as if the worker had sent it.
    #[cfg(test)]
    pub fn set_layout(&mut self, ds: &Arc<Dataset>, view: MapView, layout: Layout) {
        if let Some(old) = self.job.take() {
            old.cancel();
        }
        self.layout_of = Some((ds.clone(), view));
        self.layout = Some(Arc::new(layout));
        self.camera = None;
    }

    /// The categories of the colouring on screen.
    #[cfg(test)]
    pub fn current_categories(&self) -> Option<&Categories> {
        self.categories.as_ref().map(|(_, _, c)| c)
    }

    /// Items the grid keeps (`None`: all), as the map dims them.
    #[cfg(test)]
    pub fn shown_mask(&self) -> Option<&[bool]> {
        self.shown.as_ref().and_then(|(_, m)| m.as_deref())
    }

    /// The colouring's categories, recomputed only when the run, colouring or review changed.
    fn categories(
        &mut self,
        r: &Results,
        by: ColourBy,
        status: &[u8],
        review_gen: u64,
    ) -> &Categories {
        let review_gen = if by == ColourBy::Review {
            review_gen
        } else {
            0
        };
        let stale = !matches!(&self.categories,
            Some((g, rg, c)) if *g == r.generation && *rg == review_gen && c.by == by);
        if stale {
            let c = colours::categories(r, by, status);
            if self.hidden.len() != c.names.len()
                || self
                    .categories
                    .as_ref()
                    .is_none_or(|(_, _, old)| old.by != by)
            {
                self.hidden = vec![false; c.names.len()];
            }
            self.categories = Some((r.generation, review_gen, c));
        }
        &self.categories.as_ref().expect("set above").2
    }
}

/// The Map screen in the space `ui` gives it.
pub fn screen(ui: &mut egui::Ui, app: &mut AuditApp, r: &Arc<Results>, cmds: &mut Vec<Command>) {
    let ctx = ui.ctx().clone();
    let view = available_view(&r.dataset, app.persisted.map_view);
    app.map.poll();
    if !app.map.is_for(&r.dataset, view) {
        let cache =
            crate::app::review::decisions::log_path_for(&r.dataset.root, &app.persisted.log_paths)
                .parent()
                .map(|p| p.to_path_buf());
        app.map.start(&ctx, &r.dataset, view, cache);
    }
    toolbar(ui, app, r, view);
    let by = app.persisted.map_colour;
    let (status, review_gen) = match &app.session {
        Some(s) => (s.status.as_slice(), s.generation),
        None => (&[][..], 0),
    };
    let map = &mut app.map;
    map.categories(r, by, status, review_gen);
    let order_version = app.grid.version();
    if map.shown.as_ref().is_none_or(|(v, _)| *v != order_version) {
        let order = app.grid.refresh(r);
        let mask = (order.len() < r.len()).then(|| {
            let mut m = vec![false; r.len()];
            for &i in order {
                m[i as usize] = true;
            }
            m
        });
        map.shown = Some((app.grid.version(), mask));
    }
    let Some(layout) = map.layout.clone() else {
        ui.vertical_centered(|ui| {
            ui.add_space(ui.available_height() * 0.3);
            if map.job.is_some() {
                ui.spinner();
                ui.label("Projecting the embeddings…");
            } else if let Some(s) = &map.status {
                ui.label(s);
            }
        });
        return;
    };
    if layout.len() != r.len() {
        return;
    }
    ui.horizontal_top(|ui| {
        let size = egui::vec2(
            (ui.available_width() - LEGEND_WIDTH - 8.0).max(100.0),
            ui.available_height().max(100.0),
        );
        let (rect, resp) = ui.allocate_exact_size(size, Sense::click_and_drag());
        canvas_ui(ui, app, r, &layout, rect, resp, cmds);
        ui.vertical(|ui| legend(ui, app));
    });
}

/// `wanted` if the catalogue has it, else the first view it has.
fn available_view(ds: &Dataset, wanted: MapView) -> MapView {
    if !wanted.modalities(ds).is_empty() {
        return wanted;
    }
    MapView::ALL
        .into_iter()
        .find(|v| !v.modalities(ds).is_empty())
        .unwrap_or(wanted)
}

fn toolbar(ui: &mut egui::Ui, app: &mut AuditApp, r: &Results, view: MapView) {
    ui.horizontal_wrapped(|ui| {
        ui.label("Map of");
        egui::ComboBox::from_id_salt("map of")
            .selected_text(view.name())
            .show_ui(ui, |ui| {
                for v in MapView::ALL {
                    if !v.modalities(&r.dataset).is_empty()
                        && (v != MapView::Joined || r.dataset.modalities().len() > 1)
                    {
                        ui.selectable_value(&mut app.persisted.map_view, v, v.name());
                    }
                }
            });
        ui.label("colour by");
        egui::ComboBox::from_id_salt("map colour")
            .selected_text(app.persisted.map_colour.label())
            .show_ui(ui, |ui| {
                for c in ColourBy::ALL {
                    ui.selectable_value(&mut app.persisted.map_colour, c, c.label());
                }
            });
        ui.separator();
        for (tool, name, tip) in [
            (
                Tool::Pan,
                "Pan",
                "Drag to move the map (right-drag always pans)",
            ),
            (
                Tool::Lasso,
                "Lasso",
                "Drag around points to filter the grid to them (or Shift+drag)",
            ),
            (
                Tool::Box,
                "Box",
                "Drag a box to filter the grid to the points in it",
            ),
        ] {
            if ui
                .selectable_label(app.map.tool == tool, name)
                .on_hover_text(tip)
                .clicked()
            {
                app.map.tool = tool;
            }
        }
        if ui
            .button("Fit")
            .on_hover_text("Show the whole map")
            .clicked()
        {
            app.map.camera = None;
        }
        ui.separator();
        let map = &mut app.map;
        if let Some(job) = &map.job {
            let p = job.progress();
            ui.add(
                egui::ProgressBar::new(p.fraction())
                    .desired_width(120.0)
                    .text(p.stage.label()),
            );
            if ui
                .button("Cancel")
                .on_hover_text("Stop the layout (the PCA stays)")
                .clicked()
            {
                map.cancel();
            }
        } else if let Some(s) = &map.status {
            ui.weak(s);
        }
        if let Some(l) = &map.layout {
            let kind = match l.kind {
                LayoutKind::Pca => "PCA (layout running)",
                LayoutKind::Umap => "UMAP-style layout",
            };
            ui.weak(kind);
        }
    });
}

#[allow(clippy::too_many_arguments)]
fn canvas_ui(
    ui: &mut egui::Ui,
    app: &mut AuditApp,
    r: &Results,
    layout: &Layout,
    rect: egui::Rect,
    resp: egui::Response,
    cmds: &mut Vec<Command>,
) {
    let map = &mut app.map;
    map.rect = Some(rect);
    let cam = map
        .camera
        .get_or_insert_with(|| Camera::fit(layout.bounds(), rect));
    let pointer = resp.hover_pos();
    if let Some(pos) = pointer {
        let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
        let factor = zoom * (scroll / 200.0).exp();
        if (factor - 1.0).abs() > 1e-4 {
            cam.zoom_at(rect, pos, factor);
        }
    }
    let shift = ui.input(|i| i.modifiers.shift);
    let selecting = map.tool != Tool::Pan || shift;
    if resp.drag_started_by(egui::PointerButton::Primary) && selecting {
        // From where the button went down: the drag is only recognised a few points later.
        let origin = ui.input(|i| i.pointer.press_origin());
        if let Some(p) = origin.or(resp.interact_pointer_pos()) {
            map.drag = Some(vec![cam.to_layout(rect, p)]);
        }
    }
    if resp.dragged_by(egui::PointerButton::Primary) {
        if let (Some(points), Some(p)) = (&mut map.drag, resp.interact_pointer_pos()) {
            let q = cam.to_layout(rect, p);
            if map.tool == Tool::Box && !shift {
                points.truncate(1);
                points.push(q);
            } else if points
                .last()
                .is_none_or(|l| (cam.to_screen(rect, *l) - p).length() >= 2.0)
            {
                points.push(q);
            }
        } else if map.drag.is_none() {
            cam.pan(resp.drag_delta());
        }
    }
    if resp.dragged_by(egui::PointerButton::Secondary)
        || resp.dragged_by(egui::PointerButton::Middle)
    {
        cam.pan(resp.drag_delta());
    }
    let cam = *cam;
    let cats = &map.categories.as_ref().expect("computed by screen").2;
    let paint = Paint {
        category: &cats.of_item,
        colours: &cats.colours,
        hidden: &map.hidden,
        shown: map.shown.as_ref().and_then(|(_, m)| m.as_deref()),
        size: if layout.len() > 50_000 { 2.0 } else { 4.0 },
        budget: DRAW_BUDGET,
    };
    if resp.drag_stopped()
        && let Some(points) = map.drag.take()
    {
        let poly = if points.len() == 2 && map.tool == Tool::Box && !shift {
            canvas::box_polygon(points[0], points[1])
        } else {
            points
        };
        let items = canvas::in_polygon(&layout.xy, &poly, |i| paint.drawable(i));
        if !items.is_empty() {
            map.next_region += 1;
            let mut mask = vec![false; r.len()];
            for &i in &items {
                mask[i as usize] = true;
            }
            cmds.push(Command::FilterRegion(RegionFilter {
                id: map.next_region,
                items: Arc::new(mask),
                count: items.len(),
            }));
        }
    }
    let dragging = map.drag.is_some() || resp.dragged();
    map.hovered = match pointer {
        Some(pos) if !dragging => canvas::nearest(&layout.xy, &cam, rect, pos, PICK_RADIUS, |i| {
            paint.drawable(i)
        }),
        _ => None,
    };
    if resp.clicked()
        && let Some(i) = map.hovered
    {
        cmds.push(Command::Select(Some(i)));
        cmds.push(Command::Reveal(i));
    }

    let painter = ui.painter_at(rect);
    painter.rect_filled(rect, 4.0, ui.visuals().extreme_bg_color);
    let (meshes, drawn) = canvas::mesh(&layout.xy, &cam, rect, &paint);
    map.drawn = drawn;
    for mesh in meshes {
        painter.add(egui::Shape::mesh(mesh));
    }
    let strong = ui.visuals().strong_text_color();
    if let Some(i) = app.selected.filter(|&i| i < layout.len()) {
        let s = cam.to_screen(rect, layout.xy[i]);
        painter.circle_stroke(s, 7.0, Stroke::new(2.0, strong));
    }
    if let Some(points) = &map.drag {
        let poly = if map.tool == Tool::Box && !shift && points.len() == 2 {
            canvas::box_polygon(points[0], points[1])
        } else {
            points.clone()
        };
        let screen: Vec<Pos2> = poly.iter().map(|p| cam.to_screen(rect, *p)).collect();
        painter.add(egui::Shape::closed_line(screen, Stroke::new(1.5, strong)));
    }
    if let Some(i) = map.hovered {
        let s = cam.to_screen(rect, layout.xy[i]);
        painter.circle_stroke(s, 5.0, Stroke::new(1.5, strong));
        hover_card(resp, app, r, i);
    }
}

/// The hovered item: thumbnail, id and its labels.
fn hover_card(resp: egui::Response, app: &mut AuditApp, r: &Results, i: usize) {
    // Shown at once (no tooltip delay): the pointer is moving from point to point.
    egui::Tooltip::for_widget(&resp).at_pointer().show(|ui| {
        if r.dataset.items[i].image.is_some() {
            let path = r.dataset.image_path(i);
            app.thumbs.show(ui, i, path.as_deref(), 96.0);
        }
        let item = &r.dataset.items[i];
        let row = &r.rows[i];
        ui.label(RichText::new(&item.id).strong().monospace());
        ui.label(crate::app::widgets::elide(&item.description, 80));
        egui::Grid::new("map hover").num_columns(2).show(ui, |ui| {
            ui.weak("annotation");
            ui.label(r.class_name(row.annotation));
            ui.end_row();
            for m in Modality::ALL {
                if r.classification.get(m).is_some() {
                    ui.weak(m.name());
                    ui.label(r.class_name(row.pairwise(m)));
                    ui.end_row();
                }
            }
            if let Some(s) = row.suspicion {
                ui.weak("suspicion");
                ui.label(format!("{s:.3}"));
                ui.end_row();
            }
        });
    });
}

/// One entry per category with its count; clicking one hides or shows its points.
fn legend(ui: &mut egui::Ui, app: &mut AuditApp) {
    ui.set_width(LEGEND_WIDTH);
    let map = &mut app.map;
    let Some((_, _, cats)) = &map.categories else {
        return;
    };
    ui.label(RichText::new(format!("colour: {}", cats.by.label())).strong());
    if map.hidden.iter().any(|&h| h) && ui.small_button("show all").clicked() {
        map.hidden.iter_mut().for_each(|h| *h = false);
    }
    egui::ScrollArea::vertical()
        .id_salt("map legend")
        .show(ui, |ui| {
            for (k, name) in cats.names.iter().enumerate() {
                if cats.counts[k] == 0 {
                    continue;
                }
                let hidden = map.hidden.get(k).copied().unwrap_or(false);
                ui.horizontal(|ui| {
                    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), Sense::hover());
                    let c = if hidden {
                        Color32::TRANSPARENT
                    } else {
                        cats.colours[k]
                    };
                    ui.painter().rect_filled(rect, 2.0, c);
                    ui.painter().rect_stroke(
                        rect,
                        2.0,
                        Stroke::new(1.0, cats.colours[k]),
                        egui::StrokeKind::Inside,
                    );
                    let text = format!(
                        "{} ({})",
                        crate::app::widgets::elide(name, 18),
                        cats.counts[k]
                    );
                    if ui
                        .selectable_label(!hidden, text)
                        .on_hover_text(format!("{name}: click to hide or show these points"))
                        .clicked()
                        && let Some(h) = map.hidden.get_mut(k)
                    {
                        *h = !*h;
                    }
                });
            }
        });
}
