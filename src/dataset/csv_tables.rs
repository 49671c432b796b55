//! The two CSV tables of a catalogue: `classes.csv` (`name,prompt`) and `items.csv`
//! (`id,description,image,label`). Columns are found by header name, so their order is free
//! and extra columns are ignored (with a warning naming them).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use csv::{ByteRecord, ErrorKind};

use super::{ClassInfo, Item, LoadError};
use crate::{ClassId, DatasetError, Monitor};

/// How many rows are parsed between progress updates and cancellation checks.
const ROWS_PER_UPDATE: u64 = 16_384;

/// How many offending rows an error or warning quotes.
pub(super) const EXAMPLES: usize = 3;

/// Where the required columns sit in a table, and which columns are extra.
struct Columns {
    index: Vec<usize>,
    extra: Vec<String>,
}

fn reader(bytes: &[u8]) -> csv::Reader<&[u8]> {
    // `flexible(false)` turns a ragged row into an error naming both field counts; the BOM is
    // stripped by csv itself.
    csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(bytes)
}

fn columns(
    path: &Path,
    reader: &mut csv::Reader<&[u8]>,
    required: &[&'static str],
) -> Result<Columns, DatasetError> {
    let header = reader
        .byte_headers()
        .map_err(|e| csv_error(path, e, 0))?
        .clone();
    let names: Vec<String> = header
        .iter()
        .map(|f| String::from_utf8_lossy(f).trim().to_string())
        .collect();
    let mut index = Vec::with_capacity(required.len());
    let mut missing = Vec::new();
    for &want in required {
        match names.iter().position(|n| n == want) {
            Some(i) => index.push(i),
            None => missing.push(format!("`{want}`")),
        }
    }
    if !missing.is_empty() {
        let found = if names.iter().all(|n| n.is_empty()) {
            "nothing".to_string()
        } else {
            names.join(",")
        };
        return Err(DatasetError::WrongHeader {
            path: path.to_path_buf(),
            expected: if required.len() == 2 {
                "name,prompt"
            } else {
                "id,description,image,label"
            },
            missing: english_list(&missing),
            found,
        });
    }
    let extra = names
        .iter()
        .enumerate()
        .filter(|(i, _)| !index.contains(i))
        .map(|(_, n)| n.clone())
        .collect();
    Ok(Columns { index, extra })
}

/// `a`, `a and b`, `a, b and c`.
fn english_list(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn extra_columns_warning(path: &Path, extra: &[String]) -> Option<String> {
    if extra.is_empty() {
        return None;
    }
    let names: Vec<String> = extra.iter().map(|n| format!("`{n}`")).collect();
    Some(format!(
        "{}: the extra column(s) {} are ignored.",
        file_name(path),
        english_list(&names)
    ))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

/// `row` is the 1-based data row being read when `e` happened.
fn csv_error(path: &Path, e: csv::Error, row: u64) -> DatasetError {
    let path = path.to_path_buf();
    let line = e.position().map_or(0, |p| p.line());
    if let ErrorKind::UnequalLengths {
        expected_len, len, ..
    } = *e.kind()
    {
        return DatasetError::RaggedRow {
            path,
            row,
            line,
            expected: expected_len,
            found: len,
        };
    }
    let message = e.to_string();
    match e.into_kind() {
        ErrorKind::Io(source) => DatasetError::Io { path, source },
        _ => DatasetError::Csv {
            path,
            line,
            message,
        },
    }
}

/// One data row being decoded: its place in the file, for error messages.
struct Row<'a> {
    path: &'a Path,
    record: &'a ByteRecord,
    row: u64,
    line: u64,
}

impl Row<'_> {
    fn text(&self, index: usize, column: &str) -> Result<&str, DatasetError> {
        let bytes = self.record.get(index).unwrap_or_default();
        std::str::from_utf8(bytes).map_err(|e| DatasetError::InvalidUtf8 {
            path: self.path.to_path_buf(),
            row: self.row,
            line: self.line,
            column: column.to_string(),
            valid_up_to: e.valid_up_to(),
        })
    }

    fn non_empty(&self, index: usize, column: &'static str) -> Result<&str, DatasetError> {
        let text = self.text(index, column)?;
        if text.trim().is_empty() {
            return Err(DatasetError::EmptyField {
                path: self.path.to_path_buf(),
                row: self.row,
                line: self.line,
                column,
            });
        }
        Ok(text)
    }
}

/// Parse `classes.csv` (whose bytes are `bytes`), returning the classes and any warnings.
pub(super) fn read_classes(
    path: &Path,
    bytes: &[u8],
) -> Result<(Vec<ClassInfo>, Vec<String>), DatasetError> {
    let mut reader = reader(bytes);
    let cols = columns(path, &mut reader, &["name", "prompt"])?;
    let mut classes = Vec::new();
    let mut record = ByteRecord::new();
    let mut row = 0;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => row += 1,
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e, row + 1)),
        }
        let r = Row {
            path,
            record: &record,
            row,
            line: record.position().map_or(0, |p| p.line()),
        };
        classes.push(ClassInfo {
            name: r.non_empty(cols.index[0], "name")?.trim().to_string(),
            prompt: r.text(cols.index[1], "prompt")?.to_string(),
        });
    }
    if classes.len() < 2 {
        return Err(DatasetError::TooFewClasses {
            path: path.to_path_buf(),
            found: classes.len(),
        });
    }
    first_duplicate(path, "class name", classes.iter().map(|c| c.name.as_str()))?;
    let warnings = extra_columns_warning(path, &cols.extra)
        .into_iter()
        .collect();
    Ok((classes, warnings))
}

/// Parse `items.csv` (whose bytes are `bytes`) against `classes`, advancing `monitor` by bytes.
pub(super) fn read_items(
    path: &Path,
    bytes: &[u8],
    classes: &[ClassInfo],
    monitor: &Monitor,
) -> Result<(Vec<Item>, Vec<String>), LoadError> {
    let mut reader = reader(bytes);
    let cols = columns(path, &mut reader, &["id", "description", "image", "label"])?;
    let class_of: HashMap<&str, ClassId> = classes
        .iter()
        .enumerate()
        .map(|(c, info)| (info.name.as_str(), c))
        .collect();

    let mut items = Vec::new();
    let mut unknown: Vec<(u64, String)> = Vec::new();
    let mut unknown_count = 0usize;
    let mut record = ByteRecord::new();
    let mut row = 0u64;
    let mut bytes_reported = 0u64;
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => row += 1,
            Ok(false) => break,
            Err(e) => return Err(csv_error(path, e, row + 1).into()),
        }
        let r = Row {
            path,
            record: &record,
            row,
            line: record.position().map_or(0, |p| p.line()),
        };
        let id = r.non_empty(cols.index[0], "id")?.to_string();
        let description = r.text(cols.index[1], "description")?.to_string();
        let image = r.text(cols.index[2], "image")?.trim();
        let image = (!image.is_empty()).then(|| PathBuf::from(image));
        let label_text = r.text(cols.index[3], "label")?.trim();
        let label = if label_text.is_empty() {
            None
        } else if let Some(&c) = class_of.get(label_text) {
            Some(c)
        } else {
            unknown_count += 1;
            if unknown.len() < EXAMPLES {
                unknown.push((row, label_text.to_string()));
            }
            None
        };
        items.push(Item {
            id,
            description,
            image,
            label,
        });
        if row.is_multiple_of(ROWS_PER_UPDATE) {
            monitor.check()?;
            let at = record.position().map_or(bytes_reported, |p| p.byte());
            monitor.advance(at.saturating_sub(bytes_reported));
            bytes_reported = at;
        }
    }
    monitor.advance((bytes.len() as u64).saturating_sub(bytes_reported));

    if items.is_empty() {
        return Err(DatasetError::Empty {
            path: path.to_path_buf(),
        }
        .into());
    }
    first_duplicate(path, "id", items.iter().map(|it| it.id.as_str()))?;
    if unknown_count > 0 {
        let examples: Vec<String> = unknown
            .iter()
            .map(|(row, label)| format!("row {row}: \"{label}\""))
            .collect();
        return Err(DatasetError::UnknownLabels {
            path: path.to_path_buf(),
            count: unknown_count,
            examples: examples.join(", "),
        }
        .into());
    }
    let warnings = extra_columns_warning(path, &cols.extra)
        .into_iter()
        .collect();
    Ok((items, warnings))
}

/// Error on the first value (in row order) that repeats an earlier one.
pub(super) fn first_duplicate<'a>(
    path: &Path,
    what: &'static str,
    values: impl ExactSizeIterator<Item = &'a str>,
) -> Result<(), DatasetError> {
    let mut seen: HashMap<&str, u64> = HashMap::with_capacity(values.len());
    for (i, v) in values.enumerate() {
        let row = i as u64 + 1;
        if let Some(&first) = seen.get(v) {
            return Err(DatasetError::Duplicate {
                path: path.to_path_buf(),
                what,
                value: v.to_string(),
                first,
                second: row,
            });
        }
        seen.insert(v, row);
    }
    Ok(())
}
