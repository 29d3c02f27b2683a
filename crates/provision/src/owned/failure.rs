//! How teardown turns an SDK error into its own: "not found" (read once, by
//! [`bodyline_aws::AwsFailure`]) is done for a delete; anything else names the call and the
//! resource.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use bodyline_aws::AwsFailure;

use super::error::TeardownError;

impl TeardownError {
    /// A failed `operation` on `resource`, as the service said it.
    pub(crate) fn aws(operation: &'static str, resource: &str, failure: AwsFailure) -> Self {
        TeardownError::Aws {
            operation,
            resource: resource.to_string(),
            code: failure.code,
            message: failure.message,
            status: failure.status,
        }
    }
}

/// Turns an SDK error into a [`TeardownError::Aws`] naming the operation and the resource.
pub(crate) fn aws_error<E>(
    operation: &'static str,
    resource: &str,
    err: SdkError<E, HttpResponse>,
) -> TeardownError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    TeardownError::aws(operation, resource, AwsFailure::of(&err))
}

/// `Ok(Some(v))` on success, `Ok(None)` when the resource does not exist, else the error.
pub(crate) fn none_if_missing<T, E>(
    operation: &'static str,
    resource: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Option<T>, TeardownError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(v) => Ok(Some(v)),
        Err(err) => {
            let failure = AwsFailure::of(&err);
            if failure.is_not_found() {
                Ok(None)
            } else {
                Err(TeardownError::aws(operation, resource, failure))
            }
        }
    }
}
