//! One module per kind of resource a stack owns, each holding what bodyline does to that kind:
//! [`bucket`] (the output bucket and its settings), [`topics`] (the SNS topics), [`iam`] (the
//! execution role, its policy, the invoker policy and its attachments, verify's users),
//! [`sagemaker`] (model, endpoint config, endpoint) and [`scaling`] (scale to zero).
//!
//! Each module implements [`module::Resource`] (setup: observe, ownership, plan, apply, its
//! phase, wait and retirement) and declares its kinds (the `Kind` and `ResourceKind` values),
//! the plan's kinds it produces and its teardown registrations (its `OWNS`, returned by
//! [`module::Resource::owns`]), each naming the tagged listing, declared and implemented in
//! the module (`listing.rs`), that discovery finds the kind with. This file is the registry: a module is added with its `mod`
//! line and one entry in [`MODULES`], which setup runs and teardown reads ([`owned`]). The
//! shared vocabulary they build on is in `owned/`.

pub(crate) mod bucket;
pub(crate) mod iam;
pub(crate) mod module;
pub(crate) mod sagemaker;
pub(crate) mod scaling;
pub(crate) mod topics;

use crate::owned::registration::Owns;
use module::AnyResource;

/// Every module, in dependency order: observe reads them in this order, plan lists their
/// changes in it and apply runs them in it (each within its phase). Teardown orders their
/// registrations by `ResourceKind` instead, so for it the order here is free.
pub(crate) const MODULES: &[&dyn AnyResource] = &[
    &bucket::OutputBucket,
    &topics::Topics,
    &iam::Iam,
    &sagemaker::SageMaker,
    &scaling::ScaleToZero,
];

/// What every module owns (plan kinds and teardown registrations), in [`MODULES`] order.
pub(crate) fn owned() -> Vec<Owns> {
    MODULES.iter().map(|module| module.owns()).collect()
}
