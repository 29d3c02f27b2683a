//! IAM policy lint: the least-privilege rules every policy bodyline writes (and verify reads) obeys.
//!
//! Only `Allow` statements are judged: a wildcard in a `Deny` narrows access (the TLS-only
//! bucket policy denies `s3:*`), it never widens it.

use serde_json::Value;

/// A least-privilege rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub enum LintRule {
    /// An allowed action contains `*`, or the statement allows `NotAction`.
    WildcardAction,
    /// `Resource: "*"` (or `NotResource`) on an action outside the allow-list
    /// (`ecr:GetAuthorizationToken`; `cloudwatch:PutMetricData` with a `cloudwatch:namespace`
    /// condition).
    WildcardResource,
    /// `iam:PassRole` without an `iam:PassedToService` condition.
    PassRoleWithoutService,
    /// `s3:ListBucket` on anything but a bucket ARN (`arn:aws:s3:::<bucket>`, no `/`, no
    /// wildcard): it applies to buckets only, and one bucket is named exactly.
    ListBucketNotOnBucket,
    /// `s3:ListBucket` without an `s3:prefix` condition: it would list the whole bucket.
    ListBucketWithoutPrefix,
}

impl std::fmt::Display for LintRule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LintRule::WildcardAction => "no wildcard actions",
            LintRule::WildcardResource => "no Resource \"*\" outside the allow-list",
            LintRule::PassRoleWithoutService => {
                "iam:PassRole needs an iam:PassedToService condition"
            }
            LintRule::ListBucketNotOnBucket => {
                "s3:ListBucket only on a bucket ARN (arn:aws:s3:::<bucket>)"
            }
            LintRule::ListBucketWithoutPrefix => "s3:ListBucket needs an s3:prefix condition",
        })
    }
}

/// One broken rule in one statement.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Finding {
    /// The statement: its `Sid`, or `#<index>` when it has none.
    pub statement: String,
    /// The rule it breaks.
    pub rule: LintRule,
    /// The offending action or resource, and the fix.
    pub detail: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "statement {}: {}: {}",
            self.statement, self.rule, self.detail
        )
    }
}

/// Checks a policy document against every rule and returns all findings (empty: it passes).
pub fn lint_document(document: &Value) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (i, st) in statements(document).into_iter().enumerate() {
        if st.get("Effect").and_then(Value::as_str) != Some("Allow") {
            continue;
        }
        let id = st
            .get("Sid")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{i}"), str::to_string);
        let mut found = |rule, detail: String| {
            findings.push(Finding {
                statement: id.clone(),
                rule,
                detail,
            })
        };
        let actions = strings(st.get("Action"));
        let resources = strings(st.get("Resource"));
        let condition_keys = condition_keys(st.get("Condition"));
        let has_condition = |key: &str| condition_keys.iter().any(|k| k.eq_ignore_ascii_case(key));

        if st.get("NotAction").is_some() {
            found(
                LintRule::WildcardAction,
                "NotAction in an Allow grants every other action; list the actions instead".into(),
            );
        }
        for action in actions.iter().filter(|a| a.contains('*')) {
            found(
                LintRule::WildcardAction,
                format!("{action:?}; name each action the role needs"),
            );
        }
        let allow_listed = |action: &str| {
            action.eq_ignore_ascii_case("ecr:GetAuthorizationToken")
                || (action.eq_ignore_ascii_case("cloudwatch:PutMetricData")
                    && has_condition("cloudwatch:namespace"))
        };
        if st.get("NotResource").is_some() {
            found(
                LintRule::WildcardResource,
                "NotResource in an Allow grants every other resource; list the resources instead"
                    .into(),
            );
        }
        if resources.iter().any(|r| r == "*") {
            for action in actions.iter().filter(|a| !allow_listed(a)) {
                found(
                    LintRule::WildcardResource,
                    format!("{action:?} on \"*\"; scope it to the resource ARNs it needs"),
                );
            }
        }
        if actions
            .iter()
            .any(|a| a.eq_ignore_ascii_case("iam:PassRole"))
            && !has_condition("iam:PassedToService")
        {
            found(
                LintRule::PassRoleWithoutService,
                "add Condition {\"StringEquals\": {\"iam:PassedToService\": \"sagemaker.amazonaws.com\"}}".into(),
            );
        }
        if actions
            .iter()
            .any(|a| a.eq_ignore_ascii_case("s3:ListBucket"))
        {
            // `"*"` is already a WildcardResource finding.
            for r in resources.iter().filter(|r| *r != "*" && !is_bucket_arn(r)) {
                found(
                    LintRule::ListBucketNotOnBucket,
                    format!("{r:?}; name the bucket ARN (arn:aws:s3:::<bucket>) with an s3:prefix condition"),
                );
            }
            if !has_condition("s3:prefix") {
                found(
                    LintRule::ListBucketWithoutPrefix,
                    "add Condition {\"StringLike\": {\"s3:prefix\": [\"<prefix>/*\"]}} naming the prefixes it may list".into(),
                );
            }
        }
    }
    findings
}

/// A policy document in a canonical form for comparison: a single string where a list is
/// allowed becomes a one-item list, and lists are sorted, so `"a"` equals `["a"]`.
pub fn normalize_document(document: &Value) -> Value {
    fn norm(key: Option<&str>, v: &Value) -> Value {
        const LISTS: [&str; 6] = [
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Service",
            "AWS",
        ];
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), norm(Some(k), v)))
                    .collect(),
            ),
            Value::Array(items) if key.is_some_and(|k| LISTS.contains(&k)) => {
                let mut items: Vec<Value> = items.iter().map(|i| norm(None, i)).collect();
                items.sort_by_key(|i| i.to_string());
                items.dedup();
                Value::Array(items)
            }
            Value::String(_) if key.is_some_and(|k| LISTS.contains(&k)) => {
                Value::Array(vec![v.clone()])
            }
            Value::Array(items) => Value::Array(items.iter().map(|i| norm(None, i)).collect()),
            other => other.clone(),
        }
    }
    let mut out = norm(None, document);
    // A single statement object is the same as a list of one.
    if let Some(Value::Object(st)) = out.get("Statement").cloned() {
        out["Statement"] = Value::Array(vec![Value::Object(st)]);
    }
    out
}

/// The resources that `Allow` statements grant `action` on (`s3:PutObject`), counting the
/// wildcards that cover it (`*`, `s3:*`, `s3:Put*`, …). Case-insensitive, like IAM.
///
/// ```
/// let doc = serde_json::json!({"Statement": [
///     {"Effect": "Allow", "Action": ["s3:Put*"], "Resource": "arn:aws:s3:::b/input/*"},
///     {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/output/*"}
/// ]});
/// assert_eq!(bodyline_provision::resources_allowing(&doc, "s3:PutObject"), ["arn:aws:s3:::b/input/*"]);
/// ```
pub fn resources_allowing(document: &Value, action: &str) -> Vec<String> {
    let action = action.to_ascii_lowercase();
    let covers = |pattern: &str| {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_suffix('*') {
            Some(stem) => action.starts_with(stem),
            None => pattern == action,
        }
    };
    statements(document)
        .into_iter()
        .filter(|st| st.get("Effect").and_then(Value::as_str) == Some("Allow"))
        .filter(|st| strings(st.get("Action")).iter().any(|a| covers(a)))
        .flat_map(|st| strings(st.get("Resource")))
        .collect()
}

/// A document's statements: `Statement` may be one object or a list of them.
fn statements(document: &Value) -> Vec<&Value> {
    match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one) => vec![one],
        None => Vec::new(),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn condition_keys(v: Option<&Value>) -> Vec<String> {
    let Some(Value::Object(operators)) = v else {
        return Vec::new();
    };
    operators
        .values()
        .filter_map(Value::as_object)
        .flat_map(|keys| keys.keys().cloned())
        .collect()
}

/// `arn:<partition>:s3:::<bucket>`: one bucket, named exactly (no object path, no wildcard).
fn is_bucket_arn(resource: &str) -> bool {
    resource
        .strip_prefix("arn:")
        .and_then(|rest| rest.split_once(":s3:::"))
        .is_some_and(|(partition, bucket)| {
            !partition.is_empty() && !bucket.is_empty() && !bucket.contains(['/', '*', '?'])
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::documents::{decode_policy_document, lint_policy};
    use serde_json::json;

    fn rules(doc: Value) -> Vec<LintRule> {
        lint_document(&doc).into_iter().map(|f| f.rule).collect()
    }

    fn allow(statement: Value) -> Value {
        let mut st = statement;
        st["Effect"] = json!("Allow");
        json!({"Version": "2012-10-17", "Statement": [st]})
    }

    #[test]
    fn wildcard_actions_fail() {
        for action in [
            json!("*"),
            json!("s3:*"),
            json!(["s3:GetObject", "s3:Get*"]),
        ] {
            assert_eq!(
                rules(allow(
                    json!({"Action": action, "Resource": "arn:aws:s3:::b/o/*"})
                )),
                vec![LintRule::WildcardAction],
                "{action}"
            );
        }
        assert_eq!(
            rules(allow(
                json!({"NotAction": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"})
            )),
            vec![LintRule::WildcardAction]
        );
    }

    #[test]
    fn star_resources_fail_outside_the_allow_list() {
        assert_eq!(
            rules(allow(json!({"Action": "s3:GetObject", "Resource": "*"}))),
            vec![LintRule::WildcardResource]
        );
        assert!(rules(allow(
            json!({"Action": "ecr:GetAuthorizationToken", "Resource": "*"})
        ))
        .is_empty());
        // PutMetricData is allowed on "*" only with a namespace condition.
        assert_eq!(
            rules(allow(
                json!({"Action": "cloudwatch:PutMetricData", "Resource": "*"})
            )),
            vec![LintRule::WildcardResource]
        );
        assert!(rules(allow(json!({
            "Action": "cloudwatch:PutMetricData", "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": "/aws/sagemaker/Endpoints"}}
        })))
        .is_empty());
        // An allow-listed action does not excuse its neighbours.
        assert_eq!(
            rules(allow(
                json!({"Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"], "Resource": ["*"]})
            )),
            vec![LintRule::WildcardResource]
        );
        assert_eq!(
            rules(allow(
                json!({"Action": "s3:GetObject", "NotResource": "arn:aws:s3:::b/x"})
            )),
            vec![LintRule::WildcardResource]
        );
    }

    #[test]
    fn pass_role_needs_passed_to_service() {
        let role = "arn:aws:iam::123456789012:role/r";
        assert_eq!(
            rules(allow(json!({"Action": "iam:PassRole", "Resource": role}))),
            vec![LintRule::PassRoleWithoutService]
        );
        assert!(rules(allow(json!({
            "Action": "iam:PassRole", "Resource": role,
            "Condition": {"StringEquals": {"iam:PassedToService": "sagemaker.amazonaws.com"}}
        })))
        .is_empty());
    }

    #[test]
    fn list_bucket_only_on_one_bucket_arn_and_only_with_a_prefix_condition() {
        let prefix = json!({"StringLike": {"s3:prefix": ["output/*", "failure/*"]}});
        for resource in [
            "arn:aws:s3:::b/output/*",
            "arn:aws:s3:::b*",
            "arn:aws:s3:::*",
            "arn:aws:sns:us-east-1:1:b",
            "b",
        ] {
            assert_eq!(
                rules(allow(
                    json!({"Action": "s3:ListBucket", "Resource": resource, "Condition": prefix})
                )),
                vec![LintRule::ListBucketNotOnBucket],
                "{resource}"
            );
        }
        assert_eq!(
            rules(allow(
                json!({"Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b"})
            )),
            vec![LintRule::ListBucketWithoutPrefix]
        );
        // A condition on another key does not scope the listing.
        assert_eq!(
            rules(allow(
                json!({"Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
                "Condition": {"StringEquals": {"s3:delimiter": "/"}}})
            )),
            vec![LintRule::ListBucketWithoutPrefix]
        );
        assert!(rules(allow(
            json!({"Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b", "Condition": prefix})
        ))
        .is_empty());
        assert!(rules(allow(
            json!({"Action": "s3:ListBucket", "Resource": "arn:aws-cn:s3:::b", "Condition": prefix})
        ))
        .is_empty());
    }

    #[test]
    fn deny_statements_are_not_judged() {
        let doc = json!({"Statement": {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}});
        assert!(lint_document(&doc).is_empty());
    }

    #[test]
    fn lint_policy_names_the_policy_and_each_statement() {
        let doc = json!({"Statement": [
            {"Sid": "Bad", "Effect": "Allow", "Action": "*", "Resource": "*"},
        ]});
        let err = lint_policy("demo-invoker", &doc).unwrap_err().to_string();
        assert!(err.contains("demo-invoker"), "{err}");
        assert!(err.contains("statement Bad"), "{err}");
        assert!(err.contains("2 least-privilege rules"), "{err}");
    }

    #[test]
    fn documents_are_decoded_and_normalized() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2F%2A%22%7D%7D";
        let decoded = decode_policy_document("r", encoded).unwrap();
        let plain = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::b/*"]}
        ]});
        assert_eq!(normalize_document(&decoded), normalize_document(&plain));
        assert!(decode_policy_document("r", "%7Bnot").is_err());
    }
}
