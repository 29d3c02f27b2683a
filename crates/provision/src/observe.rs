//! Read-only calls that find what of a stack exists, by its derived names, and whose it is, by tag.

use aws_credential_types::provider::ProvideCredentials;
use bodyline_stack::{Stack, State, Target};

use crate::desired::{Context, Desired, Principal};
use crate::owned::ownership::tag_refs;
pub use crate::owned::ownership::Tagged;
pub use crate::resources::bucket::BucketObserved;
pub use crate::resources::iam::{PolicyObserved, RoleObserved};
use crate::resources::{bucket, iam, topics};
use crate::ProvisionError;
use bodyline_aws::{AwsFailure, Clients};

type Tags = Vec<(String, String)>;

/// What exists of a stack, as read from the account. Only reads produce it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// The output bucket.
    pub bucket: Option<BucketObserved>,
    /// The success topic.
    pub success_topic: Option<Tagged>,
    /// The error topic.
    pub error_topic: Option<Tagged>,
    /// The execution role.
    pub role: Option<RoleObserved>,
    /// The invoker policy.
    pub invoker: Option<PolicyObserved>,
    /// The model with the desired (hashed) name.
    pub model: Option<Tagged>,
    /// The endpoint config with the desired (hashed) name.
    pub endpoint_config: Option<Tagged>,
    /// The endpoint.
    pub endpoint: Option<EndpointObserved>,
    /// Configured invoker principals that do not exist.
    pub missing_principals: Vec<Principal>,
    /// The stack's endpoint configs (found by name pattern and tag) that neither the endpoint
    /// nor the plan uses: left over from an interrupted run.
    pub leftover_configs: Vec<Tagged>,
    /// The stack's models (found the same way) that no config in use needs.
    pub leftover_models: Vec<Tagged>,
    /// Scale to zero: target, policies and alarm, by the stack's names.
    pub scaling: crate::resources::scaling::ScalingObserved,
}

/// The endpoint as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EndpointObserved {
    /// Its ARN.
    pub arn: String,
    /// Its tags.
    pub tags: Tags,
    /// `EndpointStatus`.
    pub status: String,
    /// `FailureReason`, when failed.
    pub failure_reason: Option<String>,
    /// The config it runs.
    pub config_name: String,
    /// The config it is being moved to (`PendingDeploymentSummary`), while an
    /// `UpdateEndpoint` is in progress.
    pub pending_config: Option<String>,
    /// That config's tags and model, when it is not the desired config.
    pub current_config: Option<ConfigObserved>,
}

/// An endpoint config the endpoint runs, with the model of its variant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigObserved {
    /// Its name.
    pub name: String,
    /// Its tags.
    pub tags: Tags,
    /// The model of its first variant, with that model's tags.
    pub model: Option<Tagged>,
}

/// Resolves the caller: the account and ARN every name and policy derives from.
///
/// On the aws target, missing credentials are reported here, before any other call.
pub async fn identify(stack: &Stack, clients: &Clients) -> Result<Context, ProvisionError> {
    if stack.target == Target::Aws {
        let provider =
            clients
                .sdk()
                .credentials_provider()
                .ok_or_else(|| ProvisionError::NoCredentials {
                    message: "no credential provider is configured".into(),
                })?;
        provider
            .provide_credentials()
            .await
            .map_err(|e| ProvisionError::NoCredentials {
                message: bodyline_aws::error_chain(&e),
            })?;
    }
    let me = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| ProvisionError::aws("GetCallerIdentity", "the caller", e))?;
    Ok(Context {
        account: me.account().unwrap_or_default().to_string(),
        caller_arn: me.arn().unwrap_or_default().to_string(),
        created: bodyline_stack::created_tag_value(std::time::SystemTime::now()),
    })
}

/// Reads what exists of the stack. Makes only `Describe`/`Get`/`List`/`Head` calls.
///
/// `state` is the stack's state file, if any: it only matters for a bucket that an
/// interrupted setup created and could not tag yet ([`BucketObserved::adopt`]).
pub async fn observe(
    desired: &Desired,
    clients: &Clients,
    state: Option<&State>,
) -> Result<Observed, ProvisionError> {
    let mut observed = Observed {
        bucket: bucket::observe(desired, clients, state).await?,
        ..Observed::default()
    };
    if let Some(topics) = &desired.topics {
        observed.success_topic =
            topics::observe(clients, &topics.success.name, &topics.success.arn).await?;
        observed.error_topic =
            topics::observe(clients, &topics.error.name, &topics.error.arn).await?;
    }
    observed.role = iam::observe_role(desired, clients).await?;
    observed.invoker = iam::observe_invoker(desired, clients).await?;
    observed.missing_principals = iam::missing_principals(desired, clients).await?;
    observed.model = describe_model(clients, &desired.model.name).await?;
    observed.endpoint_config = describe_config(clients, &desired.endpoint_config.name)
        .await?
        .map(|(t, _)| t);
    observed.endpoint = observe_endpoint(desired, clients).await?;
    let in_use_config = observed.endpoint.as_ref().map(|e| e.config_name.clone());
    let in_use_model = observed
        .endpoint
        .as_ref()
        .and_then(|e| e.current_config.as_ref())
        .and_then(|c| c.model.as_ref())
        .map(|m| m.name.clone());
    let keep_configs = [Some(desired.endpoint_config.name.clone()), in_use_config];
    let keep_models = [Some(desired.model.name.clone()), in_use_model];
    observed.leftover_configs =
        leftovers(desired, clients, Leftover::Config, &keep_configs).await?;
    observed.leftover_models = leftovers(desired, clients, Leftover::Model, &keep_models).await?;
    observed.scaling = crate::resources::scaling::observe_scaling(desired, clients).await?;
    Ok(observed)
}

pub(crate) async fn sagemaker_tags(clients: &Clients, arn: &str) -> Result<Tags, ProvisionError> {
    // Only called on ARNs that Describe just found: moto answers ListTags on an unknown ARN
    // with HTTP 500.
    let out = clients
        .sagemaker
        .list_tags()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| ProvisionError::aws("ListTags", arn, e))?;
    let mut tags: Tags = Vec::new();
    for t in out.tags() {
        let pair = (
            t.key().unwrap_or_default().to_string(),
            t.value().unwrap_or_default().to_string(),
        );
        // moto's AddTags appends duplicate keys; one of each is enough to judge ownership.
        if !tags.iter().any(|(k, _)| *k == pair.0) {
            tags.push(pair);
        }
    }
    Ok(tags)
}

#[derive(Clone, Copy)]
enum Leftover {
    Config,
    Model,
}

/// The stack's hashed configs or models, other than `keep`, that its tag says it owns. Found
/// by listing (names containing the stack name) and judged by tag, so they are found again
/// after the state file is lost.
async fn leftovers(
    desired: &Desired,
    clients: &Clients,
    kind: Leftover,
    keep: &[Option<String>],
) -> Result<Vec<Tagged>, ProvisionError> {
    let stack = &desired.stack;
    let listed: Vec<(String, String)> = match kind {
        Leftover::Config => clients
            .sagemaker
            .list_endpoint_configs()
            .name_contains(stack)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| ProvisionError::aws("ListEndpointConfigs", stack, e))?
            .into_iter()
            .filter_map(|c| {
                Some((
                    c.endpoint_config_name()?.to_string(),
                    c.endpoint_config_arn()?.to_string(),
                ))
            })
            .collect(),
        Leftover::Model => clients
            .sagemaker
            .list_models()
            .name_contains(stack)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| ProvisionError::aws("ListModels", stack, e))?
            .into_iter()
            .filter_map(|m| Some((m.model_name()?.to_string(), m.model_arn()?.to_string())))
            .collect(),
    };
    let mut found = Vec::new();
    for (name, arn) in listed {
        if !desired.names.is_hashed_name(&name) || keep.iter().flatten().any(|k| *k == name) {
            continue;
        }
        let tags = sagemaker_tags(clients, &arn).await?;
        if bodyline_stack::ownership(stack, tag_refs(&tags)) == bodyline_stack::Ownership::Owned {
            found.push(Tagged { name, arn, tags });
        }
    }
    found.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(found)
}

pub(crate) async fn describe_model(
    clients: &Clients,
    name: &str,
) -> Result<Option<Tagged>, ProvisionError> {
    let out = match clients
        .sagemaker
        .describe_model()
        .model_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if AwsFailure::of(&e).is_sagemaker_not_found() => return Ok(None),
        Err(e) => return Err(ProvisionError::aws("DescribeModel", name, e)),
    };
    let arn = out.model_arn().unwrap_or_default().to_string();
    Ok(Some(Tagged {
        name: name.to_string(),
        tags: sagemaker_tags(clients, &arn).await?,
        arn,
    }))
}

/// The config by name, and the model of its first variant.
pub(crate) async fn describe_config(
    clients: &Clients,
    name: &str,
) -> Result<Option<(Tagged, Option<String>)>, ProvisionError> {
    let out = match clients
        .sagemaker
        .describe_endpoint_config()
        .endpoint_config_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if AwsFailure::of(&e).is_sagemaker_not_found() => return Ok(None),
        Err(e) => return Err(ProvisionError::aws("DescribeEndpointConfig", name, e)),
    };
    let arn = out.endpoint_config_arn().unwrap_or_default().to_string();
    let model = out
        .production_variants()
        .first()
        .and_then(|v| v.model_name())
        .map(str::to_string);
    Ok(Some((
        Tagged {
            name: name.to_string(),
            tags: sagemaker_tags(clients, &arn).await?,
            arn,
        },
        model,
    )))
}

pub(crate) async fn observe_endpoint(
    desired: &Desired,
    clients: &Clients,
) -> Result<Option<EndpointObserved>, ProvisionError> {
    let name = &desired.endpoint.name;
    let out = match clients
        .sagemaker
        .describe_endpoint()
        .endpoint_name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if AwsFailure::of(&e).is_sagemaker_not_found() => return Ok(None),
        Err(e) => return Err(ProvisionError::aws("DescribeEndpoint", name, e)),
    };
    let arn = out.endpoint_arn().unwrap_or_default().to_string();
    let mut endpoint = EndpointObserved {
        tags: sagemaker_tags(clients, &arn).await?,
        arn,
        status: out
            .endpoint_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        failure_reason: out.failure_reason().map(str::to_string),
        config_name: out.endpoint_config_name().unwrap_or_default().to_string(),
        pending_config: out
            .pending_deployment_summary()
            .and_then(|p| p.endpoint_config_name())
            .map(str::to_string),
        current_config: None,
    };
    let owned = bodyline_stack::ownership(&desired.stack, tag_refs(&endpoint.tags))
        == bodyline_stack::Ownership::Owned;
    if owned
        && endpoint.config_name != desired.endpoint_config.name
        && !endpoint.config_name.is_empty()
    {
        if let Some((config, model)) = describe_config(clients, &endpoint.config_name).await? {
            let model = match model {
                Some(m) if m != desired.model.name => describe_model(clients, &m).await?,
                _ => None,
            };
            endpoint.current_config = Some(ConfigObserved {
                name: config.name,
                tags: config.tags,
                model,
            });
        }
    }
    Ok(Some(endpoint))
}
