//! The egui review app.
