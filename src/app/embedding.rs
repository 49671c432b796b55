//! "Compute embeddings…": a folder catalogue that has items.csv, classes.csv and images but no
//! embeddings is offered an `embed` run with a model folder the user picks; it runs on the
//! worker thread (progress, ETA, Cancel) before the catalogue is loaded and classified.
//! Settings can re-embed just the class prompts after they were edited in classes.csv.

use std::path::{Path, PathBuf};

use pairwise_audit::Monitor;
use pairwise_audit::dataset::{CLASS_EMBEDDINGS_FILE, CLASSES_FILE, ITEMS_FILE, embeddings_file};

use crate::app::AuditApp;
use crate::app::commands::Command;
use crate::app::worker::JobError;

/// Embeddings to compute before a run loads its catalogue.
#[derive(Clone, Debug, PartialEq)]
pub struct EmbedStep {
    /// A model folder in the Hugging Face layout (or a hub id).
    pub model: PathBuf,
    /// Only the class prompts (after a prompt edit); otherwise images, texts and classes.
    pub classes_only: bool,
    /// Prompts edited in the app, one per class in class order: written into classes.csv
    /// (on the worker, before embedding) so that file and embeddings agree.
    pub prompts: Option<Vec<String>>,
}

/// Whether `path` is a folder catalogue that `embed` can complete: both tables present, and
/// the class embeddings or both item embeddings missing.
pub fn lacks_embeddings(path: &Path) -> bool {
    let has = |name: &str| path.join(name).is_file();
    has(ITEMS_FILE)
        && has(CLASSES_FILE)
        && (!has(CLASS_EMBEDDINGS_FILE)
            || pairwise_audit::Modality::ALL
                .iter()
                .all(|&m| !has(embeddings_file(m))))
}

/// Run the step on the catalogue folder `root` (the worker thread calls this).
#[cfg(feature = "embed")]
pub fn run(step: &EmbedStep, root: &Path, monitor: &Monitor) -> Result<(), JobError> {
    use pairwise_audit::embed::{self, EmbedError, EmbedOptions, Model, Part};
    let fail = |e: EmbedError| match e {
        EmbedError::Cancelled(_) => JobError::Cancelled,
        other => JobError::Failed(other.to_string()),
    };
    if let Some(prompts) = &step.prompts {
        write_prompts(&root.join(CLASSES_FILE), prompts).map_err(JobError::Failed)?;
    }
    let device = embed::clip::device("cpu").map_err(fail)?;
    let files = embed::resolve_model(&step.model.to_string_lossy(), "main", false).map_err(fail)?;
    let model = Model::load(files, &device).map_err(fail)?;
    monitor.check().map_err(|_| JobError::Cancelled)?;
    let options = EmbedOptions {
        parts: if step.classes_only {
            vec![Part::Classes]
        } else {
            Part::ALL.to_vec()
        },
        ..EmbedOptions::default()
    };
    embed::embed_catalogue(root, &model, &options, monitor).map_err(fail)?;
    Ok(())
}

/// Replace the `prompt` column of `path` (a classes.csv) with `prompts`, row by row, keeping
/// every other column and the header; written atomically.
#[cfg_attr(not(feature = "embed"), allow(dead_code))]
pub fn write_prompts(path: &Path, prompts: &[String]) -> Result<(), String> {
    let fail = |e: &dyn std::fmt::Display| format!("could not update {}: {e}", path.display());
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .from_path(path)
        .map_err(|e| fail(&e))?;
    let headers = reader.headers().map_err(|e| fail(&e))?.clone();
    let at = headers
        .iter()
        .position(|h| h.trim().trim_start_matches('\u{feff}') == "prompt")
        .ok_or_else(|| fail(&"it has no `prompt` column"))?;
    let rows: Vec<csv::StringRecord> = reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| fail(&e))?;
    if rows.len() != prompts.len() {
        return Err(fail(&format!(
            "it has {} classes now, the app edited {}; reopen the catalogue",
            rows.len(),
            prompts.len()
        )));
    }
    pairwise_audit::atomic_file::write_atomic(path, |w| {
        let mut out = csv::Writer::from_writer(w);
        out.write_record(&headers)?;
        for (row, prompt) in rows.iter().zip(prompts) {
            let fields: Vec<&str> = row
                .iter()
                .enumerate()
                .map(|(k, v)| if k == at { prompt.as_str() } else { v })
                .collect();
            out.write_record(&fields)?;
        }
        out.flush()
    })
    .map_err(|e| e.to_string())
}

#[cfg(not(feature = "embed"))]
pub fn run(_: &EmbedStep, _: &Path, _: &Monitor) -> Result<(), JobError> {
    Err(JobError::Failed(NOT_BUILT.into()))
}

#[cfg(not(feature = "embed"))]
const NOT_BUILT: &str =
    "this build cannot compute embeddings; rebuild with `cargo build --release --features embed`";

/// Below the error of a catalogue without embeddings: the way to compute them.
pub fn offer(ui: &mut egui::Ui, app: &AuditApp, cmds: &mut Vec<Command>) {
    let Some(dataset) = &app.embed_offer else {
        return;
    };
    ui.horizontal_wrapped(|ui| {
        ui.label("This catalogue has images and descriptions but no embeddings.");
        #[cfg(feature = "embed")]
        {
            let pick = Command::PickModelFolder {
                dataset: dataset.clone(),
                classes_only: false,
            };
            if ui
                .add_enabled(app.job.is_none(), egui::Button::new(pick.label()))
                .on_hover_text(
                    "Pick a CLIP model folder (config.json, model.safetensors, tokenizer.json, preprocessor_config.json); the embeddings are written beside items.csv, then the catalogue is classified",
                )
                .clicked()
            {
                cmds.push(pick);
            }
            if let Some(model) = &app.persisted.embed_model {
                let again = Command::Embed {
                    dataset: dataset.clone(),
                    model: model.clone(),
                    classes_only: false,
                };
                let name = model.file_name().map_or_else(
                    || model.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                if ui
                    .add_enabled(app.job.is_none(), egui::Button::new(format!("Compute with {name}")))
                    .on_hover_text(model.display().to_string())
                    .clicked()
                {
                    cmds.push(again);
                }
            }
        }
        #[cfg(not(feature = "embed"))]
        {
            let _ = (dataset, cmds);
            ui.weak(NOT_BUILT);
        }
    });
}

/// The Settings tab's part: edit the class prompts of the open folder catalogue and embed
/// them again (prompt wording moves zero-shot accuracy a lot), or re-embed after an edit of
/// classes.csv made elsewhere.
pub fn settings(ui: &mut egui::Ui, app: &mut AuditApp, cmds: &mut Vec<Command>) {
    let Some(results) = app.results.clone() else {
        return;
    };
    let dataset = &results.dataset;
    if !cfg!(feature = "embed") || dataset.table.is_some() {
        return;
    }
    ui.separator();
    ui.label(egui::RichText::new("Class prompts").strong());
    let current: Vec<String> = dataset.classes.iter().map(|c| c.prompt.clone()).collect();
    if app
        .prompt_draft
        .as_ref()
        .is_none_or(|(generation, _)| *generation != results.generation)
    {
        app.prompt_draft = Some((results.generation, current.clone()));
    }
    let (_, draft) = app.prompt_draft.as_mut().expect("set above");
    egui::ScrollArea::vertical()
        .id_salt("prompt editor")
        .max_height(220.0)
        .show(ui, |ui| {
            egui::Grid::new("prompts").num_columns(2).show(ui, |ui| {
                for (c, prompt) in draft.iter_mut().enumerate() {
                    let name = dataset.class_name(c);
                    ui.label(crate::app::widgets::elide(name, 20));
                    let edit = ui.add(egui::TextEdit::singleline(prompt).desired_width(240.0));
                    edit.widget_info(|| {
                        egui::WidgetInfo::labeled(
                            egui::Role::TextInput,
                            true,
                            format!("prompt for {name}"),
                        )
                    });
                    ui.end_row();
                }
            });
        });
    let edited = *draft != current;
    let model = app.persisted.embed_model.clone();
    ui.horizontal_wrapped(|ui| {
        let save = ui
            .add_enabled(
                edited && model.is_some() && app.job.is_none(),
                egui::Button::new("Save prompts and re-embed"),
            )
            .on_hover_text(
                "Write the prompts into classes.csv, embed them with the catalogue's model and \
                 classify again",
            );
        if save.clicked() {
            cmds.push(Command::SavePrompts(draft.clone()));
        }
        if ui
            .add_enabled(edited, egui::Button::new("Undo prompt edits"))
            .clicked()
        {
            *draft = current.clone();
        }
    });
    ui.weak("Or edit classes.csv elsewhere, then embed the prompts again:");
    let cmd = match &model {
        Some(model) => Command::Embed {
            dataset: dataset.root.clone(),
            model: model.clone(),
            classes_only: true,
        },
        None => Command::PickModelFolder {
            dataset: dataset.root.clone(),
            classes_only: true,
        },
    };
    let hover = model.as_ref().map_or_else(
        || "Pick the CLIP model folder the catalogue was embedded with".to_string(),
        |m| format!("With {}", m.display()),
    );
    if ui
        .add_enabled(app.job.is_none(), egui::Button::new(cmd.label()))
        .on_hover_text(hover)
        .clicked()
    {
        cmds.push(cmd);
    }
}

#[cfg(test)]
mod tests {
    use super::write_prompts;

    #[test]
    fn prompts_are_replaced_in_place_and_other_columns_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("classes.csv");
        std::fs::write(
            &path,
            "name,prompt,group\nshirt,a shirt,\"tops, mostly\"\ncat,a cat,pets\n",
        )
        .unwrap();
        write_prompts(
            &path,
            &["a photo of a shirt".into(), "a cat, sitting".into()],
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "name,prompt,group\nshirt,a photo of a shirt,\"tops, mostly\"\ncat,\"a cat, sitting\",pets\n"
        );
        let err = write_prompts(&path, &["only one".into()]).unwrap_err();
        assert!(
            err.contains("classes.csv") && err.contains("2 classes"),
            "{err}"
        );
    }
}
