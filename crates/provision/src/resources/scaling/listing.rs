//! Where discovery finds scale to zero's resources: [`ALARMS`] (the wake-from-zero alarm, by
//! its own tags) and [`SCALING`] (scalable targets and their policies). A target's and a
//! policy's own tags are newer than the API (moto keeps none), so [`SCALING`] ties each to the
//! endpoint it scales, as the SageMaker listing before it returned that endpoint: it gives
//! them the endpoint's `bodyline:stack` tag, and discovery and inventory judge them by it like
//! any other resource. For one stack, a target whose endpoint is already gone (an interrupted
//! teardown) is judged by its own tags, and the policies are listed per target the stack owns.

use std::collections::BTreeMap;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use bodyline_aws::tags::TagPairs;
use bodyline_aws::Clients;
use bodyline_stack::{ownership, Ownership, STACK_TAG};

use crate::owned::error::TeardownError;
use crate::owned::failure::aws_error;
use crate::owned::listing::{instant, Filter, ListFuture, Listed, Listing};
use crate::owned::ownership::tag_refs;
use crate::owned::resource::{ResourceKind, ScalingRef};

/// Scalable targets and their policies, tied to the endpoint they scale: after SageMaker's.
pub(crate) const SCALING: Listing = Listing::new(20, "scaling", list_scaling);

/// CloudWatch alarms (name prefix: the stack).
pub(crate) const ALARMS: Listing = Listing::new(30, "alarms", list_alarms);

fn list_scaling<'a>(
    clients: &'a Clients,
    filter: &'a Filter<'a>,
    earlier: &'a [Listed],
) -> ListFuture<'a> {
    Box::pin(scaling(clients, filter, earlier))
}

fn list_alarms<'a>(
    clients: &'a Clients,
    filter: &'a Filter<'a>,
    _: &'a [Listed],
) -> ListFuture<'a> {
    Box::pin(alarms(clients, filter))
}

/// CloudWatch alarms (the wake-from-zero alarm).
async fn alarms(clients: &Clients, filter: &Filter<'_>) -> Result<Vec<Listed>, TeardownError> {
    let mut listed = Vec::new();
    let mut pages = clients
        .cloudwatch
        .describe_alarms()
        .set_alarm_name_prefix(filter.name_contains().map(str::to_string))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("DescribeAlarms", filter.scope(), e))?;
        for a in page.metric_alarms() {
            if let (Some(name), Some(arn)) = (a.alarm_name(), a.alarm_arn()) {
                listed.push((name.to_string(), arn.to_string()));
            }
        }
    }
    let mut out = Vec::new();
    for (name, arn) in listed {
        if !(filter.wanted)(&name) {
            continue;
        }
        let tags = super::alarm_tags(&clients.cloudwatch, &arn)
            .await
            .map_err(|e| aws_error("ListTagsForResource", &arn, e))?;
        out.push(Listed {
            kind: ResourceKind::Alarm,
            name,
            arn: Some(arn),
            created: None,
            regional: true,
            tags,
            scaling: None,
        });
    }
    Ok(out)
}

/// The `bodyline:stack` tag that ties a target or policy to `stack`.
fn tied_to(stack: &str) -> TagPairs {
    vec![(STACK_TAG.to_string(), stack.to_string())]
}

/// The value of the `bodyline:stack` tag, as [`ownership`] reads it.
fn stack_of(tags: &[(String, String)]) -> Option<&str> {
    tags.iter()
        .find(|(k, _)| k == STACK_TAG)
        .map(|(_, v)| v.as_str())
}

/// Scalable targets, then their policies. Each is tied to the stack of the endpoint it scales
/// ([`tied_to`]); one that no listed endpoint ties is left out, unless [`Filter::stack`] names
/// one stack, the endpoint could be the stack's by its name and is not a look-alike discovery
/// skips: then the target's own tags decide (a service, or moto, that cannot answer leaves it
/// out: not knowing is not owning). For one stack, policies are listed per target it owns;
/// for every stack, all at once.
async fn scaling(
    clients: &Clients,
    filter: &Filter<'_>,
    earlier: &[Listed],
) -> Result<Vec<Listed>, TeardownError> {
    let stack_of_endpoint: BTreeMap<&str, &str> = earlier
        .iter()
        .filter(|l| l.kind == ResourceKind::Endpoint)
        .filter_map(|l| Some((l.name.as_str(), stack_of(&l.tags)?)))
        .collect();
    let aas = &clients.scaling;
    let mut out = Vec::new();
    let mut targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send();
    while let Some(t) = targets.next().await {
        let t = t.map_err(|e| aws_error("DescribeScalableTargets", "sagemaker", e))?;
        let resource_id = t.resource_id();
        let Some(endpoint) = endpoint_of(resource_id) else {
            continue;
        };
        let tied = stack_of_endpoint.get(endpoint).copied();
        let tags = match filter.stack {
            None => tied.map(tied_to),
            Some(stack) if tied == Some(stack) => Some(tied_to(stack)),
            Some(stack)
                if (filter.wanted)(endpoint) && !skipped(filter, stack, earlier, endpoint) =>
            {
                match t.scalable_target_arn() {
                    Some(arn) => own_tags(clients, arn).await,
                    None => None,
                }
            }
            Some(_) => None,
        };
        if let Some(tags) = tags {
            out.push(Listed {
                kind: ResourceKind::ScalableTarget,
                name: resource_id.to_string(),
                arn: None,
                created: instant(Some(t.creation_time())),
                regional: true,
                tags,
                scaling: Some(ScalingRef {
                    resource_id: resource_id.to_string(),
                    dimension: t.scalable_dimension().as_str().to_string(),
                }),
            });
        }
    }
    let policies = match filter.stack {
        Some(stack) => {
            let owned: Vec<String> = out
                .iter()
                .filter(|t| ownership(stack, tag_refs(&t.tags)) == Ownership::Owned)
                .map(|t| t.name.clone())
                .collect();
            let mut policies = Vec::new();
            for resource_id in owned {
                policies
                    .extend(scaling_policies(clients, Some(&resource_id), &|_| Some(stack)).await?);
            }
            policies
        }
        None => {
            let tie = |resource_id: &str| {
                endpoint_of(resource_id).and_then(|ep| stack_of_endpoint.get(ep).copied())
            };
            scaling_policies(clients, None, &tie).await?
        }
    };
    out.extend(policies);
    Ok(out)
}

/// The scaling policies on SageMaker variants (on `resource_id` only, if given), each tied to
/// the stack `tie` names for its resource id; one it names none for is left out.
async fn scaling_policies<'s>(
    clients: &Clients,
    resource_id: Option<&str>,
    tie: &(dyn Fn(&str) -> Option<&'s str> + Sync),
) -> Result<Vec<Listed>, TeardownError> {
    let mut out = Vec::new();
    let mut policies = clients
        .scaling
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .set_resource_id(resource_id.map(str::to_string))
        .into_paginator()
        .items()
        .send();
    while let Some(p) = policies.next().await {
        let p = p.map_err(|e| {
            aws_error(
                "DescribeScalingPolicies",
                resource_id.unwrap_or("sagemaker"),
                e,
            )
        })?;
        let Some(stack) = tie(p.resource_id()) else {
            continue;
        };
        out.push(Listed {
            kind: ResourceKind::ScalingPolicy,
            name: p.policy_name().to_string(),
            arn: Some(p.policy_arn().to_string()),
            created: instant(Some(p.creation_time())),
            regional: true,
            tags: tied_to(stack),
            scaling: Some(ScalingRef {
                resource_id: p.resource_id().to_string(),
                dimension: p.scalable_dimension().as_str().to_string(),
            }),
        });
    }
    Ok(out)
}

/// Whether discovery skips the endpoint `endpoint` as a look-alike (listed before, one of the
/// stack's exact names, not the stack's): its targets are not the stack's either.
fn skipped(filter: &Filter<'_>, stack: &str, earlier: &[Listed], endpoint: &str) -> bool {
    earlier.iter().any(|l| {
        l.name == endpoint
            && ownership(stack, tag_refs(&l.tags)) != Ownership::Owned
            && (filter.exact_name)(&l.name)
    })
}

/// A scalable target's own tags; `None` when they cannot be read.
async fn own_tags(clients: &Clients, arn: &str) -> Option<TagPairs> {
    // Tags on scalable targets are newer than the API; a service (or moto) that cannot answer
    // leaves the target alone: not knowing is not owning.
    let out = clients
        .scaling
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .ok()?;
    let tags = out.tags().cloned().unwrap_or_default();
    Some(tags.into_iter().collect())
}

/// `endpoint/<ep>/variant/<v>` → `<ep>`.
pub(crate) fn endpoint_of(resource_id: &str) -> Option<&str> {
    let rest = resource_id.strip_prefix("endpoint/")?;
    let (endpoint, variant) = rest.split_once("/variant/")?;
    (!endpoint.is_empty() && !variant.is_empty()).then_some(endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_resource_ids_name_their_endpoint() {
        assert_eq!(
            endpoint_of("endpoint/demo/variant/AllTraffic"),
            Some("demo")
        );
        assert_eq!(endpoint_of("endpoint//variant/AllTraffic"), None);
        assert_eq!(endpoint_of("table/demo"), None);
    }
}
