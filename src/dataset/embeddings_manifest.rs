//! `embeddings.json`: which model made each `.npy` file of a folder catalogue, and which items
//! have no embedding of a view (an image that could not be read). `pairwise-audit embed`
//! writes it; the loader reads the missing views from it, so such an item's all-zero row is a
//! missing view rather than an error.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::Item;
use crate::{DatasetError, Modality};

pub const MANIFEST_FILE: &str = "embeddings.json";

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingsManifest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<ManifestEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<ManifestEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<ManifestEntry>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// Hub id or folder of the model.
    pub model: String,
    /// Hub commit, or a digest of a local model's files.
    pub revision: String,
    pub dim: usize,
    pub rows: usize,
    /// Ids of the items without this view (their row is all zeros).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
}

impl EmbeddingsManifest {
    /// The manifest in `root`, or `None` when there is none.
    pub fn read(root: &Path) -> Result<Option<EmbeddingsManifest>, DatasetError> {
        let path = root.join(MANIFEST_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(DatasetError::io(&path, e)),
        };
        serde_json::from_str(&text).map(Some).map_err(|e| {
            DatasetError::file(
                &path,
                format!("is not a valid embeddings manifest ({e}); delete it or run `pairwise-audit embed` again."),
            )
        })
    }

    pub fn entry(&self, m: Modality) -> Option<&ManifestEntry> {
        match m {
            Modality::Image => self.image.as_ref(),
            Modality::Text => self.text.as_ref(),
        }
    }

    /// Per row, whether modality `m` has a view; `None` when every row has one.
    pub fn present(
        &self,
        root: &Path,
        m: Modality,
        items: &[Item],
    ) -> Result<Option<Vec<bool>>, DatasetError> {
        let Some(entry) = self.entry(m).filter(|e| !e.missing.is_empty()) else {
            return Ok(None);
        };
        let row_of: HashMap<&str, usize> = items
            .iter()
            .enumerate()
            .map(|(i, it)| (it.id.as_str(), i))
            .collect();
        let mut present = vec![true; items.len()];
        for id in &entry.missing {
            let Some(&row) = row_of.get(id.as_str()) else {
                return Err(DatasetError::file(
                    root.join(MANIFEST_FILE),
                    format!(
                        "lists item `{id}` as without a {m} embedding, but items.csv has no such id; run `pairwise-audit embed` again."
                    ),
                ));
            };
            present[row] = false;
        }
        Ok(Some(present))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> Item {
        Item {
            id: id.into(),
            description: String::new(),
            image: None,
            label: None,
        }
    }

    #[test]
    fn missing_ids_become_a_view_mask_and_unknown_ids_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let entry = |missing: &[&str]| ManifestEntry {
            model: "m".into(),
            revision: "r".into(),
            dim: 4,
            rows: 3,
            missing: missing.iter().map(|s| s.to_string()).collect(),
        };
        let m = EmbeddingsManifest {
            image: Some(entry(&["b"])),
            ..Default::default()
        };
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            serde_json::to_string(&m).unwrap(),
        )
        .unwrap();
        let read = EmbeddingsManifest::read(dir.path()).unwrap().unwrap();
        assert_eq!(read, m);
        let items = [item("a"), item("b"), item("c")];
        assert_eq!(
            read.present(dir.path(), Modality::Image, &items).unwrap(),
            Some(vec![true, false, true])
        );
        assert_eq!(
            read.present(dir.path(), Modality::Text, &items).unwrap(),
            None
        );
        let stale = EmbeddingsManifest {
            image: Some(entry(&["zz"])),
            ..Default::default()
        };
        let e = stale
            .present(dir.path(), Modality::Image, &items)
            .unwrap_err()
            .to_string();
        assert!(e.contains("item `zz`") && e.contains("no such id"), "{e}");
        std::fs::write(dir.path().join(MANIFEST_FILE), r#"{"imgs": {}}"#).unwrap();
        let e = EmbeddingsManifest::read(dir.path())
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a valid embeddings manifest"), "{e}");
    }
}
