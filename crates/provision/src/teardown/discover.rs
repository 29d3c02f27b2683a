//! Finding what a stack owns: list each service, read the tags of every candidate, and keep
//! only what carries `bodyline:stack=<name>`.
//!
//! Candidates are chosen by name (every name provision derives starts with the stack name;
//! the bucket may have a configured name, and the state file adds what setup recorded), but
//! the verdict is always the tag. A candidate that has one of the stack's exact names and no
//! (or another stack's) tag is reported as skipped; other untagged look-alikes are ignored.

use std::collections::BTreeSet;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_iam::types::PolicyScopeType;
use bodyline_stack::{ownership, Names, Ownership, State};

use super::failure::{aws_error, none_if_missing};
use super::resource::{FoundBy, OwnedResource, ResourceKind, ScalingRef, SkipReason, Skipped};
use super::TeardownError;
use bodyline_aws::AwsFailure;
use bodyline_aws::Clients;

/// What discovery looks for: the stack's names and, when there is one, its state file.
pub(crate) struct Scope<'a> {
    pub names: &'a Names,
    pub state: Option<&'a State>,
}

/// Everything discovery saw.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub owned: Vec<OwnedResource>,
    pub skipped: Vec<Skipped>,
}

impl Scope<'_> {
    fn stack(&self) -> &str {
        &self.names.stack
    }

    fn recorded(&self, name: &str) -> bool {
        self.state
            .is_some_and(|s| s.resources.values().any(|r| r.name == name))
    }

    /// Worth reading the tags of: could be ours by its name.
    fn candidate(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        lower.starts_with(&self.stack().to_ascii_lowercase())
            || name == self.names.bucket
            || self.recorded(name)
    }

    /// Has exactly one of the stack's names, so an untagged one is worth reporting.
    fn our_name(&self, name: &str) -> bool {
        let n = self.names;
        [
            &n.endpoint,
            &n.bucket,
            &n.execution_role,
            &n.invoker_policy,
            &n.success_topic,
            &n.error_topic,
            &n.wake_alarm,
        ]
        .iter()
        .any(|ours| ours.as_str() == name)
            || n.is_hashed_name(name)
            || name.starts_with(&format!("{}-verify-", n.stack))
            || self.recorded(name)
    }

    fn found_by(&self, name: &str) -> FoundBy {
        if self.recorded(name) {
            FoundBy::State
        } else {
            FoundBy::Tag
        }
    }
}

impl Found {
    fn judge<'t>(
        &mut self,
        scope: &Scope<'_>,
        kind: ResourceKind,
        name: &str,
        arn: Option<&str>,
        tags: impl IntoIterator<Item = (&'t str, &'t str)>,
    ) -> bool {
        match ownership(scope.stack(), tags) {
            Ownership::Owned => {
                self.owned.push(OwnedResource {
                    kind,
                    name: name.to_string(),
                    arn: arn.map(str::to_string),
                    scaling: None,
                    found_by: scope.found_by(name),
                });
                true
            }
            other if scope.our_name(name) => {
                self.skipped.push(Skipped {
                    kind,
                    name: name.to_string(),
                    reason: match other {
                        Ownership::OtherStack(s) => SkipReason::OtherStack(s),
                        _ => SkipReason::Foreign,
                    },
                });
                false
            }
            _ => false,
        }
    }
}

/// Lists every service and returns the owned resources in teardown order.
pub(crate) async fn discover(clients: &Clients, scope: &Scope<'_>) -> Result<Found, TeardownError> {
    let mut found = Found::default();
    sagemaker(clients, scope, &mut found).await?;
    scaling(clients, scope, &mut found).await?;
    alarms(clients, scope, &mut found).await?;
    buckets(clients, scope, &mut found).await?;
    topics(clients, scope, &mut found).await?;
    iam(clients, scope, &mut found).await?;
    found
        .owned
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    found
        .skipped
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(found)
}

pub(crate) async fn sagemaker_tags(
    clients: &Clients,
    arn: &str,
) -> Result<Option<Vec<(String, String)>>, TeardownError> {
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
        tags.extend(
            page.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string()))),
        );
    }
    Ok(Some(tags))
}

fn pairs(tags: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

async fn sagemaker(
    clients: &Clients,
    scope: &Scope<'_>,
    acc: &mut Found,
) -> Result<(), TeardownError> {
    let sm = &clients.sagemaker;
    let stack = scope.stack();

    let mut listed: Vec<(ResourceKind, String, String)> = Vec::new();
    let mut endpoints = sm
        .list_endpoints()
        .name_contains(stack)
        .into_paginator()
        .items()
        .send();
    while let Some(e) = endpoints.next().await {
        let e = e.map_err(|e| aws_error("ListEndpoints", stack, e))?;
        if let (Some(name), Some(arn)) = (e.endpoint_name(), e.endpoint_arn()) {
            listed.push((ResourceKind::Endpoint, name.into(), arn.into()));
        }
    }
    let mut configs = sm
        .list_endpoint_configs()
        .name_contains(stack)
        .into_paginator()
        .items()
        .send();
    while let Some(c) = configs.next().await {
        let c = c.map_err(|e| aws_error("ListEndpointConfigs", stack, e))?;
        if let (Some(name), Some(arn)) = (c.endpoint_config_name(), c.endpoint_config_arn()) {
            listed.push((ResourceKind::EndpointConfig, name.into(), arn.into()));
        }
    }
    let mut models = sm
        .list_models()
        .name_contains(stack)
        .into_paginator()
        .items()
        .send();
    while let Some(m) = models.next().await {
        let m = m.map_err(|e| aws_error("ListModels", stack, e))?;
        if let (Some(name), Some(arn)) = (m.model_name(), m.model_arn()) {
            listed.push((ResourceKind::Model, name.into(), arn.into()));
        }
    }

    for (kind, name, arn) in listed {
        if !scope.candidate(&name) {
            continue;
        }
        if let Some(tags) = sagemaker_tags(clients, &arn).await? {
            acc.judge(scope, kind, &name, Some(&arn), pairs(&tags));
        }
    }
    Ok(())
}

async fn scaling(
    clients: &Clients,
    scope: &Scope<'_>,
    acc: &mut Found,
) -> Result<(), TeardownError> {
    let owned_endpoints: BTreeSet<String> = acc
        .owned
        .iter()
        .filter(|r| r.kind == ResourceKind::Endpoint)
        .map(|r| r.name.clone())
        .collect();
    let aas = &clients.scaling;
    let mut targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .into_paginator()
        .items()
        .send();
    let mut owned_targets = Vec::new();
    while let Some(t) = targets.next().await {
        let t = t.map_err(|e| aws_error("DescribeScalableTargets", "sagemaker", e))?;
        let resource_id = t.resource_id();
        let Some(endpoint) = endpoint_of(resource_id) else {
            continue;
        };
        // A target belongs to the stack when its endpoint does; when the endpoint is already
        // gone (an interrupted teardown), the target's own tags decide.
        let owned = if owned_endpoints.contains(endpoint) {
            true
        } else if scope.candidate(endpoint) && !acc.skipped.iter().any(|s| s.name == endpoint) {
            match t.scalable_target_arn() {
                Some(arn) => scaling_target_owned(clients, scope, arn).await,
                None => false,
            }
        } else {
            false
        };
        if owned {
            owned_targets.push(ScalingRef {
                resource_id: resource_id.to_string(),
                dimension: t.scalable_dimension().as_str().to_string(),
            });
        }
    }
    for target in owned_targets {
        let mut policies = aas
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::Sagemaker)
            .resource_id(&target.resource_id)
            .into_paginator()
            .items()
            .send();
        while let Some(p) = policies.next().await {
            let p = p.map_err(|e| aws_error("DescribeScalingPolicies", &target.resource_id, e))?;
            acc.owned.push(OwnedResource {
                kind: ResourceKind::ScalingPolicy,
                name: p.policy_name().to_string(),
                arn: Some(p.policy_arn().to_string()),
                scaling: Some(ScalingRef {
                    resource_id: p.resource_id().to_string(),
                    dimension: p.scalable_dimension().as_str().to_string(),
                }),
                found_by: FoundBy::Tag,
            });
        }
        acc.owned.push(OwnedResource {
            kind: ResourceKind::ScalableTarget,
            name: target.resource_id.clone(),
            arn: None,
            scaling: Some(target),
            found_by: FoundBy::Tag,
        });
    }
    Ok(())
}

/// `endpoint/<ep>/variant/<v>` → `<ep>`.
pub(crate) fn endpoint_of(resource_id: &str) -> Option<&str> {
    let rest = resource_id.strip_prefix("endpoint/")?;
    let (endpoint, variant) = rest.split_once("/variant/")?;
    (!endpoint.is_empty() && !variant.is_empty()).then_some(endpoint)
}

/// CloudWatch alarms whose names start with the stack's (the wake-from-zero alarm), judged by
/// their tags.
async fn alarms(
    clients: &Clients,
    scope: &Scope<'_>,
    acc: &mut Found,
) -> Result<(), TeardownError> {
    let mut found_alarms = Vec::new();
    let mut pages = clients
        .cloudwatch
        .describe_alarms()
        .alarm_name_prefix(scope.stack())
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("DescribeAlarms", scope.stack(), e))?;
        for a in page.metric_alarms() {
            if let (Some(name), Some(arn)) = (a.alarm_name(), a.alarm_arn()) {
                found_alarms.push((name.to_string(), arn.to_string()));
            }
        }
    }
    for (name, arn) in found_alarms {
        let tags = crate::scaling::alarm_tags(&clients.cloudwatch, &arn)
            .await
            .map_err(|e| aws_error("ListTagsForResource", &arn, e))?;
        acc.judge(scope, ResourceKind::Alarm, &name, Some(&arn), pairs(&tags));
    }
    Ok(())
}

async fn scaling_target_owned(clients: &Clients, scope: &Scope<'_>, arn: &str) -> bool {
    // Tags on scalable targets are newer than the API; a service (or moto) that cannot answer
    // leaves the target alone: not knowing is not owning.
    match clients
        .scaling
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
    {
        Ok(out) => {
            let tags = out.tags().cloned().unwrap_or_default();
            ownership(
                scope.stack(),
                tags.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            ) == Ownership::Owned
        }
        Err(_) => false,
    }
}

async fn buckets(
    clients: &Clients,
    scope: &Scope<'_>,
    acc: &mut Found,
) -> Result<(), TeardownError> {
    let mut names = Vec::new();
    let mut pages = clients.s3.list_buckets().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("ListBuckets", "the account", e))?;
        names.extend(
            page.buckets()
                .iter()
                .filter_map(|b| Some((b.name()?.to_string(), b.creation_date().copied()))),
        );
    }
    for (name, created) in names {
        if !scope.candidate(&name) {
            continue;
        }
        let tags = match clients.s3.get_bucket_tagging().bucket(&name).send().await {
            Ok(out) => out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(err) => {
                let failure = AwsFailure::of(&err);
                match failure.code.as_deref() {
                    Some("NoSuchTagSet") => Vec::new(),
                    Some("NoSuchBucket") => continue,
                    // Another region's or another owner's bucket that merely starts like
                    // ours: its tags cannot be read, and it is not ours to report.
                    _ if !scope.our_name(&name) => continue,
                    _ => return Err(TeardownError::aws("GetBucketTagging", &name, failure)),
                }
            }
        };
        let arn = format!("arn:aws:s3:::{name}");
        if interrupted_creation(clients, scope, &name, &tags, created).await? {
            acc.owned.push(OwnedResource {
                kind: ResourceKind::Bucket,
                name: name.clone(),
                arn: Some(arn),
                scaling: None,
                found_by: FoundBy::InterruptedSetup,
            });
            continue;
        }
        acc.judge(scope, ResourceKind::Bucket, &name, Some(&arn), pairs(&tags));
    }
    Ok(())
}

/// How recent an untagged bucket with the stack's exact bucket name must be for teardown to
/// take it for an interrupted setup's when no state file records it (a CI runner keeps none).
pub(crate) const INTERRUPTED_SETUP_WINDOW: std::time::Duration =
    std::time::Duration::from_secs(24 * 60 * 60);

/// A bucket an interrupted setup made (between `CreateBucket` and `PutBucketTagging`), so
/// teardown removes it: empty (no object version, delete marker or upload), and either
/// recorded in the state file as being created, or — with no state file, as on a fresh CI
/// runner — untagged, with exactly the stack's bucket name, no bucket policy, and created
/// within [`INTERRUPTED_SETUP_WINDOW`]. It is deleted with `DeleteBucket` alone, which S3
/// refuses for a bucket that holds anything, so no one's data can go with it; the worst a
/// look-alike can lose is an empty, policy-less name. Anything else is judged by its tag.
async fn interrupted_creation(
    clients: &Clients,
    scope: &Scope<'_>,
    name: &str,
    tags: &[(String, String)],
    created: Option<aws_smithy_types::DateTime>,
) -> Result<bool, TeardownError> {
    if ownership(scope.stack(), pairs(tags)) != Ownership::Foreign {
        return Ok(false);
    }
    let recorded = scope.state.is_some_and(|s| s.is_creating("bucket", name));
    if !recorded {
        let now = aws_smithy_types::DateTime::from(std::time::SystemTime::now());
        let recent = created.is_some_and(|c| {
            let age = now.secs() - c.secs();
            (0..=INTERRUPTED_SETUP_WINDOW.as_secs() as i64).contains(&age)
        });
        if scope.state.is_some() || !tags.is_empty() || name != scope.names.bucket || !recent {
            return Ok(false);
        }
        match clients.s3.get_bucket_policy().bucket(name).send().await {
            Err(e)
                if e.as_service_error()
                    .and_then(aws_smithy_types::error::metadata::ProvideErrorMetadata::code)
                    == Some("NoSuchBucketPolicy") => {}
            Ok(_) => return Ok(false),
            Err(e) => return Err(aws_error("GetBucketPolicy", name, e)),
        }
    }
    crate::observe::bucket_is_empty(&clients.s3, name)
        .await
        .map_err(|e| aws_error("ListObjectVersions", name, e))
}

async fn topics(
    clients: &Clients,
    scope: &Scope<'_>,
    acc: &mut Found,
) -> Result<(), TeardownError> {
    let mut arns = Vec::new();
    let mut items = clients.sns.list_topics().into_paginator().items().send();
    while let Some(t) = items.next().await {
        let t = t.map_err(|e| aws_error("ListTopics", "the account", e))?;
        if let Some(arn) = t.topic_arn() {
            arns.push(arn.to_string());
        }
    }
    for arn in arns {
        let name = arn.rsplit(':').next().unwrap_or_default().to_string();
        if !scope.candidate(&name) {
            continue;
        }
        let out = clients
            .sns
            .list_tags_for_resource()
            .resource_arn(&arn)
            .send()
            .await;
        let Some(out) = none_if_missing("ListTagsForResource", &arn, out)? else {
            continue;
        };
        let tags: Vec<(String, String)> = out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        acc.judge(scope, ResourceKind::Topic, &name, Some(&arn), pairs(&tags));
    }
    Ok(())
}

async fn iam(clients: &Clients, scope: &Scope<'_>, acc: &mut Found) -> Result<(), TeardownError> {
    let iam = &clients.iam;

    let mut roles = Vec::new();
    let mut items = iam.list_roles().into_paginator().items().send();
    while let Some(r) = items.next().await {
        let r = r.map_err(|e| aws_error("ListRoles", "the account", e))?;
        if scope.candidate(r.role_name()) {
            roles.push((r.role_name().to_string(), r.arn().to_string()));
        }
    }
    for (name, arn) in roles {
        let out = iam.list_role_tags().role_name(&name).send().await;
        let Some(out) = none_if_missing("ListRoleTags", &name, out)? else {
            continue;
        };
        let tags: Vec<(String, String)> = out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        acc.judge(scope, ResourceKind::Role, &name, Some(&arn), pairs(&tags));
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
            if scope.candidate(name) {
                policies.push((name.to_string(), arn.to_string()));
            }
        }
    }
    for (name, arn) in policies {
        let out = iam.list_policy_tags().policy_arn(&arn).send().await;
        let Some(out) = none_if_missing("ListPolicyTags", &arn, out)? else {
            continue;
        };
        let tags: Vec<(String, String)> = out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        acc.judge(
            scope,
            ResourceKind::ManagedPolicy,
            &name,
            Some(&arn),
            pairs(&tags),
        );
    }

    let mut users = Vec::new();
    let mut items = iam.list_users().into_paginator().items().send();
    while let Some(u) = items.next().await {
        let u = u.map_err(|e| aws_error("ListUsers", "the account", e))?;
        if scope.candidate(u.user_name()) {
            users.push((u.user_name().to_string(), u.arn().to_string()));
        }
    }
    for (name, arn) in users {
        let out = iam.list_user_tags().user_name(&name).send().await;
        let Some(out) = none_if_missing("ListUserTags", &name, out)? else {
            continue;
        };
        let tags: Vec<(String, String)> = out
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        acc.judge(scope, ResourceKind::User, &name, Some(&arn), pairs(&tags));
    }
    Ok(())
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
