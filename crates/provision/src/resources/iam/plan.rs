//! IAM's plan: the execution role and its policy, then the invoker policy and its attachments,
//! each change saying in words what a grant gains or loses and why.

use bodyline_stack::Target;

use super::IamObserved;
use crate::desired::{Desired, Principal};
use crate::lint::{normalize_document, resources_allowing};
use crate::owned::ownership::lacks_managed_tag;
use crate::owned::planned::{Action, Kind, Planned};

/// What apply does to an IAM resource.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    CreateRole,
    UpdateRole {
        trust: bool,
        tags: bool,
    },
    PutRolePolicy,
    CreatePolicy,
    UpdatePolicy {
        document: bool,
        tags: bool,
        delete_versions: Vec<String>,
    },
    Attach {
        attach: Vec<Principal>,
        detach: Vec<Principal>,
    },
}

/// Collects IAM's planned changes.
type Planner<'a> = crate::owned::planned::Planner<'a, Step>;

/// Plans the execution role and its policy, then the invoker policy and its attachments.
pub(crate) fn plan(desired: &Desired, o: &IamObserved) -> Vec<Planned<Step>> {
    let mut p = Planner::new(desired);
    plan_role(&mut p, o);
    plan_invoker(&mut p, o);
    p.changes
}

fn plan_role(p: &mut Planner<'_>, o: &IamObserved) {
    let d = p.desired.role.clone();
    let local_note = if p.desired.target == Target::Local {
        format!(
            "; on the local target the trust statement also names the caller {} (moto's AssumeRole needs an AWS principal; the local runtime assumes this role)",
            p.desired.context.caller_arn
        )
    } else {
        String::new()
    };
    match &o.role {
        None => p.push(
            Kind::ExecutionRole,
            &d.name,
            Action::Create,
            format!("trusts sagemaker.amazonaws.com{local_note}"),
            Step::CreateRole,
        ),
        Some(r) => {
            let trust = normalize_document(&r.trust) != normalize_document(&d.trust);
            let tags = lacks_managed_tag(&r.tags);
            if trust || tags {
                let what = match (trust, tags) {
                    (true, true) => "trust policy differs; add the bodyline:managed tag",
                    (true, false) => "trust policy differs",
                    _ => "add the bodyline:managed tag",
                };
                p.push(
                    Kind::ExecutionRole,
                    &d.name,
                    Action::Update,
                    format!("{what}{local_note}"),
                    Step::UpdateRole { trust, tags },
                );
            } else {
                p.push(
                    Kind::ExecutionRole,
                    &d.name,
                    Action::NoOp,
                    "exists, trust policy as rendered",
                    None,
                );
            }
        }
    }
    let have = o.role.as_ref().and_then(|r| r.policy.as_ref());
    match have {
        None => p.push(
            Kind::ExecutionPolicy,
            &d.policy_name,
            Action::Create,
            "least-privilege inline policy from templates/iam/execution-role.json",
            Step::PutRolePolicy,
        ),
        Some(doc) if normalize_document(doc) != normalize_document(&d.policy) => {
            let detail =
                input_grant_change(p.desired, doc, &d.policy, "s3:GetObject", "execution role")
                    .unwrap_or_else(|| {
                        "document differs from templates/iam/execution-role.json".into()
                    });
            p.push(
                Kind::ExecutionPolicy,
                &d.policy_name,
                Action::Update,
                detail,
                Step::PutRolePolicy,
            )
        }
        Some(_) => p.push(
            Kind::ExecutionPolicy,
            &d.policy_name,
            Action::NoOp,
            "document as rendered",
            None,
        ),
    }
}

/// "invoker loses s3:PutObject on input/* — <why>": how a policy's S3-input grant changes,
/// when that is what changes.
fn input_grant_change(
    desired: &Desired,
    have: &serde_json::Value,
    want: &serde_json::Value,
    action: &str,
    who: &str,
) -> Option<String> {
    let input = &desired.input;
    let grants = |doc| resources_allowing(doc, action).contains(&input.objects_arn);
    let what = match (grants(have), grants(want)) {
        (true, false) => "loses",
        (false, true) => "gains",
        _ => return None,
    };
    Some(format!(
        "{who} {what} {action} on {}/* — {}",
        input.prefix, input.reason
    ))
}

/// How the invoker's grants for reading results change: `s3:ListBucket` on the bucket (so a
/// poll of a result not written yet is a 404, not a 403) and `kms:Decrypt` for SSE-KMS outputs.
fn read_grant_changes(
    desired: &Desired,
    have: &serde_json::Value,
    want: &serde_json::Value,
) -> Vec<String> {
    let grants = |doc, action| !resources_allowing(doc, action).is_empty();
    let mut changes = Vec::new();
    let b = &desired.bucket;
    match (
        grants(have, "s3:ListBucket"),
        grants(want, "s3:ListBucket"),
    ) {
        (false, true) => changes.push(format!(
            "invoker gains s3:ListBucket on {} for its result prefixes only — polling a result that is not written yet answers 404 NoSuchKey instead of 403 AccessDenied",
            b.name
        )),
        (true, false) => changes.push(format!("invoker loses s3:ListBucket on {}", b.name)),
        _ => {}
    }
    match (grants(have, "kms:Decrypt"), grants(want, "kms:Decrypt")) {
        (false, true) => changes.push(
            "invoker gains kms:Decrypt on the outputs' KMS key, through S3 only — SSE-KMS outputs are unreadable without it".into(),
        ),
        (true, false) => changes.push("invoker loses kms:Decrypt — the outputs use no KMS key".into()),
        _ => {}
    }
    changes
}

fn plan_invoker(p: &mut Planner<'_>, o: &IamObserved) {
    let d = p.desired.invoker.clone();
    let (roles, users) = match &o.invoker {
        None => {
            p.push(
                Kind::InvokerPolicy,
                &d.name,
                Action::Create,
                if p.desired.input.keep {
                    format!(
                        "sagemaker:InvokeEndpointAsync on the endpoint, s3:GetObject and s3:ListBucket on outputs and failures, s3:PutObject on {}/* only — {}",
                        p.desired.input.prefix, p.desired.input.reason
                    )
                } else {
                    format!(
                        "sagemaker:InvokeEndpointAsync on the endpoint, s3:GetObject and s3:ListBucket on outputs and failures, no s3:PutObject — {}",
                        p.desired.input.reason
                    )
                },
                Step::CreatePolicy,
            );
            (Vec::new(), Vec::new())
        }
        Some(have) => {
            let document = normalize_document(&have.document) != normalize_document(&d.document);
            let tags = lacks_managed_tag(&have.tags);
            if document || tags {
                // IAM keeps at most five versions: make room for the new default.
                let delete_versions = if document && have.other_versions.len() >= 4 {
                    have.other_versions[..have.other_versions.len() - 3].to_vec()
                } else {
                    Vec::new()
                };
                p.push(
                    Kind::InvokerPolicy,
                    &d.name,
                    Action::Update,
                    if document {
                        let changes: Vec<String> = input_grant_change(
                            p.desired,
                            &have.document,
                            &d.document,
                            "s3:PutObject",
                            "invoker",
                        )
                        .into_iter()
                        .chain(read_grant_changes(p.desired, &have.document, &d.document))
                        .collect();
                        if changes.is_empty() {
                            "document differs: new default version".into()
                        } else {
                            changes.join("; ")
                        }
                    } else {
                        "add the bodyline:managed tag".into()
                    },
                    Step::UpdatePolicy {
                        document,
                        tags,
                        delete_versions,
                    },
                );
            } else {
                p.push(
                    Kind::InvokerPolicy,
                    &d.name,
                    Action::NoOp,
                    "document as rendered",
                    None,
                );
            }
            (have.roles.clone(), have.users.clone())
        }
    };
    let attached: Vec<Principal> = roles
        .into_iter()
        .map(Principal::Role)
        .chain(users.into_iter().map(Principal::User))
        .collect();
    let attach: Vec<Principal> = d
        .principals
        .iter()
        .filter(|w| !attached.contains(w))
        .cloned()
        .collect();
    let detach: Vec<Principal> = attached
        .iter()
        .filter(|a| !d.principals.contains(a))
        .cloned()
        .collect();
    let list = |v: &[Principal]| {
        v.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    if attach.is_empty() && detach.is_empty() {
        let detail = if d.principals.is_empty() {
            "attached to no principal (invokers.principals is empty)".to_string()
        } else {
            format!("attached to {}", list(&d.principals))
        };
        p.push(
            Kind::InvokerAttachments,
            &d.name,
            Action::NoOp,
            detail,
            None,
        );
    } else {
        let mut parts = Vec::new();
        if !attach.is_empty() {
            parts.push(format!("attach to {}", list(&attach)));
        }
        if !detach.is_empty() {
            parts.push(format!("detach from {}", list(&detach)));
        }
        let action = if o.invoker.is_none() {
            Action::Create
        } else {
            Action::Update
        };
        p.push(
            Kind::InvokerAttachments,
            &d.name,
            action,
            parts.join("; "),
            Step::Attach { attach, detach },
        );
    }
}
