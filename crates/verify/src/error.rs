//! The error type of verify: every variant names the resource it is about.

/// Why a verify run could not do its work.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// An AWS call verify needs failed.
    #[error("{operation} on {resource} failed: {}; check the credentials' permissions and run again", failure.summary())]
    Aws {
        /// The API operation, e.g. `DescribeEndpoint`.
        operation: &'static str,
        /// The resource name or ARN it was called on.
        resource: String,
        /// What the service said.
        failure: bodyline_aws::AwsFailure,
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
