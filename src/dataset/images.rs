//! Which items' image files are missing or unreadable. A missing picture only costs the
//! reviewer a thumbnail — the embeddings still classify the item — so it is a counted warning,
//! not an error. A million files are opened in parallel, in chunks that report progress and
//! honour cancellation.

use std::fs::File;
use std::path::Path;

use rayon::prelude::*;

use super::Item;
use super::csv_tables::EXAMPLES;
use crate::{Cancelled, Monitor, Stage};

const FILES_PER_CHUNK: usize = 1024;

/// What the check found: the 1-based rows whose image file cannot be opened.
#[derive(Debug, Default)]
pub(super) struct ImageCheck {
    pub missing_rows: Vec<usize>,
    pub checked: usize,
}

impl ImageCheck {
    /// One sentence for `Dataset.warnings`, naming a few of the missing files.
    pub fn warning(&self, items: &[Item]) -> Option<String> {
        self.warning_in(super::ITEMS_FILE, items)
    }

    /// `warning`, for image paths read from `table`.
    pub fn warning_in(&self, table: &str, items: &[Item]) -> Option<String> {
        if self.missing_rows.is_empty() {
            return None;
        }
        let examples: Vec<String> = self
            .missing_rows
            .iter()
            .take(EXAMPLES)
            .filter_map(|&row| {
                let image = items.get(row - 1)?.image.as_ref()?;
                Some(format!("row {row}: {}", image.display()))
            })
            .collect();
        Some(format!(
            "{table}: {} of {} image files are missing or unreadable, e.g. {}; those items are still classified from their embeddings.",
            self.missing_rows.len(),
            self.checked,
            examples.join(", ")
        ))
    }
}

/// Open every item's image file under `root` (items without an image are skipped).
pub(super) fn check(
    root: &Path,
    items: &[Item],
    monitor: &Monitor,
) -> Result<ImageCheck, Cancelled> {
    let with_image: Vec<(usize, &Path)> = items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| Some((i + 1, it.image.as_deref()?)))
        // URLs are fetched by the app, not checked here.
        .filter(|(_, p)| !is_url(p))
        .collect();
    monitor.begin(Stage::CheckImages, None, with_image.len() as u64);
    let missing: Vec<Vec<usize>> = with_image
        .par_chunks(FILES_PER_CHUNK)
        .map(|chunk| {
            monitor.check()?;
            let missing = chunk
                .iter()
                .filter(|(_, rel)| !is_readable_file(&root.join(rel)))
                .map(|&(row, _)| row)
                .collect();
            monitor.advance(chunk.len() as u64);
            Ok(missing)
        })
        .collect::<Result<_, Cancelled>>()?;
    Ok(ImageCheck {
        missing_rows: missing.into_iter().flatten().collect(),
        checked: with_image.len(),
    })
}

/// An `http://` or `https://` image, which the app fetches instead of opening a file.
pub fn is_url(path: &Path) -> bool {
    let s = path.to_string_lossy();
    let lower = s.get(..8).unwrap_or(&s).to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Opening (not just `stat`-ing) also catches files the user may not read.
fn is_readable_file(path: &Path) -> bool {
    File::open(path)
        .and_then(|f| f.metadata())
        .is_ok_and(|m| m.is_file())
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn item(image: Option<&str>) -> Item {
        Item {
            id: String::new(),
            description: String::new(),
            image: image.map(PathBuf::from),
            label: None,
        }
    }

    #[test]
    fn counts_missing_files_in_row_order_across_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let n = 2 * FILES_PER_CHUNK + 10;
        let mut items = Vec::new();
        for i in 0..n {
            let name = format!("{i}.png");
            if i % 500 != 3 {
                std::fs::write(dir.path().join(&name), b"x").unwrap();
            }
            items.push(item(Some(&name)));
        }
        items.push(item(None));
        let monitor = Monitor::new();
        let found = check(dir.path(), &items, &monitor).unwrap();
        assert_eq!(found.missing_rows, [4, 504, 1004, 1504, 2004]);
        assert_eq!(found.checked, n);
        assert_eq!(monitor.sample().done, n as u64);
        let warning = found.warning(&items).unwrap();
        assert!(warning.contains("5 of 2058 image files"), "{warning}");
        assert!(warning.contains("row 504: 503.png"), "{warning}");
        assert!(!warning.contains("row 1504"), "only a few: {warning}");
    }

    #[test]
    fn a_cancelled_monitor_stops_the_check() {
        let monitor = Monitor::new();
        monitor.cancel();
        let items = vec![item(Some("a.png"))];
        assert!(check(Path::new("/"), &items, &monitor).is_err());
    }
}
