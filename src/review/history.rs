//! Undo and redo: a cursor over the list of steps. Steps before the cursor are in effect; a new
//! step after an undo drops the redo tail.

use std::collections::HashMap;

use super::decision::{Action, LabelSource, Step};

/// Where an item stands after the steps in effect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReviewStatus {
    Accepted,
    Relabeled,
    Skipped,
}

impl ReviewStatus {
    pub fn name(self) -> &'static str {
        match self {
            ReviewStatus::Accepted => "accepted",
            ReviewStatus::Relabeled => "relabeled",
            ReviewStatus::Skipped => "skipped",
        }
    }
}

/// The effective decision on one item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ItemReview {
    pub status: ReviewStatus,
    /// The new class name, for `Relabeled`.
    pub label: Option<String>,
    pub source: Option<LabelSource>,
    pub time: u64,
}

#[derive(Clone, Debug, Default)]
pub struct History {
    steps: Vec<Step>,
    cursor: usize,
    state: HashMap<String, ItemReview>,
}

impl History {
    pub fn new() -> History {
        History::default()
    }

    /// Make `step` the newest step in effect, dropping anything that was undone.
    pub fn push(&mut self, step: Step) {
        self.steps.truncate(self.cursor);
        apply(&mut self.state, &step);
        self.steps.push(step);
        self.cursor = self.steps.len();
    }

    /// Take back the newest step in effect; returns it, or `None` at the start.
    pub fn undo(&mut self) -> Option<&Step> {
        if self.cursor == 0 {
            return None;
        }
        self.cursor -= 1;
        // A step may overwrite earlier decisions on the same items, so the state before it is
        // recomputed rather than patched.
        self.rebuild();
        self.steps.get(self.cursor)
    }

    /// Re-apply the step after the cursor; returns it, or `None` when nothing was undone.
    pub fn redo(&mut self) -> Option<&Step> {
        let step = self.steps.get(self.cursor)?;
        apply(&mut self.state, step);
        self.cursor += 1;
        self.steps.get(self.cursor - 1)
    }

    pub fn can_undo(&self) -> bool {
        self.cursor > 0
    }

    pub fn can_redo(&self) -> bool {
        self.cursor < self.steps.len()
    }

    /// Number of steps in effect (the undo position).
    pub fn cursor(&self) -> usize {
        self.cursor
    }

    /// Every step, including undone ones past the cursor.
    pub fn steps(&self) -> &[Step] {
        &self.steps
    }

    pub fn get(&self, id: &str) -> Option<&ItemReview> {
        self.state.get(id)
    }

    /// Items with an effective decision.
    pub fn reviewed(&self) -> impl Iterator<Item = (&String, &ItemReview)> {
        self.state.iter()
    }

    pub fn reviewed_count(&self) -> usize {
        self.state.len()
    }

    fn rebuild(&mut self) {
        self.state.clear();
        for step in &self.steps[..self.cursor] {
            apply(&mut self.state, step);
        }
    }
}

fn apply(state: &mut HashMap<String, ItemReview>, step: &Step) {
    for d in &step.decisions {
        let review = |status, label: Option<&String>, source| ItemReview {
            status,
            label: label.cloned(),
            source,
            time: d.time,
        };
        match &d.action {
            Action::Clear => {
                state.remove(&d.id);
            }
            Action::Accept => {
                state.insert(d.id.clone(), review(ReviewStatus::Accepted, None, None));
            }
            Action::Skip => {
                state.insert(d.id.clone(), review(ReviewStatus::Skipped, None, None));
            }
            Action::Relabel { label, source } => {
                state.insert(
                    d.id.clone(),
                    review(ReviewStatus::Relabeled, Some(label), Some(*source)),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::review::decision::Decision;

    fn step(items: &[(&str, Action)]) -> Step {
        Step {
            decisions: items
                .iter()
                .map(|(id, a)| Decision {
                    id: id.to_string(),
                    action: a.clone(),
                    time: 1,
                })
                .collect(),
        }
    }

    fn relabel(to: &str) -> Action {
        Action::Relabel {
            label: to.into(),
            source: LabelSource::Manual,
        }
    }

    #[test]
    fn undo_restores_the_decision_a_step_overwrote() {
        let mut h = History::new();
        h.push(step(&[("a", Action::Accept)]));
        h.push(step(&[("a", relabel("x")), ("b", Action::Skip)]));
        assert_eq!(h.get("a").unwrap().status, ReviewStatus::Relabeled);
        h.undo();
        assert_eq!(h.get("a").unwrap().status, ReviewStatus::Accepted);
        assert!(h.get("b").is_none());
        h.redo();
        assert_eq!(h.get("a").unwrap().label.as_deref(), Some("x"));
        assert_eq!(h.get("b").unwrap().status, ReviewStatus::Skipped);
    }

    #[test]
    fn a_bulk_step_is_one_undo_and_a_new_step_drops_the_redo_tail() {
        let mut h = History::new();
        h.push(step(&[
            ("a", Action::Accept),
            ("b", Action::Accept),
            ("c", Action::Accept),
        ]));
        assert_eq!(h.reviewed_count(), 3);
        h.undo();
        assert_eq!(h.reviewed_count(), 0);
        assert!(h.can_redo());
        h.push(step(&[("d", Action::Skip)]));
        assert!(!h.can_redo());
        assert_eq!(h.steps().len(), 1);
        assert!(h.redo().is_none());
        assert_eq!(h.reviewed_count(), 1);
    }

    #[test]
    fn clear_removes_a_decision_and_undo_brings_it_back() {
        let mut h = History::new();
        h.push(step(&[("a", relabel("y"))]));
        h.push(step(&[("a", Action::Clear)]));
        assert!(h.get("a").is_none());
        h.undo();
        assert_eq!(h.get("a").unwrap().label.as_deref(), Some("y"));
        assert!(h.undo().is_some());
        assert!(h.undo().is_none());
        assert!(!h.can_undo());
    }
}
