//! Where discovery finds the IAM resources: [`LISTING`], the account's roles,
//! customer-managed policies and users with their tags (global: not regional).

use aws_sdk_iam::types::PolicyScopeType;
use bodyline_aws::tags::from_iam;
use bodyline_aws::Clients;

use crate::owned::error::TeardownError;
use crate::owned::failure::{aws_error, none_if_missing};
use crate::owned::listing::{instant, Filter, ListFuture, Listed, Listing};
use crate::owned::resource::ResourceKind;

/// IAM roles, customer-managed policies and users.
pub(crate) const LISTING: Listing = Listing::new(60, "iam", list);

fn list<'a>(clients: &'a Clients, filter: &'a Filter<'a>, _: &'a [Listed]) -> ListFuture<'a> {
    Box::pin(iam(clients, filter))
}

/// IAM roles, customer-managed policies and users, in that order.
async fn iam(clients: &Clients, filter: &Filter<'_>) -> Result<Vec<Listed>, TeardownError> {
    let iam = &clients.iam;
    let mut out = Vec::new();
    let global = |kind, name: String, arn: String, created, tags| Listed {
        kind,
        name,
        arn: Some(arn),
        created,
        regional: false,
        tags,
        scaling: None,
    };

    let mut roles = Vec::new();
    let mut items = iam.list_roles().into_paginator().items().send();
    while let Some(r) = items.next().await {
        let r = r.map_err(|e| aws_error("ListRoles", "the account", e))?;
        if (filter.wanted)(r.role_name()) {
            let at = instant(Some(r.create_date()));
            roles.push((r.role_name().to_string(), r.arn().to_string(), at));
        }
    }
    for (name, arn, at) in roles {
        let tagged = iam.list_role_tags().role_name(&name).send().await;
        if let Some(tagged) = none_if_missing("ListRoleTags", &name, tagged)? {
            let tags = from_iam(tagged.tags());
            out.push(global(ResourceKind::Role, name, arn, at, tags));
        }
    }

    let mut policies = Vec::new();
    let mut items = iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .into_paginator()
        .items()
        .send();
    while let Some(p) = items.next().await {
        let p = p.map_err(|e| aws_error("ListPolicies", "the account", e))?;
        if let (Some(name), Some(arn)) = (p.policy_name(), p.arn()) {
            if (filter.wanted)(name) {
                let at = instant(p.create_date());
                policies.push((name.to_string(), arn.to_string(), at));
            }
        }
    }
    for (name, arn, at) in policies {
        let tagged = iam.list_policy_tags().policy_arn(&arn).send().await;
        if let Some(tagged) = none_if_missing("ListPolicyTags", &arn, tagged)? {
            let tags = from_iam(tagged.tags());
            out.push(global(ResourceKind::ManagedPolicy, name, arn, at, tags));
        }
    }

    let mut users = Vec::new();
    let mut items = iam.list_users().into_paginator().items().send();
    while let Some(u) = items.next().await {
        let u = u.map_err(|e| aws_error("ListUsers", "the account", e))?;
        if (filter.wanted)(u.user_name()) {
            let at = instant(Some(u.create_date()));
            users.push((u.user_name().to_string(), u.arn().to_string(), at));
        }
    }
    for (name, arn, at) in users {
        let tagged = iam.list_user_tags().user_name(&name).send().await;
        if let Some(tagged) = none_if_missing("ListUserTags", &name, tagged)? {
            let tags = from_iam(tagged.tags());
            out.push(global(ResourceKind::User, name, arn, at, tags));
        }
    }
    Ok(out)
}
