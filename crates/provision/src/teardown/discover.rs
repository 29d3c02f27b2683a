//! Finding what a stack owns: run every registered listing in discovery order, read the tags
//! of every candidate, and keep only what carries `bodyline:stack=<name>`.
//!
//! Candidates are chosen by name (every name provision derives starts with the stack name;
//! the bucket may have a configured name, and the state file adds what setup recorded), but
//! the verdict is always the tag. A candidate that has one of the stack's exact names and no
//! (or another stack's) tag is reported as skipped; other untagged look-alikes are ignored.
//! What a kind needs beyond its own tag is its listing's: scaling ties targets and policies to
//! their endpoint's tag, and the bucket listing claims an interrupted setup's untagged bucket.

use bodyline_stack::{ownership, Ownership};

use super::registry::listings;
use crate::owned::error::TeardownError;
use crate::owned::listing::{Filter, Listed, Scope};
use crate::owned::ownership::tag_refs;
use crate::owned::registration::Owns;
use crate::owned::resource::{OwnedResource, SkipReason, Skipped};
use crate::resources::owned;
use bodyline_aws::Clients;

/// Everything discovery saw.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub owned: Vec<OwnedResource>,
    pub skipped: Vec<Skipped>,
}

impl Found {
    /// Owned by its tag, skipped when it has one of the stack's names but not its tag, else
    /// not the stack's business.
    fn judge(&mut self, scope: &Scope<'_>, listed: &Listed) {
        let (kind, name) = (listed.kind, listed.name.as_str());
        match ownership(scope.stack(), tag_refs(&listed.tags)) {
            Ownership::Owned => self.owned.push(OwnedResource {
                kind,
                name: name.to_string(),
                arn: listed.arn.clone(),
                scaling: listed.scaling.clone(),
                found_by: scope.found_by(name),
            }),
            other if scope.our_name(name) => self.skipped.push(Skipped {
                kind,
                name: name.to_string(),
                reason: match other {
                    Ownership::OtherStack(s) => SkipReason::OtherStack(s),
                    _ => SkipReason::Foreign,
                },
            }),
            _ => {}
        }
    }
}

/// Runs every module's listings and returns the owned resources in teardown order.
pub(crate) async fn discover(clients: &Clients, scope: &Scope<'_>) -> Result<Found, TeardownError> {
    discover_modules(clients, scope, &owned()).await
}

/// Runs the listings `modules` register, in discovery order: each listed resource is claimed
/// by its listing's claim, if it has one and it claims it, else judged by its tag.
pub(crate) async fn discover_modules(
    clients: &Clients,
    scope: &Scope<'_>,
    modules: &[Owns],
) -> Result<Found, TeardownError> {
    let wanted = |name: &str| scope.candidate(name);
    let exact_name = |name: &str| scope.our_name(name);
    let filter = Filter {
        stack: Some(scope.stack()),
        wanted: &wanted,
        exact_name: &exact_name,
        region: None,
    };
    let mut found = Found::default();
    let mut listed: Vec<Listed> = Vec::new();
    for listing in listings(modules) {
        let these = (listing.list)(clients, &filter, &listed).await?;
        for resource in &these {
            let claimed = match listing.claim {
                Some(claim) => claim(clients, scope, resource).await?,
                None => None,
            };
            match claimed {
                Some(found_by) => found.owned.push(OwnedResource {
                    kind: resource.kind,
                    name: resource.name.clone(),
                    arn: resource.arn.clone(),
                    scaling: resource.scaling.clone(),
                    found_by,
                }),
                None => found.judge(scope, resource),
            }
        }
        listed.extend(these);
    }
    found
        .owned
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    found
        .skipped
        .sort_by(|a, b| (a.kind, &a.name).cmp(&(b.kind, &b.name)));
    Ok(found)
}
