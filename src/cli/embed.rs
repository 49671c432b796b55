//! `pairwise-audit embed`: compute a folder catalogue's image, text and class-prompt
//! embeddings with a CLIP model (built with the `embed` feature).

use std::path::PathBuf;

use clap::Args;

use super::CliError;

#[derive(Debug, Args)]
pub struct EmbedArgs {
    /// The catalogue folder: items.csv (id, description, image, label), classes.csv (name,
    /// prompt) and the images items.csv names.
    pub dataset: PathBuf,
    /// A model folder in the Hugging Face layout (config.json, model.safetensors,
    /// tokenizer.json, preprocessor_config.json) or a hub id such as
    /// openai/clip-vit-base-patch32 (downloaded into the Hugging Face cache once).
    #[arg(long)]
    pub model: String,
    /// Hub revision (branch, tag or commit) of a hub model.
    #[arg(long, default_value = "main")]
    pub revision: String,
    /// What to embed, comma-separated: image, text, classes [default: all three].
    #[arg(long, value_delimiter = ',')]
    pub modalities: Option<Vec<String>>,
    /// Inputs per forward pass.
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// cpu, or cuda[:N] / metal[:N] in a binary built with the `cuda` / `metal` feature.
    #[arg(long, default_value = "cpu")]
    pub device: String,
    /// No progress bars or warnings on stderr (the summary still goes to stdout).
    #[arg(long, short)]
    pub quiet: bool,
}

#[cfg(not(feature = "embed"))]
pub fn run(_: EmbedArgs) -> Result<(), CliError> {
    Err(CliError::BadInput(
        "this binary was built without the `embed` feature; rebuild it with `cargo build --release --features embed` to compute embeddings".into(),
    ))
}

#[cfg(feature = "embed")]
pub fn run(args: EmbedArgs) -> Result<(), CliError> {
    use std::sync::Arc;
    use std::time::Instant;

    use pairwise_audit::Monitor;
    use pairwise_audit::embed::{self, EmbedError, EmbedOptions, Model, Part};

    use super::interrupt;
    use super::progress::Watcher;

    let parts = match &args.modalities {
        None => Part::ALL.to_vec(),
        Some(list) => list
            .iter()
            .map(|s| {
                Part::parse(s).ok_or_else(|| {
                    CliError::BadInput(format!(
                        "--modalities: unknown part `{s}`; expected image, text or classes"
                    ))
                })
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    if args.batch == 0 {
        return Err(CliError::BadInput("--batch must be at least 1".into()));
    }
    let to_cli = |e: EmbedError| {
        match e {
        EmbedError::Input(m) => CliError::BadInput(m),
        EmbedError::Internal(m) => CliError::Internal(m),
        EmbedError::Cancelled(_) => CliError::Internal(
            "stopped by Ctrl-C; what was embedded is kept in the cache and a re-run continues from there".into(),
        ),
    }
    };
    let started = Instant::now();
    let device = embed::clip::device(&args.device).map_err(to_cli)?;
    let files = embed::resolve_model(&args.model, &args.revision, !args.quiet).map_err(to_cli)?;
    let model = Model::load(files, &device).map_err(to_cli)?;
    let loaded = started.elapsed().as_secs_f64();

    let monitor = Arc::new(Monitor::new());
    let _ctrl_c = interrupt::cancel_on_ctrl_c(Arc::clone(&monitor));
    let watcher = (!args.quiet).then(|| Watcher::start(Arc::clone(&monitor)));
    let options = EmbedOptions {
        parts,
        batch: args.batch,
    };
    let result = embed::embed_catalogue(&args.dataset, &model, &options, &monitor);
    if let Some(w) = watcher {
        w.finish();
    }
    if interrupt::was_interrupted() && result.is_err() {
        eprintln!("interrupted");
    }
    let report = result.map_err(to_cli)?;

    if !args.quiet {
        for w in &report.warnings {
            eprintln!("warning: {w}");
        }
        for (id, why) in report.unreadable.iter().take(5) {
            eprintln!("warning: item `{id}`: {why}; it has no image embedding.");
        }
        if report.unreadable.len() > 5 {
            eprintln!(
                "warning: … and {} more unreadable image(s).",
                report.unreadable.len() - 5
            );
        }
    }
    println!(
        "embedded {} with {} (revision {}, {} dimensions; model loaded in {loaded:.1} s)",
        args.dataset.display(),
        model.files.id,
        model.files.revision,
        report.dim
    );
    let line = |name: &str, c: &embed::job::Counts, extra: String| {
        let rate = if c.computed > 0 && c.seconds > 0.0 {
            format!(", {:.1}/s", c.computed as f64 / c.seconds)
        } else {
            String::new()
        };
        println!(
            "  {name:<8} {} computed, {} from the cache{extra} ({:.1} s{rate})",
            c.computed, c.cached, c.seconds
        );
    };
    if options.parts.contains(&Part::Image) {
        line(
            "images",
            &report.image,
            format!(
                ", {} unreadable, {} without an image",
                report.unreadable.len(),
                report.without_image
            ),
        );
    }
    if options.parts.contains(&Part::Text) {
        line("texts", &report.text, String::new());
    }
    if options.parts.contains(&Part::Classes) {
        line("classes", &report.classes, String::new());
    }
    for p in &report.written {
        println!("  wrote {}", p.display());
    }
    Ok(())
}
