//! Flags and suspicion scores for the existing annotations.
