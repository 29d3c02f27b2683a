//! A counting forwarder in front of the local stack's front door: it passes every request byte
//! for byte (the `Host` header is signed), records each mutating call as `service.Operation`
//! (provision's call-counter rule: an operation reads when its name starts with `Describe`,
//! `Get`, `List` or `Head`), and can SIGKILL a registered process right after its k-th mutating
//! call (tests/kill.rs). tests/estate.rs counts `bodyline verify --endpoint`'s calls with it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri, Version};
use axum::response::{IntoResponse as _, Response};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// The counting forwarder of one project, in front of the front door.
pub struct Forwarder {
    /// The forwarder's URL, to put in a project's `.bodyline/local.env`.
    pub url: String,
    shared: Arc<Shared>,
    _server: AbortOnDrop,
}

struct Shared {
    upstream: String,
    client: Client<HttpConnector, Body>,
    state: Mutex<Counting>,
}

impl Shared {
    /// The counting state; a panic elsewhere while holding it leaves it usable.
    fn counting(&self) -> std::sync::MutexGuard<'_, Counting> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Counting {
    /// Every request forwarded, reading or mutating.
    requests: usize,
    /// Mutating calls forwarded since the last [`Forwarder::take_mutating`].
    mutating: Vec<String>,
    /// Kill the victim once this many mutating calls have been answered; refuse any further
    /// one (it would come from a process being killed).
    kill_after: Option<usize>,
    victim: Option<u32>,
}

impl Forwarder {
    /// Starts a forwarder in front of `upstream` (the front door's URL).
    pub async fn start(upstream: &str) -> anyhow::Result<Forwarder> {
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            state: Mutex::new(Counting::default()),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Forwarder {
            url,
            shared,
            _server: AbortOnDrop(server),
        })
    }

    /// The next process to be registered is killed after `k` mutating calls.
    pub fn arm(&self, k: usize) {
        let mut c = self.shared.counting();
        c.mutating.clear();
        c.kill_after = Some(k);
        c.victim = None;
    }

    /// Registers the process to kill.
    pub fn set_victim(&self, pid: u32) {
        self.shared.counting().victim = Some(pid);
    }

    /// How many requests (of any kind) were forwarded so far.
    pub fn requests(&self) -> usize {
        self.shared.counting().requests
    }

    /// The mutating calls forwarded since the last call; disarms the kill.
    pub fn take_mutating(&self) -> Vec<String> {
        let mut c = self.shared.counting();
        c.kill_after = None;
        c.victim = None;
        std::mem::take(&mut c.mutating)
    }
}

/// Forwards one request unchanged, counts it, and kills the victim after the k-th mutating
/// call's response is back (before that response is returned).
async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let call = classify(&parts.method, &parts.uri, &parts.headers, &body);
    shared.counting().requests += 1;
    let mut kill = false;
    if let Some(operation) = call {
        let mut c = shared.counting();
        if c.kill_after.is_some_and(|k| c.mutating.len() >= k) {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the test stopped forwarding after the kill: {operation}"),
            )
                .into_response();
        }
        c.mutating.push(operation);
        kill = c.kill_after == Some(c.mutating.len());
    }
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    parts.uri = match format!("{}{path_and_query}", shared.upstream).parse::<Uri>() {
        Ok(uri) => uri,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    // `Host` stays the client's: it is part of the SigV4 signature.
    parts.version = Version::HTTP_11;
    let response = match shared
        .client
        .request(Request::from_parts(parts, Body::from(body)))
        .await
    {
        Ok(response) => response,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(Body::new(body), usize::MAX).await {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    if kill {
        kill_victim(&shared).await;
    }
    Response::from_parts(parts, Body::from(body))
}

/// SIGKILLs the registered victim, waiting briefly for its registration (it is registered
/// right after spawning, long before it can have made k calls).
async fn kill_victim(shared: &Shared) {
    let began = Instant::now();
    loop {
        let victim = shared.counting().victim;
        if let Some(pid) = victim.and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: kill(2) takes plain integers. The pid is our child, not yet reaped
            // (its parent waits for it after this), so it cannot name another process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return;
        }
        if began.elapsed() > Duration::from_secs(10) {
            // Not killed: the scenario sees setup finish and fails.
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The operation of a request as `service.Operation` when it mutates, `None` when it reads.
/// The rule is provision's call counter's: an operation reads when its name starts with
/// `Describe`, `Get`, `List` or `Head`; every other operation mutates.
pub fn classify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let service = signing_service(headers).unwrap_or("unsigned");
    // SageMaker Runtime (the data plane): `POST /endpoints/<name>/async-invocations`.
    if let Some(rest) = uri.path().strip_prefix("/endpoints/") {
        if rest.ends_with("/async-invocations") {
            return Some(format!("{service}.InvokeEndpointAsync"));
        }
        if rest.ends_with("/invocations") {
            return Some(format!("{service}.InvokeEndpoint"));
        }
    }
    // JSON protocols (SageMaker): `X-Amz-Target: SageMaker.CreateModel`.
    let operation = if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        target.rsplit('.').next().unwrap_or(target).to_string()
    // Query protocol (IAM, STS, SNS): the `Action` parameter of the form body (or the query).
    } else if let Some(action) = form_value(body, "Action")
        .or_else(|| form_value(uri.query().unwrap_or_default().as_bytes(), "Action"))
    {
        action
    // S3's REST protocol: every GET operation is a Get* or List*, every HEAD a Head*; PUT,
    // POST and DELETE are Create*, Put*, Delete*, Restore*, Select*... The SDK names some in
    // an `x-id` query parameter.
    } else {
        if method == Method::GET || method == Method::HEAD {
            return None;
        }
        let query = uri.query().unwrap_or_default();
        match form_value(query.as_bytes(), "x-id") {
            Some(id) => id,
            None => {
                // Without the bucket's name (it differs per stack): `PUT bucket?tagging`.
                let depth = uri.path().trim_matches('/').split('/').count();
                let target = if depth > 1 { "object" } else { "bucket" };
                let subresources: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| p.split('=').next().unwrap_or_default())
                    .collect();
                if subresources.is_empty() {
                    format!("{method} {target}")
                } else {
                    format!("{method} {target}?{}", subresources.join("&"))
                }
            }
        }
    };
    let reads = ["Describe", "Get", "List", "Head"]
        .iter()
        .any(|p| operation.starts_with(p));
    (!reads).then(|| format!("{service}.{operation}"))
}

/// Whether the forwarder's `service.Operation` is the call setup reports as
/// `Service.Operation`. S3's REST requests carry no operation name; their service must match.
pub fn same_call(seen: &str, said: &str) -> bool {
    match (seen.split_once('.'), said.split_once('.')) {
        (Some((seen_service, seen_op)), Some((said_service, said_op))) => {
            seen_service.eq_ignore_ascii_case(said_service)
                && (seen_service == "s3" || seen_op == said_op)
        }
        _ => false,
    }
}

/// The value of `key` in a form-encoded `a=b&c=d` text (the values read here are plain names).
fn form_value(form: &[u8], key: &str) -> Option<String> {
    let form = std::str::from_utf8(form).ok()?;
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

/// The service of the SigV4 credential scope: `Credential=<key>/<date>/<region>/<service>/...`.
fn signing_service(headers: &HeaderMap) -> Option<&str> {
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    credential.split([',', ' ']).next()?.split('/').nth(3)
}

/// A spawned task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
#[test]
fn requests_are_classified_like_provisions_call_counter() {
    let signed = |service: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x")
                .parse()
                .expect("a header value"),
        );
        headers
    };
    let uri = |u: &str| u.parse::<Uri>().expect("a uri");
    let mut sagemaker = signed("sagemaker");
    sagemaker.insert(
        "x-amz-target",
        "SageMaker.CreateModel".parse().expect("a header value"),
    );
    assert_eq!(
        classify(&Method::POST, &uri("/"), &sagemaker, b"{}"),
        Some("sagemaker.CreateModel".into())
    );
    sagemaker.insert(
        "x-amz-target",
        "SageMaker.DescribeEndpoint"
            .parse()
            .expect("a header value"),
    );
    assert_eq!(classify(&Method::POST, &uri("/"), &sagemaker, b"{}"), None);
    let iam = signed("iam");
    assert_eq!(
        classify(
            &Method::POST,
            &uri("/"),
            &iam,
            b"Action=TagRole&Version=2010-05-08&RoleName=x"
        ),
        Some("iam.TagRole".into())
    );
    assert_eq!(
        classify(&Method::POST, &uri("/"), &iam, b"Action=GetRole&RoleName=x"),
        None
    );
    let s3 = signed("s3");
    assert_eq!(
        classify(&Method::PUT, &uri("/bucket?tagging"), &s3, b"<Tagging/>"),
        Some("s3.PUT bucket?tagging".into())
    );
    assert_eq!(
        classify(&Method::PUT, &uri("/bucket/key?x-id=PutObject"), &s3, b"x"),
        Some("s3.PutObject".into())
    );
    assert_eq!(
        classify(&Method::GET, &uri("/bucket?tagging"), &s3, b""),
        None
    );
    assert_eq!(classify(&Method::HEAD, &uri("/bucket"), &s3, b""), None);
    assert_eq!(
        classify(
            &Method::POST,
            &uri("/endpoints/ep/async-invocations"),
            &signed("sagemaker"),
            b"{}"
        ),
        Some("sagemaker.InvokeEndpointAsync".into())
    );
    assert!(same_call("sns.CreateTopic", "SNS.CreateTopic"));
    assert!(!same_call("sns.CreateTopic", "SNS.TagResource"));
    assert!(same_call("s3.PUT bucket?tagging", "S3.PutBucketTagging"));
    assert!(!same_call("s3.PUT bucket", "IAM.CreateRole"));
    assert_eq!(
        classify(
            &Method::GET,
            &uri("/_bodyline/health"),
            &HeaderMap::new(),
            b""
        ),
        None
    );
}
