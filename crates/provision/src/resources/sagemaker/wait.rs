//! The bounded waits on the endpoint: until it is `InService` on the desired config, or gone.

use std::time::Instant;

use bodyline_aws::{AwsFailure, Clients};

use crate::desired::Desired;
use crate::owned::applying::{ApplyOptions, Progress};
use crate::ProvisionError;

/// What a wait on the endpoint waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Until<'a> {
    /// `InService`, running this endpoint config.
    InService(&'a str),
    Gone,
}

/// Polls until the endpoint is `InService` with the desired config; `Failed` is an error
/// carrying `FailureReason`, and so is an update rolled back to another config.
pub(crate) async fn wait_in_service(
    c: &Clients,
    d: &Desired,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<String, ProvisionError> {
    let until = Until::InService(&d.endpoint_config.name);
    wait_endpoint(c, &d.endpoint.name, options, progress, until).await
}

pub(super) async fn wait_gone(
    c: &Clients,
    name: &str,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<(), ProvisionError> {
    wait_endpoint(c, name, options, progress, Until::Gone)
        .await
        .map(|_| ())
}

/// Polls `DescribeEndpoint` every `poll_interval` until `until` holds, for at most
/// `endpoint_timeout`; the last sleep is cut short so the timeout is kept. Running out of time
/// is [`ProvisionError::StillConverging`]: the endpoint keeps converging without us, and the
/// next setup observes it and waits again.
async fn wait_endpoint(
    c: &Clients,
    name: &str,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
    until: Until<'_>,
) -> Result<String, ProvisionError> {
    let start = Instant::now();
    loop {
        let status = match c
            .sagemaker
            .describe_endpoint()
            .endpoint_name(name)
            .send()
            .await
        {
            Ok(out) => {
                let status = out
                    .endpoint_status()
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default();
                match (until, status.as_str()) {
                    // A failed UpdateEndpoint rolls back: InService, on the old config, which
                    // must then not be retired.
                    (Until::InService(wanted), "InService") => match out.endpoint_config_name() {
                        Some(running) if running != wanted => {
                            return Err(ProvisionError::UpdateRolledBack {
                                endpoint: name.to_string(),
                                running: running.to_string(),
                                wanted: wanted.to_string(),
                                reason: out
                                    .failure_reason()
                                    .unwrap_or("no FailureReason given")
                                    .to_string(),
                            })
                        }
                        _ => return Ok(status),
                    },
                    (Until::InService(_), "Failed") => {
                        return Err(ProvisionError::EndpointFailed {
                            endpoint: name.to_string(),
                            reason: out
                                .failure_reason()
                                .unwrap_or("no FailureReason given")
                                .to_string(),
                        })
                    }
                    _ => status,
                }
            }
            Err(e) if until == Until::Gone && AwsFailure::of(&e).is_sagemaker_not_found() => {
                return Ok("Gone".to_string())
            }
            Err(e) => return Err(ProvisionError::aws("DescribeEndpoint", name, e)),
        };
        let elapsed = start.elapsed();
        if elapsed >= options.endpoint_timeout {
            return Err(ProvisionError::StillConverging {
                endpoint: name.to_string(),
                status,
                waited_secs: elapsed.as_secs(),
            });
        }
        progress(Progress::Waiting {
            resource: name.to_string(),
            status,
            elapsed,
        });
        tokio::time::sleep(
            options
                .poll_interval
                .min(options.endpoint_timeout - elapsed),
        )
        .await;
    }
}
