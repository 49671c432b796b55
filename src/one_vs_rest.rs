//! The write-up's binary step: one class against the rest, at full dimension and on the
//! dimensions that the cross ratio picks for that class against everything else.
//!
//! Per modality, with `c` the class and `S` the baseline cosines:
//! * full-dimension scores: `S[i,c]` against the rest's score, which is `S[i,r]` when a rest
//!   class `r` (a class-table row worded as "anything else") is given, else the best other
//!   class, `max_{b≠c} S[i,b]` — the union of the other classes;
//! * the two sides are the items whose full-dimension decision is `c`, and the rest; they are
//!   filtered as a pair's sides are (`selection`): the modality's cosine floor on the larger
//!   of the two scores, and a margin on their gap (the `margin_percentile` of the gaps of every
//!   item, before the floor);
//! * the top `k` dimensions by cross ratio of the two kept sides (ties to the lower index; all
//!   dimensions when a side keeps fewer than `min_items`);
//! * sub-dimension scores: the same two scores with every cosine taken on those dimensions.
//!
//! Ties go to the class, as a match between two classes goes to the lower index.

use ndarray::ArrayView2;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::metrics::Confusion;
use crate::moments::{class_moments, inv_norm, row_slice};
use crate::selection::percentile;
use crate::{Cancelled, ClassId, Classification, Dataset, Modality, Monitor, Params};

/// What a run's binary step is asked to do (part of `Params`, so the app's settings and a
/// `--params` file carry it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OneVsRestParams {
    /// The class carved out, by name.
    pub class: String,
    /// A class-table row that stands for "everything else"; `None`: the union of the other
    /// classes (the best of them per item).
    pub rest: Option<String>,
    /// Which decisions keep an item as `class` (for the carved-out subset and the counts).
    pub keep: KeepRule,
}

/// Which views' sub-dimension decisions keep an item. An item without one of the views is
/// judged by the view it has under `Both` and `Either`; under `Image` or `Text` it is kept
/// only if it has that view and that view says the class.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeepRule {
    /// Every view the item has says the class.
    #[default]
    Both,
    /// Any view says the class.
    Either,
    Image,
    Text,
}

impl KeepRule {
    pub const ALL: [KeepRule; 4] = [
        KeepRule::Both,
        KeepRule::Either,
        KeepRule::Image,
        KeepRule::Text,
    ];

    pub fn name(self) -> &'static str {
        match self {
            KeepRule::Both => "both",
            KeepRule::Either => "either",
            KeepRule::Image => "image",
            KeepRule::Text => "text",
        }
    }

    pub fn parse(s: &str) -> Option<KeepRule> {
        KeepRule::ALL.into_iter().find(|r| r.name() == s)
    }
}

/// The two dimension sets a binary decision is made on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DimSet {
    /// Every dimension (the zero-shot baseline).
    Full,
    /// The dimensions selected for the class against the rest.
    Selected,
}

impl DimSet {
    pub const ALL: [DimSet; 2] = [DimSet::Full, DimSet::Selected];

    pub fn name(self) -> &'static str {
        match self {
            DimSet::Full => "baseline",
            DimSet::Selected => "sub-dimensions",
        }
    }
}

/// A class's score and the rest's, per item.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scores {
    pub class: Vec<f64>,
    pub rest: Vec<f64>,
}

impl Scores {
    /// Whether item `i` goes to the class (ties do).
    pub fn says_class(&self, i: usize) -> bool {
        self.class[i] >= self.rest[i]
    }
}

/// The binary step on one modality.
#[derive(Clone, Debug, PartialEq)]
pub struct BinaryView {
    pub modality: Modality,
    /// Which items have this view; `None` when all do (as `ModalityResult::present`).
    pub present: Option<Vec<bool>>,
    pub floor: f64,
    pub margin: f64,
    /// Items on the class side and the rest side by full-dimension decision.
    pub candidates: [usize; 2],
    /// Of those, the ones that passed the floor and the margin.
    pub kept: [usize; 2],
    /// A side kept fewer than `min_items`: every dimension is used.
    pub fallback: bool,
    /// The selected dimensions, best first.
    pub dims: Vec<u32>,
    /// Cross ratio of every dimension between the kept sides, in dimension order.
    pub ratios: Vec<f64>,
    pub full: Scores,
    pub sub: Scores,
}

impl BinaryView {
    pub fn has(&self, i: usize) -> bool {
        self.present.as_ref().is_none_or(|p| p[i])
    }

    pub fn scores(&self, stage: DimSet) -> &Scores {
        match stage {
            DimSet::Full => &self.full,
            DimSet::Selected => &self.sub,
        }
    }

    /// The view's decision for item `i` at `stage`; `None` when the item lacks the view.
    pub fn says_class(&self, i: usize, stage: DimSet) -> Option<bool> {
        self.has(i).then(|| self.scores(stage).says_class(i))
    }

    /// Whether item `i` was kept to describe the class side (`Some(true)`) or the rest side
    /// (`Some(false)`); `None` when it was filtered out or lacks the view.
    pub fn kept_side(&self, i: usize) -> Option<bool> {
        if !self.has(i) {
            return None;
        }
        let (c, r) = (self.full.class[i], self.full.rest[i]);
        (c.max(r) >= self.floor && (c - r).abs() >= self.margin).then_some(c >= r)
    }
}

/// The binary step of a run: one `BinaryView` per classified modality.
#[derive(Clone, Debug, PartialEq)]
pub struct OneVsRest {
    pub class: ClassId,
    pub rest: Option<ClassId>,
    pub keep: KeepRule,
    pub image: Option<BinaryView>,
    pub text: Option<BinaryView>,
    /// Seconds the step took (both views).
    pub seconds: f64,
}

impl OneVsRest {
    pub fn get(&self, m: Modality) -> Option<&BinaryView> {
        match m {
            Modality::Image => self.image.as_ref(),
            Modality::Text => self.text.as_ref(),
        }
    }

    pub fn views(&self) -> impl Iterator<Item = &BinaryView> {
        self.image.iter().chain(&self.text)
    }

    /// Whether item `i` is kept as the class by `rule` on the sub-dimension decisions.
    pub fn keeps(&self, i: usize, rule: KeepRule) -> bool {
        let says = |v: Option<&BinaryView>| v.and_then(|v| v.says_class(i, DimSet::Selected));
        let (image, text) = (says(self.image.as_ref()), says(self.text.as_ref()));
        match rule {
            KeepRule::Both => {
                let views: Vec<bool> = image.into_iter().chain(text).collect();
                !views.is_empty() && views.into_iter().all(|s| s)
            }
            KeepRule::Either => image == Some(true) || text == Some(true),
            KeepRule::Image => image == Some(true),
            KeepRule::Text => text == Some(true),
        }
    }

    /// The items `self.keep` keeps, in item order.
    pub fn kept_items(&self, n: usize) -> Vec<usize> {
        (0..n).filter(|&i| self.keeps(i, self.keep)).collect()
    }
}

/// Resolve `p` against the dataset's classes: one sentence naming the unknown class and the
/// known ones when a name does not match.
pub fn resolve(ds: &Dataset, p: &OneVsRestParams) -> Result<(ClassId, Option<ClassId>), String> {
    let find = |name: &str, what: &str| {
        ds.classes
            .iter()
            .position(|c| c.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = ds.classes.iter().map(|c| c.name.as_str()).collect();
                let shown = known.len().min(12);
                format!(
                    "{what} `{name}` is not a class of the catalogue; its classes are {}{}",
                    known[..shown].join(", "),
                    if known.len() > shown { ", …" } else { "" }
                )
            })
    };
    let class = find(&p.class, "the one-vs-rest class")?;
    let rest = p
        .rest
        .as_deref()
        .map(|r| find(r, "the rest class"))
        .transpose()?;
    if rest == Some(class) {
        return Err(format!(
            "the rest class `{}` is the one-vs-rest class itself; name another class, or none \
             to score against the union of the others",
            p.class
        ));
    }
    if rest.is_none() && ds.num_classes() < 2 {
        return Err("one-vs-rest needs at least one other class".into());
    }
    Ok((class, rest))
}

/// The binary step over every modality `cls` classified (after `classify`).
pub fn run(
    ds: &Dataset,
    cls: &Classification,
    spec: &OneVsRestParams,
    monitor: &Monitor,
) -> Result<Result<OneVsRest, String>, Cancelled> {
    let (class, rest) = match resolve(ds, spec) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let started = std::time::Instant::now();
    let mut out = OneVsRest {
        class,
        rest,
        keep: spec.keep,
        image: None,
        text: None,
        seconds: 0.0,
    };
    for m in cls.modalities() {
        let r = cls.get(m).expect("listed");
        let x = ds.embeddings(m).expect("classified modalities are loaded");
        let view = fit_view(
            m,
            x.view(),
            ds.class_embeddings.view(),
            r.scores.view(),
            r.present.as_deref(),
            r.floor,
            class,
            rest,
            &cls.params,
            monitor,
        )?;
        match m {
            Modality::Image => out.image = Some(view),
            Modality::Text => out.text = Some(view),
        }
    }
    out.seconds = started.elapsed().as_secs_f64();
    Ok(Ok(out))
}

/// The binary step on one modality. `scores` are the baseline cosines (`n × C`), `floor` the
/// modality's cosine floor.
#[allow(clippy::too_many_arguments)]
pub fn fit_view(
    modality: Modality,
    x: ArrayView2<f32>,
    classes: ArrayView2<f32>,
    scores: ArrayView2<f64>,
    present: Option<&[bool]>,
    floor: f64,
    class: ClassId,
    rest: Option<ClassId>,
    params: &Params,
    monitor: &Monitor,
) -> Result<BinaryView, Cancelled> {
    let n = x.nrows();
    let has = |i: usize| present.is_none_or(|p| p[i]);
    let others: Vec<ClassId> = match rest {
        Some(r) => vec![r],
        None => (0..classes.nrows()).filter(|&b| b != class).collect(),
    };
    let full = Scores {
        class: (0..n).map(|i| scores[[i, class]]).collect(),
        rest: (0..n)
            .map(|i| {
                others
                    .iter()
                    .map(|&b| scores[[i, b]])
                    .fold(f64::MIN, f64::max)
            })
            .collect(),
    };
    monitor.check()?;

    let gap = |i: usize| (full.class[i] - full.rest[i]).abs();
    let margin = params.margin.unwrap_or_else(|| {
        let mut gaps: Vec<f64> = (0..n).filter(|&i| has(i)).map(gap).collect();
        percentile(&mut gaps, params.margin_percentile).unwrap_or(0.0)
    });
    let mut candidates = [0usize; 2];
    let sides: Vec<Option<ClassId>> = (0..n)
        .map(|i| {
            if !has(i) {
                return None;
            }
            let side = usize::from(!full.says_class(i));
            candidates[side] += 1;
            let sure = full.class[i].max(full.rest[i]) >= floor && gap(i) >= margin;
            sure.then_some(side)
        })
        .collect();
    let moments = class_moments(x, &sides, 2, monitor)?;
    let kept = [moments[0].count as usize, moments[1].count as usize];
    let ratios = moments[0].crossratios(&moments[1]);
    let d = x.ncols();
    let fallback = kept.iter().any(|&k| k < params.min_items);
    let dims: Vec<u32> = if fallback {
        (0..d as u32).collect()
    } else {
        let mut order: Vec<u32> = (0..d as u32).collect();
        // Stable: equal ratios keep dimension order.
        order.sort_by(|&a, &b| ratios[b as usize].total_cmp(&ratios[a as usize]));
        order.truncate(params.k.min(d));
        order
    };

    let sub = sub_scores(x, classes, &dims, class, &others, present, monitor)?;
    Ok(BinaryView {
        modality,
        present: present.map(<[bool]>::to_vec),
        floor,
        margin,
        candidates,
        kept,
        fallback,
        dims,
        ratios,
        full,
        sub,
    })
}

/// Rows per unit of parallel work (and between cancellation checks).
const CHUNK: usize = 4096;

/// Per item, the cosine on `dims` with the class and the best of `others`. A zero `x_D` has
/// cosine 0 with every class.
fn sub_scores(
    x: ArrayView2<f32>,
    classes: ArrayView2<f32>,
    dims: &[u32],
    class: ClassId,
    others: &[ClassId],
    present: Option<&[bool]>,
    monitor: &Monitor,
) -> Result<Scores, Cancelled> {
    let unit = |c: ClassId| -> Vec<f64> {
        let v: Vec<f32> = dims.iter().map(|&j| classes[[c, j as usize]]).collect();
        let s = inv_norm(&v);
        v.iter().map(|&e| e as f64 * s).collect()
    };
    let class_dir = unit(class);
    let other_dirs: Vec<Vec<f64>> = others.iter().map(|&b| unit(b)).collect();
    let n = x.nrows();
    let parts = (0..n.div_ceil(CHUNK))
        .into_par_iter()
        .map(|chunk| {
            monitor.check()?;
            let rows = chunk * CHUNK..((chunk + 1) * CHUNK).min(n);
            let mut xd = vec![0.0f64; dims.len()];
            let mut copy = Vec::new();
            let mut out = (
                Vec::with_capacity(rows.len()),
                Vec::with_capacity(rows.len()),
            );
            for i in rows {
                if present.is_some_and(|p| !p[i]) {
                    out.0.push(0.0);
                    out.1.push(0.0);
                    continue;
                }
                let row = row_slice(&x, i, &mut copy);
                let mut nn = 0.0;
                for (v, &j) in xd.iter_mut().zip(dims) {
                    *v = row[j as usize] as f64;
                    nn += *v * *v;
                }
                let scale = if nn > 0.0 { 1.0 / nn.sqrt() } else { 0.0 };
                let cos = |dir: &[f64]| xd.iter().zip(dir).map(|(a, b)| a * b).sum::<f64>() * scale;
                out.0.push(cos(&class_dir));
                out.1
                    .push(other_dirs.iter().map(|d| cos(d)).fold(f64::MIN, f64::max));
            }
            Ok(out)
        })
        .collect::<Result<Vec<_>, Cancelled>>()?;
    let mut s = Scores::default();
    for (c, r) in parts {
        s.class.extend(c);
        s.rest.extend(r);
    }
    Ok(s)
}

/// The write-up's binary table for one run: agreement of the text and image decisions, and
/// each view against the annotation (annotated as the class or not), at both stages.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinaryTable {
    pub class: String,
    pub rest: Option<String>,
    pub keep_rule: String,
    /// Items kept by `keep_rule`.
    pub kept: usize,
    pub rows: Vec<BinaryRow>,
    pub views: Vec<ViewSummary>,
}

/// One stage's line of the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BinaryRow {
    pub stage: String,
    /// Weighted F1 of the text decisions against the image decisions (items with both views);
    /// `None` with one modality.
    pub text_vs_image_weighted_f1: Option<f64>,
    /// Items where the two views agree / have both views.
    pub agreement: Option<[usize; 2]>,
    /// Per view: accuracy and weighted F1 against "annotated as the class" (annotated items
    /// that have the view); `None` without annotations.
    pub image_vs_annotation: Option<AgainstAnnotation>,
    pub text_vs_annotation: Option<AgainstAnnotation>,
    /// Items each view sends to the class.
    pub image_says_class: Option<usize>,
    pub text_says_class: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgainstAnnotation {
    pub accuracy: f64,
    pub weighted_f1: f64,
    /// Annotated items compared.
    pub items: usize,
}

/// What the selection did on one view (for metrics.json and the app).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ViewSummary {
    pub modality: Modality,
    pub floor: f64,
    pub margin: f64,
    pub candidates: [usize; 2],
    pub kept: [usize; 2],
    pub fallback: bool,
    /// The selected dimensions, best first, with their cross ratios.
    pub dims: Vec<u32>,
    pub dim_ratios: Vec<f64>,
}

impl BinaryTable {
    pub fn compute(ds: &Dataset, ovr: &OneVsRest) -> BinaryTable {
        let n = ds.len();
        let annotated: Vec<Option<ClassId>> = ds
            .items
            .iter()
            .map(|it| it.label.map(|l| usize::from(l != ovr.class)))
            .collect();
        let decisions = |v: &BinaryView, stage: DimSet| -> Vec<Option<ClassId>> {
            (0..n)
                .map(|i| v.says_class(i, stage).map(|s| usize::from(!s)))
                .collect()
        };
        let against = |v: Option<&BinaryView>, stage: DimSet| {
            let v = v?;
            let c = Confusion::new(&annotated, &decisions(v, stage), 2);
            (c.total() > 0).then(|| AgainstAnnotation {
                accuracy: c.accuracy(),
                weighted_f1: c.weighted_f1(),
                items: c.total() as usize,
            })
        };
        let says = |v: Option<&BinaryView>, stage: DimSet| {
            v.map(|v| {
                (0..n)
                    .filter(|&i| v.says_class(i, stage) == Some(true))
                    .count()
            })
        };
        let rows = DimSet::ALL
            .into_iter()
            .map(|stage| {
                let both = ovr.image.as_ref().zip(ovr.text.as_ref());
                let pair = both.map(|(im, tx)| {
                    let c = Confusion::new(&decisions(im, stage), &decisions(tx, stage), 2);
                    let agree = (0..2).map(|k| c.get(k, k)).sum::<u64>() as usize;
                    (c.weighted_f1(), [agree, c.total() as usize])
                });
                BinaryRow {
                    stage: stage.name().into(),
                    text_vs_image_weighted_f1: pair.map(|p| p.0),
                    agreement: pair.map(|p| p.1),
                    image_vs_annotation: against(ovr.image.as_ref(), stage),
                    text_vs_annotation: against(ovr.text.as_ref(), stage),
                    image_says_class: says(ovr.image.as_ref(), stage),
                    text_says_class: says(ovr.text.as_ref(), stage),
                }
            })
            .collect();
        let views = ovr
            .views()
            .map(|v| ViewSummary {
                modality: v.modality,
                floor: v.floor,
                margin: v.margin,
                candidates: v.candidates,
                kept: v.kept,
                fallback: v.fallback,
                dims: v.dims.clone(),
                dim_ratios: v.dims.iter().map(|&j| v.ratios[j as usize]).collect(),
            })
            .collect();
        BinaryTable {
            class: ds.class_name(ovr.class).to_string(),
            rest: ovr.rest.map(|r| ds.class_name(r).to_string()),
            keep_rule: ovr.keep.name().into(),
            kept: ovr.kept_items(n).len(),
            rows,
            views,
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{Array2, array};

    use super::*;

    /// Classes on the unit axes, so every cosine is a normalised coordinate.
    fn axes() -> Array2<f32> {
        Array2::eye(3)
    }

    fn cosines(x: &Array2<f32>, k: &Array2<f32>) -> Array2<f64> {
        Array2::from_shape_fn((x.nrows(), k.nrows()), |(i, c)| {
            let (a, b) = (x.row(i), k.row(c));
            let dot: f32 = a.dot(&b);
            (dot / (a.dot(&a).sqrt() * b.dot(&b).sqrt())) as f64
        })
    }

    fn fit(x: &Array2<f32>, present: Option<&[bool]>, params: &Params) -> BinaryView {
        let k = axes();
        let s = cosines(x, &k);
        fit_view(
            Modality::Image,
            x.view(),
            k.view(),
            s.view(),
            present,
            -1.0,
            0,
            None,
            params,
            &Monitor::new(),
        )
        .unwrap()
    }

    fn traced() -> Array2<f32> {
        array![[3., 1., 0.], [2., 0., 1.], [0., 2., 1.], [1., 0., 3.]]
    }

    #[test]
    fn a_hand_traced_case_selects_the_separating_dimensions_and_decides_on_them() {
        // Sides by full cosine: items 0, 1 are nearest class 0, items 2, 3 the others. On the
        // normalised rows the cross ratios are ≈ 8.4 (dim 0), 1.48 (dim 1), 1.74 (dim 2).
        let params = Params {
            k: 2,
            margin: Some(0.0),
            min_items: 1,
            ..Params::default()
        };
        let v = fit(&traced(), None, &params);
        assert_eq!(v.candidates, [2, 2]);
        assert_eq!(v.kept, [2, 2]);
        assert!(!v.fallback);
        assert_eq!(v.dims, vec![0, 2]);
        assert!((v.ratios[0] - 8.38).abs() < 0.05, "{:?}", v.ratios);
        // Full: the rest is the best other class, e.g. item 0's class-1 cosine 1/√10.
        assert!((v.full.rest[0] - 1.0 / 10f64.sqrt()).abs() < 1e-6);
        // On dims {0, 2}: item 1 is (2, 1) → class 2/√5, rest (class 2) 1/√5; class 1 has no
        // weight there.
        assert!((v.sub.class[1] - 2.0 / 5f64.sqrt()).abs() < 1e-6);
        assert!((v.sub.rest[1] - 1.0 / 5f64.sqrt()).abs() < 1e-6);
        let says: Vec<_> = (0..4)
            .map(|i| v.says_class(i, DimSet::Selected).unwrap())
            .collect();
        assert_eq!(says, [true, true, false, false]);
    }

    #[test]
    fn a_single_dimension_where_the_rest_has_no_weight_ties_to_the_class() {
        // k = 1 keeps dim 0 only, where classes 1 and 2 are zero: item 2's row is zero there,
        // every cosine is 0, and the tie goes to the class.
        let params = Params {
            k: 1,
            margin: Some(0.0),
            min_items: 1,
            ..Params::default()
        };
        let v = fit(&traced(), None, &params);
        assert_eq!(v.dims, vec![0]);
        assert_eq!((v.sub.class[2], v.sub.rest[2]), (0.0, 0.0));
        assert_eq!(v.says_class(2, DimSet::Selected), Some(true));
    }

    #[test]
    fn too_few_kept_items_fall_back_to_every_dimension_in_order() {
        let params = Params {
            k: 1,
            margin: Some(0.0),
            min_items: 3,
            ..Params::default()
        };
        let v = fit(&traced(), None, &params);
        assert!(v.fallback);
        assert_eq!(v.dims, vec![0, 1, 2]);
        // On every dimension the sub-dimension scores are the full ones.
        for i in 0..4 {
            assert!((v.sub.class[i] - v.full.class[i]).abs() < 1e-6);
            assert!((v.sub.rest[i] - v.full.rest[i]).abs() < 1e-6);
        }
    }

    #[test]
    fn the_margin_and_a_missing_view_leave_items_out_of_the_sides() {
        // Item 0 lacks the view; the margin 0.5 drops item 1 (gap 2/√5 − 1/√5 ≈ 0.447).
        let params = Params {
            margin: Some(0.5),
            min_items: 1,
            ..Params::default()
        };
        let present = [false, true, true, true];
        let v = fit(&traced(), Some(&present), &params);
        assert_eq!(v.candidates, [1, 2]);
        assert_eq!(v.kept, [0, 2]);
        assert_eq!(v.kept_side(0), None);
        assert_eq!(v.kept_side(1), None);
        assert_eq!(v.kept_side(2), Some(false));
        assert_eq!(v.says_class(0, DimSet::Full), None);
        assert!(v.fallback);
    }

    fn ovr(image: Option<Vec<bool>>, text: Option<Vec<bool>>) -> OneVsRest {
        let view = |m, says: Vec<bool>| BinaryView {
            modality: m,
            present: None,
            floor: 0.0,
            margin: 0.0,
            candidates: [0, 0],
            kept: [0, 0],
            fallback: false,
            dims: vec![],
            ratios: vec![],
            full: Scores::default(),
            sub: Scores {
                class: says.iter().map(|&s| if s { 1.0 } else { 0.0 }).collect(),
                rest: vec![0.5; says.len()],
            },
        };
        OneVsRest {
            class: 0,
            rest: None,
            keep: KeepRule::Both,
            image: image.map(|s| view(Modality::Image, s)),
            text: text.map(|s| view(Modality::Text, s)),
            seconds: 0.0,
        }
    }

    #[test]
    fn keep_rules_combine_the_views_and_a_missing_view_defers_to_the_other() {
        let mut o = ovr(
            Some(vec![true, true, false, false]),
            Some(vec![true, false, true, false]),
        );
        let kept = |o: &OneVsRest, r| (0..4).filter(|&i| o.keeps(i, r)).collect::<Vec<_>>();
        assert_eq!(kept(&o, KeepRule::Both), [0]);
        assert_eq!(kept(&o, KeepRule::Either), [0, 1, 2]);
        assert_eq!(kept(&o, KeepRule::Image), [0, 1]);
        assert_eq!(kept(&o, KeepRule::Text), [0, 2]);
        // Item 1 without a text view: its image decides under Both.
        o.text.as_mut().unwrap().present = Some(vec![true, false, true, true]);
        assert_eq!(kept(&o, KeepRule::Both), [0, 1]);
        assert_eq!(kept(&o, KeepRule::Text), [0, 2]);
    }
}
