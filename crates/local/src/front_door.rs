//! The front door: one loopback URL for every AWS client. SageMaker Runtime invocations go to
//! bodyline's runtime; every other request goes to moto byte for byte.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tower::ServiceExt;
use tower_http::timeout::TimeoutLayer;

use bodyline_aws::error_chain;

use crate::callers::Callers;
use crate::s3_strict::{credential_scope, forward_strictly};
use crate::LocalError;

/// The front door's own health check. S3 bucket names cannot start with `_`, so no AWS request
/// has this path.
pub(crate) const HEALTH_PATH: &str = "/_bodyline/health";

/// Bounds the time to a response's headers (a streamed body may take longer).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(120);

/// What the front door's handlers share: where moto is, a pooled HTTP client, and the
/// runtime's routes.
#[derive(Clone)]
pub struct FrontDoorState {
    inner: Arc<Inner>,
}

struct Inner {
    moto_url: String,
    client: Client<HttpConnector, Body>,
    runtime: Router,
    /// With S3's strict answers on: who the callers are and what their policies allow.
    callers: Option<Arc<Callers>>,
}

impl FrontDoorState {
    /// A front door that forwards to moto at `moto_url` (`http://127.0.0.1:<port>`) and hands
    /// SageMaker Runtime invocations to `runtime`.
    pub fn new(moto_url: impl Into<String>, runtime: Router) -> FrontDoorState {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .build(connector);
        FrontDoorState {
            inner: Arc::new(Inner {
                moto_url: moto_url.into().trim_end_matches('/').to_string(),
                client,
                runtime,
                callers: None,
            }),
        }
    }

    /// The same front door, answering S3 requests as S3 would for the signed caller where moto
    /// is lenient (`s3_strict`); it reads callers' policies from moto's IAM with
    /// `control_plane` (administrator credentials, moto's own URL).
    pub fn with_strict_s3(self, control_plane: &aws_config::SdkConfig) -> FrontDoorState {
        let inner = &self.inner;
        FrontDoorState {
            inner: Arc::new(Inner {
                moto_url: inner.moto_url.clone(),
                client: inner.client.clone(),
                runtime: inner.runtime.clone(),
                callers: Some(Arc::new(Callers::new(aws_sdk_iam::Client::new(
                    control_plane,
                )))),
            }),
        }
    }
}

/// The front door's routes: [`HEALTH_PATH`], SageMaker Runtime invocations to the runtime,
/// everything else to moto; every request bounded by a timeout.
pub fn router(state: FrontDoorState) -> Router {
    Router::new()
        .route(HEALTH_PATH, get(health))
        .fallback(dispatch)
        .layer(TimeoutLayer::with_status_code(
            StatusCode::GATEWAY_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// Serves the front door on `listener` until `shutdown` completes, then lets in-flight
/// requests finish.
pub async fn serve_front_door(
    listener: tokio::net::TcpListener,
    state: FrontDoorState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

async fn health(State(state): State<FrontDoorState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "moto": state.inner.moto_url }))
}

async fn dispatch(
    State(state): State<FrontDoorState>,
    request: Request,
) -> Result<Response, LocalError> {
    if is_runtime_request(request.method(), request.uri(), request.headers()) {
        let runtime = state.inner.runtime.clone();
        return match runtime.oneshot(request).await {
            Ok(response) => Ok(response),
            Err(never) => match never {},
        };
    }
    if is_moto_reset(request.uri()) {
        return Err(LocalError::MotoReset {
            path: request.uri().path().to_string(),
        });
    }
    if !is_moto_api(request.uri()) && !request.headers().contains_key(header::AUTHORIZATION) {
        let method = request.method().to_string();
        let path = request.uri().path().to_string();
        // moto answers both with a 500 once enforcement is on: it reads only the header.
        return Err(if is_presigned(request.uri()) {
            LocalError::PresignedUrl { method, path }
        } else {
            LocalError::MissingAuthentication { method, path }
        });
    }
    match &state.inner.callers {
        Some(callers) => forward_strictly(callers, request, |r| forward(&state, r)).await,
        None => forward(&state, request).await,
    }
}

/// Sends `request` to moto unchanged (method, path, query, headers including `Host`, body
/// streamed) and streams moto's response back with its status and headers.
async fn forward(state: &FrontDoorState, request: Request) -> Result<Response, LocalError> {
    let (mut parts, body) = request.into_parts();
    let method = parts.method.clone();
    let path = parts.uri.path().to_string();
    let upstream_error = |message: String| LocalError::Upstream {
        method: method.to_string(),
        path: path.clone(),
        upstream: state.inner.moto_url.clone(),
        message,
    };
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let upstream: Uri = format!("{}{}", state.inner.moto_url, path_and_query)
        .parse()
        .map_err(|e: http::uri::InvalidUri| upstream_error(e.to_string()))?;
    // The signature covers `Host`: keep the client's. An HTTP/2 request carries it as the
    // URI's authority instead.
    if !parts.headers.contains_key(header::HOST) {
        if let Some(authority) = parts.uri.authority() {
            if let Ok(value) = HeaderValue::from_str(authority.as_str()) {
                parts.headers.insert(header::HOST, value);
            }
        }
    }
    parts.uri = upstream;
    parts.version = Version::HTTP_11;
    let response = state
        .inner
        .client
        .request(Request::from_parts(parts, body))
        .await
        .map_err(|e| upstream_error(error_chain(&e)))?;
    Ok(response.map(Body::new))
}

/// `POST /endpoints/{name}/invocations` or `/async-invocations`, signed for `sagemaker`.
fn is_runtime_request(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    method == Method::POST
        && is_runtime_path(uri.path())
        && signing_service(headers) == Some("sagemaker")
}

fn is_runtime_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix("/endpoints/") else {
        return false;
    };
    match rest.split_once('/') {
        Some((name, operation)) => {
            !name.is_empty() && matches!(operation, "invocations" | "async-invocations")
        }
        None => false,
    }
}

/// The service of the SigV4 credential scope:
/// `Credential=<key>/<date>/<region>/<service>/aws4_request`.
fn signing_service(headers: &HeaderMap) -> Option<&str> {
    credential_scope(headers).map(|scope| scope.service)
}

/// A presigned URL: the signature is in the query (SigV4, or S3's SigV2).
fn is_presigned(uri: &Uri) -> bool {
    uri.query().is_some_and(|q| {
        q.split('&').any(|pair| {
            let key = pair.split('=').next().unwrap_or_default();
            key.eq_ignore_ascii_case("X-Amz-Signature") || key == "Signature"
        })
    })
}

/// moto's own API (`/moto-api/reset`, the dashboard) needs no signature, as with a plain moto.
fn is_moto_api(uri: &Uri) -> bool {
    uri.path() == "/moto-api" || uri.path().starts_with("/moto-api/")
}

/// moto's resets delete the administrator the bootstrap made (or re-open unauthenticated
/// access), which would lock every client of this stack out.
fn is_moto_reset(uri: &Uri) -> bool {
    matches!(
        uri.path().trim_end_matches('/'),
        "/moto-api/reset" | "/moto-api/reset-auth"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers_with(authorization: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(authorization).expect("valid header"),
        );
        headers
    }

    const SAGEMAKER_AUTH: &str = "AWS4-HMAC-SHA256 Credential=AKIA1/20260101/us-east-1/sagemaker/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc";

    #[test]
    fn the_credential_scope_names_the_service() {
        assert_eq!(
            signing_service(&headers_with(SAGEMAKER_AUTH)),
            Some("sagemaker")
        );
        assert_eq!(signing_service(&HeaderMap::new()), None);
    }

    #[test]
    fn only_signed_runtime_invocations_go_to_the_runtime() {
        let sagemaker = headers_with(SAGEMAKER_AUTH);
        let s3 = headers_with(&SAGEMAKER_AUTH.replace("/sagemaker/", "/s3/"));
        let uri = |p: &str| p.parse::<Uri>().expect("valid uri");
        let post = Method::POST;
        assert!(is_runtime_request(
            &post,
            &uri("/endpoints/ep-1/async-invocations"),
            &sagemaker
        ));
        assert!(is_runtime_request(
            &post,
            &uri("/endpoints/ep-1/invocations"),
            &sagemaker
        ));
        // An S3 object `invocations` in a bucket called `endpoints` is S3's.
        assert!(!is_runtime_request(
            &post,
            &uri("/endpoints/ep-1/invocations"),
            &s3
        ));
        assert!(!is_runtime_request(
            &Method::GET,
            &uri("/endpoints/ep-1/invocations"),
            &sagemaker
        ));
        // The control plane is signed for `sagemaker` too, on `/`.
        assert!(!is_runtime_request(&post, &uri("/"), &sagemaker));
        assert!(!is_runtime_request(
            &post,
            &uri("/endpoints//invocations"),
            &sagemaker
        ));
    }

    #[test]
    fn presigned_urls_are_recognised() {
        let v4: Uri =
            "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=a%2Fb&X-Amz-Signature=f"
                .parse()
                .expect("valid uri");
        assert!(is_presigned(&v4));
        let v2: Uri = "/b/k?AWSAccessKeyId=AKIA1&Signature=x%3D&Expires=1"
            .parse()
            .expect("valid uri");
        assert!(is_presigned(&v2));
        let plain: Uri = "/b/k?list-type=2".parse().expect("valid uri");
        assert!(!is_presigned(&plain));
    }
}
