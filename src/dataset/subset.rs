//! Write some of a catalogue's items as a catalogue of their own (the folder layout of
//! `docs/dataset-format.md`), e.g. the items a one-vs-rest step carved out, ready to be
//! audited on their own. The class table goes with them unchanged.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use ndarray::Axis;

use super::images::is_url;
use super::{CLASS_EMBEDDINGS_FILE, CLASSES_FILE, Dataset, ITEMS_FILE, embeddings_file};
use crate::atomic_file::{WriteError, replace_file, sync_dir};
use crate::{ClassId, Modality};

/// What `write_subset` wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubsetInfo {
    pub items: usize,
    /// Per modality, the written items that had no such view: their rows are zero, which the
    /// folder layout cannot tell from a real embedding, so the count is reported.
    pub without_view: Vec<(Modality, usize)>,
}

/// Write the items `rows` (indices into `ds.items`, in the order given) into `out` (created
/// if missing): items.csv, classes.csv, the class embeddings and each loaded modality's
/// embeddings. Image paths become absolute (URLs stay as they are), so the new folder finds
/// the same pictures. Refuses to write into the catalogue's own folder.
pub fn write_subset(ds: &Dataset, rows: &[usize], out: &Path) -> Result<SubsetInfo, WriteError> {
    let err = |path: &Path, source| WriteError {
        path: path.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(out).map_err(|e| err(out, e))?;
    let root = ds.root.canonicalize().unwrap_or_else(|_| ds.root.clone());
    if out.canonicalize().is_ok_and(|o| o == root) {
        return Err(err(
            out,
            io::Error::new(
                io::ErrorKind::AlreadyExists,
                "that is the catalogue's own folder; choose a new one for the subset",
            ),
        ));
    }
    let csv_err = |e: csv::Error| io::Error::other(e);
    let class_name = |c: Option<ClassId>| c.map_or("", |c| ds.class_name(c));

    replace_file(&out.join(ITEMS_FILE), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["id", "description", "image", "label"])
            .map_err(csv_err)?;
        for &i in rows {
            let it = &ds.items[i];
            let image = it.image.as_deref().map(|p| {
                if is_url(p) || p.is_absolute() {
                    p.to_path_buf()
                } else {
                    root.join(p)
                }
            });
            let image = image.as_deref().map(Path::to_string_lossy);
            csv.write_record([
                it.id.as_str(),
                it.description.as_str(),
                image.as_deref().unwrap_or(""),
                class_name(it.label),
            ])
            .map_err(csv_err)?;
        }
        csv.flush()
    })?;
    replace_file(&out.join(CLASSES_FILE), |w| {
        let mut csv = csv::Writer::from_writer(w);
        csv.write_record(["name", "prompt"]).map_err(csv_err)?;
        for c in &ds.classes {
            csv.write_record([&c.name, &c.prompt]).map_err(csv_err)?;
        }
        csv.flush()
    })?;
    let npy = |name: &str, a: &ndarray::Array2<f32>| -> Result<(), WriteError> {
        let path: PathBuf = out.join(name);
        replace_file(&path, |w| {
            ndarray_npy::WriteNpyExt::write_npy(a, &mut *w).map_err(io::Error::other)?;
            w.flush()
        })
    };
    npy(CLASS_EMBEDDINGS_FILE, &ds.class_embeddings)?;
    let mut without_view = Vec::new();
    for m in ds.modalities() {
        let x = ds.embeddings(m).expect("listed modalities are loaded");
        npy(embeddings_file(m), &x.select(Axis(0), rows))?;
        let missing = rows.iter().filter(|&&i| !ds.views.has(m, i)).count();
        if missing > 0 {
            without_view.push((m, missing));
        }
    }
    sync_dir(out);
    Ok(SubsetInfo {
        items: rows.len(),
        without_view,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::synth::{SynthParams, generate, write};

    #[test]
    fn a_subset_loads_back_with_its_rows_labels_and_embeddings() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src");
        let synth = generate(&SynthParams {
            n: 60,
            d: 8,
            classes: 3,
            ..SynthParams::default()
        });
        write(&synth, &src).unwrap();
        let ds = Dataset::load(&src).unwrap();
        let rows = [5, 2, 40];
        let out = dir.path().join("kept");
        let info = write_subset(&ds, &rows, &out).unwrap();
        assert_eq!(info.items, 3);
        let sub = Dataset::load(&out).unwrap();
        assert_eq!(sub.len(), 3);
        assert_eq!(sub.classes, ds.classes);
        for (j, &i) in rows.iter().enumerate() {
            assert_eq!(sub.items[j].id, ds.items[i].id);
            assert_eq!(sub.items[j].label, ds.items[i].label);
            for m in ds.modalities() {
                assert_eq!(
                    sub.embeddings(m).unwrap().row(j),
                    ds.embeddings(m).unwrap().row(i)
                );
            }
        }
        let err = write_subset(&ds, &rows, &src).unwrap_err().to_string();
        assert!(err.contains("own folder"), "{err}");
    }
}
