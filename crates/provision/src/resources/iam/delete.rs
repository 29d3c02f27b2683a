//! Deleting IAM's resources: users (verify's temporary invoker), the invoker policy (detached
//! from everyone first) and the execution role (last of all).

use bodyline_aws::Clients;

use crate::owned::deleting::{
    deleted_or_already_gone, Deleted, Deleting, DeletionOutcome, Pending,
};
use crate::owned::error::TeardownError;
use crate::owned::failure::none_if_missing;
use crate::owned::resource::OwnedResource;

/// Deletes a user with its keys and policies.
pub(crate) fn delete_iam_user<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move { delete_user(&cx.clients.iam, &r.name).await })
}

/// Deletes the invoker policy, by its ARN.
pub(crate) fn delete_managed_policy<'a>(
    cx: &'a mut Deleting<'_>,
    r: &'a OwnedResource,
) -> Pending<'a> {
    Box::pin(async move { delete_policy(cx.clients, r.arn.as_deref().unwrap_or(&r.name)).await })
}

/// Deletes the execution role.
pub(crate) fn delete_iam_role<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move { delete_role(cx.clients, &r.name).await })
}

/// Deletes an IAM user with its access keys and policies (verify's temporary invoker, too);
/// a user already gone is [`DeletionOutcome::AlreadyGone`].
pub async fn delete_user(
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<(DeletionOutcome, String), TeardownError> {
    let Some(keys) = none_if_missing(
        "ListAccessKeys",
        user,
        iam.list_access_keys().user_name(user).send().await,
    )?
    else {
        return Ok((DeletionOutcome::AlreadyGone, String::new()));
    };
    for key in keys.access_key_metadata() {
        if let Some(id) = key.access_key_id() {
            none_if_missing(
                "DeleteAccessKey",
                user,
                iam.delete_access_key()
                    .user_name(user)
                    .access_key_id(id)
                    .send()
                    .await,
            )?;
        }
    }
    if let Some(attached) = none_if_missing(
        "ListAttachedUserPolicies",
        user,
        iam.list_attached_user_policies()
            .user_name(user)
            .send()
            .await,
    )? {
        for arn in attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
        {
            none_if_missing(
                "DetachUserPolicy",
                user,
                iam.detach_user_policy()
                    .user_name(user)
                    .policy_arn(arn)
                    .send()
                    .await,
            )?;
        }
    }
    if let Some(inline) = none_if_missing(
        "ListUserPolicies",
        user,
        iam.list_user_policies().user_name(user).send().await,
    )? {
        for policy in inline.policy_names() {
            none_if_missing(
                "DeleteUserPolicy",
                user,
                iam.delete_user_policy()
                    .user_name(user)
                    .policy_name(policy)
                    .send()
                    .await,
            )?;
        }
    }
    let deleted = none_if_missing(
        "DeleteUser",
        user,
        iam.delete_user().user_name(user).send().await,
    )?
    .is_some();
    Ok(deleted_or_already_gone(deleted, String::new()))
}

async fn delete_policy(clients: &Clients, arn: &str) -> Deleted {
    let iam = &clients.iam;
    // Detach first: moto's DeletePolicy succeeds on an attached policy and leaves roles that can
    // never be deleted; AWS refuses it.
    let mut detached = 0;
    let mut pages = iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .into_paginator()
        .send();
    let mut roles = Vec::new();
    let mut users = Vec::new();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        let Some(page) = none_if_missing("ListEntitiesForPolicy", arn, page)? else {
            return Ok((DeletionOutcome::AlreadyGone, String::new()));
        };
        roles.extend(
            page.policy_roles()
                .iter()
                .filter_map(|r| r.role_name())
                .map(str::to_string),
        );
        users.extend(
            page.policy_users()
                .iter()
                .filter_map(|u| u.user_name())
                .map(str::to_string),
        );
        groups.extend(
            page.policy_groups()
                .iter()
                .filter_map(|g| g.group_name())
                .map(str::to_string),
        );
    }
    for role in &roles {
        none_if_missing(
            "DetachRolePolicy",
            role,
            iam.detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await,
        )?;
        detached += 1;
    }
    for user in &users {
        none_if_missing(
            "DetachUserPolicy",
            user,
            iam.detach_user_policy()
                .user_name(user)
                .policy_arn(arn)
                .send()
                .await,
        )?;
        detached += 1;
    }
    for group in &groups {
        none_if_missing(
            "DetachGroupPolicy",
            group,
            iam.detach_group_policy()
                .group_name(group)
                .policy_arn(arn)
                .send()
                .await,
        )?;
        detached += 1;
    }
    let mut versions = 0;
    if let Some(listed) = none_if_missing(
        "ListPolicyVersions",
        arn,
        iam.list_policy_versions().policy_arn(arn).send().await,
    )? {
        for v in listed.versions().iter().filter(|v| !v.is_default_version()) {
            if let Some(id) = v.version_id() {
                none_if_missing(
                    "DeletePolicyVersion",
                    arn,
                    iam.delete_policy_version()
                        .policy_arn(arn)
                        .version_id(id)
                        .send()
                        .await,
                )?;
                versions += 1;
            }
        }
    }
    let deleted = none_if_missing(
        "DeletePolicy",
        arn,
        iam.delete_policy().policy_arn(arn).send().await,
    )?
    .is_some();
    Ok(deleted_or_already_gone(
        deleted,
        format!("detached from {detached} principals, {versions} old versions deleted"),
    ))
}

async fn delete_role(clients: &Clients, role: &str) -> Deleted {
    let iam = &clients.iam;
    let Some(inline) = none_if_missing(
        "ListRolePolicies",
        role,
        iam.list_role_policies().role_name(role).send().await,
    )?
    else {
        return Ok((DeletionOutcome::AlreadyGone, String::new()));
    };
    for policy in inline.policy_names() {
        none_if_missing(
            "DeleteRolePolicy",
            role,
            iam.delete_role_policy()
                .role_name(role)
                .policy_name(policy)
                .send()
                .await,
        )?;
    }
    let mut detached = 0;
    if let Some(attached) = none_if_missing(
        "ListAttachedRolePolicies",
        role,
        iam.list_attached_role_policies()
            .role_name(role)
            .send()
            .await,
    )? {
        for arn in attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
        {
            none_if_missing(
                "DetachRolePolicy",
                role,
                iam.detach_role_policy()
                    .role_name(role)
                    .policy_arn(arn)
                    .send()
                    .await,
            )?;
            detached += 1;
        }
    }
    let deleted = none_if_missing(
        "DeleteRole",
        role,
        iam.delete_role().role_name(role).send().await,
    )?
    .is_some();
    Ok(deleted_or_already_gone(
        deleted,
        format!(
            "{} inline policies deleted, {detached} managed detached",
            inline.policy_names().len()
        ),
    ))
}
