//! The headless command line (clap): `classify`, `synth`, `evaluate`, `export`, `inspect`, `embed`, and opening
//! the app.
//!
//! Exit status: 0 ok, 2 bad input (dataset, arguments, parameter or permutation files),
//! 1 internal error (e.g. an output file that cannot be written). Errors are one sentence
//! on stderr.

mod args;
mod classify;
mod columns;
mod embed;
mod evaluate;
mod export;
mod inspect;
#[cfg(feature = "embed")]
mod interrupt;
mod progress;
mod summary;
mod synth;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};

/// Why a command failed, and so which exit status it gets.
#[derive(Debug)]
pub enum CliError {
    /// The user can fix it: exit status 2.
    BadInput(String),
    /// Something went wrong on our side or the machine's: exit status 1.
    Internal(String),
}

impl CliError {
    fn exit_code(&self) -> ExitCode {
        match self {
            CliError::BadInput(_) => ExitCode::from(2),
            CliError::Internal(_) => ExitCode::from(1),
        }
    }

    fn message(&self) -> &str {
        match self {
            CliError::BadInput(m) | CliError::Internal(m) => m,
        }
    }
}

pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap's errors go to stderr; --help and --version go to stdout and succeed.
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let result = match cli.command {
        Some(Command::Classify(a)) => classify::run(a),
        Some(Command::Synth(a)) => synth::run(a),
        Some(Command::Evaluate(a)) => evaluate::run(a),
        Some(Command::Export(a)) => export::run(a),
        Some(Command::Inspect(a)) => inspect::run(a),
        Some(Command::Embed(a)) => embed::run(a),
        None => open_app(cli.dataset),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", e.message());
            e.exit_code()
        }
    }
}

#[cfg(feature = "gui")]
fn open_app(dataset: Option<PathBuf>) -> Result<(), CliError> {
    crate::app::run(dataset).map_err(CliError::Internal)
}

/// Without the app, the bare command explains how to run `classify`.
#[cfg(not(feature = "gui"))]
fn open_app(dataset: Option<PathBuf>) -> Result<(), CliError> {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    cmd.build();
    let usage = cmd
        .find_subcommand_mut("classify")
        .map(|c| c.render_help().to_string())
        .unwrap_or_default();
    eprintln!("This build has no review app (built without the `gui` feature).\n\n{usage}");
    Err(CliError::BadInput(match dataset {
        Some(d) => format!(
            "to audit {} run `pairwise-audit classify {} --out DIR`",
            d.display(),
            d.display()
        ),
        None => "no subcommand given; run `pairwise-audit classify DATASET --out DIR`".into(),
    }))
}
