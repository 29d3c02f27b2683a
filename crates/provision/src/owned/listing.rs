//! What a resource module's tagged listing is, takes and gives: a [`Listing`] (its place in
//! discovery order, an id, the function that lists, and an optional claim) that the module
//! declares as a const and names in its registrations, the [`Filter`] it lists under, the
//! [`Listed`] resources it returns with the tags that decide whose they are, and the
//! [`Scope`] of one stack a claim is judged against. Teardown's discovery (one stack, by its
//! names) and sweep's inventory (every stack, by tag) run the distinct listings of the
//! registered modules in position order and judge what they return without knowing any kind.
//! A leaf under `owned/`, so the modules implement listings without reaching into `teardown/`.

use std::future::Future;
use std::pin::Pin;
use std::time::SystemTime;

use aws_smithy_types::DateTime;
use bodyline_aws::tags::TagPairs;
use bodyline_aws::Clients;
use bodyline_stack::{Names, State};

use crate::owned::error::TeardownError;
use crate::owned::resource::{FoundBy, ResourceKind, ScalingRef};

/// One listed resource whose tags could be read.
#[derive(Debug, Clone)]
pub(crate) struct Listed {
    pub kind: ResourceKind,
    pub name: String,
    /// Its ARN, where the service gives one (a scalable target has none).
    pub arn: Option<String>,
    /// When AWS says it was created (SNS topics and CloudWatch alarms have no such time).
    pub created: Option<SystemTime>,
    /// Whether it lives in the listed region (IAM is global; S3 lists every region's buckets).
    pub regional: bool,
    /// The tags that decide whose it is: its own, or, for a resource that belongs to another
    /// (a scalable target to the endpoint it scales), the `bodyline:stack` tag of that one.
    pub tags: TagPairs,
    /// For scaling targets and policies: what is scaled.
    pub scaling: Option<ScalingRef>,
}

/// What a listing keeps.
pub(crate) struct Filter<'a> {
    /// The one stack discovery looks for; `None` for sweep's inventory of every stack. The
    /// services that filter by name are asked for names containing it (SageMaker's
    /// `NameContains`, CloudWatch's alarm name prefix); `None` lists everything.
    pub stack: Option<&'a str>,
    /// Whether a listed name is worth reading the tags of.
    pub wanted: &'a (dyn Fn(&str) -> bool + Sync),
    /// Whether a name is exactly one of the stack's (discovery reports such a resource as
    /// skipped when its tag is not the stack's): a bucket by such a name whose tags cannot be
    /// read is an error rather than left out. Always false for the inventory.
    pub exact_name: &'a (dyn Fn(&str) -> bool + Sync),
    /// The region buckets are judged against ([`Listed::regional`]); `None` takes every
    /// bucket as here.
    pub region: Option<&'a str>,
}

impl Filter<'_> {
    /// What the services that filter by name are asked for.
    pub(crate) fn name_contains(&self) -> Option<&str> {
        self.stack
    }

    /// What a failed listing names.
    pub(crate) fn scope(&self) -> &str {
        self.stack.unwrap_or("the region")
    }
}

/// What discovery looks for: the stack's names and, when there is one, its state file.
pub(crate) struct Scope<'a> {
    pub names: &'a Names,
    pub state: Option<&'a State>,
}

impl Scope<'_> {
    /// The stack's name.
    pub(crate) fn stack(&self) -> &str {
        &self.names.stack
    }

    fn recorded(&self, name: &str) -> bool {
        self.state
            .is_some_and(|s| s.resources.values().any(|r| r.name == name))
    }

    /// Worth reading the tags of: could be ours by its name.
    pub(crate) fn candidate(&self, name: &str) -> bool {
        let lower = name.to_ascii_lowercase();
        lower.starts_with(&self.stack().to_ascii_lowercase())
            || name == self.names.bucket
            || self.recorded(name)
    }

    /// Has exactly one of the stack's names, so an untagged one is worth reporting.
    pub(crate) fn our_name(&self, name: &str) -> bool {
        let n = self.names;
        [
            &n.endpoint,
            &n.bucket,
            &n.execution_role,
            &n.invoker_policy,
            &n.success_topic,
            &n.error_topic,
            &n.wake_alarm,
        ]
        .iter()
        .any(|ours| ours.as_str() == name)
            || n.is_hashed_name(name)
            || name.starts_with(&format!("{}-verify-", n.stack))
            || self.recorded(name)
    }

    /// How a resource of the stack's, by its tag, was found.
    pub(crate) fn found_by(&self, name: &str) -> FoundBy {
        if self.recorded(name) {
            FoundBy::State
        } else {
            FoundBy::Tag
        }
    }
}

/// A listing in flight. `Send`, so planning a teardown or a sweep stays `Send`.
pub(crate) type ListFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<Listed>, TeardownError>> + Send + 'a>>;

/// A claim in flight.
pub(crate) type ClaimFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<FoundBy>, TeardownError>> + Send + 'a>>;

/// Lists one service (or part of one) under the filter. `earlier` is what the listings
/// before it in discovery order returned, for a resource that belongs to another (a scalable
/// target to the endpoint it scales).
pub(crate) type ListFn = for<'a> fn(&'a Clients, &'a Filter<'a>, &'a [Listed]) -> ListFuture<'a>;

/// Claims a listed resource for the stack of `scope` that its tag does not give it (the
/// untagged bucket of an interrupted setup), saying how it was found; `None` leaves it to
/// its tag. Only discovery of one stack asks.
pub(crate) type ClaimFn = for<'a> fn(&'a Clients, &'a Scope<'a>, &'a Listed) -> ClaimFuture<'a>;

/// One tagged listing, declared as a const by the resource module whose kinds it finds and
/// named by their registrations (several kinds may share one).
pub(crate) struct Listing {
    /// Its place in discovery order (lower runs first): a listing that ties its resources to
    /// another's comes after it (scaling after SageMaker). Positions go in tens and are unique.
    pub position: u16,
    /// A stable id, unique among listings (the registry's tests hold both).
    pub id: &'static str,
    /// The function that lists.
    pub list: ListFn,
    /// Its claim, if any ([`ClaimFn`]).
    pub claim: Option<ClaimFn>,
}

impl Listing {
    /// A listing at `position` with its `id` and `list` function, claiming nothing.
    pub(crate) const fn new(position: u16, id: &'static str, list: ListFn) -> Listing {
        Listing {
            position,
            id,
            list,
            claim: None,
        }
    }

    /// The same listing, with a claim.
    pub(crate) const fn claiming(self, claim: ClaimFn) -> Listing {
        Listing {
            claim: Some(claim),
            ..self
        }
    }
}

impl std::fmt::Debug for Listing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Listing({} at {})", self.id, self.position)
    }
}

/// An AWS time as a `SystemTime`, when it is one.
pub(crate) fn instant(at: Option<&DateTime>) -> Option<SystemTime> {
    at.and_then(|at| SystemTime::try_from(*at).ok())
}
