//! Errors a user can act on: each renders as one sentence naming the file, the place in it,
//! and what was expected versus found.
//!
//! Places follow one convention everywhere (see `docs/dataset-format.md`): rows count from 1 and
//! exclude the CSV header, so items.csv row r belongs to row r of each .npy file (NumPy index
//! r − 1); CSV messages add the file line because quoted fields may span lines; .npy columns
//! count from 1 and the NumPy index is given beside them.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: the dataset folder does not exist or is not a folder.", path.display())]
    NotAFolder { path: PathBuf },

    #[error("{}: file not found; {why}.", path.display())]
    MissingFile { path: PathBuf, why: &'static str },

    #[error(
        "{}: neither image_embeddings.npy nor text_embeddings.npy is present; at least one modality is needed.",
        folder.display()
    )]
    NoEmbeddings { folder: PathBuf },

    #[error("{}: could not be read: {source}.", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: the header must name the columns {expected}, but it lacks {missing} (found: {found}).", path.display())]
    WrongHeader {
        path: PathBuf,
        expected: &'static str,
        missing: String,
        found: String,
    },

    #[error("{}, row {row} (line {line}): expected {expected} fields as in the header, found {found}.", path.display())]
    RaggedRow {
        path: PathBuf,
        row: u64,
        line: u64,
        expected: u64,
        found: u64,
    },

    #[error("{}, row {row} (line {line}), column {column}: the text is not valid UTF-8 (valid up to byte {valid_up_to} of the field).", path.display())]
    InvalidUtf8 {
        path: PathBuf,
        /// 0 for the header.
        row: u64,
        line: u64,
        column: String,
        valid_up_to: usize,
    },

    #[error("{}, line {line}: not readable as CSV: {message}.", path.display())]
    Csv {
        path: PathBuf,
        line: u64,
        message: String,
    },

    #[error("{}, row {row} (line {line}): the {column} is empty; every row needs one.", path.display())]
    EmptyField {
        path: PathBuf,
        row: u64,
        line: u64,
        column: &'static str,
    },

    #[error("{}: {what} `{value}` appears in row {first} and again in row {second}; they must be unique.", path.display())]
    Duplicate {
        path: PathBuf,
        what: &'static str,
        value: String,
        first: u64,
        second: u64,
    },

    #[error("{}: {count} row(s) have a label that is not a class name in classes.csv, e.g. {examples}.", path.display())]
    UnknownLabels {
        path: PathBuf,
        count: usize,
        /// A few `row r: "label"` examples.
        examples: String,
    },

    #[error("{}: holds no data rows; a dataset needs at least one item.", path.display())]
    Empty { path: PathBuf },

    #[error("{}: holds {found} class(es); at least 2 are needed to compare classes.", path.display())]
    TooFewClasses { path: PathBuf, found: usize },

    #[error("{}: is not a .npy file ({reason}).", path.display())]
    NotNpy { path: PathBuf, reason: String },

    #[error("{}: the file is truncated inside its .npy header (it ends after {len} bytes).", path.display())]
    TruncatedHeader { path: PathBuf, len: u64 },

    #[error("{}: the file is truncated: the header announces {expected} bytes of data, the file holds {found}.", path.display())]
    Truncated {
        path: PathBuf,
        expected: u64,
        found: u64,
    },

    #[error("{}: the file holds {extra} bytes after the {expected} bytes of data its header announces.", path.display())]
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        extra: u64,
    },

    #[error("{}: the array has dtype {found}; expected float32, float16 or float64.", path.display())]
    WrongDtype { path: PathBuf, found: String },

    #[error("{}: the array has shape {found}; expected a 2-D array (rows, dimensions) with at least one dimension.", path.display())]
    WrongShape { path: PathBuf, found: String },

    #[error("{}: has {found} rows but {other} has {expected}; row r of the array must belong to row r of {other}.", path.display())]
    RowCountMismatch {
        path: PathBuf,
        found: usize,
        other: String,
        expected: usize,
    },

    #[error("{}: has {found} dimensions (columns) but {other} has {expected}; all embeddings must share one dimension.", path.display())]
    DimMismatch {
        path: PathBuf,
        found: usize,
        other: String,
        expected: usize,
    },

    #[error("{}, row {row}, column {column} (NumPy index [{}, {}]): the value is {value}; embeddings must be finite.", path.display(), row.saturating_sub(1), column.saturating_sub(1))]
    NonFinite {
        path: PathBuf,
        row: usize,
        column: usize,
        value: f32,
    },

    #[error("{}, row {row} (NumPy index {}): every value is zero, so the row has no direction to compare.", path.display(), row.saturating_sub(1))]
    ZeroRow { path: PathBuf, row: usize },

    /// Any other problem with a file, already phrased as the rest of a sentence.
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

impl DatasetError {
    /// The file or folder the error is about.
    pub fn path(&self) -> &Path {
        match self {
            DatasetError::NotAFolder { path }
            | DatasetError::MissingFile { path, .. }
            | DatasetError::Io { path, .. }
            | DatasetError::WrongHeader { path, .. }
            | DatasetError::RaggedRow { path, .. }
            | DatasetError::InvalidUtf8 { path, .. }
            | DatasetError::Csv { path, .. }
            | DatasetError::EmptyField { path, .. }
            | DatasetError::Duplicate { path, .. }
            | DatasetError::UnknownLabels { path, .. }
            | DatasetError::Empty { path }
            | DatasetError::TooFewClasses { path, .. }
            | DatasetError::NotNpy { path, .. }
            | DatasetError::Truncated { path, .. }
            | DatasetError::TruncatedHeader { path, .. }
            | DatasetError::TrailingBytes { path, .. }
            | DatasetError::WrongDtype { path, .. }
            | DatasetError::WrongShape { path, .. }
            | DatasetError::RowCountMismatch { path, .. }
            | DatasetError::DimMismatch { path, .. }
            | DatasetError::NonFinite { path, .. }
            | DatasetError::ZeroRow { path, .. }
            | DatasetError::File { path, .. } => path,
            DatasetError::NoEmbeddings { folder } => folder,
        }
    }

    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> DatasetError {
        DatasetError::File {
            path: path.into(),
            message: message.into(),
        }
    }

    pub(crate) fn io(path: &Path, source: std::io::Error) -> DatasetError {
        DatasetError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
