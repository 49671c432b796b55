//! `pairwise-audit classify`: load → classify → audit → metrics → write, timed per stage.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use pairwise_audit::audit::Audit;
use pairwise_audit::classify::ClassifyError;
use pairwise_audit::dataset::LoadError;
use pairwise_audit::dataset::subset::write_subset;
use pairwise_audit::metrics::MetricsReport;
use pairwise_audit::one_vs_rest::{KeepRule, OneVsRestParams};
use pairwise_audit::output::{self, RunInfo, ScorerInfo, Timing};
use pairwise_audit::scorers::scorer_by_name;
use pairwise_audit::{Dataset, Modality, Monitor, Params, classify, tournament};

use super::CliError;
use super::args::ClassifyArgs;
use super::progress::Watcher;
use super::summary;

/// The folder under `--out` that `--keep` writes the carved-out catalogue into.
pub const KEPT_FOLDER: &str = "kept";

/// How many loader warnings to print before summarising the rest.
const MAX_WARNINGS: usize = 5;

pub fn run(args: ClassifyArgs) -> Result<(), CliError> {
    let started = Instant::now();
    // Everything that can be checked without the dataset is checked first, so that a typo
    // in a flag or file does not cost a load.
    let mut params = match &args.params {
        Some(p) => read_params(p)?,
        None => Params::default(),
    };
    check_one_vs_rest(&args).map_err(CliError::BadInput)?;
    apply_flags(&mut params, &args);
    check_params(&params).map_err(CliError::BadInput)?;
    let perms = args.perms.as_deref().map(read_perms).transpose()?;
    if args.out.exists() && !args.out.is_dir() {
        return Err(CliError::BadInput(format!(
            "--out {} is a file, not a folder",
            args.out.display()
        )));
    }
    let scorer = scorer_by_name(&args.scorer)
        .ok_or_else(|| CliError::BadInput(format!("unknown scorer `{}`", args.scorer)))?;

    let monitor = Arc::new(Monitor::new());
    let watcher = (!args.quiet).then(|| Watcher::start(Arc::clone(&monitor)));
    let mut clock = Stopwatch::new();

    let ds = match Dataset::load_with_options(&args.dataset, &args.columns.options(), &monitor) {
        Ok(ds) => ds,
        Err(LoadError::Invalid(e)) => return Err(CliError::BadInput(e.to_string())),
        Err(LoadError::Cancelled(e)) => return Err(CliError::Internal(e.to_string())),
    };
    clock.lap("load");
    if !args.quiet {
        super::columns::say_mapping(&ds);
        print_warnings(&ds.warnings);
    }

    params.modalities = choose_modalities(&ds, &params.modalities, args.modalities.is_some())?;
    if let (Some(perms), Some(path)) = (&perms, &args.perms) {
        tournament::validate_permutations(perms, ds.num_classes())
            .map_err(|m| CliError::BadInput(format!("{}: {m}", path.display())))?;
        params.permutations = Some(perms.clone());
    }

    clock.restart();
    let mut cls = classify(&ds, &params, &monitor).map_err(|e| match e {
        ClassifyError::BadPermutations(m) => CliError::BadInput(m),
        ClassifyError::BadOneVsRest(m) => CliError::BadInput(m),
        ClassifyError::Cancelled => CliError::Internal(e.to_string()),
    })?;
    let classify_wall = clock.elapsed();
    let mut engine_stages = 0.0;
    for m in cls.modalities() {
        if let Some(r) = cls.get(m) {
            for (stage, secs) in &r.timings {
                engine_stages += secs;
                clock.push(format!("{m}/{stage}"), *secs);
            }
        }
    }
    if let Some(ovr) = &cls.one_vs_rest {
        engine_stages += ovr.seconds;
        clock.push("one_vs_rest".into(), ovr.seconds);
    }
    // The engine times its own stages; whatever it spent outside them (setup, stages run
    // for both modalities at once) shows up here, so the timings add up to the wall time.
    clock.push(
        "classify/other".into(),
        (classify_wall - engine_stages).max(0.0),
    );
    if args.all_ratios {
        for r in [cls.image.as_mut(), cls.text.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(x) = ds.embeddings(r.modality) {
                r.fill_ratios(x.view());
            }
        }
    }
    clock.restart();

    let audit = Audit::run(&ds, &cls, scorer.as_ref(), &monitor)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    clock.lap("audit");
    let metrics = MetricsReport::compute(&ds, &cls);
    clock.lap("metrics");

    std::fs::create_dir_all(&args.out).map_err(|e| {
        CliError::Internal(format!(
            "could not create the output folder {}: {e}",
            args.out.display()
        ))
    })?;
    let run = RunInfo {
        dataset: args.dataset.clone(),
        scorer: ScorerInfo::of(scorer.as_ref()),
        timings: clock.timings.clone(),
    };
    output::write_all(&args.out, &ds, &cls, &audit, &metrics, &run, &monitor)
        .map_err(|e| CliError::Internal(e.to_string()))?;
    let kept = match (&args.keep, &cls.one_vs_rest) {
        (Some(_), Some(ovr)) => {
            let rows = ovr.kept_items(ds.len());
            let dir = args.out.join(KEPT_FOLDER);
            let info =
                write_subset(&ds, &rows, &dir).map_err(|e| CliError::Internal(e.to_string()))?;
            Some((dir, info))
        }
        _ => None,
    };
    clock.lap("write");
    clock.push("total".into(), started.elapsed().as_secs_f64());
    if let Some(w) = watcher {
        w.finish();
    }

    let rendered = summary::render(&summary::Run {
        dataset: &args.dataset,
        out: &args.out,
        ds: &ds,
        cls: &cls,
        audit: &audit,
        metrics: &metrics,
        scorer: &run.scorer,
        timings: &clock.timings,
    });
    print!("{rendered}");
    if let Some((dir, info)) = kept {
        println!(
            "Wrote the {} kept items to {} — audit them with `pairwise-audit classify {} --out …` \
             or open them in the app.",
            info.items,
            dir.display(),
            dir.display()
        );
        for (m, n) in info.without_view {
            println!("  {n} of them have no {m} view: their {m} rows there are zeros.");
        }
    }
    Ok(())
}

fn read_params(path: &Path) -> Result<Params, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::BadInput(format!(
            "could not read the params file {}: {e}",
            path.display()
        ))
    })?;
    Params::from_ron(&text).map_err(|e| {
        CliError::BadInput(format!(
            "{}: not a valid RON parameter set ({e})",
            path.display()
        ))
    })
}

fn apply_flags(params: &mut Params, args: &ClassifyArgs) {
    if let Some(k) = args.k {
        params.k = k;
    }
    if let Some(f) = args.floor {
        params.floor = Some(f);
    }
    if let Some(m) = args.margin {
        params.margin = Some(m);
    }
    if let Some(n) = args.min_items {
        params.min_items = n;
    }
    if let Some(s) = args.seed {
        params.seed = s;
    }
    if let Some(m) = &args.modalities {
        params.modalities = m.clone();
    }
    if let Some(class) = args.one_vs_rest.as_ref().or(args.keep.as_ref()) {
        params.one_vs_rest = Some(OneVsRestParams {
            class: class.clone(),
            ..params.one_vs_rest.take().unwrap_or_default()
        });
    }
    if let Some(spec) = params.one_vs_rest.as_mut() {
        if let Some(rest) = &args.rest {
            spec.rest = Some(rest.clone());
        }
        if let Some(rule) = args.keep_rule.as_deref().and_then(KeepRule::parse) {
            spec.keep = rule;
        }
    }
}

/// The one-vs-rest flags that only make sense together.
fn check_one_vs_rest(args: &ClassifyArgs) -> Result<(), String> {
    if let (Some(a), Some(b)) = (&args.one_vs_rest, &args.keep)
        && a != b
    {
        return Err(format!(
            "--one-vs-rest {a} and --keep {b} name different classes; --keep CLASS runs the \
             binary step for CLASS itself"
        ));
    }
    if args.one_vs_rest.is_none() && args.keep.is_none() {
        for (flag, set) in [
            ("--rest", args.rest.is_some()),
            ("--keep-rule", args.keep_rule.is_some()),
        ] {
            if set {
                return Err(format!("{flag} needs --one-vs-rest CLASS or --keep CLASS"));
            }
        }
    }
    Ok(())
}

/// Values the engine would accept but that make no sense, whether from a flag or a file.
fn check_params(p: &Params) -> Result<(), String> {
    if p.k == 0 {
        return Err("k (dimensions per class pair) must be at least 1".into());
    }
    for (name, v) in [("floor", p.floor), ("margin", p.margin)] {
        if let Some(v) = v
            && !v.is_finite()
        {
            return Err(format!("the {name} must be a finite number (got {v})"));
        }
    }
    for (name, v) in [
        ("floor_percentile", p.floor_percentile),
        ("margin_percentile", p.margin_percentile),
    ] {
        if !(0.0..=100.0).contains(&v) {
            return Err(format!("{name} must be between 0 and 100 (got {v})"));
        }
    }
    Ok(())
}

/// Parse a `--perms` file: a JSON array with one permutation (array of indices) per round.
pub fn read_perms(path: &Path) -> Result<Vec<Vec<usize>>, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        CliError::BadInput(format!(
            "could not read the permutations file {}: {e}",
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        CliError::BadInput(format!(
            "{}: expected a JSON array with one permutation per round, e.g. [[2,0,1],[1,0]] ({e})",
            path.display()
        ))
    })
}

/// The modalities to classify: those asked for that the dataset has. Naming one explicitly
/// that the dataset lacks is an error; the default (both) quietly takes what is there.
fn choose_modalities(
    ds: &Dataset,
    wanted: &[Modality],
    explicit: bool,
) -> Result<Vec<Modality>, CliError> {
    let present = ds.modalities();
    if explicit && let Some(m) = wanted.iter().find(|m| !present.contains(m)) {
        return Err(CliError::BadInput(format!(
            "the dataset has no {m} embeddings ({m}_embeddings.npy), so --modalities cannot include {m}"
        )));
    }
    let chosen: Vec<Modality> = present.into_iter().filter(|m| wanted.contains(m)).collect();
    if chosen.is_empty() {
        return Err(CliError::BadInput(
            "none of the requested modalities is present in the dataset".to_string(),
        ));
    }
    Ok(chosen)
}

fn print_warnings(warnings: &[String]) {
    for w in warnings.iter().take(MAX_WARNINGS) {
        eprintln!("warning: {w}");
    }
    if warnings.len() > MAX_WARNINGS {
        eprintln!(
            "warning: … and {} more (all listed in metrics.json)",
            warnings.len() - MAX_WARNINGS
        );
    }
}

/// Wall time per stage, in the order the stages ran.
struct Stopwatch {
    since: Instant,
    timings: Vec<Timing>,
}

impl Stopwatch {
    fn new() -> Stopwatch {
        Stopwatch {
            since: Instant::now(),
            timings: Vec::new(),
        }
    }

    fn elapsed(&self) -> f64 {
        self.since.elapsed().as_secs_f64()
    }

    /// Record the time since the last lap (or restart) as `stage`.
    fn lap(&mut self, stage: &str) {
        self.push(stage.to_string(), self.elapsed());
        self.restart();
    }

    fn restart(&mut self) {
        self.since = Instant::now();
    }

    fn push(&mut self, stage: String, seconds: f64) {
        self.timings.push(Timing { stage, seconds });
    }
}
