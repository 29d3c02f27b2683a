//! Scale to zero as one resource, observed, planned, applied and deleted here: the Application
//! Auto Scaling target on the endpoint's variant, target tracking on the backlog per instance,
//! the step policy that wakes the endpoint from zero, and the CloudWatch alarm on
//! `HasBacklogWithoutCapacity` that triggers it.
//!
//! Every call here is a put (register, put policy, put alarm), so applying the unit again is
//! harmless; it runs after the endpoint is `InService`, because AWS registers targets only on
//! an existing variant. Teardown removes it first: the alarm, the policies, then the target
//! (the delete functions at the end, registered in `OWNS` and reached through
//! `teardown/registry.rs`). Discovery finds the alarm and the targets and policies through the
//! listings of [`listing`].

mod listing;

use aws_sdk_applicationautoscaling::operation::delete_scaling_policy::DeleteScalingPolicyError;
use aws_sdk_applicationautoscaling::operation::deregister_scalable_target::DeregisterScalableTargetError;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, CustomizedMetricSpecification, MetricAggregationType, MetricDimension,
    MetricStatistic, PolicyType, ScalableDimension, ServiceNamespace, StepAdjustment,
    StepScalingPolicyConfiguration, TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_cloudwatch::operation::list_tags_for_resource::ListTagsForResourceError;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::desired::{
    Deriving, Desired, ScalingDesired, BACKLOG_METRIC, NO_CAPACITY_METRIC, SCALABLE_DIMENSION,
};
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

/// Scale to zero as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScalingObserved {
    /// `(MinCapacity, MaxCapacity)` of the registered target.
    pub target: Option<(i32, i32)>,
    /// The target-tracking policy.
    pub backlog_policy: Option<TrackingObserved>,
    /// The step policy that wakes the endpoint.
    pub wake_policy: Option<WakeObserved>,
    /// The alarm: its ARN, metric, actions and tags.
    pub alarm: Option<AlarmObserved>,
}

/// The target-tracking policy as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrackingObserved {
    /// `TargetValue`.
    pub target_value: f64,
    /// `ScaleInCooldown`.
    pub scale_in_cooldown: Option<i32>,
    /// `ScaleOutCooldown`.
    pub scale_out_cooldown: Option<i32>,
    /// The customized metric's name.
    pub metric: Option<String>,
}

/// The wake-from-zero step policy as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WakeObserved {
    /// Its ARN (the alarm's action).
    pub arn: String,
    /// Its adjustments as `(lower bound, change in capacity)`.
    pub steps: Vec<WakeStep>,
}

/// One step adjustment: `(MetricIntervalLowerBound, ScalingAdjustment)`.
pub type WakeStep = (Option<f64>, i32);

/// The wake alarm as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlarmObserved {
    /// Its ARN.
    pub arn: String,
    /// The metric it watches.
    pub metric: String,
    /// The actions it triggers.
    pub actions: Vec<String>,
    /// Its tags.
    pub tags: Vec<(String, String)>,
}

impl ScalingObserved {
    /// Whether any part exists.
    pub fn exists(&self) -> bool {
        self.target.is_some()
            || self.backlog_policy.is_some()
            || self.wake_policy.is_some()
            || self.alarm.is_some()
    }

    /// What differs from `want`, in words; empty when it is as configured.
    pub(crate) fn differences(&self, want: &ScalingDesired) -> Vec<String> {
        let mut out = Vec::new();
        match self.target {
            Some((min, max)) if (min, max) == (want.min, want.max) => {}
            Some((min, max)) => out.push(format!(
                "capacity {min}..{max} -> {}..{}",
                want.min, want.max
            )),
            None => out.push("register the scalable target".into()),
        }
        match &self.backlog_policy {
            Some(t)
                if t.target_value == f64::from(want.target_backlog)
                    && t.scale_in_cooldown == Some(want.scale_in_cooldown)
                    && t.scale_out_cooldown == Some(want.scale_out_cooldown)
                    && t.metric.as_deref() == Some(BACKLOG_METRIC) => {}
            Some(_) => out.push("target tracking differs".into()),
            None => out.push(format!("target tracking on {BACKLOG_METRIC}")),
        }
        match &self.wake_policy {
            Some(w) if w.steps == wake_steps() => {}
            Some(_) => out.push("wake-from-zero step differs".into()),
            None => out.push("wake-from-zero step policy".into()),
        }
        match (&self.alarm, &self.wake_policy) {
            (Some(a), Some(w))
                if a.metric == NO_CAPACITY_METRIC && a.actions == [w.arn.clone()] => {}
            (Some(_), _) => out.push(format!("alarm on {NO_CAPACITY_METRIC} differs")),
            (None, _) => out.push(format!("alarm on {NO_CAPACITY_METRIC}")),
        }
        out
    }
}

/// The wake policy's one step: from zero, add one instance as soon as the alarm fires.
pub(crate) fn wake_steps() -> Vec<WakeStep> {
    vec![(Some(0.0), 1)]
}

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

/// Reads the unit by its names. Only `Describe`/`List` calls.
pub(crate) async fn observe_scaling(
    desired: &Desired,
    clients: &Clients,
) -> Result<ScalingObserved, ProvisionError> {
    let names = &desired.names;
    let aas = &clients.scaling;
    let mut observed = ScalingObserved::default();
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_ids(&names.scaling_resource)
        .send()
        .await
        .map_err(aas_err("DescribeScalableTargets", &names.scaling_resource))?;
    observed.target = targets
        .scalable_targets()
        .iter()
        .find(|t| t.resource_id() == names.scaling_resource)
        .map(|t| (t.min_capacity(), t.max_capacity()));
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&names.scaling_resource)
        .send()
        .await
        .map_err(aas_err("DescribeScalingPolicies", &names.scaling_resource))?;
    for p in policies.scaling_policies() {
        if p.policy_name() == names.backlog_policy {
            let c = p.target_tracking_scaling_policy_configuration();
            observed.backlog_policy = Some(TrackingObserved {
                target_value: c.map(|c| c.target_value()).unwrap_or_default(),
                scale_in_cooldown: c.and_then(|c| c.scale_in_cooldown()),
                scale_out_cooldown: c.and_then(|c| c.scale_out_cooldown()),
                metric: c
                    .and_then(|c| c.customized_metric_specification())
                    .and_then(|m| m.metric_name())
                    .map(str::to_string),
            });
        } else if p.policy_name() == names.wake_policy {
            let steps = p
                .step_scaling_policy_configuration()
                .map(|c| {
                    c.step_adjustments()
                        .iter()
                        .map(|s| (s.metric_interval_lower_bound(), s.scaling_adjustment()))
                        .collect()
                })
                .unwrap_or_default();
            observed.wake_policy = Some(WakeObserved {
                arn: p.policy_arn().to_string(),
                steps,
            });
        }
    }
    let alarms = clients
        .cloudwatch
        .describe_alarms()
        .alarm_names(&names.wake_alarm)
        .send()
        .await
        .map_err(aas_err("DescribeAlarms", &names.wake_alarm))?;
    if let Some(a) = alarms
        .metric_alarms()
        .iter()
        .find(|a| a.alarm_name() == Some(names.wake_alarm.as_str()))
    {
        let arn = a.alarm_arn().unwrap_or_default().to_string();
        let tags = alarm_tags(&clients.cloudwatch, &arn)
            .await
            .map_err(aas_err("ListTagsForResource", &arn))?;
        observed.alarm = Some(AlarmObserved {
            arn,
            metric: a.metric_name().unwrap_or_default().to_string(),
            actions: a.alarm_actions().to_vec(),
            tags,
        });
    }
    Ok(observed)
}

/// The tags of a CloudWatch alarm, as `(key, value)` pairs: how setup and teardown both judge
/// whether the wake alarm is the stack's.
pub async fn alarm_tags(
    cloudwatch: &aws_sdk_cloudwatch::Client,
    arn: &str,
) -> Result<Vec<(String, String)>, SdkError<ListTagsForResourceError, HttpResponse>> {
    let out = cloudwatch
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await?;
    Ok(out
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// Registers the target, puts both policies and the alarm (in that order: the alarm needs the
/// step policy's ARN).
pub(crate) async fn put_scaling(d: &Desired, clients: &Clients) -> Result<(), ProvisionError> {
    let Some(s) = &d.scaling else {
        return Ok(());
    };
    let n = &d.names;
    let aas = &clients.scaling;
    let dimension = ScalableDimension::from(SCALABLE_DIMENSION);
    let mut register = aas
        .register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&n.scaling_resource)
        .scalable_dimension(dimension.clone())
        .min_capacity(s.min)
        .max_capacity(s.max);
    for (k, v) in &d.tags {
        register = register.tags(k, v);
    }
    register
        .send()
        .await
        .map_err(aas_err("RegisterScalableTarget", &n.scaling_resource))?;

    let build = |e: aws_smithy_types::error::operation::BuildError| ProvisionError::Aws {
        operation: "PutScalingPolicy",
        resource: n.scaling_resource.clone(),
        code: None,
        message: format!("could not build the request: {e}"),
    };
    let metric = CustomizedMetricSpecification::builder()
        .metric_name(BACKLOG_METRIC)
        .namespace(SAGEMAKER_NAMESPACE)
        .dimensions(
            MetricDimension::builder()
                .name("EndpointName")
                .value(&n.endpoint)
                .build()
                .map_err(build)?,
        )
        .statistic(MetricStatistic::Average)
        .build();
    aas.put_scaling_policy()
        .policy_name(&n.backlog_policy)
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&n.scaling_resource)
        .scalable_dimension(dimension.clone())
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(f64::from(s.target_backlog))
                .customized_metric_specification(metric)
                .scale_in_cooldown(s.scale_in_cooldown)
                .scale_out_cooldown(s.scale_out_cooldown)
                .build()
                .map_err(build)?,
        )
        .send()
        .await
        .map_err(aas_err("PutScalingPolicy", &n.backlog_policy))?;

    let mut step = StepScalingPolicyConfiguration::builder()
        .adjustment_type(AdjustmentType::ChangeInCapacity)
        .metric_aggregation_type(MetricAggregationType::Maximum)
        .cooldown(s.scale_out_cooldown);
    for (lower, change) in wake_steps() {
        let mut adj = StepAdjustment::builder().scaling_adjustment(change);
        if let Some(lower) = lower {
            adj = adj.metric_interval_lower_bound(lower);
        }
        step = step.step_adjustments(adj.build().map_err(build)?);
    }
    let wake = aas
        .put_scaling_policy()
        .policy_name(&n.wake_policy)
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&n.scaling_resource)
        .scalable_dimension(dimension)
        .policy_type(PolicyType::StepScaling)
        .step_scaling_policy_configuration(step.build())
        .send()
        .await
        .map_err(aas_err("PutScalingPolicy", &n.wake_policy))?;

    let alarm = clients
        .cloudwatch
        .put_metric_alarm()
        .alarm_name(&n.wake_alarm)
        .namespace(SAGEMAKER_NAMESPACE)
        .metric_name(NO_CAPACITY_METRIC)
        .dimensions(
            Dimension::builder()
                .name("EndpointName")
                .value(&n.endpoint)
                .build(),
        )
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(2)
        .datapoints_to_alarm(2)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .treat_missing_data("missing")
        .alarm_actions(wake.policy_arn());
    alarm
        .set_tags((!d.tags.is_empty()).then(|| bodyline_aws::tags::to_cloudwatch(&d.tags)))
        .send()
        .await
        .map_err(aas_err("PutMetricAlarm", &n.wake_alarm))?;
    Ok(())
}

/// Removes the unit (scale to zero taken out of the stack file): alarm, policies, target.
pub(crate) async fn remove_scaling(d: &Desired, clients: &Clients) -> Result<(), ProvisionError> {
    let names = &d.names;
    clients
        .cloudwatch
        .delete_alarms()
        .alarm_names(&names.wake_alarm)
        .send()
        .await
        .map_err(aas_err("DeleteAlarms", &names.wake_alarm))?;
    let aas = &clients.scaling;
    for policy in [&names.wake_policy, &names.backlog_policy] {
        let deleted = aas
            .delete_scaling_policy()
            .policy_name(policy)
            .service_namespace(ServiceNamespace::Sagemaker)
            .resource_id(&names.scaling_resource)
            .scalable_dimension(ScalableDimension::from(SCALABLE_DIMENSION))
            .send()
            .await;
        let not_found = |e: &DeleteScalingPolicyError| e.is_object_not_found_exception();
        already_gone_is_fine(deleted, not_found, "DeleteScalingPolicy", policy)?;
    }
    let deregistered = aas
        .deregister_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&names.scaling_resource)
        .scalable_dimension(ScalableDimension::from(SCALABLE_DIMENSION))
        .send()
        .await;
    let not_found = |e: &DeregisterScalableTargetError| e.is_object_not_found_exception();
    already_gone_is_fine(
        deregistered,
        not_found,
        "DeregisterScalableTarget",
        &names.scaling_resource,
    )?;
    Ok(())
}

/// A removal whose answer is "not found" did what it was asked: only other errors remain.
fn already_gone_is_fine<T, E>(
    result: Result<T, SdkError<E, HttpResponse>>,
    not_found: impl Fn(&E) -> bool,
    operation: &'static str,
    resource: &str,
) -> Result<(), ProvisionError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match result {
        Err(e) if !e.as_service_error().is_some_and(not_found) => {
            Err(ProvisionError::aws(operation, resource, e))
        }
        _ => Ok(()),
    }
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
