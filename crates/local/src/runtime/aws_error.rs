//! Errors answered to SageMaker Runtime clients, shaped as the restJson1 protocol expects.
//!
//! The SDK reads the error code from the `x-amzn-errortype` header (falling back to `code` or
//! `__type` in the JSON body) and the message from `message`, so both are sent.

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A synchronous error of the runtime API.
#[derive(Debug)]
pub(crate) enum ApiError {
    /// HTTP 400 `ValidationError`: the request breaks a rule; nothing was queued.
    Validation(String),
    /// HTTP 424 `ModelError`: the model answered a real-time invocation with an error.
    Model {
        message: String,
        original_status: u16,
        original_message: String,
    },
    /// HTTP 500 `InternalFailure`: the runtime itself failed (logged).
    Internal(String),
}

impl ApiError {
    pub(crate) fn validation(message: impl Into<String>) -> ApiError {
        ApiError::Validation(message.into())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, body) = match self {
            ApiError::Validation(message) => (
                StatusCode::BAD_REQUEST,
                "ValidationError",
                json!({ "__type": "ValidationError", "message": message }),
            ),
            ApiError::Model {
                message,
                original_status,
                original_message,
            } => (
                StatusCode::FAILED_DEPENDENCY,
                "ModelError",
                json!({
                    "__type": "ModelError",
                    "message": message,
                    "OriginalStatusCode": original_status,
                    "OriginalMessage": original_message,
                }),
            ),
            ApiError::Internal(message) => {
                tracing::error!(error = %message, "runtime internal failure");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    json!({ "__type": "InternalFailure", "message": "the local runtime failed; see its log" }),
                )
            }
        };
        let mut response = (status, axum::Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert("x-amzn-errortype", HeaderValue::from_static(code));
        if let Ok(id) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            headers.insert("x-amzn-requestid", id);
        }
        response
    }
}
