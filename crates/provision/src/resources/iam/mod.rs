//! IAM: the execution role and its inline policy, the invoker managed policy and its
//! attachments (observed, planned, applied here), and the deletes of roles, managed policies
//! and verify's users (`delete.rs`), and discovery's listing of roles, policies and users
//! (`listing.rs`).

mod delete;
mod desired;
mod listing;

pub use delete::delete_user;
pub(crate) use delete::{delete_iam_role, delete_iam_user, delete_managed_policy};
pub(crate) use desired::{desired_invoker, desired_role};

use bodyline_aws::Clients;
use bodyline_stack::{State, Target};
use serde_json::Value;

use crate::desired::{Desired, Principal};
use crate::documents::{decode_policy_document, json};
use crate::error::build_err;
use crate::lint::{normalize_document, resources_allowing};
use crate::owned::ownership::{
    check_owned, found_after_create, lacks_managed_tag, tag_refs, Created, Tags,
};
use crate::owned::planned::{Action, Kind, Planned};
use crate::owned::registration::{registered, Owns};
use crate::owned::resource::ResourceKind;
use crate::resources::module::{ApplyContext, InFlight, Resource};
use crate::ProvisionError;

/// The execution role as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleObserved {
    /// Its ARN.
    pub arn: String,
    /// Its tags.
    pub tags: Tags,
    /// Its trust policy, decoded.
    pub trust: Value,
    /// The stack's inline policy on it, decoded.
    pub policy: Option<Value>,
}

/// The invoker managed policy as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicyObserved {
    /// Its ARN.
    pub arn: String,
    /// Its tags.
    pub tags: Tags,
    /// The default version's document, decoded.
    pub document: Value,
    /// Versions other than the default, oldest first.
    pub other_versions: Vec<String>,
    /// Roles it is attached to.
    pub roles: Vec<String>,
    /// Users it is attached to.
    pub users: Vec<String>,
}

/// Reads the execution role: trust policy, tags and its inline policy.
pub(crate) async fn observe_role(
    desired: &Desired,
    clients: &Clients,
) -> Result<Option<RoleObserved>, ProvisionError> {
    let name = &desired.role.name;
    let role = match clients.iam.get_role().role_name(name).send().await {
        Ok(out) => match out.role {
            Some(role) => role,
            None => return Ok(None),
        },
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(ProvisionError::aws("GetRole", name, e)),
    };
    let tags: Tags = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    let trust = match role.assume_role_policy_document() {
        Some(doc) => decode_policy_document(name, doc)?,
        None => Value::Null,
    };
    let mut observed = RoleObserved {
        arn: role.arn().to_string(),
        tags,
        trust,
        policy: None,
    };
    if bodyline_stack::ownership(&desired.stack, tag_refs(&observed.tags))
        != bodyline_stack::Ownership::Owned
    {
        return Ok(Some(observed));
    }
    observed.policy = match clients
        .iam
        .get_role_policy()
        .role_name(name)
        .policy_name(&desired.role.policy_name)
        .send()
        .await
    {
        Ok(out) => Some(decode_policy_document(
            &desired.role.policy_name,
            out.policy_document(),
        )?),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            None
        }
        Err(e) => {
            return Err(ProvisionError::aws(
                "GetRolePolicy",
                &desired.role.policy_name,
                e,
            ))
        }
    };
    Ok(Some(observed))
}

/// Reads the invoker policy: its default version's document, its tags, who it is attached to.
pub(crate) async fn observe_invoker(
    desired: &Desired,
    clients: &Clients,
) -> Result<Option<PolicyObserved>, ProvisionError> {
    let arn = &desired.invoker.arn;
    let iam = &clients.iam;
    let policy = match iam.get_policy().policy_arn(arn).send().await {
        Ok(out) => match out.policy {
            Some(p) => p,
            None => return Ok(None),
        },
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            return Ok(None)
        }
        Err(e) => return Err(ProvisionError::aws("GetPolicy", arn, e)),
    };
    let tags: Tags = iam
        .list_policy_tags()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| ProvisionError::aws("ListPolicyTags", arn, e))?
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    let mut observed = PolicyObserved {
        arn: arn.clone(),
        tags,
        ..PolicyObserved::default()
    };
    if bodyline_stack::ownership(&desired.stack, tag_refs(&observed.tags))
        != bodyline_stack::Ownership::Owned
    {
        return Ok(Some(observed));
    }
    let default_version = policy.default_version_id().unwrap_or("v1").to_string();
    let version = iam
        .get_policy_version()
        .policy_arn(arn)
        .version_id(&default_version)
        .send()
        .await
        .map_err(|e| ProvisionError::aws("GetPolicyVersion", arn, e))?;
    observed.document = match version.policy_version().and_then(|v| v.document()) {
        Some(doc) => decode_policy_document(arn, doc)?,
        None => Value::Null,
    };
    let versions = iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| ProvisionError::aws("ListPolicyVersions", arn, e))?;
    let mut others: Vec<(Option<aws_smithy_types::DateTime>, String)> = versions
        .versions()
        .iter()
        .filter(|v| !v.is_default_version())
        .filter_map(|v| {
            v.version_id()
                .map(|id| (v.create_date().copied(), id.to_string()))
        })
        .collect();
    others.sort_by(|a, b| {
        a.0.map(|d| d.as_nanos())
            .cmp(&b.0.map(|d| d.as_nanos()))
            .then(a.1.cmp(&b.1))
    });
    observed.other_versions = others.into_iter().map(|(_, id)| id).collect();
    let entities = iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| ProvisionError::aws("ListEntitiesForPolicy", arn, e))?;
    observed.roles = entities
        .policy_roles()
        .iter()
        .filter_map(|r| r.role_name().map(str::to_string))
        .collect();
    observed.users = entities
        .policy_users()
        .iter()
        .filter_map(|u| u.user_name().map(str::to_string))
        .collect();
    observed.roles.sort();
    observed.users.sort();
    Ok(Some(observed))
}

/// The configured invoker principals that do not exist: attaching to them would fail halfway
/// through apply, so the plan refuses them first.
pub(crate) async fn missing_principals(
    desired: &Desired,
    clients: &Clients,
) -> Result<Vec<Principal>, ProvisionError> {
    let mut missing = Vec::new();
    for p in &desired.invoker.principals {
        let absent = match p {
            Principal::Role(name) => match clients.iam.get_role().role_name(name).send().await {
                Ok(_) => false,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_no_such_entity_exception()) =>
                {
                    true
                }
                Err(e) => return Err(ProvisionError::aws("GetRole", name, e)),
            },
            Principal::User(name) => match clients.iam.get_user().user_name(name).send().await {
                Ok(_) => false,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_no_such_entity_exception()) =>
                {
                    true
                }
                Err(e) => return Err(ProvisionError::aws("GetUser", name, e)),
            },
        };
        if absent {
            missing.push(p.clone());
        }
    }
    Ok(missing)
}

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

/// What observe reads of IAM.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct IamObserved {
    /// The execution role.
    pub role: Option<RoleObserved>,
    /// The invoker policy.
    pub invoker: Option<PolicyObserved>,
    /// Configured invoker principals that do not exist.
    pub missing_principals: Vec<Principal>,
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

/// Applies a planned step to the IAM resource of `kind`.
pub(crate) async fn apply(
    step: &Step,
    kind: Kind,
    d: &Desired,
    c: &Clients,
) -> Result<Created, ProvisionError> {
    match step {
        Step::CreateRole => {
            let role = &d.role;
            match c
                .iam
                .create_role()
                .role_name(&role.name)
                .assume_role_policy_document(json(&role.trust))
                .set_tags(Some(iam_tags(&d.tags, &role.name)?))
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_already_exists_exception()) =>
                {
                    let tags = role_tags(c, &role.name).await?;
                    return found_after_create(d, kind, &role.name, tags, true);
                }
                Err(e) => return Err(ProvisionError::aws("CreateRole", &role.name, e)),
            }
        }
        Step::UpdateRole { trust, tags } => {
            let role = &d.role;
            if *trust {
                c.iam
                    .update_assume_role_policy()
                    .role_name(&role.name)
                    .policy_document(json(&role.trust))
                    .send()
                    .await
                    .map_err(|e| ProvisionError::aws("UpdateAssumeRolePolicy", &role.name, e))?;
            }
            if *tags {
                c.iam
                    .tag_role()
                    .role_name(&role.name)
                    .set_tags(Some(iam_tags(&d.tags, &role.name)?))
                    .send()
                    .await
                    .map_err(|e| ProvisionError::aws("TagRole", &role.name, e))?;
            }
        }
        Step::PutRolePolicy => {
            let role = &d.role;
            c.iam
                .put_role_policy()
                .role_name(&role.name)
                .policy_name(&role.policy_name)
                .policy_document(json(&role.policy))
                .send()
                .await
                .map_err(|e| ProvisionError::aws("PutRolePolicy", &role.policy_name, e))?;
        }
        Step::CreatePolicy => {
            let inv = &d.invoker;
            match c
                .iam
                .create_policy()
                .policy_name(&inv.name)
                .policy_document(json(&inv.document))
                .set_tags(Some(iam_tags(&d.tags, &inv.name)?))
                .send()
                .await
            {
                Ok(_) => {}
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_entity_already_exists_exception()) =>
                {
                    let tags = policy_tags(c, &inv.arn).await?;
                    return found_after_create(d, kind, &inv.name, tags, true);
                }
                Err(e) => return Err(ProvisionError::aws("CreatePolicy", &inv.name, e)),
            }
        }
        Step::UpdatePolicy {
            document,
            tags,
            delete_versions,
        } => {
            let inv = &d.invoker;
            for version in delete_versions {
                c.iam
                    .delete_policy_version()
                    .policy_arn(&inv.arn)
                    .version_id(version)
                    .send()
                    .await
                    .map_err(|e| ProvisionError::aws("DeletePolicyVersion", &inv.arn, e))?;
            }
            if *document {
                c.iam
                    .create_policy_version()
                    .policy_arn(&inv.arn)
                    .policy_document(json(&inv.document))
                    .set_as_default(true)
                    .send()
                    .await
                    .map_err(|e| ProvisionError::aws("CreatePolicyVersion", &inv.arn, e))?;
            }
            if *tags {
                c.iam
                    .tag_policy()
                    .policy_arn(&inv.arn)
                    .set_tags(Some(iam_tags(&d.tags, &inv.name)?))
                    .send()
                    .await
                    .map_err(|e| ProvisionError::aws("TagPolicy", &inv.arn, e))?;
            }
        }
        Step::Attach { attach, detach } => {
            for p in attach {
                set_attachment(c, p, &d.invoker.arn, true).await?;
            }
            for p in detach {
                set_attachment(c, p, &d.invoker.arn, false).await?;
            }
        }
    }
    Ok(Created::New)
}

fn tags_of(tags: &[aws_sdk_iam::types::Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect()
}

/// The role's tags, read at create time; `None` when it does not exist.
async fn role_tags(c: &Clients, name: &str) -> Result<Option<Tags>, ProvisionError> {
    match c.iam.get_role().role_name(name).send().await {
        Ok(out) => Ok(out.role.map(|r| tags_of(r.tags()))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(ProvisionError::aws("GetRole", name, e)),
    }
}

/// The managed policy's tags, read at create time; `None` when it does not exist.
async fn policy_tags(c: &Clients, arn: &str) -> Result<Option<Tags>, ProvisionError> {
    match c.iam.list_policy_tags().policy_arn(arn).send().await {
        Ok(out) => Ok(Some(tags_of(out.tags()))),
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_no_such_entity_exception()) =>
        {
            Ok(None)
        }
        Err(e) => Err(ProvisionError::aws("ListPolicyTags", arn, e)),
    }
}

fn iam_tags(
    tags: &[(String, String)],
    resource: &str,
) -> Result<Vec<aws_sdk_iam::types::Tag>, ProvisionError> {
    bodyline_aws::tags::to_iam(tags).map_err(build_err("TagResource", resource))
}

/// Attaches the managed policy `arn` to principal `p`, or detaches it.
async fn set_attachment(
    c: &Clients,
    p: &Principal,
    arn: &str,
    attached: bool,
) -> Result<(), ProvisionError> {
    match (p, attached) {
        (Principal::Role(n), true) => c
            .iam
            .attach_role_policy()
            .role_name(n)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ProvisionError::aws("AttachRolePolicy", n, e)),
        (Principal::User(n), true) => c
            .iam
            .attach_user_policy()
            .user_name(n)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ProvisionError::aws("AttachUserPolicy", n, e)),
        (Principal::Role(n), false) => c
            .iam
            .detach_role_policy()
            .role_name(n)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ProvisionError::aws("DetachRolePolicy", n, e)),
        (Principal::User(n), false) => c
            .iam
            .detach_user_policy()
            .user_name(n)
            .policy_arn(arn)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| ProvisionError::aws("DetachUserPolicy", n, e)),
    }
}

/// The execution role, the invoker policy and its attachments, as setup's flows run them.
pub(crate) struct Iam;

impl Resource for Iam {
    type Observed = IamObserved;
    type Step = Step;

    fn owns(&self) -> Owns {
        OWNS
    }

    fn observe<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        _state: Option<&'a State>,
    ) -> InFlight<'a, IamObserved> {
        Box::pin(async move {
            Ok(IamObserved {
                role: observe_role(desired, clients).await?,
                invoker: observe_invoker(desired, clients).await?,
                missing_principals: missing_principals(desired, clients).await?,
            })
        })
    }

    fn check_inputs(&self, d: &Desired, o: &IamObserved) -> Result<(), ProvisionError> {
        match o.missing_principals.first() {
            Some(missing) => Err(ProvisionError::MissingPrincipal {
                principal: missing.to_string(),
                stack: d.stack.clone(),
            }),
            None => Ok(()),
        }
    }

    fn check_ownership(&self, d: &Desired, o: &IamObserved) -> Result<(), ProvisionError> {
        if let Some(r) = &o.role {
            check_owned(d, Kind::ExecutionRole, &d.role.name, &r.tags)?;
        }
        if let Some(i) = &o.invoker {
            check_owned(d, Kind::InvokerPolicy, &d.invoker.name, &i.tags)?;
        }
        Ok(())
    }

    fn plan(&self, d: &Desired, o: &IamObserved) -> Vec<Planned<Step>> {
        plan(d, o)
    }

    fn apply<'a>(
        &'a self,
        step: &'a Step,
        kind: Kind,
        cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created> {
        Box::pin(apply(step, kind, cx.desired, cx.clients))
    }

    #[cfg(test)]
    fn up_to_date(&self, d: &Desired) -> IamObserved {
        IamObserved {
            role: Some(RoleObserved {
                arn: d.role.arn.clone(),
                tags: d.tags.clone(),
                trust: d.role.trust.clone(),
                policy: Some(d.role.policy.clone()),
            }),
            invoker: Some(PolicyObserved {
                arn: d.invoker.arn.clone(),
                tags: d.tags.clone(),
                document: d.invoker.document.clone(),
                other_versions: Vec::new(),
                roles: d
                    .invoker
                    .principals
                    .iter()
                    .filter_map(|p| match p {
                        Principal::Role(n) => Some(n.clone()),
                        Principal::User(_) => None,
                    })
                    .collect(),
                users: Vec::new(),
            }),
            missing_principals: Vec::new(),
        }
    }
}

// What this module owns: the plan's kinds it produces and the kinds teardown deletes, each
// declared here with its registration (`owned/registration.rs`), so a new kind is one place.

// Associated consts in CamelCase: they were enum variants, and every caller (other crates'
// tests too) keeps writing `Kind::Bucket`, `ResourceKind::Role`.
#[allow(non_upper_case_globals)]
impl Kind {
    /// The execution role (trust policy and tags).
    pub const ExecutionRole: Kind = Kind::new("execution_role", "execution role");
    /// The execution role's inline policy.
    pub const ExecutionPolicy: Kind = Kind::new("execution_policy", "execution policy");
    /// The invoker managed policy.
    pub const InvokerPolicy: Kind = Kind::new("invoker_policy", "invoker policy");
    /// Its attachments to the configured principals.
    pub const InvokerAttachments: Kind = Kind::new("invoker_attachments", "invoker attachments");
}

#[allow(non_upper_case_globals)]
impl ResourceKind {
    /// An IAM user (verify's temporary invoker, if a run was interrupted).
    pub const User: ResourceKind = ResourceKind::new(90, "user", "iam user");
    /// A customer-managed IAM policy (the invoker policy).
    pub const ManagedPolicy: ResourceKind = ResourceKind::new(100, "managed_policy", "iam policy");
    /// An IAM role (the execution role); deleted last, because SageMaker needs it while it
    /// deletes the endpoint.
    pub const Role: ResourceKind = ResourceKind::new(110, "role", "iam role");
}

/// The plan's kinds this module has changes for, and the kinds it deletes in deletion order
/// (the plan's kinds that make each, where discovery lists it, and its delete).
pub(crate) const OWNS: Owns = Owns {
    plans: &[
        Kind::ExecutionRole,
        Kind::ExecutionPolicy,
        Kind::InvokerPolicy,
        Kind::InvokerAttachments,
    ],
    teardown: &[
        registered(ResourceKind::User, &[], &listing::LISTING, delete_iam_user),
        registered(
            ResourceKind::ManagedPolicy,
            &[Kind::InvokerPolicy, Kind::InvokerAttachments],
            &listing::LISTING,
            delete_managed_policy,
        ),
        registered(
            ResourceKind::Role,
            &[Kind::ExecutionRole, Kind::ExecutionPolicy],
            &listing::LISTING,
            delete_iam_role,
        ),
    ],
};
