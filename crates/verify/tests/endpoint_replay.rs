//! `verify --endpoint` where only AWS can show it, replayed with the SDK's StaticReplayClient:
//! an endpoint still `Creating`, and no credentials at all. Both stop before any request is
//! sent to the endpoint, with an error that names the endpoint (or the target) and the fix.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;
use bodyline_stack::Target;
use bodyline_verify::{verify_endpoint, EndpointOptions, VerifyError};

fn sdk(client: &StaticReplayClient, credentials: bool) -> SdkConfig {
    let builder = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .http_client(client.clone());
    if credentials {
        builder
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                "AKIDTEST", "secret", None, None, "replay",
            )))
            .build()
    } else {
        builder.build()
    }
}

fn json(body: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://api.sagemaker.us-east-1.amazonaws.com/")
            .body(SdkBody::empty())
            .expect("a request"),
        http::Response::builder()
            .status(200)
            .header("content-type", "application/x-amz-json-1.1")
            .body(SdkBody::from(body.to_string()))
            .expect("a response"),
    )
}

#[tokio::test]
async fn an_endpoint_still_creating_is_named_with_the_wait() {
    let client = StaticReplayClient::new(vec![json(
        r#"{"EndpointName":"scorer","EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/scorer",
            "EndpointConfigName":"scorer-v2","EndpointStatus":"Creating","CreationTime":1.7e9,"LastModifiedTime":1.7e9}"#,
    )]);
    let options = EndpointOptions::new("scorer", Target::Aws);
    let err = verify_endpoint(&sdk(&client, true), &options)
        .await
        .expect_err("a Creating endpoint cannot be verified");
    assert!(
        matches!(&err, VerifyError::EndpointNotInService { status, .. } if status == "Creating"),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains("endpoint scorer is Creating, not InService"),
        "{text}"
    );
    assert!(
        text.contains("aws sagemaker wait endpoint-in-service"),
        "{text}"
    );
    // Only DescribeEndpoint: nothing was invoked, nothing described beyond it.
    assert_eq!(client.actual_requests().count(), 1);
}

#[tokio::test]
async fn a_failed_endpoint_shows_its_failure_reason() {
    let client = StaticReplayClient::new(vec![json(
        r#"{"EndpointName":"scorer","EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/scorer",
            "EndpointConfigName":"scorer-v2","EndpointStatus":"Failed","FailureReason":"Could not assume role",
            "CreationTime":1.7e9,"LastModifiedTime":1.7e9}"#,
    )]);
    let options = EndpointOptions::new("scorer", Target::Aws);
    let text = verify_endpoint(&sdk(&client, true), &options)
        .await
        .expect_err("a Failed endpoint cannot be verified")
        .to_string();
    assert!(
        text.contains("endpoint scorer is Failed (Could not assume role)")
            && text.contains("fix what the failure reason says"),
        "{text}"
    );
}

#[tokio::test]
async fn no_credentials_are_reported_before_any_call() {
    let client = StaticReplayClient::new(vec![]);
    let options = EndpointOptions::new("scorer", Target::Aws);
    let err = verify_endpoint(&sdk(&client, false), &options)
        .await
        .expect_err("no credentials");
    assert!(matches!(err, VerifyError::NoCredentials { .. }), "{err}");
    assert!(err.to_string().contains("configure a profile"), "{err}");
    assert_eq!(client.actual_requests().count(), 0);
}
