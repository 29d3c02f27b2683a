//! Putting scale to zero in place and removing it: every call a put or a removal that treats
//! "not found" as done, so applying the unit again is harmless.

use aws_sdk_applicationautoscaling::operation::delete_scaling_policy::DeleteScalingPolicyError;
use aws_sdk_applicationautoscaling::operation::deregister_scalable_target::DeregisterScalableTargetError;
use aws_sdk_applicationautoscaling::types::{
    AdjustmentType, CustomizedMetricSpecification, MetricAggregationType, MetricDimension,
    MetricStatistic, PolicyType, ScalableDimension, ServiceNamespace, StepAdjustment,
    StepScalingPolicyConfiguration, TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, Statistic};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::desired::{Desired, BACKLOG_METRIC, NO_CAPACITY_METRIC, SCALABLE_DIMENSION};
use crate::ProvisionError;
use bodyline_aws::Clients;

use super::{aas_err, wake_steps, SAGEMAKER_NAMESPACE};

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
