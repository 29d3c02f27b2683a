//! The API as the real `aws-sdk-sagemakerruntime` client sees it: 202s with locations, and
//! synchronous `ValidationError`s that leave nothing behind.

use std::time::Duration;

use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::builders::InvokeEndpointAsyncFluentBuilder;
use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::InvokeEndpointAsyncError;
use aws_sdk_sagemakerruntime::primitives::Blob;

use super::util::{
    expected_scores, keys, read, stack, unique, wait_any, EndpointSpec, TestEndpoint,
};

const WAIT: Duration = Duration::from_secs(30);

/// Sends the request and expects a synchronous `ValidationError`; returns its message.
async fn validation_error(request: InvokeEndpointAsyncFluentBuilder) -> String {
    let err = request.send().await.expect_err("the request is rejected");
    let service = err.into_service_error();
    match service {
        InvokeEndpointAsyncError::ValidationError(e) => e.message().unwrap_or_default().to_string(),
        other => panic!("expected ValidationError, got {other:?}"),
    }
}

#[tokio::test]
async fn inline_body_ends_in_the_model_answer_at_the_output_location() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let payload = br#"{"records":[{"amount":12.5,"country":"NZ"},{"amount":900}]}"#;
    let response = stack
        .runtime_client()
        .invoke_endpoint_async()
        .endpoint_name(&endpoint.name)
        .content_type("application/json")
        .custom_attributes("trace=1")
        .body(Blob::new(payload.to_vec()))
        .send()
        .await
        .expect("InvokeEndpointAsync with Body");
    let id = response
        .inference_id()
        .expect("an inference id")
        .to_string();
    let output = response
        .output_location()
        .expect("OutputLocation")
        .to_string();
    let failure = response
        .failure_location()
        .expect("FailureLocation")
        .to_string();
    assert_eq!(output, format!("s3://{}/output/{id}.out", endpoint.bucket));
    assert_eq!(
        failure,
        format!("s3://{}/failure/{id}-error.out", endpoint.bucket)
    );
    let (which, object) = wait_any(stack, &[&output, &failure], WAIT).await;
    assert_eq!(which, 0, "failed: {}", object.text());
    assert_eq!(object.json(), expected_scores(payload));
    assert_eq!(object.content_type.as_deref(), Some("application/json"));
    assert!(
        read(stack, &failure).await.is_none(),
        "an output and a failure for one request"
    );
}

#[tokio::test]
async fn input_location_still_works_and_honours_extension_and_filename() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let payload = br#"{"amount": 3}"#;
    let input = endpoint.upload_input(stack, "request.json", payload).await;
    let response = stack
        .runtime_client()
        .invoke_endpoint_async()
        .endpoint_name(&endpoint.name)
        .content_type("application/json")
        .input_location(&input)
        .inference_id("caller-chosen-id")
        .s3_output_path_extension("2026/11")
        .filename("answer.json")
        .send()
        .await
        .expect("InvokeEndpointAsync with InputLocation");
    assert_eq!(response.inference_id(), Some("caller-chosen-id"));
    let output = response.output_location().expect("OutputLocation");
    assert_eq!(
        output,
        format!("s3://{}/output/2026/11/answer.json", endpoint.bucket)
    );
    let failure = response.failure_location().expect("FailureLocation");
    let (which, object) = wait_any(stack, &[output, failure], WAIT).await;
    assert_eq!(which, 0, "failed: {}", object.text());
    assert_eq!(object.json(), expected_scores(payload));
}

/// A JSON payload of exactly `size` bytes that the model can score.
fn payload_of(size: usize) -> Vec<u8> {
    let frame = r#"{"records":[{"amount":1,"pad":""}]}"#;
    let mut text = String::from(r#"{"records":[{"amount":1,"pad":""#);
    text.push_str(&"x".repeat(size - frame.len()));
    text.push_str(r#""}]}"#);
    assert_eq!(text.len(), size);
    text.into_bytes()
}

#[tokio::test]
async fn the_inline_limit_is_128000_bytes_and_a_rejected_body_leaves_nothing() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let client = stack.runtime_client();
    let at_limit = client
        .invoke_endpoint_async()
        .endpoint_name(&endpoint.name)
        .content_type("application/json")
        .inference_id("at-limit")
        .body(Blob::new(payload_of(128_000)))
        .send()
        .await
        .expect("128,000 bytes are accepted");
    let over_id = unique("over-limit");
    let message = validation_error(
        client
            .invoke_endpoint_async()
            .endpoint_name(&endpoint.name)
            .content_type("application/json")
            .inference_id(&over_id)
            .body(Blob::new(payload_of(128_001))),
    )
    .await;
    assert!(message.contains("128000"), "{message}");
    let output = at_limit.output_location().expect("OutputLocation");
    let failure = at_limit.failure_location().expect("FailureLocation");
    let (which, object) = wait_any(stack, &[output, failure], WAIT).await;
    assert_eq!(which, 0, "failed: {}", object.text());
    // The accepted request is done; give a queued one (there must be none) time to land too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let keys = keys(stack, &endpoint.bucket).await;
    assert!(keys.iter().all(|k| !k.contains(&over_id)), "{keys:?}");
    assert_eq!(keys, vec!["output/at-limit.out".to_string()]);
}

#[tokio::test]
async fn both_neither_and_unknown_endpoint_are_validation_errors() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let client = stack.runtime_client();
    let input = endpoint.upload_input(stack, "both.json", b"{}").await;
    let both = validation_error(
        client
            .invoke_endpoint_async()
            .endpoint_name(&endpoint.name)
            .input_location(&input)
            .body(Blob::new(b"{}".to_vec())),
    )
    .await;
    assert!(both.contains("mutually exclusive"), "{both}");
    let neither =
        validation_error(client.invoke_endpoint_async().endpoint_name(&endpoint.name)).await;
    assert!(
        neither.contains("Either Body or InputLocation"),
        "{neither}"
    );
    let unknown = validation_error(
        client
            .invoke_endpoint_async()
            .endpoint_name("no-such-endpoint")
            .body(Blob::new(b"{}".to_vec())),
    )
    .await;
    assert!(unknown.contains("no-such-endpoint"), "{unknown}");
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        keys(stack, &endpoint.bucket).await,
        vec!["input/both.json".to_string()]
    );
}

#[tokio::test]
async fn header_ranges_and_endpoint_kind_are_validated() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let client = stack.runtime_client();
    let base = || {
        client
            .invoke_endpoint_async()
            .endpoint_name(&endpoint.name)
            .body(Blob::new(b"{}".to_vec()))
    };
    let ttl = validation_error(base().request_ttl_seconds(59)).await;
    assert!(ttl.contains("requestTTLSeconds"), "{ttl}");
    let timeout = validation_error(base().invocation_timeout_seconds(3601)).await;
    assert!(timeout.contains("invocationTimeoutSeconds"), "{timeout}");
    let attributes = validation_error(base().custom_attributes("a".repeat(1025))).await;
    assert!(attributes.contains("customAttributes"), "{attributes}");

    let realtime = TestEndpoint::create(
        stack,
        EndpointSpec {
            asynchronous: false,
            ..EndpointSpec::default()
        },
    )
    .await;
    let not_async = validation_error(
        client
            .invoke_endpoint_async()
            .endpoint_name(&realtime.name)
            .body(Blob::new(b"{}".to_vec())),
    )
    .await;
    assert!(not_async.contains("AsyncInferenceConfig"), "{not_async}");
}

#[tokio::test]
async fn invoke_endpoint_answers_synchronously_from_the_model() {
    let stack = stack();
    let endpoint = TestEndpoint::create(
        stack,
        EndpointSpec {
            asynchronous: false,
            ..EndpointSpec::default()
        },
    )
    .await;
    let client = stack.runtime_client();
    let payload = br#"{"records":[{"amount":7}]}"#;
    let answer = client
        .invoke_endpoint()
        .endpoint_name(&endpoint.name)
        .content_type("application/json")
        .body(Blob::new(payload.to_vec()))
        .send()
        .await
        .expect("InvokeEndpoint");
    assert_eq!(answer.content_type(), Some("application/json"));
    assert_eq!(answer.invoked_production_variant(), Some("AllTraffic"));
    let body: serde_json::Value =
        serde_json::from_slice(answer.body().expect("a body").as_ref()).expect("JSON answer");
    assert_eq!(body, expected_scores(payload));

    let err = client
        .invoke_endpoint()
        .endpoint_name(&endpoint.name)
        .content_type("application/json")
        .body(Blob::new(br#"{"fail": true}"#.to_vec()))
        .send()
        .await
        .expect_err("the model fails");
    match err.into_service_error() {
        InvokeEndpointError::ModelError(e) => assert_eq!(e.original_status_code(), Some(500)),
        other => panic!("expected ModelError, got {other:?}"),
    }
}
