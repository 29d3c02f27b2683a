//! The output bucket and its settings (public access block, encryption, ownership, lifecycle,
//! TLS-only policy), observed, planned, applied and deleted here; the delete, with its backup
//! and emptying, is in `delete.rs`, and discovery's listing of buckets, with its claim on the
//! untagged bucket of an interrupted setup, in `listing.rs`.

mod delete;
mod desired;
mod listing;

pub(crate) use delete::delete;
pub use delete::keys_under;
pub(crate) use desired::desired;

use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use bodyline_aws::{AwsFailure, Clients};
use bodyline_stack::State;
use serde_json::Value;

use crate::desired::{Desired, Encryption, LifecycleRuleSpec};
use crate::documents::{decode_policy_document, json};
use crate::error::build_err;
use crate::lint::normalize_document;
use crate::owned::ownership::{
    check_owned, lacks_managed_tag, not_ours, tag_refs, taken, Created, Tags,
};
use crate::owned::planned::{Action, Kind, Planned, Planner};
use crate::owned::registration::{registered, Owns};
use crate::owned::resource::ResourceKind;
use crate::resources::module::{ApplyContext, InFlight, Resource};
use crate::ProvisionError;

/// The output bucket as it is. Settings are only read when the bucket is the stack's.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketObserved {
    /// Its name.
    pub name: String,
    /// Its tags; `None` when the name is taken in another account (HTTP 403).
    pub tags: Option<Tags>,
    /// The four public-access-block flags, when configured.
    pub public_access_block: Option<[bool; 4]>,
    /// Default encryption: algorithm and KMS key.
    pub encryption: Option<(String, Option<String>)>,
    /// `ObjectOwnership`, when ownership controls are set.
    pub object_ownership: Option<String>,
    /// Lifecycle rules, sorted.
    pub lifecycle: Vec<LifecycleRuleSpec>,
    /// The bucket policy (read on the aws target only).
    pub policy: Option<Value>,
    /// Untagged, empty, and the state file says this stack's setup was creating it: an
    /// interrupted setup made it between `CreateBucket` and `PutBucketTagging`, so the plan
    /// adopts it (tags it) instead of refusing it as foreign.
    pub adopt: bool,
}

/// Whether the bucket holds no object (no object version or delete marker either, so nothing
/// is ever adopted or removed that someone else's data lives in). Setup and teardown both ask
/// it of a bucket an interrupted setup left untagged.
pub async fn bucket_is_empty(
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> Result<bool, SdkError<ListObjectVersionsError, HttpResponse>> {
    let out = s3
        .list_object_versions()
        .bucket(name)
        .max_keys(1)
        .send()
        .await?;
    Ok(out.versions().is_empty() && out.delete_markers().is_empty())
}

/// The bucket's tags (none: an empty list).
pub(crate) async fn bucket_tags(
    s3: &aws_sdk_s3::Client,
    name: &str,
) -> Result<Vec<(String, String)>, ProvisionError> {
    match s3.get_bucket_tagging().bucket(name).send().await {
        Ok(out) => Ok(out
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect()),
        Err(e) if AwsFailure::of(&e).has_code(&["NoSuchTagSet"]) => Ok(Vec::new()),
        Err(e) => Err(ProvisionError::aws("GetBucketTagging", name, e)),
    }
}

/// Reads the bucket: `None` when it does not exist; only its name when another account has
/// it; its tags, and its settings only when it is the stack's (or to be adopted).
pub(crate) async fn observe(
    desired: &Desired,
    clients: &Clients,
    state: Option<&State>,
) -> Result<Option<BucketObserved>, ProvisionError> {
    let name = &desired.bucket.name;
    let s3 = &clients.s3;
    match s3.head_bucket().bucket(name).send().await {
        Ok(_) => {}
        Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => return Ok(None),
        Err(e) if AwsFailure::of(&e).status == Some(404) => return Ok(None),
        // The name is taken in another account: nothing of it can be read or changed.
        Err(e) if AwsFailure::of(&e).status == Some(403) => {
            return Ok(Some(BucketObserved {
                name: name.clone(),
                ..BucketObserved::default()
            }))
        }
        Err(e) => return Err(ProvisionError::aws("HeadBucket", name, e)),
    }
    let tags = bucket_tags(s3, name).await?;
    let mut bucket = BucketObserved {
        name: name.clone(),
        tags: Some(tags),
        ..BucketObserved::default()
    };
    let ownership = bodyline_stack::ownership(
        &desired.stack,
        tag_refs(bucket.tags.as_deref().unwrap_or(&[])),
    );
    if ownership == bodyline_stack::Ownership::Foreign
        && state.is_some_and(|s| s.is_creating("bucket", name))
    {
        bucket.adopt = bucket_is_empty(&clients.s3, name)
            .await
            .map_err(|e| ProvisionError::aws("ListObjectVersions", name, e))?;
    }
    if ownership != bodyline_stack::Ownership::Owned && !bucket.adopt {
        // Not ours: read nothing more, the plan refuses it.
        return Ok(Some(bucket));
    }
    bucket.public_access_block = match s3.get_public_access_block().bucket(name).send().await {
        Ok(out) => out.public_access_block_configuration().map(|c| {
            [
                c.block_public_acls().unwrap_or(false),
                c.ignore_public_acls().unwrap_or(false),
                c.block_public_policy().unwrap_or(false),
                c.restrict_public_buckets().unwrap_or(false),
            ]
        }),
        Err(e) if AwsFailure::of(&e).has_code(&["NoSuchPublicAccessBlockConfiguration"]) => None,
        Err(e) => return Err(ProvisionError::aws("GetPublicAccessBlock", name, e)),
    };
    bucket.encryption = match s3.get_bucket_encryption().bucket(name).send().await {
        Ok(out) => out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| {
                (
                    d.sse_algorithm().as_str().to_string(),
                    d.kms_master_key_id().map(str::to_string),
                )
            }),
        Err(e)
            if AwsFailure::of(&e).has_code(&["ServerSideEncryptionConfigurationNotFoundError"]) =>
        {
            None
        }
        Err(e) => return Err(ProvisionError::aws("GetBucketEncryption", name, e)),
    };
    bucket.object_ownership = match s3.get_bucket_ownership_controls().bucket(name).send().await {
        Ok(out) => out
            .ownership_controls()
            .and_then(|c| c.rules().first())
            .map(|r| r.object_ownership().as_str().to_string()),
        Err(e) if AwsFailure::of(&e).has_code(&["OwnershipControlsNotFoundError"]) => None,
        Err(e) => return Err(ProvisionError::aws("GetBucketOwnershipControls", name, e)),
    };
    bucket.lifecycle = match s3
        .get_bucket_lifecycle_configuration()
        .bucket(name)
        .send()
        .await
    {
        Ok(out) => {
            let mut rules: Vec<LifecycleRuleSpec> = out
                .rules()
                .iter()
                .filter(|r| r.status().as_str() == "Enabled")
                .map(|r| LifecycleRuleSpec {
                    id: r.id().unwrap_or_default().to_string(),
                    prefix: rule_prefix(r),
                    expire_days: r.expiration().and_then(|x| x.days()),
                    abort_multipart_days: r
                        .abort_incomplete_multipart_upload()
                        .and_then(|a| a.days_after_initiation()),
                })
                .collect();
            rules.sort();
            rules
        }
        Err(e) if AwsFailure::of(&e).has_code(&["NoSuchLifecycleConfiguration"]) => Vec::new(),
        Err(e) => {
            return Err(ProvisionError::aws(
                "GetBucketLifecycleConfiguration",
                name,
                e,
            ))
        }
    };
    if desired.bucket.policy.is_some() {
        bucket.policy = match s3.get_bucket_policy().bucket(name).send().await {
            Ok(out) => match out.policy() {
                Some(text) => Some(decode_policy_document(name, text)?),
                None => None,
            },
            Err(e) if AwsFailure::of(&e).has_code(&["NoSuchBucketPolicy"]) => None,
            Err(e) => return Err(ProvisionError::aws("GetBucketPolicy", name, e)),
        };
    }
    Ok(Some(bucket))
}

/// The prefix a lifecycle rule applies to: in its filter, or in the legacy top-level field
/// that older servers still answer with.
#[allow(deprecated)]
fn rule_prefix(rule: &aws_sdk_s3::types::LifecycleRule) -> String {
    rule.filter()
        .and_then(|f| f.prefix())
        .or(rule.prefix())
        .unwrap_or_default()
        .to_string()
}

/// What apply does to the bucket or one of its settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    /// Create it, tagged.
    Create,
    /// Tag it (adopting an interrupted setup's bucket, or adding the managed tag).
    Tag {
        /// Its tags now, kept.
        existing: Vec<(String, String)>,
    },
    /// Turn on all four public-access-block flags.
    PublicAccessBlock,
    /// Set default encryption.
    Encryption,
    /// Set `BucketOwnerEnforced`.
    Ownership,
    /// Set the lifecycle rules.
    Lifecycle,
    /// Put the TLS-only policy.
    Policy,
}

/// Plans the bucket and each of its settings, one change each, in apply order.
pub(crate) fn plan(desired: &Desired, existing: Option<&BucketObserved>) -> Vec<Planned<Step>> {
    let d = &desired.bucket;
    let name = d.name.clone();
    let mut planner = Planner::new(desired);
    let p = &mut planner;
    let fresh = existing.is_none();
    match existing {
        None => p.push(
            Kind::Bucket,
            &name,
            Action::Create,
            "new bucket, tagged",
            Step::Create,
        ),
        Some(b) if b.adopt => p.push(
            Kind::Bucket,
            &name,
            Action::Update,
            "adopt: an interrupted setup of this stack created it (state file) and had not \
             tagged it yet; it is empty; tag it",
            Step::Tag {
                existing: b.tags.clone().unwrap_or_default(),
            },
        ),
        Some(b) if lacks_managed_tag(b.tags.as_deref().unwrap_or(&[])) => p.push(
            Kind::Bucket,
            &name,
            Action::Update,
            "add the bodyline:managed tag",
            Step::Tag {
                existing: b.tags.clone().unwrap_or_default(),
            },
        ),
        Some(_) => p.push(Kind::Bucket, &name, Action::NoOp, "exists, tagged", None),
    }
    let b = existing.cloned().unwrap_or_default();
    let setting = |p: &mut Planner<'_, Step>, kind: Kind, ok: bool, want: &str, step: Step| {
        if ok {
            p.push(kind, &name, Action::NoOp, want, None);
        } else if fresh {
            p.push(kind, &name, Action::Create, want, step);
        } else {
            p.push(kind, &name, Action::Update, format!("set {want}"), step);
        }
    };
    setting(
        p,
        Kind::PublicAccessBlock,
        b.public_access_block == Some([true; 4]),
        "all four public-access-block flags on",
        Step::PublicAccessBlock,
    );
    let (enc_ok, enc_want) = match &d.encryption {
        Encryption::S3 => (
            b.encryption
                .as_ref()
                .is_some_and(|(alg, _)| alg == "AES256"),
            "SSE-S3 (AES256)".to_string(),
        ),
        Encryption::Kms(key) => (
            b.encryption
                .as_ref()
                .is_some_and(|(alg, k)| alg == "aws:kms" && k.as_deref() == Some(key)),
            format!("SSE-KMS with {key}"),
        ),
    };
    setting(p, Kind::Encryption, enc_ok, &enc_want, Step::Encryption);
    setting(
        p,
        Kind::OwnershipControls,
        b.object_ownership.as_deref() == Some("BucketOwnerEnforced"),
        "BucketOwnerEnforced (ACLs off)",
        Step::Ownership,
    );
    let expire = d
        .lifecycle
        .iter()
        .find_map(|r| r.expire_days)
        .unwrap_or_default();
    setting(
        p,
        Kind::Lifecycle,
        b.lifecycle == d.lifecycle,
        &format!(
            "expire outputs and failures after {expire} days, {}abort incomplete uploads after 1 day",
            if desired.input.keep {
                format!("uploaded inputs ({}/) after 1 day, ", desired.input.prefix)
            } else {
                String::new()
            }
        ),
        Step::Lifecycle,
    );
    match &d.policy {
        Some(policy) => setting(
            p,
            Kind::BucketPolicy,
            b.policy.as_ref().map(normalize_document) == Some(normalize_document(policy)),
            "TLS-only bucket policy (deny aws:SecureTransport=false)",
            Step::Policy,
        ),
        None => p.push(Kind::BucketPolicy,
            &name,
            Action::NoOp,
            "TLS-only policy skipped on the local target: moto applies a Deny with a Condition unconditionally, which would block every write",
            None,
        ),
    }
    planner.changes
}

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
    plans: &[
        Kind::Bucket,
        Kind::PublicAccessBlock,
        Kind::Encryption,
        Kind::OwnershipControls,
        Kind::Lifecycle,
        Kind::BucketPolicy,
    ],
    teardown: &[registered(
        ResourceKind::Bucket,
        &[
            Kind::Bucket,
            Kind::PublicAccessBlock,
            Kind::Encryption,
            Kind::OwnershipControls,
            Kind::Lifecycle,
            Kind::BucketPolicy,
        ],
        &listing::LISTING,
        delete,
    )],
};
