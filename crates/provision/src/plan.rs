//! The plan: what must change to turn what exists into what the stack file says. Pure.

use bodyline_stack::{ownership, Ownership};
use serde::Serialize;

use crate::desired::Desired;
use crate::observe::Observed;
use crate::owned::ownership::tag_refs;
use crate::owned::planned::Planned;
use crate::resources::{bucket, iam, sagemaker, scaling, topics};
use crate::ProvisionError;

pub use crate::owned::planned::{Action, Kind};

/// What apply does for a change, with the data it needs beyond the desired stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    Nothing,
    /// The output bucket and its settings.
    Bucket(bucket::Step),
    /// An SNS topic.
    Topic(topics::Step),
    /// The execution role, its policy, the invoker policy and its attachments.
    Iam(iam::Step),
    /// The model, the endpoint config and the endpoint.
    SageMaker(sagemaker::Step),
    /// Scale to zero, after the endpoint is `InService`.
    Scaling(scaling::Step),
}

/// A plan's changes by when apply runs them, relative to the endpoint becoming `InService`.
#[derive(Debug)]
pub(crate) struct Phases<'p> {
    /// Before the endpoint is ready, in dependency order (a retired resource's change is here
    /// too, for the report; its deletion is [`Phases::retire`]).
    pub before: Vec<&'p Change>,
    /// Whether apply then waits for the endpoint to be `InService`.
    pub wait: bool,
    /// Once it is: scale to zero, registered or removed as one unit.
    pub after: Vec<&'p Change>,
    /// Last: the endpoint configs and models the endpoint no longer uses.
    pub retire: Vec<(Kind, String)>,
}

/// One resource's planned change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The kind of resource.
    pub kind: Kind,
    /// Its name.
    pub resource: String,
    /// What happens to it.
    pub action: Action,
    /// Why, in words (what differs, or why nothing happens).
    pub detail: String,
    #[serde(skip)]
    pub(crate) step: Step,
}

/// The plan of a stack: changes in dependency order, and the desired stack they lead to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    /// Where the stack goes, all names and documents.
    pub desired: Desired,
    /// One change per resource, in the order apply runs them.
    pub changes: Vec<Change>,
}

impl Plan {
    /// Whether anything would change (`bodyline plan` exits 2 then).
    pub fn has_changes(&self) -> bool {
        self.changes.iter().any(|c| c.action != Action::NoOp)
    }

    /// The changes that do something.
    pub fn pending(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action != Action::NoOp)
    }

    /// The plan's phases, in the order apply runs them.
    pub(crate) fn phases(&self) -> Phases<'_> {
        let mut phases = Phases {
            before: Vec::new(),
            wait: false,
            after: Vec::new(),
            retire: Vec::new(),
        };
        for change in &self.changes {
            match &change.step {
                Step::Nothing => continue,
                // AWS registers scaling only on an existing variant: after the endpoint is ready.
                Step::Scaling(_) => {
                    phases.after.push(change);
                    continue;
                }
                Step::SageMaker(step) => {
                    phases.wait |= step.waits();
                    phases
                        .retire
                        .extend(step.retires(change.kind, &change.resource));
                }
                _ => {}
            }
            phases.before.push(change);
        }
        phases
    }

    /// Whether apply sends `CreateBucket` (which cannot tag the bucket in the same call).
    pub(crate) fn creates_bucket(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.step == Step::Bucket(bucket::Step::Create))
    }
}

/// Plans the stack against what was observed. Pure: no call is made.
///
/// A resource that has the stack's name but not its `bodyline:stack` tag is an error
/// ([`ProvisionError::Foreign`] or [`ProvisionError::OtherStack`]), so apply never runs on it.
pub fn plan(desired: Desired, observed: &Observed) -> Result<Plan, ProvisionError> {
    let changes = plan_desired(&desired, observed)?;
    Ok(Plan { desired, changes })
}

struct Planner<'a> {
    desired: &'a Desired,
    changes: Vec<Change>,
}

impl Planner<'_> {
    fn push(
        &mut self,
        kind: Kind,
        resource: &str,
        action: Action,
        detail: impl Into<String>,
        step: Step,
    ) {
        self.changes.push(Change {
            kind,
            resource: resource.to_string(),
            action,
            detail: detail.into(),
            step,
        });
    }

    /// Fails unless the tags say the stack owns the resource.
    fn owned(
        &self,
        kind: Kind,
        name: &str,
        tags: &[(String, String)],
    ) -> Result<(), ProvisionError> {
        match ownership(&self.desired.stack, tag_refs(tags)) {
            Ownership::Owned => Ok(()),
            Ownership::OtherStack(owner) => Err(ProvisionError::OtherStack {
                kind: kind.label(),
                name: name.to_string(),
                owner,
                stack: self.desired.stack.clone(),
            }),
            Ownership::Foreign => Err(ProvisionError::Foreign {
                kind: kind.label(),
                name: name.to_string(),
                stack: self.desired.stack.clone(),
            }),
        }
    }

    /// Adds a resource module's planned change, its step wrapped into a [`Step`].
    fn push_planned<S>(
        &mut self,
        planned: impl IntoIterator<Item = Planned<S>>,
        wrap: fn(S) -> Step,
    ) {
        for c in planned {
            let step = c.step.map_or(Step::Nothing, wrap);
            self.push(c.kind, &c.resource, c.action, c.detail, step);
        }
    }
}

/// The plan for an already derived desired stack.
pub(crate) fn plan_desired(
    desired: &Desired,
    observed: &Observed,
) -> Result<Vec<Change>, ProvisionError> {
    let mut p = Planner {
        desired,
        changes: Vec::new(),
    };
    // Ownership is checked for every resource before any change is listed, so a clash
    // anywhere stops the whole plan.
    check_ownership(&p, observed)?;
    p.push_planned(
        bucket::plan(desired, observed.bucket.as_ref()),
        Step::Bucket,
    );
    let topics = topics::plan(desired, &observed.success_topic, &observed.error_topic);
    p.push_planned(topics, Step::Topic);
    let iam = iam::plan(desired, &observed.role, &observed.invoker);
    p.push_planned(iam, Step::Iam);
    let sagemaker = sagemaker::plan(
        desired,
        &sagemaker::SageMakerObserved {
            model: &observed.model,
            endpoint_config: &observed.endpoint_config,
            endpoint: &observed.endpoint,
            leftover_configs: &observed.leftover_configs,
            leftover_models: &observed.leftover_models,
        },
    );
    p.push_planned(sagemaker, Step::SageMaker);
    p.push_planned(scaling::plan(desired, &observed.scaling), Step::Scaling);
    Ok(p.changes)
}

fn check_ownership(p: &Planner<'_>, o: &Observed) -> Result<(), ProvisionError> {
    let d = p.desired;
    if let Some(missing) = o.missing_principals.first() {
        return Err(ProvisionError::MissingPrincipal {
            principal: missing.to_string(),
            stack: d.stack.clone(),
        });
    }
    if let Some(b) = o.bucket.as_ref().filter(|b| !b.adopt) {
        match &b.tags {
            Some(tags) => p.owned(Kind::Bucket, &b.name, tags)?,
            None => {
                return Err(ProvisionError::Foreign {
                    kind: "bucket (owned by another AWS account)",
                    name: b.name.clone(),
                    stack: d.stack.clone(),
                })
            }
        }
    }
    for (kind, t) in [
        (Kind::SuccessTopic, &o.success_topic),
        (Kind::ErrorTopic, &o.error_topic),
    ] {
        if let Some(t) = t {
            p.owned(kind, &t.name, &t.tags)?;
        }
    }
    if let Some(r) = &o.role {
        p.owned(Kind::ExecutionRole, &d.role.name, &r.tags)?;
    }
    if let Some(i) = &o.invoker {
        p.owned(Kind::InvokerPolicy, &d.invoker.name, &i.tags)?;
    }
    if let Some(m) = &o.model {
        p.owned(Kind::Model, &m.name, &m.tags)?;
    }
    if let Some(c) = &o.endpoint_config {
        p.owned(Kind::EndpointConfig, &c.name, &c.tags)?;
    }
    if let Some(e) = &o.endpoint {
        p.owned(Kind::Endpoint, &d.endpoint.name, &e.tags)?;
    }
    if let Some(a) = &o.scaling.alarm {
        p.owned(Kind::ScaleToZero, &d.names.wake_alarm, &a.tags)?;
    }
    Ok(())
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
