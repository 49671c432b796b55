//! The map's geometry and drawing, free of app state: a camera from layout coordinates to
//! screen points, hit tests, lasso and box membership, and one `egui::Mesh` of quads for
//! every point drawn (a widget per point would cost a frame at a few thousand).

use egui::{Color32, Mesh, Pos2, Rect, Vec2, pos2};

/// Layout coordinates → screen: `rect.center() + (p − centre) · scale`, y pointing down.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Camera {
    pub centre: [f32; 2],
    /// Screen points per layout unit.
    pub scale: f32,
}

impl Camera {
    /// The whole box `(lo, hi)` in `rect`, with a small margin.
    pub fn fit(bounds: ([f32; 2], [f32; 2]), rect: Rect) -> Camera {
        let (lo, hi) = bounds;
        let w = (hi[0] - lo[0]).max(1e-6);
        let h = (hi[1] - lo[1]).max(1e-6);
        let scale = (rect.width() / w).min(rect.height() / h) * 0.92;
        Camera {
            centre: [(lo[0] + hi[0]) / 2.0, (lo[1] + hi[1]) / 2.0],
            scale: scale.max(1e-6),
        }
    }

    pub fn to_screen(self, rect: Rect, p: [f32; 2]) -> Pos2 {
        let c = rect.center();
        pos2(
            c.x + (p[0] - self.centre[0]) * self.scale,
            c.y + (p[1] - self.centre[1]) * self.scale,
        )
    }

    pub fn to_layout(self, rect: Rect, pos: Pos2) -> [f32; 2] {
        let c = rect.center();
        [
            self.centre[0] + (pos.x - c.x) / self.scale,
            self.centre[1] + (pos.y - c.y) / self.scale,
        ]
    }

    /// Zoom by `factor` keeping the layout point under `pos` where it is.
    pub fn zoom_at(&mut self, rect: Rect, pos: Pos2, factor: f32) {
        let before = self.to_layout(rect, pos);
        self.scale = (self.scale * factor).clamp(1e-4, 1e7);
        let after = self.to_layout(rect, pos);
        self.centre[0] += before[0] - after[0];
        self.centre[1] += before[1] - after[1];
    }

    /// Move the picture by `delta` screen points.
    pub fn pan(&mut self, delta: Vec2) {
        self.centre[0] -= delta.x / self.scale;
        self.centre[1] -= delta.y / self.scale;
    }
}

/// The drawable point nearest to `pos` within `radius` screen points.
pub fn nearest(
    xy: &[[f32; 2]],
    cam: &Camera,
    rect: Rect,
    pos: Pos2,
    radius: f32,
    drawable: impl Fn(usize) -> bool,
) -> Option<usize> {
    let p = cam.to_layout(rect, pos);
    let r = radius / cam.scale;
    let r2 = r * r;
    let mut best: Option<(f32, usize)> = None;
    for (i, q) in xy.iter().enumerate() {
        let dx = q[0] - p[0];
        if dx.abs() > r {
            continue;
        }
        let d2 = dx * dx + (q[1] - p[1]) * (q[1] - p[1]);
        if d2 <= r2 && best.is_none_or(|(b, _)| d2 < b) && drawable(i) {
            best = Some((d2, i));
        }
    }
    best.map(|(_, i)| i)
}

/// Even–odd rule: whether `p` lies inside the closed polygon `poly`.
pub fn inside(poly: &[[f32; 2]], p: [f32; 2]) -> bool {
    let mut inside = false;
    let mut j = poly.len().wrapping_sub(1);
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[j]);
        if (a[1] > p[1]) != (b[1] > p[1])
            && p[0] < (b[0] - a[0]) * (p[1] - a[1]) / (b[1] - a[1]) + a[0]
        {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// The drawable items inside the lasso `poly` (layout coordinates), in index order.
pub fn in_polygon(
    xy: &[[f32; 2]],
    poly: &[[f32; 2]],
    drawable: impl Fn(usize) -> bool,
) -> Vec<u32> {
    if poly.len() < 3 {
        return Vec::new();
    }
    let (mut lo, mut hi) = ([f32::INFINITY; 2], [f32::NEG_INFINITY; 2]);
    for p in poly {
        for a in 0..2 {
            lo[a] = lo[a].min(p[a]);
            hi[a] = hi[a].max(p[a]);
        }
    }
    xy.iter()
        .enumerate()
        .filter(|(_, p)| p[0] >= lo[0] && p[0] <= hi[0] && p[1] >= lo[1] && p[1] <= hi[1])
        .filter(|&(i, p)| drawable(i) && inside(poly, *p))
        .map(|(i, _)| i as u32)
        .collect()
}

/// The four corners of the box spanned by two layout points, as a polygon.
pub fn box_polygon(a: [f32; 2], b: [f32; 2]) -> Vec<[f32; 2]> {
    vec![a, [b[0], a[1]], b, [a[0], b[1]]]
}

/// What each point looks like.
pub struct Paint<'a> {
    /// Category per item (an index into `colours`).
    pub category: &'a [u16],
    pub colours: &'a [Color32],
    /// Categories switched off in the legend.
    pub hidden: &'a [bool],
    /// Items the grid's filters keep, or `None` when it keeps all; the rest are dimmed.
    pub shown: Option<&'a [bool]>,
    /// Side of a point's square, in screen points.
    pub size: f32,
    /// At most this many points are drawn; above it an even stride of those on screen.
    pub budget: usize,
}

impl Paint<'_> {
    pub fn drawable(&self, i: usize) -> bool {
        !self
            .hidden
            .get(self.category[i] as usize)
            .copied()
            .unwrap_or(false)
    }
}

/// The points in `rect` as two meshes, the dimmed ones and the kept ones (to be painted in
/// that order, so the kept ones lie on top), and how many they hold. One pass over the points
/// (two above the budget: the first counts those on screen, so that the stride spreads over
/// what is visible).
pub fn mesh(xy: &[[f32; 2]], cam: &Camera, rect: Rect, paint: &Paint) -> ([Mesh; 2], usize) {
    let on_screen = |p: Pos2| rect.contains(p);
    let mut visible = 0usize;
    if xy.len() > paint.budget {
        visible = xy
            .iter()
            .filter(|&&p| on_screen(cam.to_screen(rect, p)))
            .count();
    }
    let stride = visible.div_ceil(paint.budget.max(1)).max(1);
    let mut meshes = [Mesh::default(), Mesh::default()];
    let cap = xy.len().min(paint.budget.max(1)) + 16;
    for m in &mut meshes {
        m.vertices.reserve(cap * 4);
        m.indices.reserve(cap * 6);
    }
    let h = paint.size / 2.0;
    let mut drawn = 0usize;
    let mut seen = 0usize;
    for (i, &p) in xy.iter().enumerate() {
        let s = cam.to_screen(rect, p);
        if !on_screen(s) {
            continue;
        }
        seen += 1;
        if stride > 1 && !seen.is_multiple_of(stride) {
            continue;
        }
        if !paint.drawable(i) {
            continue;
        }
        let kept = paint.shown.is_none_or(|m| m[i]);
        let base = paint.colours[paint.category[i] as usize];
        let colour = if kept {
            base
        } else {
            base.gamma_multiply(0.18)
        };
        quad(&mut meshes[kept as usize], s, h, colour);
        drawn += 1;
    }
    (meshes, drawn)
}

fn quad(mesh: &mut Mesh, c: Pos2, h: f32, colour: Color32) {
    let i = mesh.vertices.len() as u32;
    let uv = egui::epaint::WHITE_UV;
    for (dx, dy) in [(-h, -h), (h, -h), (h, h), (-h, h)] {
        mesh.vertices.push(egui::epaint::Vertex {
            pos: pos2(c.x + dx, c.y + dy),
            uv,
            color: colour,
        });
    }
    mesh.indices
        .extend_from_slice(&[i, i + 1, i + 2, i, i + 2, i + 3]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn screen_and_layout_coordinates_round_trip_and_zoom_keeps_the_point_under_the_pointer() {
        let rect = Rect::from_min_size(pos2(10.0, 20.0), egui::vec2(400.0, 300.0));
        let mut cam = Camera::fit(([-1.0, -1.0], [3.0, 1.0]), rect);
        let p = [2.0, 0.5];
        let s = cam.to_screen(rect, p);
        let back = cam.to_layout(rect, s);
        assert!((back[0] - p[0]).abs() < 1e-4 && (back[1] - p[1]).abs() < 1e-4);
        cam.zoom_at(rect, s, 3.0);
        let s2 = cam.to_screen(rect, p);
        assert!((s2 - s).length() < 1e-3);
    }

    #[test]
    fn the_lasso_takes_exactly_the_points_inside_it() {
        let xy = [[0.0, 0.0], [1.0, 1.0], [2.0, 2.0], [0.5, 1.5], [3.0, 0.0]];
        // A triangle around the first three's lower-left part.
        let tri = [[-0.5, -0.5], [3.0, -0.5], [-0.5, 3.0]];
        assert_eq!(in_polygon(&xy, &tri, |_| true), vec![0, 1, 3]);
        assert_eq!(in_polygon(&xy, &tri, |i| i != 1), vec![0, 3]);
        let b = box_polygon([0.6, 0.6], [2.5, 2.5]);
        assert_eq!(in_polygon(&xy, &b, |_| true), vec![1, 2]);
    }

    #[test]
    fn the_mesh_draws_each_point_once_and_keeps_to_its_budget() {
        let rect = Rect::from_min_size(pos2(0.0, 0.0), egui::vec2(100.0, 100.0));
        let xy: Vec<[f32; 2]> = (0..1000)
            .map(|i| [(i % 40) as f32, (i / 40) as f32])
            .collect();
        let cam = Camera::fit(([0.0, 0.0], [39.0, 24.0]), rect);
        let category = vec![0u16; xy.len()];
        let colours = [Color32::RED];
        let paint = Paint {
            category: &category,
            colours: &colours,
            hidden: &[false],
            shown: None,
            size: 2.0,
            budget: 10_000,
        };
        let (m, drawn) = mesh(&xy, &cam, rect, &paint);
        assert_eq!(drawn, 1000);
        assert_eq!(m[0].vertices.len(), 0);
        assert_eq!(m[1].vertices.len(), 4000);
        // Dimmed items go to the first mesh.
        let shown: Vec<bool> = (0..xy.len()).map(|i| i % 4 != 0).collect();
        let (m, _) = mesh(
            &xy,
            &cam,
            rect,
            &Paint {
                shown: Some(&shown),
                ..paint
            },
        );
        assert_eq!((m[0].vertices.len(), m[1].vertices.len()), (1000, 3000));
        let (_, drawn) = mesh(
            &xy,
            &cam,
            rect,
            &Paint {
                budget: 100,
                ..paint
            },
        );
        assert!((90..=100).contains(&drawn), "{drawn}");
    }
}
