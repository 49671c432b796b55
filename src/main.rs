//! The one binary: `pairwise-audit [DATASET]` opens the review app; subcommands run headless.

#[cfg(feature = "gui")]
mod app;
mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
