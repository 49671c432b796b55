//! Every user action as a value. Panels push `Command`s while they draw; the shell applies
//! them after all panels have drawn, so no panel sees state change under it mid-frame.
//! Actions that need the platform (dialogs, closing the window) become `Action`s that the
//! eframe shell carries out, which keeps the UI testable without a display.

use std::path::PathBuf;

use egui::{Key, KeyboardShortcut, Modifiers};
use pairwise_audit::{Modality, PairKey};

use crate::app::grid::{CellFilter, RegionFilter, SortColumn};
use crate::app::map::Central;
use crate::app::review::decisions::Verdict;
use crate::app::state::Tab;

/// The review workflow (accept, relabel, skip, undo …) adds its actions here, with their
/// labels and shortcuts in `label` and `shortcuts`, so menus, tooltips and a cheat sheet all
/// read one table.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Ask the platform for a folder, then open it.
    OpenDialog,
    /// Ask the platform for a Parquet file, then open it.
    OpenFileDialog,
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
    /// Filter the grid to the items a lasso or box took on the map.
    FilterRegion(RegionFilter),
    ClearRegion,
    /// Scroll the grid to an item (selected on the map).
    Reveal(usize),
    /// Sort the grid by similarity to an item, most similar first.
    SortBySimilarity(std::sync::Arc<pairwise_audit::map::similar::Similarity>),
    /// Grid, Map, or both.
    ShowCentral(Central),
    /// Open the dimension inspector on a pair of one modality.
    InspectPair(Modality, PairKey),
    ShowTab(Tab),
    /// Record a verdict on the marked items, or else on the selected one.
    Decide(Verdict),
    /// The class picker, for the marked or selected items.
    OpenClassPicker,
    /// The class picker, for every item the grid shows.
    OpenBulkClassPicker,
    ClosePicker,
    Undo,
    Redo,
    ToggleAutoAdvance,
    ToggleCheatSheet,
    /// Apply a verdict to every item the grid shows, after a confirmation naming the count.
    BulkOnShown(Verdict),
    /// The item keeps its annotation (accepted) and the items it looks the same as are
    /// relabelled to it; `None`: the selected item.
    SameLabelAs(Option<usize>),
    ConfirmBulk,
    CancelBulk,
    /// Ctrl-click: add an item to the marked set, or take it out.
    ToggleMark(usize),
    /// Shift-click: mark every item from the selection to this one in the grid's order.
    MarkRange(usize),
    /// Ask the platform where to export (corrections, or a corrected items.csv).
    ExportDialog {
        all_items: bool,
    },
    ExportTo {
        path: PathBuf,
        all_items: bool,
    },
    /// Ask the platform where to keep the decision log (a read-only dataset folder).
    PickLogPath,
    UseLogPath(PathBuf),
    /// Ask the platform for a folder to write the one-vs-rest kept items into.
    CarveDialog,
    /// Write the kept items into this folder as a catalogue, then open it.
    CarveTo(PathBuf),
    /// Ask the platform for a CLIP model folder, then embed the catalogue with it.
    PickModelFolder {
        dataset: PathBuf,
        classes_only: bool,
    },
    /// Compute the catalogue's embeddings (or only its class prompts'), then classify it.
    Embed {
        dataset: PathBuf,
        model: PathBuf,
        classes_only: bool,
    },
    /// Write these prompts (one per class) into the open catalogue's classes.csv, embed them
    /// with the remembered model and classify again.
    SavePrompts(Vec<String>),
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
            Command::OpenFileDialog => "Open Parquet file…",
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
            Command::FilterRegion(_) => "Filter to map selection",
            Command::ClearRegion => "Remove map selection filter",
            Command::Reveal(_) => "Show in grid",
            Command::SortBySimilarity(_) => "Sort by similarity to this item",
            Command::ShowCentral(_) => "Show",
            Command::InspectPair(..) => "Inspect pair",
            Command::ShowTab(_) => "Show tab",
            Command::Decide(Verdict::Accept) => "Accept",
            Command::Decide(Verdict::RelabelImage) => "Relabel to image label",
            Command::Decide(Verdict::RelabelText) => "Relabel to text label",
            Command::Decide(Verdict::RelabelTo(_)) => "Relabel to class",
            Command::Decide(Verdict::Skip) => "Skip",
            Command::Decide(Verdict::Clear) => "Clear decision",
            Command::OpenClassPicker => "Relabel to class…",
            Command::OpenBulkClassPicker => "Relabel all shown to class…",
            Command::ClosePicker => "Close",
            Command::Undo => "Undo",
            Command::Redo => "Redo",
            Command::ToggleAutoAdvance => "Auto-advance",
            Command::ToggleCheatSheet => "Keyboard shortcuts",
            Command::BulkOnShown(_) => "Apply to all shown",
            Command::SameLabelAs(_) => "Give its look-alikes this label",
            Command::ConfirmBulk => "Apply",
            Command::CancelBulk => "Cancel",
            Command::ToggleMark(_) => "Mark item",
            Command::MarkRange(_) => "Mark range",
            Command::ExportDialog { all_items: false } => "Export corrections…",
            Command::ExportDialog { all_items: true } => "Export corrected items.csv…",
            Command::ExportTo { .. } => "Export",
            Command::PickLogPath => "Choose where to keep the decision log…",
            Command::UseLogPath(_) => "Use decision log",
            Command::CarveDialog => "Open the kept items as a catalogue…",
            Command::CarveTo(_) => "Write the kept items",
            Command::PickModelFolder {
                classes_only: false,
                ..
            } => "Compute embeddings…",
            Command::PickModelFolder {
                classes_only: true, ..
            } => "Re-embed class prompts…",
            Command::Embed {
                classes_only: false,
                ..
            } => "Compute embeddings",
            Command::Embed {
                classes_only: true, ..
            } => "Re-embed class prompts",
            Command::SavePrompts(_) => "Save prompts and re-embed",
        }
    }

    /// What the command does, for tooltips and the cheat sheet.
    pub fn tooltip(&self) -> &'static str {
        match self {
            Command::Decide(Verdict::Accept) => {
                "The annotation is correct (marked items, or the selected one)"
            }
            Command::Decide(Verdict::RelabelImage) => {
                "Replace the annotation with the image modality's pairwise label"
            }
            Command::Decide(Verdict::RelabelText) => {
                "Replace the annotation with the text modality's pairwise label"
            }
            Command::Decide(Verdict::Skip) => "Unsure: mark as looked at and move on",
            Command::Decide(Verdict::Clear) => "Forget the decision on the item",
            Command::OpenClassPicker => "Pick any class, typing to search",
            Command::Undo => "Take back the last decision (a bulk action is one step)",
            Command::Redo => "Re-apply the decision taken back last",
            Command::ToggleAutoAdvance => "After a decision, select the next item in the grid",
            Command::SameLabelAs(_) => {
                "Accept this item's annotation and relabel the items that look the same to it"
            }
            Command::ToggleCheatSheet => "Show or hide this list",
            Command::Navigate(_) => "Move the selection in the grid's current order",
            Command::OpenDialog => "Open a dataset folder",
            Command::OpenFileDialog => "Open a catalogue held in one Parquet file",
            Command::Rerun => "Classify again with the settings panel's parameters",
            Command::Quit => "Close the window (every decision is already saved)",
            _ => "",
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
            Command::Navigate(Nav::Next) => vec![k(Key::ArrowDown), k(Key::J)],
            Command::Navigate(Nav::Previous) => vec![k(Key::ArrowUp), k(Key::K)],
            Command::Navigate(Nav::PageDown) => vec![k(Key::PageDown)],
            Command::Navigate(Nav::PageUp) => vec![k(Key::PageUp)],
            Command::Navigate(Nav::First) => vec![k(Key::Home)],
            Command::Navigate(Nav::Last) => vec![k(Key::End)],
            Command::Decide(Verdict::Accept) => vec![k(Key::A)],
            Command::Decide(Verdict::RelabelImage) => vec![k(Key::I)],
            Command::Decide(Verdict::RelabelText) => vec![k(Key::T)],
            Command::Decide(Verdict::Skip) => vec![k(Key::S)],
            Command::Decide(Verdict::Clear) => vec![k(Key::Delete)],
            Command::OpenClassPicker => vec![k(Key::C)],
            Command::Undo => vec![KeyboardShortcut::new(Modifiers::COMMAND, Key::Z)],
            Command::Redo => vec![
                KeyboardShortcut::new(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z),
                KeyboardShortcut::new(Modifiers::COMMAND, Key::Y),
            ],
            Command::ToggleCheatSheet => vec![k(Key::Questionmark)],
            Command::SameLabelAs(None) => vec![k(Key::L)],
            _ => vec![],
        }
    }

    /// Commands reachable by keyboard alone, checked each frame in this order when no text
    /// field has focus. Redo comes before Undo: egui matches Ctrl+Z even while Shift is held,
    /// so the more specific Ctrl+Shift+Z must get the first look.
    pub fn keyboard_commands() -> Vec<Command> {
        vec![
            Command::OpenDialog,
            Command::Quit,
            Command::Rerun,
            Command::Redo,
            Command::Undo,
            Command::Navigate(Nav::Next),
            Command::Navigate(Nav::Previous),
            Command::Navigate(Nav::PageDown),
            Command::Navigate(Nav::PageUp),
            Command::Navigate(Nav::First),
            Command::Navigate(Nav::Last),
            Command::Decide(Verdict::Accept),
            Command::Decide(Verdict::RelabelImage),
            Command::Decide(Verdict::RelabelText),
            Command::OpenClassPicker,
            Command::Decide(Verdict::Skip),
            Command::Decide(Verdict::Clear),
            Command::ToggleCheatSheet,
            Command::SameLabelAs(None),
        ]
    }

    /// Every shortcut with its text, for the cheat sheet; read from the same table as the
    /// keyboard handling, so the two cannot disagree.
    pub fn cheat_sheet(ctx: &egui::Context) -> Vec<(String, &'static str, &'static str)> {
        Command::keyboard_commands()
            .into_iter()
            .map(|c| {
                let keys = c
                    .shortcuts()
                    .iter()
                    // egui spells this key out; people know it as the character.
                    .map(|s| ctx.format_shortcut(s).replace("Questionmark", "?"))
                    .collect::<Vec<_>>()
                    .join(" / ");
                (keys, c.label(), c.tooltip())
            })
            .collect()
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
    PickDatasetFile,
    /// A save dialog for an export; the shell answers with `Command::ExportTo`.
    PickExportPath {
        all_items: bool,
    },
    /// A save dialog for the decision log; the shell answers with `Command::UseLogPath`.
    PickLogPath,
    /// A folder dialog for the carved-out catalogue; the shell answers with `Command::CarveTo`.
    PickCarveFolder,
    /// A folder dialog for a CLIP model; the shell answers with `Command::Embed`.
    PickModelFolder {
        dataset: PathBuf,
        classes_only: bool,
    },
    Quit,
}
