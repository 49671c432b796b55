//! The review workflow as a reviewer drives it: keyboard decisions with auto-advance, the
//! class picker, marks and bulk actions, undo and redo, the log surviving a reopen, export.
//! Each test works on its own copy of sample_data so that logs never land in the repository.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{Key, Modifiers};
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use pairwise_audit::Modality;
use pairwise_audit::audit::FlagKind;
use pairwise_audit::review::ReviewStatus;

use crate::app::AuditApp;
use crate::app::commands::{Action, Command};
use crate::app::review::{Results, flag_label};
use crate::app::state::Persisted;
use crate::app::worker;

/// sample_data's tables and embeddings copied, its images linked.
pub(crate) fn dataset_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample_data");
    for f in [
        "items.csv",
        "classes.csv",
        "image_embeddings.npy",
        "text_embeddings.npy",
        "class_embeddings.npy",
        "NOTICE.txt",
    ] {
        std::fs::copy(sample.join(f), dir.path().join(f)).unwrap();
    }
    std::os::unix::fs::symlink(sample.join("images"), dir.path().join("images")).unwrap();
    dir
}

fn harness() -> Harness<'static, AuditApp> {
    let app = AuditApp::new(Persisted::default(), worker::engine_pipeline());
    Harness::builder()
        .with_size([1500.0, 950.0])
        .build_ui_state(|ui, app: &mut AuditApp| app.ui(ui), app)
}

/// Open `dir`, wait for the run and for the decision log.
pub(crate) fn open(h: &mut Harness<'_, AuditApp>, dir: &Path) -> Arc<Results> {
    let ctx = h.ctx.clone();
    h.state_mut()
        .apply(&ctx, Command::OpenDataset(dir.to_path_buf()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.state().job.is_some() || (h.state().session.is_none() && h.state().log_error.is_none())
    {
        assert!(Instant::now() < deadline, "run or log did not finish");
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    h.run_steps(2);
    h.state().results.clone().unwrap()
}

fn order(h: &Harness<'_, AuditApp>) -> Vec<usize> {
    h.state().grid.order().iter().map(|&i| i as usize).collect()
}

fn status(h: &Harness<'_, AuditApp>, r: &Results, i: usize) -> Option<ReviewStatus> {
    let s = h.state().session.as_ref().unwrap();
    s.history.get(&r.dataset.items[i].id).map(|x| x.status)
}

fn new_label(h: &Harness<'_, AuditApp>, r: &Results, i: usize) -> Option<String> {
    let s = h.state().session.as_ref().unwrap();
    s.history
        .get(&r.dataset.items[i].id)
        .and_then(|x| x.label.clone())
}

fn press(h: &mut Harness<'_, AuditApp>, key: Key) {
    h.key_press(key);
    h.run_steps(2);
}

fn flush(h: &Harness<'_, AuditApp>) {
    assert!(
        h.state()
            .session
            .as_ref()
            .unwrap()
            .flush(Duration::from_secs(5))
    );
}

#[test]
fn keyboard_decisions_advance_through_the_grid_order() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let o = order(&h);
    assert_eq!(h.state().selected, Some(o[0]));

    press(&mut h, Key::A);
    assert_eq!(status(&h, &r, o[0]), Some(ReviewStatus::Accepted));
    assert_eq!(
        h.state().selected,
        Some(o[1]),
        "auto-advance to the next row"
    );

    press(&mut h, Key::I);
    let image = r.rows[o[1]].pairwise(Modality::Image).unwrap();
    assert_eq!(
        new_label(&h, &r, o[1]).as_deref(),
        Some(r.dataset.class_name(image))
    );
    assert_eq!(h.state().selected, Some(o[2]));

    press(&mut h, Key::T);
    let text = r.rows[o[2]].pairwise(Modality::Text).unwrap();
    assert_eq!(
        new_label(&h, &r, o[2]).as_deref(),
        Some(r.dataset.class_name(text))
    );

    press(&mut h, Key::S);
    assert_eq!(status(&h, &r, o[3]), Some(ReviewStatus::Skipped));
    assert_eq!(h.state().selected, Some(o[4]));

    // K goes back, Delete clears, J goes forward again.
    press(&mut h, Key::K);
    assert_eq!(h.state().selected, Some(o[3]));
    press(&mut h, Key::Delete);
    assert_eq!(status(&h, &r, o[3]), None);
    press(&mut h, Key::J);
    assert_eq!(
        h.state().selected,
        Some(o[5]),
        "after a clear the review moved on, J once more"
    );

    // The grid shows the statuses (beside the "accepted" status filter).
    assert_eq!(h.query_all_by_label("accepted").count(), 2);
    h.get_by_label(&format!("» {}", r.dataset.class_name(image)));
    // The sample's own annotations are estimated right, so its queue is empty and the three
    // decisions lie outside it.
    let queued = r.queue_stats(0.5).unwrap().items;
    let inside = o[..4]
        .iter()
        .filter(|&&i| r.audit.p_wrong(i).is_some_and(|p| p >= 0.5) && status(&h, &r, i).is_some())
        .count();
    h.get_by_label(&format!(
        "reviewed {inside} of {queued} in the queue (50% cut) · 3 decisions in all"
    ));
}

/// sample_data with every tenth annotation moved to another class: (folder, flipped rows).
fn dataset_with_flips() -> (tempfile::TempDir, Vec<usize>) {
    let dir = dataset_copy();
    let path = dir.path().join("items.csv");
    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header = reader.headers().unwrap().clone();
    let label = header.iter().position(|h| h == "label").unwrap();
    let rows: Vec<Vec<String>> = reader
        .records()
        .map(|r| r.unwrap().iter().map(String::from).collect())
        .collect();
    let classes: Vec<String> = csv::Reader::from_path(dir.path().join("classes.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let mut writer = csv::Writer::from_path(&path).unwrap();
    writer.write_record(&header).unwrap();
    let mut flipped = Vec::new();
    for (i, mut row) in rows.into_iter().enumerate() {
        if i % 10 == 0 {
            let k = classes.iter().position(|c| *c == row[label]).unwrap();
            row[label] = classes[(k + 1 + (i / 10) % (classes.len() - 1)) % classes.len()].clone();
            flipped.push(i);
        }
        writer.write_record(&row).unwrap();
    }
    writer.flush().unwrap();
    (dir, flipped)
}

/// The queue's cut slider (its label is also a text node of its own).
fn cut_slider<'a>(h: &'a Harness<'_, AuditApp>) -> egui_kittest::Node<'a> {
    h.get(
        egui_kittest::kittest::by()
            .label("% cut")
            .role(egui::accesskit::Role::Slider),
    )
}

#[test]
fn the_review_queue_filters_the_grid_moves_with_its_cut_and_measures_precision() {
    let (dir, flipped) = dataset_with_flips();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let stats = r.queue_stats(0.5).unwrap();
    assert!(stats.items > 100, "{stats:?}");
    // The queue filter shows exactly the queued items, most suspicious first.
    h.get_by_label(&format!("queue ({})", stats.items)).click();
    h.run_steps(2);
    let shown = order(&h);
    assert_eq!(shown.len(), stats.items);
    assert!(shown.iter().all(|&i| r.audit.p_wrong(i).unwrap() >= 0.5));
    let hits = shown.iter().filter(|i| flipped.contains(i)).count();
    assert!(
        hits as f64 > 0.8 * shown.len() as f64,
        "{hits} of {}",
        shown.len()
    );
    h.get_by_label(&format!(
        "expected precision {:.2}",
        stats.expected_precision.unwrap()
    ));
    // A stricter cut queues fewer items, and the grid follows.
    cut_slider(&h).set_value_accesskit(95.0);
    h.run_steps(2);
    assert_eq!(h.state().persisted.queue_cut, 95);
    let strict = r.queue_stats(0.95).unwrap().items;
    assert!(strict < stats.items);
    assert_eq!(order(&h).len(), strict);
    h.get_by_label(&format!("queue ({strict})"));
    // Decisions are evidence: relabel the first two, accept the third.
    cut_slider(&h).set_value_accesskit(50.0);
    h.run_steps(2);
    let first = order(&h)[0];
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, Command::Select(Some(first)));
    h.run_steps(1);
    press(&mut h, Key::T);
    press(&mut h, Key::T);
    press(&mut h, Key::A);
    let o = order(&h);
    let expected: f64 = o[..3]
        .iter()
        .map(|&i| r.audit.p_wrong(i).unwrap())
        .sum::<f64>()
        / 3.0;
    h.get_by_label(&format!(
        "reviewed 3 of {} in the queue (50% cut) · precision so far 0.67 (expected {expected:.2}) · 3 decisions in all",
        stats.items
    ));
}

#[test]
fn without_auto_advance_the_selection_stays() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let o = order(&h);
    h.get_by_label("auto-advance").click();
    h.run_steps(2);
    assert!(!h.state().persisted.auto_advance);
    press(&mut h, Key::A);
    assert_eq!(status(&h, &r, o[0]), Some(ReviewStatus::Accepted));
    assert_eq!(h.state().selected, Some(o[0]));
}

#[test]
fn the_class_picker_searches_as_you_type() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let first = order(&h)[0];
    press(&mut h, Key::C);
    assert!(h.state().picker.is_some());
    h.get_by_label("Relabel the selected item to…");
    // The picker took the keyboard focus: typing goes straight into its search field.
    let focused: Vec<_> = h
        .query_all_by_role(egui::accesskit::Role::TextInput)
        .filter(|n| n.is_focused())
        .collect();
    assert_eq!(focused.len(), 1);
    focused[0].type_text("symb");
    h.run_steps(2);
    // Only the matching class is offered.
    assert!(h.query_by_label("symbols — an emoji of symbols").is_some());
    assert!(h.query_by_label("flags — an emoji of flags").is_none());
    h.key_press(Key::Enter);
    h.run_steps(3);
    assert!(h.state().picker.is_none());
    assert_eq!(new_label(&h, &r, first).as_deref(), Some("symbols"));
    let s = h.state().session.as_ref().unwrap();
    let review = s.history.get(&r.dataset.items[first].id).unwrap();
    assert_eq!(
        review.source,
        Some(pairwise_audit::review::LabelSource::Manual)
    );
}

#[test]
fn a_bulk_action_on_the_filter_is_confirmed_and_undone_as_one_step() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let kind = FlagKind::AgreeNotAnnotation;
    let n = r.rows.iter().filter(|row| row.flag == kind).count();
    h.get_by_label(&format!("{} ({n})", flag_label(kind)))
        .click();
    h.run_steps(2);
    h.get_by_label(&format!("All {n} shown…")).click();
    h.run_steps(2);
    h.get_by_label("Accept all").click();
    h.run_steps(2);
    assert_eq!(
        h.state()
            .pending_bulk
            .as_ref()
            .map(|(_, items)| items.len()),
        Some(n)
    );
    // A new window spends its first frame measuring itself, unseen.
    h.run_steps(2);
    // Nothing happens before the confirmation, which names the count.
    assert_eq!(
        h.state().session.as_ref().unwrap().history.reviewed_count(),
        0
    );
    h.get_by_label(&format!("Apply to {n} items")).click();
    h.run_steps(2);
    let reviewed =
        |h: &Harness<'_, AuditApp>| h.state().session.as_ref().unwrap().history.reviewed_count();
    assert_eq!(reviewed(&h), n);
    assert!(
        (0..r.len())
            .filter(|&i| r.rows[i].flag == kind)
            .all(|i| status(&h, &r, i) == Some(ReviewStatus::Accepted))
    );

    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    assert_eq!(reviewed(&h), 0, "one undo takes back the whole bulk action");
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.run_steps(2);
    assert_eq!(reviewed(&h), n, "Ctrl+Shift+Z redoes it");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Y);
    h.run_steps(2);
    assert_eq!(reviewed(&h), n, "Ctrl+Y redoes it too");

    // A new decision after an undo drops the redo tail.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.run_steps(2);
    press(&mut h, Key::S);
    let s = h.state().session.as_ref().unwrap();
    assert!(!s.history.can_redo());
    assert_eq!(s.history.reviewed_count(), 1);
}

#[test]
fn marked_items_are_decided_together() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let o = order(&h);
    // Shift-click from the selected first row to the third row marks three rows.
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, Command::MarkRange(o[2]));
    h.state_mut().apply(&ctx, Command::ToggleMark(o[5]));
    h.run_steps(2);
    h.get_by_label("4 marked");
    press(&mut h, Key::A);
    for &i in &[o[0], o[1], o[2], o[5]] {
        assert_eq!(status(&h, &r, i), Some(ReviewStatus::Accepted));
    }
    assert_eq!(status(&h, &r, o[3]), None);
    let s = h.state().session.as_ref().unwrap();
    assert_eq!(s.history.steps().len(), 1, "one gesture, one step");
}

#[test]
fn the_unreviewed_filter_drops_decided_items_and_the_review_goes_on() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    h.get_by_label("unreviewed").click();
    h.run_steps(2);
    let o = order(&h);
    assert_eq!(o.len(), r.len());
    press(&mut h, Key::A);
    press(&mut h, Key::A);
    let now = order(&h);
    assert_eq!(now.len(), r.len() - 2);
    assert!(!now.contains(&o[0]) && !now.contains(&o[1]));
    assert_eq!(h.state().selected, Some(o[2]));
    assert_eq!(now[0], o[2]);
}

#[test]
fn decisions_and_the_undo_position_survive_reopening() {
    let dir = dataset_copy();
    let (o, r) = {
        let mut h = harness();
        let r = open(&mut h, dir.path());
        let o = order(&h);
        press(&mut h, Key::A);
        press(&mut h, Key::I);
        press(&mut h, Key::S);
        h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
        h.run_steps(2);
        flush(&h);
        (o, r)
    };
    assert!(dir.path().join(".pairwise-audit/decisions.jsonl").exists());
    let mut h = harness();
    open(&mut h, dir.path());
    let s = h.state().session.as_ref().unwrap();
    assert_eq!(s.history.cursor(), 2);
    assert!(s.history.can_redo());
    assert_eq!(status(&h, &r, o[0]), Some(ReviewStatus::Accepted));
    assert_eq!(status(&h, &r, o[1]), Some(ReviewStatus::Relabeled));
    assert_eq!(status(&h, &r, o[2]), None, "the undone skip stays undone");
    // The grid shows the restored status (beside the "accepted" status filter).
    assert_eq!(h.query_all_by_label("accepted").count(), 2);
}

#[test]
fn the_datasets_notice_is_shown_above_the_grid() {
    let dir = dataset_copy();
    let mut h = harness();
    open(&mut h, dir.path());
    h.get_by_label("About this data:");
    let notice = h.state().results.as_ref().unwrap().notice.clone().unwrap();
    assert!(
        notice.contains("NOT computed from the pictures"),
        "{notice}"
    );
    h.get_by_label(&notice);
}

#[test]
fn the_cheat_sheet_lists_the_shortcuts() {
    let dir = dataset_copy();
    let mut h = harness();
    open(&mut h, dir.path());
    press(&mut h, Key::Questionmark);
    assert!(h.state().cheat_sheet);
    // The window's title and its own row.
    assert_eq!(h.query_all_by_label("Keyboard shortcuts").count(), 2);
    h.get_by_label("Relabel to image label");
    h.get_by_label("Relabel to class…");
    h.get_by_label("Ctrl+Z");
    press(&mut h, Key::Questionmark);
    assert!(!h.state().cheat_sheet);
    assert_eq!(h.query_all_by_label("Keyboard shortcuts").count(), 0);
}

#[test]
fn export_writes_what_was_decided() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let o = order(&h);
    press(&mut h, Key::I);
    press(&mut h, Key::A);
    h.get_by_label("File").click();
    h.run_steps(2);
    h.get_by_label("Export corrections…").click();
    h.run_steps(2);
    assert_eq!(
        h.state().actions,
        vec![Action::PickExportPath { all_items: false }]
    );
    // The shell would show a save dialog; answer it as the shell does.
    let out: PathBuf = dir.path().join("out").join("fixes.csv");
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let ctx = h.ctx.clone();
    h.state_mut().apply(
        &ctx,
        Command::ExportTo {
            path: out.clone(),
            all_items: false,
        },
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.state().last_export.is_none() {
        assert!(Instant::now() < deadline);
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let item = &r.dataset.items[o[0]];
    let image = r
        .dataset
        .class_name(r.rows[o[0]].pairwise(Modality::Image).unwrap());
    let old = r.dataset.class_name(r.rows[o[0]].annotation.unwrap());
    assert_eq!(
        lines.len(),
        2,
        "one correction; the accept is not one: {text}"
    );
    assert!(
        lines[1].starts_with(&format!("{},{old},{image},relabel,image,", item.id)),
        "{}",
        lines[1]
    );
}

#[test]
fn an_unwritable_log_place_is_reported_and_another_can_be_chosen() {
    let dir = dataset_copy();
    // A file where the log's folder should be makes the default place unusable.
    std::fs::write(dir.path().join(".pairwise-audit"), "in the way").unwrap();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    assert!(h.state().session.is_none());
    assert!(
        h.state()
            .log_error
            .as_ref()
            .unwrap()
            .contains("choose where to keep it")
    );
    press(&mut h, Key::A);
    assert!(
        h.state()
            .notices
            .iter()
            .any(|n| n.contains("decision was not made")),
        "no silent loss: the decision is refused while nothing can save it"
    );
    h.get_by_label("Choose where to keep the decision log…")
        .click();
    h.run_steps(2);
    assert_eq!(h.state().actions, vec![Action::PickLogPath]);
    let elsewhere = tempfile::tempdir().unwrap();
    let log = elsewhere.path().join("my-log.jsonl");
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, Command::UseLogPath(log.clone()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.state().session.is_none() {
        assert!(Instant::now() < deadline);
        h.step();
        std::thread::sleep(Duration::from_millis(5));
    }
    press(&mut h, Key::A);
    flush(&h);
    let first = order(&h)[0];
    assert!(
        std::fs::read_to_string(&log)
            .unwrap()
            .contains(&r.dataset.items[first].id)
    );
    // The place is remembered for this dataset.
    assert_eq!(h.state().persisted.log_paths.len(), 1);
}

#[test]
fn the_neighbours_behind_a_score_are_one_click_away() {
    let dir = dataset_copy();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let first = order(&h)[0];
    let score = r.audit.scores.items[first].as_ref().unwrap();
    let pairwise_audit::scorers::Evidence::Annotated { neighbours, .. } = &score.evidence else {
        panic!("the default scorer explains itself with neighbours on the sample");
    };
    let j = neighbours[0].1[0] as usize;
    let label = format!(
        "{} ({})",
        r.dataset.items[j].id,
        r.class_name(r.rows[j].annotation)
    );
    // The same item may be a neighbour in both views: either button goes there.
    h.query_all_by_label(&label).next().unwrap().click();
    h.run_steps(2);
    assert_eq!(h.state().selected, Some(j));
}

#[test]
fn look_alikes_filter_the_grid_and_l_gives_both_one_label() {
    let (dir, _) = dataset_with_flips();
    let mut h = harness();
    let r = open(&mut h, dir.path());
    let pairs = r.audit.lookalikes.len();
    assert!(pairs > 0, "the flipped sample has look-alikes");
    h.get_by_label(&format!("look-alikes ({pairs} pairs)"))
        .click();
    h.run_steps(2);
    let shown = order(&h);
    let mut members: Vec<usize> = r.audit.lookalikes.iter().flat_map(|p| [p.a, p.b]).collect();
    members.sort_unstable();
    members.dedup();
    let mut got = shown.clone();
    got.sort_unstable();
    assert_eq!(got, members, "the grid shows exactly the items in a pair");
    // Select one and press L: it is accepted, its look-alike takes its label.
    let keep = shown[0];
    let other = r.lookalikes[keep][0];
    let ctx = h.ctx.clone();
    h.state_mut().apply(&ctx, Command::Select(Some(keep)));
    h.run_steps(2);
    h.get_by_label("Looks the same as another item, labelled differently");
    press(&mut h, Key::L);
    assert_eq!(status(&h, &r, keep), Some(ReviewStatus::Accepted));
    assert_eq!(status(&h, &r, other), Some(ReviewStatus::Relabeled));
    let class = r
        .dataset
        .class_name(r.rows[keep].annotation.unwrap())
        .to_string();
    assert_eq!(new_label(&h, &r, other), Some(class));
}
