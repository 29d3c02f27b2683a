//! Check 5, least privilege from the invoker's side: with credentials that carry only the
//! invoker policy, invoking and reading the output work, polling a result not written yet is
//! "not found" (not "denied"), listing outside the result prefixes and `s3:PutObject` are
//! denied.
//!
//! On the local target the credentials belong to a temporary IAM user (moto enforces IAM),
//! tagged with the stack so that an interrupted run is cleaned up by teardown, and removed
//! afterwards. On the aws target the user names a role (`--invoker-role`) that verify assumes.

use aws_config::SdkConfig;
use bodyline_stack::{stack_tags, Target};

use super::invoke::{submit, wait_for_result, Landed};
use super::poll::{poll_not_written, Poll};
use super::{CheckOutcome, VerifyContext};
use bodyline_aws::{static_credentials, with_credentials, AwsFailure, UserError};

use bodyline_aws::Clients;

/// The temporary user and its key, to be removed afterwards.
struct TempUser {
    name: String,
}

pub(crate) async fn least_privilege(ctx: &VerifyContext) -> CheckOutcome {
    match ctx.stack.target {
        Target::Local => {
            let (user, config) = temp_user(ctx).await?;
            let verdict = probe(ctx, &config).await;
            let cleanup = bodyline_provision::delete_user(&ctx.clients.iam, &user.name).await;
            match (verdict, cleanup) {
                (v, Ok(_)) => v.map(|d| format!("{d}; temporary user {} removed", user.name)),
                (Ok(d), Err(e)) => Err(format!(
                    "{d}; but the temporary user {} could not be removed: {e}",
                    user.name
                )),
                (Err(d), Err(e)) => Err(format!(
                    "{d}\nthe temporary user {} could not be removed: {e}",
                    user.name
                )),
            }
        }
        Target::Aws => {
            let Some(role) = ctx.options.invoker_role.as_deref() else {
                return Err("on the aws target, name a role that carries only the invoker policy with --invoker-role <ARN>".into());
            };
            let config = assume(ctx, role).await?;
            probe(ctx, &config).await
        }
    }
}

async fn temp_user(ctx: &VerifyContext) -> Result<(TempUser, SdkConfig), String> {
    let suffix = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("{}-verify-{}", ctx.names.stack, &suffix[..8]);
    let policy = ctx.arns.policy(&ctx.names.invoker_policy);
    let created = bodyline_aws::create_user_with_key(
        &ctx.clients.iam,
        &name,
        &stack_tags(&ctx.names.stack),
        std::slice::from_ref(&policy),
    )
    .await;
    match created {
        Ok(key) => {
            let creds = static_credentials(&key.access_key_id, &key.secret_access_key);
            Ok((TempUser { name }, with_credentials(&ctx.config, creds)))
        }
        Err(e) => {
            if e.user_exists() {
                let _ = bodyline_provision::delete_user(&ctx.clients.iam, &name).await;
            }
            Err(match e {
                UserError::AttachPolicy { failure, .. } => format!(
                    "attaching the invoker policy {policy}: {}; run `bodyline setup`",
                    failure.summary()
                ),
                other => other.to_string(),
            })
        }
    }
}

async fn assume(ctx: &VerifyContext, role: &str) -> Result<SdkConfig, String> {
    let credentials = bodyline_aws::assume_role(&ctx.clients.sts, role, "bodyline-verify")
        .await
        .map_err(|e| e.to_string())?;
    Ok(with_credentials(&ctx.config, credentials))
}

/// The three probes, each reported; the check passes only if all three hold.
async fn probe(ctx: &VerifyContext, config: &SdkConfig) -> CheckOutcome {
    let invoker = Clients::new(config);
    let mut ok = Vec::new();
    let mut problems = Vec::new();

    match submit(
        &invoker.runtime,
        &ctx.names.endpoint,
        Some(ctx.payload().to_vec()),
        None,
    )
    .await
    {
        Ok(submitted) => {
            ok.push("invoke allowed".to_string());
            match wait_for_result(&invoker.s3, &submitted, ctx.options.result_timeout).await {
                Ok(Landed::Output(url, _)) => ok.push(format!("reading {url} allowed")),
                Ok(Landed::Failure(url, _)) => ok.push(format!("reading failure {url} allowed")),
                Err(e) => problems.push(format!("reading the result as the invoker: {e}")),
            }
        }
        Err(f) => problems.push(format!(
            "invoking as the invoker: runtime answered {}",
            f.summary()
        )),
    }

    poll_probes(ctx, &invoker, &mut ok, &mut problems).await;
    put_probe(
        ctx,
        &invoker,
        &ctx.stack.bucket.output_prefix,
        None,
        &mut ok,
        &mut problems,
    )
    .await;
    // The input prefix: writable exactly while the stack keeps S3 input.
    let input = &ctx.desired.input;
    put_probe(
        ctx,
        &invoker,
        &input.prefix,
        input.keep.then_some(input.reason.as_str()),
        &mut ok,
        &mut problems,
    )
    .await;
    super::verdict(ok, problems)
}

/// Polling as callers do: a result that is not written yet must read as "not found" (S3 says
/// 403 instead when the caller may not `s3:ListBucket` there), and listing outside the result
/// prefixes must be denied. The listing prefix has no `/`: moto's signature check fails on one.
async fn poll_probes(
    ctx: &VerifyContext,
    invoker: &Clients,
    ok: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let bucket = &ctx.names.bucket;
    let key = format!(
        "{}/bodyline-verify-not-written-yet",
        ctx.stack.bucket.output_prefix
    );
    let url = format!("s3://{bucket}/{key}");
    match poll_not_written(&invoker.s3, bucket, &key).await {
        Poll::NotFound => ok.push(format!("polling {url} (not written yet) answers not found")),
        Poll::Denied => problems.push(format!(
            "polling {url} (not written yet) as the invoker was denied, so a caller cannot tell \"not yet\" from \"denied\": the invoker needs s3:ListBucket on the bucket with an s3:prefix condition on the result prefixes; run `bodyline setup`"
        )),
        Poll::Failed(why) => problems.push(format!("polling {url} as the invoker failed: {why}")),
        Poll::Exists => problems.push(format!("{url} exists, but verify never writes it")),
    }
    let outside = &ctx.desired.input.prefix;
    match invoker
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(outside)
        .send()
        .await
    {
        Err(e) if AwsFailure::of(&e).is_access_denied() => {
            ok.push(format!("listing s3://{bucket}/{outside} denied"))
        }
        Err(e) => problems.push(format!(
            "listing s3://{bucket}/{outside} as the invoker failed, but not with a denial: {}",
            AwsFailure::of(&e).summary()
        )),
        Ok(_) => problems.push(format!(
            "listing s3://{bucket}/{outside} was ALLOWED with the invoker's credentials: its s3:ListBucket must be limited to the result prefixes with an s3:prefix condition; `bodyline setup` restores the invoker policy"
        )),
    }
}

/// Tries `s3:PutObject` under `prefix` with the invoker's credentials; `allowed` (why the
/// upload must work, or `None` when it must be denied) says which answer is right. A probe object that got written is removed with the admin client.
async fn put_probe(
    ctx: &VerifyContext,
    invoker: &Clients,
    prefix: &str,
    allowed: Option<&str>,
    ok: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let key = format!("{prefix}/bodyline-verify-put-probe");
    let url = format!("s3://{}/{key}", ctx.names.bucket);
    let put = invoker
        .s3
        .put_object()
        .bucket(&ctx.names.bucket)
        .key(&key)
        .body(b"probe".to_vec().into())
        .send()
        .await;
    match put {
        Err(e) if AwsFailure::of(&e).is_access_denied() => match allowed {
            None => ok.push(format!("s3:PutObject to {url} denied")),
            Some(why) => problems.push(format!(
                "s3:PutObject to {url} was denied, but the stack keeps S3 input ({why}); run `bodyline setup` to restore the invoker's grant"
            )),
        },
        Err(e) => problems.push(format!(
            "s3:PutObject to {url} as the invoker failed, but not with a denial: {}",
            AwsFailure::of(&e).summary()
        )),
        Ok(_) => {
            if allowed.is_some() {
                ok.push(format!("s3:PutObject to {url} allowed (S3 input kept)"));
            } else {
                problems.push(format!(
                    "s3:PutObject to {url} was ALLOWED with the invoker's credentials: inline Body needs no s3:PutObject; remove it from the invoker policy (`bodyline setup` restores it) and from any other policy of the invoker"
                ));
            }
            let _ = ctx
                .clients
                .s3
                .delete_object()
                .bucket(&ctx.names.bucket)
                .key(&key)
                .send()
                .await;
        }
    }
}
