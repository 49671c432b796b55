//! Export of review results: the corrections alone, or a full copy of items.csv with the
//! corrected labels. Reads items.csv itself (not the embeddings) so that exporting a large
//! catalogue is cheap, and writes atomically without ever replacing an input file.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::decision::rfc3339;
use super::history::{History, ReviewStatus};
use crate::atomic_file::write_atomic;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            _ => None,
        }
    }

    /// From a file name's extension, for the save dialog.
    pub fn from_path(p: &Path) -> Option<ExportFormat> {
        p.extension()
            .and_then(|e| e.to_str())
            .and_then(ExportFormat::parse)
    }
}

/// One changed label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Correction {
    pub id: String,
    pub old_label: String,
    pub new_label: String,
    pub decision: String,
    pub source: String,
    pub timestamp: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{}: {message}", path.display())]
    Input { path: PathBuf, message: String },
    #[error("refusing to export to {}: it is an input file of the dataset", path.display())]
    WouldOverwriteInput { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// items.csv as plain records: enough to export without loading embeddings.
struct ItemsTable {
    headers: csv::StringRecord,
    rows: Vec<csv::StringRecord>,
    id_col: usize,
    label_col: usize,
}

fn read_items(root: &Path) -> Result<ItemsTable, ExportError> {
    let path = root.join("items.csv");
    let input = |message: String| ExportError::Input {
        path: path.clone(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .from_path(&path)
        .map_err(|e| input(e.to_string()))?;
    let mut headers = reader.headers().map_err(|e| input(e.to_string()))?.clone();
    // A UTF-8 byte-order mark would otherwise become part of the first column's name.
    if let Some(first) = headers.get(0)
        && let Some(stripped) = first.strip_prefix('\u{feff}')
    {
        let mut fixed = csv::StringRecord::new();
        fixed.push_field(stripped);
        headers.iter().skip(1).for_each(|h| fixed.push_field(h));
        headers = fixed;
    }
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .ok_or_else(|| input(format!("the header has no `{name}` column")))
    };
    let (id_col, label_col) = (col("id")?, col("label")?);
    let rows = reader
        .records()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| input(e.to_string()))?;
    Ok(ItemsTable {
        headers,
        rows,
        id_col,
        label_col,
    })
}

/// The corrections the history holds for the dataset in `root`, in items.csv order: one per
/// item whose effective decision gives it a label different from its annotation.
pub fn corrections(root: &Path, history: &History) -> Result<Vec<Correction>, ExportError> {
    let table = read_items(root)?;
    Ok(corrections_of(&table, history))
}

fn corrections_of(table: &ItemsTable, history: &History) -> Vec<Correction> {
    table
        .rows
        .iter()
        .filter_map(|row| {
            let id = row.get(table.id_col)?;
            let old = row.get(table.label_col).unwrap_or("");
            let review = history.get(id)?;
            let new = review.label.as_deref()?;
            (review.status == ReviewStatus::Relabeled && new != old).then(|| Correction {
                id: id.to_string(),
                old_label: old.to_string(),
                new_label: new.to_string(),
                decision: "relabel".into(),
                source: review.source.map(|s| s.name()).unwrap_or("manual").into(),
                timestamp: rfc3339(review.time),
            })
        })
        .collect()
}

/// Write the export to `out`; returns the number of rows written.
pub fn export(
    root: &Path,
    history: &History,
    out: &Path,
    format: ExportFormat,
    all_items: bool,
) -> Result<usize, ExportError> {
    refuse_inputs(root, out)?;
    let table = read_items(root)?;
    let write_err = |source| ExportError::Write {
        path: out.to_path_buf(),
        source,
    };
    if !all_items {
        let rows = corrections_of(&table, history);
        let bytes = match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(Vec::new());
                if rows.is_empty() {
                    w.write_record([
                        "id",
                        "old_label",
                        "new_label",
                        "decision",
                        "source",
                        "timestamp",
                    ])
                    .map_err(|e| write_err(e.into()))?;
                }
                for r in &rows {
                    w.serialize(r).map_err(|e| write_err(e.into()))?;
                }
                w.into_inner().map_err(|e| write_err(e.into_error()))?
            }
            ExportFormat::Json => {
                serde_json::to_vec_pretty(&rows).map_err(|e| write_err(e.into()))?
            }
        };
        write_atomic(out, |w| w.write_all(&bytes)).map_err(|e| write_err(e.source))?;
        return Ok(rows.len());
    }
    let corrected: Vec<csv::StringRecord> = table
        .rows
        .iter()
        .map(|row| {
            let mut fixed = csv::StringRecord::new();
            let new_label = row
                .get(table.id_col)
                .and_then(|id| history.get(id))
                .filter(|r| r.status == ReviewStatus::Relabeled)
                .and_then(|r| r.label.clone());
            for (c, field) in row.iter().enumerate() {
                match (&new_label, c == table.label_col) {
                    (Some(l), true) => fixed.push_field(l),
                    _ => fixed.push_field(field),
                }
            }
            fixed
        })
        .collect();
    let bytes = match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(&table.headers)
                .map_err(|e| write_err(e.into()))?;
            for r in &corrected {
                w.write_record(r).map_err(|e| write_err(e.into()))?;
            }
            w.into_inner().map_err(|e| write_err(e.into_error()))?
        }
        ExportFormat::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = corrected
                .iter()
                .map(|r| {
                    table
                        .headers
                        .iter()
                        .zip(r.iter())
                        .map(|(h, v)| (h.to_string(), serde_json::Value::from(v)))
                        .collect()
                })
                .collect();
            serde_json::to_vec_pretty(&objects).map_err(|e| write_err(e.into()))?
        }
    };
    write_atomic(out, |w| w.write_all(&bytes)).map_err(|e| write_err(e.source))?;
    Ok(corrected.len())
}

/// An export must never replace a file the dataset is made of.
fn refuse_inputs(root: &Path, out: &Path) -> Result<(), ExportError> {
    let Some(name) = out.file_name() else {
        return Ok(());
    };
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let (Ok(out_dir), Ok(root)) = (parent.canonicalize(), root.canonicalize()) else {
        return Ok(());
    };
    let inputs = [
        "items.csv",
        "classes.csv",
        "image_embeddings.npy",
        "text_embeddings.npy",
        "class_embeddings.npy",
    ];
    let in_log_dir = out_dir == root.join(".pairwise-audit") && name == "decisions.jsonl";
    if (out_dir == root && inputs.iter().any(|i| name == *i)) || in_log_dir {
        return Err(ExportError::WouldOverwriteInput {
            path: out.to_path_buf(),
        });
    }
    Ok(())
}
