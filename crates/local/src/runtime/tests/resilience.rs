//! The runtime against a control plane that fails or is slow: transient S3 write errors are
//! retried until the request's one object exists, and the endpoint cache serves a known entry
//! while one refresh runs in the background.
//!
//! The faults come from a forwarder of the test's own between a runtime of the test's own and the
//! real moto: it answers chosen requests with an error, closes their connection or delays them,
//! and forwards everything else byte for byte (the `Host` header is part of the signature).

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sagemaker::types::{
    AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceOutputConfig,
    ProductionVariant, ProductionVariantInstanceType,
};
use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::InvokeEndpointAsyncError;
use aws_sdk_sagemakerruntime::primitives::Blob;
use axum::body::Body;
use bodyline_stack::LocalEnv;
use http::{HeaderValue, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};

use super::util::{
    expected_scores, one_object, read, stack, EndpointSpec, StackInfo, TestEndpoint,
};
use crate::runtime::endpoints::{Endpoints, LookupError, FRESH_FOR, STALE_FOR};
use crate::runtime::job::Queued;
use crate::runtime::journal::Journal;
use crate::runtime::{self, Runtime, RuntimeConfig};

const WAIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// The fault-injecting forwarder

/// Which requests a rule applies to.
#[derive(Clone, Debug, PartialEq)]
enum Matcher {
    /// S3 `PutObject` (path style) whose path starts with this: `/{bucket}/{prefix}`.
    PutUnder(String),
    /// A JSON-protocol call with this `X-Amz-Target`, e.g. `SageMaker.DescribeEndpoint`.
    Target(&'static str),
}

impl Matcher {
    fn matches(&self, parts: &http::request::Parts) -> bool {
        match self {
            Matcher::PutUnder(prefix) => {
                parts.method == http::Method::PUT
                    && parts.uri.path().starts_with(prefix.as_str())
                    && !parts.headers.contains_key("x-amz-copy-source")
            }
            Matcher::Target(target) => parts
                .headers
                .get("x-amz-target")
                .is_some_and(|t| t.as_bytes() == target.as_bytes()),
        }
    }
}

/// What the forwarder does with a matching request instead of forwarding it at once.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    /// Answer with this HTTP status and an error body in the service's format.
    Status(u16),
    /// Close the connection without an answer.
    Drop,
    /// Forward after this pause.
    Delay(Duration),
}

/// How a matching request was answered.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Seen {
    fault: Option<Fault>,
    /// The status the client got; `None` when it got no answer.
    status: Option<u16>,
}

struct Rule {
    matcher: Matcher,
    /// Faults for the next matching requests, in order.
    first: VecDeque<Fault>,
    /// The fault for every matching request after those.
    then: Option<Fault>,
    arrived: usize,
    answered: Vec<Seen>,
}

struct Forwarding {
    upstream: String,
    client: Client<HttpConnector, Body>,
    rules: Mutex<Vec<Rule>>,
}

/// The test's forwarder in front of moto.
struct Forwarder {
    url: String,
    state: Arc<Forwarding>,
}

impl Forwarder {
    async fn start(upstream: &str) -> Forwarder {
        let state = Arc::new(Forwarding {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            rules: Mutex::new(Vec::new()),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the forwarder");
        let url = format!("http://{}", listener.local_addr().expect("forwarder addr"));
        let serving = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let state = serving.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |request| handle(state.clone(), request));
                    // A dropped connection ends here with the service's error, on purpose.
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Forwarder { url, state }
    }

    /// Applies `first` to the next matching requests, then `then` to every later one; replaces
    /// the faults (not the log) of an existing rule for the same requests.
    fn set(&self, matcher: Matcher, first: Vec<Fault>, then: Option<Fault>) {
        let mut rules = self.state.rules.lock().expect("rules lock");
        match rules.iter_mut().find(|r| r.matcher == matcher) {
            Some(rule) => {
                rule.first = first.into();
                rule.then = then;
            }
            None => rules.push(Rule {
                matcher,
                first: first.into(),
                then,
                arrived: 0,
                answered: Vec::new(),
            }),
        }
    }

    /// How many matching requests arrived (answered or not yet).
    fn arrived(&self, matcher: &Matcher) -> usize {
        let rules = self.state.rules.lock().expect("rules lock");
        rules
            .iter()
            .find(|r| &r.matcher == matcher)
            .map_or(0, |r| r.arrived)
    }

    /// How matching requests were answered, in the order of their answers.
    fn answered(&self, matcher: &Matcher) -> Vec<Seen> {
        let rules = self.state.rules.lock().expect("rules lock");
        rules
            .iter()
            .find(|r| &r.matcher == matcher)
            .map_or_else(Vec::new, |r| r.answered.clone())
    }

    /// The local-stack SDK configuration with the administrator's keys, pointed at the forwarder.
    fn control_plane(&self, stack: &StackInfo) -> aws_config::SdkConfig {
        bodyline_stack::local_sdk_config(&LocalEnv {
            endpoint_url: self.url.clone(),
            ..stack.env.clone()
        })
    }
}

/// The connection is closed without an answer.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the forwarder drops this connection")
    }
}

impl std::error::Error for Dropped {}

async fn handle(
    state: Arc<Forwarding>,
    request: Request<hyper::body::Incoming>,
) -> Result<Response<Body>, Dropped> {
    let (parts, body) = request.into_parts();
    // Read the request completely first, so an injected answer is not mistaken for a broken upload.
    let body = axum::body::to_bytes(Body::new(body), usize::MAX)
        .await
        .map_err(|_| Dropped)?;
    let (rule, fault) = {
        let mut rules = state.rules.lock().expect("rules lock");
        match rules
            .iter_mut()
            .enumerate()
            .find(|(_, r)| r.matcher.matches(&parts))
        {
            None => (None, None),
            Some((index, rule)) => {
                rule.arrived += 1;
                let fault = rule.first.pop_front().or(rule.then);
                (Some(index), fault)
            }
        }
    };
    let record = |status: Option<u16>| {
        if let Some(index) = rule {
            let mut rules = state.rules.lock().expect("rules lock");
            rules[index].answered.push(Seen { fault, status });
        }
    };
    match fault {
        Some(Fault::Drop) => {
            record(None);
            Err(Dropped)
        }
        Some(Fault::Status(code)) => {
            record(Some(code));
            Ok(error_response(&parts, code))
        }
        Some(Fault::Delay(pause)) => {
            tokio::time::sleep(pause).await;
            let response = forward(&state, parts, body).await;
            record(response.as_ref().ok().map(|r| r.status().as_u16()));
            response
        }
        None => {
            let response = forward(&state, parts, body).await;
            record(response.as_ref().ok().map(|r| r.status().as_u16()));
            response
        }
    }
}

async fn forward(
    state: &Forwarding,
    mut parts: http::request::Parts,
    body: bytes::Bytes,
) -> Result<Response<Body>, Dropped> {
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let upstream: Uri = format!("{}{}", state.upstream, path_and_query)
        .parse()
        .map_err(|_| Dropped)?;
    parts.uri = upstream;
    let response = state
        .client
        .request(Request::from_parts(parts, Body::from(body)))
        .await
        .map_err(|_| Dropped)?;
    Ok(response.map(Body::new))
}

/// An error as the service would send it: S3's XML, or the JSON protocol's `__type`.
fn error_response(parts: &http::request::Parts, code: u16) -> Response<Body> {
    let json = parts.headers.contains_key("x-amz-target");
    let name = match (code, json) {
        (403, true) => "AccessDeniedException",
        (403, false) => "AccessDenied",
        (429, _) => "ThrottlingException",
        (503, false) => "SlowDown",
        (503, true) => "ServiceUnavailable",
        (_, true) => "InternalFailure",
        (_, false) => "InternalError",
    };
    let message = "injected by the test's forwarder";
    let (content_type, body) = if json {
        (
            "application/x-amz-json-1.1",
            serde_json::json!({ "__type": name, "message": message }).to_string(),
        )
    } else {
        (
            "application/xml",
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{name}</Code><Message>{message}</Message><RequestId>forwarder</RequestId></Error>"),
        )
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = StatusCode::from_u16(code).expect("a valid status");
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

// ---------------------------------------------------------------------------------------------
// A runtime of the test's own, whose control plane is the forwarder

struct OwnRuntime {
    runtime: Runtime,
    server: tokio::task::JoinHandle<()>,
    client: aws_sdk_sagemakerruntime::Client,
}

impl OwnRuntime {
    async fn start(stack: &StackInfo, forwarder: &Forwarder, state_dir: &Path) -> OwnRuntime {
        let runtime = runtime::start(RuntimeConfig {
            control_plane: forwarder.control_plane(stack),
            state_dir: state_dir.to_path_buf(),
            models_outlive_runtime: None,
        })
        .await
        .expect("the runtime starts");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the runtime");
        let url = format!("http://{}", listener.local_addr().expect("runtime addr"));
        let router = runtime.router();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        let client =
            aws_sdk_sagemakerruntime::Client::new(&bodyline_stack::local_sdk_config(&LocalEnv {
                endpoint_url: url,
                ..stack.env.clone()
            }));
        OwnRuntime {
            runtime,
            server,
            client,
        }
    }

    async fn submit(
        &self,
        endpoint: &str,
        payload: &str,
    ) -> Result<
        aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::InvokeEndpointAsyncOutput,
        InvokeEndpointAsyncError,
    > {
        self.client
            .invoke_endpoint_async()
            .endpoint_name(endpoint)
            .content_type("application/json")
            .body(Blob::new(payload.as_bytes().to_vec()))
            .send()
            .await
            .map_err(|e| e.into_service_error())
    }

    /// Stops the runtime (unfinished requests stay in its journal) and its listener.
    async fn stop(self) {
        self.runtime.shutdown().await;
        self.server.abort();
        let _ = self.server.await;
    }
}

/// The requests a stopped runtime left in its journal.
async fn journaled(state_dir: &Path) -> Vec<Queued> {
    let (journal, pending) = match Journal::open(state_dir) {
        Ok(opened) => opened,
        Err(e) => panic!("the journal opens: {e}"),
    };
    journal.close().await;
    pending
        .iter()
        .map(|(_, value)| Queued::decode(value).expect("a readable journal entry"))
        .collect()
}

/// Waits for the request's one object and checks there is no other; `true` for the output.
async fn ends_in_one_object(stack: &StackInfo, output: &str, failure: &str) -> (bool, String) {
    let (is_output, object) = one_object(stack, output, failure, WAIT).await;
    (is_output, object.text())
}

/// Waits until `done` holds, polling; panics with `what` after `timeout`.
async fn eventually(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < timeout, "{what} within {timeout:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Transient S3 write errors

/// Submits `payload` through a runtime whose writes under `prefix` (`output/` or `failure/`)
/// first meet `faults`, and checks the request still ends in exactly its one object, written
/// once, and leaves nothing in the journal. Returns the object's text.
///
/// `faults` must be more than the attempts one SDK call makes on its own (3 by default), so the
/// request can only end in its object if the runtime retries the write itself.
async fn written_despite(prefix: &str, payload: &str, faults: &[Fault]) -> (bool, String) {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let forwarder = Forwarder::start(&stack.moto_url).await;
    let writes = Matcher::PutUnder(format!("/{}/{prefix}", endpoint.bucket));
    forwarder.set(writes.clone(), faults.to_vec(), None);
    let state = tempfile::tempdir().expect("state dir");
    let runtime = OwnRuntime::start(stack, &forwarder, state.path()).await;

    let accepted = runtime
        .submit(&endpoint.name, payload)
        .await
        .expect("accepted");
    let ended = ends_in_one_object(
        stack,
        accepted.output_location().expect("OutputLocation"),
        accepted.failure_location().expect("FailureLocation"),
    )
    .await;

    let seen = forwarder.answered(&writes);
    let injected: Vec<Fault> = seen.iter().filter_map(|s| s.fault).collect();
    assert_eq!(injected, faults, "every fault was met: {seen:?}");
    let written: Vec<&Seen> = seen.iter().filter(|s| s.fault.is_none()).collect();
    assert_eq!(
        written,
        vec![&Seen {
            fault: None,
            status: Some(200)
        }],
        "one successful write after the faults: {seen:?}"
    );
    assert_eq!(seen.last().and_then(|s| s.status), Some(200), "{seen:?}");

    // The journal removal follows the write at once; give it a moment before looking.
    tokio::time::sleep(Duration::from_millis(500)).await;
    runtime.stop().await;
    let left = journaled(state.path()).await;
    assert!(left.is_empty(), "left in the journal: {left:?}");
    ended
}

#[tokio::test]
async fn server_errors_and_throttling_on_the_output_write_are_retried_until_it_exists() {
    // Runs of three, so that SDK calls end in each kind of answer, whatever their attempts.
    let faults = [
        Fault::Status(429),
        Fault::Status(429),
        Fault::Status(429),
        Fault::Status(503),
        Fault::Status(503),
        Fault::Status(503),
        Fault::Status(500),
    ];
    let payload = r#"{"records":[{"amount":3},{"amount":250}]}"#;
    let (is_output, text) = written_despite("output/", payload, &faults).await;
    assert!(is_output, "the request ended in a failure: {text}");
    let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON output");
    assert_eq!(answer, expected_scores(payload.as_bytes()));
}

#[tokio::test]
async fn dropped_connections_on_the_output_write_are_retried_until_it_exists() {
    let payload = r#"{"amount": 7}"#;
    let (is_output, text) = written_despite("output/", payload, &[Fault::Drop; 4]).await;
    assert!(is_output, "the request ended in a failure: {text}");
    let answer: serde_json::Value = serde_json::from_str(&text).expect("JSON output");
    assert_eq!(answer, expected_scores(payload.as_bytes()));
}

#[tokio::test]
async fn transient_errors_on_the_failure_object_write_are_retried_until_it_exists() {
    let faults = [
        Fault::Status(503),
        Fault::Status(503),
        Fault::Status(503),
        Fault::Drop,
        Fault::Status(500),
    ];
    let (is_output, text) = written_despite("failure/", r#"{"fail": true}"#, &faults).await;
    assert!(!is_output, "the model was asked to fail: {text}");
    assert!(
        text.contains("ModelError") && text.contains("(500)"),
        "{text}"
    );
}

#[tokio::test]
async fn a_request_whose_write_keeps_failing_stays_journaled_and_finishes_after_a_restart() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let forwarder = Forwarder::start(&stack.moto_url).await;
    let outputs = Matcher::PutUnder(format!("/{}/output/", endpoint.bucket));
    forwarder.set(outputs.clone(), Vec::new(), Some(Fault::Status(503)));
    let state = tempfile::tempdir().expect("state dir");
    let first = OwnRuntime::start(stack, &forwarder, state.path()).await;

    let payload = r#"{"amount": 42}"#;
    let accepted = first
        .submit(&endpoint.name, payload)
        .await
        .expect("accepted");
    let id = accepted.inference_id().expect("InferenceId").to_string();
    let output = accepted.output_location().expect("OutputLocation");
    let failure = accepted.failure_location().expect("FailureLocation");
    // More attempts than one SDK call makes: the runtime itself is retrying.
    eventually("5 failed writes", WAIT, || {
        forwarder.answered(&outputs).len() >= 5
    })
    .await;
    assert!(
        read(stack, output).await.is_none() && read(stack, failure).await.is_none(),
        "a transient error must not end the request"
    );
    first.stop().await;
    let left = journaled(state.path()).await;
    let ids: Vec<&str> = left.iter().map(|q| q.job.inference_id.as_str()).collect();
    assert_eq!(
        ids,
        vec![id.as_str()],
        "the unwritten request stays journaled"
    );

    forwarder.set(outputs.clone(), Vec::new(), None);
    let second = OwnRuntime::start(stack, &forwarder, state.path()).await;
    let (is_output, text) = ends_in_one_object(stack, output, failure).await;
    assert!(is_output, "the resumed request ended in a failure: {text}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&text).expect("JSON output"),
        expected_scores(payload.as_bytes())
    );
    let seen = forwarder.answered(&outputs);
    let written: Vec<&Seen> = seen.iter().filter(|s| s.fault.is_none()).collect();
    assert_eq!(
        written,
        vec![&Seen {
            fault: None,
            status: Some(200)
        }],
        "the resumed request is written once: {seen:?}"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    second.stop().await;
    let left = journaled(state.path()).await;
    assert!(left.is_empty(), "left in the journal: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// The endpoint cache

const DESCRIBE_ENDPOINT: Matcher = Matcher::Target("SageMaker.DescribeEndpoint");

/// The output path of the endpoint as the cache knows it.
fn output_path(result: &Result<Arc<runtime::endpoints::EndpointInfo>, LookupError>) -> String {
    match result {
        Ok(info) => info
            .async_config
            .as_ref()
            .map(|c| c.output_path.to_string())
            .unwrap_or_default(),
        Err(e) => panic!("the endpoint is known: {e:?}"),
    }
}

/// Points `endpoint` at a new config whose outputs go to `output/v2` (deleted and re-created:
/// moto does not implement `UpdateEndpoint`).
async fn recreate_with_new_output_path(stack: &StackInfo, endpoint: &TestEndpoint) -> String {
    let sagemaker = aws_sdk_sagemaker::Client::new(&stack.sdk());
    let config = format!("{}-config-v2", endpoint.name);
    let output_path = format!("s3://{}/output/v2", endpoint.bucket);
    sagemaker
        .create_endpoint_config()
        .endpoint_config_name(&config)
        .production_variants(
            ProductionVariant::builder()
                .variant_name("AllTraffic")
                .model_name(format!("{}-model", endpoint.name))
                .initial_instance_count(1)
                .instance_type(ProductionVariantInstanceType::MlM5Large)
                .build(),
        )
        .async_inference_config(
            AsyncInferenceConfig::builder()
                .client_config(
                    AsyncInferenceClientConfig::builder()
                        .max_concurrent_invocations_per_instance(2)
                        .build(),
                )
                .output_config(
                    AsyncInferenceOutputConfig::builder()
                        .s3_output_path(&output_path)
                        .s3_failure_path(format!("s3://{}/failure", endpoint.bucket))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateEndpointConfig v2");
    sagemaker
        .delete_endpoint()
        .endpoint_name(&endpoint.name)
        .send()
        .await
        .expect("DeleteEndpoint");
    sagemaker
        .create_endpoint()
        .endpoint_name(&endpoint.name)
        .endpoint_config_name(&config)
        .send()
        .await
        .expect("CreateEndpoint v2");
    output_path
}

/// A new endpoint, a forwarder that passes `DescribeEndpoint` through (for now), and a cache
/// over that forwarder that has just read the endpoint once.
async fn known_endpoint(stack: &StackInfo) -> (TestEndpoint, Forwarder, Endpoints) {
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let forwarder = Forwarder::start(&stack.moto_url).await;
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), None);
    let endpoints = Endpoints::new(aws_sdk_sagemaker::Client::new(
        &forwarder.control_plane(stack),
    ));
    assert!(endpoints.get(&endpoint.name).await.is_ok());
    assert_eq!(forwarder.arrived(&DESCRIBE_ENDPOINT), 1);
    (endpoint, forwarder, endpoints)
}

/// A cache whose entry is past [`FRESH_FOR`] and whose background re-check has been answered
/// `status` on each of the `attempts` the SDK makes for one call; the entry was served meanwhile.
async fn stale_entry_whose_recheck_got(
    stack: &StackInfo,
    status: u16,
    attempts: usize,
) -> (TestEndpoint, Forwarder, Endpoints) {
    let (endpoint, forwarder, endpoints) = known_endpoint(stack).await;
    tokio::time::sleep(FRESH_FOR + Duration::from_millis(200)).await;
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), Some(Fault::Status(status)));
    assert!(
        endpoints.get(&endpoint.name).await.is_ok(),
        "the stale entry is served while it is re-checked"
    );
    eventually("the background re-check", WAIT, || {
        let answered = forwarder.answered(&DESCRIBE_ENDPOINT);
        answered.iter().filter(|s| s.status == Some(status)).count() >= attempts
    })
    .await;
    (endpoint, forwarder, endpoints)
}

#[tokio::test]
async fn a_stale_entry_is_served_at_once_while_one_refresh_picks_up_the_change() {
    let stack = stack();
    let (endpoint, forwarder, endpoints) = known_endpoint(stack).await;
    let first_path = format!("s3://{}/output", endpoint.bucket);
    // A fresh entry is used as is.
    assert_eq!(
        output_path(&endpoints.get(&endpoint.name).await),
        first_path
    );
    assert_eq!(forwarder.arrived(&DESCRIBE_ENDPOINT), 1);

    tokio::time::sleep(FRESH_FOR + Duration::from_millis(200)).await;
    let delay = Duration::from_secs(8);
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), Some(Fault::Delay(delay)));
    let new_path = recreate_with_new_output_path(stack, &endpoint).await;

    let started = Instant::now();
    let (a, b, c) = tokio::join!(
        endpoints.get(&endpoint.name),
        endpoints.get(&endpoint.name),
        endpoints.get(&endpoint.name)
    );
    let d = endpoints.get(&endpoint.name).await;
    let waited = started.elapsed();
    assert!(
        waited < delay / 2,
        "requests waited {waited:?} for a refresh delayed by {delay:?}"
    );
    for stale in [&a, &b, &c, &d] {
        assert_eq!(output_path(stale), first_path, "the known entry is served");
    }
    // Requests keep getting the known entry, and start no refresh of their own, while the one
    // refresh waits for the control plane.
    while started.elapsed() < delay / 4 {
        assert_eq!(
            output_path(&endpoints.get(&endpoint.name).await),
            first_path
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        forwarder.arrived(&DESCRIBE_ENDPOINT),
        2,
        "the first read and one background refresh"
    );

    // Once that refresh is through, the re-created endpoint is what the cache knows.
    let started = Instant::now();
    loop {
        let current = endpoints.get(&endpoint.name).await;
        if output_path(&current) == new_path {
            break;
        }
        assert!(
            started.elapsed() < WAIT,
            "the change was not seen within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_failed_refresh_empties_the_entry_so_the_next_request_asks_the_control_plane() {
    let stack = stack();
    // A refusal, so the SDK does not retry it and the refresh fails at once.
    let (endpoint, forwarder, endpoints) = stale_entry_whose_recheck_got(stack, 403, 1).await;
    // Kept, the entry would be served for STALE_FOR; emptied, the next request gets the error.
    let started = Instant::now();
    let error = loop {
        match endpoints.get(&endpoint.name).await {
            Ok(_) => {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "the entry was served after its refresh failed"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => break e,
        }
    };
    match error {
        LookupError::ControlPlane(detail) => {
            assert!(
                detail.contains("injected by the test's forwarder"),
                "{detail}"
            )
        }
        other => panic!("expected a control plane error, got {other:?}"),
    }
    // The first read, the failed background refresh, then the request's own call.
    let arrived = forwarder.arrived(&DESCRIBE_ENDPOINT);
    assert_eq!(arrived, 3);

    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), None);
    assert!(endpoints.get(&endpoint.name).await.is_ok());
    assert_eq!(forwarder.arrived(&DESCRIBE_ENDPOINT), arrived + 1);
}

#[tokio::test]
async fn a_refresh_that_fails_on_the_way_keeps_serving_the_entry() {
    let stack = stack();
    // A busy control plane: every attempt gets a 503, and the SDK makes 3 of its own.
    let (endpoint, forwarder, endpoints) = stale_entry_whose_recheck_got(stack, 503, 3).await;
    // Let the failed re-check reach the cache.
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Unlike a refusal, this does not empty the entry: requests keep being served from it
    // (emptied, the next request would ask itself and get the 503).
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        assert!(
            endpoints.get(&endpoint.name).await.is_ok(),
            "the entry was dropped after a 503"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Once the control plane answers again, a later re-check succeeds.
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), None);
    let started = Instant::now();
    while !forwarder
        .answered(&DESCRIBE_ENDPOINT)
        .iter()
        .skip(1)
        .any(|s| s.status == Some(200))
    {
        assert!(started.elapsed() < WAIT, "no successful re-check");
        assert!(endpoints.get(&endpoint.name).await.is_ok());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn an_entry_older_than_stale_for_waits_for_the_control_plane() {
    let stack = stack();
    let (endpoint, forwarder, endpoints) = known_endpoint(stack).await;
    tokio::time::sleep(STALE_FOR + Duration::from_millis(500)).await;
    let delay = Duration::from_secs(3);
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), Some(Fault::Delay(delay)));
    let started = Instant::now();
    assert!(endpoints.get(&endpoint.name).await.is_ok());
    let waited = started.elapsed();
    assert!(waited >= delay, "answered after {waited:?} without asking");
    assert_eq!(forwarder.arrived(&DESCRIBE_ENDPOINT), 2);
}

#[tokio::test]
async fn a_202_does_not_wait_for_a_slow_control_plane_and_a_deleted_endpoint_is_refused() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let forwarder = Forwarder::start(&stack.moto_url).await;
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), None);
    let state = tempfile::tempdir().expect("state dir");
    let runtime = OwnRuntime::start(stack, &forwarder, state.path()).await;
    let mut accepted = Vec::new();
    let warm = runtime
        .submit(&endpoint.name, r#"{"amount": 1}"#)
        .await
        .expect("accepted");
    accepted.push(warm);

    tokio::time::sleep(FRESH_FOR + Duration::from_millis(200)).await;
    let delay = Duration::from_secs(8);
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), Some(Fault::Delay(delay)));
    let started = Instant::now();
    let quick = runtime
        .submit(&endpoint.name, r#"{"amount": 2}"#)
        .await
        .expect("accepted");
    let waited = started.elapsed();
    assert!(
        waited < delay / 2,
        "the 202 took {waited:?} with DescribeEndpoint delayed by {delay:?}"
    );
    accepted.push(quick);
    for (i, response) in accepted.iter().enumerate() {
        let (is_output, text) = ends_in_one_object(
            stack,
            response.output_location().expect("OutputLocation"),
            response.failure_location().expect("FailureLocation"),
        )
        .await;
        assert!(is_output, "request {i} failed: {text}");
    }
    let answered_before = accepted.len();

    // Deleted on the control plane: after a refresh the runtime refuses like SageMaker.
    forwarder.set(DESCRIBE_ENDPOINT, Vec::new(), None);
    aws_sdk_sagemaker::Client::new(&stack.sdk())
        .delete_endpoint()
        .endpoint_name(&endpoint.name)
        .send()
        .await
        .expect("DeleteEndpoint");
    let started = Instant::now();
    let message = loop {
        match runtime.submit(&endpoint.name, r#"{"amount": 3}"#).await {
            Ok(more) => accepted.push(more),
            Err(InvokeEndpointAsyncError::ValidationError(e)) => {
                break e.message().unwrap_or_default().to_string()
            }
            Err(other) => panic!("expected a ValidationError, got {other:?}"),
        }
        assert!(
            started.elapsed() < WAIT,
            "the deletion was not seen within {WAIT:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert_eq!(message, format!("Endpoint {} not found.", endpoint.name));

    // Every accepted request still ends in exactly one object.
    for (i, response) in accepted.iter().enumerate().skip(answered_before) {
        let (is_output, text) = ends_in_one_object(
            stack,
            response.output_location().expect("OutputLocation"),
            response.failure_location().expect("FailureLocation"),
        )
        .await;
        assert!(
            is_output || text.contains("EndpointNotFound"),
            "request {i}: {text}"
        );
    }
    runtime.stop().await;
}
