//! Ownership checked at the moment of creation, not only at observe.
//!
//! Between observe and a create, someone may make a resource with the same name. Every create
//! that finds its resource already there (S3 `BucketAlreadyOwnedByYou` or us-east-1's plain
//! 200, IAM `EntityAlreadyExists`, SageMaker's "already exists", SNS's idempotent
//! `CreateTopic`) re-reads its tags: the stack's → a no-op, not a change; anything else →
//! [`ProvisionError::TakenDuringSetup`] before any call touches it. Where a duplicate create
//! would itself change the resource (moto's SageMaker `Create*` overwrite; SNS answers with
//! the existing topic), the tags are also read just before the create. The verdicts are in
//! `owned/ownership.rs`; this module reads the tags for the kinds whose apply is still in
//! `apply.rs` (a kind gathered in `resources/`, like the topics, reads its own).

use crate::desired::Desired;
use crate::observe::{describe_config, describe_model, sagemaker_tags};
pub(crate) use crate::owned::ownership::Created;
use crate::owned::ownership::{found_after_create, found_before_create, Tags};
use crate::plan::Kind;
use crate::ProvisionError;
use bodyline_aws::{AwsFailure, Clients};

/// A resource a create may find already there, by what its tags are read with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Existing<'a> {
    Model(&'a str),
    EndpointConfig(&'a str),
    Endpoint(&'a str),
}

impl Existing<'_> {
    fn name(&self) -> &str {
        match *self {
            Existing::Model(n) | Existing::EndpointConfig(n) | Existing::Endpoint(n) => n,
        }
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
    let tags = tags_of(c, what).await?;
    found_before_create(d, kind, what.name(), tags)
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
    let tags = tags_of(c, what).await?;
    found_after_create(d, kind, what.name(), tags, found_existing)
}

/// The tags of `what`, or `None` when it does not exist.
async fn tags_of(c: &Clients, what: Existing<'_>) -> Result<Option<Tags>, ProvisionError> {
    match what {
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
