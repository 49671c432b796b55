//! Agreement between the files' shapes, checked from the .npy headers alone so that a
//! mismatch is reported before any large array is read.

use super::npy::NpyFile;
use crate::{DatasetError, Modality};

fn file_name(npy: &NpyFile) -> String {
    npy.path()
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

pub(super) fn check(
    num_items: usize,
    num_classes: usize,
    classes: &NpyFile,
    modalities: &[(Modality, &NpyFile)],
) -> Result<(), DatasetError> {
    if classes.rows != num_classes {
        return Err(DatasetError::RowCountMismatch {
            path: classes.path().to_path_buf(),
            found: classes.rows,
            other: "classes.csv".into(),
            expected: num_classes,
        });
    }
    for (_, npy) in modalities {
        if npy.rows != num_items {
            return Err(DatasetError::RowCountMismatch {
                path: npy.path().to_path_buf(),
                found: npy.rows,
                other: "items.csv".into(),
                expected: num_items,
            });
        }
    }
    // Between the modalities first: with two of them disagreeing, blaming the classes would
    // point at the wrong file.
    if let [(_, first), (_, second)] = modalities
        && first.cols != second.cols
    {
        return Err(DatasetError::DimMismatch {
            path: second.path().to_path_buf(),
            found: second.cols,
            other: file_name(first),
            expected: first.cols,
        });
    }
    if let Some((_, npy)) = modalities.first()
        && npy.cols != classes.cols
    {
        return Err(DatasetError::DimMismatch {
            path: classes.path().to_path_buf(),
            found: classes.cols,
            other: file_name(npy),
            expected: npy.cols,
        });
    }
    Ok(())
}
