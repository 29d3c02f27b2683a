//! The HTTP API as SageMaker Runtime speaks it: `InvokeEndpointAsync` and `InvokeEndpoint`.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;

use super::aws_error::ApiError;
use super::endpoints::{EndpointInfo, LookupError};
use super::job::{now_ms, Job, Queued};
use super::s3uri::S3Uri;
use super::{worker, Shared};

/// The largest inline `Body` of `InvokeEndpointAsync`: 128,000 bytes (not 128 KiB).
pub(crate) use bodyline_terms::MAX_INLINE_BODY_BYTES as MAX_INLINE_BODY;
/// The largest payload of `InvokeEndpoint`: 6 MB.
const MAX_REALTIME_BODY: usize = 6 * 1024 * 1024;
/// SageMaker's limit on a real-time invocation.
const REALTIME_TIMEOUT: Duration = Duration::from_secs(60);

const TTL_RANGE: (u32, u32) = (60, 21_600);
const TTL_DEFAULT: u32 = 21_600;
const TIMEOUT_RANGE: (u32, u32) = (1, 3_600);
const TIMEOUT_DEFAULT: u32 = 900;

pub(crate) fn routes(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/endpoints/{name}/async-invocations", post(invoke_async))
        .route("/endpoints/{name}/invocations", post(invoke))
        .with_state(shared)
}

/// The request headers of `InvokeEndpointAsync`, checked against the API's constraints.
#[derive(Debug, Default)]
struct AsyncHeaders {
    content_type: Option<String>,
    accept: Option<String>,
    custom_attributes: Option<String>,
    inference_id: Option<String>,
    input_location: Option<S3Uri>,
    output_path_extension: Option<String>,
    filename: Option<String>,
    ttl_seconds: u32,
    timeout_seconds: u32,
}

impl AsyncHeaders {
    fn parse(headers: &HeaderMap) -> Result<AsyncHeaders, ApiError> {
        let content_type = bounded(
            headers,
            "X-Amzn-SageMaker-Content-Type",
            "contentType",
            1024,
        )?;
        let accept = bounded(headers, "X-Amzn-SageMaker-Accept", "accept", 1024)?;
        let custom_attributes = custom_attributes(headers)?;
        let inference_id = bounded(headers, "X-Amzn-SageMaker-Inference-Id", "inferenceId", 64)?;
        if let Some(id) = &inference_id {
            if id.starts_with(char::is_whitespace) || id.chars().any(char::is_control) {
                return Err(constraint(
                    "inferenceId",
                    id,
                    "match pattern \\A\\S[\\p{Print}]*\\z",
                ));
            }
        }
        let input_location = match bounded(
            headers,
            "X-Amzn-SageMaker-InputLocation",
            "inputLocation",
            1024,
        )? {
            None => None,
            Some(text) => Some(
                S3Uri::parse(&text)
                    .filter(|u| !u.key.is_empty())
                    .ok_or_else(|| {
                        constraint(
                            "inputLocation",
                            &text,
                            "be an S3 URI of an object: s3://bucket/key",
                        )
                    })?,
            ),
        };
        let output_path_extension = bounded(
            headers,
            "X-Amzn-SageMaker-S3OutputPathExtension",
            "s3OutputPathExtension",
            1024,
        )?;
        let filename = bounded(headers, "X-Amzn-SageMaker-Filename", "filename", 1024)?;
        if let Some(name) = &filename {
            if name.split('/').any(|part| part == "..") {
                return Err(constraint(
                    "filename",
                    name,
                    "not contain a '..' path segment",
                ));
            }
        }
        let ttl_seconds = number(
            headers,
            "X-Amzn-SageMaker-RequestTTLSeconds",
            "requestTTLSeconds",
            TTL_RANGE,
        )?
        .unwrap_or(TTL_DEFAULT);
        let timeout_seconds = number(
            headers,
            "X-Amzn-SageMaker-InvocationTimeoutSeconds",
            "invocationTimeoutSeconds",
            TIMEOUT_RANGE,
        )?
        .unwrap_or(TIMEOUT_DEFAULT);
        Ok(AsyncHeaders {
            content_type,
            accept,
            custom_attributes,
            inference_id,
            input_location,
            output_path_extension,
            filename,
            ttl_seconds,
            timeout_seconds,
        })
    }
}

fn text(headers: &HeaderMap, name: &str, member: &str) -> Result<Option<String>, ApiError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => value.to_str().map(|v| Some(v.to_string())).map_err(|_| {
            ApiError::validation(format!(
                "1 validation error detected: Value at '{member}' must be visible US-ASCII text"
            ))
        }),
    }
}

fn bounded(
    headers: &HeaderMap,
    name: &str,
    member: &str,
    max: usize,
) -> Result<Option<String>, ApiError> {
    let value = text(headers, name, member)?;
    if let Some(v) = &value {
        if v.is_empty() || v.chars().count() > max {
            return Err(constraint(
                member,
                v,
                &format!("have length between 1 and {max}"),
            ));
        }
    }
    Ok(value)
}

fn custom_attributes(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let value = text(
        headers,
        "X-Amzn-SageMaker-Custom-Attributes",
        "customAttributes",
    )?;
    if let Some(v) = &value {
        if v.len() > 1024 || !v.chars().all(|c| c == '\t' || (' '..='~').contains(&c)) {
            return Err(ApiError::validation(
                "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must be at most 1024 visible US-ASCII characters",
            ));
        }
    }
    Ok(value)
}

fn number(
    headers: &HeaderMap,
    name: &str,
    member: &str,
    (min, max): (u32, u32),
) -> Result<Option<u32>, ApiError> {
    let Some(value) = text(headers, name, member)? else {
        return Ok(None);
    };
    match value.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(constraint(
            member,
            &value,
            &format!("have value greater than or equal to {min} and less than or equal to {max}"),
        )),
    }
}

/// SageMaker's wording for a broken constraint.
fn constraint(member: &str, value: &str, rule: &str) -> ApiError {
    let shown: String = value.chars().take(64).collect();
    ApiError::validation(format!(
        "1 validation error detected: Value '{shown}' at '{member}' failed to satisfy constraint: Member must {rule}"
    ))
}

fn check_endpoint_name(name: &str) -> Result<(), ApiError> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(constraint(
            "endpointName",
            name,
            "satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])* and have length at most 63",
        ))
    }
}

/// Reads at most `max` bytes; a declared or actual size above it is a `ValidationError`.
async fn read_body(
    headers: &HeaderMap,
    body: Body,
    max: usize,
    operation: &str,
) -> Result<Bytes, ApiError> {
    let too_large = || {
        ApiError::validation(format!(
            "Request payload exceeds the maximum of {max} bytes for {operation}; upload larger payloads to S3 and pass InputLocation"
        ))
    };
    let declared = headers
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, max)
        .await
        .map_err(|_| too_large())
}

async fn endpoint(shared: &Shared, name: &str) -> Result<Arc<EndpointInfo>, ApiError> {
    let info = shared.endpoints.get(name).await.map_err(|e| match e {
        LookupError::NotFound(what) if what == format!("endpoint {name}") => {
            ApiError::validation(format!("Endpoint {name} not found."))
        }
        LookupError::NotFound(what) => ApiError::validation(format!(
            "Endpoint {name} cannot be used: its {what} was not found"
        )),
        LookupError::ControlPlane(detail) | LookupError::Unavailable(detail) => {
            ApiError::Internal(detail)
        }
    })?;
    if info.status != "InService" {
        return Err(ApiError::validation(format!(
            "Endpoint {name} is not InService (its status is {}); wait until it is InService",
            info.status
        )));
    }
    Ok(info)
}

async fn invoke_async(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let request = AsyncHeaders::parse(&headers)?;
    check_endpoint_name(&name)?;
    let body = read_body(&headers, body, MAX_INLINE_BODY, "InvokeEndpointAsync Body").await?;
    match (body.is_empty(), &request.input_location) {
        (false, Some(_)) => {
            return Err(ApiError::validation(
                "Body and InputLocation are mutually exclusive; provide exactly one of them",
            ))
        }
        (true, None) => {
            return Err(ApiError::validation(
                "Either Body or InputLocation must be provided; provide exactly one of them",
            ))
        }
        _ => {}
    }
    let info = endpoint(&shared, &name).await?;
    let Some(config) = &info.async_config else {
        return Err(ApiError::validation(format!(
            "Endpoint {name} is not an asynchronous endpoint: its endpoint config has no AsyncInferenceConfig; use InvokeEndpoint, or create the config with AsyncInferenceConfig"
        )));
    };
    let inference_id = request
        .inference_id
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let output_name = request
        .filename
        .clone()
        .unwrap_or_else(|| format!("{inference_id}.out"));
    let extension = request.output_path_extension.as_deref().unwrap_or("");
    let job = Job {
        endpoint_name: name,
        accepted_at_ms: now_ms(),
        ttl_seconds: request.ttl_seconds,
        timeout_seconds: request.timeout_seconds,
        content_type: request.content_type,
        accept: request.accept,
        custom_attributes: request.custom_attributes,
        input_location: request.input_location,
        output: config.output_path.join(&[extension, &output_name]),
        failure: config
            .failure_path
            .join(&[&format!("{inference_id}-error.out")]),
        execution_role_arn: info.model.execution_role_arn.clone(),
        success_topic: config.success_topic.clone(),
        error_topic: config.error_topic.clone(),
        include_response_in: config.include_response_in.clone(),
        inference_id,
    };
    let queued = Queued { job, body };
    let value = queued
        .encode()
        .map_err(|e| ApiError::Internal(format!("cannot encode the journal entry: {e}")))?;
    let seq = shared
        .journal
        .append(value)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut response = (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "InferenceId": queued.job.inference_id })),
    )
        .into_response();
    let out = response.headers_mut();
    for (name, location) in [
        ("X-Amzn-SageMaker-OutputLocation", &queued.job.output),
        ("X-Amzn-SageMaker-FailureLocation", &queued.job.failure),
    ] {
        if let Ok(value) = HeaderValue::from_str(&location.to_string()) {
            out.insert(name, value);
        }
    }
    worker::submit(&shared, seq, queued, false);
    Ok(response)
}

async fn invoke(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let content_type = bounded(&headers, "Content-Type", "contentType", 1024)?;
    let accept = bounded(&headers, "Accept", "accept", 1024)?;
    let custom_attributes = custom_attributes(&headers)?;
    check_endpoint_name(&name)?;
    let body = read_body(&headers, body, MAX_REALTIME_BODY, "InvokeEndpoint").await?;
    let info = endpoint(&shared, &name).await?;
    let host = shared
        .models
        .host(&info.model)
        .map_err(|reason| ApiError::Model {
            message: reason,
            original_status: 503,
            original_message: String::new(),
        })?;
    let (url, generation) =
        host.ready(REALTIME_TIMEOUT)
            .await
            .map_err(|reason| ApiError::Model {
                message: reason,
                original_status: 503,
                original_message: String::new(),
            })?;
    let mut request = shared
        .http
        .post(format!("{url}/invocations"))
        .timeout(REALTIME_TIMEOUT)
        .body(body);
    for (name, value) in [
        ("Content-Type", &content_type),
        ("Accept", &accept),
        ("X-Amzn-SageMaker-Custom-Attributes", &custom_attributes),
    ] {
        if let Some(value) = value {
            request = request.header(name, value);
        }
    }
    let answer = async {
        let response = request.send().await?;
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await?;
        Ok::<_, reqwest::Error>((status, headers, body))
    }
    .await;
    let (status, model_headers, body) = match answer {
        Ok(answer) => answer,
        Err(e) => {
            let message = match host.exit_of(generation).await {
                Some(how) => format!("{how} while handling the request; the runtime restarts it"),
                None if e.is_timeout() => format!(
                    "the model did not answer within {} s",
                    REALTIME_TIMEOUT.as_secs()
                ),
                None => format!("the request to the model failed: {e}"),
            };
            return Err(ApiError::Model {
                message,
                original_status: 502,
                original_message: String::new(),
            });
        }
    };
    if !status.is_success() {
        let original = String::from_utf8_lossy(&body).into_owned();
        let kind = if status.as_u16() < 500 {
            "client"
        } else {
            "server"
        };
        return Err(ApiError::Model {
            message: format!(
                "Received {kind} error ({}) from primary with message \"{original}\"",
                status.as_u16()
            ),
            original_status: status.as_u16(),
            original_message: original,
        });
    }
    let mut response = (StatusCode::OK, body).into_response();
    let out = response.headers_mut();
    let content_type = model_headers
        .get("content-type")
        .cloned()
        .unwrap_or(HeaderValue::from_static("application/octet-stream"));
    out.insert("content-type", content_type);
    if let Some(value) = model_headers.get("x-amzn-sagemaker-custom-attributes") {
        out.insert("X-Amzn-SageMaker-Custom-Attributes", value.clone());
    }
    if let Ok(variant) = HeaderValue::from_str(&info.variant_name) {
        out.insert("x-Amzn-Invoked-Production-Variant", variant);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        map
    }

    fn message(err: ApiError) -> String {
        match err {
            ApiError::Validation(m) => m,
            other => panic!("expected a ValidationError, got {other:?}"),
        }
    }

    #[test]
    fn defaults_apply_when_headers_are_absent() {
        let parsed = AsyncHeaders::parse(&HeaderMap::new()).unwrap();
        assert_eq!((parsed.ttl_seconds, parsed.timeout_seconds), (21_600, 900));
    }

    #[test]
    fn ranges_are_enforced_at_their_edges() {
        for (header, ok, bad) in [
            (
                "X-Amzn-SageMaker-RequestTTLSeconds",
                ["60", "21600"],
                ["59", "21601"],
            ),
            (
                "X-Amzn-SageMaker-InvocationTimeoutSeconds",
                ["1", "3600"],
                ["0", "3601"],
            ),
        ] {
            for v in ok {
                assert!(
                    AsyncHeaders::parse(&headers(&[(header, v)])).is_ok(),
                    "{header}={v}"
                );
            }
            for v in bad {
                let m = message(AsyncHeaders::parse(&headers(&[(header, v)])).unwrap_err());
                assert!(m.contains("failed to satisfy constraint"), "{m}");
            }
        }
    }

    #[test]
    fn custom_attributes_are_capped_at_1024_visible_ascii() {
        let ok = "a".repeat(1024);
        assert!(
            AsyncHeaders::parse(&headers(&[("X-Amzn-SageMaker-Custom-Attributes", &ok)])).is_ok()
        );
        let long = "a".repeat(1025);
        let m = message(
            AsyncHeaders::parse(&headers(&[("X-Amzn-SageMaker-Custom-Attributes", &long)]))
                .unwrap_err(),
        );
        assert!(m.contains("customAttributes"), "{m}");
    }

    #[test]
    fn input_location_must_name_an_object() {
        assert!(
            AsyncHeaders::parse(&headers(&[("X-Amzn-SageMaker-InputLocation", "s3://b/k")]))
                .is_ok()
        );
        for bad in ["https://b/k", "s3://b", "s3://b/"] {
            assert!(
                AsyncHeaders::parse(&headers(&[("X-Amzn-SageMaker-InputLocation", bad)])).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn endpoint_names_follow_the_sagemaker_pattern() {
        assert!(check_endpoint_name("my-endpoint-1").is_ok());
        for bad in ["", "-a", "a-", "a_b", &"a".repeat(64)] {
            assert!(check_endpoint_name(bad).is_err(), "{bad}");
        }
    }
}
