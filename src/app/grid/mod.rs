//! The item table: a virtualized `TableBuilder` over a cached order of row indices. The order
//! (filter + sort) is recomputed only when its inputs change, never per frame.

pub(crate) mod filters;
pub(crate) mod thumbnails;
pub(crate) mod url_fetch;

use std::time::{Duration, Instant};

use egui::{Color32, RichText};
use egui_extras::{Column, TableBuilder};
use pairwise_audit::{ClassId, Modality};

use crate::app::commands::Command;
use crate::app::review::decisions::{Session, StatusFilter};
use pairwise_audit::audit::FlagKind;
use pairwise_audit::metrics::LabelSource;

use crate::app::grid::thumbnails::Thumbnails;
use crate::app::review::{Results, flag_label, flag_short, flag_tooltip, source_name};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SortColumn {
    Id,
    Description,
    Annotation,
    Image,
    Text,
    Flag,
    Suspicion,
    Status,
    /// Most similar to `Grid::similar`'s item first (mean cosine over the views).
    Similarity,
}

impl SortColumn {
    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Id => "Id",
            SortColumn::Description => "Description",
            SortColumn::Annotation => "Annotation",
            SortColumn::Image => "Image label",
            SortColumn::Text => "Text label",
            SortColumn::Flag => "Flag",
            SortColumn::Suspicion => "Suspicion",
            SortColumn::Status => "Review",
            SortColumn::Similarity => "Similarity",
        }
    }

    /// The direction of a first click: the most suspicious and the strongest flags on top,
    /// everything else A to Z.
    fn first_click_descending(self) -> bool {
        matches!(
            self,
            SortColumn::Suspicion | SortColumn::Flag | SortColumn::Similarity
        )
    }
}

/// A confusion-matrix cell as a filter: items whose `rows` label is `row_class` and whose
/// `cols` label is `col_class`.
#[derive(Clone, Debug, PartialEq)]
pub struct CellFilter {
    pub rows: LabelSource,
    pub cols: LabelSource,
    pub row_class: ClassId,
    pub col_class: ClassId,
}

impl CellFilter {
    pub fn describe(&self, r: &Results) -> String {
        format!(
            "{} = {} × {} = {}",
            source_name(self.rows),
            r.class_name(Some(self.row_class)),
            source_name(self.cols),
            r.class_name(Some(self.col_class))
        )
    }
}

/// The items a lasso or box on the map took. Two regions are the same filter only when
/// they come from the same gesture (`id`): comparing the masks would cost a pass per frame.
#[derive(Clone, Debug)]
pub struct RegionFilter {
    pub id: u64,
    /// Per item, in items.csv order.
    pub items: std::sync::Arc<Vec<bool>>,
    pub count: usize,
}

impl PartialEq for RegionFilter {
    fn eq(&self, other: &RegionFilter) -> bool {
        self.id == other.id
    }
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Filter {
    pub flag: Option<FlagKind>,
    pub annotation: Option<ClassId>,
    /// Matches an item whose image or text pairwise label is this class.
    pub predicted: Option<ClassId>,
    pub search: String,
    pub cell: Option<CellFilter>,
    pub status: Option<StatusFilter>,
    /// Only the review queue at this cut (percent probability of a wrong annotation).
    pub queue: Option<u8>,
    /// Only items that look the same as another one annotated differently.
    pub lookalikes: bool,
    /// Only the items the one-vs-rest step keeps (`true`) or leaves (`false`).
    pub one_vs_rest: Option<bool>,
    /// Only the items selected on the map.
    pub region: Option<RegionFilter>,
}

impl Filter {
    fn keeps(&self, r: &Results, status: &[u8], i: usize, needle: &str) -> bool {
        let row = &r.rows[i];
        if let Some(f) = self.status
            && !f.keeps(status.get(i).copied().unwrap_or(0))
        {
            return false;
        }
        if let Some(cut) = self.queue
            && !r
                .audit
                .p_wrong(i)
                .is_some_and(|p| p >= f64::from(cut) / 100.0)
        {
            return false;
        }
        if let Some(region) = &self.region
            && !region.items.get(i).copied().unwrap_or(false)
        {
            return false;
        }
        if self.lookalikes && r.lookalikes[i].is_empty() {
            return false;
        }
        if let Some(kept) = self.one_vs_rest
            && r.kept.get(i).copied() != Some(kept)
        {
            return false;
        }
        if self.flag.is_some_and(|f| row.flag != f) {
            return false;
        }
        if self.annotation.is_some() && row.annotation != self.annotation {
            return false;
        }
        if let Some(c) = self.predicted
            && row.pairwise(Modality::Image) != Some(c)
            && row.pairwise(Modality::Text) != Some(c)
        {
            return false;
        }
        if let Some(cell) = &self.cell
            && (row.label(cell.rows) != Some(cell.row_class)
                || row.label(cell.cols) != Some(cell.col_class))
        {
            return false;
        }
        needle.is_empty() || r.haystack[i].contains(needle)
    }
}

#[derive(Clone, Debug, PartialEq)]
struct ViewKey {
    generation: u64,
    review_generation: u64,
    sort: SortColumn,
    descending: bool,
    filter: Filter,
    similar_to: Option<usize>,
}

pub struct Grid {
    pub sort: SortColumn,
    pub descending: bool,
    pub filter: Filter,
    order: Vec<u32>,
    key: Option<ViewKey>,
    /// How long the last filter + sort took (shown in the status bar, used by the benchmark).
    pub last_compute: Duration,
    /// Row position to bring into view on the next frame (keyboard navigation).
    pub scroll_to: Option<usize>,
    /// Rows that fit on screen, for PageUp/PageDown.
    pub page_rows: usize,
    /// Review status per item (`decisions::status_code`), kept in step with the decision log
    /// by the app; the order depends on it when filtering or sorting by status.
    review_status: Vec<u8>,
    review_generation: u64,
    /// The item `SortColumn::Similarity` sorts by, with every item's similarity to it.
    pub similar: Option<std::sync::Arc<pairwise_audit::map::similar::Similarity>>,
    /// Bumped whenever `order` is recomputed, so views derived from it (the map's dimming)
    /// know when to follow.
    version: u64,
}

impl Default for Grid {
    fn default() -> Grid {
        Grid {
            sort: SortColumn::Suspicion,
            descending: true,
            filter: Filter::default(),
            order: Vec::new(),
            key: None,
            last_compute: Duration::ZERO,
            scroll_to: None,
            page_rows: 20,
            review_status: Vec::new(),
            review_generation: 0,
            similar: None,
            version: 0,
        }
    }
}

impl Grid {
    /// Click on a header: sort by it, or reverse when it already is the sort column.
    pub fn sort_by(&mut self, col: SortColumn) {
        if self.sort == col {
            self.descending = !self.descending;
        } else {
            self.sort = col;
            self.descending = col.first_click_descending();
        }
    }

    /// Take the review statuses of `session` (or none) if they changed.
    pub fn sync_review(&mut self, session: Option<&Session>) {
        match session {
            Some(s) if s.generation != self.review_generation => {
                self.review_status.clear();
                self.review_status.extend_from_slice(&s.status);
                self.review_generation = s.generation;
            }
            None if self.review_generation != 0 => {
                self.review_status.clear();
                self.review_generation = 0;
            }
            _ => {}
        }
    }

    /// The visible rows (indices into items.csv), recomputed only when an input changed.
    pub fn refresh(&mut self, r: &Results) -> &[u32] {
        // Review changes only matter to views that filter or sort on them.
        let uses_review = self.filter.status.is_some() || self.sort == SortColumn::Status;
        let key = ViewKey {
            generation: r.generation,
            review_generation: if uses_review {
                self.review_generation
            } else {
                0
            },
            sort: self.sort,
            descending: self.descending,
            filter: self.filter.clone(),
            similar_to: self.similar.as_ref().map(|s| s.item),
        };
        if self.key.as_ref() != Some(&key) {
            let t = Instant::now();
            let similar = self.similar.as_ref().map(|s| s.mean.as_slice());
            self.order = compute_order(r, &self.review_status, similar, &key);
            self.version += 1;
            self.last_compute = t.elapsed();
            self.key = Some(key);
        }
        &self.order
    }

    pub fn order(&self) -> &[u32] {
        &self.order
    }

    /// Changes whenever the order was recomputed.
    pub fn version(&self) -> u64 {
        self.version
    }
}

fn compute_order(r: &Results, status: &[u8], similar: Option<&[f32]>, key: &ViewKey) -> Vec<u32> {
    let needle = key.filter.search.trim().to_lowercase();
    let mut order: Vec<u32> = (0..r.len())
        .filter(|&i| key.filter.keeps(r, status, i, &needle))
        .map(|i| i as u32)
        .collect();
    // Each column becomes one integer key per row, so the sort compares integers only.
    // Strings were ranked once per run (`Results::id_rank`), classes rank by name here.
    let mut by_name: Vec<ClassId> = (0..r.dataset.num_classes()).collect();
    by_name.sort_by(|&a, &b| r.dataset.class_name(a).cmp(r.dataset.class_name(b)));
    let mut rank = vec![0u64; by_name.len()];
    for (pos, &c) in by_name.iter().enumerate() {
        rank[c] = pos as u64;
    }
    // Missing labels sort after every class.
    let class_key = |c: Option<ClassId>| c.map_or(u64::MAX, |c| rank[c]);
    let rows = &r.rows;
    let key_of = |i: usize| -> u64 {
        match key.sort {
            SortColumn::Status => status.get(i).copied().unwrap_or(0) as u64,
            SortColumn::Id => r.id_rank[i] as u64,
            SortColumn::Description => r.description_rank[i] as u64,
            SortColumn::Annotation => class_key(rows[i].annotation),
            SortColumn::Image => class_key(rows[i].pairwise(Modality::Image)),
            SortColumn::Text => class_key(rows[i].pairwise(Modality::Text)),
            SortColumn::Flag => rows[i].flag as u64,
            // Unscored items sort below every score.
            SortColumn::Suspicion => rows[i].suspicion.map_or(0, ordered_bits),
            SortColumn::Similarity => similar
                .and_then(|s| s.get(i))
                .map_or(0, |&v| ordered_bits(v as f64)),
        }
    };
    let mut keyed: Vec<(u64, u32)> = order
        .iter()
        .map(|&i| {
            let k = key_of(i as usize);
            (if key.descending { !k } else { k }, i)
        })
        .collect();
    // Ties keep file order in both directions, so the view never jitters.
    keyed.sort_unstable();
    order.clear();
    order.extend(keyed.into_iter().map(|(_, i)| i));
    order
}

/// An f64 as a u64 with the same order (every finite value above 0, the "no score" key).
fn ordered_bits(x: f64) -> u64 {
    let b = x.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

pub fn flag_colour(flag: FlagKind, visuals: &egui::Visuals) -> Color32 {
    let dark = visuals.dark_mode;
    match flag {
        FlagKind::AgreeNotAnnotation => {
            if dark {
                Color32::from_rgb(255, 110, 100)
            } else {
                Color32::from_rgb(190, 30, 20)
            }
        }
        FlagKind::BothNotAnnotation | FlagKind::OneNotAnnotation => {
            if dark {
                Color32::from_rgb(240, 190, 80)
            } else {
                Color32::from_rgb(150, 95, 0)
            }
        }
        FlagKind::ImageTextDisagree => {
            if dark {
                Color32::from_rgb(150, 180, 255)
            } else {
                Color32::from_rgb(40, 80, 180)
            }
        }
        FlagKind::None => visuals.weak_text_color(),
    }
}

pub const ROW_HEIGHT: f32 = 36.0;

/// What the grid highlights and shows per row beyond the run's results.
pub struct Marks<'a> {
    pub selected: Option<usize>,
    pub marked: &'a std::collections::BTreeSet<usize>,
    pub review: Option<&'a Session>,
}

/// The narrowest the table's columns can be before it scrolls sideways.
const MIN_TABLE_WIDTH: f32 = 720.0;

/// Draw the table. Clicks become `Command`s; nothing here changes the selection directly.
pub fn table(
    ui: &mut egui::Ui,
    grid: &mut Grid,
    r: &Results,
    marks: Marks<'_>,
    thumbs: &mut Thumbnails,
    cmds: &mut Vec<Command>,
) {
    // In a panel narrower than its columns the table scrolls sideways instead of spilling
    // under the side panel (where it hid the panel and stretched the strip above it).
    if ui.available_width() >= MIN_TABLE_WIDTH {
        table_at_width(ui, grid, r, marks, thumbs, cmds);
        return;
    }
    egui::ScrollArea::horizontal()
        .id_salt("items sideways")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            ui.set_min_width(MIN_TABLE_WIDTH);
            table_at_width(ui, grid, r, marks, thumbs, cmds);
        });
}

fn table_at_width(
    ui: &mut egui::Ui,
    grid: &mut Grid,
    r: &Results,
    marks: Marks<'_>,
    thumbs: &mut Thumbnails,
    cmds: &mut Vec<Command>,
) {
    let Marks {
        selected,
        marked,
        review,
    } = marks;
    grid.refresh(r);
    let weak = ui.visuals().weak_text_color();
    let visuals = ui.visuals().clone();
    let show_thumbs = r.has_images;
    let row_h = if show_thumbs { ROW_HEIGHT } else { 22.0 };
    grid.page_rows = ((ui.available_height() / row_h) as usize)
        .saturating_sub(2)
        .max(1);
    let mut builder = TableBuilder::new(ui)
        .id_salt("items")
        .striped(true)
        .resizable(true)
        .sense(egui::Sense::click())
        .cell_layout(egui::Layout::left_to_right(egui::Align::Center))
        .auto_shrink([false, false]);
    if let Some(pos) = grid.scroll_to.take() {
        builder = builder.scroll_to_row(pos, None);
    }
    if show_thumbs {
        builder = builder.column(Column::exact(row_h));
    }
    builder = builder
        .column(Column::initial(80.0).at_least(40.0).clip(true))
        // The description takes whatever the fixed columns leave.
        .column(Column::remainder().at_least(100.0).clip(true))
        .column(Column::initial(90.0).at_least(40.0).clip(true))
        .column(Column::initial(90.0).at_least(40.0).clip(true))
        .column(Column::initial(90.0).at_least(40.0).clip(true))
        .column(Column::initial(100.0).at_least(40.0).clip(true))
        .column(Column::initial(80.0).at_least(40.0).clip(true))
        .column(Column::initial(95.0).at_least(40.0).clip(true));
    let columns = [
        SortColumn::Id,
        SortColumn::Description,
        SortColumn::Annotation,
        SortColumn::Image,
        SortColumn::Text,
        SortColumn::Flag,
        SortColumn::Suspicion,
        SortColumn::Status,
    ];
    let (sort, desc) = (grid.sort, grid.descending);
    let table = builder.header(24.0, |mut header| {
        if show_thumbs {
            header.col(|_| {});
        }
        for col in columns {
            header.col(|ui| {
                let text = RichText::new(col.label()).strong();
                let resp = ui
                    .add(egui::Button::new(text).frame(false))
                    .on_hover_text(format!("Sort by {}; click again to reverse", col.label()));
                if resp.clicked() {
                    cmds.push(Command::SortBy(col));
                }
                if sort == col {
                    crate::app::widgets::sort_arrow(ui, desc);
                }
            });
        }
    });
    let order = grid.order();
    let items = &r.dataset.items;
    table.body(|body| {
        body.rows(row_h, order.len(), |mut row| {
            let i = order[row.index()] as usize;
            let item = &items[i];
            let facts = &r.rows[i];
            row.set_selected(selected == Some(i) || marked.contains(&i));
            if show_thumbs {
                row.col(|ui| {
                    let path = r.dataset.image_path(i);
                    let resp = thumbs.show(ui, i, path.as_deref(), row_h - 2.0);
                    if path.is_some() {
                        // A larger look without leaving the grid.
                        resp.on_hover_ui(|ui| {
                            thumbs.show(ui, i, path.as_deref(), 192.0);
                        });
                    }
                });
            }
            let cell = |ui: &mut egui::Ui, text: RichText| {
                ui.add(egui::Label::new(text).truncate().selectable(false));
            };
            row.col(|ui| cell(ui, RichText::new(&item.id).monospace()));
            row.col(|ui| cell(ui, RichText::new(&item.description)));
            row.col(|ui| cell(ui, RichText::new(r.class_name(facts.annotation))));
            for m in [Modality::Image, Modality::Text] {
                let label = facts.pairwise(m);
                row.col(|ui| {
                    let mut t = RichText::new(r.class_name(label));
                    if label.is_some() && facts.annotation.is_some() && label != facts.annotation {
                        t = t.color(flag_colour(FlagKind::OneNotAnnotation, &visuals));
                    }
                    cell(ui, t)
                });
            }
            row.col(|ui| {
                let colour = flag_colour(facts.flag, &visuals);
                ui.add(
                    egui::Label::new(RichText::new(flag_short(facts.flag)).color(colour))
                        .truncate()
                        .selectable(false),
                )
                .on_hover_text(format!(
                    "{}: {}",
                    flag_label(facts.flag),
                    flag_tooltip(facts.flag)
                ));
            });
            row.col(|ui| {
                let t = if let Some(s) = facts.suspicion {
                    RichText::new(format!("{s:.3}")).monospace()
                } else {
                    RichText::new("—").color(weak)
                };
                cell(ui, t)
            });
            row.col(|ui| {
                let text = match review.and_then(|s| s.describe(r, i)) {
                    Some(t) => RichText::new(t),
                    None => RichText::new("—").color(weak),
                };
                cell(ui, text)
            });
            let resp = row.response();
            if resp.clicked() {
                let m = resp.ctx.input(|inp| inp.modifiers);
                cmds.push(if m.command {
                    Command::ToggleMark(i)
                } else if m.shift {
                    Command::MarkRange(i)
                } else {
                    Command::Select(Some(i))
                });
            }
        });
    });
}
