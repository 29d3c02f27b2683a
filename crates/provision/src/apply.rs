//! Apply: run a plan's changes in dependency order, idempotently, and wait for the endpoint.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bodyline_stack::{content_hash, ResourceRecord, State};
use serde::Serialize;

use crate::claim::{self, Created, Existing};
use crate::desired::Desired;
use crate::plan::{Action, Change, Kind, Plan, Step};
use crate::resources::{bucket, iam, topics};
use crate::ProvisionError;
use bodyline_aws::{AwsFailure, CallCounts, Clients};

/// How apply waits and retries.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Between two `DescribeEndpoint` calls while waiting.
    pub poll_interval: Duration,
    /// Longest wait for the endpoint to reach `InService` (or to be gone): `--wait-timeout`.
    /// Past it, apply stops with [`ProvisionError::StillConverging`] and leaves the old
    /// config and model in place; the next run waits again and retires them.
    pub endpoint_timeout: Duration,
    /// Attempts of `CreateModel` while IAM has not yet propagated a new role
    /// ("Could not assume role").
    pub assume_role_attempts: u32,
    /// First backoff between those attempts; it doubles, up to 30 s.
    pub assume_role_backoff: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            poll_interval: Duration::from_secs(15),
            endpoint_timeout: Duration::from_secs(60 * 60),
            assume_role_attempts: 8,
            assume_role_backoff: Duration::from_secs(2),
        }
    }
}

/// What apply is doing, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A change starts.
    Applying {
        /// The resource kind.
        kind: Kind,
        /// Its name.
        resource: String,
        /// What happens to it.
        action: Action,
    },
    /// Waiting for the endpoint.
    Waiting {
        /// The endpoint.
        resource: String,
        /// Its current status.
        status: String,
        /// How long we have waited.
        elapsed: Duration,
    },
    /// A call is retried after a transient failure.
    Retrying {
        /// The resource.
        resource: String,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// Why.
        reason: String,
    },
    /// An old resource is deleted after its replacement took over.
    Retiring {
        /// The resource kind.
        kind: Kind,
        /// Its name.
        resource: String,
    },
}

/// What apply did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplyReport {
    /// The changes made, in order.
    pub applied: Vec<(Kind, String, Action)>,
    /// Planned creates that found the resource already there and the stack's (made by a
    /// concurrent run of the stack): not changes of this run.
    pub found_own: Vec<(Kind, String)>,
    /// Resources deleted after their replacements took over.
    pub retired: Vec<(Kind, String)>,
    /// The endpoint's final status.
    pub endpoint_status: String,
    /// Read and mutating calls made through the clients (observe included, if it used them).
    pub calls: CallCounts,
    /// The state to save.
    pub state: State,
}

/// Applies `plan`: each change in order, then waits for the endpoint to be `InService` and
/// deletes replaced configs and models. Running it on an up-to-date plan makes no call.
pub async fn apply(
    plan: &Plan,
    clients: &Clients,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ApplyReport, ProvisionError> {
    let d = &plan.desired;
    let phases = plan.phases();
    let mut applied: Vec<(Kind, String, Action)> = Vec::new();
    let mut found_own = Vec::new();
    for change in phases.before {
        // Retired resources are reported when they are deleted, after the endpoint is ready.
        if change.action != Action::NoOp && change.step != Step::Retire {
            progress(Progress::Applying {
                kind: change.kind,
                resource: change.resource.clone(),
                action: change.action,
            });
        }
        let created = match run_step(d, clients, options, change, progress).await {
            Ok(created) => created,
            Err(ProvisionError::TakenDuringSetup {
                kind,
                name,
                stack,
                why,
                ..
            }) => {
                return Err(ProvisionError::TakenDuringSetup {
                    kind,
                    name,
                    stack,
                    why,
                    created: applied
                        .iter()
                        .filter(|(_, _, action)| *action == Action::Create)
                        .map(|(kind, name, _)| format!("{kind} {name}"))
                        .collect(),
                })
            }
            Err(e) => return Err(e),
        };
        if created == Created::FoundOwn {
            found_own.push((change.kind, change.resource.clone()));
        } else if change.action != Action::NoOp {
            applied.push((change.kind, change.resource.clone(), change.action));
        }
    }
    let endpoint_status = if phases.wait {
        wait_in_service(clients, d, options, progress).await?
    } else {
        "InService".to_string()
    };
    for change in phases.after {
        progress(Progress::Applying {
            kind: change.kind,
            resource: change.resource.clone(),
            action: change.action,
        });
        if let Step::Scaling(step) = change.step {
            crate::resources::scaling::apply(step, d, clients).await?;
        }
        applied.push((change.kind, change.resource.clone(), change.action));
    }
    for (kind, name) in &phases.retire {
        progress(Progress::Retiring {
            kind: *kind,
            resource: name.clone(),
        });
        retire_one(clients, *kind, name).await?;
    }
    Ok(ApplyReport {
        applied,
        found_own,
        retired: phases.retire,
        endpoint_status,
        calls: clients.calls(),
        state: state_of(d),
    })
}

/// The state record of an applied desired stack.
pub fn state_of(d: &Desired) -> State {
    let mut state = State {
        stack: d.stack.clone(),
        target: d.target,
        account: d.context.account.clone(),
        region: d.region.clone(),
        config_hash: Some(content_hash(d)),
        ..State::default()
    };
    let mut put = |kind: &str, name: &str, arn: &str| {
        state.resources.insert(
            kind.to_string(),
            ResourceRecord {
                name: name.to_string(),
                arn: Some(arn.to_string()),
            },
        );
    };
    put("bucket", &d.bucket.name, &d.bucket.arn);
    if let Some(t) = &d.topics {
        put("success_topic", &t.success.name, &t.success.arn);
        put("error_topic", &t.error.name, &t.error.arn);
    }
    put("execution_role", &d.role.name, &d.role.arn);
    put("invoker_policy", &d.invoker.name, &d.invoker.arn);
    put("model", &d.model.name, &d.model.arn);
    put(
        "endpoint_config",
        &d.endpoint_config.name,
        &d.endpoint_config.arn,
    );
    put("endpoint", &d.endpoint.name, &d.endpoint.arn);
    state
}

fn sm_tags(tags: &[(String, String)]) -> Vec<aws_sdk_sagemaker::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_sagemaker::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

async fn run_step(
    d: &Desired,
    c: &Clients,
    options: &ApplyOptions,
    change: &Change,
    progress: &mut dyn FnMut(Progress),
) -> Result<Created, ProvisionError> {
    match &change.step {
        Step::Nothing => {}
        Step::Bucket(step) => return bucket::apply(step, d, c).await,
        Step::Topic(step) => return topics::apply(*step, change.kind, d, c).await,
        Step::Iam(step) => return iam::apply(step, change.kind, d, c).await,
        Step::CreateModel => return create_model(d, c, options, progress).await,
        Step::CreateEndpointConfig => return create_endpoint_config(d, c).await,
        Step::CreateEndpoint => return create_endpoint(d, c).await,
        Step::SwitchEndpoint { recreate, .. } => {
            let name = &d.endpoint.name;
            if *recreate {
                // moto has no UpdateEndpoint, and a Failed endpoint cannot be updated on AWS:
                // delete it, wait until it is gone, create it again.
                match c
                    .sagemaker
                    .delete_endpoint()
                    .endpoint_name(name)
                    .send()
                    .await
                {
                    Ok(_) => {}
                    Err(e) if AwsFailure::of(&e).is_sagemaker_not_found() => {}
                    Err(e) => return Err(ProvisionError::aws("DeleteEndpoint", name, e)),
                }
                wait_gone(c, name, options, progress).await?;
                create_endpoint(d, c).await?;
            } else {
                c.sagemaker
                    .update_endpoint()
                    .endpoint_name(name)
                    .endpoint_config_name(&d.endpoint_config.name)
                    .send()
                    .await
                    .map_err(|e| ProvisionError::aws("UpdateEndpoint", name, e))?;
            }
        }
        Step::FinishRecreate { .. } => {
            // Already Deleting: a second DeleteEndpoint is not needed (and AWS may refuse it).
            wait_gone(c, &d.endpoint.name, options, progress).await?;
            create_endpoint(d, c).await?;
        }
        // Phases of their own (`Plan::phases`): the wait, the scaling after it, the retirement.
        Step::WaitEndpoint | Step::Retire | Step::Scaling(_) => {}
    }
    Ok(Created::New)
}

async fn create_model(
    d: &Desired,
    c: &Clients,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Created, ProvisionError> {
    let m = &d.model;
    let existing = Existing::Model(&m.name);
    if let Some(found) = claim::before_create(d, c, Kind::Model, existing).await? {
        return Ok(found);
    }
    let container = aws_sdk_sagemaker::types::ContainerDefinition::builder()
        .image(&m.image)
        .set_model_data_url(m.model_data_url.clone())
        .set_environment(Some(
            m.environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<HashMap<_, _>>(),
        ))
        .build();
    let mut backoff = options.assume_role_backoff;
    let mut attempt = 1;
    loop {
        let result = c
            .sagemaker
            .create_model()
            .model_name(&m.name)
            .execution_role_arn(&m.execution_role_arn)
            .primary_container(container.clone())
            .set_tags(Some(sm_tags(&d.tags)))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(Created::New),
            Err(e) if AwsFailure::of(&e).is_already_exists() => {
                return claim::after_create(d, c, Kind::Model, existing, true).await
            }
            // A new role takes a few seconds to be assumable by SageMaker (IAM is eventually
            // consistent); SageMaker says so with a ValidationException.
            Err(e)
                if attempt < options.assume_role_attempts
                    && e.as_service_error()
                        .and_then(|s| {
                            aws_smithy_types::error::metadata::ProvideErrorMetadata::message(s)
                        })
                        .is_some_and(|msg| msg.contains("Could not assume role")) =>
            {
                progress(Progress::Retrying {
                    resource: m.name.clone(),
                    attempt,
                    reason: "the new execution role is not assumable yet (IAM propagation)".into(),
                });
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(30));
                attempt += 1;
            }
            Err(e) => return Err(ProvisionError::aws("CreateModel", &m.name, e)),
        }
    }
}

async fn create_endpoint_config(d: &Desired, c: &Clients) -> Result<Created, ProvisionError> {
    use aws_sdk_sagemaker::types::{
        AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceNotificationConfig,
        AsyncInferenceOutputConfig, ProductionVariant, ProductionVariantInstanceType,
    };
    let e = &d.endpoint_config;
    let existing = Existing::EndpointConfig(&e.name);
    if let Some(found) = claim::before_create(d, c, Kind::EndpointConfig, existing).await? {
        return Ok(found);
    }
    let notifications = (e.success_topic.is_some() || e.error_topic.is_some()).then(|| {
        AsyncInferenceNotificationConfig::builder()
            .set_success_topic(e.success_topic.clone())
            .set_error_topic(e.error_topic.clone())
            .build()
    });
    let async_config = AsyncInferenceConfig::builder()
        .output_config(
            AsyncInferenceOutputConfig::builder()
                .s3_output_path(&e.output_path)
                .s3_failure_path(&e.failure_path)
                .set_kms_key_id(e.kms_key_id.clone())
                .set_notification_config(notifications)
                .build(),
        )
        .client_config(
            AsyncInferenceClientConfig::builder()
                .max_concurrent_invocations_per_instance(
                    i32::try_from(e.max_concurrent_invocations_per_instance).unwrap_or(i32::MAX),
                )
                .build(),
        )
        .build();
    let variant = ProductionVariant::builder()
        .variant_name(&e.variant)
        .model_name(&e.model)
        .instance_type(ProductionVariantInstanceType::from(
            e.instance_type.as_str(),
        ))
        .initial_instance_count(i32::try_from(e.instance_count).unwrap_or(i32::MAX))
        .build();
    match c
        .sagemaker
        .create_endpoint_config()
        .endpoint_config_name(&e.name)
        .production_variants(variant)
        .async_inference_config(async_config)
        .set_tags(Some(sm_tags(&d.tags)))
        .send()
        .await
    {
        Ok(_) => Ok(Created::New),
        Err(err) if AwsFailure::of(&err).is_already_exists() => {
            claim::after_create(d, c, Kind::EndpointConfig, existing, true).await
        }
        Err(err) => Err(ProvisionError::aws("CreateEndpointConfig", &e.name, err)),
    }
}

async fn create_endpoint(d: &Desired, c: &Clients) -> Result<Created, ProvisionError> {
    let name = &d.endpoint.name;
    let existing = Existing::Endpoint(name);
    if let Some(found) = claim::before_create(d, c, Kind::Endpoint, existing).await? {
        return Ok(found);
    }
    match c
        .sagemaker
        .create_endpoint()
        .endpoint_name(name)
        .endpoint_config_name(&d.endpoint_config.name)
        .set_tags(Some(sm_tags(&d.tags)))
        .send()
        .await
    {
        Ok(_) => Ok(Created::New),
        Err(e) if AwsFailure::of(&e).is_already_exists() => {
            claim::after_create(d, c, Kind::Endpoint, existing, true).await
        }
        Err(e) => Err(ProvisionError::aws("CreateEndpoint", name, e)),
    }
}

/// What a wait on the endpoint waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until<'a> {
    /// `InService`, running this endpoint config.
    InService(&'a str),
    Gone,
}

/// Polls until the endpoint is `InService` with the desired config; `Failed` is an error
/// carrying `FailureReason`, and so is an update rolled back to another config.
pub(crate) async fn wait_in_service(
    c: &Clients,
    d: &Desired,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<String, ProvisionError> {
    let until = Until::InService(&d.endpoint_config.name);
    wait_endpoint(c, &d.endpoint.name, options, progress, until).await
}

async fn wait_gone(
    c: &Clients,
    name: &str,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), ProvisionError> {
    wait_endpoint(c, name, options, progress, Until::Gone)
        .await
        .map(|_| ())
}

/// Polls `DescribeEndpoint` every `poll_interval` until `until` holds, for at most
/// `endpoint_timeout`; the last sleep is cut short so the timeout is kept. Running out of time
/// is [`ProvisionError::StillConverging`]: the endpoint keeps converging without us, and the
/// next setup observes it and waits again.
async fn wait_endpoint(
    c: &Clients,
    name: &str,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
    until: Until<'_>,
) -> Result<String, ProvisionError> {
    let start = Instant::now();
    loop {
        let status = match c
            .sagemaker
            .describe_endpoint()
            .endpoint_name(name)
            .send()
            .await
        {
            Ok(out) => {
                let status = out
                    .endpoint_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                match (until, status.as_str()) {
                    // A failed UpdateEndpoint rolls back: InService, on the old config, which
                    // must then not be retired.
                    (Until::InService(wanted), "InService") => match out.endpoint_config_name() {
                        Some(running) if running != wanted => {
                            return Err(ProvisionError::UpdateRolledBack {
                                endpoint: name.to_string(),
                                running: running.to_string(),
                                wanted: wanted.to_string(),
                                reason: out
                                    .failure_reason()
                                    .unwrap_or("no FailureReason given")
                                    .to_string(),
                            })
                        }
                        _ => return Ok(status),
                    },
                    (Until::InService(_), "Failed") => {
                        return Err(ProvisionError::EndpointFailed {
                            endpoint: name.to_string(),
                            reason: out
                                .failure_reason()
                                .unwrap_or("no FailureReason given")
                                .to_string(),
                        })
                    }
                    _ => status,
                }
            }
            Err(e) if until == Until::Gone && AwsFailure::of(&e).is_sagemaker_not_found() => {
                return Ok("Gone".to_string())
            }
            Err(e) => return Err(ProvisionError::aws("DescribeEndpoint", name, e)),
        };
        let elapsed = start.elapsed();
        if elapsed >= options.endpoint_timeout {
            return Err(ProvisionError::StillConverging {
                endpoint: name.to_string(),
                status,
                waited_secs: elapsed.as_secs(),
            });
        }
        progress(Progress::Waiting {
            resource: name.to_string(),
            status,
            elapsed,
        });
        tokio::time::sleep(
            options
                .poll_interval
                .min(options.endpoint_timeout - elapsed),
        )
        .await;
    }
}

async fn retire_one(c: &Clients, kind: Kind, name: &str) -> Result<(), ProvisionError> {
    let result = match kind {
        Kind::EndpointConfig => c
            .sagemaker
            .delete_endpoint_config()
            .endpoint_config_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    AwsFailure::of(&e).is_sagemaker_not_found(),
                    ProvisionError::aws("DeleteEndpointConfig", name, e),
                )
            }),
        _ => c
            .sagemaker
            .delete_model()
            .model_name(name)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| {
                (
                    AwsFailure::of(&e).is_sagemaker_not_found(),
                    ProvisionError::aws("DeleteModel", name, e),
                )
            }),
    };
    match result {
        Ok(()) | Err((true, _)) => Ok(()),
        Err((false, e)) => Err(e),
    }
}
