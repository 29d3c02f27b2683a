//! What observe reads of IAM: the execution role (trust, tags, inline policy), the invoker
//! policy (default document, tags, attachments) and which configured principals do not exist.

use bodyline_aws::Clients;
use serde_json::Value;

use crate::desired::{Desired, Principal};
use crate::documents::decode_policy_document;
use crate::owned::ownership::{tag_refs, Tags};
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
