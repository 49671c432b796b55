//! `pairwise-audit synth`: write a synthetic catalogue with known truth.

use pairwise_audit::synth::{self, SynthParams};

use super::CliError;
use super::args::SynthArgs;

pub fn run(a: SynthArgs) -> Result<(), CliError> {
    // The generator assumes sane sizes; refuse the rest here with a sentence.
    let bad = |m: String| Err(CliError::BadInput(m));
    if a.n == 0 || a.d == 0 {
        return bad(format!(
            "--n and --d must be at least 1 (got n = {}, d = {})",
            a.n, a.d
        ));
    }
    if a.classes < 2 {
        return bad(format!("--classes must be at least 2 (got {})", a.classes));
    }
    if !(a.noise.is_finite() && a.noise >= 0.0) {
        return bad(format!(
            "--noise must be a finite number ≥ 0 (got {})",
            a.noise
        ));
    }
    if !(a.zipf.is_finite() && a.zipf >= 0.0) {
        return bad(format!(
            "--zipf must be a finite number ≥ 0 (got {})",
            a.zipf
        ));
    }
    if a.departments == 1 || a.departments > a.classes {
        return bad(format!(
            "--departments must be 0 (none) or between 2 and --classes ({}); got {}",
            a.classes, a.departments
        ));
    }
    if !(0.0..=1.0).contains(&a.flip) {
        return bad(format!(
            "--flip must be a fraction between 0 and 1 (got {})",
            a.flip
        ));
    }
    let params = SynthParams {
        n: a.n,
        d: a.d,
        classes: a.classes,
        noise: a.noise,
        flip: a.flip,
        zipf: a.zipf,
        seed: a.seed,
        departments: a.departments,
    };
    let started = std::time::Instant::now();
    let s = synth::generate(&params);
    std::fs::create_dir_all(&a.out)
        .map_err(|e| CliError::Internal(format!("could not create {}: {e}", a.out.display())))?;
    synth::write(&s, &a.out)
        .map_err(|e| CliError::Internal(format!("could not write {}: {e}", a.out.display())))?;
    let flipped = s
        .truth
        .iter()
        .zip(&s.annotations)
        .filter(|(t, a)| t != a)
        .count();
    let classes = if a.departments > 0 {
        format!(
            "{} departments of {} classes (fine_truth.csv has each item's class)",
            a.departments, a.classes
        )
    } else {
        format!("{} classes", a.classes)
    };
    println!(
        "Wrote {} items × {} dims, {classes} ({} annotations flipped; truth.csv has the real ones) to {} in {:.2} s",
        a.n,
        a.d,
        flipped,
        a.out.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
