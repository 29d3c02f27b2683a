//! The execution role and the invoker policy as the stack wants them: both documents rendered
//! from `templates/iam` with exactly the ARNs the stack uses, and linted.

use bodyline_stack::{Arns, Target};
use serde_json::json;

use crate::desired::{
    BucketDesired, Deriving, InputDesired, InvokerDesired, Principal, RoleDesired, TopicsDesired,
};
use crate::documents::lint_policy;
use crate::templates::{
    render_policy, EXECUTION_ROLE_TEMPLATE, EXECUTION_TRUST_TEMPLATE, INVOKER_TEMPLATE,
};
use crate::ProvisionError;

/// The CloudWatch namespace SageMaker endpoints publish metrics in; the execution role may put
/// metrics only there.
pub const METRICS_NAMESPACE: &str = "/aws/sagemaker/Endpoints";

/// Derives the execution role: its trust policy and its inline policy (linted).
pub(crate) fn desired_role(
    x: &Deriving<'_>,
    topics: Option<&TopicsDesired>,
    input: &InputDesired,
) -> Result<RoleDesired, ProvisionError> {
    let (stack, names, arns) = (x.stack, x.names, x.arns);
    let kms_key_arn = stack
        .async_inference
        .kms_key_id
        .as_deref()
        .map(|k| kms_key_arn(arns, k));
    let policy = render_policy(
        EXECUTION_ROLE_TEMPLATE,
        &json!({
            "output_objects": x.output_objects(),
            "log_group": arns.endpoint_log_group(&names.endpoint),
            "metrics_namespace": METRICS_NAMESPACE,
            "ecr_repository": ecr_repository_arn(arns, &stack.model.image),
            "model_artifact": stack.model.model_data_url.as_deref().map(|u| s3_object_arn(arns, u)),
            "topics": topics.map(|t| vec![t.success.arn.clone(), t.error.arn.clone()]),
            "kms_key": kms_key_arn,
            "input_objects": input.keep.then(|| input.objects_arn.clone()),
        }),
    )?;
    lint_policy(&names.execution_policy, &policy)?;
    let trust = render_policy(
        EXECUTION_TRUST_TEMPLATE,
        &json!({
            "local_caller": (stack.target == Target::Local).then_some(&x.ctx.caller_arn),
        }),
    )?;
    Ok(RoleDesired {
        name: names.execution_role.clone(),
        arn: arns.role(&names.execution_role),
        trust,
        policy_name: names.execution_policy.clone(),
        policy,
    })
}

/// Derives the invoker managed policy (linted) and the principals it is attached to.
pub(crate) fn desired_invoker(
    x: &Deriving<'_>,
    bucket: &BucketDesired,
    input: &InputDesired,
) -> Result<InvokerDesired, ProvisionError> {
    let (stack, names, arns) = (x.stack, x.names, x.arns);
    let b = &stack.bucket;
    let document = render_policy(
        INVOKER_TEMPLATE,
        &json!({
            "endpoint_arn": arns.endpoint(&names.endpoint),
            "output_objects": x.output_objects(),
            "bucket_arn": bucket.arn,
            "list_prefixes": [format!("{}/*", b.output_prefix), format!("{}/*", b.failure_prefix)],
            "kms_key": stack.async_inference.kms_key_id.as_deref()
                .map(|k| invoker_kms_grant(arns, k)),
            "input_objects": input.keep.then(|| input.objects_arn.clone()),
        }),
    )?;
    lint_policy(&names.invoker_policy, &document)?;
    let mut principals: Vec<Principal> = stack
        .invokers
        .principals
        .iter()
        .map(|p| Principal::parse(p))
        .collect();
    principals.sort();
    principals.dedup();
    Ok(InvokerDesired {
        name: names.invoker_policy.clone(),
        arn: arns.policy(&names.invoker_policy),
        document,
        principals,
    })
}

/// `arn:…:kms:…:key/<id>` or `…:alias/<name>` for a key id, alias or ARN.
fn kms_key_arn(arns: &Arns, key: &str) -> String {
    if key.starts_with("arn:") {
        key.to_string()
    } else if key.starts_with("alias/") {
        format!(
            "arn:{}:kms:{}:{}:{key}",
            arns.partition, arns.region, arns.account
        )
    } else {
        format!(
            "arn:{}:kms:{}:{}:key/{key}",
            arns.partition, arns.region, arns.account
        )
    }
}

/// What the invoker's `kms:Decrypt` statement names: the key's ARN; for an alias, every key of
/// the account and region narrowed by `kms:ResourceAliases` (IAM does not match an alias ARN
/// against the key a request uses). Always only through S3 in the stack's region.
fn invoker_kms_grant(arns: &Arns, key: &str) -> serde_json::Value {
    let arn = kms_key_arn(arns, key);
    let via_service = format!("s3.{}.amazonaws.com", arns.region);
    // arn:<partition>:kms:<region>:<account>:alias/<name>
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, partition, _, region, account, alias] if alias.starts_with("alias/") => json!({
            "resource": format!("arn:{partition}:kms:{region}:{account}:key/*"),
            "alias": alias,
            "via_service": via_service,
        }),
        _ => json!({ "resource": arn, "alias": null, "via_service": via_service }),
    }
}

/// The ECR repository ARN of an ECR image URI; `None` for other registries.
fn ecr_repository_arn(arns: &Arns, image: &str) -> Option<String> {
    let (registry, path) = image.split_once('/')?;
    let mut parts = registry.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let repo = path.split(['@', ':']).next()?;
    Some(format!(
        "arn:{}:ecr:{region}:{account}:repository/{repo}",
        arns.partition
    ))
}

/// The object ARN of an `s3://bucket/key` URL (`key*` when it names a prefix).
fn s3_object_arn(arns: &Arns, url: &str) -> String {
    let rest = url.trim_start_matches("s3://");
    let rest = if !rest.contains('/') {
        format!("{rest}/*")
    } else if rest.ends_with('/') {
        format!("{rest}*")
    } else {
        rest.to_string()
    };
    format!("arn:{}:s3:::{rest}", arns.partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_images_get_their_repository_and_others_none() {
        let arns = Arns::new("us-east-1", "123456789012");
        assert_eq!(
            ecr_repository_arn(
                &arns,
                "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/scorer:1"
            )
            .as_deref(),
            Some("arn:aws:ecr:eu-west-1:210987654321:repository/team/scorer")
        );
        assert_eq!(ecr_repository_arn(&arns, "localhost:5000/model"), None);
        assert_eq!(
            s3_object_arn(&arns, "s3://m/a/model.tar.gz"),
            "arn:aws:s3:::m/a/model.tar.gz"
        );
        assert_eq!(s3_object_arn(&arns, "s3://m"), "arn:aws:s3:::m/*");
        assert_eq!(
            kms_key_arn(&arns, "alias/out"),
            "arn:aws:kms:us-east-1:123456789012:alias/out"
        );
    }
}
