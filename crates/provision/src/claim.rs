//! Ownership checked at the moment of creation, not only at observe.
//!
//! Between observe and a create, someone may make a resource with the same name. Every create
//! that finds its resource already there (S3 `BucketAlreadyOwnedByYou` or us-east-1's plain
//! 200, IAM `EntityAlreadyExists`, SageMaker's "already exists", SNS's idempotent
//! `CreateTopic`) re-reads its tags here: the stack's → a no-op, not a change; anything else →
//! [`ProvisionError::TakenDuringSetup`] before any call touches it. Where a duplicate create
//! would itself change the resource (moto's SageMaker `Create*` overwrite; SNS answers with
//! the existing topic), the tags are also read just before the create.

use bodyline_stack::{ownership, Ownership};

use crate::desired::Desired;
use crate::observe::{
    bucket_is_empty, bucket_tags, describe_config, describe_model, observe_topic, sagemaker_tags,
    tag_refs,
};
use crate::plan::Kind;
use crate::ProvisionError;
use bodyline_aws::{AwsFailure, Clients};

type Tags = Vec<(String, String)>;

/// What a create step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Created {
    /// This run made the resource: a change.
    New,
    /// It was there already, tagged as the stack's (a concurrent or earlier run of this
    /// stack made it): not a change of this run.
    FoundOwn,
}

/// A resource a create may find already there, by what its tags are read with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Existing<'a> {
    Topic { name: &'a str, arn: &'a str },
    Role(&'a str),
    Policy(&'a str),
    Model(&'a str),
    EndpointConfig(&'a str),
    Endpoint(&'a str),
}

impl Existing<'_> {
    fn name(&self) -> &str {
        match *self {
            Existing::Topic { name, .. } => name,
            Existing::Role(n)
            | Existing::Policy(n)
            | Existing::Model(n)
            | Existing::EndpointConfig(n)
            | Existing::Endpoint(n) => n,
        }
    }
}

/// The error for a resource that is not the stack's; `created` is filled in by apply.
pub(crate) fn taken(d: &Desired, kind: Kind, name: &str, why: String) -> ProvisionError {
    ProvisionError::TakenDuringSetup {
        kind: kind.label(),
        name: name.to_string(),
        stack: d.stack.clone(),
        why,
        created: Vec::new(),
    }
}

/// Why `tags` do not make a resource the stack's; `None` when they do.
fn not_ours(stack: &str, tags: &[(String, String)]) -> Option<String> {
    match ownership(stack, tag_refs(tags)) {
        Ownership::Owned => None,
        Ownership::OtherStack(owner) => Some(format!("it belongs to the bodyline stack {owner:?}")),
        Ownership::Foreign if tags.is_empty() => Some("it has no tags".to_string()),
        Ownership::Foreign => Some(format!(
            "tagged {}",
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
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
    match tags_of(c, what).await? {
        None => Ok(None),
        Some(tags) => match not_ours(&d.stack, &tags) {
            None => Ok(Some(Created::FoundOwn)),
            Some(why) => Err(taken(d, kind, what.name(), why)),
        },
    }
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
    match tags_of(c, what).await? {
        Some(tags) => match not_ours(&d.stack, &tags) {
            None if found_existing => Ok(Created::FoundOwn),
            None => Ok(Created::New),
            Some(why) => Err(taken(d, kind, what.name(), why)),
        },
        None => Err(taken(
            d,
            kind,
            what.name(),
            "it was there when created and gone when its tags were read".to_string(),
        )),
    }
}

/// The tags of `what`, or `None` when it does not exist.
async fn tags_of(c: &Clients, what: Existing<'_>) -> Result<Option<Tags>, ProvisionError> {
    let iam_tags = |tags: &[aws_sdk_iam::types::Tag]| -> Tags {
        tags.iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()
    };
    match what {
        Existing::Topic { name, arn } => Ok(observe_topic(c, name, arn).await?.map(|t| t.tags)),
        Existing::Role(name) => match c.iam.get_role().role_name(name).send().await {
            Ok(out) => Ok(out.role.map(|r| iam_tags(r.tags()))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(ProvisionError::aws("GetRole", name, e)),
        },
        Existing::Policy(arn) => match c.iam.list_policy_tags().policy_arn(arn).send().await {
            Ok(out) => Ok(Some(iam_tags(out.tags()))),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_no_such_entity_exception()) =>
            {
                Ok(None)
            }
            Err(e) => Err(ProvisionError::aws("ListPolicyTags", arn, e)),
        },
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

/// The output bucket after `CreateBucket` answered 200 (`already_owned == false`; in
/// us-east-1 also the answer for a bucket that was there) or `BucketAlreadyOwnedByYou`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum BucketClaim {
    /// It carries the stack's tag already (tagged at creation, or by a concurrent run).
    Tagged(Created),
    /// Untagged, empty and without a policy, and this run's `CreateBucket` answered 200: the
    /// bucket this run made, to be tagged now.
    Untagged,
}

/// Reads the bucket's tags, and for an untagged one whether it holds anything: only an empty,
/// policy-less, untagged bucket that this run's own `CreateBucket` answered 200 for is tagged.
pub(crate) async fn bucket_after_create(
    d: &Desired,
    c: &Clients,
    already_owned: bool,
) -> Result<BucketClaim, ProvisionError> {
    let name = &d.bucket.name;
    let tags: Tags = bucket_tags(&c.s3, name).await?;
    let refuse = |why: &str| Err(taken(d, Kind::Bucket, name, why.to_string()));
    if !tags.is_empty() {
        return match not_ours(&d.stack, &tags) {
            None if already_owned => Ok(BucketClaim::Tagged(Created::FoundOwn)),
            None => Ok(BucketClaim::Tagged(Created::New)),
            Some(why) => refuse(&why),
        };
    }
    if already_owned {
        // Outside us-east-1 this answer means the bucket was there before this run's call.
        return refuse("it has no tags and CreateBucket answered BucketAlreadyOwnedByYou: another run made it after setup looked");
    }
    let empty = bucket_is_empty(&c.s3, name)
        .await
        .map_err(|e| ProvisionError::aws("ListObjectVersions", name, e))?;
    if !empty {
        return refuse("it has no tags and holds objects");
    }
    match c.s3.get_bucket_policy().bucket(name).send().await {
        Ok(_) => refuse("it has no tags and has a bucket policy"),
        Err(e) if AwsFailure::of(&e).has_code(&["NoSuchBucketPolicy"]) => Ok(BucketClaim::Untagged),
        Err(e) => Err(ProvisionError::aws("GetBucketPolicy", name, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_owner_or_the_tags() {
        let t = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(not_ours("s", &[t("bodyline:stack", "s")]), None);
        assert_eq!(
            not_ours("s", &[t("bodyline:stack", "o")]).as_deref(),
            Some("it belongs to the bodyline stack \"o\"")
        );
        assert_eq!(
            not_ours("s", &[t("owner", "someone-else"), t("team", "x")]).as_deref(),
            Some("tagged owner=someone-else, team=x")
        );
        assert_eq!(not_ours("s", &[]).as_deref(), Some("it has no tags"));
    }
}
