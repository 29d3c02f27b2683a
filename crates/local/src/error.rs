//! `LocalError`: everything that can go wrong running the local stack, and how the front door
//! turns its own failures into AWS-shaped HTTP errors.

use std::path::PathBuf;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// An error of the local stack: installing moto, running it, bootstrapping its IAM, serving the
/// front door, or managing the background process behind `bodyline local up`.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum LocalError {
    /// No usable Python interpreter.
    #[error("{python} was not found or does not run ({source}); the local stack runs moto with it: install Python 3 with its venv module (e.g. `apt-get install python3 python3-venv`) or set BODYLINE_PYTHON to an interpreter")]
    PythonNotFound {
        /// The interpreter that was tried.
        python: String,
        /// Why running it failed.
        source: std::io::Error,
    },
    /// Creating the virtualenv or installing moto into it failed.
    #[error("installing {requirement} into {} failed at `{step}`: {output}; check network access to PyPI, or delete the directory and try again", venv.display())]
    Install {
        /// The virtualenv directory.
        venv: PathBuf,
        /// The pip requirement.
        requirement: String,
        /// The command that failed.
        step: String,
        /// The tail of its output.
        output: String,
    },
    /// A file or directory could not be read, written or locked.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// moto could not be started, or exited, or never answered its health check.
    #[error("moto_server on {url} {problem}; its output is in {}", log.display())]
    Moto {
        /// The URL moto was meant to serve.
        url: String,
        /// What went wrong.
        problem: String,
        /// moto's log file.
        log: PathBuf,
    },
    /// The unauthenticated bootstrap calls that create the administrator failed.
    #[error("bootstrapping the administrator identity on {url} failed at {step}: {message}; the first unauthenticated calls must reach a fresh moto, restart the local stack")]
    Bootstrap {
        /// moto's URL.
        url: String,
        /// The IAM operation.
        step: &'static str,
        /// The SDK's error, with its chain.
        message: String,
    },
    /// The async runtime could not start.
    #[error("the local SageMaker runtime could not start: {message}")]
    Runtime {
        /// The runtime's error.
        message: String,
    },
    /// A blocking task (an install, a file lock) panicked or was cancelled.
    #[error(
        "the {task} task did not finish: {message}; this is a bug in bodyline, please report it"
    )]
    Task {
        /// What the task did.
        task: &'static str,
        /// The join error.
        message: String,
    },
    /// `.bodyline/local.env` could not be written or read.
    #[error(transparent)]
    Env(#[from] bodyline_stack::StackError),
    /// The background process behind `bodyline local up` did not come up.
    #[error("the local stack (pid {pid}) did not come up: {problem}; see {}", log.display())]
    Daemon {
        /// The background process.
        pid: u32,
        /// What went wrong.
        problem: String,
        /// Its log file.
        log: PathBuf,
    },
    /// A local stack is already running for this project with another region.
    #[error("the local stack for {} already runs in {running}, not {wanted}; run `bodyline local down` first", root.display())]
    RegionMismatch {
        /// The project root.
        root: PathBuf,
        /// The running stack's region.
        running: String,
        /// The region asked for.
        wanted: String,
    },
    /// A request reached the front door without a SigV4 signature.
    #[error("the request {method} {path} carries no SigV4 signature; the local stack enforces IAM like AWS: sign it with the keys in .bodyline/local.env")]
    MissingAuthentication {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
    },
    /// A presigned URL, which moto cannot check while it enforces IAM.
    #[error("the request {method} {path} is a presigned URL; moto 5.2.1 cannot check query-string signatures while it enforces IAM (it fails with a 500): on the local stack, sign the request with an Authorization header (e.g. GetObject with the SDK) instead")]
    PresignedUrl {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
    },
    /// A moto reset, which would delete the administrator whose keys every client uses.
    #[error("{path} is refused by the local stack: resetting moto deletes the administrator whose keys are in .bodyline/local.env; use unique resource names, or restart with `bodyline local down` and `bodyline local up`")]
    MotoReset {
        /// The request path.
        path: String,
    },
    /// S3's answer to a request depends on the caller's IAM policies, and reading them failed.
    #[error("the front door could not judge {method} {path} as S3 would ({message}); moto's IAM did not answer: retry the request")]
    CallerPolicies {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
        /// What failed.
        message: String,
    },
    /// A crashed local stack's saved state could not be brought back.
    #[error("the local stack of {} could not be restored from {}: {problem}; `bodyline local down` discards the saved state, and the next `bodyline local up` starts an empty stack", root.display(), state.display())]
    Restore {
        /// The project root.
        root: PathBuf,
        /// The saved state (moto's change log).
        state: PathBuf,
        /// What went wrong.
        problem: String,
    },
    /// The front door could not reach moto.
    #[error("the front door could not forward {method} {path} to moto at {upstream}: {message}")]
    Upstream {
        /// The HTTP method.
        method: String,
        /// The request path.
        path: String,
        /// moto's URL.
        upstream: String,
        /// The client error.
        message: String,
    },
}

impl LocalError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> LocalError {
        LocalError::Io {
            path: path.into(),
            source,
        }
    }

    /// The HTTP status and AWS error code the front door answers this error with.
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            LocalError::MissingAuthentication { .. } => {
                (StatusCode::FORBIDDEN, "MissingAuthenticationToken")
            }
            LocalError::PresignedUrl { .. } => (StatusCode::NOT_IMPLEMENTED, "NotImplemented"),
            LocalError::MotoReset { .. } => (StatusCode::FORBIDDEN, "AccessDenied"),
            LocalError::Upstream { .. } => (StatusCode::BAD_GATEWAY, "ServiceUnavailable"),
            LocalError::CallerPolicies { .. } => {
                (StatusCode::SERVICE_UNAVAILABLE, "ServiceUnavailable")
            }
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "InternalFailure"),
        }
    }
}

/// The AWS query/XML error shape (`ErrorResponse`), which the IAM, STS, SNS and S3 clients all
/// read: the front door's own answers look like the services' answers.
impl IntoResponse for LocalError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let message = if status.is_server_error() {
            // Internals go to the log, not to the client.
            tracing::error!(error = %self, "front door failure");
            match self {
                LocalError::Upstream { .. }
                | LocalError::PresignedUrl { .. }
                | LocalError::CallerPolicies { .. } => self.to_string(),
                _ => "internal failure of the local stack; see its log".to_string(),
            }
        } else {
            self.to_string()
        };
        let kind = if status.is_server_error() {
            "Receiver"
        } else {
            "Sender"
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code><Message>{}</Message></Error><RequestId>{}</RequestId></ErrorResponse>",
            xml_escape(&message),
            uuid::Uuid::new_v4()
        );
        (
            status,
            [
                (header::CONTENT_TYPE, "text/xml"),
                (header::HeaderName::from_static("x-amzn-errortype"), code),
            ],
            body,
        )
            .into_response()
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_signature_is_an_aws_shaped_403() {
        let err = LocalError::MissingAuthentication {
            method: "GET".into(),
            path: "/b<1>".into(),
        };
        let response = err.into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            response.headers()["x-amzn-errortype"],
            "MissingAuthenticationToken"
        );
    }

    #[test]
    fn xml_special_characters_are_escaped() {
        assert_eq!(xml_escape("a<b & 'c'"), "a&lt;b &amp; &apos;c&apos;");
    }
}
