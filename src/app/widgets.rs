//! Small drawing helpers. The default fonts have no arrows, squares or emoji, so symbols are
//! painted rather than typed.

use egui::{Color32, Sense};

/// A coloured square followed by `text`, for legends.
pub fn swatch(ui: &mut egui::Ui, colour: Color32, text: &str) -> egui::Response {
    ui.horizontal(|ui| {
        ui.spacing_mut().item_spacing.x = 4.0;
        let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), Sense::hover());
        ui.painter().rect_filled(rect, 2.0, colour);
        ui.label(text)
    })
    .inner
}

/// A small triangle pointing down (`descending`) or up.
pub fn sort_arrow(ui: &mut egui::Ui, descending: bool) {
    let (rect, _) = ui.allocate_exact_size(egui::vec2(10.0, 10.0), Sense::hover());
    let c = rect.center();
    let (dx, dy) = (4.0, 3.0);
    let points = if descending {
        vec![
            egui::pos2(c.x - dx, c.y - dy),
            egui::pos2(c.x + dx, c.y - dy),
            egui::pos2(c.x, c.y + dy),
        ]
    } else {
        vec![
            egui::pos2(c.x - dx, c.y + dy),
            egui::pos2(c.x + dx, c.y + dy),
            egui::pos2(c.x, c.y - dy),
        ]
    };
    ui.painter().add(egui::Shape::convex_polygon(
        points,
        ui.visuals().strong_text_color(),
        egui::Stroke::NONE,
    ));
}
