//! The error type of verify: every variant names the resource it is about.

/// Why a verify run could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
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
    /// The desired stack (names, paths, policies) could not be derived from the stack file.
    #[error(transparent)]
    Desired(#[from] bodyline_provision::ProvisionError),
    /// `--check` named a check that does not exist.
    #[error("there is no check named {name:?}; the checks are: {known}")]
    UnknownCheck {
        /// The name given.
        name: String,
        /// Every check's name.
        known: String,
    },
    /// `verify --endpoint` named an endpoint that does not exist.
    #[error("endpoint {endpoint} does not exist in region {region} on the {target} target; check the name (`aws sagemaker list-endpoints`), --region and --target")]
    EndpointNotFound {
        /// The endpoint name.
        endpoint: String,
        /// The region asked.
        region: String,
        /// The target asked.
        target: bodyline_stack::Target,
    },
    /// `verify --endpoint` named an endpoint that is not `InService`.
    #[error("endpoint {endpoint} is {status}{}, not InService; {}", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(), if status == "Failed" { "fix what the failure reason says and update the endpoint, then run verify again" } else { "wait until it is InService (`aws sagemaker wait endpoint-in-service --endpoint-name <name>`) and run verify again" })]
    EndpointNotInService {
        /// The endpoint name.
        endpoint: String,
        /// Its status, e.g. `Creating`.
        status: String,
        /// SageMaker's `FailureReason`, if any.
        reason: Option<String>,
    },
    /// `verify --endpoint` named an endpoint that cannot take `InvokeEndpointAsync`.
    #[error("endpoint {endpoint} is not an async endpoint: its endpoint config {config} has {missing}; inline Body is an InvokeEndpointAsync parameter, so give the endpoint a config with AsyncInferenceConfig (OutputConfig.S3OutputPath) and update it to that config")]
    NotAsync {
        /// The endpoint name.
        endpoint: String,
        /// Its endpoint config.
        config: String,
        /// What the config lacks.
        missing: &'static str,
    },
    /// No credentials could be resolved for the target.
    #[error("no AWS credentials for the {target} target ({message}); configure a profile, SSO or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (or, on the local target, start it with `bodyline local up`); nothing was called")]
    NoCredentials {
        /// The target.
        target: bodyline_stack::Target,
        /// What the credential chain said.
        message: String,
    },
    /// An option's value breaks its rule.
    #[error("{option} {value:?}: {rule}")]
    BadOption {
        /// The option, e.g. `--input-uri`.
        option: &'static str,
        /// The value given.
        value: String,
        /// The rule and the fix.
        rule: &'static str,
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
