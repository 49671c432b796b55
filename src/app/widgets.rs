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

/// Lay `add` out in the rest of `ui` and clip what does not fit. A side panel whose content
/// is wider than the panel would otherwise report that width, and egui then hands the
/// central panel the side panel's room (the grid drew under it).
pub fn clipped(ui: &mut egui::Ui, add: impl FnOnce(&mut egui::Ui)) {
    // A panel resized below its remembered width lays out at the old width and shows only
    // part of it: wrap at what is visible (less the panel's margin).
    let mut rect = ui.available_rect_before_wrap();
    let visible = ui.clip_rect();
    rect.max.x = rect.max.x.min(visible.max.x - 8.0).max(rect.min.x);
    let mut child = ui.new_child(egui::UiBuilder::new().max_rect(rect));
    child.shrink_clip_rect(rect);
    add(&mut child);
    ui.advance_cursor_after_rect(rect);
}

/// `text` cut to `max_chars` characters with an ellipsis, for class names inside buttons and
/// chips: a 60-character taxonomy name would otherwise make one button wider than its panel.
/// Callers show the full name on hover.
pub fn elide(text: &str, max_chars: usize) -> std::borrow::Cow<'_, str> {
    if text.chars().count() <= max_chars {
        return text.into();
    }
    let kept: String = text.chars().take(max_chars.saturating_sub(1)).collect();
    format!("{}…", kept.trim_end()).into()
}

/// The longest class name shown whole inside a button.
pub const BUTTON_CLASS_CHARS: usize = 24;

/// Classes listed in a chooser's popup before it grows a search field.
pub const SEARCH_CLASSES_ABOVE: usize = 12;

/// A class chooser: a combo box whose popup lists the classes, with `none` first when
/// given; with many classes a search field filters the list and the list scrolls. `label`
/// is shown beside it; without one, `id` is its accessible name. Returns its response.
pub fn class_combo(
    ui: &mut egui::Ui,
    id: &str,
    label: Option<&str>,
    names: &[&str],
    value: &mut Option<usize>,
    none: Option<&str>,
    width: f32,
) -> egui::Response {
    let selected = value.map_or(none.unwrap_or(""), |c| names[c]);
    let search_id = ui.make_persistent_id((id, "class search"));
    let combo = match label {
        Some(label) => egui::ComboBox::new(id, label),
        None => egui::ComboBox::from_id_salt(id),
    };
    let searchable = names.len() > SEARCH_CLASSES_ABOVE;
    let resp = combo
        .width(width)
        // Clicking into the search field must not close the list; a choice closes it below.
        .close_behavior(if searchable {
            egui::PopupCloseBehavior::CloseOnClickOutside
        } else {
            egui::PopupCloseBehavior::CloseOnClick
        })
        .selected_text(elide(selected, 28))
        .height(360.0)
        .show_ui(ui, |ui| {
            let mut needle: String = ui.data_mut(|d| d.get_temp(search_id).unwrap_or_default());
            if searchable {
                let field = ui.add(
                    egui::TextEdit::singleline(&mut needle)
                        .hint_text("type to search")
                        .desired_width(180.0),
                );
                field.widget_info(|| {
                    egui::WidgetInfo::labeled(egui::Role::TextInput, true, format!("{id} search"))
                });
                ui.data_mut(|d| d.insert_temp(search_id, needle.clone()));
            }
            let mut chosen = false;
            if let Some(none) = none {
                chosen |= ui.selectable_value(value, None, none).clicked();
            }
            let needle = needle.to_lowercase();
            for (c, name) in names.iter().enumerate() {
                if needle.is_empty() || name.to_lowercase().contains(&needle) {
                    chosen |= ui.selectable_value(value, Some(c), *name).clicked();
                }
            }
            if chosen {
                ui.data_mut(|d| d.remove::<String>(search_id));
                ui.close();
            }
        })
        .response;
    if label.is_none() {
        resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::ComboBox, true, id));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::elide;

    #[test]
    fn elide_keeps_short_text_and_cuts_long_text_at_a_character_boundary() {
        assert_eq!(elide("shirt", 24), "shirt");
        assert_eq!(elide("exactly-five", 12), "exactly-five");
        let cut = elide("départements de la très longue taxonomie", 12);
        assert_eq!(cut.chars().count(), 12);
        assert!(cut.ends_with('…'), "{cut}");
        assert!(cut.starts_with("départements"[..11].trim_end()), "{cut}");
    }
}
