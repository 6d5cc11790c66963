//! Conduit's HTTP answers and errors, in both dialects and from proxies, and secret redaction.

use conduit_realtime::conduit::api::{self, ApiError};
use conduit_realtime::conduit::redact::Redactor;
use conduit_realtime::conduit::task::{TaskEvent, TaskKind, TaskStatus};

#[test]
fn task_ids_from_either_dialect() {
    assert_eq!(api::parse_created(br#"{"task_id":"img_1","status":"queued"}"#), Ok("img_1".into()));
    assert_eq!(api::parse_created(br#"{"taskId":"vid_1","status":"pending"}"#), Ok("vid_1".into()));
    assert_eq!(api::parse_created(br#"{"request_id":"req_1"}"#), Ok("req_1".into()));
    assert!(api::parse_created(br#"{"status":"queued"}"#).unwrap_err().contains("no task id"));
    assert!(api::parse_created(br#"{"task_id":7}"#).unwrap_err().contains("not a string"));
    assert!(api::parse_created(b"<html>").is_err());
}

#[test]
fn urls_encode_ids_and_check_the_base() {
    assert_eq!(api::status_url("http://h", TaskKind::Image, "a/b c"), "http://h/v1/images/generations/a%2Fb%20c/status");
    assert_eq!(api::status_url("http://h", TaskKind::Video, "v1"), "http://h/v1/videos/generations/tasks/v1");
    assert_eq!(api::cancel_url("http://h", TaskKind::Video, "v1"), "http://h/v1/videos/generations/v1");
    assert_eq!(api::normalize_base_url("https://api.conduit.im/"), Ok("https://api.conduit.im".into()));
    assert!(api::normalize_base_url("api.conduit.im").is_err());
    assert!(api::normalize_base_url("javascript:alert(1)").is_err());
}

#[test]
fn status_answers_of_both_kinds() {
    let image = api::parse_status(
        br#"{"task_id":"i","status":"completed","progress":100,"result":{"images":[{"url":"https://x/1.png","b64Json":null},{"url":"ftp://bad"}],"duration":2.5,"cost":0.04}}"#,
        TaskKind::Image,
        "i",
    )
    .unwrap();
    assert_eq!(image.status, TaskStatus::Completed);
    let TaskEvent::Completed { outcome, .. } = &image.event else { panic!() };
    assert_eq!(outcome.image_urls, vec!["https://x/1.png"]);
    assert!(image.json.contains(r#""imageUrls":["https://x/1.png"]"#));

    let video = api::parse_status(br#"{"taskId":"v","status":"Completed","progress":100,"result":"https://x/v.webm"}"#, TaskKind::Video, "v").unwrap();
    let TaskEvent::Completed { outcome, .. } = &video.event else { panic!() };
    assert_eq!(outcome.video_url.as_deref(), Some("https://x/v.webm"));

    let failed = api::parse_status(br#"{"task_id":"i","status":"failed","progress":40,"error":"boom"}"#, TaskKind::Image, "i").unwrap();
    assert_eq!(failed.event, TaskEvent::Failed { task_id: "i".into(), error: "boom".into(), is_retryable: None });
    let running = api::parse_status(br#"{"taskId":"v","status":"processing","progress":55}"#, TaskKind::Video, "v").unwrap();
    assert_eq!(running.status, TaskStatus::InProgress);
    let cancelled = api::parse_status(br#"{"taskId":"v","status":"cancelled"}"#, TaskKind::Video, "v").unwrap();
    assert_eq!(cancelled.status, TaskStatus::Cancelled);
    assert!(api::parse_status(b"[]", TaskKind::Image, "i").is_err());
}

#[test]
fn error_answers_of_every_kind() {
    let openai = ApiError::from_response(
        "Image generation",
        401,
        br#"{"error":{"message":"Invalid API key","type":"authentication_error","code":"invalid_api_key"}}"#,
        None,
    );
    assert_eq!(openai.message, "Image generation failed (401): Invalid API key");
    assert_eq!((openai.status, openai.code.as_deref(), openai.retryable), (Some(401), Some("invalid_api_key"), false));

    let problem = ApiError::from_response("Status", 404, br#"{"title":"Not Found","detail":"Task v1 not found","status":404}"#, None);
    assert_eq!(problem.message, "Status failed (404): Not Found: Task v1 not found");

    let proxy = ApiError::from_response("Image generation", 502, b"<html><body>Bad gateway</body></html>", None);
    assert_eq!(proxy.message, "Image generation failed (502 Bad Gateway): the server answered without a JSON error.");
    assert!(proxy.retryable);

    let limited = ApiError::from_response("Image generation", 429, br#"{"error":"slow down"}"#, api::retry_after_seconds("30"));
    assert_eq!((limited.retryable, limited.retry_after), (true, Some(30.0)));
    assert_eq!(limited.message, "Image generation failed (429): slow down");

    let text = ApiError::from_response("Video generation", 503, b"upstream connect error", None);
    assert_eq!(text.message, "Video generation failed (503): upstream connect error");
    assert!(ApiError::network("Status", "Failed to fetch").retryable);
    assert_eq!(ApiError::timeout("Status", 5000).name, "ConduitTimeoutError");
    assert_eq!(api::retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"), None);
}

#[test]
fn secrets_never_survive_redaction() {
    let mut r = Redactor::default();
    r.add("condt_supersecret123");
    r.add("ek_ephemeral_456");
    r.add("abc");
    assert_eq!(r.scrub("Invalid key condt_supersecret123 (ek_ephemeral_456)"), "Invalid key condt_*** (ek_***)");
    assert_eq!(r.scrub("ws://h/hub?access_token=condt_supersecret123&id=1"), "ws://h/hub?access_token=condt_***&id=1");
    assert_eq!(r.scrub("abc stays"), "abc stays");
}
