//! One tagged listing per service, shared by teardown's discovery (one stack, by its names)
//! and sweep's inventory (every stack): list the service, keep the names wanted, read their
//! tags. Who owns what is decided by the callers; this module only reads.
//!
//! Scalable targets and policies are not here: their tags are newer than the API (moto keeps
//! none), so both callers tie them to the endpoint they scale instead.

use std::time::SystemTime;

use aws_sdk_iam::types::PolicyScopeType;
use aws_sdk_s3::primitives::DateTime;
use bodyline_aws::tags::{from_iam, from_s3, from_sagemaker, from_sns, TagPairs};
use bodyline_aws::{AwsFailure, Clients};

use crate::owned::error::TeardownError;
use crate::owned::failure::{aws_error, none_if_missing};
use crate::owned::resource::ResourceKind;

/// One listed resource whose tags could be read.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub kind: ResourceKind,
    pub name: String,
    pub arn: String,
    /// When AWS says it was created (SNS topics and CloudWatch alarms have no such time).
    pub created: Option<SystemTime>,
    /// Whether it lives in the listed region (IAM is global; S3 lists every region's buckets).
    pub regional: bool,
    pub tags: TagPairs,
}

/// What a listing keeps.
pub(crate) struct Filter<'a> {
    /// Passed to the services that filter by name (SageMaker's `NameContains`, CloudWatch's
    /// alarm name prefix); `None` lists everything.
    pub name_contains: Option<&'a str>,
    /// Whether a listed name is worth reading the tags of.
    pub wanted: &'a (dyn Fn(&str) -> bool + Sync),
    /// Whether a bucket whose tags cannot be read (another region's or owner's, or denied)
    /// is an error rather than skipped: only one that has one of the stack's exact names.
    pub must_read_bucket: &'a (dyn Fn(&str) -> bool + Sync),
    /// The region buckets are judged against ([`Listed::regional`]); `None` takes every
    /// bucket as here.
    pub region: Option<&'a str>,
}

impl Filter<'_> {
    fn scope(&self) -> &str {
        self.name_contains.unwrap_or("the region")
    }
}

fn instant(at: Option<&DateTime>) -> Option<SystemTime> {
    at.and_then(|at| SystemTime::try_from(*at).ok())
}

/// Endpoints, endpoint configs and models, in that order.
pub(crate) async fn sagemaker(
    clients: &Clients,
    filter: &Filter<'_>,
) -> Result<Vec<Listed>, TeardownError> {
    let sm = &clients.sagemaker;
    let scope = filter.scope();
    let mut listed: Vec<(ResourceKind, String, String, Option<SystemTime>)> = Vec::new();
    let mut endpoints = sm
        .list_endpoints()
        .set_name_contains(filter.name_contains.map(str::to_string))
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
        .set_name_contains(filter.name_contains.map(str::to_string))
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
        .set_name_contains(filter.name_contains.map(str::to_string))
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
        if let Some(tags) = sagemaker_tags(clients, &arn).await? {
            out.push(Listed {
                kind,
                name,
                arn,
                created,
                regional: true,
                tags,
            });
        }
    }
    Ok(out)
}

/// A SageMaker resource's tags; `None` when it is gone.
async fn sagemaker_tags(clients: &Clients, arn: &str) -> Result<Option<TagPairs>, TeardownError> {
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

/// CloudWatch alarms (the wake-from-zero alarm).
pub(crate) async fn alarms(
    clients: &Clients,
    filter: &Filter<'_>,
) -> Result<Vec<Listed>, TeardownError> {
    let mut listed = Vec::new();
    let mut pages = clients
        .cloudwatch
        .describe_alarms()
        .set_alarm_name_prefix(filter.name_contains.map(str::to_string))
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
        let tags = crate::resources::scaling::alarm_tags(&clients.cloudwatch, &arn)
            .await
            .map_err(|e| aws_error("ListTagsForResource", &arn, e))?;
        out.push(Listed {
            kind: ResourceKind::Alarm,
            name,
            arn,
            created: None,
            regional: true,
            tags,
        });
    }
    Ok(out)
}

/// Buckets. One without tags reads as an empty tag set; one gone since the listing, or whose
/// tags cannot be read and that [`Filter::must_read_bucket`] lets go, is left out.
pub(crate) async fn buckets(
    clients: &Clients,
    filter: &Filter<'_>,
) -> Result<Vec<Listed>, TeardownError> {
    let mut listed = Vec::new();
    let mut pages = clients.s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ListBuckets", "the account", e))?;
        for b in page.buckets() {
            if let Some(name) = b.name() {
                // S3 lists every region's buckets; one that names no region is taken as here.
                let here = match (filter.region, b.bucket_region()) {
                    (Some(region), Some(its)) => its == region,
                    _ => true,
                };
                listed.push((name.to_string(), instant(b.creation_date()), here));
            }
        }
    }
    let mut out = Vec::new();
    for (name, created, regional) in listed {
        if !(filter.wanted)(&name) {
            continue;
        }
        let tags = match clients.s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(out) => from_s3(out.tag_set()),
            Err(err) => {
                let failure = AwsFailure::of(&err);
                match failure.code.as_deref() {
                    Some("NoSuchTagSet") => Vec::new(),
                    Some("NoSuchBucket") => continue,
                    _ if !(filter.must_read_bucket)(&name) => continue,
                    _ => return Err(TeardownError::aws("GetBucketTagging", &name, failure)),
                }
            }
        };
        out.push(Listed {
            kind: ResourceKind::Bucket,
            arn: format!("arn:aws:s3:::{name}"),
            name,
            created,
            regional,
            tags,
        });
    }
    Ok(out)
}

/// SNS topics, named by the last segment of their ARN.
pub(crate) async fn topics(
    clients: &Clients,
    filter: &Filter<'_>,
) -> Result<Vec<Listed>, TeardownError> {
    let mut arns = Vec::new();
    let mut items = clients.sns.list_topics().into_paginator().items().send();
    while let Some(t) = items.next().await {
        let t = t.map_err(|e| aws_error("ListTopics", "the region", e))?;
        arns.extend(t.topic_arn().map(str::to_string));
    }
    let mut out = Vec::new();
    for arn in arns {
        let name = arn.rsplit(':').next().unwrap_or_default().to_string();
        if !(filter.wanted)(&name) {
            continue;
        }
        let tagged = clients
            .sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await;
        let Some(tagged) = none_if_missing("ListTagsForResource", &arn, tagged)? else {
            continue;
        };
        out.push(Listed {
            kind: ResourceKind::Topic,
            name,
            tags: from_sns(tagged.tags()),
            arn,
            created: None,
            regional: true,
        });
    }
    Ok(out)
}

/// IAM roles, customer-managed policies and users, in that order (global: not regional).
pub(crate) async fn iam(
    clients: &Clients,
    filter: &Filter<'_>,
) -> Result<Vec<Listed>, TeardownError> {
    let iam = &clients.iam;
    let mut out = Vec::new();
    let global = |kind, name: String, arn: String, created, tags| Listed {
        kind,
        name,
        arn,
        created,
        regional: false,
        tags,
    };

    let mut roles = Vec::new();
    let mut items = iam.list_roles().into_paginator().items().send();
    while let Some(r) = items.next().await {
        let r = r.map_err(|e| aws_error("ListRoles", "the account", e))?;
        if (filter.wanted)(r.role_name()) {
            let at = instant(Some(r.create_date()));
            roles.push((r.role_name().to_string(), r.arn().to_string(), at));
        }
    }
    for (name, arn, at) in roles {
        let tagged = iam.list_role_tags().role_name(&name).send().await;
        if let Some(tagged) = none_if_missing("ListRoleTags", &name, tagged)? {
            let tags = from_iam(tagged.tags());
            out.push(global(ResourceKind::Role, name, arn, at, tags));
        }
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
            if (filter.wanted)(name) {
                let at = instant(p.create_date());
                policies.push((name.to_string(), arn.to_string(), at));
            }
        }
    }
    for (name, arn, at) in policies {
        let tagged = iam.list_policy_tags().policy_arn(&arn).send().await;
        if let Some(tagged) = none_if_missing("ListPolicyTags", &arn, tagged)? {
            let tags = from_iam(tagged.tags());
            out.push(global(ResourceKind::ManagedPolicy, name, arn, at, tags));
        }
    }

    let mut users = Vec::new();
    let mut items = iam.list_users().into_paginator().items().send();
    while let Some(u) = items.next().await {
        let u = u.map_err(|e| aws_error("ListUsers", "the account", e))?;
        if (filter.wanted)(u.user_name()) {
            let at = instant(Some(u.create_date()));
            users.push((u.user_name().to_string(), u.arn().to_string(), at));
        }
    }
    for (name, arn, at) in users {
        let tagged = iam.list_user_tags().user_name(&name).send().await;
        if let Some(tagged) = none_if_missing("ListUserTags", &name, tagged)? {
            let tags = from_iam(tagged.tags());
            out.push(global(ResourceKind::User, name, arn, at, tags));
        }
    }
    Ok(out)
}
