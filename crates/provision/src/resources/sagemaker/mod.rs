//! SageMaker: the model, the endpoint config and the async endpoint, planned and applied here
//! (with the retirement of what a new config replaces, and the create-time tag checks);
//! derived in `desired.rs`, read in `observe.rs`, waited for in `wait.rs`, run as a
//! `Resource` in `resource.rs`, deleted in `delete.rs`, listed for discovery in `listing.rs`.

mod delete;
mod desired;
mod listing;
mod observe;
mod resource;
mod wait;

pub(crate) use delete::{delete_endpoint, delete_endpoint_config, delete_model};
pub(crate) use desired::{desired_endpoint, desired_endpoint_config, desired_model};
#[cfg(test)]
pub(crate) use observe::ConfigObserved;
pub(crate) use observe::{
    describe_config, describe_model, leftovers, observe_endpoint, sagemaker_tags, EndpointObserved,
    Leftover,
};
pub(crate) use resource::SageMaker;
use wait::wait_gone;
pub(crate) use wait::wait_in_service;

use std::collections::HashMap;
use std::time::Duration;

use bodyline_aws::{AwsFailure, Clients};
use bodyline_stack::{ownership, Ownership, Target};

use crate::desired::Desired;
use crate::owned::applying::{ApplyOptions, Progress};
use crate::owned::ownership::{
    found_after_create, found_before_create, tag_refs, Created, Tagged, Tags,
};
use crate::owned::planned::{Action, Kind, Planned};
use crate::owned::registration::{registered, Owns};
use crate::owned::resource::ResourceKind;
use crate::ProvisionError;

/// What apply does to the model, the endpoint config or the endpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    CreateModel,
    CreateEndpointConfig,
    CreateEndpoint,
    /// Point the endpoint at the desired config (or delete and recreate it), then retire the old.
    SwitchEndpoint {
        recreate: bool,
        retire_config: Option<String>,
        retire_model: Option<String>,
    },
    WaitEndpoint,
    /// The endpoint is already `Deleting` (a setup that recreated it stopped waiting): wait
    /// until it is gone, create it again, then retire the old.
    FinishRecreate {
        retire_config: Option<String>,
        retire_model: Option<String>,
    },
    /// Delete after the endpoint is `InService`.
    Retire,
}

impl Step {
    /// Whether apply waits for the endpoint to be `InService` after this step.
    pub(crate) fn waits(&self) -> bool {
        matches!(
            self,
            Step::CreateEndpoint
                | Step::WaitEndpoint
                | Step::SwitchEndpoint { .. }
                | Step::FinishRecreate { .. }
        )
    }

    /// What this step retires once the endpoint is ready (`kind`, `resource`: its change's).
    pub(crate) fn retires(&self, kind: Kind, resource: &str) -> Vec<(Kind, String)> {
        match self {
            Step::SwitchEndpoint {
                retire_config,
                retire_model,
                ..
            }
            | Step::FinishRecreate {
                retire_config,
                retire_model,
            } => {
                let configs = retire_config.iter().map(|c| (Kind::EndpointConfig, c));
                let models = retire_model.iter().map(|m| (Kind::Model, m));
                configs.chain(models).map(|(k, n)| (k, n.clone())).collect()
            }
            Step::Retire => vec![(kind, resource.to_string())],
            _ => Vec::new(),
        }
    }
}

/// What observe reads of SageMaker.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SageMakerObserved {
    /// The model with the desired (hashed) name.
    pub model: Option<Tagged>,
    /// The endpoint config with the desired (hashed) name.
    pub endpoint_config: Option<Tagged>,
    /// The endpoint.
    pub endpoint: Option<EndpointObserved>,
    /// The stack's endpoint configs (found by name pattern and tag) that neither the endpoint
    /// nor the plan uses: left over from an interrupted run.
    pub leftover_configs: Vec<Tagged>,
    /// The stack's models (found the same way) that no config in use needs.
    pub leftover_models: Vec<Tagged>,
}

/// Collects SageMaker's planned changes.
type Planner<'a> = crate::owned::planned::Planner<'a, Step>;

/// Plans the model, the endpoint config, the endpoint and the retirement of what they replace.
pub(crate) fn plan(desired: &Desired, o: &SageMakerObserved) -> Vec<Planned<Step>> {
    let mut p = Planner::new(desired);
    plan_all(&mut p, o);
    p.changes
}

fn plan_all(p: &mut Planner<'_>, o: &SageMakerObserved) {
    let d = p.desired;
    let model = d.model.name.clone();
    let config = d.endpoint_config.name.clone();
    let endpoint = d.endpoint.name.clone();
    let current = o.endpoint.as_ref().and_then(|e| e.current_config.as_ref());
    // Replaced hashed resources are retired only when their tags say they are ours.
    let retire_config = current
        .filter(|c| d.names.is_hashed_name(&c.name))
        .filter(|c| ownership(&d.stack, tag_refs(&c.tags)) == Ownership::Owned)
        .map(|c| c.name.clone());
    let retire_model = current
        .and_then(|c| c.model.as_ref())
        .filter(|m| d.names.is_hashed_name(&m.name) && m.name != model)
        .filter(|m| ownership(&d.stack, tag_refs(&m.tags)) == Ownership::Owned)
        .map(|m| m.name.clone());

    match (&o.model, &retire_model) {
        (Some(_), _) => p.push(
            Kind::Model,
            &model,
            Action::NoOp,
            "exists (its name is its content hash)",
            None,
        ),
        (None, Some(old)) => p.push(
            Kind::Model,
            &model,
            Action::Replace,
            format!("content changed: new model, {old} deleted after the endpoint moves"),
            Step::CreateModel,
        ),
        (None, None) => p.push(
            Kind::Model,
            &model,
            Action::Create,
            format!("image {}", d.model.image),
            Step::CreateModel,
        ),
    }
    match (&o.endpoint_config, &retire_config) {
        (Some(_), _) => p.push(
            Kind::EndpointConfig,
            &config,
            Action::NoOp,
            "exists (its name is its content hash)",
            None,
        ),
        (None, Some(old)) => p.push(
            Kind::EndpointConfig,
            &config,
            Action::Replace,
            format!("content changed: new config, {old} deleted after the endpoint moves"),
            Step::CreateEndpointConfig,
        ),
        (None, None) => p.push(
            Kind::EndpointConfig,
            &config,
            Action::Create,
            format!("async output to {}", d.bucket.output_path),
            Step::CreateEndpointConfig,
        ),
    }
    let local = d.target == Target::Local;
    match &o.endpoint {
        None => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::Create,
            format!("runs {config}; setup waits for InService"),
            Step::CreateEndpoint,
        ),
        // An earlier setup deleted it to create it again and stopped waiting (--wait-timeout).
        Some(e) if e.status == "Deleting" => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::Replace,
            format!("is Deleting (an earlier setup replaces it): setup waits until it is gone and creates it with {config}"),
            Step::FinishRecreate {
                retire_config,
                retire_model,
            },
        ),
        Some(e) if e.status == "Failed" => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::Replace,
            format!(
                "is Failed ({}): deleted and created again with {config}",
                e.failure_reason.as_deref().unwrap_or("no reason given")
            ),
            Step::SwitchEndpoint {
                recreate: true,
                retire_config,
                retire_model,
            },
        ),
        // An earlier setup sent UpdateEndpoint and stopped waiting (--wait-timeout): AWS
        // refuses a second update while the endpoint is Updating, and the old config is still
        // serving. Wait, then retire what it replaced.
        Some(e)
            if e.config_name != config
                && e.pending_config.as_deref() == Some(config.as_str())
                && e.status != "Failed" =>
        {
            p.push(
                Kind::Endpoint,
                &endpoint,
                Action::NoOp,
                format!(
                    "is {} from {} to {config} (an earlier setup's UpdateEndpoint); setup waits for InService",
                    e.status, e.config_name
                ),
                Step::WaitEndpoint,
            );
            for (kind, old) in [
                (Kind::EndpointConfig, retire_config),
                (Kind::Model, retire_model),
            ] {
                if let Some(old) = old {
                    p.push(
                        kind,
                        &old,
                        Action::Delete,
                        format!("replaced by the update to {config}; deleted once the endpoint is InService"),
                        Step::Retire,
                    );
                }
            }
        }
        Some(e) if e.config_name != config => {
            let how = if local {
                "local target: moto has no UpdateEndpoint, so the endpoint is deleted and created again"
            } else {
                "UpdateEndpoint, then the old config is deleted"
            };
            p.push(
                Kind::Endpoint,
                &endpoint,
                Action::Update,
                format!("runs {}, should run {config}; {how}", e.config_name),
                Step::SwitchEndpoint {
                    recreate: local,
                    retire_config,
                    retire_model,
                },
            );
        }
        Some(e) if e.status != "InService" => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::NoOp,
            format!("is {}; setup waits for InService", e.status),
            Step::WaitEndpoint,
        ),
        Some(_) => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::NoOp,
            format!("InService with {config}"),
            None,
        ),
    }
    let leftover = |kind: Kind| {
        format!(
            "a {kind} of this stack (tagged bodyline:stack={}) that nothing uses, left by an interrupted run; deleted once the endpoint is InService",
            d.stack
        )
    };
    for c in &o.leftover_configs {
        p.push(
            Kind::EndpointConfig,
            &c.name,
            Action::Delete,
            leftover(Kind::EndpointConfig),
            Step::Retire,
        );
    }
    for m in &o.leftover_models {
        p.push(
            Kind::Model,
            &m.name,
            Action::Delete,
            leftover(Kind::Model),
            Step::Retire,
        );
    }
}

/// Applies a planned step to the model, the endpoint config or the endpoint. The wait and the
/// retirement are phases of their own (`Plan::phases`).
pub(crate) async fn apply(
    step: &Step,
    d: &Desired,
    c: &Clients,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<Created, ProvisionError> {
    match step {
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
        Step::WaitEndpoint | Step::Retire => {}
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
    if let Some(found) = before_create(d, c, Kind::Model, existing).await? {
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
                return after_create(d, c, Kind::Model, existing, true).await
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
    if let Some(found) = before_create(d, c, Kind::EndpointConfig, existing).await? {
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
            after_create(d, c, Kind::EndpointConfig, existing, true).await
        }
        Err(err) => Err(ProvisionError::aws("CreateEndpointConfig", &e.name, err)),
    }
}

async fn create_endpoint(d: &Desired, c: &Clients) -> Result<Created, ProvisionError> {
    let name = &d.endpoint.name;
    let existing = Existing::Endpoint(name);
    if let Some(found) = before_create(d, c, Kind::Endpoint, existing).await? {
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
            after_create(d, c, Kind::Endpoint, existing, true).await
        }
        Err(e) => Err(ProvisionError::aws("CreateEndpoint", name, e)),
    }
}

/// Deletes a replaced endpoint config or model, once the endpoint no longer uses it.
pub(crate) async fn retire_one(c: &Clients, kind: Kind, name: &str) -> Result<(), ProvisionError> {
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

/// A resource a create may find already there, by what its tags are read with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Existing<'a> {
    Model(&'a str),
    EndpointConfig(&'a str),
    Endpoint(&'a str),
}

impl Existing<'_> {
    fn name(&self) -> &str {
        match *self {
            Existing::Model(n) | Existing::EndpointConfig(n) | Existing::Endpoint(n) => n,
        }
    }
}

/// Before a create: `Some(FoundOwn)` when the resource is there and the stack's, an error when
/// it is there and not, `None` when it is not there.
pub(crate) async fn before_create(
    d: &Desired,
    c: &Clients,
    kind: Kind,
    what: Existing<'_>,
) -> Result<Option<Created>, ProvisionError> {
    let tags = tags_of(c, what).await?;
    found_before_create(d, kind, what.name(), tags)
}

/// After a create that answered "it exists" (`found_existing`) or succeeded on a service
/// whose create is idempotent: the resource must be the stack's.
pub(crate) async fn after_create(
    d: &Desired,
    c: &Clients,
    kind: Kind,
    what: Existing<'_>,
    found_existing: bool,
) -> Result<Created, ProvisionError> {
    let tags = tags_of(c, what).await?;
    found_after_create(d, kind, what.name(), tags, found_existing)
}

/// The tags of `what`, or `None` when it does not exist.
async fn tags_of(c: &Clients, what: Existing<'_>) -> Result<Option<Tags>, ProvisionError> {
    match what {
        Existing::Model(name) => Ok(describe_model(c, name).await?.map(|t| t.tags)),
        Existing::EndpointConfig(name) => Ok(describe_config(c, name).await?.map(|(t, _)| t.tags)),
        Existing::Endpoint(name) => {
            match c
                .sagemaker
                .describe_endpoint()
                .endpoint_name(name)
                .send()
                .await
            {
                Ok(out) => {
                    let arn = out.endpoint_arn().unwrap_or_default();
                    Ok(Some(sagemaker_tags(c, arn).await?))
                }
                Err(e) if AwsFailure::of(&e).is_sagemaker_not_found() => Ok(None),
                Err(e) => Err(ProvisionError::aws("DescribeEndpoint", name, e)),
            }
        }
    }
}

fn sm_tags(tags: &[(String, String)]) -> Vec<aws_sdk_sagemaker::types::Tag> {
    bodyline_aws::tags::to_sagemaker(tags)
}

// What this module owns: the plan's kinds it produces and the kinds teardown deletes, each
// declared here with its registration (`owned/registration.rs`), so a new kind is one place.

// Associated consts in CamelCase: they were enum variants, and every caller (other crates'
// tests too) keeps writing `Kind::Bucket`, `ResourceKind::Role`.
#[allow(non_upper_case_globals)]
impl Kind {
    /// The model.
    pub const Model: Kind = Kind::new("model", "model");
    /// The endpoint config.
    pub const EndpointConfig: Kind = Kind::new("endpoint_config", "endpoint config");
    /// The endpoint.
    pub const Endpoint: Kind = Kind::new("endpoint", "endpoint");
}

#[allow(non_upper_case_globals)]
impl ResourceKind {
    /// The SageMaker endpoint.
    pub const Endpoint: ResourceKind = ResourceKind::new(40, "endpoint", "endpoint");
    /// A SageMaker endpoint config (the current one and any old one).
    pub const EndpointConfig: ResourceKind =
        ResourceKind::new(50, "endpoint_config", "endpoint config");
    /// A SageMaker model.
    pub const Model: ResourceKind = ResourceKind::new(60, "model", "model");
}

/// The plan's kinds this module has changes for, and the kinds it deletes in deletion order
/// (the plan's kinds that make each, where discovery lists it, and its delete).
pub(crate) const OWNS: Owns = Owns {
    plans: &[Kind::Model, Kind::EndpointConfig, Kind::Endpoint],
    teardown: &[
        registered(
            ResourceKind::Endpoint,
            &[Kind::Endpoint],
            &listing::LISTING,
            delete_endpoint,
        ),
        registered(
            ResourceKind::EndpointConfig,
            &[Kind::EndpointConfig],
            &listing::LISTING,
            delete_endpoint_config,
        ),
        registered(
            ResourceKind::Model,
            &[Kind::Model],
            &listing::LISTING,
            delete_model,
        ),
    ],
};
