//! IAM: the execution role and its inline policy, the invoker managed policy and its
//! attachments, applied here and run as a `Resource`; derived in `desired.rs` (both documents
//! rendered and linted), read in `observe.rs`, planned in `plan.rs`; the deletes of roles,
//! managed policies and verify's users (`delete.rs`); and discovery's listing of roles,
//! policies and users (`listing.rs`).

mod delete;
mod desired;
mod listing;
mod observe;
mod plan;

pub use delete::delete_user;
pub(crate) use delete::{delete_iam_role, delete_iam_user, delete_managed_policy};
pub(crate) use desired::{desired_invoker, desired_role};
pub(crate) use observe::{missing_principals, observe_invoker, observe_role, IamObserved};
#[cfg(test)]
pub(crate) use observe::{PolicyObserved, RoleObserved};
pub(crate) use plan::{plan, Step};

use bodyline_aws::Clients;
use bodyline_stack::{ResourceRecord, State};

use crate::desired::{Desired, Principal};
use crate::documents::json;
use crate::error::build_err;
use crate::owned::ownership::{check_owned, found_after_create, record, Created, Tags};
use crate::owned::planned::{Kind, Planned};
use crate::owned::registration::{registered, Owns};
use crate::owned::resource::ResourceKind;
use crate::resources::module::{ApplyContext, InFlight, Resource};
use crate::ProvisionError;

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

    fn state_records(&self, d: &Desired) -> Vec<(&'static str, ResourceRecord)> {
        vec![
            ("execution_role", record(&d.role.name, &d.role.arn)),
            ("invoker_policy", record(&d.invoker.name, &d.invoker.arn)),
        ]
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
