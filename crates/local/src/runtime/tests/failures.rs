//! Requests that end in failure objects: model errors, a dying model, timeouts, expiry and a
//! denied write; with SageMaker's notifications.

use std::time::Duration;

use aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::InvokeEndpointAsyncOutput;
use aws_sdk_sagemakerruntime::primitives::Blob;

use super::util::{one_object, stack, EndpointSpec, Inbox, Object, StackInfo, TestEndpoint};

const WAIT: Duration = Duration::from_secs(30);

async fn submit(
    stack: &StackInfo,
    endpoint: &TestEndpoint,
    payload: &str,
) -> InvokeEndpointAsyncOutput {
    submit_with(stack, endpoint, payload, |r| r).await
}

async fn submit_with(
    stack: &StackInfo,
    endpoint: &TestEndpoint,
    payload: &str,
    adjust: impl FnOnce(
        aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::builders::InvokeEndpointAsyncFluentBuilder,
    ) -> aws_sdk_sagemakerruntime::operation::invoke_endpoint_async::builders::InvokeEndpointAsyncFluentBuilder,
) -> InvokeEndpointAsyncOutput {
    let request = stack
        .runtime_client()
        .invoke_endpoint_async()
        .endpoint_name(&endpoint.name)
        .content_type("application/json")
        .body(Blob::new(payload.as_bytes().to_vec()));
    adjust(request).send().await.expect("accepted")
}

/// Waits for the request's one object; `true` when it is the output.
async fn outcome(
    stack: &StackInfo,
    response: &InvokeEndpointAsyncOutput,
    timeout: Duration,
) -> (bool, Object) {
    let output = response.output_location().expect("OutputLocation");
    let failure = response.failure_location().expect("FailureLocation");
    one_object(stack, output, failure, timeout).await
}

#[tokio::test]
async fn a_model_error_ends_in_a_failure_object_and_an_error_notification() {
    let stack = stack();
    let endpoint = TestEndpoint::create(
        stack,
        EndpointSpec {
            with_topics: true,
            ..EndpointSpec::default()
        },
    )
    .await;
    let inbox = Inbox::start().await;
    for topic in [&endpoint.success_topic, &endpoint.error_topic]
        .into_iter()
        .flatten()
    {
        inbox.subscribe(stack, topic).await;
    }

    let failed = submit(
        stack,
        &endpoint,
        r#"{"records":[{"amount":1},{"fail":true}]}"#,
    )
    .await;
    let (is_output, object) = outcome(stack, &failed, WAIT).await;
    assert!(!is_output);
    let text = object.text();
    assert!(
        text.contains("ModelError") && text.contains("(500)"),
        "{text}"
    );
    assert!(text.contains("record 1 asked the model to fail"), "{text}");
    let id = failed.inference_id().expect("id");
    let note = inbox.wait_for(id, WAIT).await;
    assert_eq!(note["invocationStatus"], "Failed");
    assert_eq!(note["eventSource"], "aws:sagemaker");
    assert_eq!(note["eventName"], "InferenceResult");
    assert_eq!(
        note["requestParameters"]["endpointName"],
        endpoint.name.as_str()
    );
    assert_eq!(
        note["responseParameters"]["failureLocation"],
        failed.failure_location().expect("FailureLocation")
    );
    assert!(
        note["failureReason"]
            .as_str()
            .is_some_and(|r| r.contains("(500)")),
        "{note}"
    );

    let done = submit(stack, &endpoint, r#"{"amount":1}"#).await;
    let (is_output, _) = outcome(stack, &done, WAIT).await;
    assert!(is_output);
    let note = inbox.wait_for(done.inference_id().expect("id"), WAIT).await;
    assert_eq!(note["invocationStatus"], "Completed");
    assert_eq!(
        note["responseParameters"]["outputLocation"],
        done.output_location().expect("out")
    );
    assert_eq!(
        note["responseParameters"]["contentType"],
        "application/json"
    );
}

#[tokio::test]
async fn a_dying_model_ends_in_a_failure_and_is_restarted() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let killed = submit(stack, &endpoint, r#"{"exit": true}"#).await;
    let (is_output, object) = outcome(stack, &killed, WAIT).await;
    assert!(!is_output);
    let text = object.text();
    assert!(text.contains("exited") && text.contains("70"), "{text}");
    let after = submit(stack, &endpoint, r#"{"amount": 2}"#).await;
    let (is_output, object) = outcome(stack, &after, WAIT).await;
    assert!(is_output, "the model was not restarted: {}", object.text());
}

#[tokio::test]
async fn an_invocation_timeout_ends_in_a_failure() {
    let stack = stack();
    let endpoint = TestEndpoint::create(stack, EndpointSpec::default()).await;
    let slow = submit_with(stack, &endpoint, r#"{"sleep_ms": 5000}"#, |r| {
        r.invocation_timeout_seconds(1)
    })
    .await;
    let (is_output, object) = outcome(stack, &slow, WAIT).await;
    assert!(!is_output);
    assert!(
        object.text().contains("InvocationTimeoutSeconds (1 s)"),
        "{}",
        object.text()
    );
}

#[tokio::test]
async fn a_request_that_outlives_its_ttl_in_the_queue_ends_in_a_failure() {
    let stack = stack();
    // One slot: the first request holds it past the second one's TTL (60 s, the minimum).
    let endpoint = TestEndpoint::create(
        stack,
        EndpointSpec {
            max_concurrency: 1,
            ..EndpointSpec::default()
        },
    )
    .await;
    let blocker = submit_with(stack, &endpoint, r#"{"sleep_ms": 63000}"#, |r| {
        r.invocation_timeout_seconds(120)
    })
    .await;
    let queued = submit_with(stack, &endpoint, r#"{"amount": 1}"#, |r| {
        r.request_ttl_seconds(60)
    })
    .await;
    let (is_output, object) = outcome(stack, &queued, Duration::from_secs(90)).await;
    assert!(!is_output);
    assert!(
        object.text().contains("RequestTTLSeconds (60 s)"),
        "{}",
        object.text()
    );
    let (is_output, object) = outcome(stack, &blocker, Duration::from_secs(60)).await;
    assert!(is_output, "{}", object.text());
}

/// The one object a request ends in when the execution role may not write outputs (and, unless
/// `may_write_failure`, not failures either): it must be the failure object.
async fn failure_of_a_role_without_output_grant(may_write_failure: bool) -> (TestEndpoint, String) {
    let stack = stack();
    let endpoint = TestEndpoint::create(
        stack,
        EndpointSpec {
            role_may_write_output: false,
            role_may_write_failure: may_write_failure,
            ..EndpointSpec::default()
        },
    )
    .await;
    let denied = submit(stack, &endpoint, r#"{"amount": 5}"#).await;
    let (is_output, object) = outcome(stack, &denied, WAIT).await;
    assert!(!is_output);
    (endpoint, object.text())
}

#[tokio::test]
async fn a_role_without_put_object_on_the_output_prefix_cannot_write_the_output() {
    let (endpoint, text) = failure_of_a_role_without_output_grant(true).await;
    assert!(
        text.contains(&endpoint.role_arn) && text.contains("AccessDenied"),
        "{text}"
    );
}

#[tokio::test]
async fn a_role_that_cannot_write_its_failure_object_still_ends_in_one_that_names_it() {
    let (endpoint, text) = failure_of_a_role_without_output_grant(false).await;
    // Why the request failed (the output was refused), then why this object exists at all.
    assert!(
        text.starts_with("ClientError: the model answered, but the execution role"),
        "{text}"
    );
    assert!(
        text.contains(&format!(
            "The execution role {} could not write this failure object",
            endpoint.role_arn
        )) && text.contains(&format!(
            "give the role s3:PutObject on s3://{}/failure/*",
            endpoint.bucket
        )),
        "{text}"
    );
}
