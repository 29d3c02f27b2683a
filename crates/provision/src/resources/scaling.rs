//! Scale to zero as one resource, planned, applied and deleted here (read in `observe.rs`, put
//! in place and removed in `put.rs`): the Application Auto Scaling target on the endpoint's
//! variant, target tracking on the backlog per instance, the step policy that wakes the
//! endpoint from zero, and the CloudWatch alarm on `HasBacklogWithoutCapacity` that triggers
//! it.
//!
//! Every call here is a put (register, put policy, put alarm), so applying the unit again is
//! harmless; it runs after the endpoint is `InService`, because AWS registers targets only on
//! an existing variant. Teardown removes it first: the alarm, the policies, then the target
//! (the delete functions at the end, registered in `OWNS` and reached through
//! `teardown/registry.rs`). Discovery finds the alarm and the targets and policies through the
//! listings of [`listing`].

mod listing;
mod observe;
mod put;

pub use observe::{alarm_tags, ScalingObserved};
pub(crate) use observe::{observe_scaling, wake_steps};
#[cfg(test)]
pub(crate) use observe::{AlarmObserved, TrackingObserved, WakeObserved};
use put::{put_scaling, remove_scaling};

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::desired::{Deriving, Desired, ScalingDesired, NO_CAPACITY_METRIC};
use crate::owned::ownership::{check_owned, Created};
use crate::owned::planned::{Action, Kind, Planned};
use crate::owned::registration::{registered, Owns};
use crate::resources::module::{ApplyContext, InFlight, Phase, Resource};
use crate::ProvisionError;
use bodyline_aws::Clients;
use bodyline_stack::State;

use crate::owned::deleting::{deleted_or_already_gone, Deleting, DeletionOutcome, Pending};
use crate::owned::failure::{aws_error, none_if_missing};
use crate::owned::resource::{OwnedResource, ResourceKind};

/// SageMaker's metric namespace.
const SAGEMAKER_NAMESPACE: &str = "AWS/SageMaker";

fn aas_err<E>(
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(SdkError<E, HttpResponse>) -> ProvisionError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let resource = resource.to_string();
    move |e| ProvisionError::aws(operation, resource, e)
}

/// Derives scale to zero, when the stack file has `[scaling]`.
pub(crate) fn desired(x: &Deriving<'_>) -> Option<ScalingDesired> {
    let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    x.stack.scaling.as_ref().map(|sc| ScalingDesired {
        min: as_i32(sc.min_instances),
        max: as_i32(sc.max_instances),
        target_backlog: sc.target_backlog_per_instance,
        scale_in_cooldown: as_i32(sc.scale_in_cooldown_seconds),
        scale_out_cooldown: as_i32(sc.scale_out_cooldown_seconds),
    })
}

/// What apply does to scale to zero, after the endpoint is `InService`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    /// Register the target, put the policies and the alarm.
    Put,
    /// Remove the alarm, the policies and the target.
    Remove,
}

/// Plans scale to zero as one change: created, updated (with what differs), removed when the
/// stack file no longer asks for it, or nothing.
pub(crate) fn plan(d: &Desired, o: &ScalingObserved) -> Option<Planned<Step>> {
    let resource = d.names.scaling_resource.clone();
    let planned = |action, detail: String, step| Planned {
        kind: Kind::ScaleToZero,
        resource: resource.clone(),
        action,
        detail,
        step,
    };
    match &d.scaling {
        Some(want) => {
            let summary = format!(
                "{}..{} instances, target {} queued per instance (cooldowns in {} s, out {} s), wake from zero on {}",
                want.min,
                want.max,
                want.target_backlog,
                want.scale_in_cooldown,
                want.scale_out_cooldown,
                NO_CAPACITY_METRIC
            );
            let differences = o.differences(want);
            Some(if !o.exists() {
                planned(Action::Create, summary, Some(Step::Put))
            } else if !differences.is_empty() {
                planned(Action::Update, differences.join("; "), Some(Step::Put))
            } else {
                planned(Action::NoOp, summary, None)
            })
        }
        None if o.exists() => Some(planned(
            Action::Update,
            "remove: the stack file has no [scaling]".into(),
            Some(Step::Remove),
        )),
        None => None,
    }
}

/// Applies a planned step.
pub(crate) async fn apply(
    step: Step,
    d: &Desired,
    clients: &Clients,
) -> Result<(), ProvisionError> {
    match step {
        Step::Put => put_scaling(d, clients).await,
        Step::Remove => remove_scaling(d, clients).await,
    }
}

/// Deletes a scaling policy or deregisters the scalable target, by its coordinates.
pub(crate) fn delete_scaling<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move {
        let (clients, name) = (cx.clients, r.name.as_str());
        let Some(scaling) = &r.scaling else {
            return Ok((
                DeletionOutcome::AlreadyGone,
                "no scaling coordinates".into(),
            ));
        };
        let dimension = ScalableDimension::from(scaling.dimension.as_str());
        let deleted = if r.kind == ResourceKind::ScalingPolicy {
            none_if_missing(
                "DeleteScalingPolicy",
                name,
                clients
                    .scaling
                    .delete_scaling_policy()
                    .policy_name(name)
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .resource_id(&scaling.resource_id)
                    .scalable_dimension(dimension)
                    .send()
                    .await,
            )?
            .is_some()
        } else {
            none_if_missing(
                "DeregisterScalableTarget",
                name,
                clients
                    .scaling
                    .deregister_scalable_target()
                    .service_namespace(ServiceNamespace::Sagemaker)
                    .resource_id(&scaling.resource_id)
                    .scalable_dimension(dimension)
                    .send()
                    .await,
            )?
            .is_some()
        };
        Ok(deleted_or_already_gone(deleted, String::new()))
    })
}

/// Deletes the wake alarm.
pub(crate) fn delete_alarm<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move {
        let name = r.name.as_str();
        cx.clients
            .cloudwatch
            .delete_alarms()
            .alarm_names(name)
            .send()
            .await
            .map_err(|e| aws_error("DeleteAlarms", name, e))?;
        // DeleteAlarms succeeds for names that do not exist: the leak check confirms.
        Ok((DeletionOutcome::Deleted, String::new()))
    })
}

/// Scale to zero as one unit, as setup's flows run it: after the endpoint is ready.
pub(crate) struct ScaleToZero;

impl Resource for ScaleToZero {
    type Observed = ScalingObserved;
    type Step = Step;

    fn owns(&self) -> Owns {
        OWNS
    }

    fn observe<'a>(
        &'a self,
        desired: &'a Desired,
        clients: &'a Clients,
        _state: Option<&'a State>,
    ) -> InFlight<'a, ScalingObserved> {
        Box::pin(observe_scaling(desired, clients))
    }

    fn check_ownership(&self, d: &Desired, o: &ScalingObserved) -> Result<(), ProvisionError> {
        // Targets and policies carry no tags on moto; the alarm's tags speak for the unit.
        match &o.alarm {
            Some(a) => check_owned(d, Kind::ScaleToZero, &d.names.wake_alarm, &a.tags),
            None => Ok(()),
        }
    }

    fn plan(&self, d: &Desired, o: &ScalingObserved) -> Vec<Planned<Step>> {
        plan(d, o).into_iter().collect()
    }

    fn apply<'a>(
        &'a self,
        step: &'a Step,
        _kind: Kind,
        cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created> {
        Box::pin(async move {
            apply(*step, cx.desired, cx.clients).await?;
            Ok(Created::New)
        })
    }

    fn phase(&self, _step: &Step) -> Phase {
        // AWS registers scaling only on a variant that exists: after the endpoint is ready.
        Phase::AfterEndpoint
    }

    #[cfg(test)]
    fn up_to_date(&self, d: &Desired) -> ScalingObserved {
        let Some(s) = &d.scaling else {
            return ScalingObserved::default();
        };
        let wake_arn = format!("arn:aws:autoscaling:policy/{}", d.names.wake_policy);
        ScalingObserved {
            target: Some((s.min, s.max)),
            backlog_policy: Some(TrackingObserved {
                target_value: f64::from(s.target_backlog),
                scale_in_cooldown: Some(s.scale_in_cooldown),
                scale_out_cooldown: Some(s.scale_out_cooldown),
                metric: Some(crate::desired::BACKLOG_METRIC.into()),
            }),
            wake_policy: Some(WakeObserved {
                arn: wake_arn.clone(),
                steps: wake_steps(),
            }),
            alarm: Some(AlarmObserved {
                arn: format!("arn:aws:cloudwatch:alarm:{}", d.names.wake_alarm),
                metric: NO_CAPACITY_METRIC.into(),
                actions: vec![wake_arn],
                tags: d.tags.clone(),
            }),
        }
    }
}

// What this module owns: the plan's kinds it produces and the kinds teardown deletes, each
// declared here with its registration (`owned/registration.rs`), so a new kind is one place.

// Associated consts in CamelCase: they were enum variants, and every caller (other crates'
// tests too) keeps writing `Kind::Bucket`, `ResourceKind::Role`.
#[allow(non_upper_case_globals)]
impl Kind {
    /// Scale to zero: scalable target, both policies and the wake alarm, as one unit.
    pub const ScaleToZero: Kind = Kind::new("scale_to_zero", "scale to zero");
}

#[allow(non_upper_case_globals)]
impl ResourceKind {
    /// The CloudWatch alarm that wakes a scaled-to-zero endpoint (it triggers a scaling policy).
    pub const Alarm: ResourceKind = ResourceKind::new(10, "alarm", "alarm");
    /// An Application Auto Scaling policy on the endpoint's variant.
    pub const ScalingPolicy: ResourceKind =
        ResourceKind::new(20, "scaling_policy", "scaling policy");
    /// The Application Auto Scaling target `endpoint/<ep>/variant/<v>`.
    pub const ScalableTarget: ResourceKind =
        ResourceKind::new(30, "scalable_target", "scalable target");
}

/// The plan's kinds this module has changes for, and the kinds it deletes in deletion order
/// (the plan's kinds that make each, where discovery lists it, and its delete).
pub(crate) const OWNS: Owns = Owns {
    plans: &[Kind::ScaleToZero],
    teardown: &[
        registered(
            ResourceKind::Alarm,
            &[Kind::ScaleToZero],
            &listing::ALARMS,
            delete_alarm,
        ),
        registered(
            ResourceKind::ScalingPolicy,
            &[Kind::ScaleToZero],
            &listing::SCALING,
            delete_scaling,
        ),
        registered(
            ResourceKind::ScalableTarget,
            &[Kind::ScaleToZero],
            &listing::SCALING,
            delete_scaling,
        ),
    ],
};
