//! A catalogue on disk (see `docs/dataset-format.md`) loaded and validated into memory.
//!
//! Loading goes in the order that reports the cheapest-to-find problem first: which files
//! exist, the two CSV tables, the .npy headers and their agreement in shape, then the (large)
//! array data with its values, and last the image files, which only produce warnings.

mod csv_tables;
pub mod embeddings_manifest;
mod images;
pub mod mapping;
mod npy;
#[cfg(feature = "parquet")]
pub mod parquet;
mod shapes;
pub mod subset;

use std::path::{Path, PathBuf};

use ndarray::Array2;
use sha2::{Digest, Sha256};

pub use embeddings_manifest::{EmbeddingsManifest, MANIFEST_FILE, ManifestEntry};
pub use mapping::{ColumnOverrides, LoadOptions, Mapping, TableInfo};

use crate::{ClassId, DatasetError, Modality, Monitor, Stage};

pub const ITEMS_FILE: &str = "items.csv";
pub const CLASSES_FILE: &str = "classes.csv";
pub const CLASS_EMBEDDINGS_FILE: &str = "class_embeddings.npy";

/// The embeddings file of a modality.
pub fn embeddings_file(modality: Modality) -> &'static str {
    match modality {
        Modality::Image => "image_embeddings.npy",
        Modality::Text => "text_embeddings.npy",
    }
}

/// One row of `items.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    pub id: String,
    pub description: String,
    /// Path relative to the dataset folder, as written in the file; `None` when empty.
    pub image: Option<PathBuf>,
    /// The existing annotation; `None` when the cell is empty.
    pub label: Option<ClassId>,
}

/// One row of `classes.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassInfo {
    pub name: String,
    pub prompt: String,
}

/// A validated catalogue. Embeddings are kept as read (converted to f32, not normalised):
/// the classifier normalises on the fly so that no second copy is needed.
#[derive(Clone, Debug)]
pub struct Dataset {
    pub root: PathBuf,
    pub items: Vec<Item>,
    pub classes: Vec<ClassInfo>,
    /// `C × d`.
    pub class_embeddings: Array2<f32>,
    /// `n × d`, present when `image_embeddings.npy` exists.
    pub image_embeddings: Option<Array2<f32>>,
    /// `n × d`, present when `text_embeddings.npy` exists.
    pub text_embeddings: Option<Array2<f32>>,
    /// Non-fatal findings (missing image files, ignored columns …), one sentence each.
    pub warnings: Vec<String>,
    /// Items whose image path is set but whose file is missing or unreadable.
    pub missing_images: usize,
    /// Hex digest of the bytes of `items.csv` (of the items as read, for a table
    /// catalogue), to tie review logs to this catalogue.
    pub fingerprint: String,
    /// Which items lack a view (a null or empty embedding in a table catalogue).
    pub views: ViewMasks,
    /// Where a table catalogue's columns came from; `None` for the folder layout.
    pub table: Option<Box<mapping::TableInfo>>,
}

/// Per modality, which rows have an embedding; `None` when every row has one. A row without
/// one is zero in the embedding matrix and is classified from its other view only.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewMasks {
    pub image: Option<Vec<bool>>,
    pub text: Option<Vec<bool>>,
}

impl ViewMasks {
    pub fn get(&self, m: Modality) -> Option<&[bool]> {
        match m {
            Modality::Image => self.image.as_deref(),
            Modality::Text => self.text.as_deref(),
        }
    }

    pub fn set(&mut self, m: Modality, present: Vec<bool>) {
        let present = (!present.iter().all(|&p| p)).then_some(present);
        match m {
            Modality::Image => self.image = present,
            Modality::Text => self.text = present,
        }
    }

    /// Whether row `i` has modality `m`'s view (given the modality is loaded at all).
    pub fn has(&self, m: Modality, i: usize) -> bool {
        self.get(m).is_none_or(|p| p[i])
    }

    /// How many rows lack modality `m`'s view.
    pub fn missing(&self, m: Modality) -> usize {
        self.get(m).map_or(0, |p| p.iter().filter(|&&x| !x).count())
    }
}

/// A folder catalogue's items, classes and the warnings reading them gave.
pub type FolderTables = (Vec<Item>, Vec<ClassInfo>, Vec<String>);

/// Why `Dataset::load_with` stopped.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Invalid(#[from] DatasetError),
    #[error(transparent)]
    Cancelled(#[from] crate::Cancelled),
}

impl Dataset {
    /// Load and validate the catalogue at `root`: a folder in the layout above, or a table
    /// catalogue (a Parquet file, a folder of shards, a folder with `catalogue.ron`).
    pub fn load(root: &Path) -> Result<Dataset, DatasetError> {
        Dataset::load_options(root, &LoadOptions::default())
    }

    /// `load` with column and class-table choices for a table catalogue.
    pub fn load_options(root: &Path, options: &LoadOptions) -> Result<Dataset, DatasetError> {
        match Dataset::load_with_options(root, options, &Monitor::new()) {
            Ok(ds) => Ok(ds),
            Err(LoadError::Invalid(e)) => Err(e),
            Err(LoadError::Cancelled(_)) => unreachable!("nobody can cancel a private monitor"),
        }
    }

    /// `load`, reporting progress to and stopping on `monitor`.
    pub fn load_with(root: &Path, monitor: &Monitor) -> Result<Dataset, LoadError> {
        Dataset::load_with_options(root, &LoadOptions::default(), monitor)
    }

    /// `load_options`, reporting progress to and stopping on `monitor`.
    pub fn load_with_options(
        root: &Path,
        options: &LoadOptions,
        monitor: &Monitor,
    ) -> Result<Dataset, LoadError> {
        if is_table_catalogue(root) {
            return load_tables(root, options, monitor);
        }
        if !options.columns.is_empty() || options.classes.is_some() {
            return Err(DatasetError::file(
                root,
                "is a folder in the items.csv layout, whose columns are fixed; --classes and the column options apply to Parquet catalogues only.",
            )
            .into());
        }
        Dataset::load_folder(root, monitor)
    }

    fn load_folder(root: &Path, monitor: &Monitor) -> Result<Dataset, LoadError> {
        if !root.is_dir() {
            return Err(DatasetError::NotAFolder {
                path: root.to_path_buf(),
            }
            .into());
        }
        let items_path = required_file(root, ITEMS_FILE, "it lists the items")?;
        let classes_path = required_file(root, CLASSES_FILE, "it lists the classes")?;
        let class_npy_path = required_file(
            root,
            CLASS_EMBEDDINGS_FILE,
            "it holds one embedding per row of classes.csv",
        )?;
        let modality_paths: Vec<(Modality, PathBuf)> = Modality::ALL
            .into_iter()
            .map(|m| (m, root.join(embeddings_file(m))))
            .filter(|(_, p)| p.exists())
            .collect();
        if modality_paths.is_empty() {
            return Err(DatasetError::NoEmbeddings {
                folder: root.to_path_buf(),
            }
            .into());
        }

        let items_len = std::fs::metadata(&items_path).map_or(0, |m| m.len());
        monitor.begin(Stage::LoadItems, None, items_len);
        let items_bytes = read_file(&items_path)?;
        let (classes, mut warnings) =
            csv_tables::read_classes(&classes_path, &read_file(&classes_path)?)?;
        // Hashing and parsing read the same bytes; doing both at once hides the hash.
        let (parsed, fingerprint) = rayon::join(
            || csv_tables::read_items(&items_path, &items_bytes, &classes, monitor),
            || fingerprint(&items_bytes),
        );
        let (items, item_warnings) = parsed?;
        warnings.extend(item_warnings);
        drop(items_bytes);
        monitor.check()?;

        let class_npy = npy::open(&class_npy_path)?;
        let modality_npys = modality_paths
            .iter()
            .map(|(m, p)| Ok((*m, npy::open(p)?)))
            .collect::<Result<Vec<_>, DatasetError>>()?;
        let headers: Vec<(Modality, &npy::NpyFile)> =
            modality_npys.iter().map(|(m, f)| (*m, f)).collect();
        shapes::check(items.len(), classes.len(), &class_npy, &headers)?;

        monitor.begin(Stage::LoadEmbeddings, None, class_npy.rows as u64);
        let class_embeddings = class_npy.read(monitor)?;
        let manifest = EmbeddingsManifest::read(root)?.unwrap_or_default();
        let mut views = ViewMasks::default();
        let (mut image_embeddings, mut text_embeddings) = (None, None);
        for (modality, file) in modality_npys {
            monitor.check()?;
            monitor.begin(Stage::LoadEmbeddings, Some(modality), file.rows as u64);
            let present = manifest.present(root, modality, &items)?;
            let array = Some(file.read_masked(monitor, present.as_deref())?);
            if let Some(p) = present {
                views.set(modality, p);
            }
            match modality {
                Modality::Image => image_embeddings = array,
                Modality::Text => text_embeddings = array,
            }
        }

        monitor.check()?;
        let image_check = images::check(root, &items, monitor)?;
        warnings.extend(image_check.warning(&items));

        Ok(Dataset {
            root: root.to_path_buf(),
            items,
            classes,
            class_embeddings,
            image_embeddings,
            text_embeddings,
            warnings,
            missing_images: image_check.missing_rows.len(),
            fingerprint,
            views,
            table: None,
        })
    }

    /// Only the two tables of a folder catalogue (items.csv and classes.csv), checked as a
    /// load checks them, for tools that make the embeddings (`embed`).
    pub fn read_folder_tables(root: &Path) -> Result<FolderTables, DatasetError> {
        if !root.is_dir() {
            return Err(DatasetError::NotAFolder {
                path: root.to_path_buf(),
            });
        }
        let items_path = required_file(root, ITEMS_FILE, "it lists the items")?;
        let classes_path = required_file(root, CLASSES_FILE, "it lists the classes")?;
        let (classes, mut warnings) =
            csv_tables::read_classes(&classes_path, &read_file(&classes_path)?)?;
        let (items, item_warnings) = match csv_tables::read_items(
            &items_path,
            &read_file(&items_path)?,
            &classes,
            &Monitor::new(),
        ) {
            Ok(x) => x,
            Err(LoadError::Invalid(e)) => return Err(e),
            Err(LoadError::Cancelled(_)) => unreachable!("nobody can cancel a private monitor"),
        };
        warnings.extend(item_warnings);
        Ok((items, classes, warnings))
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    pub fn dim(&self) -> usize {
        self.class_embeddings.ncols()
    }

    pub fn embeddings(&self, modality: Modality) -> Option<&Array2<f32>> {
        match modality {
            Modality::Image => self.image_embeddings.as_ref(),
            Modality::Text => self.text_embeddings.as_ref(),
        }
    }

    /// The modalities whose embeddings are present, image first.
    pub fn modalities(&self) -> Vec<Modality> {
        Modality::ALL
            .into_iter()
            .filter(|&m| self.embeddings(m).is_some())
            .collect()
    }

    pub fn class_index(&self, name: &str) -> Option<ClassId> {
        self.classes.iter().position(|c| c.name == name)
    }

    pub fn class_name(&self, c: ClassId) -> &str {
        &self.classes[c].name
    }

    /// Absolute path of item `i`'s image, if it has one (an http(s) URL as it is).
    pub fn image_path(&self, i: usize) -> Option<PathBuf> {
        self.items[i].image.as_ref().map(|p| {
            if images::is_url(p) {
                p.clone()
            } else {
                self.root.join(p)
            }
        })
    }

    /// The annotations as a label vector (for metrics).
    pub fn annotations(&self) -> Vec<Option<ClassId>> {
        self.items.iter().map(|it| it.label).collect()
    }
}

/// Whether `path` is read as tables rather than the items.csv layout.
pub fn is_table_catalogue(path: &Path) -> bool {
    #[cfg(feature = "parquet")]
    {
        parquet::is_table_catalogue(path)
    }
    #[cfg(not(feature = "parquet"))]
    {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
            || path.join("catalogue.ron").is_file()
    }
}

#[cfg(feature = "parquet")]
fn load_tables(
    root: &Path,
    options: &LoadOptions,
    monitor: &Monitor,
) -> Result<Dataset, LoadError> {
    parquet::guard(root, || parquet::load(root, options, monitor))
}

#[cfg(not(feature = "parquet"))]
fn load_tables(root: &Path, _: &LoadOptions, _: &Monitor) -> Result<Dataset, LoadError> {
    Err(DatasetError::file(
        root,
        "is a Parquet catalogue, and this build was made without the `parquet` feature.",
    )
    .into())
}

/// A zeroed embedding buffer (backed by huge pages where the kernel offers them).
#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
pub(crate) fn zeroed_f32(len: usize) -> Vec<f32> {
    npy::zeroed_buffer(len)
}

/// `zeroed_f32`, or `None` when the memory cannot be had: a size read from a damaged file's
/// metadata must give an error, not abort the process.
#[cfg_attr(not(feature = "parquet"), allow(dead_code))]
pub(crate) fn try_zeroed_f32(len: usize) -> Option<Vec<f32>> {
    // Reserving and releasing maps and unmaps the range without touching it.
    Vec::<f32>::new().try_reserve_exact(len).ok()?;
    Some(npy::zeroed_buffer(len))
}

fn required_file(root: &Path, name: &str, why: &'static str) -> Result<PathBuf, DatasetError> {
    let path = root.join(name);
    if path.exists() {
        Ok(path)
    } else {
        Err(DatasetError::MissingFile { path, why })
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, DatasetError> {
    std::fs::read(path).map_err(|e| DatasetError::io(path, e))
}

/// SHA-256 of `bytes` in lower-case hex. A cryptographic digest rather than a 64-bit hash
/// because review logs outlive runs and may travel between machines: a collision must never
/// tie a log to the wrong catalogue. With the CPU's SHA extensions it costs a few milliseconds
/// per 10 MB, and runs beside the CSV parsing.
pub fn fingerprint(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
