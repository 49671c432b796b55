//! What survives a restart: one serde struct in eframe storage (RON). Every field has a
//! default so that saves from older versions still load; a save that no longer decodes at all
//! is replaced by defaults with a warning rather than refusing to start.

use std::path::{Path, PathBuf};

use pairwise_audit::Params;
use serde::{Deserialize, Serialize};

use pairwise_audit::Modality;
use pairwise_audit::metrics::LabelSource;

/// eframe storage key of `Persisted`.
pub const STORAGE_KEY: &str = "pairwise-audit/state";
/// Recent datasets kept in the File menu.
pub const MAX_RECENT: usize = 8;

/// The right-hand panel's tabs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Tab {
    #[default]
    Detail,
    Inspector,
    Confusion,
    Metrics,
    Settings,
}

impl Tab {
    pub const ALL: [Tab; 5] = [
        Tab::Detail,
        Tab::Inspector,
        Tab::Confusion,
        Tab::Metrics,
        Tab::Settings,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Tab::Detail => "Detail",
            Tab::Inspector => "Dimensions",
            Tab::Confusion => "Confusion",
            Tab::Metrics => "Metrics",
            Tab::Settings => "Settings",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Persisted {
    pub params: Params,
    /// The suspicion scorer ranking the grid (`scorers::scorer_names`).
    pub scorer: String,
    /// Most recent first.
    pub recent: Vec<PathBuf>,
    pub tab: Tab,
    pub show_side_panel: bool,
    pub confusion_rows: LabelSource,
    pub confusion_cols: LabelSource,
    pub confusion_normalise: bool,
    pub dark_mode: bool,
    /// After a decision, select the next item in the grid's order.
    pub auto_advance: bool,
    /// Decision logs kept away from their dataset (a read-only folder): (dataset, log).
    pub log_paths: Vec<(PathBuf, PathBuf)>,
    /// The review queue's cut: items whose probability of a wrong annotation is at least
    /// this many percent.
    pub queue_cut: u8,
    /// The CLIP model folder last used to compute embeddings.
    pub embed_model: Option<PathBuf>,
    /// Grid, Map or both in the central area.
    pub central: crate::app::map::Central,
    pub map_view: pairwise_audit::map::MapView,
    pub map_colour: crate::app::map::colours::ColourBy,
}

impl Default for Persisted {
    fn default() -> Persisted {
        Persisted {
            params: Params::default(),
            scorer: pairwise_audit::scorers::DEFAULT_SCORER.to_string(),
            recent: Vec::new(),
            tab: Tab::Detail,
            show_side_panel: true,
            confusion_rows: LabelSource::Annotation,
            confusion_cols: LabelSource::Pairwise(Modality::Image),
            confusion_normalise: false,
            dark_mode: true,
            auto_advance: true,
            log_paths: Vec::new(),
            queue_cut: 50,
            embed_model: None,
            central: Default::default(),
            map_view: Default::default(),
            map_colour: Default::default(),
        }
    }
}

impl Persisted {
    /// Decode a save; `Err` carries the warning to show when it no longer decodes.
    pub fn decode(ron_text: Option<&str>) -> (Persisted, Option<String>) {
        match ron_text {
            None => (Persisted::default(), None),
            Some(text) => match ron::from_str::<Persisted>(text) {
                Ok(p) => (p, None),
                Err(e) => (
                    Persisted::default(),
                    Some(format!(
                        "The saved settings could not be read ({e}); starting from the defaults."
                    )),
                ),
            },
        }
    }

    pub fn encode(&self) -> String {
        ron::ser::to_string_pretty(self, ron::ser::PrettyConfig::default())
            .expect("the persisted state always serialises")
    }

    /// Move `path` to the front of the recent list, as an absolute path so that it still
    /// opens when the app starts from another directory.
    pub fn remember(&mut self, path: &Path) {
        let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        self.recent.retain(|p| *p != path);
        self.recent.insert(0, path);
        self.recent.truncate(MAX_RECENT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_the_state() {
        let mut p = Persisted::default();
        p.params.k = 17;
        p.remember(Path::new("/data/a"));
        p.tab = Tab::Metrics;
        let (back, warning) = Persisted::decode(Some(&p.encode()));
        assert_eq!(back, p);
        assert!(warning.is_none());
    }

    #[test]
    fn old_saves_with_missing_fields_load() {
        let (p, warning) = Persisted::decode(Some("(tab: Metrics)"));
        assert_eq!(p.tab, Tab::Metrics);
        assert_eq!(p.params, Params::default());
        assert!(warning.is_none());
    }

    #[test]
    fn a_broken_save_gives_defaults_and_a_warning() {
        let (p, warning) = Persisted::decode(Some("(tab: NoSuchTab"));
        assert_eq!(p, Persisted::default());
        assert!(warning.unwrap().contains("could not be read"));
    }

    #[test]
    fn recent_paths_are_stored_absolute() {
        let dir = tempfile::tempdir().unwrap();
        let here = std::env::current_dir().unwrap();
        let mut p = Persisted::default();
        p.remember(&dir.path().join("."));
        assert_eq!(p.recent, vec![std::fs::canonicalize(dir.path()).unwrap()]);
        assert!(p.recent[0].is_absolute());
        assert_eq!(std::env::current_dir().unwrap(), here);
    }

    #[test]
    fn recent_list_is_most_recent_first_without_duplicates() {
        let mut p = Persisted::default();
        for name in ["a", "b", "a", "c"] {
            p.remember(Path::new(name));
        }
        assert_eq!(
            p.recent,
            vec![PathBuf::from("c"), PathBuf::from("a"), PathBuf::from("b")]
        );
    }
}
