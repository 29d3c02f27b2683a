//! Where discovery finds the model, the endpoint configs and the endpoint: [`LISTING`], the
//! stack's SageMaker resources by name (`NameContains` the stack) with their tags.

use std::time::SystemTime;

use bodyline_aws::tags::{from_sagemaker, TagPairs};
use bodyline_aws::Clients;

use crate::owned::error::TeardownError;
use crate::owned::failure::{aws_error, none_if_missing};
use crate::owned::listing::{instant, Filter, ListFuture, Listed, Listing};
use crate::owned::resource::ResourceKind;

/// Endpoints, endpoint configs and models. First in discovery order: a scalable target
/// belongs to the stack whose endpoint it scales.
pub(crate) const LISTING: Listing = Listing::new(10, "sagemaker", list);

fn list<'a>(clients: &'a Clients, filter: &'a Filter<'a>, _: &'a [Listed]) -> ListFuture<'a> {
    Box::pin(sagemaker(clients, filter))
}

/// Endpoints, endpoint configs and models, in that order.
async fn sagemaker(clients: &Clients, filter: &Filter<'_>) -> Result<Vec<Listed>, TeardownError> {
    let sm = &clients.sagemaker;
    let scope = filter.scope();
    let name_contains = filter.name_contains().map(str::to_string);
    let mut listed: Vec<(ResourceKind, String, String, Option<SystemTime>)> = Vec::new();
    let mut endpoints = sm
        .list_endpoints()
        .set_name_contains(name_contains.clone())
        .into_paginator()
        .items()
        .send();
    while let Some(e) = endpoints.next().await {
        let e = e.map_err(|e| aws_error("ListEndpoints", scope, e))?;
        if let (Some(name), Some(arn)) = (e.endpoint_name(), e.endpoint_arn()) {
            let at = instant(e.creation_time());
            listed.push((ResourceKind::Endpoint, name.into(), arn.into(), at));
        }
    }
    let mut configs = sm
        .list_endpoint_configs()
        .set_name_contains(name_contains.clone())
        .into_paginator()
        .items()
        .send();
    while let Some(c) = configs.next().await {
        let c = c.map_err(|e| aws_error("ListEndpointConfigs", scope, e))?;
        if let (Some(name), Some(arn)) = (c.endpoint_config_name(), c.endpoint_config_arn()) {
            let at = instant(c.creation_time());
            listed.push((ResourceKind::EndpointConfig, name.into(), arn.into(), at));
        }
    }
    let mut models = sm
        .list_models()
        .set_name_contains(name_contains)
        .into_paginator()
        .items()
        .send();
    while let Some(m) = models.next().await {
        let m = m.map_err(|e| aws_error("ListModels", scope, e))?;
        if let (Some(name), Some(arn)) = (m.model_name(), m.model_arn()) {
            let at = instant(m.creation_time());
            listed.push((ResourceKind::Model, name.into(), arn.into(), at));
        }
    }
    let mut out = Vec::new();
    for (kind, name, arn, created) in listed {
        if !(filter.wanted)(&name) {
            continue;
        }
        if let Some(tags) = tags_unless_gone(clients, &arn).await? {
            out.push(Listed {
                kind,
                name,
                arn: Some(arn),
                created,
                regional: true,
                tags,
                scaling: None,
            });
        }
    }
    Ok(out)
}

/// A SageMaker resource's tags; `None` when it is gone.
async fn tags_unless_gone(clients: &Clients, arn: &str) -> Result<Option<TagPairs>, TeardownError> {
    // Only ARNs that a List call just returned are asked about: moto answers ListTags on an
    // unknown ARN with HTTP 500. A resource deleted in between reads as "not found".
    let mut pages = clients
        .sagemaker
        .list_tags()
        .resource_arn(arn)
        .into_paginator()
        .send();
    let mut tags = Vec::new();
    while let Some(page) = pages.next().await {
        let Some(page) = none_if_missing("ListTags", arn, page)? else {
            return Ok(None);
        };
        tags.extend(from_sagemaker(page.tags()));
    }
    Ok(Some(tags))
}
