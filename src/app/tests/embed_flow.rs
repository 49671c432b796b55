//! "Compute embeddings…" as a user goes through it, with the tiny CLIP checkpoint: a
//! catalogue with only items.csv, classes.csv and images fails to open, offers the button,
//! the model folder is picked (the shell's dialog is an `Action`), the embeddings are computed
//! and the catalogue is classified; then the class prompts are edited and re-embedded from
//! Settings.

use std::path::{Path, PathBuf};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;

use super::flows::wait_for_run;
use crate::app::AuditApp;
use crate::app::commands::{Action, Command};
use crate::app::state::Persisted;
use crate::app::worker;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn catalogue() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let src = fixtures().join("embed_catalogue");
    for f in ["items.csv", "classes.csv"] {
        std::fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    std::fs::create_dir(dir.path().join("images")).unwrap();
    for e in std::fs::read_dir(src.join("images")).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.path().join("images").join(e.file_name())).unwrap();
    }
    dir
}

#[test]
fn a_catalogue_without_embeddings_is_embedded_then_classified_and_prompts_reembedded() {
    let dir = catalogue();
    let path = dir.path().to_path_buf();
    let app = AuditApp::new(Persisted::default(), worker::engine_pipeline());
    let mut h = Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app);
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply(&ctx, Command::OpenDataset(path.clone()));
    wait_for_run(&mut h);
    assert!(h.state().results.is_none());
    assert_eq!(h.state().embed_offer.as_deref(), Some(path.as_path()));

    h.get_by_label("Compute embeddings…").click();
    h.run_steps(2);
    let asked = Action::PickModelFolder {
        dataset: path.clone(),
        classes_only: false,
    };
    assert!(
        h.state().actions.contains(&asked),
        "{:?}",
        h.state().actions
    );
    h.state_mut().actions.clear();
    // What the shell does once the user picked the folder.
    let model = fixtures().join("clip_tiny");
    h.state_mut().apply(
        &ctx,
        Command::Embed {
            dataset: path.clone(),
            model: model.clone(),
            classes_only: false,
        },
    );
    wait_for_run(&mut h);
    let r = h.state().results.clone().expect("embedded and classified");
    assert_eq!(r.dataset.len(), 7);
    assert_eq!(r.dataset.views.missing(pairwise_audit::Modality::Image), 3);
    assert!(h.state().error.is_none() && h.state().embed_offer.is_none());
    assert_eq!(
        h.state().persisted.embed_model.as_deref(),
        Some(model.as_path())
    );
    let before = r.dataset.class_embeddings.clone();

    // A prompt edited in classes.csv, then re-embedded from Settings with the same model.
    let classes = std::fs::read_to_string(path.join("classes.csv")).unwrap();
    std::fs::write(
        path.join("classes.csv"),
        classes.replace("a red shirt", "a photo of a shirt"),
    )
    .unwrap();
    h.get_by_label("Settings").click();
    h.run_steps(2);
    h.get_by_label("Re-embed class prompts").click();
    h.run_steps(1);
    wait_for_run(&mut h);
    let after = h.state().results.clone().expect("classified again");
    let shirt = after.dataset.class_index("shirt").unwrap();
    let cat = after.dataset.class_index("cat").unwrap();
    assert_ne!(after.dataset.class_embeddings.row(shirt), before.row(shirt));
    assert_eq!(after.dataset.class_embeddings.row(cat), before.row(cat));

    // The same from inside the app: edit the cat's prompt in Settings, save and re-embed.
    h.get_by_label("prompt for cat").click();
    h.run();
    h.get_by_label("prompt for cat").type_text(" on a sofa");
    h.run_steps(2);
    h.get_by_label("Save prompts and re-embed").click();
    h.run_steps(1);
    wait_for_run(&mut h);
    let edited = h.state().results.clone().expect("classified again");
    assert!(edited.generation > after.generation);
    let cat_prompt = &edited.dataset.classes[cat].prompt;
    assert!(cat_prompt.ends_with(" on a sofa"), "{cat_prompt}");
    assert!(
        std::fs::read_to_string(path.join("classes.csv"))
            .unwrap()
            .contains(cat_prompt.as_str())
    );
    assert_ne!(
        edited.dataset.class_embeddings.row(cat),
        after.dataset.class_embeddings.row(cat)
    );
    assert_eq!(
        edited.dataset.class_embeddings.row(shirt),
        after.dataset.class_embeddings.row(shirt)
    );
}
