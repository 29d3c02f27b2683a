//! What deleting one resource takes and gives: the options of the run, the context a kind's
//! delete function gets ([`Deleting`]), and its outcome. A leaf: the kinds' modules and the
//! teardown that runs them both build on it.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::Duration;

use bodyline_aws::Clients;
use serde::Serialize;

use super::error::TeardownError;
use super::resource::OwnedResource;

/// How to run a teardown.
#[derive(Debug, Clone)]
pub struct TeardownOptions {
    /// The project root (the state file lives under it and is removed after a clean run).
    pub root: PathBuf,
    /// Download every output and failure object here (`<dir>/<bucket>/<key>`) before the
    /// bucket is emptied.
    pub backup_dir: Option<PathBuf>,
    /// How long to wait for a deleted endpoint to disappear (`--wait-timeout`). Past it,
    /// teardown stops with [`TeardownError::EndpointStillPresent`] before the bucket, and the
    /// next run continues the wait (without deleting the endpoint twice).
    pub endpoint_timeout: Duration,
    /// The longest pause between two `DescribeEndpoint` calls while waiting: pauses start at
    /// 100 ms (or this, if shorter) and double up to it.
    pub poll_interval: Duration,
}

/// What teardown is doing, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TeardownProgress {
    /// Waiting for a deleted endpoint to be gone.
    Waiting {
        /// The endpoint.
        endpoint: String,
        /// Its current status, e.g. `Deleting`.
        status: String,
        /// How long this run has waited.
        elapsed: Duration,
    },
}

impl TeardownOptions {
    /// Defaults for a project root: no backup, 30 minutes for the endpoint.
    pub fn new(root: impl Into<PathBuf>) -> TeardownOptions {
        TeardownOptions {
            root: root.into(),
            backup_dir: None,
            endpoint_timeout: Duration::from_secs(30 * 60),
            poll_interval: Duration::from_secs(10),
        }
    }
}

/// What happened to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionOutcome {
    /// Deleted by this run.
    Deleted,
    /// Already gone when its turn came (NotFound is success).
    AlreadyGone,
}

/// What one delete function returns: the outcome and a detail line, or the error that stops
/// the teardown.
pub(crate) type Deleted = Result<(DeletionOutcome, String), TeardownError>;

/// The outcome of a delete call that returned `deleted` (`false`: the resource was not found).
pub(crate) fn deleted_or_already_gone(deleted: bool, detail: String) -> (DeletionOutcome, String) {
    if deleted {
        (DeletionOutcome::Deleted, detail)
    } else {
        (DeletionOutcome::AlreadyGone, detail)
    }
}

/// What a kind's delete function may use.
pub(crate) struct Deleting<'a> {
    pub clients: &'a Clients,
    pub options: &'a TeardownOptions,
    /// The output and failure prefixes, for `--backup-dir`.
    pub backup_prefixes: &'a [String],
    /// The files `--backup-dir` wrote so far.
    pub backed_up: &'a mut Vec<PathBuf>,
    pub progress: &'a mut dyn FnMut(TeardownProgress),
}

/// A delete in progress.
pub(crate) type Pending<'a> = Pin<Box<dyn Future<Output = Deleted> + 'a>>;

/// How one kind is deleted (each module registers its own in its `OWNS`, `registration.rs`).
pub(crate) type DeleteFn = for<'a, 'b> fn(&'a mut Deleting<'b>, &'a OwnedResource) -> Pending<'a>;
