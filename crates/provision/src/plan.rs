//! The plan: what must change to turn what exists into what the stack file says. Pure.

use serde::Serialize;

use crate::desired::Desired;
use crate::observe::Observed;
use crate::owned::planned::Planned;
use crate::resources::module::{AnyResource, ModuleStep, Phase};
use crate::resources::MODULES;
use crate::ProvisionError;

pub use crate::owned::planned::{Action, Kind};

/// A plan's changes by when apply runs them, relative to the endpoint becoming `InService`.
#[derive(Debug)]
pub(crate) struct Phases<'p> {
    /// Before the endpoint is ready, in dependency order (a retired resource's change is here
    /// too, for the report; its deletion is [`Phases::retire`]).
    pub before: Vec<&'p Change>,
    /// The step after which apply waits for the endpoint to be `InService`, if any.
    pub wait: Option<&'p ModuleStep>,
    /// Once it is: scale to zero, registered or removed as one unit.
    pub after: Vec<&'p Change>,
    /// Last: the endpoint configs and models the endpoint no longer uses.
    pub retire: Vec<Retirement<'p>>,
}

/// A resource deleted once the endpoint is ready, and the step whose module deletes it.
#[derive(Debug)]
pub(crate) struct Retirement<'p> {
    /// Its kind.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// The step that retires it.
    pub by: &'p ModuleStep,
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
    /// What apply does, with the module that does it (`None`: nothing).
    #[serde(skip)]
    pub(crate) step: Option<ModuleStep>,
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
            wait: None,
            after: Vec::new(),
            retire: Vec::new(),
        };
        for change in &self.changes {
            let Some(step) = &change.step else {
                continue;
            };
            if step.phase() == Phase::AfterEndpoint {
                phases.after.push(change);
                continue;
            }
            if step.waits() {
                phases.wait = Some(step);
            }
            let retired = step.retires(change.kind, &change.resource);
            phases
                .retire
                .extend(retired.into_iter().map(|(kind, name)| Retirement {
                    kind,
                    name,
                    by: step,
                }));
            phases.before.push(change);
        }
        phases
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

/// The plan for an already derived desired stack: every module's changes, in [`MODULES`]
/// order.
pub(crate) fn plan_desired(
    desired: &Desired,
    observed: &Observed,
) -> Result<Vec<Change>, ProvisionError> {
    plan_modules(MODULES, desired, observed)
}

/// The changes of `modules`, in their order, once every one of them found its inputs and then
/// its ownership in order.
pub(crate) fn plan_modules(
    modules: &[&'static dyn AnyResource],
    desired: &Desired,
    observed: &Observed,
) -> Result<Vec<Change>, ProvisionError> {
    let part = |m: &dyn AnyResource| observed.part_by_type(m.observed_type());
    // Inputs, then ownership, are checked for every module before any change is listed, so
    // a clash anywhere stops the whole plan.
    for &module in modules {
        module.check_inputs_any(desired, part(module))?;
    }
    for &module in modules {
        module.check_ownership_any(desired, part(module))?;
    }
    let mut changes = Vec::new();
    for &module in modules {
        let planned = module.plan_any(desired, part(module));
        changes.extend(planned.into_iter().map(|c: Planned<ModuleStep>| Change {
            kind: c.kind,
            resource: c.resource,
            action: c.action,
            detail: c.detail,
            step: c.step,
        }));
    }
    Ok(changes)
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
