//! What the runtime knows about endpoints, read from the control plane and cached.
//!
//! `DescribeEndpoint` gives the status, the config name and the instance count; moto leaves out
//! `AsyncInferenceConfig` there, so it comes from `DescribeEndpointConfig`; the model's role and
//! its `BODYLINE_LOCAL_*` mapping come from `DescribeModel`. An entry is trusted for
//! [`FRESH_FOR`]; after that a request starts one background re-check and is served the entry
//! until it is [`STALE_FOR`] old, when requests wait for the control plane again. A re-check
//! reads `DescribeEndpoint`, and the config and model only when the endpoint changed (another
//! config, or re-created).

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sagemaker::config::http::HttpResponse;
use aws_sdk_sagemaker::error::SdkError;

use super::s3uri::S3Uri;

/// How long a checked entry is used without asking the control plane again.
pub(crate) const FRESH_FOR: Duration = Duration::from_secs(1);
/// How long an entry may serve requests while its re-check runs in the background.
pub(crate) const STALE_FOR: Duration = Duration::from_secs(30);

/// SageMaker picks a value when `MaxConcurrentInvocationsPerInstance` is unset; this is ours.
const DEFAULT_CONCURRENCY_PER_INSTANCE: u32 = 4;

/// One endpoint as the runtime uses it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EndpointInfo {
    pub name: String,
    pub status: String,
    pub variant_name: String,
    pub instance_count: u32,
    pub async_config: Option<AsyncConfig>,
    pub model: ModelInfo,
    /// What changes when the endpoint is updated or re-created.
    stamp: String,
}

/// `AsyncInferenceConfig`, flattened.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct AsyncConfig {
    pub output_path: S3Uri,
    pub failure_path: S3Uri,
    pub success_topic: Option<String>,
    pub error_topic: Option<String>,
    pub include_response_in: Vec<String>,
    pub max_concurrent_per_instance: u32,
}

/// The model behind the endpoint's (first) production variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ModelInfo {
    pub name: String,
    pub execution_role_arn: String,
    pub environment: BTreeMap<String, String>,
}

impl EndpointInfo {
    /// Workers allowed at once: `MaxConcurrentInvocationsPerInstance` × instances (at least one
    /// instance: locally there is no scale-from-zero, the model is always there).
    pub(crate) fn concurrency(&self) -> u32 {
        let per_instance = self
            .async_config
            .as_ref()
            .map_or(DEFAULT_CONCURRENCY_PER_INSTANCE, |c| {
                c.max_concurrent_per_instance
            });
        per_instance.max(1) * self.instance_count.max(1)
    }
}

/// Why endpoint knowledge could not be had.
#[derive(Debug)]
pub(crate) enum LookupError {
    /// The endpoint (or its config or model) does not exist.
    NotFound(String),
    /// The control plane refused, or answered something unusable.
    ControlPlane(String),
    /// The control plane did not answer, or answered with a server error or throttling: asking
    /// again later may work.
    Unavailable(String),
}

struct Cached {
    info: Arc<EndpointInfo>,
    checked: Instant,
}

/// One endpoint's cache entry, and whether a background refresh of it is running.
#[derive(Default)]
struct Slot {
    entry: tokio::sync::Mutex<Option<Cached>>,
    refreshing: AtomicBool,
}

/// The cache; one async lock per endpoint name, so concurrent requests trigger one refresh.
pub(crate) struct Endpoints {
    client: aws_sdk_sagemaker::Client,
    slots: Mutex<HashMap<String, Arc<Slot>>>,
}

impl Endpoints {
    pub(crate) fn new(client: aws_sdk_sagemaker::Client) -> Endpoints {
        Endpoints {
            client,
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// The endpoint, at most [`FRESH_FOR`] old; or, while a refresh runs in the background, at
    /// most [`STALE_FOR`] old.
    ///
    /// Requests do not wait for the re-check of a known endpoint: under load moto answers
    /// `DescribeEndpoint` only after the runtime's own queued `PutObject` calls, and every
    /// accept (and every worker) waiting for it each second would tie the accept rate to
    /// moto's write rate.
    pub(crate) async fn get(&self, name: &str) -> Result<Arc<EndpointInfo>, LookupError> {
        let slot = {
            let mut slots = self.slots.lock().map_err(|_| {
                LookupError::ControlPlane("the endpoint cache lock is poisoned".into())
            })?;
            // Every accept and every worker asks: no allocation for a name already known.
            match slots.get(name) {
                Some(slot) => slot.clone(),
                None => slots.entry(name.to_string()).or_default().clone(),
            }
        };
        let mut cached = slot.entry.lock().await;
        if let Some(entry) = cached.as_ref() {
            let age = entry.checked.elapsed();
            if age < FRESH_FOR {
                return Ok(entry.info.clone());
            }
            if age < STALE_FOR {
                if !slot.refreshing.swap(true, Ordering::AcqRel) {
                    self.refresh_in_background(name, &slot, entry.info.clone());
                }
                return Ok(entry.info.clone());
            }
        }
        let result = refresh(&self.client, name, cached.as_ref().map(|c| &c.info)).await;
        store(&mut cached, result)
    }

    /// Re-checks `name` without making anyone wait. A definite answer replaces the entry (an
    /// endpoint that is gone, or a refusal, empties it, so the next request asks the control
    /// plane itself and gets the error); a control plane that is only busy or unreachable leaves
    /// the entry to serve until it is [`STALE_FOR`] old, as a busy moto is the usual case.
    fn refresh_in_background(&self, name: &str, slot: &Arc<Slot>, previous: Arc<EndpointInfo>) {
        let (client, slot, name) = (self.client.clone(), slot.clone(), name.to_string());
        tokio::spawn(async move {
            let started = Instant::now();
            let result = refresh(&client, &name, Some(&previous)).await;
            let mut cached = slot.entry.lock().await;
            // A request that found the entry too old refreshed it meanwhile: its answer is newer.
            let superseded = cached.as_ref().is_some_and(|c| c.checked > started);
            match result {
                _ if superseded => {}
                Err(LookupError::Unavailable(detail)) => {
                    tracing::debug!(endpoint = %name, %detail, "endpoint re-check failed on the way; serving the cached entry");
                }
                result => {
                    let _ = store(&mut cached, result);
                }
            }
            slot.refreshing.store(false, Ordering::Release);
        });
    }
}

fn store(
    cached: &mut Option<Cached>,
    result: Result<Arc<EndpointInfo>, LookupError>,
) -> Result<Arc<EndpointInfo>, LookupError> {
    match result {
        Ok(info) => {
            *cached = Some(Cached {
                info: info.clone(),
                checked: Instant::now(),
            });
            Ok(info)
        }
        Err(err) => {
            *cached = None;
            Err(err)
        }
    }
}

/// Reads the endpoint from the control plane; the config and model only when it changed.
async fn refresh(
    client: &aws_sdk_sagemaker::Client,
    name: &str,
    previous: Option<&Arc<EndpointInfo>>,
) -> Result<Arc<EndpointInfo>, LookupError> {
    let endpoint = client
        .describe_endpoint()
        .endpoint_name(name)
        .send()
        .await
        .map_err(|e| lookup_error(e, || format!("endpoint {name}")))?;
    let config_name = endpoint
        .endpoint_config_name()
        .unwrap_or_default()
        .to_string();
    let status = endpoint
        .endpoint_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    let stamp = format!(
        "{config_name}|{:?}|{:?}",
        endpoint.creation_time(),
        endpoint.last_modified_time()
    );
    let current_count = endpoint
        .production_variants()
        .first()
        .and_then(|v| v.current_instance_count().or(v.desired_instance_count()));
    if let Some(previous) = previous {
        if previous.stamp == stamp {
            let mut info = EndpointInfo::clone(previous);
            info.status = status;
            if let Some(count) = current_count {
                info.instance_count = u32::try_from(count).unwrap_or(0);
            }
            return Ok(Arc::new(info));
        }
    }
    let config = client
        .describe_endpoint_config()
        .endpoint_config_name(&config_name)
        .send()
        .await
        .map_err(|e| {
            lookup_error(e, || {
                format!("endpoint config {config_name} of endpoint {name}")
            })
        })?;
    let variant = config.production_variants().first().ok_or_else(|| {
        LookupError::NotFound(format!(
            "endpoint config {config_name} has no production variant"
        ))
    })?;
    let model_name = variant.model_name().unwrap_or_default().to_string();
    let instance_count = current_count
        .or(variant.initial_instance_count())
        .and_then(|c| u32::try_from(c).ok())
        .unwrap_or(1);
    let async_config = match config.async_inference_config() {
        None => None,
        Some(a) => {
            let output = a.output_config();
            let output_path = output
                .and_then(|o| o.s3_output_path())
                .and_then(S3Uri::parse)
                .ok_or_else(|| {
                    LookupError::ControlPlane(format!(
                        "endpoint config {config_name} has no valid S3OutputPath"
                    ))
                })?;
            let failure_path = output
                .and_then(|o| o.s3_failure_path())
                .and_then(S3Uri::parse)
                .unwrap_or_else(|| output_path.clone());
            let notification = output.and_then(|o| o.notification_config());
            Some(AsyncConfig {
                output_path,
                failure_path,
                success_topic: notification
                    .and_then(|n| n.success_topic())
                    .map(str::to_string),
                error_topic: notification
                    .and_then(|n| n.error_topic())
                    .map(str::to_string),
                include_response_in: notification
                    .map(|n| {
                        n.include_inference_response_in()
                            .iter()
                            .map(|t| t.as_str().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
                max_concurrent_per_instance: a
                    .client_config()
                    .and_then(|c| c.max_concurrent_invocations_per_instance())
                    .and_then(|n| u32::try_from(n).ok())
                    .unwrap_or(DEFAULT_CONCURRENCY_PER_INSTANCE),
            })
        }
    };
    let model = client
        .describe_model()
        .model_name(&model_name)
        .send()
        .await
        .map_err(|e| lookup_error(e, || format!("model {model_name} of endpoint {name}")))?;
    let environment = model
        .primary_container()
        .or(model.containers().first())
        .and_then(|c| c.environment())
        .map(|env| env.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    Ok(Arc::new(EndpointInfo {
        name: name.to_string(),
        status,
        variant_name: variant.variant_name().unwrap_or("AllTraffic").to_string(),
        instance_count,
        async_config,
        model: ModelInfo {
            name: model_name,
            execution_role_arn: model.execution_role_arn().unwrap_or_default().to_string(),
            environment,
        },
        stamp,
    }))
}

/// moto answers an unknown name with HTTP 400 (`ValidationException`), as SageMaker does.
fn lookup_error<E>(err: SdkError<E, HttpResponse>, what: impl Fn() -> String) -> LookupError
where
    E: aws_sdk_sagemaker::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if err.raw_response().map(|r| r.status().as_u16()) == Some(400) {
        return LookupError::NotFound(what());
    }
    let transient = bodyline_aws::AwsFailure::of(&err).is_transient();
    let detail = aws_sdk_sagemaker::error::DisplayErrorContext(&err).to_string();
    let detail = format!("describing {} failed: {detail}", what());
    if transient {
        LookupError::Unavailable(detail)
    } else {
        LookupError::ControlPlane(detail)
    }
}
