//! A narrow IAM policy check for the one place moto cannot do it: SNS.
//!
//! moto evaluates every SNS statement as if the resource were `*` (only S3, SQS, IAM and STS
//! get real resources), so a least-privilege role allowed `sns:Publish` on exactly its topics is
//! denied locally. When moto denies a role's `Publish`, the runtime reads the role's own policies
//! and, if they allow `sns:Publish` on that topic (and deny nothing of it), publishes with the
//! control plane's credentials instead. A role without that permission stays denied.

use serde_json::Value;

/// Whether the role `role_arn` is allowed `action` on `resource` by its inline and attached
/// policies: some Allow statement matches and no Deny statement does. Conditions, `NotAction`
/// and `NotResource` statements are not evaluated (they never grant here).
pub(crate) async fn role_allows(
    iam: &aws_sdk_iam::Client,
    role_arn: &str,
    action: &str,
    resource: &str,
) -> Result<bool, String> {
    let documents = role_documents(iam, role_arn).await?;
    let mut allowed = false;
    for document in &documents {
        for statement in statements(document) {
            if !matches_any(&statement["Action"], action)
                || !matches_any(&statement["Resource"], resource)
            {
                continue;
            }
            match statement["Effect"].as_str() {
                Some("Deny") => return Ok(false),
                Some("Allow") => allowed = true,
                _ => {}
            }
        }
    }
    Ok(allowed)
}

async fn role_documents(iam: &aws_sdk_iam::Client, role_arn: &str) -> Result<Vec<Value>, String> {
    let role_name = role_arn.rsplit('/').next().unwrap_or(role_arn);
    let failed = |what: &str, e: String| {
        format!("reading the policies of role {role_name} ({what}) failed: {e}")
    };
    let mut documents = Vec::new();
    let inline = iam
        .list_role_policies()
        .role_name(role_name)
        .send()
        .await
        .map_err(|e| {
            failed(
                "ListRolePolicies",
                aws_sdk_iam::error::DisplayErrorContext(&e).to_string(),
            )
        })?;
    for name in inline.policy_names() {
        let policy = iam
            .get_role_policy()
            .role_name(role_name)
            .policy_name(name)
            .send()
            .await
            .map_err(|e| {
                failed(
                    "GetRolePolicy",
                    aws_sdk_iam::error::DisplayErrorContext(&e).to_string(),
                )
            })?;
        documents.push(parse(policy.policy_document())?);
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role_name)
        .send()
        .await
        .map_err(|e| {
            failed(
                "ListAttachedRolePolicies",
                aws_sdk_iam::error::DisplayErrorContext(&e).to_string(),
            )
        })?;
    for policy in attached.attached_policies() {
        let Some(arn) = policy.policy_arn() else {
            continue;
        };
        let described = iam.get_policy().policy_arn(arn).send().await.map_err(|e| {
            failed(
                "GetPolicy",
                aws_sdk_iam::error::DisplayErrorContext(&e).to_string(),
            )
        })?;
        let Some(version) = described.policy().and_then(|p| p.default_version_id()) else {
            continue;
        };
        let version = iam
            .get_policy_version()
            .policy_arn(arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| {
                failed(
                    "GetPolicyVersion",
                    aws_sdk_iam::error::DisplayErrorContext(&e).to_string(),
                )
            })?;
        if let Some(document) = version.policy_version().and_then(|v| v.document()) {
            documents.push(parse(document)?);
        }
    }
    Ok(documents)
}

/// Policy documents come back percent-encoded from IAM (as on AWS).
fn parse(document: &str) -> Result<Value, String> {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&decoded).map_err(|e| format!("a policy document is not JSON: {e}"))
}

fn statements(document: &Value) -> Vec<&Value> {
    match &document["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&document["Statement"]],
        _ => Vec::new(),
    }
}

fn matches_any(patterns: &Value, value: &str) -> bool {
    match patterns {
        Value::String(p) => glob(p, value),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .any(|p| glob(p, value)),
        _ => false,
    }
}

/// IAM wildcards: `*` any run, `?` one character; case-insensitive (right for actions, and
/// ARNs here only differ by case when they differ anyway).
fn glob(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.to_lowercase().chars().collect();
    let v: Vec<char> = value.to_lowercase().chars().collect();
    let (mut pi, mut vi, mut star, mut mark) = (0, 0, None, 0);
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = vi;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            vi = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("sns:*", "sns:Publish"));
        assert!(glob("SNS:publish", "sns:Publish"));
        assert!(glob(
            "arn:aws:sns:*:123:topic-?",
            "arn:aws:sns:us-east-1:123:topic-a"
        ));
        assert!(!glob(
            "arn:aws:sns:*:123:topic",
            "arn:aws:sns:us-east-1:123:topic-a"
        ));
        assert!(glob("*", ""));
    }

    #[test]
    fn statements_allow_and_deny() {
        let doc: Value = serde_json::json!({"Statement": [
            {"Effect": "Allow", "Action": ["sns:Publish"], "Resource": ["arn:t1", "arn:t2"]},
            {"Effect": "Deny", "Action": "sns:*", "Resource": "arn:t2"}
        ]});
        let s = statements(&doc);
        assert!(
            matches_any(&s[0]["Action"], "sns:Publish") && matches_any(&s[0]["Resource"], "arn:t1")
        );
        assert!(!matches_any(&s[0]["Resource"], "arn:t3"));
        assert!(matches_any(&s[1]["Resource"], "arn:t2"));
    }
}
