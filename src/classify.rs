//! One run: for each modality, baseline → pair selection → tournament.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::Instant;

use ndarray::{Array2, ArrayView2, Axis};

use crate::one_vs_rest::OneVsRest;
use crate::selection::{self, PairBasis, PairRecord};
use crate::tournament::{self, draw_permutations, validate_permutations};
use rayon::prelude::*;

use crate::{Cancelled, ClassId, Dataset, Modality, Monitor, PairKey, Params, Stage, baseline};

/// Results for one modality. `scores`, `baseline`, `pairwise` … are in items.csv order.
#[derive(Clone, Debug)]
pub struct ModalityResult {
    pub modality: Modality,
    /// `1 / ‖x_i‖` (0 for a zero row), so the app can show normalised values.
    pub inv_norms: Vec<f64>,
    /// Baseline cosines `n × C`.
    pub scores: Array2<f64>,
    pub baseline: Vec<ClassId>,
    /// The floor used (given or derived).
    pub floor: f64,
    /// Computed pair records in `PairKey::index` order: every pair (with every dimension's
    /// ratio) when there are few classes (`selection::all_pairs_up_front`), else only the
    /// pairs the tournament played (with the selected dimensions' ratios). Look pairs up with
    /// `pair`; `pair_record` computes any other pair.
    pub pairs: Vec<PairRecord>,
    /// What any pair's record is computed from (`None` only in results built by hand, which
    /// must then hold every pair).
    pub basis: Option<Arc<PairBasis>>,
    pub pairwise: Vec<ClassId>,
    /// Margin of each item's final match (its winner against the runner-up), ≥ 0.
    pub pairwise_margin: Vec<f64>,
    /// The permutations the tournament used, one per round.
    pub permutations: Vec<Vec<usize>>,
    /// Seconds spent per stage, in order.
    pub timings: Vec<(&'static str, f64)>,
    /// Which items have this view; `None` when all do. An item without it has no label from
    /// this modality (its entries in the vectors above are placeholders: 0, class 0).
    pub present: Option<Vec<bool>>,
}

impl ModalityResult {
    /// Whether item `i` was classified in this modality.
    pub fn has(&self, i: usize) -> bool {
        self.present.as_ref().is_none_or(|p| p[i])
    }

    pub fn baseline_label(&self, i: usize) -> Option<ClassId> {
        self.has(i).then(|| self.baseline[i])
    }

    pub fn pairwise_label(&self, i: usize) -> Option<ClassId> {
        self.has(i).then(|| self.pairwise[i])
    }
}

impl ModalityResult {
    /// Whether `pairs` holds every class pair.
    pub fn has_every_pair(&self) -> bool {
        let c = self.scores.ncols();
        self.pairs.len() == c * c.saturating_sub(1) / 2
    }

    /// The computed record of `key`, if the run computed it (see `pairs`).
    pub fn pair(&self, key: PairKey) -> Option<&PairRecord> {
        if self.has_every_pair() {
            return self.pairs.get(key.index(self.scores.ncols()));
        }
        let at = self.pairs.binary_search_by_key(&key, |r| r.pair).ok()?;
        Some(&self.pairs[at])
    }

    /// The record of `key`, computed now when the run did not (or without every dimension's
    /// ratio when `with_ratios` asks for them). `x` must be this modality's embeddings.
    /// Costs a pass over the two classes' items at most: callers on a UI thread should
    /// run it elsewhere.
    pub fn pair_record(
        &self,
        x: ArrayView2<f32>,
        key: PairKey,
        with_ratios: bool,
    ) -> Cow<'_, PairRecord> {
        match self.pair(key) {
            Some(rec) if !with_ratios || rec.ratios.len() == x.ncols() => Cow::Borrowed(rec),
            _ => Cow::Owned(
                self.basis
                    .as_ref()
                    .expect("a result without a pair basis holds every pair")
                    .record(x, &self.inv_norms, self.scores.view(), key, with_ratios),
            ),
        }
    }
}

impl ModalityResult {
    /// Give every computed pair every dimension's ratio (for `pairs.json` on request). `x`
    /// must be this modality's embeddings.
    pub fn fill_ratios(&mut self, x: ArrayView2<f32>) {
        let Some(basis) = self.basis.clone() else {
            return;
        };
        let (inv_norms, scores) = (&self.inv_norms, self.scores.view());
        self.pairs
            .par_iter_mut()
            .filter(|rec| rec.ratios.len() != x.ncols())
            .for_each(|rec| *rec = basis.record(x, inv_norms, scores, rec.pair, true));
    }
}

/// The result of `classify` for every requested modality that the dataset has.
#[derive(Clone, Debug)]
pub struct Classification {
    pub params: Params,
    pub image: Option<ModalityResult>,
    pub text: Option<ModalityResult>,
    /// The binary step, when `params.one_vs_rest` asks for it.
    pub one_vs_rest: Option<OneVsRest>,
}

impl Classification {
    pub fn get(&self, m: Modality) -> Option<&ModalityResult> {
        match m {
            Modality::Image => self.image.as_ref(),
            Modality::Text => self.text.as_ref(),
        }
    }

    pub fn modalities(&self) -> Vec<Modality> {
        Modality::ALL
            .into_iter()
            .filter(|&m| self.get(m).is_some())
            .collect()
    }
}

/// Why `classify` stopped without a result.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClassifyError {
    /// The monitor's stop flag was set.
    #[error("the run was cancelled")]
    Cancelled,
    /// `params.one_vs_rest` names a class the catalogue does not have (one sentence).
    #[error("{0}")]
    BadOneVsRest(String),
    /// `params.permutations` does not fit the number of classes (one sentence saying which
    /// round and what was expected).
    #[error("{0}")]
    BadPermutations(String),
}

impl From<Cancelled> for ClassifyError {
    fn from(_: Cancelled) -> ClassifyError {
        ClassifyError::Cancelled
    }
}

/// Classify every modality in `params.modalities` that `ds` has, one after the other (each is
/// internally parallel). Progress goes to `monitor` stage by stage; a `cancel` takes effect
/// at the next chunk boundary (a few milliseconds of work).
///
/// Uses `params.permutations` when set (checked against the number of classes first), else
/// draws them from `params.seed`; both modalities play the same bracket.
pub fn classify(
    ds: &Dataset,
    params: &Params,
    monitor: &Monitor,
) -> Result<Classification, ClassifyError> {
    let num_classes = ds.num_classes();
    let permutations = match &params.permutations {
        Some(p) => {
            validate_permutations(p, num_classes).map_err(ClassifyError::BadPermutations)?;
            p.clone()
        }
        None => draw_permutations(num_classes, params.seed),
    };
    if let Some(spec) = &params.one_vs_rest {
        crate::one_vs_rest::resolve(ds, spec).map_err(ClassifyError::BadOneVsRest)?;
    }
    let mut out = Classification {
        params: params.clone(),
        image: None,
        text: None,
        one_vs_rest: None,
    };
    for m in ds.modalities() {
        if !params.modalities.contains(&m) {
            continue;
        }
        let x = ds.embeddings(m).expect("listed modalities are present");
        let classes = ds.class_embeddings.view();
        let result = match ds.views.get(m) {
            None => classify_modality(m, x.view(), classes, params, &permutations, monitor)?,
            Some(present) => classify_present_rows(
                m,
                x.view(),
                present,
                classes,
                params,
                &permutations,
                monitor,
            )?,
        };
        match m {
            Modality::Image => out.image = Some(result),
            Modality::Text => out.text = Some(result),
        }
    }
    if let Some(spec) = &params.one_vs_rest {
        let ovr = crate::one_vs_rest::run(ds, &out, spec, monitor)?;
        out.one_vs_rest = Some(ovr.map_err(ClassifyError::BadOneVsRest)?);
    }
    Ok(out)
}

/// `classify_modality` on the rows that have this view only — a missing view must not
/// weigh in the floor, the moments or the pair selection — with the results spread back to
/// every row. Copies the present rows once.
fn classify_present_rows(
    modality: Modality,
    x: ArrayView2<f32>,
    present: &[bool],
    classes: ArrayView2<f32>,
    params: &Params,
    permutations: &[Vec<usize>],
    monitor: &Monitor,
) -> Result<ModalityResult, Cancelled> {
    let rows: Vec<usize> = (0..x.nrows()).filter(|&i| present[i]).collect();
    let sub = x.select(Axis(0), &rows);
    let mut r = classify_modality(modality, sub.view(), classes, params, permutations, monitor)?;
    drop(sub);
    fn spread<T: Copy>(values: &[T], rows: &[usize], n: usize, fill: T) -> Vec<T> {
        let mut out = vec![fill; n];
        for (&i, &v) in rows.iter().zip(values) {
            out[i] = v;
        }
        out
    }
    let n = x.nrows();
    let mut scores = Array2::zeros((n, r.scores.ncols()));
    for (&i, row) in rows.iter().zip(r.scores.rows()) {
        scores.row_mut(i).assign(&row);
    }
    r.scores = scores;
    r.inv_norms = spread(&r.inv_norms, &rows, n, 0.0);
    r.baseline = spread(&r.baseline, &rows, n, 0);
    r.pairwise = spread(&r.pairwise, &rows, n, 0);
    r.pairwise_margin = spread(&r.pairwise_margin, &rows, n, 0.0);
    r.present = Some(present.to_vec());
    Ok(r)
}

/// Baseline → thresholds and moments → pair selection → tournament for one embedding matrix.
/// `permutations` must pass `validate_permutations` for `classes.nrows()` classes. `x` is
/// expected row-major, as the loader and `synth` produce it; any other layout gives the same
/// results but copies a row each time one is read.
pub fn classify_modality(
    modality: Modality,
    x: ArrayView2<f32>,
    classes: ArrayView2<f32>,
    params: &Params,
    permutations: &[Vec<usize>],
    monitor: &Monitor,
) -> Result<ModalityResult, Cancelled> {
    let n = x.nrows();
    let mut timings = Vec::new();
    let mut clock = Instant::now();
    let mut lap = |name: &'static str, timings: &mut Vec<(&'static str, f64)>| {
        timings.push((name, clock.elapsed().as_secs_f64()));
        clock = Instant::now();
    };

    monitor.begin(Stage::Baseline, Some(modality), baseline::progress_units(n));
    let base = baseline::baseline(x, classes, monitor)?;
    lap("baseline", &mut timings);

    // Thresholds count as the start of the moments stage (its total is known only after).
    monitor.begin(Stage::Moments, Some(modality), 0);
    let th = selection::thresholds(base.scores.view(), &base.labels, params, monitor)?;
    monitor.begin(
        Stage::Moments,
        Some(modality),
        selection::moments_progress_units(&th),
    );
    let basis = PairBasis::build(x, &base.inv_norms, base.scores.view(), th, params, monitor)?;
    lap("moments", &mut timings);

    // Few classes: every pair up front (cheap from the one-pass moments). Many: the
    // tournament computes the pairs it plays, as it plays them.
    monitor.begin(Stage::Selection, Some(modality), 1);
    monitor.check()?;
    let scores = base.scores.view();
    let up_front = basis.is_eager().then(|| {
        PairKey::all(classes.nrows())
            .into_par_iter()
            .map(|key| basis.record(x, &base.inv_norms, scores, key, true))
            .collect::<Vec<_>>()
    });
    monitor.advance(1);
    lap("selection", &mut timings);

    monitor.begin(
        Stage::Tournament,
        Some(modality),
        tournament::progress_units(n),
    );
    let (outcome, pairs) = match up_front {
        Some(pairs) => (
            tournament::run(x, classes, &pairs, permutations, monitor)?,
            pairs,
        ),
        None => tournament::run_lazy(
            x,
            classes,
            |key| basis.record(x, &base.inv_norms, scores, key, false),
            permutations,
            monitor,
        )?,
    };
    lap("tournament", &mut timings);

    Ok(ModalityResult {
        modality,
        inv_norms: base.inv_norms,
        scores: base.scores,
        baseline: base.labels,
        floor: basis.thresholds.floor,
        pairs,
        basis: Some(Arc::new(basis)),
        pairwise: outcome.labels,
        pairwise_margin: outcome.final_margins,
        permutations: permutations.to_vec(),
        timings,
        present: None,
    })
}
