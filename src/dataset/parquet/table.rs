//! One logical table: a Parquet file or a folder of shards with one schema. Columns are read
//! with a projection, each row group on its own task, embeddings decoded straight into their
//! rows of one shared buffer.

use std::fs::File;
use std::path::{Path, PathBuf};

use arrow_schema::SchemaRef;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::errors::ParquetError;
use rayon::prelude::*;

use super::columns::{self, BadRow, Kind};
use super::levels;
use crate::dataset::LoadError;
use crate::{DatasetError, Monitor};

const BATCH_ROWS: usize = 8192;

/// One file of a table, its footer read.
#[derive(Clone, Debug)]
pub struct TableFile {
    pub path: PathBuf,
    meta: ArrowReaderMetadata,
    pub rows: usize,
}

/// A table's files (one, or the shards in name order) and their common schema.
#[derive(Clone, Debug)]
pub struct Table {
    /// The file or folder as named by the user or the manifest.
    pub path: PathBuf,
    pub files: Vec<TableFile>,
    pub schema: SchemaRef,
}

/// A column read in full, in table row order.
#[derive(Debug)]
pub enum Column {
    Strings(Vec<Option<String>>),
    Embeddings {
        dim: usize,
        data: Vec<f32>,
        present: Vec<bool>,
    },
}

/// What to read a column as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Strings,
    Embeddings,
}

/// One sentence for a Parquet error, naming what this build or the file lacks.
pub fn describe_parquet_error(e: &ParquetError) -> String {
    let text = e.to_string();
    const DISABLED: &str = "Disabled feature at compile time: ";
    if let Some(at) = text.find(DISABLED) {
        let codec: String = text[at + DISABLED.len()..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        return format!(
            "is compressed with {codec}, which this build cannot read (it reads snappy, zstd, lz4 and gzip); rewrite it with one of those codecs"
        );
    }
    if let ParquetError::NYI(what) = e {
        return format!("uses a Parquet feature this reader does not support ({what})");
    }
    format!("is not a readable Parquet file, or it is truncated or corrupt ({text})")
}

fn parquet_error(path: &Path, e: ParquetError) -> DatasetError {
    DatasetError::file(path, format!("{}.", describe_parquet_error(&e)))
}

impl TableFile {
    pub fn metadata(&self) -> &parquet::file::metadata::ParquetMetaData {
        self.meta.metadata()
    }

    pub fn open(path: &Path) -> Result<TableFile, DatasetError> {
        let file = File::open(path).map_err(|e| DatasetError::io(path, e))?;
        let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
            .map_err(|e| parquet_error(path, e))?;
        let len = file
            .metadata()
            .map_err(|e| DatasetError::io(path, e))?
            .len();
        check_layout(path, meta.metadata(), len)?;
        let rows = meta.metadata().file_metadata().num_rows().max(0) as usize;
        Ok(TableFile {
            path: path.to_path_buf(),
            meta,
            rows,
        })
    }
}

impl Table {
    /// A `.parquet` file, or every `.parquet` file of a folder except those in `exclude`.
    pub fn open(path: &Path, exclude: &[PathBuf]) -> Result<Table, DatasetError> {
        let paths = if path.is_dir() {
            let paths = shard_paths(path, exclude)?;
            if paths.is_empty() {
                return Err(DatasetError::file(
                    path,
                    "holds no .parquet files; a table folder holds the shards of one table.",
                ));
            }
            paths
        } else if path.exists() {
            vec![path.to_path_buf()]
        } else {
            return Err(DatasetError::MissingFile {
                path: path.to_path_buf(),
                why: "the catalogue names it as a table",
            });
        };
        let files = paths
            .par_iter()
            .map(|p| TableFile::open(p))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = files[0].meta.schema().clone();
        for f in &files[1..] {
            let other = f.meta.schema();
            let same = other.fields().len() == schema.fields().len()
                && other
                    .fields()
                    .iter()
                    .zip(schema.fields())
                    .all(|(a, b)| a.name() == b.name() && a.data_type() == b.data_type());
            if !same {
                return Err(DatasetError::file(
                    &f.path,
                    format!(
                        "has the columns {} but the first shard {} has {}; every shard of a table needs the same columns and types.",
                        describe_schema(other),
                        files[0].path.display(),
                        describe_schema(&schema)
                    ),
                ));
            }
        }
        Ok(Table {
            path: path.to_path_buf(),
            files,
            schema,
        })
    }

    pub fn rows(&self) -> usize {
        self.files.iter().map(|f| f.rows).sum()
    }

    pub fn has(&self, column: &str) -> bool {
        self.schema.field_with_name(column).is_ok()
    }

    pub fn kind(&self, column: &str) -> Option<Kind> {
        let f = self.schema.field_with_name(column).ok()?;
        Some(Kind::of(f.data_type()))
    }

    /// The name used in messages about `row` (0-based in the table): the file holding it,
    /// and the 1-based row within that file.
    pub fn place(&self, row: usize) -> (&Path, usize) {
        let mut start = 0;
        for f in &self.files {
            if row < start + f.rows {
                return (&f.path, row - start + 1);
            }
            start += f.rows;
        }
        (&self.path, row + 1)
    }

    /// Read `wanted` columns in full. Each row group is a task; progress advances by rows.
    pub fn read(
        &self,
        wanted: &[(&str, Want)],
        monitor: &Monitor,
    ) -> Result<Vec<Column>, LoadError> {
        keep_freed_pages();
        let indices: Vec<usize> = wanted
            .iter()
            .map(|(name, _)| self.schema.index_of(name).expect("checked by the caller"))
            .collect();
        let mut dims = Vec::with_capacity(wanted.len());
        for (name, want) in wanted {
            dims.push(match want {
                Want::Embeddings => self.probe_dim(name)?,
                Want::Strings => 0,
            });
        }

        struct Unit<'a> {
            file: &'a TableFile,
            group: usize,
            first_row: usize,
            rows: usize,
        }
        let mut units = Vec::new();
        let mut first_row = 0;
        for file in &self.files {
            for (group, rg) in file.meta.metadata().row_groups().iter().enumerate() {
                let rows = rg.num_rows().max(0) as usize;
                units.push(Unit {
                    file,
                    group,
                    first_row,
                    rows,
                });
                first_row += rows;
            }
        }
        let total = first_row;

        // One task per column and row group — two embedding columns keep two cores busy even
        // in a file written as a single row group — each writing its own disjoint slice of
        // the column's buffer.
        let mut buffers: Vec<(Vec<f32>, Vec<bool>)> = Vec::with_capacity(dims.len());
        for (&d, (name, _)) in dims.iter().zip(wanted) {
            if d == 0 {
                buffers.push((Vec::new(), Vec::new()));
                continue;
            }
            let data = total
                .checked_mul(d)
                .and_then(crate::dataset::try_zeroed_f32)
                .ok_or_else(|| {
                    DatasetError::file(
                        &self.path,
                        format!(
                            "column `{name}`: {total} rows of {d} elements are more than this machine's memory can hold (is the file's metadata damaged?)."
                        ),
                    )
                })?;
            buffers.push((data, vec![false; total]));
        }
        struct Task<'a, 'u> {
            column: usize,
            unit: &'u Unit<'a>,
            out: Option<(&'u mut [f32], &'u mut [bool])>,
        }
        let mut tasks: Vec<Task> = Vec::new();
        for (c, (data, present)) in buffers.iter_mut().enumerate() {
            let d = dims[c];
            let (mut data, mut present): (&mut [f32], &mut [bool]) = (data, present);
            for unit in &units {
                let out = if d == 0 {
                    None
                } else {
                    let (head, tail) = std::mem::take(&mut data).split_at_mut(unit.rows * d);
                    let (phead, ptail) = std::mem::take(&mut present).split_at_mut(unit.rows);
                    data = tail;
                    present = ptail;
                    Some((head, phead))
                };
                tasks.push(Task {
                    column: c,
                    unit,
                    out,
                });
            }
        }

        // float32/float64 lists take the direct path (see `levels`); f16 and other shapes
        // go through Arrow.
        let fast_leaf: Vec<Option<usize>> = wanted
            .iter()
            .map(|(name, want)| {
                let float = match self.kind(name) {
                    Some(Kind::Embedding { float, .. }) => float,
                    _ => return None,
                };
                if *want != Want::Embeddings || float == columns::Float::F16 {
                    return None;
                }
                let descr = self.files[0].meta.parquet_schema();
                let leaves: Vec<usize> = (0..descr.num_columns())
                    .filter(|&i| descr.get_column_root(i).name() == *name)
                    .collect();
                match leaves[..] {
                    [one] => Some(one),
                    _ => None,
                }
            })
            .collect();
        monitor.begin(
            crate::Stage::LoadEmbeddings,
            None,
            (total * wanted.len()) as u64,
        );
        let strings: Vec<Vec<Option<String>>> = tasks
            .into_par_iter()
            .map(|task| {
                monitor.check()?;
                let Task { column: c, unit, mut out } = task;
                let (name, want) = wanted[c];
                if let (Some((data, present)), Some(leaf)) = (&mut out, fast_leaf[c]) {
                    let d = dims[c];
                    match levels::read_float_lists(
                        &unit.file.path,
                        unit.group,
                        leaf,
                        d,
                        data,
                        present,
                        monitor,
                    ) {
                        Ok(true) => return Ok(Vec::new()),
                        Ok(false) => {}
                        Err(levels::Failure::Bad(b)) => {
                            return Err(self.bad_row(name, unit.first_row, d, b).into());
                        }
                        Err(levels::Failure::Parquet(e)) => {
                            return Err(parquet_error(&unit.file.path, e).into());
                        }
                        Err(levels::Failure::Cancelled) => {
                            return Err(crate::Cancelled.into());
                        }
                    }
                }
                let file = File::open(&unit.file.path)
                    .map_err(|e| DatasetError::io(&unit.file.path, e))?;
                let mask = ProjectionMask::roots(unit.file.meta.parquet_schema(), [indices[c]]);
                let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(
                    file,
                    unit.file.meta.clone(),
                )
                .with_projection(mask)
                .with_row_groups(vec![unit.group])
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| parquet_error(&unit.file.path, e))?;
                let mut strings: Vec<Option<String>> = Vec::new();
                let mut at = 0usize;
                for batch in reader {
                    monitor.check()?;
                    let batch = batch
                        .map_err(|e| parquet_error(&unit.file.path, ParquetError::from(e)))?;
                    let n = batch.num_rows();
                    let array = batch.column(0);
                    let base = unit.first_row + at;
                    match (want, &mut out) {
                        (Want::Embeddings, Some((data, present))) => {
                            let d = dims[c];
                            if at + n > present.len() {
                                return Err(self
                                    .bad(
                                        name,
                                        base,
                                        "holds more rows than its row group announces".into(),
                                    )
                                    .into());
                            }
                            columns::decode_embeddings(
                                array.as_ref(),
                                d,
                                &mut data[at * d..(at + n) * d],
                                &mut present[at..at + n],
                            )
                            .map_err(|b| self.bad_row(name, base, d, b))?;
                        }
                        (Want::Embeddings, None) => {
                            // No row of the column has a vector (dimension 0): all missing.
                            if let Some(len) = columns::first_length(array.as_ref()) {
                                return Err(self
                                    .bad(name, base, format!("a vector of {len} elements appears where earlier rows have none"))
                                    .into());
                            }
                        }
                        (Want::Strings, _) => {
                            let values = columns::strings(array.as_ref()).map_err(|t| {
                                self.bad(name, base, format!("holds {t}, not text"))
                            })?;
                            strings.extend(values);
                        }
                    }
                    at += n;
                    monitor.advance(n as u64);
                }
                if at != unit.rows {
                    return Err(self
                        .bad(name, base_row(unit.first_row, at), format!("the row group announces {} rows but holds {at}", unit.rows))
                        .into());
                }
                Ok(strings)
            })
            .collect::<Result<_, LoadError>>()?;

        let mut out = Vec::with_capacity(wanted.len());
        let mut buffers = buffers.into_iter();
        let mut strings = strings.into_iter();
        for (c, (_, want)) in wanted.iter().enumerate() {
            let (data, present) = buffers.next().expect("one buffer per column");
            let mine: Vec<Vec<Option<String>>> = strings.by_ref().take(units.len()).collect();
            out.push(match want {
                Want::Strings => Column::Strings(mine.into_iter().flatten().collect()),
                Want::Embeddings if dims[c] == 0 => Column::Embeddings {
                    dim: 0,
                    data: Vec::new(),
                    present: vec![false; total],
                },
                Want::Embeddings => Column::Embeddings {
                    dim: dims[c],
                    data,
                    present,
                },
            });
        }
        Ok(out)
    }

    /// The vector length of an embedding column: the declared one of a fixed-size list,
    /// else the length of the first row that has a vector. 0 when no row has one.
    fn probe_dim(&self, name: &str) -> Result<usize, DatasetError> {
        if let Some(Kind::Embedding {
            fixed: Some(n @ 1..),
            ..
        }) = self.kind(name)
        {
            return Ok(n);
        }
        let index = self.schema.index_of(name).expect("checked by the caller");
        for f in &self.files {
            let file = File::open(&f.path).map_err(|e| DatasetError::io(&f.path, e))?;
            let mask = ProjectionMask::roots(f.meta.parquet_schema(), [index]);
            let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, f.meta.clone())
                .with_projection(mask)
                .with_batch_size(BATCH_ROWS)
                .build()
                .map_err(|e| parquet_error(&f.path, e))?;
            for batch in reader {
                let batch = batch.map_err(|e| parquet_error(&f.path, ParquetError::from(e)))?;
                if let Some(d) = columns::first_length(batch.column(0).as_ref()) {
                    return Ok(d);
                }
            }
        }
        Ok(0)
    }

    fn bad(&self, column: &str, row: usize, what: String) -> DatasetError {
        let (path, row) = self.place(row);
        DatasetError::file(path, format!("row {row}, column `{column}`: {what}."))
    }

    fn bad_row(&self, column: &str, base: usize, d: usize, bad: BadRow) -> DatasetError {
        let at = |row: usize, what: String| {
            let (path, row) = self.place(base + row);
            DatasetError::file(path, format!("row {row}, column `{column}`: {what}."))
        };
        match bad {
            BadRow::Ragged { row, found } => at(
                row,
                format!(
                    "the vector has {found} elements but earlier rows have {d}; every embedding needs the same length"
                ),
            ),
            BadRow::NullElement { row, element } => at(
                row,
                format!(
                    "element {} of the vector is null; a vector must be complete (a missing view is a null or empty list)",
                    element + 1
                ),
            ),
            BadRow::NonFinite {
                row,
                element,
                value,
            } => at(
                row,
                format!(
                    "element {} of the vector is {value}; embeddings must be finite",
                    element + 1
                ),
            ),
            BadRow::Zero { row } => at(
                row,
                "every element of the vector is zero, so it has no direction to compare".into(),
            ),
            BadRow::NotFloat(t) => DatasetError::file(
                self.place(base).0,
                format!(
                    "column `{column}` holds {t}; an embedding column must be a list of float16, float32 or float64."
                ),
            ),
        }
    }
}

/// The Parquet reader allocates and frees a buffer or two per page (about 1 MB each); with
/// glibc's default, freed memory at the top of the heap is handed back to the kernel and the
/// next page faults in fresh zeroed (huge) pages — a quarter of the decoding time. Keeping
/// freed memory in the process (up to 256 MB) removes that.
fn keep_freed_pages() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            // SAFETY: mallopt only tunes the allocator's thresholds; any value is valid.
            unsafe {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
                libc::mallopt(libc::M_TRIM_THRESHOLD, 256 << 20);
            }
        });
    }
}

/// Every row group's rows and column chunks lie inside the file: the reader asserts (panics)
/// on some of these instead of returning an error.
fn check_layout(
    path: &Path,
    meta: &parquet::file::metadata::ParquetMetaData,
    file_len: u64,
) -> Result<(), DatasetError> {
    let damaged = |what: String| {
        DatasetError::file(
            path,
            format!("is not a readable Parquet file, or it is truncated or corrupt ({what})."),
        )
    };
    for (g, rg) in meta.row_groups().iter().enumerate() {
        if rg.num_rows() < 0 {
            return Err(damaged(format!(
                "row group {g} claims {} rows",
                rg.num_rows()
            )));
        }
        for (c, col) in rg.columns().iter().enumerate() {
            let start = col
                .dictionary_page_offset()
                .unwrap_or(col.data_page_offset());
            let size = col.compressed_size();
            let inside = start >= 0
                && size >= 0
                && (start as u64)
                    .checked_add(size as u64)
                    .is_some_and(|end| end <= file_len);
            if !inside {
                return Err(damaged(format!(
                    "column chunk {c} of row group {g} lies outside the file"
                )));
            }
        }
    }
    Ok(())
}

fn base_row(first: usize, at: usize) -> usize {
    first + at.saturating_sub(1)
}

fn shard_paths(dir: &Path, exclude: &[PathBuf]) -> Result<Vec<PathBuf>, DatasetError> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DatasetError::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| is_parquet(p) && !exclude.iter().any(|x| x == p))
        .collect();
    paths.sort();
    Ok(paths)
}

pub fn is_parquet(path: &Path) -> bool {
    path.is_file()
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
}

/// `name: type, …` for messages.
pub fn describe_schema(schema: &SchemaRef) -> String {
    schema
        .fields()
        .iter()
        .map(|f| format!("{}: {}", f.name(), f.data_type()))
        .collect::<Vec<_>>()
        .join(", ")
}
