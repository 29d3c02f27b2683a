//! A forwarder in front of the local stack's front door, for tests that must see (or stop)
//! every request a client makes: it passes each request byte for byte (the `Host` header is
//! part of the SigV4 signature), after asking an inspector what to do with it.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri, Version};
use axum::response::{IntoResponse as _, Response};
use bytes::Bytes;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

/// What to do with one request, decided before it is forwarded.
pub enum Verdict {
    /// Forward it.
    Forward,
    /// Forward it, then run this once its response is back, before returning the response.
    ForwardThen(Pin<Box<dyn Future<Output = ()> + Send>>),
    /// Run this first, then forward the request (something happens "meanwhile").
    FirstRun(Pin<Box<dyn Future<Output = ()> + Send>>),
    /// Answer 503 with this text instead of forwarding.
    Refuse(String),
}

/// Looks at each request (its head and whole body) and decides.
pub type Inspector = Arc<dyn Fn(&http::request::Parts, &Bytes) -> Verdict + Send + Sync>;

/// A running forwarder; it stops when dropped.
pub struct Forwarder {
    /// `http://127.0.0.1:<port>`: the endpoint URL clients are given.
    pub url: String,
    _server: AbortOnDrop,
}

struct Shared {
    upstream: String,
    client: Client<HttpConnector, Body>,
    inspect: Inspector,
}

impl Forwarder {
    /// Listens on a free loopback port and forwards to `upstream`, asking `inspect` first.
    pub async fn start(upstream: &str, inspect: Inspector) -> anyhow::Result<Forwarder> {
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0)).await?;
        let url = format!("http://{}", listener.local_addr()?);
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client: Client::builder(TokioExecutor::new()).build(HttpConnector::new()),
            inspect,
        });
        let app = axum::Router::new().fallback(forward).with_state(shared);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Forwarder {
            url,
            _server: AbortOnDrop(server),
        })
    }

    /// A forwarder that records every request, in the order they arrived.
    pub async fn recording(upstream: &str) -> anyhow::Result<(Forwarder, Recorded)> {
        let recorded = Recorded::default();
        let sink = recorded.clone();
        let inspect: Inspector = Arc::new(move |parts, body| {
            let mut request = http::Request::new(body.clone());
            *request.method_mut() = parts.method.clone();
            *request.uri_mut() = parts.uri.clone();
            *request.headers_mut() = parts.headers.clone();
            sink.lock().push(request);
            Verdict::Forward
        });
        Ok((Forwarder::start(upstream, inspect).await?, recorded))
    }
}

/// The requests a recording forwarder saw.
#[derive(Clone, Default)]
pub struct Recorded(Arc<Mutex<Vec<http::Request<Bytes>>>>);

impl Recorded {
    /// The requests so far; a panic elsewhere while holding them leaves them usable.
    pub fn lock(&self) -> std::sync::MutexGuard<'_, Vec<http::Request<Bytes>>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes the requests recorded so far.
    pub fn take(&self) -> Vec<http::Request<Bytes>> {
        std::mem::take(&mut *self.lock())
    }
}

/// Forwards one request unchanged, as the inspector decides.
async fn forward(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (mut parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let then = match (shared.inspect)(&parts, &body) {
        Verdict::Refuse(text) => return (StatusCode::SERVICE_UNAVAILABLE, text).into_response(),
        Verdict::Forward => None,
        Verdict::ForwardThen(then) => Some(then),
        Verdict::FirstRun(first) => {
            first.await;
            None
        }
    };
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
    if let Some(then) = then {
        then.await;
    }
    Response::from_parts(parts, Body::from(body))
}

/// A spawned task that ends with its owner.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
