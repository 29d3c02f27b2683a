//! Finding what a stack owns: list each service, read the tags of every candidate, and keep
//! only what carries `bodyline:stack=<name>`.
//!
//! Candidates are chosen by name (every name provision derives starts with the stack name;
//! the bucket may have a configured name, and the state file adds what setup recorded), but
//! the verdict is always the tag. A candidate that has one of the stack's exact names and no
//! (or another stack's) tag is reported as skipped; other untagged look-alikes are ignored.

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime};

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use bodyline_stack::{ownership, Names, Ownership, State};

use super::listing::{self, Filter, Listed};
use super::registry::{Listing, LISTINGS};
use crate::owned::error::TeardownError;
use crate::owned::failure::aws_error;
use crate::owned::resource::{
    FoundBy, OwnedResource, ResourceKind, ScalingRef, SkipReason, Skipped,
};
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
    /// Owned by its tag, skipped when it has one of the stack's names but not its tag, else
    /// not the stack's business.
    fn judge(&mut self, scope: &Scope<'_>, listed: &Listed) {
        let (kind, name) = (listed.kind, listed.name.as_str());
        match ownership(scope.stack(), pairs(&listed.tags)) {
            Ownership::Owned => self.owned.push(OwnedResource {
                kind,
                name: name.to_string(),
                arn: Some(listed.arn.clone()),
                scaling: None,
                found_by: scope.found_by(name),
            }),
            other if scope.our_name(name) => self.skipped.push(Skipped {
                kind,
                name: name.to_string(),
                reason: match other {
                    Ownership::OtherStack(s) => SkipReason::OtherStack(s),
                    _ => SkipReason::Foreign,
                },
            }),
            _ => {}
        }
    }
}

/// Lists every service and returns the owned resources in teardown order.
pub(crate) async fn discover(clients: &Clients, scope: &Scope<'_>) -> Result<Found, TeardownError> {
    let wanted = |name: &str| scope.candidate(name);
    let must_read_bucket = |name: &str| scope.our_name(name);
    let filter = Filter {
        name_contains: Some(scope.stack()),
        wanted: &wanted,
        must_read_bucket: &must_read_bucket,
        region: None,
    };
    let mut found = Found::default();
    for service in LISTINGS {
        let listed = match service {
            Listing::Scaling => {
                scaling(clients, scope, &mut found).await?;
                continue;
            }
            Listing::Buckets => {
                for bucket in listing::buckets(clients, &filter).await? {
                    if interrupted_creation(clients, scope, &bucket).await? {
                        found.owned.push(OwnedResource {
                            kind: ResourceKind::Bucket,
                            name: bucket.name,
                            arn: Some(bucket.arn),
                            scaling: None,
                            found_by: FoundBy::InterruptedSetup,
                        });
                    } else {
                        found.judge(scope, &bucket);
                    }
                }
                continue;
            }
            Listing::SageMaker => listing::sagemaker(clients, &filter).await?,
            Listing::Alarms => listing::alarms(clients, &filter).await?,
            Listing::Topics => listing::topics(clients, &filter).await?,
            Listing::Iam => listing::iam(clients, &filter).await?,
        };
        for resource in &listed {
            found.judge(scope, resource);
        }
    }
    found
        .owned
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    found
        .skipped
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(found)
}

fn pairs(tags: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
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

/// How recent an untagged bucket with the stack's exact bucket name must be for teardown to
/// take it for an interrupted setup's when no state file records it (a CI runner keeps none).
pub(crate) const INTERRUPTED_SETUP_WINDOW: Duration = Duration::from_secs(24 * 60 * 60);

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
    bucket: &Listed,
) -> Result<bool, TeardownError> {
    let (name, tags) = (bucket.name.as_str(), &bucket.tags);
    if ownership(scope.stack(), pairs(tags)) != Ownership::Foreign {
        return Ok(false);
    }
    let recorded = scope.state.is_some_and(|s| s.is_creating("bucket", name));
    if !recorded {
        let recent = bucket.created.is_some_and(|created| {
            SystemTime::now()
                .duration_since(created)
                .is_ok_and(|age| age <= INTERRUPTED_SETUP_WINDOW)
        });
        if scope.state.is_some() || !tags.is_empty() || name != scope.names.bucket || !recent {
            return Ok(false);
        }
        match clients.s3.get_bucket_policy().bucket(name).send().await {
            Err(e) if AwsFailure::of(&e).has_code(&["NoSuchBucketPolicy"]) => {}
            Ok(_) => return Ok(false),
            Err(e) => return Err(aws_error("GetBucketPolicy", name, e)),
        }
    }
    crate::resources::bucket::bucket_is_empty(&clients.s3, name)
        .await
        .map_err(|e| aws_error("ListObjectVersions", name, e))
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
