//! The class table of a table catalogue: a Parquet table with `name`, `prompt` and an
//! embedding column (or a `.npy` beside it), or the folder layout's `classes.csv` with
//! `class_embeddings.npy`.

use std::path::{Path, PathBuf};

use ndarray::Array2;

use super::columns::Kind;
use super::manifest::ClassSpec;
use super::table::{Column, Table, Want};
use crate::dataset::{ClassInfo, LoadError, csv_tables, npy, read_file};
use crate::{DatasetError, Monitor};

const NAME_COLUMNS: &[&str] = &["name", "class", "label", "class_name", "category"];
const PROMPT_COLUMNS: &[&str] = &["prompt", "text", "description"];

/// Where the class table is when nothing names it: `classes.parquet` or `classes.csv` in `dir`.
pub fn default_spec(dir: &Path) -> Option<ClassSpec> {
    ["classes.parquet", "classes.csv"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .map(|table| ClassSpec {
            table,
            ..ClassSpec::default()
        })
}

pub fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// The classes, their `C × d` embeddings and the warnings of reading them.
pub struct ClassTable {
    pub classes: Vec<ClassInfo>,
    pub embeddings: Array2<f32>,
    pub warnings: Vec<String>,
}

/// Read the class table `spec` names.
pub fn load(spec: &ClassSpec, monitor: &Monitor) -> Result<ClassTable, LoadError> {
    let npy_beside = |table: &Path| -> PathBuf {
        table
            .parent()
            .unwrap_or(Path::new("."))
            .join(crate::dataset::CLASS_EMBEDDINGS_FILE)
    };
    if is_csv(&spec.table) {
        let (classes, warnings) = csv_tables::read_classes(&spec.table, &read_file(&spec.table)?)?;
        let npy_path = spec.npy.clone().unwrap_or_else(|| npy_beside(&spec.table));
        let embeddings = read_npy(&npy_path, classes.len(), &spec.table, monitor)?;
        return Ok(ClassTable {
            classes,
            embeddings,
            warnings,
        });
    }

    let table = Table::open(&spec.table, &[])?;
    let find = |given: &Option<String>, names: &[&str], role: &str| {
        if let Some(name) = given {
            if table.kind(name).is_some_and(|k| k.is_textual()) {
                return Ok(Some(name.clone()));
            }
            return Err(DatasetError::file(
                &table.path,
                format!("has no text column `{name}` for the class {role}."),
            ));
        }
        Ok(names
            .iter()
            .find_map(|n| {
                table.schema.fields().iter().find(|f| {
                    f.name().eq_ignore_ascii_case(n) && Kind::of(f.data_type()).is_textual()
                })
            })
            .map(|f| f.name().clone()))
    };
    let Some(name_col) = find(&spec.name, NAME_COLUMNS, "names")? else {
        return Err(DatasetError::file(
            &table.path,
            "has no class name column (text named `name`, `class` or `label`).",
        )
        .into());
    };
    let prompt_col = find(&spec.prompt, PROMPT_COLUMNS, "prompts")?;
    let embedding_col = match &spec.embedding {
        Some(name) => {
            if !table.kind(name).is_some_and(|k| k.is_embedding()) {
                return Err(DatasetError::file(
                    &table.path,
                    format!(
                        "has no embedding column `{name}` (a list of float16, float32 or float64)."
                    ),
                )
                .into());
            }
            Some(name.clone())
        }
        None if spec.npy.is_some() => None,
        None => {
            let lists: Vec<&String> = table
                .schema
                .fields()
                .iter()
                .filter(|f| Kind::of(f.data_type()).is_embedding())
                .map(|f| f.name())
                .collect();
            match lists[..] {
                [] => None,
                [one] => Some(one.clone()),
                _ => lists
                    .iter()
                    .find(|n| n.eq_ignore_ascii_case("embedding"))
                    .map(|n| n.to_string())
                    .or(Some(lists[0].clone())),
            }
        }
    };

    let mut wanted = vec![(name_col.as_str(), Want::Strings)];
    if let Some(p) = &prompt_col {
        wanted.push((p.as_str(), Want::Strings));
    }
    if let Some(e) = &embedding_col {
        wanted.push((e.as_str(), Want::Embeddings));
    }
    let mut cols = table.read(&wanted, monitor)?.into_iter();
    let Some(Column::Strings(names)) = cols.next() else {
        unreachable!("names are read as strings")
    };
    let prompts = match prompt_col {
        Some(_) => match cols.next() {
            Some(Column::Strings(p)) => p,
            _ => unreachable!("prompts are read as strings"),
        },
        None => vec![None; names.len()],
    };
    let mut classes = Vec::with_capacity(names.len());
    for (r, (name, prompt)) in names.into_iter().zip(prompts).enumerate() {
        let name = name.map(|n| n.trim().to_string()).unwrap_or_default();
        if name.is_empty() {
            let (path, row) = table.place(r);
            return Err(DatasetError::file(
                path,
                format!("row {row}, column `{name_col}`: the class name is empty; every class needs one."),
            )
            .into());
        }
        classes.push(ClassInfo {
            name,
            prompt: prompt.unwrap_or_default(),
        });
    }
    if classes.len() < 2 {
        return Err(DatasetError::TooFewClasses {
            path: table.path.clone(),
            found: classes.len(),
        }
        .into());
    }
    csv_tables::first_duplicate(
        &table.path,
        "class name",
        classes.iter().map(|c| c.name.as_str()),
    )?;

    let embeddings = match cols.next() {
        Some(Column::Embeddings { dim, data, present }) => {
            if let Some(r) = present.iter().position(|p| !p) {
                let (path, row) = table.place(r);
                return Err(DatasetError::file(
                    path,
                    format!(
                        "row {row}, column `{}`: the class `{}` has no embedding; every class needs one.",
                        embedding_col.as_deref().unwrap_or_default(),
                        classes[r].name
                    ),
                )
                .into());
            }
            Array2::from_shape_vec((classes.len(), dim), data).expect("rows × dim values")
        }
        _ => {
            let npy_path = spec.npy.clone().unwrap_or_else(|| npy_beside(&spec.table));
            if !npy_path.exists() {
                return Err(DatasetError::file(
                    &table.path,
                    format!(
                        "has no embedding column and there is no {} beside it; class prompts need embeddings (a list column, or a .npy named in catalogue.ron).",
                        crate::dataset::CLASS_EMBEDDINGS_FILE
                    ),
                )
                .into());
            }
            read_npy(&npy_path, classes.len(), &table.path, monitor)?
        }
    };
    Ok(ClassTable {
        classes,
        embeddings,
        warnings: Vec::new(),
    })
}

fn read_npy(
    path: &Path,
    rows: usize,
    table: &Path,
    monitor: &Monitor,
) -> Result<Array2<f32>, LoadError> {
    let file = npy::open(path)?;
    if file.rows != rows {
        return Err(DatasetError::RowCountMismatch {
            path: path.to_path_buf(),
            found: file.rows,
            other: table
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            expected: rows,
        }
        .into());
    }
    file.read(monitor)
}
