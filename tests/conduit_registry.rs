//! The task registry: exactly-once outcomes, monotonic progress, ETA, snapshots and bounded memory.

use conduit_realtime::conduit::registry::Registry;
use conduit_realtime::conduit::task::{Outcome, Progress, TaskEvent, TaskKind, TaskStatus};

fn progress(id: &str, percent: f64) -> TaskEvent {
    TaskEvent::Progress { task_id: id.into(), progress: Progress { percent, ..Progress::default() } }
}

fn completed(id: &str) -> TaskEvent {
    TaskEvent::Completed { task_id: id.into(), outcome: Outcome { image_urls: vec!["https://x/1.png".into()], ..Outcome::default() } }
}

#[test]
fn outcomes_are_delivered_once_and_progress_never_goes_back() {
    let mut r = Registry::new(100, 0);
    r.track("t", Some(TaskKind::Image), 0);
    assert_eq!(r.get("t").unwrap().status, TaskStatus::Pending);
    assert!(r.apply(progress("t", 20.0), None, 1_000).is_some());
    assert!(r.apply(progress("t", 10.0), None, 2_000).is_none(), "backwards progress is dropped");
    assert!(r.apply(progress("t", 20.0), None, 2_500).is_some(), "same progress with news is delivered");
    let done = r.apply(completed("t"), None, 3_000).unwrap();
    assert_eq!(done.name, "completed");
    assert_eq!(
        done.json.as_deref().unwrap(),
        r#"{"taskId":"t","taskType":"image","status":"completed","imageUrl":"https://x/1.png","imageUrls":["https://x/1.png"]}"#
    );
    assert!(r.apply(completed("t"), None, 3_100).is_none(), "a repeated completion is not delivered");
    assert!(r.apply(progress("t", 99.0), None, 3_200).is_none(), "nothing after the outcome");
    assert!(r.apply(TaskEvent::Failed { task_id: "t".into(), error: "late".into(), is_retryable: None }, None, 3_300).is_none());
    assert_eq!(r.get("t").unwrap().status, TaskStatus::Completed);
}

#[test]
fn progress_events_carry_details_and_an_eta() {
    let mut r = Registry::new(10, 0);
    r.apply(TaskEvent::Started { task_id: "v".into(), estimated_seconds: Some(100.0) }, Some(TaskKind::Video), 0);
    let first = r.apply(progress("v", 10.0), None, 10_000).unwrap();
    assert_eq!((first.name, first.task_id.as_str(), first.json), ("progress", "v", None));
    assert_eq!(r.get("v").unwrap().eta_seconds, Some(90.0));
    r.apply(progress("v", 30.0), None, 20_000).unwrap();
    // 20 points in 10 s: 70 points left take 35 s.
    let task = r.get("v").unwrap();
    assert_eq!((task.progress.percent, task.eta_seconds, task.kind), (30.0, Some(35.0), Some(TaskKind::Video)));
}

#[test]
fn events_for_unknown_tasks_are_tracked() {
    let mut r = Registry::new(10, 0);
    let d = r.apply(progress("new", 5.0), Some(TaskKind::Image), 0).unwrap();
    assert_eq!(d.name, "progress");
    assert_eq!(r.unfinished(Some(TaskKind::Image)), vec![("new".to_string(), Some(TaskKind::Image))]);
    assert!(r.unfinished(Some(TaskKind::Video)).is_empty());
}

#[test]
fn snapshot_lists_tasks_in_creation_order() {
    let mut r = Registry::new(10, 0);
    r.track("b", Some(TaskKind::Image), 1);
    r.track("a", Some(TaskKind::Video), 2);
    r.apply(TaskEvent::Failed { task_id: "a".into(), error: "no \"quota\"".into(), is_retryable: Some(false) }, None, 3);
    let v = r.version();
    let snapshot = r.snapshot_json();
    assert!(snapshot.starts_with(r#"[{"id":"b","taskId":"b","taskType":"image","status":"pending","progress":0"#), "{snapshot}");
    assert!(snapshot.contains(r#""status":"failed","progress":0,"error":"no \"quota\"","isRetryable":false"#), "{snapshot}");
    r.set_subscribed("b", true);
    assert!(r.version() > v);
}

#[test]
fn finished_tasks_are_bounded() {
    let mut r = Registry::new(100, 0);
    for i in 0..10_000 {
        let id = format!("t{i}");
        r.track(&id, Some(TaskKind::Image), i);
        r.apply(progress(&id, 50.0), None, i);
        r.apply(completed(&id), None, i);
    }
    assert_eq!(r.len(), 100, "only the newest finished tasks are kept");
    assert!(r.get("t9999").is_some() && r.get("t0").is_none());
    r.clear_finished();
    assert!(r.is_empty());
}

#[test]
fn a_reconnect_joins_the_unfinished_tasks_the_user_follows() {
    let mut r = Registry::new(100, 0);
    for id in ["a", "b", "c", "v"] {
        r.track(id, Some(if id == "v" { TaskKind::Video } else { TaskKind::Image }), 0);
        r.set_followed(id, true);
    }
    r.set_followed("b", false);
    r.apply(completed("c"), None, 1);
    assert_eq!(r.followed(TaskKind::Image), vec!["a".to_string()], "unfollowed and finished tasks are left out");
    assert_eq!(r.followed(TaskKind::Video), vec!["v".to_string()]);
}

#[test]
fn a_task_changes_revision_only_when_it_changes() {
    let mut r = Registry::new(100, 0);
    r.track("a", Some(TaskKind::Image), 0);
    r.track("b", Some(TaskKind::Image), 0);
    let (a, b) = (r.get("a").unwrap().revision, r.get("b").unwrap().revision);
    r.apply(progress("b", 10.0), None, 5);
    assert_eq!(r.get("a").unwrap().revision, a);
    assert!(r.get("b").unwrap().revision > b);
    let before = r.get("a").unwrap().revision;
    r.set_subscribed("a", true);
    assert!(r.get("a").unwrap().revision > before);
}

#[test]
fn changes_name_each_changed_task_once_and_membership_changes() {
    let mut r = Registry::new(1, 0);
    r.track("a", Some(TaskKind::Image), 0);
    r.track("b", Some(TaskKind::Image), 0);
    assert!(r.take_changes().membership, "new tasks change the membership");
    assert_eq!(r.take_changes(), Default::default(), "nothing changed since");
    r.apply(progress("a", 10.0), None, 1);
    r.apply(progress("a", 20.0), None, 2);
    r.set_subscribed("b", true);
    let changes = r.take_changes();
    assert!(!changes.membership);
    assert_eq!(changes.tasks, vec!["a".to_string(), "b".to_string()], "each changed task once");
    r.apply(completed("a"), None, 3);
    r.apply(completed("b"), None, 4);
    assert!(r.take_changes().membership, "a finished task forgotten beyond maxFinished changes the membership");
}
