//! `pairwise-audit evaluate`: inject label flips (or read `truth.csv`), run the suspicion
//! scorers and print how well each ranks the known errors (see `docs/scorers.md`).

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use pairwise_audit::Dataset;
use pairwise_audit::evaluate::{
    self, ErrorSource, EvalConfig, EvalError, EvalReport, FlipMode, RunMetrics, mean_sd,
};
use pairwise_audit::scorers::ScorerParams;

use super::CliError;

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The dataset (a folder, or Parquet tables as for classify).
    pub dataset: PathBuf,
    #[command(flatten)]
    pub columns: super::columns::ColumnArgs,
    /// Fraction of the annotated items whose label is flipped per run [default: 0.1; without
    /// --flip and --mode a catalogue with truth.csv is evaluated against its truth instead].
    #[arg(long)]
    pub flip: Option<f64>,
    /// Where flips point: `uniform` (any other class) or `confusable` (the most similar class).
    #[arg(long, value_parser = parse_mode)]
    pub mode: Option<FlipMode>,
    /// Number of runs (seeds first-seed, first-seed+1, …) to average.
    #[arg(long, default_value_t = 5)]
    pub seeds: u64,
    /// The first seed.
    #[arg(long, default_value_t = 0)]
    pub first_seed: u64,
    /// Evaluate against the catalogue's truth.csv (id,label) instead of injecting flips.
    #[arg(long, conflicts_with_all = ["flip", "mode"])]
    pub truth: bool,
    /// Scorers to run, comma-separated [default: every one].
    #[arg(long, value_delimiter = ',')]
    pub scorer: Vec<String>,
    /// Modalities to use, comma-separated [default: every one the dataset has].
    #[arg(long, value_delimiter = ',', value_parser = parse_modality)]
    pub modalities: Vec<pairwise_audit::Modality>,
    /// Neighbours in the vote [default: 20].
    #[arg(long)]
    pub knn_k: Option<usize>,
    /// Covariance shrinkage of the whitened scorer, 0..1 [default: 0.1].
    #[arg(long)]
    pub shrinkage: Option<f64>,
    /// Fraction of the most suspicious items left out of the prototypes in a second pass
    /// [default: 0.1].
    #[arg(long)]
    pub trim: Option<f64>,
    /// Dimensions per pair for pairwise-prototype [default: 100].
    #[arg(long)]
    pub pair_dims: Option<usize>,
    /// Leading covariance directions kept exactly by the whitened scorer [default: 32].
    #[arg(long)]
    pub metric_rank: Option<usize>,
    /// Items used to estimate the whitened scorer's covariance [default: 10000].
    #[arg(long)]
    pub cov_items: Option<usize>,
    /// Largest catalogue searched exactly for neighbours; larger ones use the approximate
    /// search [default: 5000].
    #[arg(long)]
    pub knn_exact_max_items: Option<usize>,
    /// Principal directions of the approximate neighbour search [default: 32].
    #[arg(long)]
    pub knn_dims: Option<usize>,
    /// Cells the approximate neighbour search visits per item [default: 8].
    #[arg(long)]
    pub knn_probe: Option<usize>,
    /// Reference items the approximate neighbour search looks among [default: 100000].
    #[arg(long)]
    pub knn_reference: Option<usize>,
    /// Also write the full report (every run) as JSON.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// No per-run lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

fn parse_mode(s: &str) -> Result<FlipMode, String> {
    FlipMode::parse(s)
        .ok_or_else(|| format!("unknown flip mode `{s}`; expected uniform or confusable"))
}

fn parse_modality(s: &str) -> Result<pairwise_audit::Modality, String> {
    pairwise_audit::Modality::parse(s)
        .ok_or_else(|| format!("unknown modality `{s}`; expected image or text"))
}

pub fn run(args: EvaluateArgs) -> Result<(), CliError> {
    let start = Instant::now();
    let ds = Dataset::load_options(&args.dataset, &args.columns.options())
        .map_err(|e| CliError::BadInput(e.to_string()))?;
    super::columns::say_mapping(&ds);
    let load_seconds = start.elapsed().as_secs_f64();
    let has_truth = ds.root.join("truth.csv").exists();
    let source = if args.truth || (has_truth && args.flip.is_none() && args.mode.is_none()) {
        ErrorSource::Truth
    } else {
        ErrorSource::Injected {
            fraction: args.flip.unwrap_or(0.1),
            mode: args.mode.unwrap_or(FlipMode::Uniform),
        }
    };
    let defaults = ScorerParams::default();
    let params = ScorerParams {
        knn_k: args.knn_k.unwrap_or(defaults.knn_k),
        shrinkage: args.shrinkage.unwrap_or(defaults.shrinkage),
        trim: args.trim.unwrap_or(defaults.trim),
        pair_dims: args.pair_dims.unwrap_or(defaults.pair_dims),
        metric_rank: args.metric_rank.unwrap_or(defaults.metric_rank),
        max_cov_items: args.cov_items.unwrap_or(defaults.max_cov_items),
        knn_exact_max_items: args
            .knn_exact_max_items
            .unwrap_or(defaults.knn_exact_max_items),
        knn_dims: args.knn_dims.unwrap_or(defaults.knn_dims),
        knn_probe: args.knn_probe.unwrap_or(defaults.knn_probe),
        knn_reference_items: args.knn_reference.unwrap_or(defaults.knn_reference_items),
    };
    if !(0.0..=1.0).contains(&params.shrinkage) || !(0.0..1.0).contains(&params.trim) {
        return Err(CliError::BadInput(format!(
            "--shrinkage must lie in [0, 1] and --trim in [0, 1), found {} and {}",
            params.shrinkage, params.trim
        )));
    }
    let scorers = if args.scorer.is_empty() {
        evaluate::available_scorers()
    } else {
        args.scorer.clone()
    };
    let config = EvalConfig {
        source: source.clone(),
        seeds: if source == ErrorSource::Truth {
            1
        } else {
            args.seeds.max(1)
        },
        first_seed: args.first_seed,
        scorers,
        params,
        modalities: args.modalities.clone(),
    };
    let quiet = args.quiet;
    let report = evaluate::evaluate(&ds, &config, |name, m: &RunMetrics| {
        if !quiet {
            eprintln!(
                "  {name:<20} seed {:>3}: AUROC {}  P@k {}  ({:.3} s)",
                m.seed,
                fmt(m.auroc),
                fmt(m.precision_at_k),
                m.seconds
            );
        }
    })
    .map_err(|e| match e {
        EvalError::Classify(..) => CliError::Internal(e.to_string()),
        _ => CliError::BadInput(e.to_string()),
    })?;
    let mut out = std::io::stdout().lock();
    print_report(&mut out, &args.dataset, &report, config.seeds, load_seconds)
        .map_err(|e| CliError::Internal(format!("writing the report failed: {e}")))?;
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).expect("the report always serialises");
        std::fs::write(path, text)
            .map_err(|e| CliError::Internal(format!("{}: cannot write: {e}", path.display())))?;
    }
    Ok(())
}

fn fmt(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{v:.4}"))
}

fn fmt_ms(values: impl IntoIterator<Item = Option<f64>>) -> String {
    match mean_sd(values) {
        Some((m, sd)) => format!("{m:.4}±{sd:.4}"),
        None => "–".into(),
    }
}

fn fmt_count(values: impl IntoIterator<Item = Option<f64>>) -> String {
    match mean_sd(values) {
        Some((m, sd)) => format!("{m:.0}±{sd:.0}"),
        None => "–".into(),
    }
}

pub fn print_report(
    out: &mut impl Write,
    dataset: &std::path::Path,
    r: &EvalReport,
    seeds: u64,
    load_seconds: f64,
) -> std::io::Result<()> {
    let modalities: Vec<&str> = r.modalities.iter().map(|m| m.name()).collect();
    let errors = r
        .scorers
        .first()
        .and_then(|s| s.runs.first())
        .map_or(0, |m| m.errors);
    let what = match &r.source {
        ErrorSource::Injected { fraction, mode } => format!(
            "{:.0}% {} flips ({errors} per run), {seeds} seed(s)",
            fraction * 100.0,
            mode.name()
        ),
        ErrorSource::Truth => format!("annotations vs truth.csv ({errors} wrong)"),
    };
    writeln!(
        out,
        "{}: {} items, {} classes, {}; {what}; loaded in {load_seconds:.2} s",
        dataset.display(),
        r.items,
        r.classes,
        modalities.join("+"),
    )?;
    writeln!(
        out,
        "{:<20} {:>15} {:>15} {:>15} {:>15} {:>8} {:>15} {:>15} {:>9}",
        "scorer", "AUROC", "AP", "P@k", "R@k", "flagged", "P@flag", "R@flag", "time s"
    )?;
    for s in &r.scorers {
        let runs = &s.runs;
        let flagged = runs.iter().map(|m| m.flagged as f64).sum::<f64>() / runs.len().max(1) as f64;
        let secs = mean_sd(runs.iter().map(|m| Some(m.seconds))).map_or(0.0, |v| v.0);
        writeln!(
            out,
            "{:<20} {:>15} {:>15} {:>15} {:>15} {:>8.0} {:>15} {:>15} {:>9.3}",
            s.scorer,
            fmt_ms(runs.iter().map(|m| m.auroc)),
            fmt_ms(runs.iter().map(|m| m.average_precision)),
            fmt_ms(runs.iter().map(|m| m.precision_at_k)),
            fmt_ms(runs.iter().map(|m| m.recall_at_k)),
            flagged,
            fmt_ms(runs.iter().map(|m| m.precision_flagged)),
            fmt_ms(runs.iter().map(|m| m.recall_flagged)),
            secs
        )?;
    }
    writeln!(
        out,
        "k = number of errors; values are mean±sd over runs; time = scoring only, per run"
    )?;
    writeln!(
        out,
        "\n{:<20} {:>8} {:>15} {:>8} {:>15} {:>15} {:>15} {:>15}",
        "scorer", "errors", "estimated", "queued", "expected P", "P@queue", "R@queue", "F1@queue"
    )?;
    for s in &r.scorers {
        let runs = &s.runs;
        let queued = runs.iter().map(|m| m.queued as f64).sum::<f64>() / runs.len().max(1) as f64;
        let errors = runs.iter().map(|m| m.errors as f64).sum::<f64>() / runs.len().max(1) as f64;
        writeln!(
            out,
            "{:<20} {:>8.0} {:>15} {:>8.0} {:>15} {:>15} {:>15} {:>15}",
            s.scorer,
            errors,
            fmt_count(runs.iter().map(|m| m.estimated_errors)),
            queued,
            fmt_ms(runs.iter().map(|m| m.expected_precision_queue)),
            fmt_ms(runs.iter().map(|m| m.precision_queue)),
            fmt_ms(runs.iter().map(|m| m.recall_queue)),
            fmt_ms(runs.iter().map(|m| m.f1_queue)),
        )?;
    }
    writeln!(
        out,
        "estimated = the error count from the scores alone (docs/scorers.md); \
         queue = items more likely wrong than right"
    )
}
