//! Checks that read the control plane only: the endpoint's configuration (1) and the posture
//! of the deployed bucket and policies (6).

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sagemaker::types::EndpointStatus;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use bodyline_stack::Target;
use serde_json::Value;

use super::{CheckOutcome, VerifyContext};
use bodyline_aws::AwsFailure;

/// Check 1: the endpoint is `InService` and its config writes where the stack says.
pub(crate) async fn endpoint(ctx: &VerifyContext) -> CheckOutcome {
    let sm = &ctx.clients.sagemaker;
    let name = &ctx.names.endpoint;
    let described = sm
        .describe_endpoint()
        .endpoint_name(name)
        .send()
        .await
        .map_err(|e| {
            let f = AwsFailure::of(&e);
            if f.is_not_found() {
                format!("endpoint {name} does not exist; run `bodyline setup`")
            } else {
                format!("DescribeEndpoint {name}: {}", f.summary())
            }
        })?;
    let status = described.endpoint_status();
    if status != Some(&EndpointStatus::InService) {
        let reason = described
            .failure_reason()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        return Err(format!(
            "endpoint {name} is {}{reason}, not InService; wait for setup to finish or run it again",
            status.map_or("in no status", |s| s.as_str())
        ));
    }
    let config_name = described.endpoint_config_name().unwrap_or_default();
    // moto's DescribeEndpoint has no AsyncInferenceConfig: read it from the config, as on AWS.
    let config = sm
        .describe_endpoint_config()
        .endpoint_config_name(config_name)
        .send()
        .await
        .map_err(call_failed("DescribeEndpointConfig", config_name))?;
    let Some(output) = config
        .async_inference_config()
        .and_then(|a| a.output_config())
    else {
        return Err(format!(
            "endpoint config {config_name} has no AsyncInferenceConfig: it is not an async endpoint"
        ));
    };
    let want_output = &ctx.desired.endpoint_config.output_path;
    let want_failure = &ctx.desired.endpoint_config.failure_path;
    let same = |got: Option<&str>, want: &str| {
        got.is_some_and(|g| g.trim_end_matches('/') == want.trim_end_matches('/'))
    };
    let mut wrong = Vec::new();
    if !same(output.s3_output_path(), want_output) {
        wrong.push(format!(
            "S3OutputPath is {:?}, expected {want_output}",
            output.s3_output_path().unwrap_or("unset")
        ));
    }
    if !same(output.s3_failure_path(), want_failure) {
        wrong.push(format!(
            "S3FailurePath is {:?}, expected {want_failure}",
            output.s3_failure_path().unwrap_or("unset")
        ));
    }
    if !wrong.is_empty() {
        return Err(format!(
            "endpoint config {config_name}: {}; run `bodyline setup` to replace it",
            wrong.join("; ")
        ));
    }
    let scaling = scale_to_zero(ctx).await?;
    Ok(format!(
        "{name} InService, config {config_name}: outputs {want_output}, failures {want_failure}{scaling}"
    ))
}

/// `"<Operation> <resource>: <what failed>"`: the verdict when a read the check needs fails.
fn call_failed<'a, E>(
    operation: &'static str,
    resource: &'a str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> String + 'a
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    move |e| format!("{operation} {resource}: {}", AwsFailure::of(&e).summary())
}

/// Scale to zero, when the stack configures it: the target's capacity, both policies, and the
/// alarm that triggers the wake policy. Real scaling is AWS's; this is the registration.
async fn scale_to_zero(ctx: &VerifyContext) -> Result<String, String> {
    use aws_sdk_applicationautoscaling::types::ServiceNamespace;
    let Some(want) = &ctx.stack.scaling else {
        return Ok(String::new());
    };
    let n = &ctx.names;
    let aas = &ctx.clients.scaling;
    let fix = "run `bodyline setup` to register it";
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_ids(&n.scaling_resource)
        .send()
        .await
        .map_err(call_failed("DescribeScalableTargets", &n.scaling_resource))?;
    let Some(target) = targets.scalable_targets().first() else {
        return Err(format!(
            "scale to zero is configured but {} is not a scalable target; {fix}",
            n.scaling_resource
        ));
    };
    let (min, max) = (target.min_capacity(), target.max_capacity());
    let (want_min, want_max) = (
        i32::try_from(want.min_instances).unwrap_or(i32::MAX),
        i32::try_from(want.max_instances).unwrap_or(i32::MAX),
    );
    if (min, max) != (want_min, want_max) {
        return Err(format!(
            "{} scales {min}..{max}, the stack file says {want_min}..{want_max}; {fix}",
            n.scaling_resource
        ));
    }
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&n.scaling_resource)
        .send()
        .await
        .map_err(call_failed("DescribeScalingPolicies", &n.scaling_resource))?;
    let policy = |name: &str| {
        policies
            .scaling_policies()
            .iter()
            .find(|p| p.policy_name() == name)
    };
    let tracking = policy(&n.backlog_policy)
        .and_then(|p| p.target_tracking_scaling_policy_configuration())
        .ok_or_else(|| {
            format!(
                "target-tracking policy {} is missing; {fix}",
                n.backlog_policy
            )
        })?;
    if tracking.target_value() != f64::from(want.target_backlog_per_instance) {
        return Err(format!(
            "policy {} targets {} queued per instance, the stack file says {}; {fix}",
            n.backlog_policy,
            tracking.target_value(),
            want.target_backlog_per_instance
        ));
    }
    let wake = policy(&n.wake_policy)
        .ok_or_else(|| format!("step policy {} is missing; {fix}", n.wake_policy))?;
    let alarms = ctx
        .clients
        .cloudwatch
        .describe_alarms()
        .alarm_names(&n.wake_alarm)
        .send()
        .await
        .map_err(call_failed("DescribeAlarms", &n.wake_alarm))?;
    let triggers = alarms
        .metric_alarms()
        .first()
        .is_some_and(|a| a.alarm_actions().iter().any(|x| x == wake.policy_arn()));
    if !triggers {
        return Err(format!(
            "alarm {} is missing or does not trigger {}: the endpoint would never wake from zero; {fix}",
            n.wake_alarm, n.wake_policy
        ));
    }
    Ok(format!(
        "; scales {min}..{max} on the backlog, woken from zero by alarm {}",
        n.wake_alarm
    ))
}

/// Check 6: the bucket's posture and the lint of the deployed policies, read back.
pub(crate) async fn posture(ctx: &VerifyContext) -> CheckOutcome {
    let mut problems = Vec::new();
    let mut seen = Vec::new();
    bucket_posture(ctx, &mut problems, &mut seen).await;
    policy_posture(ctx, &mut problems, &mut seen).await;
    if problems.is_empty() {
        Ok(seen.join("; "))
    } else {
        Err(problems.join("\n"))
    }
}

async fn bucket_posture(ctx: &VerifyContext, problems: &mut Vec<String>, seen: &mut Vec<String>) {
    let s3 = &ctx.clients.s3;
    let bucket = &ctx.names.bucket;
    match s3.get_public_access_block().bucket(bucket).send().await {
        Ok(out) => {
            let c = out.public_access_block_configuration();
            let flags = [
                ("BlockPublicAcls", c.and_then(|c| c.block_public_acls())),
                ("IgnorePublicAcls", c.and_then(|c| c.ignore_public_acls())),
                ("BlockPublicPolicy", c.and_then(|c| c.block_public_policy())),
                (
                    "RestrictPublicBuckets",
                    c.and_then(|c| c.restrict_public_buckets()),
                ),
            ];
            let off: Vec<&str> = flags
                .iter()
                .filter(|(_, on)| *on != Some(true))
                .map(|(n, _)| *n)
                .collect();
            if off.is_empty() {
                seen.push("public access blocked".into());
            } else {
                problems.push(format!(
                    "bucket {bucket}: public access block flags off: {}; run `bodyline setup` to restore them",
                    off.join(", ")
                ));
            }
        }
        Err(e) => problems.push(format!(
            "bucket {bucket} has no public access block ({}); run `bodyline setup` to restore it",
            AwsFailure::of(&e).summary()
        )),
    }

    let want = if ctx.desired.endpoint_config.kms_key_id.is_some() {
        "aws:kms"
    } else {
        "AES256"
    };
    match s3.get_bucket_encryption().bucket(bucket).send().await {
        Ok(out) => {
            let algorithms: Vec<String> = out
                .server_side_encryption_configuration()
                .map(|c| c.rules())
                .unwrap_or_default()
                .iter()
                .filter_map(|r| r.apply_server_side_encryption_by_default())
                .map(|d| d.sse_algorithm().as_str().to_string())
                .collect();
            if algorithms.iter().any(|a| a == want) {
                seen.push(format!("default encryption {want}"));
            } else {
                problems.push(format!(
                    "bucket {bucket}: default encryption is {algorithms:?}, expected {want}; run `bodyline setup`"
                ));
            }
        }
        Err(e) => problems.push(format!(
            "bucket {bucket}: no default encryption ({}); run `bodyline setup`",
            AwsFailure::of(&e).summary()
        )),
    }

    match s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
    {
        Ok(out) => {
            let days = i32::try_from(ctx.stack.bucket.expire_after_days).unwrap_or(i32::MAX);
            let enabled: Vec<_> = out
                .rules()
                .iter()
                .filter(|r| r.status().as_str() == "Enabled")
                .collect();
            // Setup may write the legacy rule-level `Prefix` instead of a filter: read both.
            #[allow(deprecated)]
            let expires = |prefix: &str| {
                enabled.iter().any(|r| {
                    let rule_prefix = r
                        .filter()
                        .and_then(|f| f.prefix().or_else(|| f.and().and_then(|a| a.prefix())))
                        .or(r.prefix())
                        .unwrap_or("");
                    prefix.starts_with(rule_prefix.trim_end_matches('/'))
                        && r.expiration().and_then(|e| e.days()) == Some(days)
                })
            };
            let mut missing = Vec::new();
            for prefix in [
                &ctx.stack.bucket.output_prefix,
                &ctx.stack.bucket.failure_prefix,
            ] {
                if !expires(prefix) {
                    missing.push(format!("expire {prefix}/ after {days} days"));
                }
            }
            if !enabled.iter().any(|r| {
                r.abort_incomplete_multipart_upload()
                    .and_then(|a| a.days_after_initiation())
                    == Some(1)
            }) {
                missing.push("abort incomplete multipart uploads after 1 day".into());
            }
            if missing.is_empty() {
                seen.push(format!("lifecycle {days} days"));
            } else {
                problems.push(format!(
                    "bucket {bucket}: lifecycle rules missing: {}; run `bodyline setup`",
                    missing.join(", ")
                ));
            }
        }
        Err(e) => problems.push(format!(
            "bucket {bucket}: no lifecycle configuration ({}); run `bodyline setup`",
            AwsFailure::of(&e).summary()
        )),
    }

    let policy = s3.get_bucket_policy().bucket(bucket).send().await;
    match (ctx.stack.target, policy) {
        (Target::Aws, Ok(out)) => {
            let doc: Option<Value> = out.policy().and_then(|p| serde_json::from_str(p).ok());
            if doc.as_ref().is_some_and(denies_insecure_transport) {
                seen.push("TLS-only bucket policy".into());
            } else {
                problems.push(format!(
                    "bucket {bucket}: the policy has no Deny on aws:SecureTransport=false; run `bodyline setup`"
                ));
            }
        }
        (Target::Aws, Err(e)) => problems.push(format!(
            "bucket {bucket}: no bucket policy ({}); the TLS-only policy is missing: run `bodyline setup`",
            AwsFailure::of(&e).summary()
        )),
        // moto applies a conditional Deny unconditionally, so setup skips the TLS-only policy
        // on the local target; there is nothing to read back.
        (Target::Local, _) => seen.push("TLS-only policy not used on the local target".into()),
    }
}

fn denies_insecure_transport(doc: &Value) -> bool {
    statements(doc).iter().any(|s| {
        s.get("Effect").and_then(Value::as_str) == Some("Deny")
            && s.pointer("/Condition/Bool/aws:SecureTransport")
                .is_some_and(|v| v == "false" || v == &Value::Bool(false))
    })
}

fn statements(doc: &Value) -> Vec<&Value> {
    match doc.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

/// Judges the invoker's `s3:PutObject` grants against the stack's S3-input decision (the
/// desired stack's `input`: whether it is `keep`, why, and the input objects' ARN): with S3
/// input kept, only `<input_prefix>/*` may be granted; without it, nothing.
pub(crate) fn judge_put_object(
    doc: &Value,
    keep: bool,
    input: &str,
    input_objects: &str,
) -> Result<String, String> {
    let puts = bodyline_provision::resources_allowing(doc, "s3:PutObject");
    if keep {
        let beyond: Vec<&String> = puts.iter().filter(|r| *r != input_objects).collect();
        if beyond.is_empty() {
            Ok(format!("s3:PutObject on {input_objects} only ({input})"))
        } else {
            Err(format!(
                "allows s3:PutObject on {} beyond {input_objects}: uploads go to the input prefix only; remove it (or run `bodyline setup`)",
                beyond.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(", ")
            ))
        }
    } else if puts.is_empty() {
        Ok(format!("no s3:PutObject ({input})"))
    } else {
        Err(format!(
            "still allows s3:PutObject on {}, but {input}: inline Body needs no upload; run `bodyline setup` to drop it",
            puts.join(", ")
        ))
    }
}

async fn policy_posture(ctx: &VerifyContext, problems: &mut Vec<String>, seen: &mut Vec<String>) {
    let iam = &ctx.clients.iam;
    let role = &ctx.names.execution_role;
    let inline = &ctx.names.execution_policy;
    match iam
        .get_role_policy()
        .role_name(role)
        .policy_name(inline)
        .send()
        .await
    {
        Ok(out) => match lint(&format!("{role}/{inline}"), out.policy_document()) {
            Ok(_) => seen.push(format!("execution policy {inline} passes the lint")),
            Err(p) => problems.push(p),
        },
        Err(e) => problems.push(format!(
            "GetRolePolicy {role}/{inline}: {}; run `bodyline setup`",
            AwsFailure::of(&e).summary()
        )),
    }

    let arn = ctx.arns.policy(&ctx.names.invoker_policy);
    let version = match iam.get_policy().policy_arn(&arn).send().await {
        Ok(out) => out
            .policy()
            .and_then(|p| p.default_version_id())
            .map(str::to_string),
        Err(e) => {
            problems.push(format!(
                "GetPolicy {arn}: {}; run `bodyline setup`",
                AwsFailure::of(&e).summary()
            ));
            return;
        }
    };
    let Some(version) = version else {
        problems.push(format!("invoker policy {arn} has no default version"));
        return;
    };
    match iam
        .get_policy_version()
        .policy_arn(&arn)
        .version_id(&version)
        .send()
        .await
    {
        Ok(out) => {
            let text = out
                .policy_version()
                .and_then(|v| v.document())
                .unwrap_or_default();
            match lint(&ctx.names.invoker_policy, text) {
                Ok(doc) => {
                    let input = &ctx.desired.input;
                    match judge_put_object(&doc, input.keep, &input.reason, &input.objects_arn) {
                        Ok(fine) => seen.push(format!(
                            "invoker policy {} ({version}) passes the lint, {fine}",
                            ctx.names.invoker_policy
                        )),
                        Err(wrong) => problems.push(format!(
                            "invoker policy {} ({version}) {wrong}",
                            ctx.names.invoker_policy
                        )),
                    }
                }
                Err(p) => problems.push(p),
            }
        }
        Err(e) => problems.push(format!(
            "GetPolicyVersion {arn} {version}: {}",
            AwsFailure::of(&e).summary()
        )),
    }
}

/// Decodes (IAM percent-encodes documents) and lints one policy with provision's lint.
fn lint(name: &str, text: &str) -> Result<Value, String> {
    let doc = bodyline_provision::decode_policy_document(name, text).map_err(|e| e.to_string())?;
    let findings = bodyline_provision::lint_document(&doc);
    if findings.is_empty() {
        Ok(doc)
    } else {
        Err(format!(
            "policy {name} fails the lint: {}",
            findings
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_object_is_judged_against_the_input_decision() {
        let input = "arn:aws:s3:::b/input/*";
        let reason = "the report says so";
        let wide = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/output/*"},
            {"Effect": "Allow", "Action": ["s3:Put*"], "Resource": "arn:aws:s3:::b/*"},
            {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}
        ]});
        let scoped = serde_json::json!({"Statement":
            {"Effect": "Allow", "Action": "s3:PutObject", "Resource": input}});
        let none = serde_json::json!({"Statement":
            {"Effect": "Allow", "Action": "sagemaker:InvokeEndpointAsync", "Resource": "arn:x"}});
        assert!(judge_put_object(&wide, true, reason, input)
            .unwrap_err()
            .contains("arn:aws:s3:::b/* beyond"));
        assert!(judge_put_object(&wide, false, reason, input).is_err());
        assert!(judge_put_object(&scoped, true, reason, input).is_ok());
        let err = judge_put_object(&scoped, false, reason, input).unwrap_err();
        assert!(
            err.contains(
                "still allows s3:PutObject on arn:aws:s3:::b/input/*, but the report says so"
            ),
            "{err}"
        );
        assert!(judge_put_object(&none, false, reason, input).is_ok());
        assert!(judge_put_object(&none, true, reason, input).is_ok());
    }

    #[test]
    fn the_tls_only_statement_is_recognised() {
        let doc = serde_json::json!({"Statement": [{"Effect": "Deny", "Principal": "*",
            "Action": "s3:*", "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]});
        assert!(denies_insecure_transport(&doc));
        assert!(!denies_insecure_transport(
            &serde_json::json!({"Statement": []})
        ));
    }
}
