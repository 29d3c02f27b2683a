//! Verify's side of the AWS helper layer ([`bodyline_aws`]): the caller's account, and an SDK
//! error turned into a [`VerifyError`] that names the call and the resource.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use bodyline_aws::{AwsFailure, Clients};

use crate::VerifyError;

/// Who the configured credentials are: the account (12 digits) and the caller's ARN, what
/// the stack's names and policies derive from.
pub(crate) async fn caller(
    clients: &Clients,
    target: bodyline_stack::Target,
) -> Result<bodyline_provision::Context, VerifyError> {
    let me = bodyline_aws::caller(&clients.sts)
        .await
        .map_err(|f| VerifyError::aws("GetCallerIdentity", "the configured credentials", f))?;
    let account = me.account.ok_or(VerifyError::NoAccount { target })?;
    Ok(bodyline_provision::Context {
        account,
        caller_arn: me.arn.unwrap_or_default(),
        created: bodyline_stack::created_tag_value(std::time::SystemTime::now()),
    })
}

impl VerifyError {
    /// A failed `operation` on `resource`, as the service said it.
    pub(crate) fn aws(operation: &'static str, resource: &str, failure: AwsFailure) -> Self {
        VerifyError::Aws {
            operation,
            resource: resource.to_string(),
            failure,
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
