//! `catalogue.ron`: a folder's tables, the columns of each role and the class table. Every
//! field but `tables` may be left out and is then detected. Paths are relative to the folder.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::DatasetError;
use crate::dataset::mapping::ColumnOverrides;

pub const MANIFEST_FILE: &str = "catalogue.ron";

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Item tables (files or folders of shards), joined on the id; the first gives the rows
    /// and their order.
    pub tables: Vec<PathBuf>,
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub image_embedding: Option<String>,
    #[serde(default)]
    pub text_embedding: Option<String>,
    #[serde(default)]
    pub classes: Option<ClassSpec>,
}

/// The class table: `name`, `prompt` and an embedding column, or embeddings in a `.npy`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSpec {
    pub table: PathBuf,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub prompt: Option<String>,
    #[serde(default)]
    pub embedding: Option<String>,
    #[serde(default)]
    pub npy: Option<PathBuf>,
}

impl Manifest {
    pub fn read(path: &Path) -> Result<Manifest, DatasetError> {
        let text = std::fs::read_to_string(path).map_err(|e| DatasetError::io(path, e))?;
        let options = ron::Options::default()
            .with_default_extension(ron::extensions::Extensions::IMPLICIT_SOME);
        let mut m: Manifest = options.from_str(&text).map_err(|e| {
            DatasetError::file(
                path,
                format!(
                    "is not a valid catalogue manifest: {e} (see docs/dataset-format.md for its fields)."
                ),
            )
        })?;
        if m.tables.is_empty() {
            return Err(DatasetError::file(
                path,
                "names no tables; `tables` lists at least one item table.",
            ));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        for t in &mut m.tables {
            *t = dir.join(&*t);
        }
        if let Some(c) = &mut m.classes {
            c.table = dir.join(&c.table);
            if let Some(npy) = &mut c.npy {
                *npy = dir.join(&*npy);
            }
        }
        Ok(m)
    }

    pub fn columns(&self) -> ColumnOverrides {
        ColumnOverrides {
            id: self.id.clone(),
            label: self.label.clone(),
            text: self.description.clone(),
            image: self.image.clone(),
            image_embedding: self.image_embedding.clone(),
            text_embedding: self.text_embedding.clone(),
        }
    }
}
