//! The HTTP side of the container contract: `GET /ping` and `POST /invocations`.

use std::future::Future;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::json;

use crate::{score_payload, ServeOptions};

/// The header SageMaker uses to pass custom attributes to the container and back.
const CUSTOM_ATTRIBUTES: &str = "x-amzn-sagemaker-custom-attributes";

/// Async inference payloads read from S3 can be large; real-time ones are capped at 6 MB by
/// SageMaker itself, so the server's own cap only needs to stop a runaway client.
const MAX_PAYLOAD: usize = 64 * 1024 * 1024;

/// The model server's routes, with the fault behaviour `options` asks for.
pub fn router(options: &ServeOptions) -> Router {
    Router::new()
        .route("/ping", get(ping))
        .route("/invocations", post(invocations))
        .layer(DefaultBodyLimit::max(MAX_PAYLOAD))
        .with_state(options.faults)
}

/// Serves [`router`] on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(options))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn ping() -> StatusCode {
    StatusCode::OK
}

async fn invocations(State(faults): State<bool>, headers: HeaderMap, body: Bytes) -> Response {
    if let Some(content_type) = text(&headers, header::CONTENT_TYPE.as_str()) {
        if !is_json(content_type) {
            return error(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!("content type {content_type:?} is not supported; send application/json"),
            );
        }
    }
    if let Some(accept) = text(&headers, header::ACCEPT.as_str()) {
        if !accepts_json(accept) {
            return error(
                StatusCode::NOT_ACCEPTABLE,
                format!("accept {accept:?} cannot be served; this model answers application/json"),
            );
        }
    }
    let scores = match score_payload(&body) {
        Ok(scores) => scores,
        Err(err) => return error(StatusCode::BAD_REQUEST, err.to_string()),
    };
    if faults {
        if scores.fault.exit {
            // A crash, on purpose: the connection drops without an answer, as with a dying container.
            std::process::exit(70);
        }
        if scores.fault.sleep_ms > 0 {
            tokio::time::sleep(Duration::from_millis(scores.fault.sleep_ms)).await;
        }
        if let Some(i) = scores.fault.fail {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("record {i} asked the model to fail (\"fail\": true)"),
            );
        }
    }
    let mut response = axum::Json(json!({ "scores": scores.scores })).into_response();
    if let Some(value) = headers.get(CUSTOM_ATTRIBUTES) {
        response
            .headers_mut()
            .insert(CUSTOM_ATTRIBUTES, value.clone());
    }
    response
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

fn media_type(value: &str) -> String {
    value
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn is_json(content_type: &str) -> bool {
    let media = media_type(content_type);
    media == "application/json" || media.ends_with("+json")
}

fn accepts_json(accept: &str) -> bool {
    accept.split(',').any(|range| {
        matches!(
            media_type(range).as_str(),
            "application/json" | "application/*" | "*/*"
        )
    })
}

fn error(status: StatusCode, message: String) -> Response {
    let mut response = (status, axum::Json(json!({ "error": message }))).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_matched_without_parameters() {
        assert!(is_json("application/json; charset=utf-8"));
        assert!(is_json("application/vnd.api+json"));
        assert!(!is_json("text/csv"));
        assert!(accepts_json("text/csv, */*;q=0.1"));
        assert!(!accepts_json("text/csv"));
    }
}
