//! What the app's mapping sheet shows before anything is loaded: the first rows of the
//! primary table as text, and each column's null count from the files' statistics.

use std::fs::File;

use arrow_array::Array;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::file::statistics::Statistics;

use super::Plan;
use super::columns::{self, Kind};
use crate::DatasetError;

/// One column of the preview: its name, type and first values as text.
#[derive(Clone, Debug, PartialEq)]
pub struct PreviewColumn {
    pub table: std::path::PathBuf,
    pub name: String,
    pub kind: String,
    /// Nulls at the leaf level summed over row groups (for a list column, null and empty
    /// lists and null elements); `None` when a file has no statistics.
    pub nulls: Option<u64>,
    pub first: Vec<String>,
    /// Usable as an embedding; else as text.
    pub embedding: bool,
}

impl Plan {
    /// Every column of every table with its null count, and the first `rows` values of the
    /// first file of each table.
    pub fn preview(&self, rows: usize) -> Result<Vec<PreviewColumn>, DatasetError> {
        preview_tables(&self.tables, rows)
    }
}

/// `Plan::preview` for a catalogue whose columns could not be detected: what the user picks
/// from.
pub fn survey(
    source: &std::path::Path,
    options: &crate::dataset::LoadOptions,
    rows: usize,
) -> Result<Vec<PreviewColumn>, DatasetError> {
    let spec = super::spec(source, options)?;
    let tables = spec
        .tables
        .iter()
        .map(|t| super::table::Table::open(t, &spec.exclude))
        .collect::<Result<Vec<_>, _>>()?;
    preview_tables(&tables, rows)
}

fn preview_tables(
    tables: &[super::table::Table],
    rows: usize,
) -> Result<Vec<PreviewColumn>, DatasetError> {
    {
        let mut out = Vec::new();
        for table in tables {
            let f = &table.files[0];
            let file = File::open(&f.path).map_err(|e| DatasetError::io(&f.path, e))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
                DatasetError::file(
                    &f.path,
                    format!("{}.", super::table::describe_parquet_error(&e)),
                )
            })?;
            let mask = ProjectionMask::all();
            let reader = builder
                .with_projection(mask)
                .with_limit(rows)
                .with_batch_size(rows.max(1))
                .build()
                .map_err(|e| {
                    DatasetError::file(
                        &f.path,
                        format!("{}.", super::table::describe_parquet_error(&e)),
                    )
                })?;
            let batch = reader
                .into_iter()
                .next()
                .transpose()
                .map_err(|e| DatasetError::file(&f.path, format!("could not be read: {e}.")))?;
            for (c, field) in table.schema.fields().iter().enumerate() {
                let kind = Kind::of(field.data_type());
                let first = match &batch {
                    Some(b) => render(b.column(c).as_ref(), &kind),
                    None => Vec::new(),
                };
                out.push(PreviewColumn {
                    table: table.path.clone(),
                    name: field.name().clone(),
                    kind: field.data_type().to_string(),
                    nulls: null_count(table, c),
                    first,
                    embedding: kind.is_embedding(),
                });
            }
        }
        Ok(out)
    }
}

/// The null count of root column `c`'s first leaf, summed over every row group and file.
fn null_count(table: &super::table::Table, c: usize) -> Option<u64> {
    let mut total = 0u64;
    for f in &table.files {
        let meta = f.metadata();
        let leaf = meta
            .file_metadata()
            .schema_descr()
            .columns()
            .iter()
            .position(|col| col.path().parts().first() == Some(table.schema.field(c).name()))?;
        for rg in meta.row_groups() {
            let stats: &Statistics = rg.column(leaf).statistics()?;
            total += stats.null_count_opt()?;
        }
    }
    Some(total)
}

fn render(array: &dyn Array, kind: &Kind) -> Vec<String> {
    if kind.is_textual() {
        return columns::strings(array)
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.unwrap_or_else(|| "∅".into()))
            .collect();
    }
    (0..array.len())
        .map(|i| {
            if array.is_null(i) {
                return "∅".to_string();
            }
            match kind {
                Kind::Embedding { .. } => {
                    let row = array.slice(i, 1);
                    match columns::first_length(row.as_ref()) {
                        Some(n) => format!("[{n} floats]"),
                        None => "[]".into(),
                    }
                }
                _ => "…".into(),
            }
        })
        .collect()
}
