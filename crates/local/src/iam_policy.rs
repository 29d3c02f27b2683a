//! IAM for the local stack's own emulations, where moto's evaluation falls short: a principal's
//! identity policies as moto's IAM holds them, and their evaluation as IAM does it.
//!
//! moto matches SNS and SageMaker statements as if every resource were `*`, and it ignores
//! conditions in identity policies (it evaluates only `StringEquals` on keys it never fills in).
//! [`allows`] evaluates `Action`/`NotAction`, `Resource`/`NotResource` and the string
//! conditions on the keys a caller provides; an explicit `Deny` wins. Bucket policies,
//! permission boundaries and session policies are not read.

use aws_sdk_iam::error::DisplayErrorContext;
use serde_json::Value;

/// Whose identity policies to read.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Principal {
    /// An IAM user, by name: its inline and attached policies and its groups'.
    User(String),
    /// An IAM role, by name: its inline and attached policies.
    Role(String),
}

impl Principal {
    /// The role of a role ARN (`arn:aws:iam::1:role/path/name`) or of an assumed-role ARN
    /// (`arn:aws:sts::1:assumed-role/name/session`).
    pub(crate) fn role_of(arn: &str) -> Option<Principal> {
        let resource = arn.splitn(6, ':').nth(5)?;
        let name = if let Some(rest) = resource.strip_prefix("assumed-role/") {
            rest.split('/').next()?
        } else {
            resource.strip_prefix("role/")?.rsplit('/').next()?
        };
        (!name.is_empty()).then(|| Principal::Role(name.to_string()))
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::User(name) => write!(f, "user {name}"),
            Principal::Role(name) => write!(f, "role {name}"),
        }
    }
}

/// The documents of attached managed policies, in order.
async fn attached_documents(
    iam: &aws_sdk_iam::Client,
    attached: &[aws_sdk_iam::types::AttachedPolicy],
) -> Result<Vec<Value>, String> {
    let mut documents = Vec::new();
    for policy in attached {
        documents.extend(managed(iam, policy.policy_arn()).await?);
    }
    Ok(documents)
}

/// The inline and attached managed policy documents of one identity (a role, a user or a
/// group): the three IAM reads have the same shape for each, under their own names. Fails
/// with `Op name: error`.
macro_rules! identity_documents {
    ($iam:expr, $name:expr, $set_name:ident, $list_inline:ident, $get_inline:ident,
     $list_attached:ident, [$list_op:literal, $get_op:literal, $attached_op:literal]) => {
        async {
            let (iam, name) = ($iam, $name);
            let mut documents = Vec::new();
            let inline = iam
                .$list_inline()
                .$set_name(name)
                .send()
                .await
                .map_err(|e| format!("{} {name}: {}", $list_op, DisplayErrorContext(&e)))?;
            for policy_name in inline.policy_names() {
                let policy = iam
                    .$get_inline()
                    .$set_name(name)
                    .policy_name(policy_name)
                    .send()
                    .await
                    .map_err(|e| format!("{} {name}: {}", $get_op, DisplayErrorContext(&e)))?;
                documents.push(parse(policy.policy_document())?);
            }
            let attached = iam
                .$list_attached()
                .$set_name(name)
                .send()
                .await
                .map_err(|e| format!("{} {name}: {}", $attached_op, DisplayErrorContext(&e)))?;
            documents.extend(attached_documents(iam, attached.attached_policies()).await?);
            Ok::<Vec<Value>, String>(documents)
        }
    };
}

/// Every identity policy document of `principal`, read with `iam` (administrator credentials):
/// a role's own; a user's own and those of each of its groups.
pub(crate) async fn documents(
    iam: &aws_sdk_iam::Client,
    principal: &Principal,
) -> Result<Vec<Value>, String> {
    let failed = |e: String| format!("reading the policies of {principal}: {e}");
    match principal {
        Principal::Role(role) => identity_documents!(
            iam,
            role.as_str(),
            role_name,
            list_role_policies,
            get_role_policy,
            list_attached_role_policies,
            [
                "ListRolePolicies",
                "GetRolePolicy",
                "ListAttachedRolePolicies"
            ]
        )
        .await
        .map_err(failed),
        Principal::User(user) => {
            let mut documents = identity_documents!(
                iam,
                user.as_str(),
                user_name,
                list_user_policies,
                get_user_policy,
                list_attached_user_policies,
                [
                    "ListUserPolicies",
                    "GetUserPolicy",
                    "ListAttachedUserPolicies"
                ]
            )
            .await
            .map_err(failed)?;
            let groups = iam
                .list_groups_for_user()
                .user_name(user)
                .send()
                .await
                .map_err(|e| {
                    failed(format!(
                        "ListGroupsForUser {user}: {}",
                        DisplayErrorContext(&e)
                    ))
                })?;
            for group in groups.groups() {
                documents.extend(
                    identity_documents!(
                        iam,
                        group.group_name(),
                        group_name,
                        list_group_policies,
                        get_group_policy,
                        list_attached_group_policies,
                        [
                            "ListGroupPolicies",
                            "GetGroupPolicy",
                            "ListAttachedGroupPolicies"
                        ]
                    )
                    .await
                    .map_err(failed)?,
                );
            }
            Ok(documents)
        }
    }
}

/// The default version of the managed policy `arn` (none for a policy without one).
async fn managed(iam: &aws_sdk_iam::Client, arn: Option<&str>) -> Result<Option<Value>, String> {
    let Some(arn) = arn else {
        return Ok(None);
    };
    let described = iam
        .get_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| format!("GetPolicy {arn}: {}", DisplayErrorContext(&e)))?;
    let Some(version) = described.policy().and_then(|p| p.default_version_id()) else {
        return Ok(None);
    };
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(version)
        .send()
        .await
        .map_err(|e| format!("GetPolicyVersion {arn}: {}", DisplayErrorContext(&e)))?;
    version
        .policy_version()
        .and_then(|v| v.document())
        .map(parse)
        .transpose()
}

/// Policy documents come back percent-encoded from IAM (as on AWS).
fn parse(document: &str) -> Result<Value, String> {
    let decoded = percent_encoding::percent_decode_str(document).decode_utf8_lossy();
    serde_json::from_str(&decoded).map_err(|e| format!("a policy document is not JSON: {e}"))
}

/// Whether `documents` allow `action` on `resource` for a request with the condition keys
/// `context` (name, value): some `Allow` statement applies and no `Deny` statement does.
pub(crate) fn allows(
    documents: &[Value],
    action: &str,
    resource: &str,
    context: &[(&str, &str)],
) -> bool {
    let mut allowed = false;
    for statement in documents.iter().flat_map(statements) {
        if !applies(statement, action, resource, context) {
            continue;
        }
        match statement["Effect"].as_str() {
            Some("Deny") => return false,
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    allowed
}

fn statements(document: &Value) -> Vec<&Value> {
    match &document["Statement"] {
        Value::Array(items) => items.iter().collect(),
        Value::Object(_) => vec![&document["Statement"]],
        _ => Vec::new(),
    }
}

fn applies(statement: &Value, action: &str, resource: &str, context: &[(&str, &str)]) -> bool {
    // Actions are case-insensitive in IAM; resources (object keys) are not.
    let action_matches = element_matches(statement, "Action", "NotAction", |p| {
        glob(&p.to_ascii_lowercase(), &action.to_ascii_lowercase())
    });
    let resource_matches =
        element_matches(statement, "Resource", "NotResource", |p| glob(p, resource));
    action_matches && resource_matches && conditions_hold(&statement["Condition"], context)
}

/// `Action` (or `Resource`) lists a match; or `NotAction` (`NotResource`) lists none.
fn element_matches(
    statement: &Value,
    key: &str,
    not_key: &str,
    matches: impl Fn(&str) -> bool,
) -> bool {
    if let Some(patterns) = statement.get(key) {
        strings(patterns).into_iter().any(&matches)
    } else if let Some(patterns) = statement.get(not_key) {
        !strings(patterns).into_iter().any(&matches)
    } else {
        false
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Every operator of a `Condition` block holds. A key the request does not carry is absent, as
/// on AWS: only `…IfExists`, `ForAllValues:…` and `Null: true` hold then. An operator this
/// evaluator does not know (numeric, date, IP) never holds.
fn conditions_hold(condition: &Value, context: &[(&str, &str)]) -> bool {
    let Some(operators) = condition.as_object() else {
        return true;
    };
    operators.iter().all(|(operator, keys)| {
        keys.as_object().is_some_and(|keys| {
            keys.iter().all(|(key, expected)| {
                let actual = context
                    .iter()
                    .find(|(name, _)| name.eq_ignore_ascii_case(key))
                    .map(|(_, value)| *value);
                operator_holds(operator, &strings(expected), actual)
            })
        })
    })
}

fn operator_holds(operator: &str, expected: &[&str], actual: Option<&str>) -> bool {
    let (for_all, operator) = match operator.split_once(':') {
        Some(("ForAllValues", op)) => (true, op),
        Some(("ForAnyValue", op)) => (false, op),
        Some(_) => return false,
        None => (false, operator),
    };
    let (if_exists, operator) = match operator.strip_suffix("IfExists") {
        Some(op) => (true, op),
        None => (false, operator),
    };
    if operator == "Null" {
        let absent = actual.is_none();
        return expected
            .iter()
            .any(|e| e.eq_ignore_ascii_case(&absent.to_string()));
    }
    let Some(actual) = actual else {
        return if_exists || for_all;
    };
    let equal = expected.contains(&actual);
    let equal_ignoring_case = expected.iter().any(|e| e.eq_ignore_ascii_case(actual));
    let like = expected.iter().any(|e| glob(e, actual));
    match operator {
        "StringEquals" | "ArnEquals" => equal,
        "StringNotEquals" | "ArnNotEquals" => !equal,
        "StringEqualsIgnoreCase" | "Bool" => equal_ignoring_case,
        "StringNotEqualsIgnoreCase" => !equal_ignoring_case,
        "StringLike" | "ArnLike" => like,
        "StringNotLike" | "ArnNotLike" => !like,
        _ => false,
    }
}

/// IAM wildcards: `*` any run, `?` one character; case-sensitive (callers lower-case actions).
fn glob(pattern: &str, value: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
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
    use serde_json::json;

    use super::*;

    const BUCKET: &str = "arn:aws:s3:::b";

    fn invoker() -> Value {
        json!({"Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": ["arn:aws:s3:::b/output/*"]},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": BUCKET,
             "Condition": {"StringLike": {"s3:prefix": ["output/*", "failure/*"]}}}
        ]})
    }

    #[test]
    fn globs_match_like_iam() {
        assert!(glob("sns:*", "sns:publish"));
        assert!(glob(
            "arn:aws:sns:*:123:topic-?",
            "arn:aws:sns:us-east-1:123:topic-a"
        ));
        assert!(!glob(
            "arn:aws:sns:*:123:topic",
            "arn:aws:sns:us-east-1:123:topic-a"
        ));
        assert!(!glob("output/*", "Output/a"));
        assert!(glob("*", ""));
    }

    #[test]
    fn a_prefix_condition_scopes_list_bucket() {
        let docs = [invoker()];
        let list = |prefix: Option<&str>| {
            let context: Vec<(&str, &str)> = prefix.map(|p| ("s3:prefix", p)).into_iter().collect();
            allows(&docs, "s3:ListBucket", BUCKET, &context)
        };
        assert!(list(Some("output/abc.out")));
        assert!(list(Some("failure/")));
        assert!(!list(Some("input/abc")));
        assert!(!list(Some("output")));
        // No prefix at all: the condition key is absent, so the statement does not apply.
        assert!(!list(None));
        // Action case does not matter; the bucket must be this one.
        assert!(allows(
            &docs,
            "S3:LISTBUCKET",
            BUCKET,
            &[("s3:prefix", "output/a")]
        ));
        assert!(!allows(
            &docs,
            "s3:ListBucket",
            "arn:aws:s3:::other",
            &[("s3:prefix", "output/a")]
        ));
    }

    #[test]
    fn deny_wins_and_not_elements_invert() {
        let docs = [
            json!({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}}),
            json!({"Statement": [{"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": BUCKET}]}),
        ];
        assert!(!allows(&docs, "s3:ListBucket", BUCKET, &[]));
        assert!(allows(&docs, "s3:GetObject", BUCKET, &[]));
        assert!(allows(&docs, "s3:ListBucket", "arn:aws:s3:::other", &[]));
        let not_resource = [
            json!({"Statement": {"Effect": "Allow", "Action": "s3:ListBucket", "NotResource": BUCKET}}),
        ];
        assert!(!allows(&not_resource, "s3:ListBucket", BUCKET, &[]));
        assert!(allows(
            &not_resource,
            "s3:ListBucket",
            "arn:aws:s3:::other",
            &[]
        ));
    }

    #[test]
    fn conditions_follow_iams_rules_for_absent_keys_and_operators() {
        let prefix = Some("input/a");
        assert!(operator_holds("StringNotLike", &["output/*"], prefix));
        assert!(!operator_holds("StringNotLike", &["input/*"], prefix));
        assert!(operator_holds("StringEquals", &["input/a"], prefix));
        assert!(!operator_holds("StringEquals", &["input/A"], prefix));
        assert!(operator_holds(
            "StringEqualsIgnoreCase",
            &["input/A"],
            prefix
        ));
        assert!(operator_holds("ForAnyValue:StringLike", &["in*"], prefix));
        assert!(!operator_holds("StringLike", &["in*"], None));
        assert!(operator_holds("StringLikeIfExists", &["in*"], None));
        assert!(operator_holds("ForAllValues:StringLike", &["in*"], None));
        assert!(operator_holds("Null", &["true"], None));
        assert!(!operator_holds("Null", &["true"], prefix));
        // Unknown operators never hold, so an Allow that needs one grants nothing.
        assert!(!operator_holds("NumericLessThan", &["3"], Some("2")));
        assert!(!operator_holds("Other:StringLike", &["*"], prefix));
    }

    #[test]
    fn role_names_come_from_role_and_assumed_role_arns() {
        assert_eq!(
            Principal::role_of("arn:aws:sts::123456789012:assumed-role/app/session-1"),
            Some(Principal::Role("app".into()))
        );
        assert_eq!(
            Principal::role_of("arn:aws:iam::123456789012:role/service/app"),
            Some(Principal::Role("app".into()))
        );
        assert_eq!(Principal::role_of("arn:aws:iam::123456789012:user/u"), None);
    }
}
