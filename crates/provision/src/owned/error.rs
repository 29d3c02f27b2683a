//! The error type of teardown and sweep: every variant names the resource it is about.

use std::path::PathBuf;

/// Why a teardown or a sweep could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TeardownError {
    /// An AWS call failed for another reason than "not found" (which teardown treats as done).
    #[error("{operation} on {resource} failed: {}{}; {} (teardown is idempotent)", code.as_deref().unwrap_or("no error code"), detail(message.as_deref(), *status), fix(code.as_deref()))]
    Aws {
        /// The API operation, e.g. `DeleteBucket`.
        operation: &'static str,
        /// The resource name or ARN it was called on.
        resource: String,
        /// The service's error code, when the SDK could read one.
        code: Option<String>,
        /// The service's message.
        message: Option<String>,
        /// The HTTP status, when there was a response.
        status: Option<u16>,
    },
    /// The stack file, state file or local stack settings could not be used.
    #[error(transparent)]
    Stack(#[from] bodyline_stack::StackError),
    /// A backup file could not be written.
    #[error("{}: cannot write the backup copy ({source}); the bucket was left untouched — free space or choose another --backup-dir", path.display())]
    Backup {
        /// The file being written.
        path: PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The deleted endpoint was still there when the wait timed out. Nothing failed: the stack
    /// is still converging, and the next teardown continues where this one stopped.
    #[error("endpoint {endpoint} is still {status} after waiting {waited_secs} s (the wait timeout): the stack is still converging; the bucket and the resources after it were left for now, nothing is lost. Run the same teardown command again to continue: it waits for the endpoint without deleting it twice (raise --wait-timeout to wait longer)")]
    EndpointStillPresent {
        /// The endpoint name.
        endpoint: String,
        /// Its last status, e.g. `Deleting`.
        status: String,
        /// How long teardown waited.
        waited_secs: u64,
    },
    /// S3 refused to delete some objects while emptying the bucket.
    #[error("bucket {bucket}: {count} objects could not be deleted (first: {first}); check for object lock or a bucket policy denying s3:DeleteObject*")]
    ObjectsNotDeleted {
        /// The bucket.
        bucket: String,
        /// How many objects failed.
        count: usize,
        /// The first failure: key and error code.
        first: String,
    },
    /// A kind no resource module registers a delete for: a bodyline bug, caught before any
    /// call on the resource.
    #[error("{kind} {name}: bodyline has no delete registered for this kind (its resource module must list it in its OWNS registrations); it was left alone, and so was everything after it")]
    Unregistered {
        /// The resource kind's label.
        kind: &'static str,
        /// The resource name.
        name: String,
    },
    /// The caller's account could not be determined.
    #[error("GetCallerIdentity returned no account; the credentials of the {target} target are not usable")]
    NoAccount {
        /// The target.
        target: bodyline_stack::Target,
    },
}

/// What to do about a failed call: a `DeleteConflict` is something bodyline does not own still
/// using the resource (teardown never touches it), anything else most often a permission.
fn fix(code: Option<&str>) -> &'static str {
    match code {
        Some("DeleteConflict") => {
            "something bodyline does not own still uses it (e.g. an instance profile holding a \
             role): remove that use by hand, then run again"
        }
        _ => "check the credentials' permissions and run again",
    }
}

fn detail(message: Option<&str>, status: Option<u16>) -> String {
    let mut out = String::new();
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        out.push_str(": ");
        out.push_str(m);
    }
    if let Some(s) = status {
        out.push_str(&format!(" (HTTP {s})"));
    }
    out
}
