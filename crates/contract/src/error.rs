//! What can stop the checker (as opposed to a violation, which it reports).

use std::path::PathBuf;

/// The checker could not load a model or make sense of a request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContractError {
    /// A model file could not be read.
    #[error("reading {}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// No model where one was expected.
    #[error("no AWS service model at {}; install botocore (bodyline's local stack pins it beside moto)", path.display())]
    NoModel {
        /// Where it was looked for.
        path: PathBuf,
    },
    /// A model file is not JSON.
    #[error("the service model in {} is not JSON: {message}", path.display())]
    BadModel {
        /// The model's directory.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A request names no operation of its service's model.
    #[error("{service}: no operation of the model fits {detail}")]
    UnknownOperation {
        /// The service.
        service: String,
        /// What the request said.
        detail: String,
    },
    /// A request's parameters could not be decoded.
    #[error("{operation}: {message}")]
    Undecodable {
        /// The operation.
        operation: String,
        /// What failed.
        message: String,
    },
}
