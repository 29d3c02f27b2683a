//! SNS notifications of finished inferences, in SageMaker's `InferenceResult` message format.

use std::time::SystemTime;

use aws_sdk_sns::primitives::{DateTime, DateTimeFormat};
use serde_json::{json, Value};

use super::job::Job;

/// How an inference ended, as far as the notification is concerned.
pub(crate) enum Ending<'a> {
    Completed {
        content_type: &'a str,
        body: &'a [u8],
    },
    Failed {
        reason: &'a str,
    },
}

/// The message body SageMaker publishes to the success or error topic.
pub(crate) fn message(job: &Job, region: &str, ending: &Ending<'_>) -> Value {
    let mut request = json!({ "endpointName": job.endpoint_name });
    if let Some(accept) = &job.accept {
        request["accept"] = json!(accept);
    }
    if let Some(content_type) = &job.content_type {
        request["contentType"] = json!(content_type);
    }
    if let Some(input) = &job.input_location {
        request["inputLocation"] = json!(input.to_string());
    }
    let mut message = json!({
        "awsRegion": region,
        "eventTime": timestamp(SystemTime::now()),
        "receivedTime": timestamp(job.accepted_at()),
        "inferenceId": job.inference_id,
        "requestParameters": request,
        "eventVersion": "1.0",
        "eventSource": "aws:sagemaker",
        "eventName": "InferenceResult",
    });
    match ending {
        Ending::Completed { content_type, body } => {
            message["invocationStatus"] = json!("Completed");
            message["responseParameters"] = json!({
                "contentType": content_type,
                "outputLocation": job.output.to_string(),
            });
            if job
                .include_response_in
                .iter()
                .any(|t| t == "SUCCESS_NOTIFICATION_TOPIC")
            {
                message["responseBody"] = json!({ "content": String::from_utf8_lossy(body) });
            }
        }
        Ending::Failed { reason } => {
            message["invocationStatus"] = json!("Failed");
            message["failureReason"] = json!(reason);
            message["responseParameters"] = json!({
                "contentType": "text/plain; charset=utf-8",
                "failureLocation": job.failure.to_string(),
            });
            if job
                .include_response_in
                .iter()
                .any(|t| t == "ERROR_NOTIFICATION_TOPIC")
            {
                message["responseBody"] = json!({ "message": reason });
            }
        }
    }
    message
}

/// The message as SNS `Message` text. Spaces inside JSON strings are written as `\u0020`: the
/// same JSON to any parser, and moto 5.2.1 under IAM enforcement rejects a `Publish` whose
/// form-encoded body has a space (`SignatureDoesNotMatch`: it re-encodes `%20` as `+` before
/// checking the signature). Compact JSON has no spaces outside strings.
pub(crate) fn encode(message: &Value) -> String {
    message.to_string().replace(' ', "\\u0020")
}

fn timestamp(time: SystemTime) -> String {
    DateTime::from(time)
        .fmt(DateTimeFormat::DateTime)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoded_messages_have_no_spaces_and_parse_back_unchanged() {
        let message = json!({ "failureReason": "a b \\ c", "n": 1 });
        let text = encode(&message);
        assert!(!text.contains(' '), "{text}");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), message);
    }
}
