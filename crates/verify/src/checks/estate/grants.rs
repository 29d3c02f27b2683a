//! The least-privilege probe of `verify --endpoint`: run as the callers' own identity
//! (`--invoker-role`), invoke and read the output, then find out whether it may still
//! `s3:PutObject` to the input location. When the migration report says no call site needs S3
//! input any more, a still-granted upload fails the check, with the statement that grants it
//! and the policy document without it, as a diff.
//!
//! The upload is probed by writing a small object under the input location and deleting it
//! again (IAM's `SimulatePrincipalPolicy` would avoid the write, but moto does not implement
//! it, and one method for both targets keeps the local run a rehearsal of the AWS one). The
//! identity's policies are only read.

use std::path::Path;

use aws_config::SdkConfig;
use aws_credential_types::Credentials;
use bodyline_aws::AssumeError;
use bodyline_stack::{MigrationReport, Target};
use serde_json::{json, Value};

use super::super::invoke::{submit, wait_for_result, Landed};
use super::super::poll::{list_bucket_statement, poll_not_written, Poll};
use super::super::probe::S3Path;
use super::super::{verdict, CheckOutcome, Probed as _};
use super::EstateContext;
use bodyline_aws::{AwsFailure, Clients};

const PUT_OBJECT: &str = "s3:PutObject";

/// Where the migration report is when no other path is given.
const DEFAULT_REPORT: &str = ".bodyline/migrate-report.json";

/// The IAM identity whose grants are probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Role,
    User,
}

impl Kind {
    fn word(self) -> &'static str {
        match self {
            Kind::Role => "role",
            Kind::User => "user",
        }
    }
}

struct Identity {
    kind: Kind,
    name: String,
    /// The caller's configuration with the identity's credentials.
    config: SdkConfig,
}

/// One policy of the identity, decoded.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    /// e.g. `inline policy app-s3 of role app-invoker`.
    pub source: String,
    pub document: Value,
}

pub(crate) async fn least_privilege(ctx: &EstateContext) -> CheckOutcome {
    let Some(named) = ctx.options.checks.invoker_role.as_deref() else {
        return Err("name the callers' identity with --invoker-role <ARN>".into());
    };
    let identity = resolve(ctx, named).await?;
    let invoker = Clients::new(&identity.config);
    let who = format!("{} {}", identity.kind.word(), identity.name);
    let mut ok = Vec::new();
    let mut problems = Vec::new();

    let can_poll = poll_probe(ctx, &invoker, &who, &mut ok, &mut problems).await;
    match submit(
        &invoker.runtime,
        &ctx.description.name,
        Some(ctx.probe().payload().to_vec()),
        None,
    )
    .await
    {
        Ok(submitted) => {
            ok.push(format!("invoke as {who} allowed"));
            let timeout = ctx.options.checks.result_timeout;
            // A caller that cannot poll still gets its result read once it is written: wait
            // with verify's own credentials, then read as the caller, so a missing
            // s3:GetObject is told apart from the missing s3:ListBucket named above.
            let waiting = if can_poll {
                &invoker.s3
            } else {
                &ctx.clients.s3
            };
            match wait_for_result(waiting, &submitted, timeout).await {
                Ok(landed) if !can_poll => {
                    read_landed(&invoker, &who, landed, &mut ok, &mut problems).await
                }
                Ok(Landed::Output(url, _)) => ok.push(format!("reading {url} allowed")),
                Ok(Landed::Failure(url, bytes)) => problems.push(format!(
                    "the request as {who} failed; {url} says: {}",
                    super::super::invoke::shown(&bytes)
                )),
                Err(e) => problems.push(format!("reading the result as {who}: {e}")),
            }
        }
        Err(f) => problems.push(format!(
            "invoking as {who}: runtime answered {}",
            f.summary()
        )),
    }

    let policies = match identity_policies(&ctx.clients.iam, &identity).await {
        Ok(p) => p,
        Err(e) => {
            problems.push(e);
            Vec::new()
        }
    };
    let granting: Vec<&Policy> = policies
        .iter()
        .filter(|p| !bodyline_provision::resources_allowing(&p.document, PUT_OBJECT).is_empty())
        .collect();
    let granted: Vec<String> = granting
        .iter()
        .flat_map(|p| bodyline_provision::resources_allowing(&p.document, PUT_OBJECT))
        .collect();

    let input = ctx
        .options
        .input_uri
        .as_deref()
        .and_then(S3Path::parse)
        .or_else(|| granted.iter().find_map(|r| input_from_grant(r)));
    let Some(input) = input else {
        ok.push(format!(
            "no s3:PutObject in the policies of {who}, and no --input-uri to probe"
        ));
        return verdict(ok, problems);
    };
    let key = input.key(&format!(
        "bodyline-verify-put-probe-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let url = format!("s3://{}/{key}", input.bucket);
    let method = match ctx.options.target {
        Target::Local => {
            "write probe: an object written and deleted again (moto has no SimulatePrincipalPolicy)"
        }
        Target::Aws => "write probe: an object written and deleted again",
    };
    let put = invoker
        .s3
        .put_object()
        .bucket(&input.bucket)
        .key(&key)
        .body(b"probe".to_vec().into())
        .send()
        .await;
    let allowed = match put {
        Ok(_) => {
            if let Err(left) = remove_probe(&invoker, &ctx.clients, &input.bucket, &key).await {
                problems.push(left);
            }
            true
        }
        Err(e) if AwsFailure::of(&e).is_access_denied() => false,
        Err(e) => {
            problems.push(format!(
                "s3:PutObject to {url} as {who} failed, but not with a denial: {}",
                AwsFailure::of(&e).summary()
            ));
            return verdict(ok, problems);
        }
    };
    if !allowed {
        ok.push(format!("s3:PutObject to {url} denied ({method})"));
        return verdict(ok, problems);
    }

    let report_path = ctx
        .options
        .migration_report
        .clone()
        .unwrap_or_else(|| DEFAULT_REPORT.into());
    let still = format!("{who} may still s3:PutObject to {url} ({method})");
    match MigrationReport::load(&report_path) {
        Err(e) => problems.push(format!("{still}; {e}")),
        Ok(None) => ok.push(format!(
            "{still}; no migration report at {}: run `bodyline migrate` to learn whether it can go",
            report_path.display()
        )),
        Ok(Some(report)) if report.needed => {
            let sites: Vec<String> = report
                .sites()
                .map(|(c, s)| format!("{}:{} ({})", s.path, s.line, c.name))
                .collect();
            ok.push(format!(
                "{still}, which {} still needs: {} call site(s) send input_location ({})",
                report_path.display(),
                sites.len(),
                sites.join(", ")
            ));
        }
        Ok(Some(report)) => {
            problems.push(removal(&still, &report_path, &report, &granting, &granted))
        }
    }
    verdict(ok, problems)
}

/// Polls a key under the output path that is never written, as the caller; `false` when S3
/// denies it, with the statement that would let the caller tell "not yet" from "denied".
async fn poll_probe(
    ctx: &EstateContext,
    invoker: &Clients,
    who: &str,
    ok: &mut Vec<String>,
    problems: &mut Vec<String>,
) -> bool {
    let Some(output) = S3Path::parse(&ctx.description.output_path) else {
        problems.push(format!(
            "the S3OutputPath {:?} is not an s3:// URL",
            ctx.description.output_path
        ));
        return true;
    };
    let key = output.key(&format!(
        "bodyline-verify-not-written-yet-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    ));
    let url = format!("s3://{}/{key}", output.bucket);
    match poll_not_written(&invoker.s3, &output.bucket, &key).await {
        Poll::NotFound => {
            ok.push(format!(
                "polling {url} (not written yet) as {who} answers not found"
            ));
            true
        }
        Poll::Denied => {
            let failure = ctx
                .description
                .failure_path
                .as_deref()
                .and_then(S3Path::parse);
            let results: Vec<&S3Path> = std::iter::once(&output)
                .chain(failure.iter().filter(|f| f.bucket == output.bucket))
                .collect();
            let statement = list_bucket_statement(&output.bucket, &results);
            problems.push(format!(
                "polling {url} (not written yet) as {who} was denied: without s3:ListBucket on arn:aws:s3:::{} S3 answers a result that is not written yet with 403 AccessDenied, not 404 NoSuchKey, so a caller that polls cannot tell \"not yet\" from \"denied\"; add to {who}'s policy:\n{}",
                output.bucket,
                serde_json::to_string_pretty(&statement).unwrap_or_default()
            ));
            false
        }
        Poll::Exists => {
            problems.push(format!("{url} exists, but verify never writes it"));
            true
        }
        Poll::Failed(why) => {
            problems.push(format!("polling {url} as {who} failed: {why}"));
            true
        }
    }
}

/// Reads a result that verify saw land, as the caller (one GetObject, no polling).
async fn read_landed(
    invoker: &Clients,
    who: &str,
    landed: Landed,
    ok: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    let url = match &landed {
        Landed::Output(url, _) | Landed::Failure(url, _) => url.clone(),
    };
    let Some(path) = S3Path::parse(&url) else {
        problems.push(format!("{url:?} is not an s3:// URL"));
        return;
    };
    match invoker
        .s3
        .get_object()
        .bucket(&path.bucket)
        .key(&path.prefix)
        .send()
        .await
    {
        Ok(_) => match landed {
            Landed::Output(..) => ok.push(format!("reading {url} once written allowed")),
            Landed::Failure(_, bytes) => problems.push(format!(
                "the request as {who} failed; {url} says: {}",
                super::super::invoke::shown(&bytes)
            )),
        },
        Err(e) => problems.push(format!(
            "reading {url} (written) as {who}: {}; {who} needs s3:GetObject on arn:aws:s3:::{}/{}",
            AwsFailure::of(&e).summary(),
            path.bucket,
            path.prefix
        )),
    }
}

/// The failure text: the grant, the reason it can go, and each policy without it as a diff.
fn removal(
    still: &str,
    report_path: &Path,
    report: &MigrationReport,
    granting: &[&Policy],
    granted: &[String],
) -> String {
    let mut out = format!(
        "{still}, but {} says no call site needs S3 input ({} crate(s) scanned): inline Body needs no upload",
        report_path.display(),
        report.crates.len()
    );
    if granting.is_empty() {
        out.push_str("; no policy of the identity itself grants it: look at its groups, its permissions boundary and the bucket policy");
        return out;
    }
    out.push_str(&format!(
        "; the grant: {PUT_OBJECT} on {}. Remove it:",
        granted.join(", ")
    ));
    for policy in granting {
        out.push('\n');
        out.push_str(&policy_diff(policy));
    }
    out
}

/// The policy document before and after removing every grant of `s3:PutObject`, as a unified
/// diff of the pretty-printed JSON.
pub(crate) fn policy_diff(policy: &Policy) -> String {
    let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
    let before = pretty(&policy.document);
    let after = pretty(&without_put_object(&policy.document));
    similar::TextDiff::from_lines(&before, &after)
        .unified_diff()
        .context_radius(3)
        .header(
            &policy.source,
            &format!("{} without {PUT_OBJECT}", policy.source),
        )
        .to_string()
        .trim_end()
        .to_string()
}

/// Whether an `Allow` statement grants `s3:PutObject` (by name or wildcard), by provision's rule.
fn grants_put(statement: &Value) -> bool {
    !bodyline_provision::resources_allowing(&json!({ "Statement": [statement] }), PUT_OBJECT)
        .is_empty()
}

/// The document with every `s3:PutObject` grant gone: a statement whose every action covers it
/// is deleted; from one that also grants other actions only the covering actions are removed.
pub(crate) fn without_put_object(document: &Value) -> Value {
    let mut out = document.clone();
    let statements: Vec<Value> = match document.get("Statement") {
        Some(Value::Array(list)) => list.clone(),
        Some(one) => vec![one.clone()],
        None => return out,
    };
    let kept: Vec<Value> = statements
        .into_iter()
        .filter_map(|st| {
            if !grants_put(&st) {
                return Some(st);
            }
            let actions: Vec<Value> = match st.get("Action") {
                Some(Value::Array(a)) => a.clone(),
                Some(one) => vec![one.clone()],
                None => Vec::new(),
            };
            let others: Vec<Value> = actions
                .into_iter()
                .filter(|a| !grants_put(&json!({"Effect": "Allow", "Action": a, "Resource": "*"})))
                .collect();
            if others.is_empty() {
                return None;
            }
            let mut st = st;
            st["Action"] = if others.len() == 1 {
                others[0].clone()
            } else {
                Value::Array(others)
            };
            Some(st)
        })
        .collect();
    out["Statement"] = Value::Array(kept);
    out
}

/// `arn:aws:s3:::bucket/input/*` → `s3://bucket/input/` (where a probe object may go); `None`
/// for a grant on one exact key (a probe there could overwrite it) or without a bucket.
fn input_from_grant(resource: &str) -> Option<S3Path> {
    let rest = resource.strip_prefix("arn:aws:s3:::")?;
    let (bucket, pattern) = rest.split_once('/')?;
    let wildcard = pattern.find(['*', '?'])?;
    if bucket.is_empty() || bucket.contains(['*', '?']) {
        return None;
    }
    // Only the literal part before the first wildcard, up to its last `/`.
    let literal = &pattern[..wildcard];
    let prefix = literal.rfind('/').map_or("", |i| &literal[..i]);
    Some(S3Path::new(bucket, prefix))
}

/// Deletes the probe object as the invoker, else as the caller; says what is left if neither may.
async fn remove_probe(
    invoker: &Clients,
    caller: &Clients,
    bucket: &str,
    key: &str,
) -> Result<(), String> {
    let mut refusals = Vec::new();
    for (who, clients) in [("the invoker", invoker), ("the caller", caller)] {
        match clients
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => return Ok(()),
            Err(e) => refusals.push(format!("as {who}: {}", AwsFailure::of(&e).summary())),
        }
    }
    Err(format!(
        "the probe object s3://{bucket}/{key} could not be deleted ({}); delete it by hand",
        refusals.join("; ")
    ))
}

/// Whether a trust policy has a statement whose principal names no `AWS` identity (moto's
/// `AssumeRole` fails on such a statement).
pub(crate) fn trusts_only_services(trust: &Value) -> bool {
    let statements: Vec<&Value> = match trust.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    };
    statements.iter().any(|st| {
        st.get("Principal")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.contains_key("AWS"))
    })
}

/// The identity `--invoker-role` names, with credentials: a role is assumed; a user (local
/// target only) uses the keys the caller passed.
async fn resolve(ctx: &EstateContext, named: &str) -> Result<Identity, String> {
    let local = ctx.options.target == Target::Local;
    let aws_rule = "on the aws target, --invoker-role takes a role ARN (arn:aws:iam::<account>:role/<name>) that the caller may assume";
    let (kind, name, arn) = if let Some(rest) = named.strip_prefix("arn:") {
        let resource = rest.splitn(5, ':').nth(4).unwrap_or_default();
        let last = resource.rsplit('/').next().unwrap_or(resource).to_string();
        if resource.starts_with("role/") {
            (Kind::Role, last, named.to_string())
        } else if resource.starts_with("user/") && local {
            (Kind::User, last, named.to_string())
        } else if local {
            return Err(format!(
                "--invoker-role {named}: not an IAM role or user ARN; name a role or a user"
            ));
        } else {
            return Err(format!("--invoker-role {named}: {aws_rule}"));
        }
    } else if !local {
        return Err(format!("--invoker-role {named}: {aws_rule}"));
    } else {
        let iam = &ctx.clients.iam;
        match iam.get_role().role_name(named).send().await {
            Ok(out) => (
                Kind::Role,
                named.to_string(),
                out.role().map(|r| r.arn().to_string()).unwrap_or_default(),
            ),
            Err(e) if AwsFailure::of(&e).is_not_found() => {
                match iam.get_user().user_name(named).send().await {
                    Ok(out) => (
                        Kind::User,
                        named.to_string(),
                        out.user().map(|u| u.arn().to_string()).unwrap_or_default(),
                    ),
                    Err(e) if AwsFailure::of(&e).is_not_found() => {
                        return Err(format!(
                            "--invoker-role {named}: there is no IAM role or user of that name on the local target; check the name (`aws iam list-roles`, `aws iam list-users`)"
                        ))
                    }
                    Err(e) => {
                        return Err(format!("GetUser {named}: {}", AwsFailure::of(&e).summary()))
                    }
                }
            }
            Err(e) => return Err(format!("GetRole {named}: {}", AwsFailure::of(&e).summary())),
        }
    };
    let credentials = match kind {
        Kind::Role => assume(ctx, &arn).await?,
        Kind::User => {
            let Some((id, secret)) = ctx.options.invoker_keys.clone() else {
                return Err(format!(
                    "--invoker-role names the IAM user {name}: bodyline cannot read a user's secret key; pass one of its access keys (the CLI reads BODYLINE_INVOKER_ACCESS_KEY_ID and BODYLINE_INVOKER_SECRET_ACCESS_KEY)"
                ));
            };
            bodyline_aws::static_credentials(&id, &secret)
        }
    };
    Ok(Identity {
        kind,
        name,
        config: bodyline_aws::with_credentials(&ctx.config, credentials),
    })
}

async fn assume(ctx: &EstateContext, role: &str) -> Result<Credentials, String> {
    bodyline_aws::assume_role(&ctx.clients.sts, role, "bodyline-verify")
        .await
        .map_err(|e| match e {
            AssumeError::Refused { failure, .. } => {
                let hint = if ctx.options.target == Target::Local && failure.status == Some(500) {
                    "; moto's AssumeRole fails on a trust policy whose principal has no AWS key: on the local target name a role that trusts an AWS principal, or the user the callers run as"
                } else {
                    "; the caller must be allowed sts:AssumeRole on it and be trusted by it"
                };
                format!("AssumeRole {role}: {}{hint}", failure.summary())
            }
            other => other.to_string(),
        })
}

/// The identity's inline and attached managed policies (read calls only).
async fn identity_policies(
    iam: &aws_sdk_iam::Client,
    identity: &Identity,
) -> Result<Vec<Policy>, String> {
    let name = &identity.name;
    let who = format!("{} {name}", identity.kind.word());
    let failed = |op: &str, e: String| {
        format!(
            "{op} for {who}: {e}; the caller needs read access to IAM to show the policy change"
        )
    };
    let mut inline = Vec::new();
    let mut attached = Vec::new();
    match identity.kind {
        Kind::Role => {
            let names = iam
                .list_role_policies()
                .role_name(name)
                .send()
                .await
                .map_err(|e| failed("ListRolePolicies", AwsFailure::of(&e).summary()))?;
            for policy in names.policy_names() {
                let out = iam
                    .get_role_policy()
                    .role_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| failed("GetRolePolicy", AwsFailure::of(&e).summary()))?;
                inline.push((policy.clone(), out.policy_document().to_string()));
            }
            let out = iam
                .list_attached_role_policies()
                .role_name(name)
                .send()
                .await
                .map_err(|e| failed("ListAttachedRolePolicies", AwsFailure::of(&e).summary()))?;
            attached.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
        }
        Kind::User => {
            let names = iam
                .list_user_policies()
                .user_name(name)
                .send()
                .await
                .map_err(|e| failed("ListUserPolicies", AwsFailure::of(&e).summary()))?;
            for policy in names.policy_names() {
                let out = iam
                    .get_user_policy()
                    .user_name(name)
                    .policy_name(policy)
                    .send()
                    .await
                    .map_err(|e| failed("GetUserPolicy", AwsFailure::of(&e).summary()))?;
                inline.push((policy.clone(), out.policy_document().to_string()));
            }
            let out = iam
                .list_attached_user_policies()
                .user_name(name)
                .send()
                .await
                .map_err(|e| failed("ListAttachedUserPolicies", AwsFailure::of(&e).summary()))?;
            attached.extend(
                out.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
        }
    }
    let mut policies = Vec::new();
    for (policy, text) in inline {
        let source = format!("inline policy {policy} of {who}");
        let document = bodyline_provision::decode_policy_document(&source, &text)
            .map_err(|e| e.to_string())?;
        policies.push(Policy { source, document });
    }
    for arn in attached {
        let described = iam
            .get_policy()
            .policy_arn(&arn)
            .send()
            .await
            .map_err(|e| failed("GetPolicy", AwsFailure::of(&e).summary()))?;
        let Some(version) = described.policy().and_then(|p| p.default_version_id()) else {
            continue;
        };
        let out = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| failed("GetPolicyVersion", AwsFailure::of(&e).summary()))?;
        let text = out
            .policy_version()
            .and_then(|v| v.document())
            .unwrap_or_default();
        let source = format!("managed policy {arn} ({version}), attached to {who}");
        let document =
            bodyline_provision::decode_policy_document(&source, text).map_err(|e| e.to_string())?;
        policies.push(Policy { source, document });
    }
    Ok(policies)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removing_put_object_deletes_or_trims_the_granting_statements() {
        let doc = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "Invoke", "Effect": "Allow", "Action": "sagemaker:InvokeEndpointAsync", "Resource": "*"},
            {"Sid": "Upload", "Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/input/*"},
            {"Sid": "Mixed", "Effect": "Allow", "Action": ["s3:GetObject", "s3:Put*"], "Resource": "arn:aws:s3:::b/output/*"}
        ]});
        let after = without_put_object(&doc);
        assert_eq!(
            after["Statement"],
            json!([
                {"Sid": "Invoke", "Effect": "Allow", "Action": "sagemaker:InvokeEndpointAsync", "Resource": "*"},
                {"Sid": "Mixed", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/output/*"}
            ])
        );
        let diff = policy_diff(&Policy {
            source: "inline policy p of role r".into(),
            document: doc,
        });
        assert!(
            diff.starts_with(
                "--- inline policy p of role r\n+++ inline policy p of role r without s3:PutObject"
            ),
            "{diff}"
        );
        assert!(diff.contains("-      \"Sid\": \"Upload\""), "{diff}");
        assert!(diff.contains("-        \"s3:Put*\""), "{diff}");
        assert!(!diff.contains("-      \"Sid\": \"Invoke\""), "{diff}");
    }

    #[test]
    fn probe_locations_come_from_wildcard_grants_only() {
        assert_eq!(
            input_from_grant("arn:aws:s3:::b/input/*"),
            Some(S3Path::new("b", "input"))
        );
        assert_eq!(
            input_from_grant("arn:aws:s3:::b/in/req-*"),
            Some(S3Path::new("b", "in"))
        );
        assert_eq!(
            input_from_grant("arn:aws:s3:::b/*"),
            Some(S3Path::new("b", ""))
        );
        assert_eq!(input_from_grant("arn:aws:s3:::b/exact-key"), None);
        assert_eq!(input_from_grant("*"), None);
        assert_eq!(input_from_grant("arn:aws:s3:::*/x/*"), None);
    }

    #[test]
    fn service_only_trust_is_recognised() {
        let service = json!({"Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "sagemaker.amazonaws.com"}}]});
        let both = json!({"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"Service": "sagemaker.amazonaws.com", "AWS": "arn:aws:iam::1:root"}}});
        assert!(trusts_only_services(&service));
        assert!(!trusts_only_services(&both));
    }
}
