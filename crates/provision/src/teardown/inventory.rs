//! Every bodyline stack in an account and region, found by its `bodyline:stack` tag alone (no
//! stack file names, no state file), with each resource's creation time: what `sweep` judges.
//!
//! Each service is listed whole and the tags of every resource are read; a resource whose tags
//! cannot be read is not counted (not knowing is not owning). The creation time is the one AWS
//! reports (SageMaker, S3, IAM, Application Auto Scaling); SNS topics and CloudWatch alarms have
//! none, so theirs is the `bodyline:created` tag setup writes.

use std::collections::BTreeMap;
use std::time::SystemTime;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_s3::primitives::DateTime;
use bodyline_stack::{parse_created_tag, CREATED_TAG, REGION_TAG, STACK_TAG};
use serde::Serialize;

use super::discover::endpoint_of;
use super::listing::{self, Filter, Listed};
use super::registry::{Listing, LISTINGS};
use crate::owned::error::TeardownError;
use crate::owned::failure::aws_error;
use crate::owned::resource::ResourceKind;
use bodyline_aws::Clients;

/// One resource that carries a `bodyline:stack` tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaggedResource {
    /// What it is.
    pub kind: ResourceKind,
    /// Its name (a scaling target's resource id).
    pub name: String,
    /// When it was created: as AWS reports it, else from its `bodyline:created` tag.
    #[serde(skip)]
    pub created: Option<SystemTime>,
    /// Whether it lives in the region (IAM is global: a stack of another region has roles too).
    #[serde(skip)]
    pub regional: bool,
    /// The region its `bodyline:region` tag names (setup writes it since that tag exists).
    #[serde(skip)]
    pub region: Option<String>,
}

/// The tagged resources of every stack, by stack name.
pub(crate) type Inventory = BTreeMap<String, Vec<TaggedResource>>;

/// Lists every service and groups what carries `bodyline:stack` by its value.
pub(crate) async fn inventory(clients: &Clients, region: &str) -> Result<Inventory, TeardownError> {
    let every = |_: &str| true;
    let skip_unreadable = |_: &str| false;
    let filter = Filter {
        name_contains: None,
        wanted: &every,
        must_read_bucket: &skip_unreadable,
        region: Some(region),
    };
    let mut acc = Inventory::new();
    for service in LISTINGS {
        let listed = match service {
            Listing::Scaling => {
                scaling(clients, &mut acc).await?;
                continue;
            }
            Listing::SageMaker => listing::sagemaker(clients, &filter).await?,
            Listing::Alarms => listing::alarms(clients, &filter).await?,
            Listing::Buckets => listing::buckets(clients, &filter).await?,
            Listing::Topics => listing::topics(clients, &filter).await?,
            Listing::Iam => listing::iam(clients, &filter).await?,
        };
        for resource in &listed {
            add(&mut acc, resource);
        }
    }
    for resources in acc.values_mut() {
        resources.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    }
    Ok(acc)
}

fn instant(at: Option<&DateTime>) -> Option<SystemTime> {
    at.and_then(|at| SystemTime::try_from(*at).ok())
}

/// Adds a resource under its stack tag, if it has one.
fn add(acc: &mut Inventory, listed: &Listed) {
    let tag = |key: &str| {
        listed
            .tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let Some(stack) = tag(STACK_TAG) else {
        return;
    };
    acc.entry(stack.to_string())
        .or_default()
        .push(TaggedResource {
            kind: listed.kind,
            name: listed.name.clone(),
            created: listed
                .created
                .or_else(|| tag(CREATED_TAG).and_then(parse_created_tag)),
            regional: listed.regional,
            region: tag(REGION_TAG).map(str::to_string),
        });
}

/// Scalable targets and policies belong to the stack whose endpoint they scale (their own
/// tags are newer than the API and moto does not keep them).
async fn scaling(clients: &Clients, acc: &mut Inventory) -> Result<(), TeardownError> {
    let stack_of_endpoint: BTreeMap<String, String> = acc
        .iter()
        .flat_map(|(stack, resources)| {
            resources
                .iter()
                .filter(|r| r.kind == ResourceKind::Endpoint)
                .map(move |r| (r.name.clone(), stack.clone()))
        })
        .collect();
    let aas = &clients.scaling;
    let mut scaled: Vec<(ResourceKind, String, String, Option<SystemTime>)> = Vec::new();
    let mut targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send();
    while let Some(t) = targets.next().await {
        let t = t.map_err(|e| aws_error("DescribeScalableTargets", "sagemaker", e))?;
        let id = t.resource_id().to_string();
        let at = instant(Some(t.creation_time()));
        scaled.push((ResourceKind::ScalableTarget, id.clone(), id, at));
    }
    let mut policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send();
    while let Some(p) = policies.next().await {
        let p = p.map_err(|e| aws_error("DescribeScalingPolicies", "sagemaker", e))?;
        let at = instant(Some(p.creation_time()));
        let (name, id) = (p.policy_name().to_string(), p.resource_id().to_string());
        scaled.push((ResourceKind::ScalingPolicy, name, id, at));
    }
    for (kind, name, resource_id, at) in scaled {
        let stack = endpoint_of(&resource_id).and_then(|ep| stack_of_endpoint.get(ep));
        if let Some(stack) = stack {
            let listed = Listed {
                kind,
                arn: resource_id.clone(),
                name,
                created: at,
                regional: true,
                tags: vec![(STACK_TAG.to_string(), stack.clone())],
            };
            add(acc, &listed);
        }
    }
    Ok(())
}
