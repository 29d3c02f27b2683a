//! What an SDK error said, and the one reading of it every crate shares.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

/// What a failed call means for the caller, whatever the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorClass {
    /// The resource does not exist (done, for a delete; absent, for a read).
    NotFound,
    /// The call may succeed if sent again: no answer, a server error, or throttling.
    Transient,
    /// A create found the resource there already (whose it is must still be read).
    AlreadyExists,
    /// The caller was denied.
    Refused,
    /// Anything else: the request itself is wrong, or the resource is in the wrong state.
    Other,
}

/// What an SDK error said, in a form that does not depend on the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsFailure {
    /// The service's error code, when it answered with one.
    pub code: Option<String>,
    /// The service's message, or the transport's when the service did not answer.
    pub message: Option<String>,
    /// The HTTP status, when there was a response.
    pub status: Option<u16>,
    /// The request got no well-formed answer (it could not be sent, timed out, or the
    /// response could not be read).
    pub unanswered: bool,
}

/// Not-found codes across S3, IAM, SNS, Application Auto Scaling and CloudWatch.
const NOT_FOUND_CODES: &[&str] = &[
    "NoSuchEntity",
    "NoSuchBucket",
    "NoSuchKey",
    "NotFound",
    "NotFoundException",
    "ResourceNotFound",
    "ResourceNotFoundException",
    "ObjectNotFoundException",
];

/// Already-exists codes: IAM, S3 (yours, or someone else's), SageMaker's resource in use.
const ALREADY_EXISTS_CODES: &[&str] = &[
    "EntityAlreadyExists",
    "BucketAlreadyOwnedByYou",
    "BucketAlreadyExists",
    "ResourceInUse",
    "AlreadyExistsException",
    "ResourceAlreadyExistsException",
];

/// Throttling, which services answer with 400 as often as with 429 or 503.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
];

impl AwsFailure {
    /// Reads an SDK error of any service.
    pub fn of<E>(err: &SdkError<E, HttpResponse>) -> AwsFailure
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
    {
        let service = matches!(err, SdkError::ServiceError(_));
        let (code, message) = if service {
            (err.code(), err.message())
        } else {
            (None, None)
        };
        AwsFailure {
            code: code.map(str::to_string),
            // Without a service error the message is the transport's (timeouts, refused
            // connections), which the SDK only shows through the error chain.
            message: message.map(str::to_string).or_else(|| {
                (!service).then(|| aws_sdk_s3::error::DisplayErrorContext(err).to_string())
            }),
            status: err.raw_response().map(|r| r.status().as_u16()),
            unanswered: matches!(
                err,
                SdkError::DispatchFailure(_)
                    | SdkError::TimeoutError(_)
                    | SdkError::ResponseError(_)
            ),
        }
    }

    /// The class of the failure; the first that applies of not found, already exists,
    /// refused, transient.
    pub fn class(&self) -> ErrorClass {
        if self.is_not_found() {
            ErrorClass::NotFound
        } else if self.is_already_exists() {
            ErrorClass::AlreadyExists
        } else if self.is_access_denied() {
            ErrorClass::Refused
        } else if self.is_transient() {
            ErrorClass::Transient
        } else {
            ErrorClass::Other
        }
    }

    /// Whether the service answered with one of `codes`.
    pub fn has_code(&self, codes: &[&str]) -> bool {
        self.code.as_deref().is_some_and(|c| codes.contains(&c))
    }

    /// Whether the error means the resource does not exist.
    pub fn is_not_found(&self) -> bool {
        self.has_code(NOT_FOUND_CODES) || self.is_sagemaker_not_found() || self.status == Some(404)
    }

    /// SageMaker has no NotFound error: a missing resource is a `ValidationException`
    /// "Could not find …" (moto: "… does not exist").
    pub fn is_sagemaker_not_found(&self) -> bool {
        self.code.as_deref() == Some("ValidationException")
            && self.message.as_deref().is_some_and(|m| {
                let m = m.to_ascii_lowercase();
                m.contains("could not find") || m.contains("does not exist")
            })
    }

    /// Whether a create found the resource there already. SageMaker says so in a
    /// `ValidationException` sentence ("Cannot create already existing endpoint").
    pub fn is_already_exists(&self) -> bool {
        self.has_code(ALREADY_EXISTS_CODES)
            || (self.code.as_deref() == Some("ValidationException")
                && self.message.as_deref().is_some_and(|m| {
                    m.contains("already existing") || m.contains("already exists")
                }))
    }

    /// Whether the caller was denied (moto's IAM denials may carry no code: the status says).
    pub fn is_access_denied(&self) -> bool {
        self.status == Some(403)
            || self
                .code
                .as_deref()
                .is_some_and(|c| c.contains("AccessDenied"))
    }

    /// Whether sending the call again may succeed: it got no answer, or the answer was a
    /// server error or throttling.
    pub fn is_transient(&self) -> bool {
        self.unanswered
            || self.status.is_some_and(|s| s >= 500 || s == 429)
            || self.has_code(THROTTLING_CODES)
    }

    /// `Code: message (HTTP n)`, for reports.
    pub fn summary(&self) -> String {
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
}

impl std::fmt::Display for AwsFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: Option<&str>, message: Option<&str>, status: Option<u16>) -> AwsFailure {
        AwsFailure {
            code: code.map(Into::into),
            message: message.map(Into::into),
            status,
            unanswered: false,
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

    #[test]
    fn each_failure_has_one_class() {
        let cases = [
            (
                failure(Some("NoSuchEntity"), None, Some(404)),
                ErrorClass::NotFound,
            ),
            (
                failure(
                    Some("ValidationException"),
                    Some("Cannot create already existing endpoint \"e\"."),
                    Some(400),
                ),
                ErrorClass::AlreadyExists,
            ),
            (
                failure(Some("EntityAlreadyExists"), None, Some(409)),
                ErrorClass::AlreadyExists,
            ),
            (failure(None, None, Some(403)), ErrorClass::Refused),
            (
                failure(Some("ThrottlingException"), None, Some(400)),
                ErrorClass::Transient,
            ),
            (
                failure(Some("InternalError"), None, Some(500)),
                ErrorClass::Transient,
            ),
            (failure(None, None, Some(429)), ErrorClass::Transient),
            (
                AwsFailure {
                    unanswered: true,
                    ..failure(None, Some("connection refused"), None)
                },
                ErrorClass::Transient,
            ),
            (
                failure(Some("ValidationError"), None, Some(400)),
                ErrorClass::Other,
            ),
        ];
        for (failure, class) in cases {
            assert_eq!(failure.class(), class, "{failure:?}");
        }
    }

    #[test]
    fn the_summary_names_code_message_and_status() {
        assert_eq!(
            failure(Some("NoSuchBucket"), Some("gone"), Some(404)).summary(),
            "NoSuchBucket: gone (HTTP 404)"
        );
        assert_eq!(
            failure(None, None, Some(403)).summary(),
            "no error code (HTTP 403)"
        );
    }
}
