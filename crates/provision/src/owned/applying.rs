//! How apply waits and what it reports while it works: shared by `apply.rs` and the resource
//! modules whose steps wait (`resources/sagemaker`).

use std::time::Duration;

use crate::owned::planned::{Action, Kind};

/// How apply waits and retries.
#[derive(Debug, Clone)]
pub struct ApplyOptions {
    /// Between two `DescribeEndpoint` calls while waiting.
    pub poll_interval: Duration,
    /// Longest wait for the endpoint to reach `InService` (or to be gone): `--wait-timeout`.
    /// Past it, apply stops with [`crate::ProvisionError::StillConverging`] and leaves the old
    /// config and model in place; the next run waits again and retires them.
    pub endpoint_timeout: Duration,
    /// Attempts of `CreateModel` while IAM has not yet propagated a new role
    /// ("Could not assume role").
    pub assume_role_attempts: u32,
    /// First backoff between those attempts; it doubles, up to 30 s.
    pub assume_role_backoff: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            poll_interval: Duration::from_secs(15),
            endpoint_timeout: Duration::from_secs(60 * 60),
            assume_role_attempts: 8,
            assume_role_backoff: Duration::from_secs(2),
        }
    }
}

/// What apply is doing, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// A change starts.
    Applying {
        /// The resource kind.
        kind: Kind,
        /// Its name.
        resource: String,
        /// What happens to it.
        action: Action,
    },
    /// Waiting for the endpoint.
    Waiting {
        /// The endpoint.
        resource: String,
        /// Its current status.
        status: String,
        /// How long we have waited.
        elapsed: Duration,
    },
    /// A call is retried after a transient failure.
    Retrying {
        /// The resource.
        resource: String,
        /// The attempt that failed (1-based).
        attempt: u32,
        /// Why.
        reason: String,
    },
    /// An old resource is deleted after its replacement took over.
    Retiring {
        /// The resource kind.
        kind: Kind,
        /// Its name.
        resource: String,
    },
}
