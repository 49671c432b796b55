//! Catalogues held as Parquet tables: one file, a folder of shards, or a folder whose
//! `catalogue.ron` names several item tables joined on the id and the class table. The
//! result is the same `Dataset` the folder layout gives, with a null or empty embedding
//! read as a missing view of that item.

mod classes;
pub mod columns;
mod detect;
mod join;
mod levels;
pub mod manifest;
pub mod preview;
mod source;
pub mod table;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use ndarray::Array2;
use sha2::{Digest, Sha256};

use self::manifest::MANIFEST_FILE;
use self::source::{Spec, spec};
pub use self::source::{remember_options, remembered_mapping_path, remembered_options};
use self::table::{Column, Table, Want};
use super::mapping::{ColumnFill, ColumnInfo, LoadOptions, Mapping, TableInfo};
use super::{Dataset, Item, LoadError, ViewMasks, csv_tables, images};
use crate::{DatasetError, Modality, Monitor, Stage};

/// Run `f`, turning a panic inside arrow-rs into an error about `path`: on some damaged
/// files the reader asserts instead of returning an error, and a damaged file must give a
/// sentence, not bring the program down. (The panic hook still prints its own line.)
pub fn guard<T, E: From<DatasetError>>(
    path: &Path,
    f: impl FnOnce() -> Result<T, E>,
) -> Result<T, E> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        let why = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "no reason given".into());
        Err(DatasetError::file(
            path,
            format!("is damaged: the Parquet reader stopped on it ({why})."),
        )
        .into())
    })
}

/// Whether `path` is a catalogue this module reads (rather than the folder layout).
pub fn is_table_catalogue(path: &Path) -> bool {
    if path.is_file() {
        return table::is_parquet(path);
    }
    if !path.is_dir() {
        return false;
    }
    if path.join(MANIFEST_FILE).is_file() {
        return true;
    }
    !path.join(super::ITEMS_FILE).exists()
        && std::fs::read_dir(path)
            .is_ok_and(|mut entries| entries.any(|e| e.is_ok_and(|e| table::is_parquet(&e.path()))))
}

/// Open the tables and choose the mapping, without reading any data: what `inspect` and the
/// app's mapping sheet show first.
pub fn plan(source: &Path, options: &LoadOptions) -> Result<Plan, DatasetError> {
    let spec = spec(source, options)?;
    let tables = spec
        .tables
        .iter()
        .map(|t| Table::open(t, &spec.exclude))
        .collect::<Result<Vec<_>, _>>()?;
    let detection = detect::detect(&tables, &spec.columns, &spec.manifest)?;
    Ok(Plan {
        spec,
        tables,
        mapping: detection.mapping,
        notes: detection.notes,
    })
}

/// The tables opened and the mapping chosen.
pub struct Plan {
    spec: Spec,
    tables: Vec<Table>,
    pub mapping: Mapping,
    pub notes: Vec<String>,
}

impl Plan {
    pub fn columns(&self) -> Vec<ColumnInfo> {
        self.tables
            .iter()
            .flat_map(|t| {
                t.schema.fields().iter().map(|f| ColumnInfo {
                    table: t.path.clone(),
                    name: f.name().clone(),
                    data_type: f.data_type().to_string(),
                })
            })
            .collect()
    }

    pub fn tables(&self) -> Vec<(PathBuf, usize)> {
        self.tables
            .iter()
            .map(|t| (t.path.clone(), t.rows()))
            .collect()
    }
}

/// Load the catalogue at `source` (a table catalogue, see `is_table_catalogue`).
pub fn load(source: &Path, options: &LoadOptions, monitor: &Monitor) -> Result<Dataset, LoadError> {
    let plan = plan(source, options)?;
    let table_info = TableInfo {
        source: source.to_path_buf(),
        mapping: plan.mapping.clone(),
        notes: plan.notes.clone(),
        tables: plan.tables(),
        columns: plan.columns(),
        fill: Vec::new(),
        classes: plan.spec.classes.table.clone(),
    };
    let Plan {
        spec,
        tables,
        mapping,
        ..
    } = plan;
    monitor.begin(Stage::LoadItems, None, 0);
    let classes::ClassTable {
        classes,
        embeddings: class_embeddings,
        mut warnings,
    } = classes::load(&spec.classes, monitor)?;

    // Every role's column is read from the first table that has it.
    let roles: Vec<(&'static str, String, Want)> = [
        ("label", mapping.label.clone(), Want::Strings),
        ("description", mapping.text.clone(), Want::Strings),
        ("image", mapping.image.clone(), Want::Strings),
        (
            "image embedding",
            mapping.image_embedding.clone(),
            Want::Embeddings,
        ),
        (
            "text embedding",
            mapping.text_embedding.clone(),
            Want::Embeddings,
        ),
    ]
    .into_iter()
    .filter_map(|(role, col, want)| Some((role, col?, want)))
    .collect();
    let home = |col: &str| tables.iter().position(|t| t.has(col)).expect("detected");

    let primary = &tables[0];
    let mut wanted: Vec<(&str, Want)> = vec![(mapping.id.as_str(), Want::Strings)];
    wanted.extend(
        roles
            .iter()
            .filter(|(_, c, _)| home(c) == 0)
            .map(|(_, c, w)| (c.as_str(), *w)),
    );
    let mut read: HashMap<String, Column> = HashMap::new();
    let mut cols = primary.read(&wanted, monitor)?.into_iter();
    let Some(Column::Strings(ids)) = cols.next() else {
        unreachable!("ids are read as strings")
    };
    for ((name, _), col) in wanted[1..].iter().zip(cols) {
        read.insert(name.to_string(), col);
    }
    let ids = join::checked_ids(primary, &mapping.id, ids)?;
    let n = ids.len();
    if n == 0 {
        return Err(DatasetError::Empty {
            path: primary.path.clone(),
        }
        .into());
    }

    // Secondary tables: a left join on the id, in the primary table's row order.
    let mut unmatched = Vec::new();
    for (t, table) in tables.iter().enumerate().skip(1) {
        let mine: Vec<&(&str, String, Want)> =
            roles.iter().filter(|(_, c, _)| home(c) == t).collect();
        if mine.is_empty() {
            continue;
        }
        let mut wanted: Vec<(&str, Want)> = vec![(mapping.id.as_str(), Want::Strings)];
        wanted.extend(mine.iter().map(|(_, c, w)| (c.as_str(), *w)));
        let mut cols = table.read(&wanted, monitor)?.into_iter();
        let Some(Column::Strings(their_ids)) = cols.next() else {
            unreachable!("ids are read as strings")
        };
        let their_ids = join::checked_ids(table, &mapping.id, their_ids)?;
        let row_of: HashMap<&str, usize> = their_ids
            .iter()
            .enumerate()
            .map(|(r, id)| (id.as_str(), r))
            .collect();
        let rows: Vec<Option<usize>> = ids
            .iter()
            .map(|id| row_of.get(id.as_str()).copied())
            .collect();
        let missing = rows.iter().filter(|r| r.is_none()).count();
        if missing > 0 {
            unmatched.push(format!(
                "{}: {missing} of {n} items have no row here (no `{}` match), so its columns are empty for them",
                table.path.display(),
                mapping.id
            ));
        }
        for ((name, _), col) in wanted[1..].iter().zip(cols) {
            read.insert(name.to_string(), join::gather(col, &rows));
        }
    }
    warnings.extend(unmatched.into_iter().map(|w| format!("{w}.")));

    let mut strings = |col: &Option<String>| -> Option<Vec<Option<String>>> {
        match read.remove(col.as_deref()?) {
            Some(Column::Strings(v)) => Some(v),
            _ => None,
        }
    };
    let labels = strings(&mapping.label);
    let descriptions = strings(&mapping.text);
    let image_paths = strings(&mapping.image);
    let mut fill = vec![ColumnFill {
        role: "id".into(),
        column: mapping.id.clone(),
        missing: 0,
    }];
    let mut count = |role: &str, col: &Option<String>, v: &Option<Vec<Option<String>>>| {
        if let (Some(c), Some(v)) = (col, v) {
            fill.push(ColumnFill {
                role: role.into(),
                column: c.clone(),
                missing: v
                    .iter()
                    .filter(|s| s.as_deref().is_none_or(|s| s.trim().is_empty()))
                    .count(),
            });
        }
    };
    count("label", &mapping.label, &labels);
    count("description", &mapping.text, &descriptions);
    count("image", &mapping.image, &image_paths);

    let class_of: HashMap<&str, usize> = classes
        .iter()
        .enumerate()
        .map(|(c, info)| (info.name.as_str(), c))
        .collect();
    let label_home = mapping.label.as_deref().map(|c| &tables[home(c)]);
    let mut unknown = Vec::new();
    let mut unknown_count = 0;
    let mut unknown_rows = Vec::new();
    let mut items = Vec::with_capacity(n);
    for (i, id) in ids.into_iter().enumerate() {
        let text = |v: &Option<Vec<Option<String>>>| v.as_ref().and_then(|v| v[i].clone());
        let label_text = text(&labels)
            .map(|l| l.trim().to_string())
            .unwrap_or_default();
        let label = if label_text.is_empty() {
            None
        } else if let Some(&c) = class_of.get(label_text.as_str()) {
            Some(c)
        } else {
            unknown_count += 1;
            if unknown.len() < csv_tables::EXAMPLES {
                unknown_rows.push(i);
                unknown.push(format!(
                    "row {}: \"{label_text}\" (id {id})",
                    primary.place(i).1
                ));
            }
            None
        };
        let image = text(&image_paths)
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
            .map(PathBuf::from);
        items.push(Item {
            id,
            description: text(&descriptions).unwrap_or_default(),
            image,
            label,
        });
    }
    if let Some(&first) = unknown_rows.first() {
        // A label joined from another table is named by that table and the item's id.
        let path = match label_home {
            Some(t) if !std::ptr::eq(t, primary) => t.files[0].path.as_path(),
            _ => primary.place(first).0,
        };
        return Err(DatasetError::file(
            path,
            format!(
                "{unknown_count} row(s) have a label that is not a class name in {}, e.g. {}.",
                spec.classes.table.display(),
                unknown.join(", ")
            ),
        )
        .into());
    }

    // The embeddings, with a row mask where a view is missing.
    let mut embeddings: [Option<Array2<f32>>; 2] = [None, None];
    let mut views = ViewMasks::default();
    let dim_of_classes = class_embeddings.ncols();
    for (slot, (m, col)) in [
        (Modality::Image, &mapping.image_embedding),
        (Modality::Text, &mapping.text_embedding),
    ]
    .into_iter()
    .enumerate()
    {
        let Some(col) = col else { continue };
        let Some(Column::Embeddings { dim, data, present }) = read.remove(col) else {
            continue;
        };
        let absent = present.iter().filter(|p| !**p).count();
        fill.push(ColumnFill {
            role: format!("{m} embedding"),
            column: col.clone(),
            missing: absent,
        });
        if absent == n {
            warnings.push(format!(
                "column `{col}`: no row has a vector, so the {m} view is left out."
            ));
            continue;
        }
        if dim != dim_of_classes {
            return Err(DatasetError::file(
                &tables[home(col)].path,
                format!(
                    "column `{col}` has {dim}-dimensional vectors but the class table {} has {dim_of_classes}; all embeddings must share one dimension.",
                    spec.classes.table.display()
                ),
            )
            .into());
        }
        if absent > 0 {
            warnings.push(format!(
                "column `{col}`: {absent} of {n} items have no {m} embedding (null or empty); they are classified from their other view."
            ));
            views.set(m, present);
        }
        embeddings[slot] = Some(Array2::from_shape_vec((n, dim), data).expect("rows × dim values"));
    }
    if let (Some(a), Some(b)) = (&embeddings[0], &embeddings[1])
        && a.ncols() != b.ncols()
    {
        return Err(DatasetError::file(
            &primary.path,
            format!(
                "the image embeddings have {} dimensions but the text embeddings {}; all embeddings must share one dimension.",
                a.ncols(),
                b.ncols()
            ),
        )
        .into());
    }
    let [image_embeddings, text_embeddings] = embeddings;
    if image_embeddings.is_none() && text_embeddings.is_none() {
        return Err(DatasetError::file(
            &primary.path,
            "no item has an embedding in any mapped column; at least one modality is needed.",
        )
        .into());
    }
    let has_image = |i: usize| image_embeddings.is_some() && views.has(Modality::Image, i);
    let has_text = |i: usize| text_embeddings.is_some() && views.has(Modality::Text, i);
    let viewless: Vec<usize> = (0..n).filter(|&i| !has_image(i) && !has_text(i)).collect();
    if let Some(&first) = viewless.first() {
        let (path, row) = primary.place(first);
        let examples: Vec<String> = viewless
            .iter()
            .take(csv_tables::EXAMPLES)
            .map(|&i| format!("`{}`", items[i].id))
            .collect();
        return Err(DatasetError::file(
            path,
            format!(
                "row {row}: item {} has neither an image nor a text embedding ({} such item(s): {}); every item needs at least one view.",
                examples[0],
                viewless.len(),
                examples.join(", ")
            ),
        )
        .into());
    }

    monitor.check()?;
    let image_check = images::check(&spec.root, &items, monitor)?;
    let image_home = mapping
        .image
        .as_deref()
        .map(|c| tables[home(c)].path.display().to_string());
    warnings.extend(image_check.warning_in(image_home.as_deref().unwrap_or_default(), &items));
    let fingerprint = fingerprint(&items, &classes);
    Ok(Dataset {
        root: spec.root,
        items,
        classes,
        class_embeddings,
        image_embeddings,
        text_embeddings,
        warnings,
        missing_images: image_check.missing_rows.len(),
        fingerprint,
        views,
        table: Some(Box::new(TableInfo { fill, ..table_info })),
    })
}

/// SHA-256 over the items as read (id, description, image, label) and the class names: a
/// table catalogue has no items.csv whose bytes could be hashed, and hashing gigabytes of
/// embeddings would cost more than reading them.
fn fingerprint(items: &[Item], classes: &[super::ClassInfo]) -> String {
    let mut h = Sha256::new();
    for c in classes {
        h.update(c.name.as_bytes());
        h.update([0x1f]);
    }
    h.update([0x1e]);
    for it in items {
        h.update(it.id.as_bytes());
        h.update([0x1f]);
        h.update(it.description.as_bytes());
        h.update([0x1f]);
        if let Some(p) = &it.image {
            h.update(p.to_string_lossy().as_bytes());
        }
        h.update([0x1f]);
        if let Some(l) = it.label {
            h.update(classes[l].name.as_bytes());
        }
        h.update([0x1e]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
