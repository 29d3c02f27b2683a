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

/// The kind of a resource (or of a bucket setting, each planned on its own): a stable id and
/// a label. The values are associated consts declared by the resource module that plans them
/// (`Kind::Bucket` in `resources/bucket`, `Kind::Endpoint` in `resources/sagemaker`, ...), so
/// a new kind is declared where its code is, not added to a list here. Two kinds are equal
/// when they are the same value; ids are unique (the registry's tests hold it).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kind {
    id: &'static str,
    label: &'static str,
}

impl Kind {
    /// A kind with its `id` (snake_case, what JSON shows; never change one) and `label`.
    pub(crate) const fn new(id: &'static str, label: &'static str) -> Kind {
        Kind { id, label }
    }

    /// The stable id, as in JSON (`"endpoint_config"`).
    pub fn id(self) -> &'static str {
        self.id
    }

    /// A short human name, as in messages.
    pub fn label(self) -> &'static str {
        self.label
    }
}

impl std::fmt::Debug for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Kind({})", self.id)
    }
}

impl Serialize for Kind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.id)
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
