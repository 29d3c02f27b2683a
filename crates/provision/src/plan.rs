//! The plan: what must change to turn what exists into what the stack file says. Pure.

use bodyline_stack::{ownership, Ownership, Target};
use serde::Serialize;

use crate::desired::Desired;
use crate::observe::Observed;
use crate::owned::ownership::tag_refs;
use crate::owned::planned::Planned;
use crate::resources::{bucket, iam, scaling, topics};
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
    CreateModel,
    CreateEndpointConfig,
    CreateEndpoint,
    /// Point the endpoint at the desired config (or delete and recreate it), then retire the old.
    SwitchEndpoint {
        recreate: bool,
        retire_config: Option<String>,
        retire_model: Option<String>,
    },
    WaitEndpoint,
    /// The endpoint is already `Deleting` (a setup that recreated it stopped waiting): wait
    /// until it is gone, create it again, then retire the old.
    FinishRecreate {
        retire_config: Option<String>,
        retire_model: Option<String>,
    },
    /// Delete after the endpoint is `InService`.
    Retire,
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
                Step::CreateEndpoint | Step::WaitEndpoint => phases.wait = true,
                Step::SwitchEndpoint {
                    retire_config,
                    retire_model,
                    ..
                }
                | Step::FinishRecreate {
                    retire_config,
                    retire_model,
                } => {
                    phases.wait = true;
                    let configs = retire_config.iter().map(|c| (Kind::EndpointConfig, c));
                    let models = retire_model.iter().map(|m| (Kind::Model, m));
                    let retired = configs.chain(models).map(|(k, n)| (k, n.clone()));
                    phases.retire.extend(retired);
                }
                Step::Retire => phases.retire.push((change.kind, change.resource.clone())),
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
    plan_sagemaker(&mut p, observed);
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

fn plan_sagemaker(p: &mut Planner<'_>, o: &Observed) {
    let d = p.desired;
    let model = d.model.name.clone();
    let config = d.endpoint_config.name.clone();
    let endpoint = d.endpoint.name.clone();
    let current = o.endpoint.as_ref().and_then(|e| e.current_config.as_ref());
    // Replaced hashed resources are retired only when their tags say they are ours.
    let retire_config = current
        .filter(|c| d.names.is_hashed_name(&c.name))
        .filter(|c| ownership(&d.stack, tag_refs(&c.tags)) == Ownership::Owned)
        .map(|c| c.name.clone());
    let retire_model = current
        .and_then(|c| c.model.as_ref())
        .filter(|m| d.names.is_hashed_name(&m.name) && m.name != model)
        .filter(|m| ownership(&d.stack, tag_refs(&m.tags)) == Ownership::Owned)
        .map(|m| m.name.clone());

    match (&o.model, &retire_model) {
        (Some(_), _) => p.push(
            Kind::Model,
            &model,
            Action::NoOp,
            "exists (its name is its content hash)",
            Step::Nothing,
        ),
        (None, Some(old)) => p.push(
            Kind::Model,
            &model,
            Action::Replace,
            format!("content changed: new model, {old} deleted after the endpoint moves"),
            Step::CreateModel,
        ),
        (None, None) => p.push(
            Kind::Model,
            &model,
            Action::Create,
            format!("image {}", d.model.image),
            Step::CreateModel,
        ),
    }
    match (&o.endpoint_config, &retire_config) {
        (Some(_), _) => p.push(
            Kind::EndpointConfig,
            &config,
            Action::NoOp,
            "exists (its name is its content hash)",
            Step::Nothing,
        ),
        (None, Some(old)) => p.push(
            Kind::EndpointConfig,
            &config,
            Action::Replace,
            format!("content changed: new config, {old} deleted after the endpoint moves"),
            Step::CreateEndpointConfig,
        ),
        (None, None) => p.push(
            Kind::EndpointConfig,
            &config,
            Action::Create,
            format!("async output to {}", d.bucket.output_path),
            Step::CreateEndpointConfig,
        ),
    }
    let local = d.target == Target::Local;
    match &o.endpoint {
        None => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::Create,
            format!("runs {config}; setup waits for InService"),
            Step::CreateEndpoint,
        ),
        // An earlier setup deleted it to create it again and stopped waiting (--wait-timeout).
        Some(e) if e.status == "Deleting" => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::Replace,
            format!("is Deleting (an earlier setup replaces it): setup waits until it is gone and creates it with {config}"),
            Step::FinishRecreate {
                retire_config,
                retire_model,
            },
        ),
        Some(e) if e.status == "Failed" => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::Replace,
            format!(
                "is Failed ({}): deleted and created again with {config}",
                e.failure_reason.as_deref().unwrap_or("no reason given")
            ),
            Step::SwitchEndpoint {
                recreate: true,
                retire_config,
                retire_model,
            },
        ),
        // An earlier setup sent UpdateEndpoint and stopped waiting (--wait-timeout): AWS
        // refuses a second update while the endpoint is Updating, and the old config is still
        // serving. Wait, then retire what it replaced.
        Some(e)
            if e.config_name != config
                && e.pending_config.as_deref() == Some(config.as_str())
                && e.status != "Failed" =>
        {
            p.push(
                Kind::Endpoint,
                &endpoint,
                Action::NoOp,
                format!(
                    "is {} from {} to {config} (an earlier setup's UpdateEndpoint); setup waits for InService",
                    e.status, e.config_name
                ),
                Step::WaitEndpoint,
            );
            for (kind, old) in [
                (Kind::EndpointConfig, retire_config),
                (Kind::Model, retire_model),
            ] {
                if let Some(old) = old {
                    p.push(
                        kind,
                        &old,
                        Action::Delete,
                        format!("replaced by the update to {config}; deleted once the endpoint is InService"),
                        Step::Retire,
                    );
                }
            }
        }
        Some(e) if e.config_name != config => {
            let how = if local {
                "local target: moto has no UpdateEndpoint, so the endpoint is deleted and created again"
            } else {
                "UpdateEndpoint, then the old config is deleted"
            };
            p.push(
                Kind::Endpoint,
                &endpoint,
                Action::Update,
                format!("runs {}, should run {config}; {how}", e.config_name),
                Step::SwitchEndpoint {
                    recreate: local,
                    retire_config,
                    retire_model,
                },
            );
        }
        Some(e) if e.status != "InService" => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::NoOp,
            format!("is {}; setup waits for InService", e.status),
            Step::WaitEndpoint,
        ),
        Some(_) => p.push(
            Kind::Endpoint,
            &endpoint,
            Action::NoOp,
            format!("InService with {config}"),
            Step::Nothing,
        ),
    }
    let leftover = |kind: Kind| {
        format!(
            "a {kind} of this stack (tagged bodyline:stack={}) that nothing uses, left by an interrupted run; deleted once the endpoint is InService",
            d.stack
        )
    };
    for c in &o.leftover_configs {
        p.push(
            Kind::EndpointConfig,
            &c.name,
            Action::Delete,
            leftover(Kind::EndpointConfig),
            Step::Retire,
        );
    }
    for m in &o.leftover_models {
        p.push(
            Kind::Model,
            &m.name,
            Action::Delete,
            leftover(Kind::Model),
            Step::Retire,
        );
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
