//! A catalogue on disk (see `docs/dataset-format.md`) loaded and validated into memory.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use crate::{ClassId, DatasetError, Modality, Monitor};

/// One row of `items.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub id: String,
    pub description: String,
    /// Path relative to the dataset folder, as written in the file; `None` when empty.
    pub image: Option<PathBuf>,
    /// The existing annotation; `None` when the cell is empty.
    pub label: Option<ClassId>,
}

/// One row of `classes.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassInfo {
    pub name: String,
    pub prompt: String,
}

/// A validated catalogue. Embeddings are kept as read (converted to f32, not normalised):
/// the classifier normalises on the fly so that no second copy is needed.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub root: PathBuf,
    pub items: Vec<Item>,
    pub classes: Vec<ClassInfo>,
    /// `C × d`.
    pub class_embeddings: Array2<f32>,
    /// `n × d`, present when `image_embeddings.npy` exists.
    pub image_embeddings: Option<Array2<f32>>,
    /// `n × d`, present when `text_embeddings.npy` exists.
    pub text_embeddings: Option<Array2<f32>>,
    /// Non-fatal findings (missing image files, ignored columns …), one sentence each.
    pub warnings: Vec<String>,
    /// Items whose image path is set but whose file is missing or unreadable.
    pub missing_images: usize,
    /// Hex digest of the bytes of `items.csv`, to tie review logs to this catalogue.
    pub fingerprint: String,
}

/// Why `Dataset::load_with` stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Invalid(#[from] DatasetError),
    #[error(transparent)]
    Cancelled(#[from] crate::Cancelled),
}

impl Dataset {
    /// Load and validate the catalogue in `root`.
    pub fn load(root: &Path) -> Result<Dataset, DatasetError> {
        match Dataset::load_with(root, &Monitor::new()) {
            Ok(ds) => Ok(ds),
            Err(LoadError::Invalid(e)) => Err(e),
            Err(LoadError::Cancelled(_)) => unreachable!("nobody can cancel a private monitor"),
        }
    }

    /// `load`, reporting progress to and stopping on `monitor`.
    pub fn load_with(root: &Path, monitor: &Monitor) -> Result<Dataset, LoadError> {
        let _ = (root, monitor);
        todo!("loader")
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    pub fn dim(&self) -> usize {
        self.class_embeddings.ncols()
    }

    pub fn embeddings(&self, modality: Modality) -> Option<&Array2<f32>> {
        match modality {
            Modality::Image => self.image_embeddings.as_ref(),
            Modality::Text => self.text_embeddings.as_ref(),
        }
    }

    /// The modalities whose embeddings are present, image first.
    pub fn modalities(&self) -> Vec<Modality> {
        Modality::ALL
            .into_iter()
            .filter(|&m| self.embeddings(m).is_some())
            .collect()
    }

    pub fn class_index(&self, name: &str) -> Option<ClassId> {
        self.classes.iter().position(|c| c.name == name)
    }

    pub fn class_name(&self, c: ClassId) -> &str {
        &self.classes[c].name
    }

    /// Absolute path of item `i`'s image, if it has one.
    pub fn image_path(&self, i: usize) -> Option<PathBuf> {
        self.items[i].image.as_ref().map(|p| self.root.join(p))
    }

    /// The annotations as a label vector (for metrics).
    pub fn annotations(&self) -> Vec<Option<ClassId>> {
        self.items.iter().map(|it| it.label).collect()
    }
}
