//! One module per kind of resource a stack owns, each holding what bodyline does to that kind:
//! [`bucket`] (the output bucket and its settings), [`topics`] (the SNS topics), [`iam`] (the
//! execution role, its policy, the invoker policy and its attachments, verify's users),
//! [`sagemaker`] (model, endpoint config, endpoint) and [`scaling`] (scale to zero). Each also
//! declares its kinds (the `Kind` and `ResourceKind` values), the plan's kinds it produces
//! and its teardown registrations (together its `OWNS`); [`OWNED`] lists the modules once, and
//! teardown reaches each kind's delete through it (`teardown/registry.rs`). The shared
//! vocabulary they build on is in `owned/`.

pub(crate) mod bucket;
pub(crate) mod iam;
pub(crate) mod sagemaker;
pub(crate) mod scaling;
pub(crate) mod topics;

use crate::owned::registration::Owns;

/// What every module owns (its `OWNS`: plan kinds and teardown registrations), one line per
/// module; the registry (`teardown/registry.rs`) orders the registrations by `ResourceKind`,
/// so the order here is free.
pub(crate) const OWNED: &[Owns] = &[
    bucket::OWNS,
    iam::OWNS,
    sagemaker::OWNS,
    scaling::OWNS,
    topics::OWNS,
];
