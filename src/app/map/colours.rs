//! What the points are coloured by, and the legend's categories: a class (annotation or a
//! view's pairwise label), a band of suspicion, or a review status.

use egui::Color32;
use pairwise_audit::Modality;
use serde::{Deserialize, Serialize};

use crate::app::review::Results;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum ColourBy {
    #[default]
    Annotation,
    ImageLabel,
    TextLabel,
    Suspicion,
    Review,
}

impl ColourBy {
    pub const ALL: [ColourBy; 5] = [
        ColourBy::Annotation,
        ColourBy::ImageLabel,
        ColourBy::TextLabel,
        ColourBy::Suspicion,
        ColourBy::Review,
    ];

    pub fn label(self) -> &'static str {
        match self {
            ColourBy::Annotation => "annotation",
            ColourBy::ImageLabel => "image label",
            ColourBy::TextLabel => "text label",
            ColourBy::Suspicion => "suspicion",
            ColourBy::Review => "review status",
        }
    }
}

/// Tableau's 20 colours: distinct on dark and light backgrounds alike.
const PALETTE: [Color32; 20] = [
    Color32::from_rgb(31, 119, 180),
    Color32::from_rgb(255, 127, 14),
    Color32::from_rgb(44, 160, 44),
    Color32::from_rgb(214, 39, 40),
    Color32::from_rgb(148, 103, 189),
    Color32::from_rgb(140, 86, 75),
    Color32::from_rgb(227, 119, 194),
    Color32::from_rgb(188, 189, 34),
    Color32::from_rgb(23, 190, 207),
    Color32::from_rgb(174, 199, 232),
    Color32::from_rgb(255, 187, 120),
    Color32::from_rgb(152, 223, 138),
    Color32::from_rgb(255, 152, 150),
    Color32::from_rgb(197, 176, 213),
    Color32::from_rgb(196, 156, 148),
    Color32::from_rgb(247, 182, 210),
    Color32::from_rgb(219, 219, 141),
    Color32::from_rgb(158, 218, 229),
    Color32::from_rgb(127, 127, 127),
    Color32::from_rgb(199, 199, 199),
];
const NONE: Color32 = Color32::from_rgb(120, 120, 120);

/// The categories of one colouring, with every item's.
#[derive(Clone, Debug, PartialEq)]
pub struct Categories {
    pub by: ColourBy,
    pub of_item: Vec<u16>,
    pub names: Vec<String>,
    pub colours: Vec<Color32>,
    pub counts: Vec<usize>,
}

/// Suspicion bands by the probability that the annotation is wrong, low to high.
const BANDS: [(f64, &str); 5] = [
    (0.0, "p(wrong) < 0.1"),
    (0.1, "0.1 – 0.3"),
    (0.3, "0.3 – 0.5"),
    (0.5, "0.5 – 0.8"),
    (0.8, "≥ 0.8"),
];
const BAND_COLOURS: [Color32; 5] = [
    Color32::from_rgb(60, 90, 170),
    Color32::from_rgb(60, 160, 170),
    Color32::from_rgb(200, 200, 70),
    Color32::from_rgb(240, 140, 40),
    Color32::from_rgb(230, 40, 40),
];

pub fn categories(r: &Results, by: ColourBy, status: &[u8]) -> Categories {
    let n = r.len();
    let (names, colours, of_item): (Vec<String>, Vec<Color32>, Vec<u16>) = match by {
        ColourBy::Annotation | ColourBy::ImageLabel | ColourBy::TextLabel => {
            let c = r.dataset.num_classes();
            let mut names: Vec<String> = (0..c)
                .map(|k| r.dataset.class_name(k).to_string())
                .collect();
            names.push("no label".into());
            let mut colours: Vec<Color32> = (0..c).map(|k| PALETTE[k % PALETTE.len()]).collect();
            colours.push(NONE);
            let of = (0..n)
                .map(|i| {
                    let row = &r.rows[i];
                    let label = match by {
                        ColourBy::Annotation => row.annotation,
                        ColourBy::ImageLabel => row.pairwise(Modality::Image),
                        _ => row.pairwise(Modality::Text),
                    };
                    label.map_or(c, |k| k) as u16
                })
                .collect();
            (names, colours, of)
        }
        ColourBy::Suspicion => {
            let mut names: Vec<String> = BANDS.iter().map(|(_, n)| n.to_string()).collect();
            names.push("not scored".into());
            let mut colours = BAND_COLOURS.to_vec();
            colours.push(NONE);
            let of = (0..n)
                .map(|i| match r.audit.p_wrong(i) {
                    Some(p) => BANDS.iter().rposition(|(lo, _)| p >= *lo).unwrap_or(0) as u16,
                    None => BANDS.len() as u16,
                })
                .collect();
            (names, colours, of)
        }
        ColourBy::Review => {
            let names = ["not reviewed", "accepted", "relabelled", "skipped"];
            let colours = vec![
                NONE,
                Color32::from_rgb(70, 180, 90),
                Color32::from_rgb(230, 150, 40),
                Color32::from_rgb(120, 140, 230),
            ];
            let of = (0..n)
                .map(|i| status.get(i).copied().unwrap_or(0).min(3) as u16)
                .collect();
            (names.iter().map(|s| s.to_string()).collect(), colours, of)
        }
    };
    let mut counts = vec![0usize; names.len()];
    for &c in &of_item {
        counts[c as usize] += 1;
    }
    Categories {
        by,
        of_item,
        names,
        colours,
        counts,
    }
}
