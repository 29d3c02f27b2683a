//! One module per kind of resource a stack owns, each holding what bodyline does to that kind:
//! [`bucket`] (the output bucket and its settings), [`topics`] (the SNS topics), [`iam`] (the
//! execution role, its policy, the invoker policy and its attachments, verify's users),
//! [`sagemaker`] (model, endpoint config, endpoint) and [`scaling`] (scale to zero). Teardown
//! reaches each kind's delete through its registry (`teardown/registry.rs`); the shared
//! vocabulary they build on is in `owned/`.

pub(crate) mod bucket;
pub(crate) mod iam;
pub(crate) mod sagemaker;
pub(crate) mod scaling;
pub(crate) mod topics;
