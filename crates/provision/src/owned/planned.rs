//! What a plan says about one resource, in words setup's flow and the resource modules share:
//! its [`Kind`], the [`Action`] on it, and a [`Planned`] change carrying a kind's own step.
//! A leaf under `owned/`, so `resources/*` can plan without reaching back into `plan.rs`.

use serde::Serialize;

use crate::desired::Desired;

/// What happens to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// It does not exist and is created.
    Create,
    /// It exists and is changed in place.
    Update,
    /// It is replaced by a new one (the old one is deleted after).
    Replace,
    /// It is deleted: a leftover of the stack that nothing uses.
    Delete,
    /// Nothing to do.
    #[serde(rename = "no-op")]
    NoOp,
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Replace => "replace",
            Action::Delete => "delete",
            Action::NoOp => "no-op",
        })
    }
}

/// The kind of a resource (or of a bucket setting, each planned on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// The output bucket and its tags.
    Bucket,
    /// Its public access block.
    PublicAccessBlock,
    /// Its default encryption.
    Encryption,
    /// Its ownership controls.
    OwnershipControls,
    /// Its lifecycle rules.
    Lifecycle,
    /// Its TLS-only policy.
    BucketPolicy,
    /// The success topic.
    SuccessTopic,
    /// The error topic.
    ErrorTopic,
    /// The execution role (trust policy and tags).
    ExecutionRole,
    /// The execution role's inline policy.
    ExecutionPolicy,
    /// The invoker managed policy.
    InvokerPolicy,
    /// Its attachments to the configured principals.
    InvokerAttachments,
    /// The model.
    Model,
    /// The endpoint config.
    EndpointConfig,
    /// The endpoint.
    Endpoint,
    /// Scale to zero: scalable target, both policies and the wake alarm, as one unit.
    ScaleToZero,
}

impl Kind {
    /// Every kind a plan has a change for, in plan order (the teardown registry,
    /// `teardown/registry.rs`, must name each; its test checks).
    #[cfg(test)]
    pub(crate) const ALL: [Kind; 16] = [
        Kind::Bucket,
        Kind::PublicAccessBlock,
        Kind::Encryption,
        Kind::OwnershipControls,
        Kind::Lifecycle,
        Kind::BucketPolicy,
        Kind::SuccessTopic,
        Kind::ErrorTopic,
        Kind::ExecutionRole,
        Kind::ExecutionPolicy,
        Kind::InvokerPolicy,
        Kind::InvokerAttachments,
        Kind::Model,
        Kind::EndpointConfig,
        Kind::Endpoint,
        Kind::ScaleToZero,
    ];

    /// A short human name, as in messages.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Bucket => "bucket",
            Kind::PublicAccessBlock => "public access block",
            Kind::Encryption => "default encryption",
            Kind::OwnershipControls => "ownership controls",
            Kind::Lifecycle => "lifecycle",
            Kind::BucketPolicy => "bucket policy",
            Kind::SuccessTopic => "success topic",
            Kind::ErrorTopic => "error topic",
            Kind::ExecutionRole => "execution role",
            Kind::ExecutionPolicy => "execution policy",
            Kind::InvokerPolicy => "invoker policy",
            Kind::InvokerAttachments => "invoker attachments",
            Kind::Model => "model",
            Kind::EndpointConfig => "endpoint config",
            Kind::Endpoint => "endpoint",
            Kind::ScaleToZero => "scale to zero",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// One resource's planned change as a resource module states it, with its own step type `S`;
/// `plan.rs` wraps the step into its [`crate::plan::Step`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Planned<S> {
    /// The kind of resource.
    pub kind: Kind,
    /// Its name.
    pub resource: String,
    /// What happens to it.
    pub action: Action,
    /// Why, in words.
    pub detail: String,
    /// What apply does, in the module's own terms (`None`: nothing).
    pub step: Option<S>,
}

/// Collects one kind's planned changes, in plan order, against the desired stack.
pub(crate) struct Planner<'a, S> {
    /// Where the stack goes.
    pub desired: &'a Desired,
    /// The changes so far.
    pub changes: Vec<Planned<S>>,
}

impl<'a, S> Planner<'a, S> {
    /// No change yet.
    pub(crate) fn new(desired: &'a Desired) -> Self {
        Planner {
            desired,
            changes: Vec::new(),
        }
    }

    /// Adds one change (`None`: nothing for apply to do).
    pub(crate) fn push(
        &mut self,
        kind: Kind,
        resource: &str,
        action: Action,
        detail: impl Into<String>,
        step: impl Into<Option<S>>,
    ) {
        self.changes.push(Planned {
            kind,
            resource: resource.to_string(),
            action,
            detail: detail.into(),
            step: step.into(),
        });
    }
}
