//! The output bucket as the stack wants it: encryption, lifecycle rules (the input rule only
//! while the stack keeps S3 input), the TLS-only policy on the aws target, and its paths.

use bodyline_stack::{s3_url, Target};
use serde_json::json;

use crate::desired::{BucketDesired, Deriving, Encryption, InputDesired, LifecycleRuleSpec};
use crate::templates::{render_policy, BUCKET_TLS_TEMPLATE};
use crate::ProvisionError;

/// Derives the bucket; renders its policy (a broken template stops here, before any call).
pub(crate) fn desired(
    x: &Deriving<'_>,
    input: &InputDesired,
) -> Result<BucketDesired, ProvisionError> {
    let (stack, names, arns) = (x.stack, x.names, x.arns);
    let b = &stack.bucket;
    let bucket_arn = arns.bucket(&names.bucket);
    let encryption = match &stack.async_inference.kms_key_id {
        Some(key) => Encryption::Kms(key.clone()),
        None => Encryption::S3,
    };
    let expire = i32::try_from(b.expire_after_days).unwrap_or(i32::MAX);
    let mut lifecycle = vec![
        LifecycleRuleSpec {
            id: "bodyline-expire-outputs".into(),
            prefix: format!("{}/", b.output_prefix),
            expire_days: Some(expire),
            abort_multipart_days: None,
        },
        LifecycleRuleSpec {
            id: "bodyline-expire-failures".into(),
            prefix: format!("{}/", b.failure_prefix),
            expire_days: Some(expire),
            abort_multipart_days: None,
        },
        LifecycleRuleSpec {
            id: "bodyline-abort-incomplete-uploads".into(),
            prefix: String::new(),
            expire_days: None,
            abort_multipart_days: Some(1),
        },
    ];
    if input.keep {
        lifecycle.push(LifecycleRuleSpec {
            id: "bodyline-expire-inputs".into(),
            prefix: format!("{}/", b.input_prefix),
            expire_days: Some(1),
            abort_multipart_days: None,
        });
    }
    lifecycle.sort();
    let policy = match stack.target {
        Target::Aws => Some(render_policy(
            BUCKET_TLS_TEMPLATE,
            &json!({ "bucket_arn": bucket_arn }),
        )?),
        // moto applies a Deny with a Condition as an unconditional deny: the TLS-only
        // policy would block the runtime's own writes.
        Target::Local => None,
    };
    Ok(BucketDesired {
        name: names.bucket.clone(),
        arn: bucket_arn,
        encryption,
        lifecycle,
        policy,
        output_path: s3_url(&names.bucket, &b.output_prefix),
        failure_path: s3_url(&names.bucket, &b.failure_prefix),
    })
}
