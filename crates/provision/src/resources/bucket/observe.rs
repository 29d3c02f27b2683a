//! What observe reads of the output bucket: whether it exists and whose it is (HEAD, tags,
//! or only its name when another account has it), and its settings when it is the stack's or
//! an interrupted setup's to adopt.

use aws_sdk_s3::operation::list_object_versions::ListObjectVersionsError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use bodyline_aws::{AwsFailure, Clients};
use bodyline_stack::State;
use serde_json::Value;

use crate::desired::{Desired, LifecycleRuleSpec};
use crate::documents::decode_policy_document;
use crate::owned::ownership::{tag_refs, Tags};
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
