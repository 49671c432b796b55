//! How a table catalogue's columns map onto an item: what the user asked for, what was
//! chosen, and what the load found. Plain data, so the command line, the app and the loader
//! share it whether or not this build reads Parquet.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Columns named by the user (command line, app sheet); `None` leaves the role to detection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ColumnOverrides {
    pub id: Option<String>,
    pub label: Option<String>,
    /// The description text shown beside the item.
    pub text: Option<String>,
    /// An image path (relative to the catalogue's folder) or an http(s) URL.
    pub image: Option<String>,
    pub image_embedding: Option<String>,
    pub text_embedding: Option<String>,
}

impl ColumnOverrides {
    pub fn is_empty(&self) -> bool {
        *self == ColumnOverrides::default()
    }

    /// `self`'s choices, and `other`'s where `self` has none.
    pub fn or(&self, other: &ColumnOverrides) -> ColumnOverrides {
        let pick = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone());
        ColumnOverrides {
            id: pick(&self.id, &other.id),
            label: pick(&self.label, &other.label),
            text: pick(&self.text, &other.text),
            image: pick(&self.image, &other.image),
            image_embedding: pick(&self.image_embedding, &other.image_embedding),
            text_embedding: pick(&self.text_embedding, &other.text_embedding),
        }
    }
}

/// Everything beyond the path that shapes how a catalogue is read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct LoadOptions {
    pub columns: ColumnOverrides,
    /// The class table (`.parquet`, or a `classes.csv` with `class_embeddings.npy` beside it).
    pub classes: Option<PathBuf>,
}

/// The columns a table catalogue was read with.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    pub id: String,
    pub label: Option<String>,
    pub text: Option<String>,
    pub image: Option<String>,
    pub image_embedding: Option<String>,
    pub text_embedding: Option<String>,
}

impl Mapping {
    /// `(role, column)` for every role, in display order.
    pub fn roles(&self) -> [(&'static str, Option<&str>); 6] {
        [
            ("id", Some(self.id.as_str())),
            ("label", self.label.as_deref()),
            ("description", self.text.as_deref()),
            ("image", self.image.as_deref()),
            ("image embedding", self.image_embedding.as_deref()),
            ("text embedding", self.text_embedding.as_deref()),
        ]
    }

    pub fn as_overrides(&self) -> ColumnOverrides {
        ColumnOverrides {
            id: Some(self.id.clone()),
            label: self.label.clone(),
            text: self.text.clone(),
            image: self.image.clone(),
            image_embedding: self.image_embedding.clone(),
            text_embedding: self.text_embedding.clone(),
        }
    }
}

/// One column of one of the tables, for `inspect` and the app's mapping sheet.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnInfo {
    pub table: PathBuf,
    pub name: String,
    /// The Arrow type, as arrow-rs prints it.
    pub data_type: String,
}

/// A mapped column's fill: how many rows have no value (null, or an empty list).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnFill {
    pub role: String,
    pub column: String,
    pub missing: usize,
}

/// What a table catalogue was, beside the items it produced.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableInfo {
    /// The file or folder the user named.
    pub source: PathBuf,
    pub mapping: Mapping,
    /// One sentence per role: which column and why (detected, given, from the manifest).
    pub notes: Vec<String>,
    /// Every table with its row count.
    pub tables: Vec<(PathBuf, usize)>,
    pub columns: Vec<ColumnInfo>,
    pub fill: Vec<ColumnFill>,
    /// The class table as read.
    pub classes: PathBuf,
}
