//! The options every command that reads a catalogue shares: which column of a Parquet
//! catalogue plays which role, and where its class table is.

use std::path::PathBuf;

use clap::Args;
use pairwise_audit::Dataset;
use pairwise_audit::dataset::{ColumnOverrides, LoadOptions};

#[derive(Clone, Debug, Default, Args)]
pub struct ColumnArgs {
    /// Parquet: the id column [default: detected, `id` or `*_id`].
    #[arg(long, value_name = "COLUMN")]
    pub id_column: Option<String>,
    /// Parquet: the annotation column [default: detected, `label`/`category`/`class`].
    #[arg(long, value_name = "COLUMN")]
    pub label_column: Option<String>,
    /// Parquet: the description column [default: detected, e.g. `description`, `title`].
    #[arg(long, value_name = "COLUMN")]
    pub text_column: Option<String>,
    /// Parquet: the image path or URL column [default: detected, e.g. `image`, `image_url`].
    #[arg(long, value_name = "COLUMN")]
    pub image_column: Option<String>,
    /// Parquet: the image embedding column [default: the float-list column named like image].
    #[arg(long, value_name = "COLUMN")]
    pub image_embedding_column: Option<String>,
    /// Parquet: the text embedding column [default: the float-list column named like text].
    #[arg(long, value_name = "COLUMN")]
    pub text_embedding_column: Option<String>,
    /// Parquet: the class table (.parquet with name, prompt and an embedding column, or a
    /// classes.csv with class_embeddings.npy beside it) [default: classes.parquet or
    /// classes.csv beside the items].
    #[arg(long, value_name = "FILE")]
    pub classes: Option<PathBuf>,
}

impl ColumnArgs {
    pub fn options(&self) -> LoadOptions {
        LoadOptions {
            columns: ColumnOverrides {
                id: self.id_column.clone(),
                label: self.label_column.clone(),
                text: self.text_column.clone(),
                image: self.image_column.clone(),
                image_embedding: self.image_embedding_column.clone(),
                text_embedding: self.text_embedding_column.clone(),
            },
            classes: self.classes.clone(),
        }
    }
}

/// Tell the user which columns a table catalogue was read with (on stderr).
pub fn say_mapping(ds: &Dataset) {
    if let Some(t) = &ds.table {
        eprintln!("read {} as Parquet tables:", t.source.display());
        for note in &t.notes {
            eprintln!("  {note}");
        }
    }
}
