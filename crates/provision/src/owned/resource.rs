//! What teardown talks about: owned resources in deletion order, and the ones it must skip.

use serde::Serialize;

/// A kind of resource a stack owns: its teardown position, a stable id and a label. The values
/// are associated consts declared by the resource module that deletes them
/// (`ResourceKind::Role` in `resources/iam`, ...), each with its registration
/// (`owned/registration.rs`). Ordered by position, which is the deletion order: each kind is
/// deleted only after every kind before it (the role last, because SageMaker needs it while it
/// deletes the endpoint). Positions leave gaps (10, 20, ...) so a new kind fits between two;
/// positions and ids are unique (the registry's tests hold it).
// Field order matters: the derived `Ord` compares `position` first, and it is unique.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResourceKind {
    position: u16,
    id: &'static str,
    label: &'static str,
}

impl ResourceKind {
    /// A kind deleted at `position`, with its `id` (snake_case, what JSON shows; never change
    /// one) and `label`.
    pub(crate) const fn new(position: u16, id: &'static str, label: &'static str) -> ResourceKind {
        ResourceKind {
            position,
            id,
            label,
        }
    }

    /// Its place in the deletion order (lower goes first).
    pub fn position(self) -> u16 {
        self.position
    }

    /// The stable id, as in JSON (`"managed_policy"`).
    pub fn id(self) -> &'static str {
        self.id
    }

    /// A short, stable label for tables and JSON.
    pub fn label(self) -> &'static str {
        self.label
    }
}

impl std::fmt::Debug for ResourceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ResourceKind({})", self.id)
    }
}

impl Serialize for ResourceKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id)
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
