//! IAM's documented size limits on policy documents, which no shape states (the models allow
//! 131,072 characters): white space does not count.
//!
//! - a managed policy (`CreatePolicy`, `CreatePolicyVersion`): 6,144 characters;
//! - a role's trust policy (`CreateRole`, `UpdateAssumeRolePolicy`): 2,048 (the default quota);
//! - a role's inline policies together (`PutRolePolicy`): 10,240; a user's: 2,048.
//!
//! The inline totals need the history: the checker keeps the size of every inline policy it
//! has seen put, per role and user, until it sees it deleted.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use crate::rules::shown;
use crate::Violation;

/// Largest managed policy document.
pub const MANAGED_POLICY_MAX: usize = 6_144;
/// Largest role trust policy (IAM's default quota).
pub const TRUST_POLICY_MAX: usize = 2_048;
/// Largest total of a role's inline policies.
pub const ROLE_INLINE_TOTAL_MAX: usize = 10_240;
/// Largest total of a user's inline policies.
pub const USER_INLINE_TOTAL_MAX: usize = 2_048;

/// A policy document's size as IAM counts it: characters other than white space.
pub fn policy_size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
}

/// Inline policy sizes seen so far: `(kind, principal)` → policy name → size.
#[derive(Debug, Default)]
pub(crate) struct IamLimits {
    inline: HashMap<(&'static str, String), BTreeMap<String, usize>>,
}

impl IamLimits {
    pub(crate) fn check(&mut self, operation: &str, params: &Value) -> Vec<Violation> {
        let text = |name: &str| params[name].as_str().unwrap_or_default().to_string();
        let mut found = Vec::new();
        let mut limit = |member: &str, max: usize, what: &str| {
            let document = text(member);
            let size = policy_size(&document);
            if size > max {
                found.push(violation(
                    operation,
                    member,
                    &document,
                    format!(
                        "{what} must be at most {max} characters without white space, is {size}"
                    ),
                ));
            }
        };
        match operation {
            "CreatePolicy" | "CreatePolicyVersion" => {
                limit("PolicyDocument", MANAGED_POLICY_MAX, "a managed policy");
            }
            "CreateRole" => limit(
                "AssumeRolePolicyDocument",
                TRUST_POLICY_MAX,
                "a trust policy",
            ),
            "UpdateAssumeRolePolicy" => {
                limit("PolicyDocument", TRUST_POLICY_MAX, "a trust policy");
            }
            "PutRolePolicy" | "PutUserPolicy" => {
                let (kind, principal, max) = if operation == "PutRolePolicy" {
                    ("role", text("RoleName"), ROLE_INLINE_TOTAL_MAX)
                } else {
                    ("user", text("UserName"), USER_INLINE_TOTAL_MAX)
                };
                let document = text("PolicyDocument");
                let policies = self.inline.entry((kind, principal.clone())).or_default();
                policies.insert(text("PolicyName"), policy_size(&document));
                let total: usize = policies.values().sum();
                if total > max {
                    found.push(violation(
                        operation,
                        "PolicyDocument",
                        &document,
                        format!("the inline policies of {kind} {principal} must total at most {max} characters without white space, total {total}"),
                    ));
                }
            }
            "DeleteRolePolicy" => {
                if let Some(p) = self.inline.get_mut(&("role", text("RoleName"))) {
                    p.remove(&text("PolicyName"));
                }
            }
            "DeleteUserPolicy" => {
                if let Some(p) = self.inline.get_mut(&("user", text("UserName"))) {
                    p.remove(&text("PolicyName"));
                }
            }
            "DeleteRole" => {
                self.inline.remove(&("role", text("RoleName")));
            }
            "DeleteUser" => {
                self.inline.remove(&("user", text("UserName")));
            }
            _ => {}
        }
        found
    }
}

fn violation(operation: &str, member: &str, document: &str, rule: String) -> Violation {
    Violation {
        service: "iam".to_string(),
        operation: operation.to_string(),
        member: member.to_string(),
        value: shown(&Value::String(document.to_string())),
        rule,
    }
}
