//! Deleting SageMaker's resources: the endpoint (waiting, bounded, until it is gone), its
//! configs and models.

use std::time::{Duration, Instant};

use bodyline_aws::Clients;

use crate::owned::deleting::{
    deleted_or_already_gone, Deleted, Deleting, DeletionOutcome, Pending, TeardownOptions,
    TeardownProgress,
};
use crate::owned::error::TeardownError;
use crate::owned::failure::none_if_missing;
use crate::owned::resource::OwnedResource;

/// Deletes the endpoint and waits until it is gone.
pub(crate) fn delete_endpoint<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move { endpoint(cx.clients, cx.options, &r.name, cx.progress).await })
}

/// Deletes an endpoint config.
pub(crate) fn delete_endpoint_config<'a>(
    cx: &'a mut Deleting<'_>,
    r: &'a OwnedResource,
) -> Pending<'a> {
    Box::pin(async move {
        let name = r.name.as_str();
        let deleted = none_if_missing(
            "DeleteEndpointConfig",
            name,
            cx.clients
                .sagemaker
                .delete_endpoint_config()
                .endpoint_config_name(name)
                .send()
                .await,
        )?
        .is_some();
        Ok(deleted_or_already_gone(deleted, String::new()))
    })
}

/// Deletes a model.
pub(crate) fn delete_model<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move {
        let name = r.name.as_str();
        let deleted = none_if_missing(
            "DeleteModel",
            name,
            cx.clients
                .sagemaker
                .delete_model()
                .model_name(name)
                .send()
                .await,
        )?
        .is_some();
        Ok(deleted_or_already_gone(deleted, String::new()))
    })
}

/// Deletes the endpoint and waits until it is gone. An endpoint already `Deleting` (an
/// earlier run timed out waiting for it) is only waited for: it is not deleted twice.
async fn endpoint(
    clients: &Clients,
    options: &TeardownOptions,
    name: &str,
    progress: &mut dyn FnMut(TeardownProgress),
) -> Deleted {
    let Some(status) = endpoint_status(clients, name).await? else {
        return Ok((DeletionOutcome::AlreadyGone, String::new()));
    };
    let already_deleting = status == "Deleting";
    let deleted = already_deleting
        || none_if_missing(
            "DeleteEndpoint",
            name,
            clients
                .sagemaker
                .delete_endpoint()
                .endpoint_name(name)
                .send()
                .await,
        )?
        .is_some();
    let waited = wait_until_gone(clients, name, options, progress).await?;
    let detail = if already_deleting {
        format!(
            "already Deleting (an earlier run deleted it), gone after {} ms",
            waited.as_millis()
        )
    } else {
        format!("gone after {} ms", waited.as_millis())
    };
    Ok(deleted_or_already_gone(deleted, detail))
}

/// The endpoint's `EndpointStatus`, `None` once it is gone.
async fn endpoint_status(
    clients: &Clients,
    endpoint: &str,
) -> Result<Option<String>, TeardownError> {
    let described = none_if_missing(
        "DescribeEndpoint",
        endpoint,
        clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(endpoint)
            .send()
            .await,
    )?;
    Ok(described.map(|d| {
        d.endpoint_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    }))
}

async fn wait_until_gone(
    clients: &Clients,
    endpoint: &str,
    options: &TeardownOptions,
    progress: &mut dyn FnMut(TeardownProgress),
) -> Result<Duration, TeardownError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(100).min(options.poll_interval);
    loop {
        let Some(status) = endpoint_status(clients, endpoint).await? else {
            return Ok(start.elapsed());
        };
        let elapsed = start.elapsed();
        if elapsed >= options.endpoint_timeout {
            return Err(TeardownError::EndpointStillPresent {
                endpoint: endpoint.to_string(),
                status,
                waited_secs: elapsed.as_secs(),
            });
        }
        progress(TeardownProgress::Waiting {
            endpoint: endpoint.to_string(),
            status,
            elapsed,
        });
        tokio::time::sleep(pause.min(options.endpoint_timeout - elapsed)).await;
        pause = (pause * 2).min(options.poll_interval);
    }
}
