//! The provision error type: every variant names the resource it is about and how to fix it.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_smithy_types::error::operation::BuildError;

use crate::lint::Finding;

/// Why a stack could not be observed, planned or applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProvisionError {
    /// The stack file, state file or local stack connection is wrong.
    #[error(transparent)]
    Stack(#[from] bodyline_stack::StackError),
    /// The target is aws and no credentials could be found.
    #[error("no AWS credentials for the aws target ({message}); configure a profile, SSO or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or use `--target local`; nothing was created")]
    NoCredentials {
        /// What the credential chain said.
        message: String,
    },
    /// A resource with the stack's name exists but is not tagged as the stack's.
    #[error("{kind} {name} exists but is not tagged bodyline:stack={stack}; bodyline never touches a resource it does not own: delete or rename it, or rename the stack (stack.name, or bucket.name for the bucket); nothing was changed")]
    Foreign {
        /// The resource kind, e.g. `bucket`.
        kind: &'static str,
        /// The resource name.
        name: String,
        /// The stack that wanted the name.
        stack: String,
    },
    /// A resource with the stack's name belongs to another bodyline stack.
    #[error("{kind} {name} belongs to the bodyline stack {owner:?}, not {stack:?}; give this stack another name (stack.name, or bucket.name for the bucket); nothing was changed")]
    OtherStack {
        /// The resource kind.
        kind: &'static str,
        /// The resource name.
        name: String,
        /// The stack that owns it.
        owner: String,
        /// The stack that wanted the name.
        stack: String,
    },
    /// A create found the resource already there (made by someone else after observe, or
    /// between a check and the create) and it is not the stack's: setup stopped before
    /// touching it.
    #[error("{kind} {name} appeared while setup ran and exists but is not tagged bodyline:stack={stack} ({why}); bodyline never touches a resource it does not own, so setup stopped before changing it; this run created {}: run `bodyline teardown` to remove them, then rename the stack (stack.name, or bucket.name for the bucket) or have the other {kind} removed, and run `bodyline setup` again", render_created(created))]
    TakenDuringSetup {
        /// The resource kind, e.g. `bucket`.
        kind: &'static str,
        /// The resource name.
        name: String,
        /// The stack that wanted the name.
        stack: String,
        /// What makes it someone else's, e.g. `tagged owner=someone-else`.
        why: String,
        /// What this run created before it stopped, as `kind name`.
        created: Vec<String>,
    },
    /// An invoker principal named in the stack file does not exist.
    #[error("invokers.principals names {principal}, which does not exist; create it first or remove it from invokers.principals of the stack {stack}; nothing was changed")]
    MissingPrincipal {
        /// The principal, e.g. `role scoring-app`.
        principal: String,
        /// The stack.
        stack: String,
    },
    /// A policy template did not render into a JSON document.
    #[error("IAM template {template}: {message}; fix templates/iam/{template}")]
    Template {
        /// The template file name.
        template: &'static str,
        /// What went wrong.
        message: String,
    },
    /// A policy document breaks a least-privilege rule.
    #[error("policy {policy} breaks {} least-privilege rule{}:\n{}", findings.len(), if findings.len() == 1 { "" } else { "s" }, render(findings))]
    Lint {
        /// The policy's name.
        policy: String,
        /// Each broken rule.
        findings: Vec<Finding>,
    },
    /// A policy document read back from AWS is not JSON, even after percent-decoding.
    #[error("policy document of {resource} is not JSON ({message}); inspect it in the console and correct or delete it")]
    Document {
        /// The resource the document belongs to.
        resource: String,
        /// The parser's message.
        message: String,
    },
    /// An AWS call failed.
    #[error("{operation} on {resource} failed: {}{message}", code.as_deref().map(|c| format!("{c}: ")).unwrap_or_default())]
    Aws {
        /// The operation, e.g. `CreateBucket`.
        operation: &'static str,
        /// The resource it was about.
        resource: String,
        /// The service's error code, when it sent one.
        code: Option<String>,
        /// The service's message, or the transport error.
        message: String,
    },
    /// The endpoint went to `Failed`.
    #[error("endpoint {endpoint} failed: {reason}; fix the cause, then run `bodyline setup` again (a failed endpoint is deleted and created again)")]
    EndpointFailed {
        /// The endpoint name.
        endpoint: String,
        /// SageMaker's `FailureReason`.
        reason: String,
    },
    /// An `UpdateEndpoint` failed and SageMaker rolled the endpoint back to its old config.
    #[error("endpoint {endpoint} is InService but runs endpoint config {running}, not {wanted}: SageMaker rolled the update back ({reason}); the old config and model were kept. Fix the cause, then run `bodyline setup` again")]
    UpdateRolledBack {
        /// The endpoint name.
        endpoint: String,
        /// The config it runs.
        running: String,
        /// The config setup moved it to.
        wanted: String,
        /// SageMaker's `FailureReason`.
        reason: String,
    },
    /// The endpoint did not reach the wanted state within the wait timeout. Nothing failed:
    /// the stack is still converging on AWS's side, and running setup again picks the wait up
    /// (it observes what exists, so it creates nothing twice).
    #[error("endpoint {endpoint} is still {status} after waiting {waited_secs} s (the wait timeout): the stack is still converging; nothing failed and nothing is lost. Run the same `bodyline setup` command again to continue: it finds what exists, creates nothing twice and waits again (raise --wait-timeout to wait longer)")]
    StillConverging {
        /// The endpoint.
        endpoint: String,
        /// Its last status, e.g. `Creating`.
        status: String,
        /// How long this run waited.
        waited_secs: u64,
    },
    /// A resource module was asked for something it does not do (a step that retires without
    /// saying how, a wait without a waiter): a bug in bodyline, not in the input.
    #[error("bodyline bug: {0}; nothing more was changed. Please report it with the output of `bodyline plan`")]
    Internal(String),
}

impl ProvisionError {
    /// The service's error code, for [`ProvisionError::Aws`].
    pub fn code(&self) -> Option<&str> {
        match self {
            ProvisionError::Aws { code, .. } => code.as_deref(),
            _ => None,
        }
    }

    /// The service's message, for [`ProvisionError::Aws`].
    pub fn message(&self) -> Option<&str> {
        match self {
            ProvisionError::Aws { message, .. } => Some(message),
            _ => None,
        }
    }

    /// Wraps an SDK error with the operation and resource it was about.
    pub(crate) fn aws<E>(
        operation: &'static str,
        resource: impl Into<String>,
        err: SdkError<E, HttpResponse>,
    ) -> ProvisionError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        ProvisionError::from_failure(operation, resource, bodyline_aws::AwsFailure::of(&err))
    }

    /// What the service said about `operation` on `resource`. IAM and SageMaker denials may
    /// come back without a code or message: the status says what happened (403: denied, 500:
    /// the server failed).
    pub(crate) fn from_failure(
        operation: &'static str,
        resource: impl Into<String>,
        failure: bodyline_aws::AwsFailure,
    ) -> ProvisionError {
        let message = match (failure.message, failure.status) {
            (Some(m), _) => m,
            (None, Some(s)) => format!("HTTP {s} without a message"),
            (None, None) => "no message".to_string(),
        };
        ProvisionError::Aws {
            operation,
            resource: resource.into(),
            code: failure.code,
            message,
        }
    }
}

fn render_created(created: &[String]) -> String {
    if created.is_empty() {
        "nothing".to_string()
    } else {
        created.join(", ")
    }
}

fn render(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| format!("  - {f}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The error for an SDK request that could not be built (a missing required field).
pub(crate) fn build_err(
    operation: &'static str,
    resource: &str,
) -> impl FnOnce(BuildError) -> ProvisionError {
    let resource = resource.to_string();
    move |e| ProvisionError::Aws {
        operation,
        resource,
        code: None,
        message: format!("could not build the request: {e}"),
    }
}
