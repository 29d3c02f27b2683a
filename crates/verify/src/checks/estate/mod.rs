//! `verify --endpoint NAME`: an async endpoint bodyline did not make (Terraform, CDK, the
//! console), checked with the caller's own credentials and no stack file.
//!
//! Read-only on the control plane: the endpoint, its config, its model and (on the local
//! target) its execution role's trust policy are described, nothing is created, changed or
//! deleted. The request-path checks are the stack's own ([`super::invoke`]), pointed at the
//! paths the endpoint's `AsyncInferenceConfig` names; the least-privilege probe runs as the
//! identity `--invoker-role` names ([`grants`]).

use std::path::PathBuf;

use aws_config::SdkConfig;
use aws_sdk_sagemaker::types::EndpointStatus;
use bodyline_stack::Target;
use serde::Serialize;

mod grants;

use super::probe::{Probe, S3Path};
use super::{compare, run_checks, unknown_check, Check, Probed, RequestPath, VerifyOptions};
use crate::{EndpointReport, VerifyError};
use bodyline_aws::{AwsFailure, Clients};

/// How to run `verify --endpoint`.
#[derive(Debug, Clone)]
pub struct EndpointOptions {
    /// The endpoint's name.
    pub endpoint: String,
    /// Where it lives (decides what the output says about the local stack).
    pub target: Target,
    /// `--input-uri s3://bucket/prefix/`: where `--compare-s3` may upload inputs, and the input
    /// location the least-privilege probe tries to write to.
    pub input_uri: Option<String>,
    /// The migration report that says whether any call site still needs S3 input.
    pub migration_report: Option<PathBuf>,
    /// On the local target, when `invoker_role` names an IAM user: that user's access key id
    /// and secret (bodyline cannot read a user's secret; the caller provides it).
    pub invoker_keys: Option<(String, String)>,
    /// Payload, expectation, timeout, `--invoker-role`, `--check` and `--compare-s3`, as for a
    /// stack.
    pub checks: VerifyOptions,
}

impl EndpointOptions {
    /// Options for `endpoint` on `target`, everything else as for a stack.
    pub fn new(endpoint: &str, target: Target) -> EndpointOptions {
        EndpointOptions {
            endpoint: endpoint.to_string(),
            target,
            input_uri: None,
            migration_report: None,
            invoker_keys: None,
            checks: VerifyOptions::default(),
        }
    }
}

/// What the control plane says about an async endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointDescription {
    /// The endpoint's name.
    pub name: String,
    /// Its status (always `InService` in a report: verify stops otherwise).
    pub status: String,
    /// Its endpoint config.
    pub config: String,
    /// `S3OutputPath`.
    pub output_path: String,
    /// `S3FailurePath`, when set.
    pub failure_path: Option<String>,
    /// The SNS success topic, when set.
    pub success_topic: Option<String>,
    /// The SNS error topic, when set.
    pub error_topic: Option<String>,
    /// The KMS key that encrypts outputs, when set.
    pub kms_key: Option<String>,
    /// `MaxConcurrentInvocationsPerInstance`, when set (SageMaker picks one otherwise).
    pub max_concurrent_invocations_per_instance: Option<i32>,
    /// The first production variant's instance type and count.
    pub instance_type: Option<String>,
    /// How many instances the first variant has now (or was created with).
    pub instance_count: Option<i32>,
    /// The model behind the first variant.
    pub model: Option<String>,
    /// The model's execution role, which writes outputs and publishes notifications.
    pub execution_role: Option<String>,
}

/// The context the endpoint's checks run against.
pub(crate) struct EstateContext {
    pub description: EndpointDescription,
    pub output: S3Path,
    pub failure: Option<S3Path>,
    pub clients: Clients,
    pub config: SdkConfig,
    pub options: EndpointOptions,
}

impl Probed for EstateContext {
    fn probe(&self) -> Probe<'_> {
        Probe {
            endpoint: &self.description.name,
            output: self.output.clone(),
            failure: self.failure.clone(),
            clients: &self.clients,
            options: &self.options.checks,
        }
    }
}

/// The checks of `verify --endpoint`, in the order they run. `least-privilege` runs only with
/// `--invoker-role`.
const ESTATE_CHECKS: &[Check<EstateContext>] = &[
    Check {
        name: "endpoint",
        proves: "endpoint InService with an AsyncInferenceConfig: output and failure paths, topics, KMS key, concurrency",
        run: |ctx| Box::pin(async move { Ok(summary(&ctx.description)) }),
    },
    RequestPath::INLINE_BODY,
    RequestPath::SIZE_LIMIT,
    RequestPath::EXCLUSIVE_INPUT,
    Check {
        name: "least-privilege",
        proves: "as --invoker-role: invoking and reading the output work; whether s3:PutObject to the input location is still granted, and the policy change that removes it once no call site needs it",
        run: |ctx| Box::pin(grants::least_privilege(ctx)),
    },
];

/// Describes the endpoint `options` names (read-only calls) and runs the checks against it with
/// the credentials of `config`. `Err` when verify cannot start: no credentials, an endpoint
/// that does not exist, is not `InService` or is not async, a malformed option. A failing check
/// is a result.
pub async fn verify_endpoint(
    config: &SdkConfig,
    options: &EndpointOptions,
) -> Result<EndpointReport, VerifyError> {
    unknown_check(ESTATE_CHECKS, &options.checks.only)?;
    let input = options
        .input_uri
        .as_deref()
        .map(|uri| {
            S3Path::parse(uri).ok_or_else(|| VerifyError::BadOption {
                option: "--input-uri",
                value: uri.to_string(),
                rule: "expected s3://bucket/prefix/ (a bucket the caller may write to)",
            })
        })
        .transpose()?;
    ensure_credentials(config, options.target).await?;
    let clients = Clients::new(config);
    let description = describe(&clients, config, options).await?;
    let output = S3Path::parse(&description.output_path).ok_or(VerifyError::NotAsync {
        endpoint: description.name.clone(),
        config: description.config.clone(),
        missing: "an S3OutputPath that is not an s3:// URL",
    })?;
    let failure = description.failure_path.as_deref().and_then(S3Path::parse);
    let mut findings = Vec::new();
    if failure.is_none() {
        findings.push(format!(
            "endpoint config {} has no S3FailurePath: failed requests are written under the output path {output}, beside the results; set S3FailurePath to keep them apart",
            description.config
        ));
    }
    let mut notes = Vec::new();
    if options.target == Target::Local {
        if let Some(note) = trust_note(&clients, description.execution_role.as_deref()).await {
            notes.push(note);
        }
    }
    let ctx = EstateContext {
        description,
        output,
        failure,
        clients,
        config: config.clone(),
        options: options.clone(),
    };
    let mut only = options.checks.only.clone();
    if options.checks.invoker_role.is_none() {
        if only.iter().any(|n| n == "least-privilege") {
            return Err(VerifyError::BadOption {
                option: "--check",
                value: "least-privilege".into(),
                rule: "needs --invoker-role <ARN> (on the local target also a role or user name): the identity whose grants to probe",
            });
        }
        notes.push("least-privilege not run: name the callers' identity with --invoker-role <ARN> to probe its grants".into());
        if only.is_empty() {
            only = ESTATE_CHECKS
                .iter()
                .map(|c| c.name.to_string())
                .filter(|n| n != "least-privilege")
                .collect();
        }
    }
    let checks = run_checks(ESTATE_CHECKS, &ctx, &only).await;
    let (mut comparison, mut comparison_skipped, mut comparison_error) = (None, None, None);
    match (options.checks.compare_s3, &input) {
        (Some(n), Some(input)) if n > 0 => {
            let region = config.region().map(|r| r.to_string()).unwrap_or_default();
            match compare::compare(&ctx.probe(), input, &region, n).await {
                Ok(c) => comparison = Some(c),
                Err(e) => comparison_error = Some(e),
            }
        }
        (Some(n), None) if n > 0 => {
            comparison_skipped = Some(
                "the comparison uploads its S3-path inputs somewhere: name a location the caller may write to with --input-uri s3://bucket/prefix/".into(),
            );
        }
        _ => {}
    }
    Ok(EndpointReport {
        endpoint: ctx.description.name.clone(),
        target: options.target,
        description: ctx.description,
        findings,
        notes,
        checks,
        comparison,
        comparison_skipped,
        comparison_error,
    })
}

/// Missing credentials are reported before any call.
async fn ensure_credentials(config: &SdkConfig, target: Target) -> Result<(), VerifyError> {
    bodyline_aws::resolve_credentials(config)
        .await
        .map_err(|message| VerifyError::NoCredentials { target, message })
}

/// `DescribeEndpoint`, `DescribeEndpointConfig` (moto's `DescribeEndpoint` has no
/// `AsyncInferenceConfig`; AWS's config has it too) and `DescribeModel`.
async fn describe(
    clients: &Clients,
    config: &SdkConfig,
    options: &EndpointOptions,
) -> Result<EndpointDescription, VerifyError> {
    let name = &options.endpoint;
    let sm = &clients.sagemaker;
    let endpoint = match sm.describe_endpoint().endpoint_name(name).send().await {
        Ok(out) => out,
        Err(e) => {
            let failure = AwsFailure::of(&e);
            return Err(if failure.is_not_found() {
                VerifyError::EndpointNotFound {
                    endpoint: name.clone(),
                    region: config.region().map(|r| r.to_string()).unwrap_or_default(),
                    target: options.target,
                }
            } else {
                VerifyError::aws("DescribeEndpoint", name, failure)
            });
        }
    };
    if endpoint.endpoint_status() != Some(&EndpointStatus::InService) {
        return Err(VerifyError::EndpointNotInService {
            endpoint: name.clone(),
            status: endpoint
                .endpoint_status()
                .map_or("in no status", |s| s.as_str())
                .to_string(),
            reason: endpoint.failure_reason().map(str::to_string),
        });
    }
    let config_name = endpoint.endpoint_config_name().unwrap_or_default();
    let described = sm
        .describe_endpoint_config()
        .endpoint_config_name(config_name)
        .send()
        .await
        .map_err(|e| crate::aws::aws_error("DescribeEndpointConfig", config_name, e))?;
    let not_async = |missing| VerifyError::NotAsync {
        endpoint: name.clone(),
        config: config_name.to_string(),
        missing,
    };
    let async_config = described
        .async_inference_config()
        .ok_or_else(|| not_async("no AsyncInferenceConfig"))?;
    let output = async_config
        .output_config()
        .ok_or_else(|| not_async("an AsyncInferenceConfig without OutputConfig"))?;
    let output_path = output
        .s3_output_path()
        .ok_or_else(|| not_async("an AsyncInferenceConfig without S3OutputPath"))?;
    let variant = described.production_variants().first();
    let running = endpoint.production_variants().first();
    let model = variant.and_then(|v| v.model_name()).map(str::to_string);
    let execution_role = match &model {
        Some(model) => sm
            .describe_model()
            .model_name(model)
            .send()
            .await
            .map_err(|e| crate::aws::aws_error("DescribeModel", model, e))?
            .execution_role_arn()
            .map(str::to_string),
        None => None,
    };
    let notification = output.notification_config();
    Ok(EndpointDescription {
        name: name.clone(),
        status: EndpointStatus::InService.as_str().to_string(),
        config: config_name.to_string(),
        output_path: output_path.to_string(),
        failure_path: output.s3_failure_path().map(str::to_string),
        success_topic: notification
            .and_then(|n| n.success_topic())
            .map(str::to_string),
        error_topic: notification
            .and_then(|n| n.error_topic())
            .map(str::to_string),
        kms_key: output.kms_key_id().map(str::to_string),
        max_concurrent_invocations_per_instance: async_config
            .client_config()
            .and_then(|c| c.max_concurrent_invocations_per_instance()),
        instance_type: variant
            .and_then(|v| v.instance_type())
            .map(|t| t.as_str().to_string()),
        instance_count: running
            .and_then(|v| v.current_instance_count())
            .or_else(|| variant.and_then(|v| v.initial_instance_count())),
        model,
        execution_role,
    })
}

/// The `endpoint` check's line: everything the description says, one clause each.
fn summary(d: &EndpointDescription) -> String {
    let or = |v: &Option<String>, none: &str| v.clone().unwrap_or_else(|| none.to_string());
    let concurrency = match (d.max_concurrent_invocations_per_instance, d.instance_count) {
        (Some(c), Some(n)) => format!("{c} concurrent per instance × {n} instance(s)"),
        (Some(c), None) => format!("{c} concurrent per instance"),
        (None, Some(n)) => format!("SageMaker's default concurrency × {n} instance(s)"),
        (None, None) => "SageMaker's default concurrency".into(),
    };
    format!(
        "{} InService, config {}: outputs {}, failures {}; SNS success {}, error {}; KMS key {}; {concurrency}; model {}, execution role {}",
        d.name,
        d.config,
        d.output_path,
        or(&d.failure_path, "(none: a finding)"),
        or(&d.success_topic, "(none)"),
        or(&d.error_topic, "(none)"),
        or(&d.kms_key, "(none: the bucket's default encryption)"),
        or(&d.model, "(unknown)"),
        or(&d.execution_role, "(unknown)"),
    )
}

/// On the local target: when the execution role trusts no `AWS` principal (as on AWS, where
/// only `sagemaker.amazonaws.com` needs to assume it), moto's `AssumeRole` cannot be used, and
/// the local runtime evaluates the role's own policies for each write instead. Said, since it
/// is where the local stack differs; the role itself is left as it is.
async fn trust_note(clients: &Clients, role_arn: Option<&str>) -> Option<String> {
    let role_arn = role_arn?;
    let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    let role = clients
        .iam
        .get_role()
        .role_name(role_name)
        .send()
        .await
        .ok()?;
    let text = role.role().and_then(|r| r.assume_role_policy_document())?;
    let trust = bodyline_provision::decode_policy_document(role_name, text).ok()?;
    grants::trusts_only_services(&trust).then(|| format!(
        "execution role {role_name} trusts no AWS principal (right for AWS); moto's AssumeRole needs one, so the local runtime checks {role_name}'s own policies before each write and then writes with its own credentials; the role was not changed"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_every_part_of_the_config() {
        let d = EndpointDescription {
            name: "ep".into(),
            status: "InService".into(),
            config: "ep-config".into(),
            output_path: "s3://b/out/".into(),
            failure_path: None,
            success_topic: Some("arn:aws:sns:us-east-1:1:ok".into()),
            error_topic: None,
            kms_key: None,
            max_concurrent_invocations_per_instance: Some(4),
            instance_type: Some("ml.m5.large".into()),
            instance_count: Some(1),
            model: Some("m".into()),
            execution_role: Some("arn:aws:iam::1:role/r".into()),
        };
        let line = summary(&d);
        for part in [
            "ep InService, config ep-config",
            "outputs s3://b/out/",
            "failures (none: a finding)",
            "SNS success arn:aws:sns:us-east-1:1:ok, error (none)",
            "4 concurrent per instance × 1 instance(s)",
            "execution role arn:aws:iam::1:role/r",
        ] {
            assert!(line.contains(part), "{part:?} not in {line}");
        }
    }
}
