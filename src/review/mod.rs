//! Review work: the decisions a reviewer makes, their undo history, the crash-safe log that
//! holds them beside the dataset, and the export of corrections. Review work is data, not UI
//! state: the app and the command line both read and write it through this module.

pub mod decision;
pub mod export;
pub mod history;
pub mod log;

pub use decision::{Action, Decision, LabelSource, Step};
pub use history::{History, ItemReview, ReviewStatus};
pub use log::{LogError, LogWriter, OpenedLog, default_log_path, read_log};
