//! How teardown reads an SDK error: one place decides what "not found" means for each service.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::TeardownError;

/// What an SDK error said, in a form that does not depend on the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failure {
    pub code: Option<String>,
    pub message: Option<String>,
    pub status: Option<u16>,
}

impl Failure {
    pub(crate) fn of<E>(err: &SdkError<E, HttpResponse>) -> Failure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let (code, message) = match err {
            SdkError::ServiceError(_) => (err.code(), err.message()),
            _ => (None, None),
        };
        Failure {
            code: code.map(str::to_string),
            message: message.map(str::to_string).or_else(|| {
                Some(aws_sdk_s3::error::DisplayErrorContext(err).to_string())
                    .filter(|_| !matches!(err, SdkError::ServiceError(_)))
            }),
            status: err.raw_response().map(|r| r.status().as_u16()),
        }
    }

    /// Whether the error means the resource does not exist (done, for a delete).
    pub(crate) fn is_not_found(&self) -> bool {
        const CODES: &[&str] = &[
            "NoSuchEntity",
            "NoSuchBucket",
            "NoSuchKey",
            "NotFound",
            "NotFoundException",
            "ResourceNotFound",
            "ResourceNotFoundException",
            "ObjectNotFoundException",
        ];
        if self.code.as_deref().is_some_and(|c| CODES.contains(&c)) {
            return true;
        }
        let sagemaker_missing = self.code.as_deref() == Some("ValidationException")
            && self.message.as_deref().is_some_and(|m| {
                let m = m.to_ascii_lowercase();
                m.contains("could not find") || m.contains("does not exist")
            });
        sagemaker_missing || self.status == Some(404)
    }

    pub(crate) fn into_error(self, operation: &'static str, resource: &str) -> TeardownError {
        TeardownError::Aws {
            operation,
            resource: resource.to_string(),
            code: self.code,
            message: self.message,
            status: self.status,
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
    Failure::of(&err).into_error(operation, resource)
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
            let failure = Failure::of(&err);
            if failure.is_not_found() {
                Ok(None)
            } else {
                Err(failure.into_error(operation, resource))
            }
        }
    }
}
