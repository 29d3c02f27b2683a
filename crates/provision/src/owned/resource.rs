//! What teardown talks about: owned resources in deletion order, and the ones it must skip.

use serde::Serialize;

/// The kinds of resource a stack owns, declared in teardown order: each kind is deleted only
/// after every kind before it (the role last, because SageMaker needs it while it deletes
/// the endpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// The CloudWatch alarm that wakes a scaled-to-zero endpoint (it triggers a scaling policy).
    Alarm,
    /// An Application Auto Scaling policy on the endpoint's variant.
    ScalingPolicy,
    /// The Application Auto Scaling target `endpoint/<ep>/variant/<v>`.
    ScalableTarget,
    /// The SageMaker endpoint.
    Endpoint,
    /// A SageMaker endpoint config (the current one and any old one).
    EndpointConfig,
    /// A SageMaker model.
    Model,
    /// The output bucket, with every object version and upload in it.
    Bucket,
    /// An SNS success or error topic.
    Topic,
    /// An IAM user (verify's temporary invoker, if a run was interrupted).
    User,
    /// A customer-managed IAM policy (the invoker policy).
    ManagedPolicy,
    /// An IAM role (the execution role).
    Role,
}

impl ResourceKind {
    /// Every kind, in teardown order (each must be registered in `registry.rs`).
    #[cfg(test)]
    pub(crate) const ALL: [ResourceKind; 11] = [
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

    /// A short, stable label for tables and JSON.
    pub fn label(self) -> &'static str {
        match self {
            ResourceKind::Alarm => "alarm",
            ResourceKind::ScalingPolicy => "scaling policy",
            ResourceKind::ScalableTarget => "scalable target",
            ResourceKind::Endpoint => "endpoint",
            ResourceKind::EndpointConfig => "endpoint config",
            ResourceKind::Model => "model",
            ResourceKind::Bucket => "bucket",
            ResourceKind::Topic => "topic",
            ResourceKind::User => "iam user",
            ResourceKind::ManagedPolicy => "iam policy",
            ResourceKind::Role => "iam role",
        }
    }
}

impl std::fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// How an owned resource was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FoundBy {
    /// Recorded in the state file (and confirmed by its tag).
    State,
    /// Found by listing and reading its `bodyline:stack` tag.
    Tag,
    /// The untagged, empty bucket of a setup interrupted between `CreateBucket` and its
    /// tagging: deleted with `DeleteBucket` alone (which S3 refuses while it holds an object),
    /// never emptied.
    InterruptedSetup,
}

/// A resource that carries the stack's tag, so teardown may delete it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OwnedResource {
    /// What it is.
    pub kind: ResourceKind,
    /// Its name (for a scaling target, its resource id; for a topic, its name).
    pub name: String,
    /// Its ARN, where the service gives one.
    pub arn: Option<String>,
    /// For scaling targets and policies: what is scaled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scaling: Option<ScalingRef>,
    /// How it was found.
    pub found_by: FoundBy,
}

/// The Application Auto Scaling coordinates of a target or policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalingRef {
    /// `endpoint/<ep>/variant/<v>`.
    pub resource_id: String,
    /// `sagemaker:variant:DesiredInstanceCount`.
    pub dimension: String,
}

/// A resource with one of the stack's names that teardown will not touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// What it is.
    pub kind: ResourceKind,
    /// Its name.
    pub name: String,
    /// Why it is left alone.
    pub reason: SkipReason,
}

/// Why a resource with a matching name is not the stack's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "stack")]
pub enum SkipReason {
    /// It has no `bodyline:stack` tag: someone else's resource.
    Foreign,
    /// It belongs to another bodyline stack.
    OtherStack(String),
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Foreign => f.write_str("foreign: no bodyline:stack tag"),
            SkipReason::OtherStack(s) => write!(f, "belongs to stack {s:?}"),
        }
    }
}
