//! The shipped sample catalogue loads completely and as its README describes.

use std::path::Path;

use pairwise_audit::{Dataset, Modality, Monitor, Progress, Stage};

fn sample_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/sample_data"))
}

#[test]
fn sample_data_loads_with_both_modalities_and_all_images() {
    let ds = Dataset::load(sample_dir()).expect("sample_data must load");
    assert_eq!(ds.len(), 1870);
    assert_eq!(ds.num_classes(), 9);
    assert_eq!(ds.dim(), 384);
    assert_eq!(ds.modalities(), vec![Modality::Image, Modality::Text]);
    for m in Modality::ALL {
        assert_eq!(ds.embeddings(m).unwrap().dim(), (1870, 384));
    }
    assert_eq!(ds.missing_images, 0, "warnings: {:?}", ds.warnings);
    assert!(ds.warnings.is_empty(), "warnings: {:?}", ds.warnings);

    // Spot checks against the files' first row and the README's class sizes.
    let first = &ds.items[0];
    assert_eq!(first.id, "U+1f600");
    assert_eq!(first.description, "grinning face: face, grin");
    assert_eq!(first.image.as_deref(), Some(Path::new("images/1f600.png")));
    assert_eq!(ds.class_name(first.label.unwrap()), "smileys_emotion");
    let count = |name: &str| {
        let c = ds.class_index(name).unwrap();
        ds.items.iter().filter(|it| it.label == Some(c)).count()
    };
    assert_eq!(count("people_body"), 363);
    assert_eq!(count("activities"), 85);
    assert!(ds.items.iter().all(|it| it.label.is_some()));

    // The README says the sample embeddings are L2-normalised; they are kept as read.
    let row = ds.embeddings(Modality::Text).unwrap().row(0);
    let norm = row.dot(&row).sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "norm {norm}");

    assert_eq!(ds.fingerprint.len(), 64);
    assert!(ds.fingerprint.chars().all(|c| c.is_ascii_hexdigit()));
}

#[test]
fn loading_reports_progress_and_ends_in_the_image_check() {
    let monitor = Monitor::new();
    let ds = Dataset::load_with(sample_dir(), &monitor).unwrap();
    let p: Progress = monitor.sample();
    assert_eq!(p.stage, Stage::CheckImages);
    assert_eq!((p.done, p.total), (ds.len() as u64, ds.len() as u64));
}

#[test]
fn a_cancelled_monitor_stops_the_load() {
    let monitor = Monitor::new();
    monitor.cancel();
    let result = Dataset::load_with(sample_dir(), &monitor);
    assert!(matches!(
        result,
        Err(pairwise_audit::dataset::LoadError::Cancelled(_))
    ));
}
