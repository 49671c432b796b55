//! Every user action as a value. Panels push `Command`s while they draw; the shell applies
//! them after all panels have drawn, so no panel sees state change under it mid-frame.
//! Actions that need the platform (dialogs, closing the window) become `Action`s that the
//! eframe shell carries out, which keeps the UI testable without a display.

use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers};
use pairwise_audit::{Modality, PairKey};

use super::grid::{CellFilter, SortColumn};
use super::state::Tab;

/// The review workflow (accept, relabel, skip, undo …) adds its actions here, with their
/// labels and shortcuts in `label` and `shortcuts`, so menus, tooltips and a cheat sheet all
/// read one table.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Ask the platform for a folder, then open it.
    OpenDialog,
    OpenDataset(PathBuf),
    /// Classify the loaded catalogue again with the current settings.
    Rerun,
    CancelRun,
    Quit,
    DismissError,
    /// Select an item (index in items.csv order), or clear the selection.
    Select(Option<usize>),
    /// Move the selection within the grid's current order.
    Navigate(Nav),
    /// Sort by a column; the same column again reverses the order.
    SortBy(SortColumn),
    FilterCell(CellFilter),
    ClearCellFilter,
    /// Open the dimension inspector on a pair of one modality.
    InspectPair(Modality, PairKey),
    ShowTab(Tab),
}

/// Keyboard movement through the grid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nav {
    Next,
    Previous,
    PageDown,
    PageUp,
    First,
    Last,
}

impl Command {
    /// The menu / tooltip text.
    pub fn label(&self) -> &'static str {
        match self {
            Command::OpenDialog => "Open dataset…",
            Command::OpenDataset(_) => "Open dataset",
            Command::Rerun => "Re-run",
            Command::CancelRun => "Cancel",
            Command::Quit => "Quit",
            Command::DismissError => "Dismiss",
            Command::Select(_) => "Select item",
            Command::Navigate(Nav::Next) => "Next item",
            Command::Navigate(Nav::Previous) => "Previous item",
            Command::Navigate(Nav::PageDown) => "Page down",
            Command::Navigate(Nav::PageUp) => "Page up",
            Command::Navigate(Nav::First) => "First item",
            Command::Navigate(Nav::Last) => "Last item",
            Command::SortBy(_) => "Sort",
            Command::FilterCell(_) => "Filter to confusion cell",
            Command::ClearCellFilter => "Remove cell filter",
            Command::InspectPair(..) => "Inspect pair",
            Command::ShowTab(_) => "Show tab",
        }
    }

    /// The keyboard shortcuts that trigger this command (one table, read by menus too).
    pub fn shortcuts(&self) -> Vec<KeyboardShortcut> {
        fn k(key: Key) -> KeyboardShortcut {
            KeyboardShortcut::new(Modifiers::NONE, key)
        }
        match self {
            Command::OpenDialog => vec![KeyboardShortcut::new(Modifiers::COMMAND, Key::O)],
            Command::Quit => vec![KeyboardShortcut::new(Modifiers::COMMAND, Key::Q)],
            Command::Rerun => vec![KeyboardShortcut::new(Modifiers::COMMAND, Key::R)],
            Command::Navigate(Nav::Next) => vec![k(Key::ArrowDown)],
            Command::Navigate(Nav::Previous) => vec![k(Key::ArrowUp)],
            Command::Navigate(Nav::PageDown) => vec![k(Key::PageDown)],
            Command::Navigate(Nav::PageUp) => vec![k(Key::PageUp)],
            Command::Navigate(Nav::First) => vec![k(Key::Home)],
            Command::Navigate(Nav::Last) => vec![k(Key::End)],
            _ => vec![],
        }
    }

    /// Commands reachable by keyboard alone, checked each frame when no text field has focus.
    pub fn keyboard_commands() -> [Command; 9] {
        [
            Command::OpenDialog,
            Command::Quit,
            Command::Rerun,
            Command::Navigate(Nav::Next),
            Command::Navigate(Nav::Previous),
            Command::Navigate(Nav::PageDown),
            Command::Navigate(Nav::PageUp),
            Command::Navigate(Nav::First),
            Command::Navigate(Nav::Last),
        ]
    }

    /// Menu text with the first shortcut, e.g. "Open dataset…  (Ctrl+O)".
    pub fn shortcut_text(&self, ctx: &egui::Context) -> Option<String> {
        self.shortcuts().first().map(|s| ctx.format_shortcut(s))
    }
}

/// Something only the platform can do; carried out by the eframe shell.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    PickDatasetFolder,
    Quit,
}
