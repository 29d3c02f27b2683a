//! The registry of what a stack owns: each kind teardown deletes, the plan's kinds that create
//! or change it (setup's side), the tagged listing discovery finds it in, and the function
//! that deletes it. A new kind of
//! resource is one line here plus its code; the tests below fail when a kind is planned by
//! setup but not registered for teardown and discovery, or a teardown kind is registered
//! twice or not at all.

use crate::plan::Kind;

use crate::owned::deleting::DeleteFn;
use crate::owned::resource::ResourceKind;
use crate::resources::{bucket, iam, sagemaker, scaling, topics};

/// Where discovery finds a kind: one tagged listing per service (`listing.rs`), run in
/// [`LISTINGS`] order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Listing {
    /// Endpoints, endpoint configs and models (`NameContains` the stack).
    SageMaker,
    /// Scalable targets and their policies, tied to the endpoint they scale.
    Scaling,
    /// CloudWatch alarms (name prefix: the stack).
    Alarms,
    /// S3 buckets.
    Buckets,
    /// SNS topics.
    Topics,
    /// IAM roles, customer-managed policies and users.
    Iam,
}

/// The order discovery lists in: scaling after SageMaker, because a scalable target belongs to
/// the stack whose endpoint it scales.
pub(crate) const LISTINGS: [Listing; 6] = [
    Listing::SageMaker,
    Listing::Scaling,
    Listing::Alarms,
    Listing::Buckets,
    Listing::Topics,
    Listing::Iam,
];

/// One kind of owned resource. Teardown reads `delete`; the tests read the rest, to hold
/// setup's kinds, teardown's kinds and discovery's listings to one another.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct Registration {
    /// What teardown calls it; its position in [`ResourceKind`] is its deletion order.
    pub kind: ResourceKind,
    /// The plan's kinds whose changes make or configure it (empty: setup never makes it,
    /// e.g. verify's temporary user).
    pub planned_as: &'static [Kind],
    /// Where discovery finds it.
    pub listed_by: Listing,
    /// How teardown deletes it.
    pub delete: DeleteFn,
}

const fn registered(
    kind: ResourceKind,
    planned_as: &'static [Kind],
    listed_by: Listing,
    delete: DeleteFn,
) -> Registration {
    Registration {
        kind,
        planned_as,
        listed_by,
        delete,
    }
}

/// The registration of `kind`.
pub(crate) fn registration(kind: ResourceKind) -> &'static Registration {
    // Every kind is registered exactly once (the tests hold it), in `ResourceKind` order.
    &REGISTRY[kind as usize]
}

/// Every kind a stack owns, in teardown order.
pub(crate) const REGISTRY: [Registration; 11] = [
    registered(
        ResourceKind::Alarm,
        &[Kind::ScaleToZero],
        Listing::Alarms,
        scaling::delete_alarm,
    ),
    registered(
        ResourceKind::ScalingPolicy,
        &[Kind::ScaleToZero],
        Listing::Scaling,
        scaling::delete_scaling,
    ),
    registered(
        ResourceKind::ScalableTarget,
        &[Kind::ScaleToZero],
        Listing::Scaling,
        scaling::delete_scaling,
    ),
    registered(
        ResourceKind::Endpoint,
        &[Kind::Endpoint],
        Listing::SageMaker,
        sagemaker::delete_endpoint,
    ),
    registered(
        ResourceKind::EndpointConfig,
        &[Kind::EndpointConfig],
        Listing::SageMaker,
        sagemaker::delete_endpoint_config,
    ),
    registered(
        ResourceKind::Model,
        &[Kind::Model],
        Listing::SageMaker,
        sagemaker::delete_model,
    ),
    registered(
        ResourceKind::Bucket,
        &[
            Kind::Bucket,
            Kind::PublicAccessBlock,
            Kind::Encryption,
            Kind::OwnershipControls,
            Kind::Lifecycle,
            Kind::BucketPolicy,
        ],
        Listing::Buckets,
        bucket::delete,
    ),
    registered(
        ResourceKind::Topic,
        &[Kind::SuccessTopic, Kind::ErrorTopic],
        Listing::Topics,
        topics::delete_topic,
    ),
    registered(ResourceKind::User, &[], Listing::Iam, iam::delete_iam_user),
    registered(
        ResourceKind::ManagedPolicy,
        &[Kind::InvokerPolicy, Kind::InvokerAttachments],
        Listing::Iam,
        iam::delete_managed_policy,
    ),
    registered(
        ResourceKind::Role,
        &[Kind::ExecutionRole, Kind::ExecutionPolicy],
        Listing::Iam,
        iam::delete_iam_role,
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_planned_kind_is_registered_for_teardown_and_discovery() {
        for planned in Kind::ALL {
            let owners: Vec<ResourceKind> = REGISTRY
                .iter()
                .filter(|r| r.planned_as.contains(&planned))
                .map(|r| r.kind)
                .collect();
            // Scale to zero is one change for three resources; every change needs one at least.
            assert!(
                !owners.is_empty(),
                "setup plans {planned} but no teardown kind owns it: register it in \
                 teardown/registry.rs so teardown deletes it and discovery finds it"
            );
        }
    }

    #[test]
    fn every_teardown_kind_is_registered_once_in_deletion_order_and_listed() {
        let kinds: Vec<ResourceKind> = REGISTRY.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            ResourceKind::ALL.to_vec(),
            "one entry per kind, in order"
        );
        for r in &REGISTRY {
            assert!(
                LISTINGS.contains(&r.listed_by),
                "{} is listed by {:?}, which discovery never runs",
                r.kind,
                r.listed_by
            );
        }
    }

    #[test]
    fn the_kind_lists_are_whole() {
        // A match without a wildcard: a new variant fails to compile here until it is added
        // to `ALL` (and so to the registry checks above).
        fn plan_position(k: Kind) -> usize {
            match k {
                Kind::Bucket => 0,
                Kind::PublicAccessBlock => 1,
                Kind::Encryption => 2,
                Kind::OwnershipControls => 3,
                Kind::Lifecycle => 4,
                Kind::BucketPolicy => 5,
                Kind::SuccessTopic => 6,
                Kind::ErrorTopic => 7,
                Kind::ExecutionRole => 8,
                Kind::ExecutionPolicy => 9,
                Kind::InvokerPolicy => 10,
                Kind::InvokerAttachments => 11,
                Kind::Model => 12,
                Kind::EndpointConfig => 13,
                Kind::Endpoint => 14,
                Kind::ScaleToZero => 15,
            }
        }
        fn teardown_position(k: ResourceKind) -> usize {
            match k {
                ResourceKind::Alarm => 0,
                ResourceKind::ScalingPolicy => 1,
                ResourceKind::ScalableTarget => 2,
                ResourceKind::Endpoint => 3,
                ResourceKind::EndpointConfig => 4,
                ResourceKind::Model => 5,
                ResourceKind::Bucket => 6,
                ResourceKind::Topic => 7,
                ResourceKind::User => 8,
                ResourceKind::ManagedPolicy => 9,
                ResourceKind::Role => 10,
            }
        }
        for (i, k) in Kind::ALL.into_iter().enumerate() {
            assert_eq!(plan_position(k), i, "{k}");
        }
        for (i, k) in ResourceKind::ALL.into_iter().enumerate() {
            assert_eq!(teardown_position(k), i, "{k}");
        }
    }
}
