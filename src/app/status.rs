//! The bottom bar: the run's progress with Cancel, or a summary of the finished run.

use pairwise_audit::Stage;

use crate::app::AuditApp;
use crate::app::commands::Command;

pub fn bar(ui: &mut egui::Ui, app: &AuditApp, cmds: &mut Vec<Command>) {
    ui.horizontal(|ui| {
        if let Some(job) = &app.job {
            let p = job.progress();
            let modality = match p.modality {
                1 => " (image)",
                2 => " (text)",
                _ => "",
            };
            let counts = if p.total > 0 {
                format!(" {} / {}", p.done, p.total)
            } else {
                String::new()
            };
            let embedding = matches!(
                p.stage,
                Stage::EmbedImages | Stage::EmbedTexts | Stage::EmbedClasses
            );
            // The model is the slow part of an embedding run: say how fast and how long.
            let eta = match job.rate_and_eta(&p) {
                Some((rate, left)) if embedding => {
                    let s = left.as_secs();
                    format!(" · {rate:.1}/s · ETA {}:{:02}", s / 60, s % 60)
                }
                _ => String::new(),
            };
            let text = if job.cancel_requested.is_some() {
                "cancelling…".to_string()
            } else {
                format!("{}{modality}{counts}{eta}", p.stage.label())
            };
            ui.add(
                egui::ProgressBar::new(p.fraction())
                    .desired_width(320.0)
                    .text(text),
            );
            ui.weak(format!("{:.1} s", job.elapsed().as_secs_f64()));
            if ui
                .add_enabled(job.cancel_requested.is_none(), egui::Button::new("Cancel"))
                .on_hover_text("Stop the run; the results on screen stay")
                .clicked()
            {
                cmds.push(Command::CancelRun);
            }
            ui.separator();
        }
        if let Some(line) = &app.last_run {
            ui.weak(line);
            ui.separator();
        }
        if let Some(r) = &app.results
            && let Some((progress, save_problem)) = crate::app::review::bar::progress_text(app, r)
        {
            ui.label(progress);
            match save_problem {
                None => {
                    ui.weak("all decisions saved").on_hover_text(
                        app.session.as_ref().map_or(String::new(), |s| {
                            format!("decision log: {}", s.log_path.display())
                        }),
                    );
                }
                Some(p) => {
                    ui.colored_label(ui.visuals().warn_fg_color, p);
                }
            }
            ui.separator();
        }
        if let Some(line) = &app.last_export {
            ui.weak(line);
            ui.separator();
        }
        if let Some(r) = &app.results {
            ui.weak(format!(
                "filter + sort {:.1} ms",
                app.grid.last_compute.as_secs_f64() * 1e3
            ));
            if r.dataset.missing_images > 0 {
                ui.separator();
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("{} image files missing", r.dataset.missing_images),
                );
            }
            let (fetched, failed) = app.thumbs.url_counts();
            if fetched + failed > 0 {
                ui.separator();
                let text = format!("images by URL: {fetched} fetched, {failed} failed");
                if failed > 0 {
                    ui.colored_label(ui.visuals().warn_fg_color, text)
                        .on_hover_text("Hover a thumbnail marked × for the reason");
                } else {
                    ui.weak(text);
                }
            }
            if !r.dataset.warnings.is_empty() {
                ui.separator();
                ui.colored_label(
                    ui.visuals().warn_fg_color,
                    format!("{} warnings", r.dataset.warnings.len()),
                )
                .on_hover_text(r.dataset.warnings.join("\n"));
            }
        }
        for notice in &app.notices {
            ui.separator();
            // Dismiss first, so that a long notice elided at the window's edge keeps its
            // button on screen; the whole sentence is on hover.
            if ui.small_button("Dismiss").clicked() {
                cmds.push(Command::DismissError);
            }
            ui.add(
                egui::Label::new(egui::RichText::new(notice).color(ui.visuals().warn_fg_color))
                    .truncate(),
            )
            .on_hover_text(notice);
        }
    });
}
