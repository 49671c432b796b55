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
    /// Every column as UTF-8 text (needs the `parquet` feature).
    #[cfg(feature = "parquet")]
    Parquet,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Option<ExportFormat> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(ExportFormat::Csv),
            "json" => Some(ExportFormat::Json),
            #[cfg(feature = "parquet")]
            "parquet" => Some(ExportFormat::Parquet),
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

impl ItemsTable {
    /// The item columns of a loaded catalogue (a table catalogue has no items.csv), named
    /// as in its tables so that corrections are keyed by its own id column.
    fn of_dataset(ds: &crate::Dataset) -> ItemsTable {
        let mapping = ds.table.as_ref().map(|t| t.mapping.clone());
        let name = |col: Option<&str>, default: &str| col.unwrap_or(default).to_string();
        let m = mapping.as_ref();
        let headers = csv::StringRecord::from(vec![
            name(m.map(|m| m.id.as_str()), "id"),
            name(m.and_then(|m| m.text.as_deref()), "description"),
            name(m.and_then(|m| m.image.as_deref()), "image"),
            name(m.and_then(|m| m.label.as_deref()), "label"),
        ]);
        let rows = ds
            .items
            .iter()
            .map(|it| {
                let image = it.image.as_ref().map(|p| p.to_string_lossy().into_owned());
                csv::StringRecord::from(vec![
                    it.id.clone(),
                    it.description.clone(),
                    image.unwrap_or_default(),
                    it.label
                        .map(|c| ds.class_name(c).to_string())
                        .unwrap_or_default(),
                ])
            })
            .collect();
        ItemsTable {
            headers,
            rows,
            id_col: 0,
            label_col: 3,
        }
    }
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
    write_export(&table, history, out, format, all_items)
}

/// `export` for a loaded catalogue of any kind: the corrections keyed by its id column, or
/// its item columns (not the embeddings) with the corrected labels.
pub fn export_dataset(
    ds: &crate::Dataset,
    history: &History,
    out: &Path,
    format: ExportFormat,
    all_items: bool,
) -> Result<usize, ExportError> {
    refuse_inputs(&ds.root, out)?;
    // A table, the class table, or a new file inside a shard folder (it would become a shard).
    let resolved = out
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .and_then(|p| p.canonicalize().ok())
        .zip(out.file_name())
        .map(|(dir, name)| dir.join(name));
    if let (Some(t), Some(o)) = (&ds.table, resolved)
        && t.tables
            .iter()
            .map(|(p, _)| p)
            .chain([&t.classes])
            .filter_map(|p| p.canonicalize().ok())
            .any(|p| p == o || o.starts_with(&p))
    {
        return Err(ExportError::WouldOverwriteInput {
            path: out.to_path_buf(),
        });
    }
    write_export(&ItemsTable::of_dataset(ds), history, out, format, all_items)
}

fn write_export(
    table: &ItemsTable,
    history: &History,
    out: &Path,
    format: ExportFormat,
    all_items: bool,
) -> Result<usize, ExportError> {
    let write_err = |source| ExportError::Write {
        path: out.to_path_buf(),
        source,
    };
    if !all_items {
        let rows = corrections_of(table, history);
        let key = table.headers.get(table.id_col).unwrap_or("id");
        let header = [
            key,
            "old_label",
            "new_label",
            "decision",
            "source",
            "timestamp",
        ];
        let records: Vec<csv::StringRecord> = rows
            .iter()
            .map(|r| {
                csv::StringRecord::from(vec![
                    r.id.as_str(),
                    &r.old_label,
                    &r.new_label,
                    &r.decision,
                    &r.source,
                    &r.timestamp,
                ])
            })
            .collect();
        let bytes = encode(&csv::StringRecord::from(header.to_vec()), &records, format)
            .map_err(write_err)?;
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
    let bytes = encode(&table.headers, &corrected, format).map_err(write_err)?;
    write_atomic(out, |w| w.write_all(&bytes)).map_err(|e| write_err(e.source))?;
    Ok(corrected.len())
}

/// `rows` under `headers` in `format`; JSON as one object per row keyed by the headers.
fn encode(
    headers: &csv::StringRecord,
    rows: &[csv::StringRecord],
    format: ExportFormat,
) -> std::io::Result<Vec<u8>> {
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(headers)?;
            for r in rows {
                w.write_record(r)?;
            }
            w.into_inner().map_err(|e| e.into_error())
        }
        ExportFormat::Json => {
            let objects: Vec<serde_json::Map<String, serde_json::Value>> = rows
                .iter()
                .map(|r| {
                    headers
                        .iter()
                        .zip(r.iter())
                        .map(|(h, v)| (h.to_string(), serde_json::Value::from(v)))
                        .collect()
                })
                .collect();
            Ok(serde_json::to_vec_pretty(&objects)?)
        }
        #[cfg(feature = "parquet")]
        ExportFormat::Parquet => parquet_bytes(headers, rows),
    }
}

/// A Parquet file of UTF-8 columns, snappy-compressed (what pyarrow writes by default).
#[cfg(feature = "parquet")]
fn parquet_bytes(
    headers: &csv::StringRecord,
    rows: &[csv::StringRecord],
) -> std::io::Result<Vec<u8>> {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use arrow_schema::{DataType, Field, Schema};
    use parquet::arrow::ArrowWriter;
    use parquet::basic::Compression;
    use parquet::file::properties::WriterProperties;

    let fields: Vec<Field> = headers
        .iter()
        .map(|h| Field::new(h, DataType::Utf8, false))
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let columns: Vec<ArrayRef> = (0..headers.len())
        .map(|c| {
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.get(c).unwrap_or("")),
            )) as ArrayRef
        })
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), columns).map_err(std::io::Error::other)?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut buf = Vec::new();
    let mut w =
        ArrowWriter::try_new(&mut buf, schema, Some(props)).map_err(std::io::Error::other)?;
    w.write(&batch).map_err(std::io::Error::other)?;
    w.close().map_err(std::io::Error::other)?;
    Ok(buf)
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
