//! Layouts kept on disk beside the decision log (`.pairwise-audit/map-*.bin`), keyed by the
//! catalogue's content and the layout's parameters, so that re-opening a catalogue shows its
//! map at once. A file that does not match its key or size is ignored, never trusted.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Layout, LayoutKind, MapParams, MapView};
use crate::Dataset;

const MAGIC: &[u8; 8] = b"PAMAP01\n";

/// What a cached layout depends on: items.csv, a sample of the embeddings (every row would
/// cost a pass over gigabytes at a million items), their shape, the view and the parameters.
pub fn key(ds: &Dataset, view: MapView, params: &MapParams) -> String {
    let mut h = Sha256::new();
    h.update(ds.fingerprint.as_bytes());
    h.update(format!("{view:?} {params:?} {}", ds.len()).as_bytes());
    for m in view.modalities(ds) {
        let Some(x) = ds.embeddings(m) else { continue };
        h.update(format!("{m:?} {:?}", x.dim()).as_bytes());
        let stride = x.nrows().div_ceil(512).max(1);
        for row in x.rows().into_iter().step_by(stride) {
            for v in row {
                h.update(v.to_le_bytes());
            }
        }
    }
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The cache file for `key` in `dir` (the folder the decision log lives in).
pub fn path(dir: &Path, view: MapView, key: &str) -> PathBuf {
    let view = match view {
        MapView::Image => "image",
        MapView::Text => "text",
        MapView::Joined => "joined",
    };
    dir.join(format!("map-{view}-{key}.bin"))
}

/// The layout stored at `path` for `key` with `n` points, if there is a whole one.
pub fn read(path: &Path, key: &str, n: usize) -> Option<Layout> {
    let bytes = std::fs::read(path).ok()?;
    let head = MAGIC.len() + key.len() + 8;
    if bytes.len() != head + n * 8 || &bytes[..MAGIC.len()] != MAGIC {
        return None;
    }
    if &bytes[MAGIC.len()..MAGIC.len() + key.len()] != key.as_bytes() {
        return None;
    }
    let count = u64::from_le_bytes(bytes[head - 8..head].try_into().ok()?);
    if count != n as u64 {
        return None;
    }
    let xy = bytes[head..]
        .chunks_exact(8)
        .map(|c| {
            let f = |o: usize| f32::from_le_bytes(c[o..o + 4].try_into().expect("4 bytes"));
            [f(0), f(4)]
        })
        .collect();
    Some(Layout {
        kind: LayoutKind::Umap,
        xy,
    })
}

/// Store `layout` at `path` (atomically: a reader never sees half a file).
pub fn write(path: &Path, key: &str, layout: &Layout) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("could not create {}: {e}", dir.display()))?;
    }
    crate::atomic_file::write_atomic(path, |w| {
        w.write_all(MAGIC)?;
        w.write_all(key.as_bytes())?;
        w.write_all(&(layout.len() as u64).to_le_bytes())?;
        for p in &layout.xy {
            w.write_all(&p[0].to_le_bytes())?;
            w.write_all(&p[1].to_le_bytes())?;
        }
        Ok(())
    })
    .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_written_layout_reads_back_and_a_wrong_key_or_size_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout {
            kind: LayoutKind::Umap,
            xy: vec![[1.0, -2.0], [3.5, 0.25], [0.0, 9.0]],
        };
        let p = path(dir.path(), MapView::Joined, "abc123");
        write(&p, "abc123", &layout).unwrap();
        assert_eq!(read(&p, "abc123", 3), Some(layout));
        assert_eq!(read(&p, "abc124", 3), None);
        assert_eq!(read(&p, "abc123", 4), None);
        std::fs::write(&p, b"PAMAP01\nabc123").unwrap();
        assert_eq!(read(&p, "abc123", 3), None);
    }
}
