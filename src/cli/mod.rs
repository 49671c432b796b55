//! The headless command line (clap): `classify`, `synth`, and opening the app.

use std::process::ExitCode;

pub fn main() -> ExitCode {
    eprintln!("usage: pairwise-audit classify DATASET --out DIR");
    ExitCode::from(2)
}
