//! The local SageMaker Runtime: accepts `InvokeEndpointAsync` (inline `Body` or `InputLocation`)
//! and `InvokeEndpoint`, validates like SageMaker, queues durably and runs the model.
//!
//! How a request moves: [`api`] checks the headers, the body size, `Body` xor `InputLocation`
//! and the endpoint (from [`endpoints`], a cache over the control plane); the accepted request
//! is a [`job::Queued`] appended to the [`journal`] (fsync'd) before the 202 goes out; then
//! [`worker`] waits for a slot on the endpoint (`MaxConcurrentInvocationsPerInstance` × instances)
//! or for the request's TTL, calls the model server that [`models`] keeps running, and writes
//! exactly one output or failure object as the endpoint's execution role ([`roles`]), followed
//! by the SNS notification ([`notify`]). On start, whatever the journal still holds is resumed.

mod api;
mod aws_error;
mod endpoints;
mod job;
mod journal;
mod models;
mod notify;
mod policy;
mod roles;
mod s3uri;
mod worker;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::endpoints::Endpoints;
use self::job::Queued;
use self::journal::Journal;
use self::models::Models;
use self::roles::Roles;

/// What the runtime needs from the local stack.
pub(crate) struct RuntimeConfig {
    /// Administrator configuration for the control plane (endpoint = moto's URL directly).
    pub control_plane: aws_config::SdkConfig,
    /// Where the durable journal and the model logs live: `<root>/.bodyline/runtime`.
    pub state_dir: PathBuf,
    /// `Some(supervisor pid)` when the runtime runs in its own process under the stack's
    /// supervisor: model servers then outlive the runtime and a restarted one takes them over.
    pub models_outlive_runtime: Option<u32>,
}

/// A running runtime: its router, its workers and its model processes.
pub(crate) struct Runtime {
    shared: Arc<Shared>,
}

/// Why the runtime could not start.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub(crate) enum RuntimeError {
    /// The state directory could not be created or opened.
    #[error("cannot use the runtime state directory {path}: {source}; check its permissions")]
    StateDir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The journal could not be opened or read.
    #[error("cannot open the runtime journal {path}: {message}; if another `bodyline local` is running on this project, stop it first")]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// The HTTP client for model servers could not be built.
    #[error("cannot build the HTTP client for model servers: {0}")]
    HttpClient(String),
}

/// State shared by the API handlers and the workers.
pub(crate) struct Shared {
    region: String,
    endpoints: Endpoints,
    roles: Roles,
    models: Models,
    journal: Journal,
    /// Where requests that ended with no object are recorded (`record::stranded_file`).
    stranded: PathBuf,
    /// The control plane's own S3 access, for bookkeeping only (never for the role's work).
    admin_s3: aws_sdk_s3::Client,
    /// The control plane's SNS, for notifications moto would wrongly deny (see `policy`).
    admin_sns: aws_sdk_sns::Client,
    /// The control plane's IAM, to read execution roles' policies.
    iam: aws_sdk_iam::Client,
    http: reqwest::Client,
    /// One semaphore per endpoint: its concurrency.
    lanes: Mutex<HashMap<String, Lane>>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

struct Lane {
    semaphore: Arc<Semaphore>,
    size: u32,
}

impl Shared {
    /// The endpoint's semaphore, resized to `concurrency` if the endpoint changed.
    fn lane(&self, endpoint: &str, concurrency: u32) -> Arc<Semaphore> {
        let Ok(mut lanes) = self.lanes.lock() else {
            // A poisoned lock means a panic elsewhere; a private single-slot lane keeps going.
            return Arc::new(Semaphore::new(1));
        };
        let lane = lanes.entry(endpoint.to_string()).or_insert_with(|| Lane {
            semaphore: Arc::new(Semaphore::new(concurrency as usize)),
            size: concurrency,
        });
        if concurrency > lane.size {
            lane.semaphore
                .add_permits((concurrency - lane.size) as usize);
            lane.size = concurrency;
        } else if concurrency < lane.size {
            let forgotten = lane
                .semaphore
                .forget_permits((lane.size - concurrency) as usize);
            lane.size -= forgotten as u32;
        }
        lane.semaphore.clone()
    }
}

/// Starts the runtime: opens the journal, resumes queued requests, starts the workers.
pub(crate) async fn start(config: RuntimeConfig) -> Result<Runtime, RuntimeError> {
    let log_dir = config.state_dir.join("models");
    for dir in [&config.state_dir, &log_dir] {
        std::fs::create_dir_all(dir).map_err(|source| RuntimeError::StateDir {
            path: dir.clone(),
            source,
        })?;
    }
    let (journal, pending) = Journal::open(&config.state_dir)?;
    let control_plane = patient(&config.control_plane);
    let http = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(256)
        .build()
        .map_err(|e| RuntimeError::HttpClient(e.to_string()))?;
    let sdk = &control_plane;
    let admin_s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(sdk)
            .force_path_style(true)
            .build(),
    );
    let shared = Arc::new(Shared {
        region: sdk.region().map(|r| r.to_string()).unwrap_or_default(),
        endpoints: Endpoints::new(aws_sdk_sagemaker::Client::new(sdk)),
        roles: Roles::new(sdk),
        models: Models::new(
            log_dir,
            http.clone(),
            config
                .models_outlive_runtime
                .map(|anchor| models::Adoption {
                    anchor,
                    registry: config.state_dir.join("model-servers"),
                }),
        ),
        journal,
        stranded: crate::record::stranded_file(&config.state_dir),
        admin_s3,
        admin_sns: aws_sdk_sns::Client::new(sdk),
        iam: aws_sdk_iam::Client::new(sdk),
        http,
        lanes: Mutex::new(HashMap::new()),
        shutdown: CancellationToken::new(),
        tasks: TaskTracker::new(),
    });
    let resumed = pending.len();
    for (seq, value) in pending {
        match Queued::decode(&value) {
            Ok(queued) => worker::submit(&shared, seq, queued, true),
            Err(message) => {
                // Without its header the request has no output or failure location to end in.
                tracing::error!(seq, %message, "dropping an unreadable journal entry");
                shared.journal.remove(seq);
            }
        }
    }
    if resumed > 0 {
        tracing::info!(resumed, "resuming requests accepted by a previous run");
    }
    Ok(Runtime { shared })
}

/// moto answers every request with `Connection: close`, so each call opens a connection, and
/// under load its accept loop falls seconds behind. With the SDK's default 3.1 s connect timeout
/// the runtime then abandons connections moto has queued and opens new ones, which moto still
/// accepts and serves: the backlog grows and writes fail. The runtime waits instead.
const CONTROL_PLANE_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

fn patient(sdk: &aws_config::SdkConfig) -> aws_config::SdkConfig {
    let timeouts = sdk
        .timeout_config()
        .map_or_else(aws_config::timeout::TimeoutConfig::builder, |t| {
            t.to_builder()
        })
        .connect_timeout(CONTROL_PLANE_CONNECT_TIMEOUT)
        .build();
    sdk.to_builder().timeout_config(timeouts).build()
}

impl Runtime {
    /// The SageMaker Runtime routes: `POST /endpoints/{name}/async-invocations` and
    /// `POST /endpoints/{name}/invocations`.
    pub(crate) fn router(&self) -> Router {
        api::routes(self.shared.clone())
    }

    /// Stops the workers (unfinished requests stay in the journal for the next start), stops
    /// the model processes and closes the journal.
    pub(crate) async fn shutdown(self) {
        self.shared.shutdown.cancel();
        self.shared.tasks.close();
        self.shared.tasks.wait().await;
        self.shared.models.shutdown().await;
        self.shared.journal.close().await;
    }
}
