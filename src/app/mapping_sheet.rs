//! The column-mapping sheet shown when a Parquet catalogue is opened for the first time: one
//! choice per role with the detection preselected, a preview of the first rows and each
//! column's null count. "Open" remembers the choice beside the decision log
//! (`.pairwise-audit/mapping-….ron`), so the next opening goes straight to the grid.

use std::path::{Path, PathBuf};

use pairwise_audit::dataset::LoadOptions;
use pairwise_audit::dataset::parquet::preview::{PreviewColumn, survey};
use pairwise_audit::dataset::parquet::{guard, plan, remember_options, remembered_options};

/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 5;

pub struct Sheet {
    pub source: PathBuf,
    pub options: LoadOptions,
    pub columns: Vec<PreviewColumn>,
    /// One line per role from the detection, or why it failed.
    pub notes: Vec<String>,
    pub error: Option<String>,
}

/// What the user did with the sheet this frame.
pub enum Outcome {
    Open(PathBuf),
    Cancel,
}

impl Sheet {
    /// The sheet for `source`, or `None` when a mapping was remembered for it (open at once).
    pub fn for_source(source: &Path) -> Option<Result<Sheet, String>> {
        if remembered_options(source).is_some() {
            return None;
        }
        Some(Sheet::new(source))
    }

    fn new(source: &Path) -> Result<Sheet, String> {
        let options = LoadOptions::default();
        // (Read on a thread of its own; a reader panic on a damaged file must still not end it
        // without a sentence.)
        match guard(source, || plan(source, &options)) {
            Ok(p) => {
                let columns =
                    guard(source, || p.preview(PREVIEW_ROWS)).map_err(|e| e.to_string())?;
                Ok(Sheet {
                    source: source.to_path_buf(),
                    options: LoadOptions {
                        columns: explicit(p.mapping.as_overrides()),
                        classes: None,
                    },
                    columns,
                    notes: p.notes,
                    error: None,
                })
            }
            // Detection failed: let the user choose from the columns there are.
            Err(e) => {
                let columns = guard(source, || survey(source, &options, PREVIEW_ROWS))
                    .map_err(|_| e.to_string())?;
                Ok(Sheet {
                    source: source.to_path_buf(),
                    options,
                    columns,
                    notes: Vec::new(),
                    error: Some(e.to_string()),
                })
            }
        }
    }

    /// Remember the choice for the next opening; a failure to write costs only that.
    pub fn remember(&self) -> Result<(), String> {
        remember_options(&self.source, &self.options).map_err(|e| {
            format!(
                "The column mapping could not be remembered ({e}); it is used for this run only."
            )
        })
    }

    pub fn ui(&mut self, ctx: &egui::Context) -> Option<Outcome> {
        let mut outcome = None;
        egui::Modal::new(egui::Id::unique("mapping sheet")).show(ctx, |ui| {
            ui.heading("Columns of this catalogue");
            ui.label(self.source.display().to_string());
            if let Some(e) = &self.error {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            ui.add_space(4.0);
            let text: Vec<String> = self
                .columns
                .iter()
                .filter(|c| !c.embedding)
                .map(|c| c.name.clone())
                .collect();
            let lists: Vec<String> = self
                .columns
                .iter()
                .filter(|c| c.embedding)
                .map(|c| c.name.clone())
                .collect();
            let cols = &mut self.options.columns;
            egui::Grid::new("mapping-roles")
                .num_columns(2)
                .show(ui, |ui| {
                    choice(ui, "id", &mut cols.id, &text, false);
                    choice(ui, "label", &mut cols.label, &text, true);
                    choice(ui, "description", &mut cols.text, &text, true);
                    choice(ui, "image (path or URL)", &mut cols.image, &text, true);
                    choice(
                        ui,
                        "image embedding",
                        &mut cols.image_embedding,
                        &lists,
                        true,
                    );
                    choice(ui, "text embedding", &mut cols.text_embedding, &lists, true);
                });
            for note in &self.notes {
                ui.weak(note);
            }
            ui.separator();
            ui.label(format!(
                "First {PREVIEW_ROWS} rows (nulls per column in the header)"
            ));
            egui::ScrollArea::both().max_height(220.0).show(ui, |ui| {
                egui::Grid::new("mapping-preview")
                    .striped(true)
                    .show(ui, |ui| {
                        for c in &self.columns {
                            let nulls = c
                                .nulls
                                .map_or("nulls ?".to_string(), |n| format!("{n} null"));
                            ui.label(egui::RichText::new(&c.name).strong())
                                .on_hover_text(format!("{} — {}", c.kind, c.table.display()));
                            ui.weak(nulls);
                            for v in &c.first {
                                let short: String = v.chars().take(40).collect();
                                ui.label(short).on_hover_text(v);
                            }
                            ui.end_row();
                        }
                    });
            });
            ui.separator();
            ui.horizontal(|ui| {
                let set = |v: &Option<String>| v.as_ref().is_some_and(|v| !v.is_empty());
                let c = &self.options.columns;
                let ready = set(&c.id) && (set(&c.image_embedding) || set(&c.text_embedding));
                if ui
                    .add_enabled(ready, egui::Button::new("Open"))
                    .on_disabled_hover_text("Choose an id and at least one embedding column")
                    .clicked()
                {
                    outcome = Some(Outcome::Open(self.source.clone()));
                }
                if ui.button("Cancel").clicked() {
                    outcome = Some(Outcome::Cancel);
                }
            });
        });
        outcome
    }
}

/// Detection's "no column" as an explicit none, so that the remembered mapping is kept as
/// shown rather than detected again.
fn explicit(
    mut c: pairwise_audit::dataset::ColumnOverrides,
) -> pairwise_audit::dataset::ColumnOverrides {
    for v in [
        &mut c.label,
        &mut c.text,
        &mut c.image,
        &mut c.image_embedding,
        &mut c.text_embedding,
    ] {
        if v.is_none() {
            *v = Some(String::new());
        }
    }
    c
}

fn choice(
    ui: &mut egui::Ui,
    role: &str,
    value: &mut Option<String>,
    columns: &[String],
    optional: bool,
) {
    ui.label(role);
    // An empty name is an explicit "none": `None` would let detection choose again.
    let shown = value
        .clone()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "none".into());
    egui::ComboBox::from_id_salt(("mapping", role))
        .selected_text(shown)
        .show_ui(ui, |ui| {
            if optional {
                ui.selectable_value(value, Some(String::new()), "none");
            }
            for c in columns {
                ui.selectable_value(value, Some(c.clone()), c);
            }
        });
    ui.end_row();
}
