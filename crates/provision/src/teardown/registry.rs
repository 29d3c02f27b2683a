//! The registry of what a stack owns, assembled from what each resource module declares (its
//! `OWNS`, listed once in `resources/mod.rs`): each kind teardown deletes, the plan's kinds
//! that create or change it (setup's side), the tagged listing discovery finds it in, and the
//! function that deletes it; and the distinct listings discovery runs, in their order
//! ([`listings`]). A new kind of resource, and its listing, are declared in its module, and a
//! new module is one line in `resources::MODULES`; the tests below fail when a kind is planned
//! by setup but not registered for teardown and discovery, a teardown kind is registered twice
//! or shares its position or id with another, or two listings share a position or an id.

use std::sync::LazyLock;

use crate::owned::listing::Listing;
use crate::owned::registration::{Owns, Registration};
use crate::owned::resource::ResourceKind;
use crate::resources::owned;

/// Every module's registrations, in teardown order.
static REGISTRY: LazyLock<Vec<&'static Registration>> = LazyLock::new(|| assemble(&owned()));

/// The registrations of `modules`, ordered by [`ResourceKind`] (their deletion order).
pub(crate) fn assemble(modules: &[Owns]) -> Vec<&'static Registration> {
    let mut all: Vec<&'static Registration> =
        modules.iter().flat_map(|m| m.teardown.iter()).collect();
    all.sort_by_key(|r| r.kind);
    all
}

/// The distinct listings the registrations of `modules` name (one listing may find several
/// kinds), in discovery order: by position, so one that ties its resources to another's runs
/// after it (scaling after SageMaker).
pub(crate) fn listings(modules: &[Owns]) -> Vec<&'static Listing> {
    let mut distinct: Vec<&'static Listing> = Vec::new();
    for registration in modules.iter().flat_map(|m| m.teardown.iter()) {
        if !distinct.iter().any(|l| l.id == registration.listed_by.id) {
            distinct.push(registration.listed_by);
        }
    }
    distinct.sort_by_key(|l| l.position);
    distinct
}

/// Every kind a stack owns, in teardown order.
#[cfg(test)]
pub(crate) fn registry() -> &'static [&'static Registration] {
    &REGISTRY
}

/// The registration of `kind`; `None` only for a kind some module declares but none
/// registers, and teardown then stops with `TeardownError::Unregistered` before touching it.
pub(crate) fn registration(kind: ResourceKind) -> Option<&'static Registration> {
    REGISTRY.iter().copied().find(|r| r.kind == kind)
}

/// The kinds `modules` plan that no registration of theirs names in `planned_as`.
#[cfg(test)]
pub(crate) fn planned_but_unregistered(modules: &[Owns]) -> Vec<crate::owned::planned::Kind> {
    let registered: Vec<_> = modules
        .iter()
        .flat_map(|m| m.teardown)
        .flat_map(|r| r.planned_as.iter().copied())
        .collect();
    modules
        .iter()
        .flat_map(|m| m.plans.iter().copied())
        .filter(|k| !registered.contains(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::owned::planned::Kind;
    use crate::resources::{bucket, iam, topics};

    #[test]
    fn every_planned_kind_is_registered_for_teardown_and_discovery() {
        // Scale to zero is one change for three resources; every change needs one at least.
        let missing = planned_but_unregistered(&owned());
        assert!(
            missing.is_empty(),
            "setup plans {missing:?} but no teardown kind owns it: add it to a registration's \
             `planned_as` in its module's OWNS so teardown deletes it and discovery finds it"
        );
        let run = listings(&owned());
        for r in registry() {
            assert!(
                run.iter()
                    .any(|l| l.id == r.listed_by.id && l.position == r.listed_by.position),
                "{} is listed by {:?}, which discovery never runs",
                r.kind,
                r.listed_by
            );
        }
    }

    #[test]
    fn every_listing_has_its_own_position_and_id_and_scaling_follows_sagemaker() {
        let every: Vec<&Listing> = registry().iter().map(|r| r.listed_by).collect();
        let run = listings(&owned());
        for listing in &every {
            let same_id: Vec<_> = every.iter().filter(|l| l.id == listing.id).collect();
            assert!(
                same_id.iter().all(|l| l.position == listing.position),
                "two listings are called {:?}: {same_id:?}",
                listing.id
            );
        }
        let positions: HashSet<u16> = run.iter().map(|l| l.position).collect();
        assert_eq!(positions.len(), run.len(), "positions repeat: {run:?}");
        // Today's order: a scalable target belongs to the stack whose endpoint it scales, so
        // scaling runs after the listing that returns the endpoints.
        let ids: Vec<&str> = run.iter().map(|l| l.id).collect();
        assert_eq!(
            ids,
            ["sagemaker", "scaling", "alarms", "buckets", "topics", "iam"]
        );
        // A listing named twice runs once; the order is the positions', not the modules'.
        let twice = [topics::OWNS, bucket::OWNS, topics::OWNS];
        let ids: Vec<&str> = listings(&twice).iter().map(|l| l.id).collect();
        assert_eq!(ids, ["buckets", "topics"]);
    }

    #[test]
    fn a_planned_kind_left_out_of_every_registration_is_caught() {
        // The check above on a table that forgets the topics' registration: it must name both
        // topic kinds, or the check could not fail.
        let without_topic = Owns {
            plans: topics::OWNS.plans,
            teardown: &[],
        };
        let modules = [bucket::OWNS, iam::OWNS, without_topic];
        assert_eq!(
            planned_but_unregistered(&modules),
            vec![Kind::SuccessTopic, Kind::ErrorTopic]
        );
        assert_eq!(planned_but_unregistered(&[bucket::OWNS, iam::OWNS]), vec![]);
    }

    #[test]
    fn every_teardown_kind_is_registered_once_with_its_own_position_and_id() {
        let kinds: Vec<ResourceKind> = registry().iter().map(|r| r.kind).collect();
        let positions: HashSet<u16> = kinds.iter().map(|k| k.position()).collect();
        let ids: HashSet<&str> = kinds.iter().map(|k| k.id()).collect();
        assert_eq!(positions.len(), kinds.len(), "positions repeat: {kinds:?}");
        assert_eq!(ids.len(), kinds.len(), "ids repeat: {kinds:?}");
        for kind in kinds {
            let found = registration(kind).map(|r| r.kind);
            assert_eq!(found, Some(kind), "registration({kind:?})");
        }
        // Only the registered kinds are found.
        assert!(registration(ResourceKind::new(5, "unregistered", "unregistered")).is_none());
    }

    #[test]
    fn every_planned_kind_is_declared_once_with_its_own_id() {
        let planned: Vec<Kind> = owned()
            .iter()
            .flat_map(|m| m.plans.iter().copied())
            .collect();
        let ids: HashSet<&str> = planned.iter().map(|k| k.id()).collect();
        assert_eq!(ids.len(), planned.len(), "ids repeat: {planned:?}");
    }

    #[test]
    fn every_kind_a_plan_has_a_change_for_is_declared_by_its_module() {
        // The fullest stack (topics, the TLS policy of the aws target, scale to zero) on a
        // fresh account: a kind its module forgot in `plans` would escape the checks above.
        let s = crate::testutil::stack_with(
            "aws",
            "[scaling]\nmin_instances = 0\nmax_instances = 2\ntarget_backlog_per_instance = 5",
        );
        let d = crate::testutil::desired(&s);
        let plan = crate::plan::plan(d, &crate::observe::Observed::default()).unwrap();
        let declared: Vec<Kind> = owned()
            .iter()
            .flat_map(|m| m.plans.iter().copied())
            .collect();
        let changed: Vec<Kind> = plan.changes.iter().map(|c| c.kind).collect();
        assert_eq!(changed.len(), declared.len(), "{changed:?} / {declared:?}");
        for kind in changed {
            assert!(
                declared.contains(&kind),
                "{kind:?} is planned but no module declares it"
            );
        }
    }

    #[test]
    fn the_teardown_order_keeps_what_deletion_needs() {
        // Deleting in another order breaks teardown (a bucket before the endpoint writing into
        // it, the role before SageMaker is done with it). Today's kinds keep this order; a new
        // kind goes in a gap, anywhere between them.
        let order = [
            ResourceKind::Alarm,
            ResourceKind::ScalingPolicy,
            ResourceKind::ScalableTarget,
            ResourceKind::Endpoint,
            ResourceKind::EndpointConfig,
            ResourceKind::Model,
            ResourceKind::Bucket,
            ResourceKind::Topic,
            ResourceKind::User,
            ResourceKind::ManagedPolicy,
            ResourceKind::Role,
        ];
        let registered: Vec<ResourceKind> = registry().iter().map(|r| r.kind).collect();
        let kept: Vec<ResourceKind> = registered
            .iter()
            .copied()
            .filter(|k| order.contains(k))
            .collect();
        assert_eq!(kept, order.to_vec());
        assert!(order.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn kinds_serialize_to_their_ids_as_before() {
        // JSON output (plans, teardown reports) names kinds as the enums' serde did.
        let json = serde_json::to_value((
            Kind::EndpointConfig,
            Kind::ScaleToZero,
            ResourceKind::ManagedPolicy,
            ResourceKind::Role,
        ))
        .unwrap();
        assert_eq!(
            json,
            serde_json::json!(["endpoint_config", "scale_to_zero", "managed_policy", "role"])
        );
        assert_eq!(Kind::Encryption.label(), "default encryption");
        assert_eq!(ResourceKind::User.to_string(), "iam user");
    }
}
