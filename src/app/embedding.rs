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

/// The Settings tab's part: re-embed the class prompts of the open folder catalogue.
pub fn settings(ui: &mut egui::Ui, app: &AuditApp, cmds: &mut Vec<Command>) {
    let Some(results) = &app.results else { return };
    let dataset = &results.dataset;
    if !cfg!(feature = "embed") || dataset.table.is_some() {
        return;
    }
    ui.separator();
    ui.label(egui::RichText::new("Class prompts").strong());
    ui.weak("After editing the prompts in classes.csv, embed them again and re-run.");
    let cmd = match &app.persisted.embed_model {
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
    let hover = app.persisted.embed_model.as_ref().map_or_else(
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
