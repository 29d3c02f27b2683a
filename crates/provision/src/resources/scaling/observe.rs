//! What observe reads of scale to zero: the scalable target, both policies and the wake alarm,
//! by the stack's names.

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use aws_sdk_cloudwatch::operation::list_tags_for_resource::ListTagsForResourceError;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::desired::{Desired, ScalingDesired, BACKLOG_METRIC, NO_CAPACITY_METRIC};
use crate::ProvisionError;
use bodyline_aws::Clients;

use super::aas_err;

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
