//! `pairwise-audit inspect`: what a catalogue would be read as — the column mapping, the
//! tables and their columns, row counts, dimensions, missing values per mapped column,
//! vector norms and the first rows — without classifying anything.

use std::fmt::Write as _;
use std::path::PathBuf;

use clap::Args;
use pairwise_audit::{Dataset, Modality};

use super::CliError;
use super::columns::ColumnArgs;

#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The catalogue: a folder, a Parquet file, a folder of Parquet shards, or a folder with
    /// catalogue.ron.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub columns: ColumnArgs,
    /// How many of the first rows to show.
    #[arg(long, default_value_t = 5)]
    pub rows: usize,
}

pub fn run(args: InspectArgs) -> Result<(), CliError> {
    let options = args.columns.options();
    #[cfg(feature = "parquet")]
    if pairwise_audit::dataset::is_table_catalogue(&args.dataset) {
        let mut out = String::new();
        use pairwise_audit::dataset::parquet::plan;
        let plan = pairwise_audit::dataset::parquet::guard(&args.dataset, || {
            plan(&args.dataset, &options)
        })
        .map_err(|e| CliError::BadInput(e.to_string()))?;
        let _ = writeln!(out, "{}: Parquet tables", args.dataset.display());
        for (path, rows) in plan.tables() {
            let _ = writeln!(out, "  table {} ({rows} rows)", path.display());
            for c in plan.columns().iter().filter(|c| c.table == path) {
                let _ = writeln!(out, "    {}: {}", c.name, c.data_type);
            }
        }
        let _ = writeln!(out, "mapping:");
        for note in &plan.notes {
            let _ = writeln!(out, "  {note}");
        }
        print!("{out}");
    }
    let ds = Dataset::load_options(&args.dataset, &options)
        .map_err(|e| CliError::BadInput(e.to_string()))?;
    print!("{}", describe(&ds, args.rows));
    Ok(())
}

/// The loaded catalogue's shape, fill and first rows.
pub fn describe(ds: &Dataset, first_rows: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "items: {}; classes: {} ({}); dimensions: {}",
        ds.len(),
        ds.num_classes(),
        ds.classes
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        ds.dim()
    );
    let annotated = ds.items.iter().filter(|it| it.label.is_some()).count();
    let _ = writeln!(out, "annotated: {annotated} of {}", ds.len());
    if let Some(t) = &ds.table {
        let _ = writeln!(out, "class table: {}", t.classes.display());
        let _ = writeln!(out, "missing values per mapped column:");
        for f in &t.fill {
            let _ = writeln!(
                out,
                "  {} `{}`: {} of {} rows null or empty",
                f.role,
                f.column,
                f.missing,
                ds.len()
            );
        }
    }
    for m in Modality::ALL {
        let Some(x) = ds.embeddings(m) else {
            let _ = writeln!(out, "{m} view: none");
            continue;
        };
        let norms: Vec<f64> = x
            .rows()
            .into_iter()
            .enumerate()
            .filter(|(i, _)| ds.views.has(m, *i))
            .map(|(_, r)| {
                r.iter()
                    .map(|&v| (v as f64) * (v as f64))
                    .sum::<f64>()
                    .sqrt()
            })
            .collect();
        let (min, max) = norms
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), &v| (a.min(v), b.max(v)));
        let mean = norms.iter().sum::<f64>() / norms.len().max(1) as f64;
        let _ = writeln!(
            out,
            "{m} view: {} of {} items, norms min {min:.4} mean {mean:.4} max {max:.4}",
            norms.len(),
            ds.len()
        );
    }
    let _ = writeln!(out, "first rows (id | label | description | image):");
    for it in ds.items.iter().take(first_rows) {
        let mut description: String = it.description.chars().take(60).collect();
        if it.description.chars().count() > 60 {
            description.push('…');
        }
        let _ = writeln!(
            out,
            "  {} | {} | {} | {}",
            it.id,
            it.label.map_or("", |c| ds.class_name(c)),
            description,
            it.image
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        );
    }
    for w in &ds.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}
