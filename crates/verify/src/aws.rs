//! The AWS clients verify and teardown use, all built from one `SdkConfig`, and how their
//! errors are read (one place decides what "not found" means for each service).

use aws_config::SdkConfig;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use crate::VerifyError;

/// Every client, built once from the target's configuration.
#[derive(Clone, Debug)]
pub(crate) struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub iam: aws_sdk_iam::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub runtime: aws_sdk_sagemakerruntime::Client,
    pub scaling: aws_sdk_applicationautoscaling::Client,
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub sts: aws_sdk_sts::Client,
}

impl Clients {
    pub(crate) fn new(config: &SdkConfig) -> Clients {
        // Path-style addressing for any custom endpoint: moto serves buckets only that way.
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: aws_sdk_iam::Client::new(config),
            sagemaker: aws_sdk_sagemaker::Client::new(config),
            runtime: aws_sdk_sagemakerruntime::Client::new(config),
            scaling: aws_sdk_applicationautoscaling::Client::new(config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
        }
    }

    /// The 12-digit account of the configured credentials.
    pub(crate) async fn account(
        &self,
        target: bodyline_stack::Target,
    ) -> Result<String, VerifyError> {
        let out = self
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| aws_error("GetCallerIdentity", "the configured credentials", e))?;
        out.account()
            .map(str::to_string)
            .ok_or(VerifyError::NoAccount { target })
    }
}

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
            // Without a service error the message is the transport's (timeouts, refused
            // connections), which the SDK only shows through the error chain.
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
        // SageMaker says "not found" with a ValidationException and a sentence.
        let sagemaker_missing = self.code.as_deref() == Some("ValidationException")
            && self.message.as_deref().is_some_and(|m| {
                let m = m.to_ascii_lowercase();
                m.contains("could not find") || m.contains("does not exist")
            });
        sagemaker_missing || self.status == Some(404)
    }

    /// Whether the caller was denied (moto's IAM denials may carry no code: use the status).
    pub(crate) fn is_access_denied(&self) -> bool {
        self.status == Some(403)
            || self
                .code
                .as_deref()
                .is_some_and(|c| c.contains("AccessDenied"))
    }

    /// `Code: message (HTTP n)`, for check details.
    pub(crate) fn summary(&self) -> String {
        let mut out = self.code.clone().unwrap_or_else(|| "no error code".into());
        if let Some(m) = self.message.as_deref().filter(|m| !m.is_empty()) {
            out.push_str(": ");
            out.push_str(m);
        }
        if let Some(s) = self.status {
            out.push_str(&format!(" (HTTP {s})"));
        }
        out
    }

    pub(crate) fn into_error(self, operation: &'static str, resource: &str) -> VerifyError {
        VerifyError::Aws {
            operation,
            resource: resource.to_string(),
            code: self.code,
            message: self.message,
            status: self.status,
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
    Failure::of(&err).into_error(operation, resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> Failure {
        Failure {
            code: code.map(Into::into),
            message: message.map(Into::into),
            status,
        }
    }

    #[test]
    fn not_found_is_read_per_service() {
        assert!(failure(Some("NoSuchEntity"), None, Some(404)).is_not_found());
        assert!(failure(Some("NoSuchBucket"), None, None).is_not_found());
        assert!(failure(
            Some("ValidationException"),
            Some("Could not find endpoint \"x\"."),
            Some(400)
        )
        .is_not_found());
        assert!(!failure(
            Some("ValidationException"),
            Some("Endpoint x is in Creating"),
            Some(400)
        )
        .is_not_found());
        assert!(!failure(Some("AccessDenied"), None, Some(403)).is_not_found());
    }

    #[test]
    fn denials_are_read_from_the_status_when_the_code_is_missing() {
        assert!(failure(None, None, Some(403)).is_access_denied());
        assert!(failure(Some("AccessDeniedException"), None, Some(400)).is_access_denied());
        assert!(!failure(Some("ValidationError"), None, Some(400)).is_access_denied());
    }
}
