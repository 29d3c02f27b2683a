//! Deleting scale to zero: the wake alarm, the scaling policies and the scalable target.

use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};

use crate::owned::deleting::{deleted_or_already_gone, Deleting, DeletionOutcome, Pending};
use crate::owned::failure::{aws_error, none_if_missing};
use crate::owned::resource::{OwnedResource, ResourceKind};

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
