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
use aws_sdk_iam::types::PolicyScopeType;
use aws_sdk_s3::primitives::DateTime;
use bodyline_stack::{parse_created_tag, CREATED_TAG, REGION_TAG, STACK_TAG};
use serde::Serialize;

use super::discover::{endpoint_of, sagemaker_tags};
use super::failure::{aws_error, none_if_missing};
use super::resource::ResourceKind;
use super::TeardownError;
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
    let mut acc = Inventory::new();
    sagemaker(clients, &mut acc).await?;
    scaling(clients, &mut acc).await?;
    alarms(clients, &mut acc).await?;
    buckets(clients, region, &mut acc).await?;
    topics(clients, &mut acc).await?;
    iam(clients, &mut acc).await?;
    for resources in acc.values_mut() {
        resources.sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    }
    Ok(acc)
}

fn instant(at: Option<&DateTime>) -> Option<SystemTime> {
    at.and_then(|at| SystemTime::try_from(*at).ok())
}

/// Adds a resource under its stack tag, if it has one.
fn add(
    acc: &mut Inventory,
    kind: ResourceKind,
    name: &str,
    reported: Option<SystemTime>,
    regional: bool,
    tags: &[(String, String)],
) {
    let tag = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
    let Some(stack) = tag(STACK_TAG) else {
        return;
    };
    acc.entry(stack.to_string())
        .or_default()
        .push(TaggedResource {
            kind,
            name: name.to_string(),
            created: reported.or_else(|| tag(CREATED_TAG).and_then(parse_created_tag)),
            regional,
            region: tag(REGION_TAG).map(str::to_string),
        });
}

fn pairs<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    tags.into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

async fn sagemaker(clients: &Clients, acc: &mut Inventory) -> Result<(), TeardownError> {
    let sm = &clients.sagemaker;
    let mut listed: Vec<(ResourceKind, String, String, Option<SystemTime>)> = Vec::new();
    let mut endpoints = sm.list_endpoints().into_paginator().items().send();
    while let Some(e) = endpoints.next().await {
        let e = e.map_err(|e| aws_error("ListEndpoints", "the region", e))?;
        if let (Some(name), Some(arn)) = (e.endpoint_name(), e.endpoint_arn()) {
            let at = instant(e.creation_time());
            listed.push((ResourceKind::Endpoint, name.into(), arn.into(), at));
        }
    }
    let mut configs = sm.list_endpoint_configs().into_paginator().items().send();
    while let Some(c) = configs.next().await {
        let c = c.map_err(|e| aws_error("ListEndpointConfigs", "the region", e))?;
        if let (Some(name), Some(arn)) = (c.endpoint_config_name(), c.endpoint_config_arn()) {
            let at = instant(c.creation_time());
            listed.push((ResourceKind::EndpointConfig, name.into(), arn.into(), at));
        }
    }
    let mut models = sm.list_models().into_paginator().items().send();
    while let Some(m) = models.next().await {
        let m = m.map_err(|e| aws_error("ListModels", "the region", e))?;
        if let (Some(name), Some(arn)) = (m.model_name(), m.model_arn()) {
            let at = instant(m.creation_time());
            listed.push((ResourceKind::Model, name.into(), arn.into(), at));
        }
    }
    for (kind, name, arn, at) in listed {
        if let Some(tags) = sagemaker_tags(clients, &arn).await? {
            add(acc, kind, &name, at, true, &tags);
        }
    }
    Ok(())
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
            let tags = [(STACK_TAG.to_string(), stack.clone())];
            add(acc, kind, &name, at, true, &tags);
        }
    }
    Ok(())
}

async fn alarms(clients: &Clients, acc: &mut Inventory) -> Result<(), TeardownError> {
    let mut listed = Vec::new();
    let mut pages = clients.cloudwatch.describe_alarms().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("DescribeAlarms", "the region", e))?;
        for a in page.metric_alarms() {
            if let (Some(name), Some(arn)) = (a.alarm_name(), a.alarm_arn()) {
                listed.push((name.to_string(), arn.to_string()));
            }
        }
    }
    for (name, arn) in listed {
        let tags = crate::scaling::alarm_tags(&clients.cloudwatch, &arn)
            .await
            .map_err(|e| aws_error("ListTagsForResource", &arn, e))?;
        add(acc, ResourceKind::Alarm, &name, None, true, &tags);
    }
    Ok(())
}

async fn buckets(
    clients: &Clients,
    region: &str,
    acc: &mut Inventory,
) -> Result<(), TeardownError> {
    let mut listed = Vec::new();
    let mut pages = clients.s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ListBuckets", "the account", e))?;
        for b in page.buckets() {
            if let Some(name) = b.name() {
                // S3 lists every region's buckets; one that names no region is taken as here.
                let here = b.bucket_region().is_none_or(|r| r == region);
                listed.push((name.to_string(), instant(b.creation_date()), here));
            }
        }
    }
    for (name, at, here) in listed {
        // A bucket whose tags cannot be read (none, another region's, gone) is not counted.
        let Ok(out) = clients.s3.get_bucket_tagging().bucket(&name).send().await else {
            continue;
        };
        let tags = pairs(out.tag_set().iter().map(|t| (t.key(), t.value())));
        add(acc, ResourceKind::Bucket, &name, at, here, &tags);
    }
    Ok(())
}

async fn topics(clients: &Clients, acc: &mut Inventory) -> Result<(), TeardownError> {
    let mut arns = Vec::new();
    let mut items = clients.sns.list_topics().into_paginator().items().send();
    while let Some(t) = items.next().await {
        let t = t.map_err(|e| aws_error("ListTopics", "the region", e))?;
        arns.extend(t.topic_arn().map(str::to_string));
    }
    for arn in arns {
        let out = clients
            .sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await;
        let Some(out) = none_if_missing("ListTagsForResource", &arn, out)? else {
            continue;
        };
        let tags = pairs(out.tags().iter().map(|t| (t.key(), t.value())));
        let name = arn.rsplit(':').next().unwrap_or_default();
        add(acc, ResourceKind::Topic, name, None, true, &tags);
    }
    Ok(())
}

async fn iam(clients: &Clients, acc: &mut Inventory) -> Result<(), TeardownError> {
    let iam = &clients.iam;
    let mut roles = Vec::new();
    let mut items = iam.list_roles().into_paginator().items().send();
    while let Some(r) = items.next().await {
        let r = r.map_err(|e| aws_error("ListRoles", "the account", e))?;
        roles.push((r.role_name().to_string(), instant(Some(r.create_date()))));
    }
    for (name, at) in roles {
        let out = iam.list_role_tags().role_name(&name).send().await;
        let Some(out) = none_if_missing("ListRoleTags", &name, out)? else {
            continue;
        };
        let tags = pairs(out.tags().iter().map(|t| (t.key(), t.value())));
        add(acc, ResourceKind::Role, &name, at, false, &tags);
    }

    let mut policies = Vec::new();
    let mut items = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .into_paginator()
        .items()
        .send();
    while let Some(p) = items.next().await {
        let p = p.map_err(|e| aws_error("ListPolicies", "the account", e))?;
        if let (Some(name), Some(arn)) = (p.policy_name(), p.arn()) {
            policies.push((name.to_string(), arn.to_string(), instant(p.create_date())));
        }
    }
    for (name, arn, at) in policies {
        let out = iam.list_policy_tags().policy_arn(&arn).send().await;
        let Some(out) = none_if_missing("ListPolicyTags", &arn, out)? else {
            continue;
        };
        let tags = pairs(out.tags().iter().map(|t| (t.key(), t.value())));
        add(acc, ResourceKind::ManagedPolicy, &name, at, false, &tags);
    }

    let mut users = Vec::new();
    let mut items = iam.list_users().into_paginator().items().send();
    while let Some(u) = items.next().await {
        let u = u.map_err(|e| aws_error("ListUsers", "the account", e))?;
        users.push((u.user_name().to_string(), instant(Some(u.create_date()))));
    }
    for (name, at) in users {
        let out = iam.list_user_tags().user_name(&name).send().await;
        let Some(out) = none_if_missing("ListUserTags", &name, out)? else {
            continue;
        };
        let tags = pairs(out.tags().iter().map(|t| (t.key(), t.value())));
        add(acc, ResourceKind::User, &name, at, false, &tags);
    }
    Ok(())
}
