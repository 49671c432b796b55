//! `pairwise-audit export`: write the reviewer's corrections from the decision log.

use std::path::PathBuf;

use clap::Args;
use pairwise_audit::Dataset;
use pairwise_audit::dataset::is_table_catalogue;
use pairwise_audit::review::export::{ExportFormat, export, export_dataset};
use pairwise_audit::review::{default_log_path, read_log};

use super::CliError;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The dataset whose decisions to export (a folder, or Parquet tables as for classify).
    pub dataset: PathBuf,
    #[command(flatten)]
    pub columns: super::columns::ColumnArgs,
    /// The file to write (never an input file of the dataset).
    #[arg(long, short)]
    pub out: PathBuf,
    /// csv, json or parquet [default: from the extension of --out, else csv].
    #[arg(long, value_parser = parse_format)]
    pub format: Option<ExportFormatArg>,
    /// Write a full copy of items.csv with the corrected labels instead of the corrections.
    #[arg(long)]
    pub all_items: bool,
    /// The decision log [default: DATASET/.pairwise-audit/decisions.jsonl].
    #[arg(long)]
    pub log: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug)]
pub struct ExportFormatArg(ExportFormat);

fn parse_format(s: &str) -> Result<ExportFormatArg, String> {
    ExportFormat::parse(s)
        .map(ExportFormatArg)
        .ok_or_else(|| format!("unknown format `{s}`; expected csv, json or parquet"))
}

pub fn run(args: ExportArgs) -> Result<(), CliError> {
    // A table catalogue has no items.csv to read on its own: its items come from the load.
    let table = if is_table_catalogue(&args.dataset) {
        let ds = Dataset::load_options(&args.dataset, &args.columns.options())
            .map_err(|e| CliError::BadInput(e.to_string()))?;
        super::columns::say_mapping(&ds);
        Some(ds)
    } else {
        None
    };
    let fingerprint = match &table {
        Some(ds) => ds.fingerprint.clone(),
        None => {
            let items = args.dataset.join("items.csv");
            let bytes = std::fs::read(&items)
                .map_err(|e| CliError::BadInput(format!("cannot read {}: {e}", items.display())))?;
            pairwise_audit::dataset::fingerprint(&bytes)
        }
    };
    let root = table
        .as_ref()
        .map_or_else(|| args.dataset.clone(), |ds| ds.root.clone());
    let log_path = args.log.clone().unwrap_or_else(|| default_log_path(&root));
    if !log_path.exists() {
        return Err(CliError::BadInput(format!(
            "no decision log at {}: nothing has been reviewed for this dataset yet \
             (or pass --log FILE)",
            log_path.display()
        )));
    }
    let log =
        read_log(&log_path, Some(&fingerprint)).map_err(|e| CliError::BadInput(e.to_string()))?;
    for w in &log.warnings {
        eprintln!("warning: {w}");
    }
    let format = args
        .format
        .map(|f| f.0)
        .or_else(|| ExportFormat::from_path(&args.out))
        .unwrap_or(ExportFormat::Csv);
    let rows = match &table {
        Some(ds) => export_dataset(ds, &log.history, &args.out, format, args.all_items),
        None => export(
            &args.dataset,
            &log.history,
            &args.out,
            format,
            args.all_items,
        ),
    }
    .map_err(|e| match e {
        pairwise_audit::review::export::ExportError::Write { .. } => {
            CliError::Internal(e.to_string())
        }
        _ => CliError::BadInput(e.to_string()),
    })?;
    let what = if args.all_items {
        "items"
    } else {
        "corrections"
    };
    println!(
        "wrote {rows} {what} to {} ({} items reviewed in the log)",
        args.out.display(),
        log.history.reviewed_count()
    );
    Ok(())
}
