//! Both Conduit dialects mapped to task events, with server data checked.

use conduit_realtime::conduit::dialect::{self, map_invocation};
use conduit_realtime::conduit::task::{Outcome, Progress, TaskEvent, TaskKind};

fn event(target: &str, args: &str, hub: Option<TaskKind>) -> TaskEvent {
    map_invocation(target, args, hub).unwrap().unwrap().event
}

#[test]
fn documented_positional_events() {
    assert_eq!(
        event("TaskProgress", r#"["t1", 42]"#, Some(TaskKind::Image)),
        TaskEvent::Progress { task_id: "t1".into(), progress: Progress { percent: 42.0, ..Progress::default() } }
    );
    assert_eq!(
        event("RequestProgress", r#"["v1", 150]"#, Some(TaskKind::Video)),
        TaskEvent::Progress { task_id: "v1".into(), progress: Progress { percent: 100.0, ..Progress::default() } },
        "progress is clamped"
    );
    assert_eq!(
        event("TaskCompleted", r#"["t1", {"image_url":"https://cdn/x.png","metadata":{"seed":7}}]"#, Some(TaskKind::Image)),
        TaskEvent::Completed {
            task_id: "t1".into(),
            outcome: Outcome { image_urls: vec!["https://cdn/x.png".into()], metadata: Some(r#"{"seed":7}"#.into()), ..Outcome::default() }
        }
    );
    assert_eq!(
        event("RequestCompleted", r#"["v1", {"video_url":"https://cdn/v.mp4"}]"#, None),
        TaskEvent::Completed { task_id: "v1".into(), outcome: Outcome { video_url: Some("https://cdn/v.mp4".into()), ..Outcome::default() } }
    );
    assert_eq!(
        event("RequestFailed", r#"["v1", "out of credits"]"#, Some(TaskKind::Video)),
        TaskEvent::Failed { task_id: "v1".into(), error: "out of credits".into(), is_retryable: None }
    );
}

#[test]
fn tasks_hub_positional_events() {
    assert_eq!(
        event("TaskProgress", r#"["t", 10, "Warming up"]"#, None),
        TaskEvent::Progress {
            task_id: "t".into(),
            progress: Progress { percent: 10.0, message: Some("Warming up".into()), ..Progress::default() }
        }
    );
    assert_eq!(
        event("TaskFailed", r#"["t", "provider down", true]"#, None),
        TaskEvent::Failed { task_id: "t".into(), error: "provider down".into(), is_retryable: Some(true) }
    );
    assert_eq!(event("TaskCancelled", r#"["t", "user"]"#, None), TaskEvent::Cancelled { task_id: "t".into(), reason: Some("user".into()) });
    assert!(matches!(event("TaskTimedOut", r#"["t", 300]"#, None), TaskEvent::Failed { error, is_retryable: Some(true), .. } if error.contains("300")));
    assert_eq!(event("TaskStarted", r#"["t", "image", {}]"#, None), TaskEvent::Started { task_id: "t".into(), estimated_seconds: None });
}

#[test]
fn deployed_object_events_including_both_video_shapes() {
    assert_eq!(
        event(
            "ImageGenerationProgress",
            r#"[{"taskId":"i1","progressPercentage":40,"status":"processing","imagesCompleted":1,"totalImages":2,"message":"1 of 2","timestamp":"2024-01-01T00:00:00Z"}]"#,
            None
        ),
        TaskEvent::Progress {
            task_id: "i1".into(),
            progress: Progress {
                percent: 40.0,
                status: Some("processing".into()),
                message: Some("1 of 2".into()),
                images_completed: Some(1.0),
                total_images: Some(2.0),
                ..Progress::default()
            }
        }
    );
    let TaskEvent::Completed { outcome, .. } =
        event("ImageGenerationCompleted", r#"[{"taskId":"i1","imageUrls":["https://a/1.png","https://a/2.png"],"durationSeconds":3.5,"cost":0.04}]"#, None)
    else {
        panic!()
    };
    assert_eq!(outcome.image_urls, vec!["https://a/1.png", "https://a/2.png"]);
    assert_eq!((outcome.cost, outcome.duration_seconds), (Some(0.04), Some(3.5)));

    let shape_a = event("VideoGenerationProgress", r#"[{"taskId":"v","progressPercentage":30,"status":"processing","message":"m"}]"#, None);
    let shape_b = event("VideoGenerationProgress", r#"[{"taskId":"v","status":"processing","progress":30,"message":"m","framesCompleted":9,"totalFrames":30}]"#, None);
    let TaskEvent::Progress { progress: a, .. } = shape_a else { panic!() };
    let TaskEvent::Progress { progress: b, .. } = shape_b else { panic!() };
    assert_eq!((a.percent, b.percent), (30.0, 30.0));
    assert_eq!((b.frames_completed, b.total_frames), (Some(9.0), Some(30.0)));

    let TaskEvent::Completed { outcome: simple, .. } =
        event("VideoGenerationCompleted", r#"[{"taskId":"v","videoUrl":"https://v/1.mp4","durationSeconds":12,"cost":0.5}]"#, None)
    else {
        panic!()
    };
    assert_eq!((simple.video_url.as_deref(), simple.duration_seconds), (Some("https://v/1.mp4"), Some(12.0)));
    let TaskEvent::Completed { outcome: rich, .. } = event(
        "VideoGenerationCompleted",
        r#"[{"taskId":"v","status":"completed","videoUrl":"https://v/2.mp4","previewUrl":"https://v/2.jpg","duration":6,"resolution":"1280x720","fileSize":1000,"cost":0.7,"provider":"p","model":"m","generationDuration":41}]"#,
        None,
    ) else {
        panic!()
    };
    assert_eq!(rich.preview_url.as_deref(), Some("https://v/2.jpg"));
    assert_eq!(rich.duration_seconds, Some(41.0));
    assert!(rich.metadata.unwrap().contains("\"resolution\":\"1280x720\""));
    assert_eq!(
        event("VideoGenerationStarted", r#"[{"taskId":"v","provider":"p","estimatedSeconds":60}]"#, None),
        TaskEvent::Started { task_id: "v".into(), estimated_seconds: Some(60.0) }
    );
    assert_eq!(
        event("ImageGenerationFailed", r#"[{"taskId":"i","error":"nsfw","isRetryable":false}]"#, None),
        TaskEvent::Failed { task_id: "i".into(), error: "nsfw".into(), is_retryable: Some(false) }
    );
    assert_eq!(
        event("VideoGenerationCancelled", r#"[{"taskId":"v","reason":"user request"}]"#, None),
        TaskEvent::Cancelled { task_id: "v".into(), reason: Some("user request".into()) }
    );
}

#[test]
fn other_targets_are_not_task_events() {
    assert_eq!(map_invocation("taskSubscribed", r#"[{"taskId":"x"}]"#, None), Ok(None));
    assert_eq!(map_invocation("ReceiveMessage", "[]", None), Ok(None));
}

#[test]
fn the_deployed_object_is_read_in_place_from_the_arguments() {
    let mapped = map_invocation("ImageGenerationCompleted", r#" [ {"taskId":"t","imageUrls":["https://x/1.png"]} , 7 ] "#, None);
    let event = mapped.unwrap().unwrap().event;
    let TaskEvent::Completed { task_id, outcome } = event else { panic!("{event:?}") };
    assert_eq!(task_id, "t");
    assert_eq!(outcome.image_urls, ["https://x/1.png"]);
    assert_eq!(outcome.metadata.as_deref(), Some(r#"{"taskId":"t","imageUrls":["https://x/1.png"]}"#), "the object's own text");
}

#[test]
fn bad_server_data_is_an_error_not_a_crash() {
    for (target, args) in [
        ("TaskProgress", r#"[42, 10]"#),
        ("TaskProgress", r#"["", 10]"#),
        ("TaskProgress", r#"["t", "ten"]"#),
        ("TaskProgress", r#"["t"]"#),
        ("TaskProgress", r#"[]"#),
        ("TaskProgress", r#"not json"#),
        ("ImageGenerationProgress", r#"[{"progressPercentage":10}]"#),
        ("ImageGenerationProgress", r#"[{"taskId":{"nested":1}}]"#),
        ("ImageGenerationProgress", r#"["not an object"]"#),
        ("ImageGenerationProgress", r#"[]"#),
        ("ImageGenerationProgress", r#"{"taskId":"t"}"#),
        ("ImageGenerationProgress", r#"[{"taskId":"t","progress":5"#),
        ("ImageGenerationProgress", r#"[{"taskId":"t"}"#),
        ("ImageGenerationProgress", r#"[{"taskId":"t"}, nope]"#),
        ("ImageGenerationProgress", r#"[{"taskId":"t"}] x"#),
        ("ImageGenerationCompleted", r#"[{"taskId":"t","imageUrls":"https://x"}]"#),
        ("VideoGenerationFailed", r#"[{"taskId":"t","error":5}]"#),
    ] {
        let result = map_invocation(target, args, None);
        assert!(result.is_err(), "{target} {args} -> {result:?}");
        assert!(result.unwrap_err().starts_with(&format!("Invalid {target} event")));
    }
}

#[test]
fn unsafe_urls_are_dropped_and_reported() {
    let mapped = map_invocation(
        "ImageGenerationCompleted",
        r#"[{"taskId":"t","imageUrls":["javascript:alert(1)","https://ok/1.png","data:image/png;base64,AAAA","file:///etc/passwd"]}]"#,
        None,
    )
    .unwrap()
    .unwrap();
    let TaskEvent::Completed { outcome, .. } = mapped.event else { panic!() };
    assert_eq!(outcome.image_urls, vec!["https://ok/1.png", "data:image/png;base64,AAAA"]);
    assert_eq!(mapped.problems.len(), 2);
    let mapped = map_invocation("TaskCompleted", r#"["t", {"image_url":"vbscript:x"}]"#, Some(TaskKind::Image)).unwrap().unwrap();
    assert_eq!(mapped.problems, vec!["Dropped image_url with an unsafe URL scheme."]);
}

#[test]
fn video_hub_subscription_falls_back_from_request_to_task() {
    assert_eq!(dialect::subscribe_methods(TaskKind::Video), ("SubscribeToRequest", Some("SubscribeToTask")));
    assert_eq!(dialect::subscribe_methods(TaskKind::Image), ("SubscribeToTask", None));
    assert!(dialect::is_missing_method(
        "Failed to invoke 'SubscribeToRequest' due to an error on the server. HubException: Method does not exist."
    ));
    assert!(!dialect::is_missing_method("Unauthorized access to task"));
}
