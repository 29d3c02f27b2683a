//! What observe reads of SageMaker: the model and endpoint config by their hashed names, the
//! endpoint with the config it runs (and that config's model, judged by tag), and the stack's
//! leftovers from an interrupted run.

use bodyline_aws::{AwsFailure, Clients};

use crate::desired::Desired;
use crate::owned::ownership::{tag_refs, Tagged, Tags};
use crate::ProvisionError;

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
pub(crate) enum Leftover {
    Config,
    Model,
}

/// The stack's hashed configs or models, other than `keep`, that its tag says it owns. Found
/// by listing (names containing the stack name) and judged by tag, so they are found again
/// after the state file is lost.
pub(crate) async fn leftovers(
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
    let arn = out.model_arn().unwrap_or_default();
    Ok(Some(tagged(clients, name, arn).await?))
}

/// A resource Describe just found, with its tags.
async fn tagged(clients: &Clients, name: &str, arn: &str) -> Result<Tagged, ProvisionError> {
    Ok(Tagged {
        name: name.to_string(),
        tags: sagemaker_tags(clients, arn).await?,
        arn: arn.to_string(),
    })
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
    let arn = out.endpoint_config_arn().unwrap_or_default();
    let model = out
        .production_variants()
        .first()
        .and_then(|v| v.model_name())
        .map(str::to_string);
    Ok(Some((tagged(clients, name, arn).await?, model)))
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
