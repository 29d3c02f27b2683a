//! The replay tests' shared pieces: an `SdkConfig` on a `StaticReplayClient`, canned answers,
//! and the list of operations a client sent (what the replay tests assert exactly).

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use aws_smithy_types::body::SdkBody;

/// A configuration whose every request goes to `client`.
pub(crate) fn sdk(client: &StaticReplayClient) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "AKIDTEST", "secret", None, None, "replay",
        )))
        .http_client(client.clone())
        // The SDK's standard retry, with a short first backoff so the tests stay fast.
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(3)
                .with_initial_backoff(Duration::from_millis(5)),
        )
        .build()
}

/// An answer with `status`, `content_type` and `body` (the request side is not compared).
pub(crate) fn event(status: u16, content_type: &str, body: &str) -> ReplayEvent {
    ReplayEvent::new(
        http::Request::builder()
            .uri("https://replay.invalid/")
            .body(SdkBody::empty())
            .expect("a request"),
        http::Response::builder()
            .status(status)
            .header("content-type", content_type)
            .body(SdkBody::from(body.to_string()))
            .expect("a response"),
    )
}

/// A JSON-protocol answer (SageMaker, Application Auto Scaling).
pub(crate) fn json(status: u16, body: &str) -> ReplayEvent {
    event(status, "application/x-amz-json-1.1", body)
}

/// A 200 query-protocol answer (IAM, STS, SNS, CloudWatch).
pub(crate) fn xml(body: &str) -> ReplayEvent {
    event(200, "text/xml", body)
}

/// Each request's operation: the `X-Amz-Target` (SageMaker's without its prefix), the query
/// protocol's `Action`, or S3's, read from the method and sub-resource.
pub(crate) fn operations(client: &StaticReplayClient) -> Vec<String> {
    client
        .actual_requests()
        .map(|r| {
            if let Some(target) = r.headers().get("x-amz-target") {
                return target.trim_start_matches("SageMaker.").to_string();
            }
            let body =
                std::str::from_utf8(r.body().bytes().unwrap_or_default()).unwrap_or_default();
            if let Some(action) = body.split('&').find_map(|kv| kv.strip_prefix("Action=")) {
                return action.to_string();
            }
            let query = r.uri().split_once('?').map(|(_, q)| q).unwrap_or_default();
            match (r.method(), query) {
                ("DELETE", _) => "DeleteBucket".to_string(),
                ("GET", q) if q.starts_with("versions") => "ListObjectVersions".to_string(),
                ("GET", q) if q.starts_with("uploads") => "ListMultipartUploads".to_string(),
                (m, q) => format!("S3 {m} ?{q}"),
            }
        })
        .collect()
}

/// Empty answers, in discovery order, to the listings that follow scaling's: the alarms, the
/// buckets, the topics, and IAM's roles, policies and users ([`AFTER_SCALING`] names them).
pub(crate) fn nothing_after_scaling() -> Vec<ReplayEvent> {
    let iam = |op: &str, list: &str| {
        xml(&format!(
            r#"<{op}Response xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><{op}Result><{list}/><IsTruncated>false</IsTruncated></{op}Result></{op}Response>"#
        ))
    };
    vec![
        xml(
            r#"<DescribeAlarmsResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><DescribeAlarmsResult><MetricAlarms/></DescribeAlarmsResult></DescribeAlarmsResponse>"#,
        ),
        xml(
            r#"<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Buckets/></ListAllMyBucketsResult>"#,
        ),
        xml(
            r#"<ListTopicsResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ListTopicsResult><Topics/></ListTopicsResult></ListTopicsResponse>"#,
        ),
        iam("ListRoles", "Roles"),
        iam("ListPolicies", "Policies"),
        iam("ListUsers", "Users"),
    ]
}

/// The operations [`nothing_after_scaling`] answers, as [`operations`] names them.
pub(crate) const AFTER_SCALING: [&str; 6] = [
    "DescribeAlarms",
    "S3 GET ?x-id=ListBuckets",
    "ListTopics",
    "ListRoles",
    "ListPolicies",
    "ListUsers",
];
