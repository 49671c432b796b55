//! The command-line grammar (clap derive).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Find annotation errors in image + text catalogues with a zero-shot pairwise
/// cross-variance tournament.
///
/// With no subcommand, opens the review app (on DATASET, or the last one used) when the
/// binary was built with the `gui` feature.
#[derive(Debug, Parser)]
#[command(
    name = "pairwise-audit",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// A dataset folder to open in the app.
    pub dataset: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Classify a catalogue, audit its annotations and write the results.
    Classify(ClassifyArgs),
    /// Generate a CLIP-like synthetic catalogue (for tests and benchmarks).
    Synth(SynthArgs),
    /// Measure how well each suspicion scorer finds injected (or known) annotation errors.
    Evaluate(super::evaluate::EvaluateArgs),
    /// Export the reviewer's corrections (or a corrected copy of items.csv) from the decision log.
    Export(super::export::ExportArgs),
    /// Show how a catalogue would be read: column mapping, tables, counts, norms, first rows.
    Inspect(super::inspect::InspectArgs),
    /// Compute a catalogue's image, text and class-prompt embeddings with a CLIP model.
    Embed(super::embed::EmbedArgs),
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// The dataset: a folder (items.csv, classes.csv, *_embeddings.npy), a Parquet file, a
    /// folder of Parquet shards, or a folder with catalogue.ron.
    pub dataset: PathBuf,
    #[command(flatten)]
    pub columns: super::columns::ColumnArgs,
    /// Folder for predictions.csv, flagged.csv, pairs.json and metrics.json (created if
    /// missing; existing files are replaced).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Dimensions kept per class pair [default: 100].
    #[arg(long)]
    pub k: Option<usize>,
    /// Absolute cosine floor [default: per modality, the 10th percentile of top cosines].
    #[arg(long, allow_negative_numbers = true)]
    pub floor: Option<f64>,
    /// Absolute head-to-head margin [default: per pair, the 25th percentile].
    #[arg(long, allow_negative_numbers = true)]
    pub margin: Option<f64>,
    /// Fewer kept items than this on a pair side falls back to all dimensions [default: 5].
    #[arg(long)]
    pub min_items: Option<usize>,
    /// Seed of the tournament's per-round permutations [default: 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Modalities to classify, comma-separated [default: every one the dataset has].
    #[arg(long, value_delimiter = ',', value_parser = parse_modality)]
    pub modalities: Option<Vec<pairwise_audit::Modality>>,
    /// JSON file with explicit per-round permutations, e.g. [[2,0,1,…],[1,0,…],…].
    #[arg(long)]
    pub perms: Option<PathBuf>,
    /// RON file with a full parameter set; the flags above override its fields.
    #[arg(long)]
    pub params: Option<PathBuf>,
    /// Suspicion scorer ranking flagged.csv.
    #[arg(
        long,
        default_value = pairwise_audit::scorers::DEFAULT_SCORER,
        value_parser = clap::builder::PossibleValuesParser::new(pairwise_audit::scorers::scorer_names())
    )]
    pub scorer: String,
    /// Every dimension's cross ratio for every pair in pairs.json. With many classes the run
    /// keeps only the selected dimensions' ratios of the pairs it played; this computes the
    /// rest (one pass over each played pair's items).
    #[arg(long)]
    pub all_ratios: bool,
    /// Also score CLASS against the rest (the write-up's binary step): one_vs_rest.csv, and
    /// the binary table in metrics.json and the summary.
    #[arg(long, value_name = "CLASS")]
    pub one_vs_rest: Option<String>,
    /// With --one-vs-rest or --keep: a class of the class table that stands for "everything
    /// else" [default: the best of the other classes, item by item].
    #[arg(long, value_name = "CLASS")]
    pub rest: Option<String>,
    /// Which views' sub-dimension decisions keep an item as the class: both (every view the
    /// item has), either, image or text [default: both].
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(["both", "either", "image", "text"]))]
    pub keep_rule: Option<String>,
    /// Carve CLASS out of the catalogue: run the binary step for CLASS and write the items it
    /// keeps to OUT/kept/ as a catalogue of their own, ready to be classified and reviewed.
    #[arg(long, value_name = "CLASS")]
    pub keep: Option<String>,
    /// No progress bars or warnings on stderr (the summary still goes to stdout).
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SynthArgs {
    /// Number of items.
    #[arg(long, default_value_t = 10_000)]
    pub n: usize,
    /// Embedding dimension.
    #[arg(long, default_value_t = 768)]
    pub d: usize,
    /// Number of classes.
    #[arg(long, default_value_t = 13)]
    pub classes: usize,
    /// Scale of every item-level noise source (1.0 = default difficulty).
    #[arg(long, default_value_t = 1.0)]
    pub noise: f64,
    /// Fraction of annotations flipped to another class (truth.csv keeps the real ones).
    #[arg(long, default_value_t = 0.05)]
    pub flip: f64,
    /// Class sizes fall off as rank^-ZIPF: 0 gives balanced classes, 1 Zipf's law.
    #[arg(long, default_value_t = pairwise_audit::synth::IMBALANCE)]
    pub zipf: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Deal the classes into this many departments that share a signature, and write the
    /// department catalogue (the generating classes go to fine_truth.csv); for one-vs-rest.
    #[arg(long, default_value_t = 0)]
    pub departments: usize,
    /// Folder to write the catalogue into (created if missing).
    #[arg(long, short)]
    pub out: PathBuf,
}

fn parse_modality(s: &str) -> Result<pairwise_audit::Modality, String> {
    pairwise_audit::Modality::parse(s)
        .ok_or_else(|| format!("unknown modality `{s}`; expected image or text"))
}
