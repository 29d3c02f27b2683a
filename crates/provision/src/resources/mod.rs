//! One module per kind of resource a stack owns, each holding what bodyline does to that kind:
//! [`bucket`] (the output bucket and its settings), [`topics`] (the SNS topics), [`iam`] (the
//! execution role, its policy, the invoker policy and its attachments, verify's users),
//! [`sagemaker`] (model, endpoint config, endpoint) and [`scaling`] (scale to zero).
//!
//! This file is the registry: a module is added with its `mod` line and its entry in
//! [`MODULES`] (setup: observe, plan, apply, through [`module::Resource`]); teardown reaches
//! each kind's delete through its registration (`teardown/registry.rs`). The shared
//! vocabulary they build on is in `owned/`.

pub(crate) mod bucket;
pub(crate) mod iam;
pub(crate) mod module;
pub(crate) mod sagemaker;
pub(crate) mod scaling;
pub(crate) mod topics;

use module::AnyResource;

/// Every module setup runs, in dependency order: observe reads them in this order, plan
/// lists their changes in it and apply runs them in it (each within its phase).
pub(crate) const MODULES: &[&dyn AnyResource] = &[
    &bucket::OutputBucket,
    &topics::Topics,
    &iam::Iam,
    &sagemaker::SageMaker,
    &scaling::ScaleToZero,
];
