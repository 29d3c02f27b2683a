//! `bodyline verify --endpoint NAME`: an async endpoint bodyline did not make, verified with
//! the caller's own credentials and no stack file.

use std::process::ExitCode;

use anyhow::Context as _;
use bodyline_stack::Target;
use bodyline_verify::{EndpointOptions, VerifyOptions};

use super::VerifyArgs;

/// Where the keys of an IAM user named by `--invoker-role` come from (local target): bodyline
/// cannot read a user's secret, and a secret does not belong on the command line.
const INVOKER_KEY_ID: &str = "BODYLINE_INVOKER_ACCESS_KEY_ID";
const INVOKER_SECRET: &str = "BODYLINE_INVOKER_SECRET_ACCESS_KEY";

/// Runs `bodyline verify --endpoint NAME`.
pub async fn verify(
    args: &VerifyArgs,
    endpoint: &str,
    checks: VerifyOptions,
) -> anyhow::Result<ExitCode> {
    let target = args.target.unwrap_or(Target::Local);
    let config =
        bodyline_stack::target_sdk_config(target, args.region.as_deref(), &args.root).await?;
    if config.region().is_none() {
        anyhow::bail!(
            "no region for endpoint {endpoint} on the {target} target: pass --region or set AWS_REGION (or a profile's region)"
        );
    }
    let invoker_keys = match (
        std::env::var(INVOKER_KEY_ID).ok(),
        std::env::var(INVOKER_SECRET).ok(),
    ) {
        (Some(id), Some(secret)) => Some((id, secret)),
        _ => None,
    };
    let options = EndpointOptions {
        input_uri: args.input_uri.clone(),
        migration_report: Some(
            args.migration_report
                .clone()
                .unwrap_or_else(|| bodyline_stack::ProjectDir::new(&args.root).migration_report()),
        ),
        invoker_keys,
        checks,
        ..EndpointOptions::new(endpoint, target)
    };
    let report = bodyline_verify::verify_endpoint(&config, &options)
        .await
        .with_context(|| format!("cannot verify endpoint {endpoint}"))?;
    super::print_verdict(
        args.format,
        serde_json::to_value(&report)?,
        report.render_table(),
        report.passed(),
    )
}
