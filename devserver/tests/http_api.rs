//! The HTTP API and hubs of an in-process server: auth (missing, unknown, restricted keys,
//! ephemeral keys), ownership, both dialects' shapes, errors, CORS.

mod common;
use common::*;
use serde_json::json;

const KEY: &str = "condt_http_test_1";
const OTHER: &str = "condt_http_test_2";

#[tokio::test]
async fn auth_missing_unknown_and_restricted_keys() {
    let s = server(|_| {}).await;
    let body = r#"{"prompt":"a cat ms=100"}"#;
    let r = post_json(&s, "/v1/images/generations/async", None, body).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["type"], "authentication_error");
    assert_eq!(r.json()["error"]["code"], "invalid_api_key");
    assert_eq!(
        post_json(&s, "/v1/images/generations/async", Some("condt_x"), body)
            .await
            .status,
        401
    );
    assert_eq!(
        post_json(
            &s,
            "/v1/images/generations/async",
            Some("sk-abcdefghijkl"),
            body
        )
        .await
        .status,
        401
    );
    assert_eq!(
        post_json(&s, "/v1/images/generations/async", Some(KEY), body)
            .await
            .status,
        202
    );
    let via_header = http(
        &s,
        "POST",
        "/v1/images/generations/async",
        &[("X-API-Key", KEY), ("Content-Type", "application/json")],
        Some(body),
    )
    .await;
    assert_eq!(via_header.status, 202);

    let restricted = server(|c| c.keys = Some(vec![KEY.into()])).await;
    assert_eq!(
        post_json(&restricted, "/v1/images/generations/async", Some(KEY), body)
            .await
            .status,
        202
    );
    assert_eq!(
        post_json(
            &restricted,
            "/v1/images/generations/async",
            Some(OTHER),
            body
        )
        .await
        .status,
        401
    );
    assert_eq!(
        Hub::connect(&restricted, "/hubs/image-generation", Some(OTHER))
            .await
            .err(),
        Some(401)
    );
    assert!(
        Hub::connect(&restricted, "/hubs/image-generation", Some(KEY))
            .await
            .is_ok()
    );
    let neg = http(
        &restricted,
        "POST",
        "/hubs/tasks/negotiate?negotiateVersion=1",
        &[],
        None,
    )
    .await;
    assert_eq!(neg.status, 401);
}

#[tokio::test]
async fn validation_errors_and_unknown_routes() {
    let s = server(|_| {}).await;
    let bad = post_json(&s, "/v1/images/generations/async", Some(KEY), "{nope").await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["type"], "invalid_request_error");
    let missing = post_json(
        &s,
        "/v1/videos/generations/async",
        Some(KEY),
        r#"{"model":"m"}"#,
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error"]["param"], "prompt");
    let unknown = get(&s, "/v2/whatever", Some(KEY)).await;
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.json()["error"]["code"], "not_found");
    assert_eq!(unknown.header("access-control-allow-origin"), Some("*"));
    assert_eq!(
        unknown.header("cross-origin-resource-policy"),
        Some("cross-origin")
    );
    let pre = http(
        &s,
        "OPTIONS",
        "/v1/tasks/x",
        &[
            ("Origin", "http://a.test"),
            ("Access-Control-Request-Headers", "x-thing"),
        ],
        None,
    )
    .await;
    assert_eq!(pre.status, 204);
    assert_eq!(
        pre.header("access-control-allow-origin"),
        Some("http://a.test")
    );
    assert!(pre
        .header("access-control-allow-headers")
        .unwrap()
        .contains("x-thing"));
}

#[tokio::test]
async fn ownership_is_enforced_over_http_and_hubs() {
    let s = server(|_| {}).await;
    let img = post_json(
        &s,
        "/v1/images/generations/async",
        Some(KEY),
        r#"{"prompt":"mine ms=3000"}"#,
    )
    .await
    .json();
    let id = img["task_id"].as_str().unwrap().to_string();
    let vid = post_json(
        &s,
        "/v1/videos/generations/async",
        Some(KEY),
        r#"{"prompt":"mine ms=3000"}"#,
    )
    .await
    .json();
    let vid_id = vid["taskId"].as_str().unwrap().to_string();

    assert_eq!(
        get(
            &s,
            &format!("/v1/images/generations/{id}/status"),
            Some(KEY)
        )
        .await
        .status,
        200
    );
    let other = get(
        &s,
        &format!("/v1/images/generations/{id}/status"),
        Some(OTHER),
    )
    .await;
    assert_eq!(other.status, 404);
    assert!(other.json()["error"]["message"].is_string());
    let other_video = get(
        &s,
        &format!("/v1/videos/generations/tasks/{vid_id}"),
        Some(OTHER),
    )
    .await;
    assert_eq!(other_video.status, 404);
    let pd = other_video.json();
    assert_eq!(pd["status"], 404);
    assert!(pd["title"].is_string() && pd["detail"].is_string());
    assert!(other_video
        .header("content-type")
        .unwrap()
        .contains("problem+json"));

    let mut hub = Hub::connect(&s, "/hubs/image-generation", Some(OTHER))
        .await
        .unwrap();
    let c = hub.invoke("SubscribeToTask", json!([id])).await;
    assert!(
        c["error"]
            .as_str()
            .unwrap()
            .contains("Unauthorized access to task"),
        "{c}"
    );
    let mut own = Hub::connect(&s, "/hubs/image-generation", Some(KEY))
        .await
        .unwrap();
    let ok = own.invoke("SubscribeToTask", json!([id])).await;
    assert!(ok.get("error").is_none(), "{ok}");
}

#[tokio::test]
async fn video_post_shape_per_dialect() {
    let s = server(|_| {}).await;
    let body = r#"{"prompt":"waves ms=200","model":"m"}"#;
    let deployed = post_json(&s, "/v1/videos/generations/async", Some(KEY), body).await;
    assert_eq!(deployed.status, 202);
    let d = deployed.json();
    for k in [
        "taskId",
        "status",
        "createdAt",
        "estimatedCompletionTime",
        "checkStatusUrl",
    ] {
        assert!(d.get(k).is_some(), "{k}");
    }
    assert_eq!(d["status"], "pending");
    for path in [
        "/dialect/documented/v1/videos/generations/async",
        "/v1/videos/generations/async?dialect=documented",
    ] {
        let doc = post_json(&s, path, Some(KEY), body).await.json();
        assert!(doc["request_id"].is_string(), "{doc}");
        assert!(doc.get("taskId").is_none());
    }
    let documented_server = server(|c| c.dialect = conduit_devserver::Dialect::Documented).await;
    let doc = post_json(
        &documented_server,
        "/v1/videos/generations/async",
        Some(KEY),
        body,
    )
    .await
    .json();
    assert!(doc["request_id"].is_string());
    let back = post_json(
        &documented_server,
        "/dialect/deployed/v1/videos/generations/async",
        Some(KEY),
        body,
    )
    .await
    .json();
    assert!(back["taskId"].is_string());
    // Image POSTs are snake_case in both dialects.
    let img = post_json(
        &s,
        "/dialect/documented/v1/images/generations/async",
        Some(KEY),
        body,
    )
    .await
    .json();
    assert_eq!(img["status"], "queued");
    assert!(img["task_id"].is_string() && img["check_status_url"].is_string());
}

#[tokio::test]
async fn video_hub_methods_per_dialect() {
    let s = server(|_| {}).await;
    let vid = post_json(
        &s,
        "/v1/videos/generations/async",
        Some(KEY),
        r#"{"prompt":"x ms=400 steps=1"}"#,
    )
    .await
    .json();
    let id = vid["taskId"].as_str().unwrap().to_string();
    let mut deployed = Hub::connect(&s, "/hubs/video-generation", Some(KEY))
        .await
        .unwrap();
    let c = deployed.invoke("SubscribeToRequest", json!([id])).await;
    assert_eq!(
        c["error"],
        "Failed to invoke 'SubscribeToRequest' due to an error on the server. HubException: Method does not exist."
    );
    let mut documented = Hub::connect(&s, "/dialect/documented/hubs/video-generation", Some(KEY))
        .await
        .unwrap();
    let c = documented.invoke("SubscribeToTask", json!([id])).await;
    assert!(c["error"]
        .as_str()
        .unwrap()
        .contains("Method does not exist"));
    assert!(documented
        .invoke("SubscribeToRequest", json!([id]))
        .await
        .get("error")
        .is_none());
    assert!(deployed
        .invoke("SubscribeToTask", json!([id]))
        .await
        .get("error")
        .is_none());
    let seen = deployed.targets_until("VideoGenerationCompleted").await;
    assert!(seen.iter().all(|(t, _)| t.starts_with("VideoGeneration")));
    let seen = documented.targets_until("RequestCompleted").await;
    assert!(seen.iter().all(|(t, _)| t.starts_with("Request")));
    let (_, args) = seen.last().unwrap();
    assert_eq!(args[0], json!(id));
    assert!(args[1]["video_url"].as_str().unwrap().ends_with(".webm"));
    // the status endpoint reflects the outcome for clients that missed the push
    let st = get(&s, &format!("/v1/videos/generations/tasks/{id}"), Some(KEY))
        .await
        .json();
    assert_eq!(st["status"], "completed");
    assert!(st["result"].as_str().unwrap().ends_with(".webm"));
}

#[tokio::test]
async fn ephemeral_keys_are_single_use_and_bound_to_their_key() {
    let s = server(|_| {}).await;
    let ek = post_json(&s, "/v1/auth/ephemeral-key", Some(KEY), "")
        .await
        .json();
    assert_eq!(ek["expiresInSeconds"], 300);
    let ek = ek["ephemeralKey"].as_str().unwrap().to_string();
    assert!(ek.starts_with("ek_"));
    let img = post_json(
        &s,
        "/v1/images/generations/async",
        Some(KEY),
        r#"{"prompt":"p ms=3000"}"#,
    )
    .await
    .json();
    let id = img["task_id"].as_str().unwrap();
    let mut hub = Hub::connect(&s, "/hubs/image-generation", Some(&ek))
        .await
        .unwrap();
    assert!(hub
        .invoke("SubscribeToTask", json!([id]))
        .await
        .get("error")
        .is_none());
    assert_eq!(
        Hub::connect(&s, "/hubs/image-generation", Some(&ek))
            .await
            .err(),
        Some(401)
    );
    assert_eq!(
        post_json(&s, "/v1/auth/ephemeral-key", None, "")
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn test_hub_basics_and_negotiate_shapes() {
    let s = server(|_| {}).await;
    let neg = http(
        &s,
        "POST",
        "/hubs/test/negotiate?negotiateVersion=1",
        &[],
        None,
    )
    .await
    .json();
    assert!(neg["connectionToken"].is_string());
    assert_eq!(neg["availableTransports"].as_array().unwrap().len(), 3);
    let v0 = http(&s, "POST", "/hubs/test/negotiate", &[], None)
        .await
        .json();
    assert!(v0.get("connectionToken").is_none());
    assert_eq!(
        http(&s, "POST", "/hubs/none/negotiate", &[], None)
            .await
            .status,
        404
    );
    let mut hub = Hub::connect(&s, "/hubs/test", None).await.unwrap();
    assert_eq!(
        hub.invoke("Echo", json!([{"a": [1, 2]}])).await["result"],
        json!({"a": [1, 2]})
    );
    assert_eq!(hub.invoke("Add", json!([40, 2])).await["result"], 42);
    let thrown = hub.invoke("Throw", json!(["bad"])).await;
    assert_eq!(
        thrown["error"],
        "An unexpected error occurred invoking 'Throw' on the server. HubException: bad"
    );
    let void = hub.invoke("Void", json!([])).await;
    assert!(void.get("result").is_none() && void.get("error").is_none());
    assert_eq!(
        hub.invoke("Flood", json!([100, 7, "f", 1])).await["result"],
        100
    );
    let c =
        conduit_devserver::protocol::json::encode(&conduit_devserver::protocol::HubMessage::Ping);
    assert_eq!(c, b"{\"type\":6}\x1e");
}
