//! Errors a user can act on: each renders as one sentence naming the file, the place in it,
//! and what was expected versus found.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("{}: {message}", path.display())]
    File { path: PathBuf, message: String },
}

impl DatasetError {
    pub fn file(path: impl Into<PathBuf>, message: impl Into<String>) -> DatasetError {
        DatasetError::File {
            path: path.into(),
            message: message.into(),
        }
    }
}
