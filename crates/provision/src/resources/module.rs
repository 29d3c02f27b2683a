//! What setup's flows need of one resource module, as one trait: [`Resource`]. A module
//! states its own observed shape and its own steps; [`AnyResource`] erases both so `observe`,
//! `plan` and `apply` run every module of [`super::MODULES`] in order without a line per kind.
//!
//! The typed trait is what a module implements; the erased one is implemented for every
//! [`Resource`] here, once. Each module's observed part is kept by its type
//! ([`Resource::Observed`]), each planned step together with the module that runs it
//! ([`ModuleStep`]).

use std::any::{Any, TypeId};
use std::fmt::{self, Debug};
use std::future::Future;
use std::pin::Pin;

use bodyline_aws::Clients;
use bodyline_stack::{ResourceRecord, State};

use crate::desired::Desired;
use crate::owned::applying::{ApplyOptions, Progress};
use crate::owned::ownership::Created;
use crate::owned::planned::{Kind, Planned};
use crate::owned::registration::Owns;
use crate::ProvisionError;

/// A module's call in flight: setup runs one at a time, so it need not be `Send`.
pub(crate) type InFlight<'a, T> = Pin<Box<dyn Future<Output = Result<T, ProvisionError>> + 'a>>;

/// When apply runs a step, relative to the endpoint becoming `InService`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Before the wait, in plan order.
    BeforeEndpoint,
    /// After it: AWS registers scaling only on a variant that exists and is ready.
    AfterEndpoint,
}

/// What a module's apply gets: the desired stack, the clients, how to wait, where to report.
pub(crate) struct ApplyContext<'a> {
    /// Where the stack goes.
    pub desired: &'a Desired,
    /// The clients, counting calls.
    pub clients: &'a Clients,
    /// How apply waits and retries.
    pub options: &'a ApplyOptions,
    /// The progress display.
    pub progress: &'a mut dyn FnMut(Progress),
}

/// One kind of resource (or a few that belong together), as setup sees it: read, judged,
/// planned, applied. Its delete side is its teardown registration.
pub(crate) trait Resource: Sync + 'static {
    /// What observe reads of it; `Default` is "nothing exists".
    type Observed: Debug + Clone + Default + Send + Sync + 'static;
    /// What apply does, in the module's own terms.
    type Step: Debug + Clone + PartialEq + Send + Sync + 'static;

    /// The module's kinds: what its plan produces and how teardown finds and deletes each
    /// kind it owns (its `OWNS`).
    fn owns(&self) -> Owns;

    /// Reads what exists, by the desired names. Only `Describe`/`Get`/`List`/`Head` calls.
    /// `state` is the stack's state file, if any.
    fn observe<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        state: Option<&'a State>,
    ) -> InFlight<'a, Self::Observed>;

    /// Fails when the stack's configuration names something that does not exist (checked for
    /// every module before any ownership).
    fn check_inputs(
        &self,
        _desired: &Desired,
        _observed: &Self::Observed,
    ) -> Result<(), ProvisionError> {
        Ok(())
    }

    /// Fails unless everything found by the stack's names carries the stack's tag (checked
    /// for every module before any change is planned, so a clash anywhere stops the plan).
    fn check_ownership(
        &self,
        desired: &Desired,
        observed: &Self::Observed,
    ) -> Result<(), ProvisionError>;

    /// The changes, in dependency order. Pure.
    fn plan(&self, desired: &Desired, observed: &Self::Observed) -> Vec<Planned<Self::Step>>;

    /// Runs one planned step on the resource of `kind`.
    fn apply<'a>(
        &'a self,
        step: &'a Self::Step,
        kind: Kind,
        cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created>;

    /// What the state file records of it once applied, as `(key, record)` (none by default:
    /// teardown finds it by its tag).
    fn state_records(&self, _desired: &Desired) -> Vec<(&'static str, ResourceRecord)> {
        Vec::new()
    }

    /// What the state file must record before apply runs `step`: a resource whose create
    /// cannot tag it in the same call, so that an interrupted setup's untagged resource is
    /// adopted, not taken for someone else's.
    fn recorded_before(
        &self,
        _step: &Self::Step,
        _desired: &Desired,
    ) -> Option<(&'static str, ResourceRecord)> {
        None
    }

    /// When apply runs `step`.
    fn phase(&self, _step: &Self::Step) -> Phase {
        Phase::BeforeEndpoint
    }

    /// Whether apply waits for the endpoint ([`Resource::wait_ready`]) after `step`.
    fn waits(&self, _step: &Self::Step) -> bool {
        false
    }

    /// What `step` (of the change `kind`, `resource`) leaves to delete once the endpoint is
    /// ready; each is deleted by [`Resource::retire`].
    fn retires(&self, _step: &Self::Step, _kind: Kind, _resource: &str) -> Vec<(Kind, String)> {
        Vec::new()
    }

    /// Deletes what [`Resource::retires`] named. Only a module that retires has to say how.
    fn retire<'a>(&'a self, _clients: &'a Clients, kind: Kind, name: &'a str) -> InFlight<'a, ()> {
        let name = name.to_string();
        Box::pin(async move {
            Err(ProvisionError::Internal(format!(
                "nothing retires the {kind} {name}"
            )))
        })
    }

    /// Waits until the endpoint is ready; returns its final status. Only a module whose steps
    /// wait has to say how.
    fn wait_ready<'a>(&'a self, _cx: &'a mut ApplyContext<'_>) -> InFlight<'a, String> {
        Box::pin(async {
            Err(ProvisionError::Internal(
                "nothing waits for the endpoint".into(),
            ))
        })
    }

    /// What observe reads of a stack that is up to date with `desired` (the tests' baseline).
    #[cfg(test)]
    fn up_to_date(&self, desired: &Desired) -> Self::Observed;
}

/// One module's observed part, kept by its type.
pub(crate) trait ObservedPart: Any + Debug + Send + Sync {
    /// A boxed copy.
    fn clone_part(&self) -> Box<dyn ObservedPart>;
    /// For reading it back by its type.
    fn as_any(&self) -> &dyn Any;
    /// For changing it by its type (tests).
    #[cfg(test)]
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<T: Any + Debug + Clone + Send + Sync> ObservedPart for T {
    fn clone_part(&self) -> Box<dyn ObservedPart> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    #[cfg(test)]
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

/// A planned step together with the module that runs it.
#[derive(Clone)]
pub(crate) struct ModuleStep(std::sync::Arc<dyn BoundStep>);

/// A module's step bound to the module: what [`ModuleStep`] holds.
trait BoundStep: Send + Sync {
    fn step(&self) -> &dyn Any;
    fn phase(&self) -> Phase;
    fn waits(&self) -> bool;
    fn retires(&self, kind: Kind, resource: &str) -> Vec<(Kind, String)>;
    fn apply<'a>(&'a self, kind: Kind, cx: &'a mut ApplyContext<'_>) -> InFlight<'a, Created>;
    fn retire<'a>(&'a self, clients: &'a Clients, kind: Kind, name: &'a str) -> InFlight<'a, ()>;
    fn wait_ready<'a>(&'a self, cx: &'a mut ApplyContext<'_>) -> InFlight<'a, String>;
    fn recorded_before(&self, desired: &Desired) -> Option<(&'static str, ResourceRecord)>;
    fn same(&self, other: &dyn Any) -> bool;
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

struct Bound<R: Resource> {
    module: &'static R,
    step: R::Step,
}

impl<R: Resource> BoundStep for Bound<R> {
    fn step(&self) -> &dyn Any {
        &self.step
    }
    fn phase(&self) -> Phase {
        self.module.phase(&self.step)
    }
    fn waits(&self) -> bool {
        self.module.waits(&self.step)
    }
    fn retires(&self, kind: Kind, resource: &str) -> Vec<(Kind, String)> {
        self.module.retires(&self.step, kind, resource)
    }
    fn apply<'a>(&'a self, kind: Kind, cx: &'a mut ApplyContext<'_>) -> InFlight<'a, Created> {
        self.module.apply(&self.step, kind, cx)
    }
    fn retire<'a>(&'a self, clients: &'a Clients, kind: Kind, name: &'a str) -> InFlight<'a, ()> {
        self.module.retire(clients, kind, name)
    }
    fn wait_ready<'a>(&'a self, cx: &'a mut ApplyContext<'_>) -> InFlight<'a, String> {
        self.module.wait_ready(cx)
    }
    fn recorded_before(&self, desired: &Desired) -> Option<(&'static str, ResourceRecord)> {
        self.module.recorded_before(&self.step, desired)
    }
    fn same(&self, other: &dyn Any) -> bool {
        other.downcast_ref::<R::Step>() == Some(&self.step)
    }
    fn debug(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.step.fmt(f)
    }
}

impl ModuleStep {
    /// The step, if it is of the module step type `S` (the tests read steps so).
    #[cfg(test)]
    pub(crate) fn downcast<S: 'static>(&self) -> Option<&S> {
        self.0.step().downcast_ref()
    }

    /// When apply runs it.
    pub(crate) fn phase(&self) -> Phase {
        self.0.phase()
    }

    /// Whether apply waits for the endpoint after it ([`ModuleStep::wait_ready`]).
    pub(crate) fn waits(&self) -> bool {
        self.0.waits()
    }

    /// What it leaves to retire once the endpoint is ready ([`ModuleStep::retire`]).
    pub(crate) fn retires(&self, kind: Kind, resource: &str) -> Vec<(Kind, String)> {
        self.0.retires(kind, resource)
    }

    /// Runs it on the resource of `kind`.
    pub(crate) fn apply<'a>(
        &'a self,
        kind: Kind,
        cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created> {
        self.0.apply(kind, cx)
    }

    /// Deletes one resource it retires, through its module.
    pub(crate) fn retire<'a>(
        &'a self,
        clients: &'a Clients,
        kind: Kind,
        name: &'a str,
    ) -> InFlight<'a, ()> {
        self.0.retire(clients, kind, name)
    }

    /// What the state file must record before it runs.
    pub(crate) fn recorded_before(
        &self,
        desired: &Desired,
    ) -> Option<(&'static str, ResourceRecord)> {
        self.0.recorded_before(desired)
    }

    /// Waits for the endpoint, through its module; returns the endpoint's final status.
    pub(crate) fn wait_ready<'a>(&'a self, cx: &'a mut ApplyContext<'_>) -> InFlight<'a, String> {
        self.0.wait_ready(cx)
    }
}

impl Debug for ModuleStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug(f)
    }
}

impl PartialEq for ModuleStep {
    fn eq(&self, other: &ModuleStep) -> bool {
        self.0.same(other.0.step())
    }
}

impl Eq for ModuleStep {}

/// [`Resource`] with its types erased, so the flows can hold every module in one list.
/// Implemented for every [`Resource`]; a module never implements it itself.
pub(crate) trait AnyResource: Sync {
    /// The type its observed part is kept under.
    fn observed_type(&self) -> TypeId;
    /// [`Resource::owns`].
    fn owns(&self) -> Owns;
    /// [`Resource::state_records`].
    fn state_records_any(&self, desired: &Desired) -> Vec<(&'static str, ResourceRecord)>;
    /// [`Resource::observe`], boxed.
    fn observe_any<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        state: Option<&'a State>,
    ) -> InFlight<'a, Box<dyn ObservedPart>>;
    /// [`Resource::check_inputs`] on its part (`None`: nothing observed).
    fn check_inputs_any(
        &self,
        desired: &Desired,
        part: Option<&dyn Any>,
    ) -> Result<(), ProvisionError>;
    /// [`Resource::check_ownership`] on its part.
    fn check_ownership_any(
        &self,
        desired: &Desired,
        part: Option<&dyn Any>,
    ) -> Result<(), ProvisionError>;
    /// [`Resource::plan`] on its part, each step bound to the module.
    fn plan_any(
        &'static self,
        desired: &Desired,
        part: Option<&dyn Any>,
    ) -> Vec<Planned<ModuleStep>>;
    /// [`Resource::up_to_date`], boxed.
    #[cfg(test)]
    fn up_to_date_any(&self, desired: &Desired) -> Box<dyn ObservedPart>;
}

impl<R: Resource> AnyResource for R {
    fn observed_type(&self) -> TypeId {
        TypeId::of::<R::Observed>()
    }

    fn owns(&self) -> Owns {
        Resource::owns(self)
    }

    fn state_records_any(&self, desired: &Desired) -> Vec<(&'static str, ResourceRecord)> {
        self.state_records(desired)
    }

    fn observe_any<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        state: Option<&'a State>,
    ) -> InFlight<'a, Box<dyn ObservedPart>> {
        Box::pin(async move {
            let part = self.observe(desired, clients, state).await?;
            Ok(Box::new(part) as Box<dyn ObservedPart>)
        })
    }

    fn check_inputs_any(
        &self,
        desired: &Desired,
        part: Option<&dyn Any>,
    ) -> Result<(), ProvisionError> {
        with_part::<R, _>(part, |o| self.check_inputs(desired, o))
    }

    fn check_ownership_any(
        &self,
        desired: &Desired,
        part: Option<&dyn Any>,
    ) -> Result<(), ProvisionError> {
        with_part::<R, _>(part, |o| self.check_ownership(desired, o))
    }

    fn plan_any(
        &'static self,
        desired: &Desired,
        part: Option<&dyn Any>,
    ) -> Vec<Planned<ModuleStep>> {
        with_part::<R, _>(part, |o| self.plan(desired, o))
            .into_iter()
            .map(|c| Planned {
                kind: c.kind,
                resource: c.resource,
                action: c.action,
                detail: c.detail,
                step: c
                    .step
                    .map(|step| ModuleStep(std::sync::Arc::new(Bound { module: self, step }))),
            })
            .collect()
    }

    #[cfg(test)]
    fn up_to_date_any(&self, desired: &Desired) -> Box<dyn ObservedPart> {
        Box::new(self.up_to_date(desired))
    }
}

/// Runs `f` on the module's observed part, or on "nothing exists" when observe kept none.
fn with_part<R: Resource, T>(part: Option<&dyn Any>, f: impl FnOnce(&R::Observed) -> T) -> T {
    match part.and_then(|p| p.downcast_ref::<R::Observed>()) {
        Some(o) => f(o),
        None => f(&R::Observed::default()),
    }
}
