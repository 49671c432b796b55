//! The side panel's tabs, one module each, and the confusion matrix they open from.

pub(crate) mod confusion;
pub(crate) mod detail;
pub(crate) mod inspector;
pub(crate) mod metrics;
pub(crate) mod one_vs_rest;
pub(crate) mod settings;
