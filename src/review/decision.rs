//! What a reviewer decided about one item.

use serde::{Deserialize, Serialize};

/// Where a new label came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LabelSource {
    /// The image modality's pairwise label.
    Image,
    /// The text modality's pairwise label.
    Text,
    /// Picked by hand in the class picker.
    Manual,
}

impl LabelSource {
    pub fn name(self) -> &'static str {
        match self {
            LabelSource::Image => "image",
            LabelSource::Text => "text",
            LabelSource::Manual => "manual",
        }
    }
}

/// The action taken on one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "lowercase")]
pub enum Action {
    /// The annotation is correct.
    Accept,
    /// The annotation is wrong; `label` is the class name it should have.
    Relabel { label: String, source: LabelSource },
    /// Looked at, unsure.
    Skip,
    /// Forget any earlier decision on this item.
    Clear,
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Accept => "accept",
            Action::Relabel { .. } => "relabel",
            Action::Skip => "skip",
            Action::Clear => "clear",
        }
    }
}

/// One item's decision. Items are named by id, not row, so a log survives a reordered
/// items.csv.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    pub id: String,
    #[serde(flatten)]
    pub action: Action,
    /// Seconds since the Unix epoch, UTC.
    pub time: u64,
}

/// One user gesture: a single decision, or a bulk action over many items. One undo step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub decisions: Vec<Decision>,
}

/// Seconds since the Unix epoch, now.
pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a Unix time (UTC), for exports people read.
pub fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm: exact for the proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_798_761_599), "2026-12-31T23:59:59Z");
    }

    #[test]
    fn decision_json_is_flat_and_round_trips() {
        let d = Decision {
            id: "U+1f600".into(),
            action: Action::Relabel {
                label: "symbols".into(),
                source: LabelSource::Text,
            },
            time: 5,
        };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(
            json,
            r#"{"id":"U+1f600","action":"relabel","label":"symbols","source":"text","time":5}"#
        );
        assert_eq!(serde_json::from_str::<Decision>(&json).unwrap(), d);
    }
}
