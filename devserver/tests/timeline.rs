//! Task timelines on virtual time (tokio's paused clock): when each event fires, hold,
//! cancel, fail, retry, and the event shapes per hub and dialect.

use conduit_devserver::conduit::events::task_group;
use conduit_devserver::conduit::tasks::{Kind, NewTask, Status};
use conduit_devserver::counters::TransportKind;
use conduit_devserver::hubs::HubKind;
use conduit_devserver::protocol::Protocol;
use conduit_devserver::signalr::connection::Connection;
use conduit_devserver::signalr::Out;
use conduit_devserver::{App, Config, Dialect};
use serde_json::{json, Value};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::time::Instant;

const KEY: &str = "condt_timeline_key";

fn app(speed: f64) -> Arc<App> {
    App::new(Config {
        quiet: true,
        statics: vec![],
        speed,
        ..Default::default()
    })
}

/// A connection of `hub` in `dialect` whose outbound queue the test reads.
fn listener(
    app: &Arc<App>,
    hub: HubKind,
    dialect: Dialect,
) -> (Arc<Connection>, UnboundedReceiver<Out>) {
    let conn = Connection::new(
        hub,
        hub.path(),
        dialect,
        Some(KEY.into()),
        None,
        false,
        1,
        0,
    );
    conn.set_protocol(Protocol::Json);
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    conn.attach(
        TransportKind::WebSockets,
        tx,
        Arc::new(AtomicBool::new(false)),
    )
    .unwrap();
    app.conns.insert(conn.clone());
    (conn, rx)
}

fn new_task(kind: Kind, prompt: &str) -> NewTask {
    NewTask {
        kind,
        owner: KEY.into(),
        prompt: prompt.into(),
        model: "m".into(),
        n: 2,
        size: "512x512".into(),
        style: None,
        duration_secs: 4.0,
        fps: 10,
        base_url: "http://h".into(),
    }
}

/// (virtual ms since `t0`, target, arguments) of every invocation until `last` arrives.
async fn events_until(
    rx: &mut UnboundedReceiver<Out>,
    t0: Instant,
    last: &[&str],
) -> Vec<(u128, String, Vec<Value>)> {
    let mut out = Vec::new();
    loop {
        // Virtual time: a missing event fails after 10 idle minutes instead of hanging.
        let next = tokio::time::timeout(Duration::from_secs(600), rx.recv()).await;
        let Ok(Some(Out::Frame(f))) = next else {
            panic!("no {last:?} (got {:?})", targets(&out))
        };
        for rec in std::str::from_utf8(&f.data)
            .unwrap()
            .split('\u{1e}')
            .filter(|r| !r.is_empty())
        {
            let v: Value = serde_json::from_str(rec).unwrap();
            if v["type"] != 1 {
                continue;
            }
            let target = v["target"].as_str().unwrap().to_string();
            let stop = last.contains(&target.as_str());
            out.push((
                t0.elapsed().as_millis(),
                target,
                v["arguments"].as_array().unwrap().clone(),
            ));
            if stop {
                return out;
            }
        }
    }
}

fn targets(ev: &[(u128, String, Vec<Value>)]) -> Vec<&str> {
    ev.iter().map(|e| e.1.as_str()).collect()
}

#[tokio::test(start_paused = true)]
async fn image_timeline_at_default_speed() {
    let app = app(1.0);
    let (conn, mut rx) = listener(&app, HubKind::Image, Dialect::Deployed);
    let t0 = Instant::now();
    let task = app.tasks.create(&app, new_task(Kind::Image, "a calm lake"));
    app.conns.join(&conn, &task_group(&task.id));
    assert_eq!(task.status, Status::Queued);
    let ev = events_until(&mut rx, t0, &["ImageGenerationCompleted"]).await;
    assert_eq!(
        targets(&ev),
        [
            "ImageGenerationStarted",
            "ImageGenerationProgress",
            "ImageGenerationProgress",
            "ImageGenerationProgress",
            "ImageGenerationProgress",
            "ImageGenerationProgress",
            "ImageGenerationCompleted"
        ]
    );
    let times: Vec<u128> = ev.iter().map(|e| e.0).collect();
    // started at 200 ms, then 5 steps + completion evenly over the remaining 2800 ms
    let expected = [200, 667, 1133, 1600, 2067, 2533, 3000];
    for (t, e) in times.iter().zip(expected) {
        assert!((*t as i64 - e).abs() <= 2, "{times:?}");
    }
    let pct: Vec<u64> = ev[1..6]
        .iter()
        .map(|e| e.2[0]["progressPercentage"].as_u64().unwrap())
        .collect();
    assert_eq!(pct, [17, 33, 50, 67, 83]);
    let images: Vec<u64> = ev[1..6]
        .iter()
        .map(|e| e.2[0]["imagesCompleted"].as_u64().unwrap())
        .collect();
    assert_eq!(images, [0, 0, 1, 1, 1]);
    let done = &ev[6].2[0];
    assert_eq!(done["imageUrls"].as_array().unwrap().len(), 2);
    assert_eq!(
        done["imageUrls"][1],
        format!("http://h/generated/{}/1.svg", task.id)
    );
    let snap = app.tasks.snapshot(&task.id).unwrap();
    assert_eq!(snap.status, Status::Completed);
    assert_eq!(snap.progress, 100);
}

#[tokio::test(start_paused = true)]
async fn speed_and_prompt_directives_scale_the_timeline() {
    let app = app(10.0);
    let (conn, mut rx) = listener(&app, HubKind::Image, Dialect::Deployed);
    let t0 = Instant::now();
    let a = app.tasks.create(&app, new_task(Kind::Image, "fast"));
    app.conns.join(&conn, &task_group(&a.id));
    let ev = events_until(&mut rx, t0, &["ImageGenerationCompleted"]).await;
    assert_eq!(ev[0].0, 20);
    assert!(
        (ev.last().unwrap().0 as i64 - 300).abs() <= 5,
        "{:?}",
        ev.last().unwrap().0
    );

    let t1 = Instant::now();
    let b = app
        .tasks
        .create(&app, new_task(Kind::Image, "exact ms=1000 steps=2"));
    app.conns.join(&conn, &task_group(&b.id));
    let ev = events_until(&mut rx, t1, &["ImageGenerationCompleted"]).await;
    assert_eq!(ev.len(), 4, "started, 2 progress, completed");
    assert!(
        (ev.last().unwrap().0 as i64 - 1000).abs() <= 5,
        "ms= is not scaled by --speed"
    );
}

#[tokio::test(start_paused = true)]
async fn hold_pauses_and_cancel_stops_a_timeline() {
    let app = app(1.0);
    let (conn, mut rx) = listener(&app, HubKind::Image, Dialect::Deployed);
    app.tasks.set_hold(true);
    let t0 = Instant::now();
    let task = app.tasks.create(&app, new_task(Kind::Image, "held"));
    app.conns.join(&conn, &task_group(&task.id));
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(rx.try_recv().is_err(), "nothing happens while held");
    assert_eq!(app.tasks.snapshot(&task.id).unwrap().status, Status::Queued);
    app.tasks.set_hold(false);
    let ev = events_until(&mut rx, t0, &["ImageGenerationProgress"]).await;
    assert_eq!(
        targets(&ev),
        ["ImageGenerationStarted", "ImageGenerationProgress"]
    );
    assert!((ev[0].0 as i64 - 10_200).abs() <= 2, "{:?}", ev[0].0);
    let snap = app
        .tasks
        .finish(&app, &task.id, Status::Cancelled, None)
        .unwrap();
    assert_eq!(snap.status, Status::Cancelled);
    let ev = events_until(&mut rx, t0, &["ImageGenerationCancelled"]).await;
    assert_eq!(ev[0].2[0]["reason"], "Cancelled by user");
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert!(rx.try_recv().is_err(), "no events after cancel");
    assert!(app
        .tasks
        .finish(&app, &task.id, Status::Completed, None)
        .is_err());
}

#[tokio::test(start_paused = true)]
async fn failing_prompts_fail_and_retry_succeeds() {
    let app = app(1.0);
    let (conn, mut rx) = listener(&app, HubKind::Video, Dialect::Deployed);
    let t0 = Instant::now();
    let task = app
        .tasks
        .create(&app, new_task(Kind::Video, "fail-retryable please"));
    app.conns.join(&conn, &task_group(&task.id));
    let ev = events_until(
        &mut rx,
        t0,
        &["VideoGenerationFailed", "VideoGenerationCompleted"],
    )
    .await;
    assert_eq!(
        targets(&ev),
        [
            "VideoGenerationStarted",
            "VideoGenerationProgress",
            "VideoGenerationProgress",
            "VideoGenerationFailed"
        ]
    );
    assert_eq!(ev[3].2[0]["isRetryable"], true);
    assert_eq!(app.tasks.snapshot(&task.id).unwrap().status, Status::Failed);
    app.tasks.retry(&app, &task.id).unwrap();
    let ev = events_until(
        &mut rx,
        t0,
        &["VideoGenerationFailed", "VideoGenerationCompleted"],
    )
    .await;
    assert_eq!(ev.last().unwrap().1, "VideoGenerationCompleted");
    assert_eq!(app.tasks.snapshot(&task.id).unwrap().attempt, 2);

    let hard = app.tasks.create(&app, new_task(Kind::Video, "FAIL ms=100"));
    app.conns.join(&conn, &task_group(&hard.id));
    let ev = events_until(&mut rx, t0, &["VideoGenerationFailed"]).await;
    assert_eq!(ev.last().unwrap().2[0]["isRetryable"], false);
}

#[tokio::test(start_paused = true)]
async fn documented_dialect_shapes() {
    let app = app(1.0);
    let (img, mut irx) = listener(&app, HubKind::Image, Dialect::Documented);
    let (vid, mut vrx) = listener(&app, HubKind::Video, Dialect::Documented);
    let t0 = Instant::now();
    let a = app
        .tasks
        .create(&app, new_task(Kind::Image, "doc image ms=600 steps=2"));
    let b = app
        .tasks
        .create(&app, new_task(Kind::Video, "doc video ms=600 steps=2"));
    let f = app
        .tasks
        .create(&app, new_task(Kind::Image, "doc fail ms=300"));
    for id in [&a.id, &f.id] {
        app.conns.join(&img, &task_group(id));
    }
    app.conns.join(&vid, &task_group(&b.id));
    let ev = events_until(&mut irx, t0, &["TaskCompleted"]).await;
    // The failing task (300 ms) reports 2 of its 5 steps and fails before the other completes.
    assert_eq!(
        ev.iter().filter(|e| e.1 == "TaskProgress").count(),
        2 + 2,
        "both image tasks report progress"
    );
    assert_eq!(ev.iter().filter(|e| e.1 == "TaskFailed").count(), 1);
    let (_, _, progress) = ev.iter().find(|e| e.1 == "TaskProgress").unwrap();
    assert_eq!(progress.len(), 2);
    assert!(progress[1].is_u64());
    let (_, _, done) = ev.last().unwrap();
    assert_eq!(done[0], json!(a.id));
    assert_eq!(
        done[1]["image_url"],
        format!("http://h/generated/{}/0.svg", a.id)
    );
    assert!(done[1]["metadata"].is_object());
    let (_, _, failed) = ev.iter().find(|e| e.1 == "TaskFailed").unwrap();
    assert_eq!(failed[0], json!(f.id));
    assert!(failed[1].as_str().unwrap().contains("fail"));
    let ev = events_until(&mut vrx, t0, &["RequestCompleted"]).await;
    assert_eq!(
        targets(&ev),
        ["RequestProgress", "RequestProgress", "RequestCompleted"]
    );
    assert_eq!(
        ev[2].2[1]["video_url"],
        format!("http://h/generated/{}.webm", b.id)
    );
}

#[tokio::test(start_paused = true)]
async fn deployed_video_alternates_shapes_and_tasks_hub_is_positional() {
    let app = app(1.0);
    let (vid, mut vrx) = listener(&app, HubKind::Video, Dialect::Deployed);
    let (tasks, mut trx) = listener(&app, HubKind::Tasks, Dialect::Deployed);
    let t0 = Instant::now();
    let odd = app
        .tasks
        .create(&app, new_task(Kind::Video, "first ms=500 steps=4"));
    let even = app
        .tasks
        .create(&app, new_task(Kind::Video, "second ms=500 steps=4"));
    for id in [&odd.id, &even.id] {
        app.conns.join(&vid, &task_group(id));
        app.conns.join(&tasks, &task_group(id));
    }
    let mut ev = Vec::new();
    while ev
        .iter()
        .filter(|e: &&(u128, String, Vec<Value>)| e.1 == "VideoGenerationCompleted")
        .count()
        < 2
    {
        ev.extend(events_until(&mut vrx, t0, &["VideoGenerationCompleted"]).await);
    }
    let progress: Vec<&Value> = ev
        .iter()
        .filter(|e| e.1 == "VideoGenerationProgress" && e.2[0]["taskId"] == json!(odd.id))
        .map(|e| &e.2[0])
        .collect();
    assert_eq!(progress.len(), 4);
    assert!(
        progress[0].get("progressPercentage").is_some()
            && progress[0].get("framesCompleted").is_none()
    );
    assert!(progress[1].get("framesCompleted").is_some() && progress[1].get("progress").is_some());
    assert_eq!(progress[1]["totalFrames"], 40);
    let done: Vec<&Value> = ev
        .iter()
        .filter(|e| e.1 == "VideoGenerationCompleted")
        .map(|e| &e.2[0])
        .collect();
    let rich = done
        .iter()
        .filter(|d| d.get("previewUrl").is_some())
        .count();
    assert_eq!(rich, 1, "one rich and one simple completion (task parity)");
    let started = ev.iter().find(|e| e.1 == "VideoGenerationStarted").unwrap();
    for k in ["taskId", "provider", "startedAt", "estimatedSeconds"] {
        assert!(started.2[0].get(k).is_some(), "{k}");
    }

    let tev = events_until(&mut trx, t0, &["TaskCompleted"]).await;
    let (_, _, st) = tev.iter().find(|e| e.1 == "TaskStarted").unwrap();
    assert_eq!(st[1], "video_generation");
    let (_, _, p) = tev.iter().find(|e| e.1 == "TaskProgress").unwrap();
    assert_eq!(p.len(), 3);
    let (_, _, c) = tev.last().unwrap();
    assert!(c[1]["videoUrl"].as_str().unwrap().ends_with(".webm"));
}
