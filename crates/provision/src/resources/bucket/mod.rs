//! The output bucket and its settings (public access block, encryption, ownership, lifecycle,
//! TLS-only policy), applied here and run as a `Resource`; derived in `desired.rs`, read in
//! `observe.rs`, planned in `plan.rs`; the delete, with its backup and emptying, is in
//! `delete.rs`, and discovery's listing of buckets, with its claim on the untagged bucket of
//! an interrupted setup, in `listing.rs`.

mod delete;
mod desired;
mod listing;
mod observe;
mod plan;

pub(crate) use delete::delete;
pub use delete::keys_under;
pub(crate) use desired::desired;
pub use observe::{bucket_is_empty, BucketObserved};
pub(crate) use observe::{bucket_tags, observe};
pub(crate) use plan::{plan, Step};

use bodyline_aws::{AwsFailure, Clients};
use bodyline_stack::State;

use crate::desired::{Desired, Encryption};
use crate::documents::json;
use crate::error::build_err;
use crate::owned::ownership::{check_owned, not_ours, record, taken, Created, Tags};
use crate::owned::planned::{Kind, Planned};
use crate::owned::registration::{registered, Owns};
use crate::owned::resource::ResourceKind;
use crate::resources::module::{ApplyContext, InFlight, Resource};
use crate::ProvisionError;
use bodyline_stack::ResourceRecord;

/// Applies a planned step to the bucket.
pub(crate) async fn apply(
    step: &Step,
    d: &Desired,
    c: &Clients,
) -> Result<Created, ProvisionError> {
    let bucket = &d.bucket.name;
    match step {
        Step::Create => {
            // The tags go with the create, so on AWS the bucket is never untagged; moto 5.2.1
            // ignores them, hence the PutBucketTagging below for a bucket still untagged.
            let mut config = aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .set_tags(Some(s3_tags(&d.tags, bucket)?.tag_set().to_vec()));
            if d.region != "us-east-1" {
                config = config.location_constraint(
                    aws_sdk_s3::types::BucketLocationConstraint::from(d.region.as_str()),
                );
            }
            let req =
                c.s3.create_bucket()
                    .bucket(bucket)
                    .create_bucket_configuration(config.build());
            let already_owned = match req.send().await {
                Ok(_) => false,
                // Made before this call (a concurrent run, a lost response, or someone
                // else in this account): its tags decide.
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_bucket_already_owned_by_you()) =>
                {
                    true
                }
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_bucket_already_exists()) =>
                {
                    return Err(ProvisionError::Foreign {
                        kind: "bucket (owned by another AWS account)",
                        name: bucket.clone(),
                        stack: d.stack.clone(),
                    })
                }
                Err(e) => return Err(ProvisionError::aws("CreateBucket", bucket, e)),
            };
            match bucket_after_create(d, c, already_owned).await? {
                BucketClaim::Tagged(created) => return Ok(created),
                BucketClaim::Untagged => {
                    c.s3.put_bucket_tagging()
                        .bucket(bucket)
                        .tagging(s3_tags(&d.tags, bucket)?)
                        .send()
                        .await
                        .map_err(|e| ProvisionError::aws("PutBucketTagging", bucket, e))?;
                }
            }
        }
        Step::Tag { existing } => {
            // PutBucketTagging replaces the whole set: keep the tags others put there.
            let mut tags: Vec<(String, String)> = existing
                .iter()
                .filter(|(k, _)| !d.tags.iter().any(|(dk, _)| dk == k))
                .cloned()
                .collect();
            tags.extend(d.tags.iter().cloned());
            c.s3.put_bucket_tagging()
                .bucket(bucket)
                .tagging(s3_tags(&tags, bucket)?)
                .send()
                .await
                .map_err(|e| ProvisionError::aws("PutBucketTagging", bucket, e))?;
        }
        Step::PublicAccessBlock => {
            c.s3.put_public_access_block()
                .bucket(bucket)
                .public_access_block_configuration(
                    aws_sdk_s3::types::PublicAccessBlockConfiguration::builder()
                        .block_public_acls(true)
                        .ignore_public_acls(true)
                        .block_public_policy(true)
                        .restrict_public_buckets(true)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| ProvisionError::aws("PutPublicAccessBlock", bucket, e))?;
        }
        Step::Encryption => {
            use aws_sdk_s3::types::{
                ServerSideEncryption, ServerSideEncryptionByDefault,
                ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
            };
            let (alg, key) = match &d.bucket.encryption {
                Encryption::S3 => (ServerSideEncryption::Aes256, None),
                Encryption::Kms(key) => (ServerSideEncryption::AwsKms, Some(key.clone())),
            };
            let default = ServerSideEncryptionByDefault::builder()
                .sse_algorithm(alg)
                .set_kms_master_key_id(key.clone())
                .build()
                .map_err(build_err("PutBucketEncryption", bucket))?;
            let config = ServerSideEncryptionConfiguration::builder()
                .rules(
                    ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(default)
                        // Bucket keys cut KMS requests (and cost) for SSE-KMS.
                        .bucket_key_enabled(key.is_some())
                        .build(),
                )
                .build()
                .map_err(build_err("PutBucketEncryption", bucket))?;
            c.s3.put_bucket_encryption()
                .bucket(bucket)
                .server_side_encryption_configuration(config)
                .send()
                .await
                .map_err(|e| ProvisionError::aws("PutBucketEncryption", bucket, e))?;
        }
        Step::Ownership => {
            use aws_sdk_s3::types::{ObjectOwnership, OwnershipControls, OwnershipControlsRule};
            let rule = OwnershipControlsRule::builder()
                .object_ownership(ObjectOwnership::BucketOwnerEnforced)
                .build()
                .map_err(build_err("PutBucketOwnershipControls", bucket))?;
            let controls = OwnershipControls::builder()
                .rules(rule)
                .build()
                .map_err(build_err("PutBucketOwnershipControls", bucket))?;
            c.s3.put_bucket_ownership_controls()
                .bucket(bucket)
                .ownership_controls(controls)
                .send()
                .await
                .map_err(|e| ProvisionError::aws("PutBucketOwnershipControls", bucket, e))?;
        }
        Step::Lifecycle => {
            use aws_sdk_s3::types::{
                AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, ExpirationStatus,
                LifecycleExpiration, LifecycleRule, LifecycleRuleFilter,
            };
            let rules = d
                .bucket
                .lifecycle
                .iter()
                .map(|r| {
                    LifecycleRule::builder()
                        .id(&r.id)
                        .filter(LifecycleRuleFilter::builder().prefix(&r.prefix).build())
                        .status(ExpirationStatus::Enabled)
                        .set_expiration(
                            r.expire_days
                                .map(|n| LifecycleExpiration::builder().days(n).build()),
                        )
                        .set_abort_incomplete_multipart_upload(r.abort_multipart_days.map(|n| {
                            AbortIncompleteMultipartUpload::builder()
                                .days_after_initiation(n)
                                .build()
                        }))
                        .build()
                })
                .collect::<Result<Vec<_>, _>>()
                .map_err(build_err("PutBucketLifecycleConfiguration", bucket))?;
            let config = BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .map_err(build_err("PutBucketLifecycleConfiguration", bucket))?;
            c.s3.put_bucket_lifecycle_configuration()
                .bucket(bucket)
                .lifecycle_configuration(config)
                .send()
                .await
                .map_err(|e| ProvisionError::aws("PutBucketLifecycleConfiguration", bucket, e))?;
        }
        Step::Policy => {
            if let Some(policy) = &d.bucket.policy {
                c.s3.put_bucket_policy()
                    .bucket(bucket)
                    .policy(json(policy))
                    .send()
                    .await
                    .map_err(|e| ProvisionError::aws("PutBucketPolicy", bucket, e))?;
            }
        }
    }
    Ok(Created::New)
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

/// The stack's tags as an S3 tag set.
fn s3_tags(
    tags: &[(String, String)],
    bucket: &str,
) -> Result<aws_sdk_s3::types::Tagging, ProvisionError> {
    bodyline_aws::tags::to_s3(tags).map_err(build_err("PutBucketTagging", bucket))
}

/// The output bucket and its settings, as setup's flows run them.
pub(crate) struct OutputBucket;

impl Resource for OutputBucket {
    type Observed = Option<BucketObserved>;
    type Step = Step;

    fn owns(&self) -> Owns {
        OWNS
    }

    fn state_records(&self, d: &Desired) -> Vec<(&'static str, ResourceRecord)> {
        vec![("bucket", record(&d.bucket.name, &d.bucket.arn))]
    }

    fn recorded_before(&self, step: &Step, d: &Desired) -> Option<(&'static str, ResourceRecord)> {
        // CreateBucket cannot be relied on to tag (moto ignores its tags): see `run.rs`.
        (*step == Step::Create).then(|| ("bucket", record(&d.bucket.name, &d.bucket.arn)))
    }

    fn observe<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        state: Option<&'a State>,
    ) -> InFlight<'a, Self::Observed> {
        Box::pin(observe(desired, clients, state))
    }

    fn check_ownership(&self, d: &Desired, o: &Self::Observed) -> Result<(), ProvisionError> {
        // An interrupted setup's bucket is adopted, not judged (`BucketObserved::adopt`).
        let Some(b) = o.as_ref().filter(|b| !b.adopt) else {
            return Ok(());
        };
        match &b.tags {
            Some(tags) => check_owned(d, Kind::Bucket, &b.name, tags),
            None => Err(ProvisionError::Foreign {
                kind: "bucket (owned by another AWS account)",
                name: b.name.clone(),
                stack: d.stack.clone(),
            }),
        }
    }

    fn plan(&self, d: &Desired, o: &Self::Observed) -> Vec<Planned<Step>> {
        plan(d, o.as_ref())
    }

    fn apply<'a>(
        &'a self,
        step: &'a Step,
        _kind: Kind,
        cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created> {
        Box::pin(apply(step, cx.desired, cx.clients))
    }

    #[cfg(test)]
    fn up_to_date(&self, d: &Desired) -> Self::Observed {
        Some(BucketObserved {
            name: d.bucket.name.clone(),
            tags: Some(d.tags.clone()),
            public_access_block: Some([true; 4]),
            encryption: Some(match &d.bucket.encryption {
                Encryption::S3 => ("AES256".into(), None),
                Encryption::Kms(k) => ("aws:kms".into(), Some(k.clone())),
            }),
            object_ownership: Some("BucketOwnerEnforced".into()),
            lifecycle: d.bucket.lifecycle.clone(),
            policy: d.bucket.policy.clone(),
            adopt: false,
        })
    }
}

// What this module owns: the plan's kinds it produces and the kinds teardown deletes, each
// declared here with its registration (`owned/registration.rs`), so a new kind is one place.

// Associated consts in CamelCase: they were enum variants, and every caller (other crates'
// tests too) keeps writing `Kind::Bucket`, `ResourceKind::Role`.
#[allow(non_upper_case_globals)]
impl Kind {
    /// The output bucket and its tags.
    pub const Bucket: Kind = Kind::new("bucket", "bucket");
    /// Its public access block.
    pub const PublicAccessBlock: Kind = Kind::new("public_access_block", "public access block");
    /// Its default encryption.
    pub const Encryption: Kind = Kind::new("encryption", "default encryption");
    /// Its ownership controls.
    pub const OwnershipControls: Kind = Kind::new("ownership_controls", "ownership controls");
    /// Its lifecycle rules.
    pub const Lifecycle: Kind = Kind::new("lifecycle", "lifecycle");
    /// Its TLS-only policy.
    pub const BucketPolicy: Kind = Kind::new("bucket_policy", "bucket policy");
}

#[allow(non_upper_case_globals)]
impl ResourceKind {
    /// The output bucket, with every object version and upload in it.
    pub const Bucket: ResourceKind = ResourceKind::new(70, "bucket", "bucket");
}

/// The plan's kinds this module has changes for, and the kinds it deletes in deletion order
/// (the plan's kinds that make each, where discovery lists it, and its delete).
pub(crate) const OWNS: Owns = Owns {
    plans: PLANS,
    // One bucket: every setting's change makes or configures it.
    teardown: &[registered(
        ResourceKind::Bucket,
        PLANS,
        &listing::LISTING,
        delete,
    )],
};

/// The bucket and each of its settings, planned one change each.
const PLANS: &[Kind] = &[
    Kind::Bucket,
    Kind::PublicAccessBlock,
    Kind::Encryption,
    Kind::OwnershipControls,
    Kind::Lifecycle,
    Kind::BucketPolicy,
];
