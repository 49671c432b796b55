//! Image preprocessing exactly as a model's `preprocessor_config.json` asks, the way
//! transformers' `CLIPImageProcessor` does it: RGB, resize the shortest side (keeping the
//! aspect ratio, the long side truncated to a whole pixel), centre crop, rescale, normalise.
//!
//! The one known difference from Python is the resampling: PIL's bicubic and the `image`
//! crate's Catmull-Rom are the same cubic (a = -0.5) with the support widened when shrinking,
//! but they round and clamp intermediate values differently, so a resized pixel can differ by
//! a grey level or two (see docs/embedding.md). Images already at the target size are not
//! resampled at all and match exactly.

use std::path::Path;

use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use serde_json::Value;

use super::EmbedError;

#[derive(Clone, Debug, PartialEq)]
pub enum Resize {
    /// Shortest side to this many pixels, aspect ratio kept.
    ShortestEdge(u32),
    /// Exactly this (height, width).
    Exact(u32, u32),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Preprocess {
    pub resize: Option<Resize>,
    pub filter: Resample,
    /// (height, width) of the centre crop.
    pub crop: Option<(u32, u32)>,
    pub rescale: Option<f32>,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub normalize: bool,
}

/// PIL's resampling codes as transformers writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resample {
    Nearest,
    Bilinear,
    Bicubic,
    Lanczos,
}

impl Resample {
    fn filter(self) -> FilterType {
        match self {
            Resample::Nearest => FilterType::Nearest,
            Resample::Bilinear => FilterType::Triangle,
            Resample::Bicubic => FilterType::CatmullRom,
            Resample::Lanczos => FilterType::Lanczos3,
        }
    }
}

const OPENAI_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
const OPENAI_STD: [f32; 3] = [0.268_629_54, 0.261_302_6, 0.275_777_1];

impl Preprocess {
    pub fn read(path: &Path) -> Result<Preprocess, EmbedError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| EmbedError::input(format!("{}: cannot be read ({e}).", path.display())))?;
        Preprocess::parse(&text)
            .map_err(|why| EmbedError::input(format!("{}: {why}", path.display())))
    }

    /// Parse the JSON text; the error is the sentence after the file name.
    pub fn parse(text: &str) -> Result<Preprocess, String> {
        let v: Value =
            serde_json::from_str(text).map_err(|e| format!("is not valid JSON ({e})."))?;
        let flag = |name: &str| v.get(name).and_then(Value::as_bool).unwrap_or(true);
        let resize = if flag("do_resize") {
            Some(match v.get("size") {
                Some(Value::Number(n)) => Resize::ShortestEdge(positive(n, "size")?),
                Some(Value::Object(o)) => {
                    if let Some(n) = o.get("shortest_edge") {
                        Resize::ShortestEdge(positive_value(n, "size.shortest_edge")?)
                    } else {
                        Resize::Exact(
                            positive_value(o.get("height").unwrap_or(&Value::Null), "size.height")?,
                            positive_value(o.get("width").unwrap_or(&Value::Null), "size.width")?,
                        )
                    }
                }
                None => Resize::ShortestEdge(224),
                Some(other) => {
                    return Err(format!(
                        "`size` is {other}; expected a number or {{\"shortest_edge\": n}}."
                    ));
                }
            })
        } else {
            None
        };
        let filter = match v.get("resample").and_then(Value::as_u64).unwrap_or(3) {
            0 => Resample::Nearest,
            1 => Resample::Lanczos,
            2 => Resample::Bilinear,
            3 => Resample::Bicubic,
            other => {
                return Err(format!(
                    "`resample` is {other}; expected 0 (nearest), 1 (lanczos), 2 (bilinear) or 3 (bicubic)."
                ));
            }
        };
        let crop = if flag("do_center_crop") {
            Some(match v.get("crop_size") {
                Some(Value::Number(n)) => {
                    let s = positive(n, "crop_size")?;
                    (s, s)
                }
                Some(Value::Object(o)) => (
                    positive_value(o.get("height").unwrap_or(&Value::Null), "crop_size.height")?,
                    positive_value(o.get("width").unwrap_or(&Value::Null), "crop_size.width")?,
                ),
                None => (224, 224),
                Some(other) => {
                    return Err(format!(
                        "`crop_size` is {other}; expected a number or {{\"height\": h, \"width\": w}}."
                    ));
                }
            })
        } else {
            None
        };
        let rescale = flag("do_rescale").then(|| {
            v.get("rescale_factor")
                .and_then(Value::as_f64)
                .unwrap_or(1.0 / 255.0) as f32
        });
        let triple = |name: &str, default: [f32; 3]| -> Result<[f32; 3], String> {
            match v.get(name) {
                None | Some(Value::Null) => Ok(default),
                Some(Value::Array(a)) if a.len() == 3 && a.iter().all(Value::is_number) => {
                    Ok([0, 1, 2].map(|i| a[i].as_f64().unwrap_or(0.0) as f32))
                }
                Some(other) => Err(format!(
                    "`{name}` is {other}; expected three numbers (R, G, B)."
                )),
            }
        };
        let mean = triple("image_mean", OPENAI_MEAN)?;
        let std = triple("image_std", OPENAI_STD)?;
        if std.iter().any(|&s| s <= 0.0) {
            return Err("`image_std` must be positive.".into());
        }
        Ok(Preprocess {
            resize,
            filter,
            crop,
            rescale,
            mean,
            std,
            normalize: flag("do_normalize"),
        })
    }

    /// (height, width) of the tensor this produces, when fixed.
    pub fn output_size(&self) -> Option<(u32, u32)> {
        match (&self.crop, &self.resize) {
            (Some(c), _) => Some(*c),
            (None, Some(Resize::Exact(h, w))) => Some((*h, *w)),
            _ => None,
        }
    }

    /// A stable description of every setting, for the embedding cache's key.
    pub fn key(&self) -> String {
        format!("{self:?}")
    }

    /// The channels-first pixel values (3 × h × w) of `img`.
    pub fn pixels(&self, img: &DynamicImage) -> Vec<f32> {
        let rgb = img.to_rgb8();
        let resized = match self.resize {
            Some(Resize::ShortestEdge(s)) => {
                let (w, h) = rgb.dimensions();
                let (nw, nh) = shortest_edge_size(w, h, s);
                resize(rgb, nw, nh, self.filter)
            }
            Some(Resize::Exact(h, w)) => resize(rgb, w, h, self.filter),
            None => rgb,
        };
        let (w, h) = resized.dimensions();
        let (ch, cw) = self.crop.unwrap_or((h, w));
        // As transformers' center_crop: integer offsets, and zero padding when the image is
        // smaller than the crop.
        let top = (h as i64 - ch as i64).div_euclid(2);
        let left = (w as i64 - cw as i64).div_euclid(2);
        let plane = (ch * cw) as usize;
        let mut out = vec![0f32; 3 * plane];
        for y in 0..ch as i64 {
            for x in 0..cw as i64 {
                let (sy, sx) = (y + top, x + left);
                let px = if sy >= 0 && sx >= 0 && sy < h as i64 && sx < w as i64 {
                    resized.get_pixel(sx as u32, sy as u32).0
                } else {
                    [0, 0, 0]
                };
                for c in 0..3 {
                    let mut v = px[c] as f32;
                    if let Some(r) = self.rescale {
                        v *= r;
                    }
                    if self.normalize {
                        v = (v - self.mean[c]) / self.std[c];
                    }
                    out[c * plane + (y * cw as i64 + x) as usize] = v;
                }
            }
        }
        out
    }
}

/// transformers' `get_resize_output_image_size(default_to_square=False)`: the short side
/// becomes `size`, the long side `int(size * long / short)`.
pub fn shortest_edge_size(w: u32, h: u32, size: u32) -> (u32, u32) {
    let (short, long) = if w <= h { (w, h) } else { (h, w) };
    let new_long = (size as u64 * long as u64 / short.max(1) as u64) as u32;
    if w <= h {
        (size, new_long)
    } else {
        (new_long, size)
    }
}

fn resize(img: RgbImage, w: u32, h: u32, filter: Resample) -> RgbImage {
    if img.dimensions() == (w, h) {
        img
    } else {
        image::imageops::resize(&img, w, h, filter.filter())
    }
}

fn positive(n: &serde_json::Number, name: &str) -> Result<u32, String> {
    n.as_u64()
        .filter(|&n| n > 0 && n <= 8192)
        .map(|n| n as u32)
        .ok_or_else(|| format!("`{name}` is {n}; expected a positive whole number of pixels."))
}

fn positive_value(v: &Value, name: &str) -> Result<u32, String> {
    match v {
        Value::Number(n) => positive(n, name),
        other => Err(format!(
            "`{name}` is {other}; expected a positive whole number of pixels."
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_config_forms_parse_alike() {
        let old = Preprocess::parse(r#"{"size": 224, "crop_size": 224, "resample": 3}"#).unwrap();
        let new = Preprocess::parse(
            r#"{"size": {"shortest_edge": 224}, "crop_size": {"height": 224, "width": 224}, "do_rescale": true, "rescale_factor": 0.00392156862745098}"#,
        )
        .unwrap();
        assert_eq!(old.resize, Some(Resize::ShortestEdge(224)));
        assert_eq!(old.crop, new.crop);
        assert!((old.rescale.unwrap() - new.rescale.unwrap()).abs() < 1e-9);
        assert_eq!(old.mean, OPENAI_MEAN);
    }

    #[test]
    fn shortest_edge_truncates_the_long_side() {
        assert_eq!(shortest_edge_size(640, 480, 224), (298, 224));
        assert_eq!(shortest_edge_size(50, 64, 32), (32, 40));
        assert_eq!(shortest_edge_size(32, 32, 32), (32, 32));
    }

    #[test]
    fn crop_is_centred_and_values_normalised() {
        let p = Preprocess::parse(r#"{"size": 2, "crop_size": 2, "image_mean": [0.5,0.5,0.5], "image_std": [0.5,0.5,0.5]}"#).unwrap();
        // 2 × 4 image (already at the shortest side): columns 1 and 2 are kept.
        let mut img = RgbImage::new(4, 2);
        for (x, _, px) in img.enumerate_pixels_mut() {
            *px = image::Rgb([x as u8 * 85, 0, 255]);
        }
        let out = p.pixels(&DynamicImage::ImageRgb8(img));
        assert_eq!(out.len(), 12);
        let red = |v: u8| (v as f32 / 255.0 - 0.5) / 0.5;
        assert!((out[0] - red(85)).abs() < 1e-6 && (out[1] - red(170)).abs() < 1e-6);
        assert!((out[4] + 1.0).abs() < 1e-6 && (out[8] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn refuses_unknown_settings() {
        assert!(
            Preprocess::parse(r#"{"resample": 7}"#)
                .unwrap_err()
                .contains("resample")
        );
        assert!(
            Preprocess::parse(r#"{"image_std": [1, 0, 1]}"#)
                .unwrap_err()
                .contains("image_std")
        );
        assert!(
            Preprocess::parse(r#"{"size": "x"}"#)
                .unwrap_err()
                .contains("`size`")
        );
    }
}
