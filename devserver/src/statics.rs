//! Files: the static directories (the demo's `www/` and the wasm `pkg/`), and the media of
//! generated tasks under `/generated/`.

use crate::app::App;
use crate::http::{not_found, Ctx};
use axum::body::Bytes;
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use std::path::{Component, Path, PathBuf};

/// The Content-Type for a file name.
pub fn mime(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "wasm" => "application/wasm",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" | "htm" => "text/html; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "webm" => "video/webm",
        "mp4" => "video/mp4",
        "json" | "map" => "application/json; charset=utf-8",
        "ts" => "text/plain; charset=utf-8",
        "txt" | "md" => "text/plain; charset=utf-8",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

fn safe_join(root: &Path, rel: &str) -> Option<PathBuf> {
    let decoded = crate::util::percent_decode(&rel.replace('+', "%2B"));
    let mut out = root.to_path_buf();
    for comp in Path::new(&decoded).components() {
        match comp {
            Component::Normal(c) => out.push(c),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(out)
}

/// Serves a file from the static directories, if one matches.
pub async fn serve(app: &App, ctx: &Ctx) -> Option<Response> {
    for (prefix, dir) in &app.config.statics {
        let path = if ctx.path == prefix.trim_end_matches('/') {
            prefix.as_str()
        } else {
            ctx.path.as_str()
        };
        let Some(rel) = path.strip_prefix(prefix.as_str()) else {
            continue;
        };
        let Some(mut file) = safe_join(dir, rel) else {
            continue;
        };
        if file.is_dir() {
            file.push("index.html");
        }
        let Ok(data) = tokio::fs::read(&file).await else {
            continue;
        };
        let name = file.to_string_lossy().into_owned();
        return Some(bytes_response(
            ctx,
            Bytes::from(data),
            mime(&name),
            "no-cache",
        ));
    }
    None
}

fn bytes_response(
    ctx: &Ctx,
    data: Bytes,
    content_type: &'static str,
    cache: &'static str,
) -> Response {
    let len = data.len();
    let body = if ctx.method == Method::HEAD {
        Bytes::new()
    } else {
        data
    };
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(v) = HeaderValue::from_str(&len.to_string()) {
        h.insert(header::CONTENT_LENGTH, v);
    }
    r
}

/// Parses `bytes=a-b` against a length: (start, end inclusive).
pub fn parse_range(range: &str, len: usize) -> Option<(usize, usize)> {
    let spec = range.strip_prefix("bytes=")?;
    if spec.contains(',') || len == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = if a.is_empty() {
        let n: usize = b.parse().ok()?;
        (len.saturating_sub(n), len - 1)
    } else {
        let s: usize = a.parse().ok()?;
        let e: usize = if b.is_empty() {
            len - 1
        } else {
            b.parse::<usize>().ok()?.min(len - 1)
        };
        (s, e)
    };
    (start <= end && start < len).then_some((start, end))
}

/// `/generated/{id}/{n}.svg`, `/generated/{id}/poster.svg`, `/generated/{id}.webm`.
pub fn generated(app: &App, ctx: &Ctx) -> Response {
    if !matches!(ctx.method, Method::GET | Method::HEAD) {
        return not_found(ctx);
    }
    let rest = ctx.path.trim_start_matches("/generated/");
    if let Some(id) = rest.strip_suffix(".webm") {
        if app.tasks.snapshot(id).is_none() {
            return not_found(ctx);
        }
        return video(ctx);
    }
    let Some((id, file)) = rest.split_once('/') else {
        return not_found(ctx);
    };
    let Some(task) = app.tasks.snapshot(id) else {
        return not_found(ctx);
    };
    let svg = if file == "poster.svg" {
        crate::conduit::media::poster_svg(&task.req.prompt)
    } else {
        let Some(index) = file
            .strip_suffix(".svg")
            .and_then(|n| n.parse::<u32>().ok())
        else {
            return not_found(ctx);
        };
        if index >= task.req.n.max(1) {
            return not_found(ctx);
        }
        crate::conduit::media::image_svg(
            &task.req.prompt,
            &task.req.size,
            index,
            task.req.n.max(1),
            &task.req.model,
        )
    };
    bytes_response(
        ctx,
        Bytes::from(svg),
        "image/svg+xml",
        "public, max-age=3600",
    )
}

fn video(ctx: &Ctx) -> Response {
    let data = crate::conduit::media::SAMPLE_WEBM;
    let range = ctx.header("range").and_then(|r| parse_range(r, data.len()));
    let Some((start, end)) = range else {
        let mut r = bytes_response(
            ctx,
            Bytes::from_static(data),
            "video/webm",
            "public, max-age=3600",
        );
        r.headers_mut()
            .insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
        return r;
    };
    let body = if ctx.method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from_static(&data[start..=end])
    };
    let mut r = (StatusCode::PARTIAL_CONTENT, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("video/webm"));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{end}/{}", data.len())) {
        h.insert(header::CONTENT_RANGE, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mimes_and_ranges() {
        assert_eq!(mime("a/b.wasm"), "application/wasm");
        assert_eq!(mime("x.MJS"), "text/javascript; charset=utf-8");
        assert_eq!(mime("x.map"), "application/json; charset=utf-8");
        assert_eq!(mime("noext"), "application/octet-stream");
        assert_eq!(parse_range("bytes=0-", 10), Some((0, 9)));
        assert_eq!(parse_range("bytes=2-4", 10), Some((2, 4)));
        assert_eq!(parse_range("bytes=-3", 10), Some((7, 9)));
        assert_eq!(parse_range("bytes=5-100", 10), Some((5, 9)));
        assert_eq!(parse_range("bytes=11-", 10), None);
        assert_eq!(parse_range("items=0-1", 10), None);
    }

    #[test]
    fn no_traversal() {
        let root = Path::new("/srv/www");
        assert_eq!(
            safe_join(root, "a/b.js"),
            Some(PathBuf::from("/srv/www/a/b.js"))
        );
        assert_eq!(safe_join(root, "../etc/passwd"), None);
        assert_eq!(safe_join(root, "a/%2e%2e/%2e%2e/x"), None);
        assert_eq!(safe_join(root, "/etc/passwd"), None);
    }
}
