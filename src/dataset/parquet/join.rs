//! Joining item tables on the id: every id present and unique, and a joined table's column
//! rearranged into the primary table's row order (a left join: no row, no value).

use std::collections::HashMap;

use super::table::{Column, Table};
use crate::DatasetError;

/// Non-null ids as strings, each unique.
pub fn checked_ids(
    table: &Table,
    column: &str,
    ids: Vec<Option<String>>,
) -> Result<Vec<String>, DatasetError> {
    let mut out = Vec::with_capacity(ids.len());
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(ids.len());
    for (r, id) in ids.into_iter().enumerate() {
        let Some(id) = id.filter(|s| !s.is_empty()) else {
            let (path, row) = table.place(r);
            return Err(DatasetError::file(
                path,
                format!(
                    "row {row}, column `{column}`: the id is null or empty; every row needs one."
                ),
            ));
        };
        if let Some(first) = seen.insert(id.clone(), r) {
            let (path, second) = table.place(r);
            let (_, first) = table.place(first);
            return Err(DatasetError::file(
                path,
                format!(
                    "column `{column}`: id `{id}` appears in row {first} and again in row {second}; ids must be unique."
                ),
            ));
        }
        out.push(id);
    }
    Ok(out)
}

/// `col` (in its own table's order) rearranged to `rows` (one source row per item).
pub fn gather(col: Column, rows: &[Option<usize>]) -> Column {
    match col {
        Column::Strings(v) => {
            Column::Strings(rows.iter().map(|r| r.and_then(|r| v[r].clone())).collect())
        }
        Column::Embeddings { dim, data, present } => {
            let mut out = crate::dataset::zeroed_f32(rows.len() * dim);
            let mut there = vec![false; rows.len()];
            for (i, r) in rows.iter().enumerate() {
                if let Some(r) = *r
                    && present[r]
                {
                    out[i * dim..(i + 1) * dim].copy_from_slice(&data[r * dim..(r + 1) * dim]);
                    there[i] = true;
                }
            }
            Column::Embeddings {
                dim,
                data: out,
                present: there,
            }
        }
    }
}
