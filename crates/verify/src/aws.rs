//! Verify's side of the AWS helper layer ([`bodyline_aws`]): the caller's account, and an SDK
//! error turned into a [`VerifyError`] that names the call and the resource.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use bodyline_aws::{AwsFailure, Clients};

use crate::VerifyError;

/// The 12-digit account of the configured credentials.
pub(crate) async fn account(
    clients: &Clients,
    target: bodyline_stack::Target,
) -> Result<String, VerifyError> {
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws_error("GetCallerIdentity", "the configured credentials", e))?;
    out.account()
        .map(str::to_string)
        .ok_or(VerifyError::NoAccount { target })
}

impl VerifyError {
    /// A failed `operation` on `resource`, as the service said it.
    pub(crate) fn aws(operation: &'static str, resource: &str, failure: AwsFailure) -> Self {
        VerifyError::Aws {
            operation,
            resource: resource.to_string(),
            code: failure.code,
            message: failure.message,
            status: failure.status,
        }
    }
}

/// Turns an SDK error into a [`VerifyError::Aws`] naming the operation and the resource.
pub(crate) fn aws_error<E>(
    operation: &'static str,
    resource: &str,
    err: SdkError<E, HttpResponse>,
) -> VerifyError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    VerifyError::aws(operation, resource, AwsFailure::of(&err))
}
