//! Where a table catalogue's parts are: its item tables, the columns named by the user or by
//! `catalogue.ron`, its class table — and where the app remembers the mapping chosen for it.

use std::path::{Path, PathBuf};

use super::classes;
use super::manifest::{ClassSpec, MANIFEST_FILE, Manifest};
use crate::DatasetError;
use crate::dataset::mapping::{ColumnOverrides, LoadOptions};

/// What to read: the item tables, the columns the user or manifest named, the class table.
pub(super) struct Spec {
    /// Relative image paths are resolved against this folder.
    pub root: PathBuf,
    pub tables: Vec<PathBuf>,
    /// Files of a shard folder that are not item shards.
    pub exclude: Vec<PathBuf>,
    /// What the user named; `manifest` what catalogue.ron names (the user's win).
    pub columns: ColumnOverrides,
    pub manifest: ColumnOverrides,
    pub classes: ClassSpec,
}

pub(super) fn spec(source: &Path, options: &LoadOptions) -> Result<Spec, DatasetError> {
    let folder = if source.is_dir() {
        source.to_path_buf()
    } else {
        source
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    let given_classes = options.classes.clone().map(|table| ClassSpec {
        table,
        ..ClassSpec::default()
    });
    let no_classes = || {
        DatasetError::file(
            source,
            "has no class table: put classes.parquet (name, prompt, embedding) or classes.csv with class_embeddings.npy beside it, or pass --classes FILE.",
        )
    };
    let manifest_path = folder.join(MANIFEST_FILE);
    if source.is_dir() && manifest_path.is_file() {
        let m = Manifest::read(&manifest_path)?;
        let classes = given_classes
            .or_else(|| m.classes.clone())
            .or_else(|| classes::default_spec(&folder))
            .ok_or_else(no_classes)?;
        return Ok(Spec {
            root: folder,
            tables: m.tables.clone(),
            exclude: Vec::new(),
            columns: options.columns.clone(),
            manifest: m.columns(),
            classes,
        });
    }
    let classes = given_classes
        .or_else(|| classes::default_spec(&folder))
        .ok_or_else(no_classes)?;
    let mut exclude = vec![classes.table.clone()];
    exclude.extend(classes.npy.clone());
    if source.is_file() && classes.table == source {
        return Err(DatasetError::file(
            source,
            "is the class table; open the items table (or the folder) instead.",
        ));
    }
    Ok(Spec {
        root: folder,
        tables: vec![source.to_path_buf()],
        exclude,
        columns: options.columns.clone(),
        manifest: ColumnOverrides::default(),
        classes,
    })
}

/// Where the app remembers the mapping chosen for `source`: beside its decision log.
pub fn remembered_mapping_path(source: &std::path::Path) -> PathBuf {
    let (folder, name) = if source.is_dir() {
        (source.to_path_buf(), "catalogue".to_string())
    } else {
        (
            source
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."))
                .to_path_buf(),
            source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
        )
    };
    folder
        .join(".pairwise-audit")
        .join(format!("mapping-{name}.ron"))
}

/// The remembered options for `source`, if any were saved and can be read.
pub fn remembered_options(source: &Path) -> Option<LoadOptions> {
    let text = std::fs::read_to_string(remembered_mapping_path(source)).ok()?;
    ron::from_str(&text).ok()
}

/// Save `options` for `source` (creating the `.pairwise-audit` folder).
pub fn remember_options(source: &Path, options: &LoadOptions) -> std::io::Result<()> {
    let path = remembered_mapping_path(source);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = ron::ser::to_string_pretty(options, ron::ser::PrettyConfig::default())
        .map_err(std::io::Error::other)?;
    crate::atomic_file::write_atomic(&path, |w| std::io::Write::write_all(w, text.as_bytes()))
        .map_err(|e| e.source)
}
