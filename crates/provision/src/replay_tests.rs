//! What moto cannot show, replayed with the SDK's StaticReplayClient: an endpoint that is
//! `Creating` before `InService` or `Failed`, a new role SageMaker cannot assume yet, throttling.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};

use crate::observe::Observed;
use crate::resources::iam::IamObserved;
use crate::resources::sagemaker::SageMakerObserved;
use crate::testutil::replay::{json, operations, sdk, xml};
use crate::testutil::{desired, stack, up_to_date};
use crate::{apply, plan, Action, ApplyOptions, Kind, Plan, Progress, ProvisionError};
use bodyline_aws::Clients;

#[path = "wait_replay_tests.rs"]
mod waits;

fn options() -> ApplyOptions {
    ApplyOptions {
        poll_interval: Duration::from_millis(1),
        endpoint_timeout: Duration::from_secs(30),
        assume_role_attempts: 5,
        assume_role_backoff: Duration::from_millis(20),
    }
}

/// `DescribeEndpoint` of the aws fixture stack's endpoint, running its desired config.
fn describe(status: &str, reason: Option<&str>) -> ReplayEvent {
    let reason = reason
        .map(|r| format!(r#","FailureReason":"{r}""#))
        .unwrap_or_default();
    let config = desired(&stack("aws")).endpoint_config.name;
    json(
        200,
        &format!(
            r#"{{"EndpointName":"demo","EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/demo","EndpointConfigName":"{config}","EndpointStatus":"{status}","CreationTime":1.7E9,"LastModifiedTime":1.7E9{reason}}}"#
        ),
    )
}

/// SageMaker's answer to a describe of `what` (`endpoint`, `model`, `endpoint configuration`)
/// that does not exist: every create first looks, because moto overwrites on a duplicate create
/// (`sagemaker::before_create`), so the replays answer that look too.
fn not_found(what: &str) -> ReplayEvent {
    json(
        400,
        &format!(
            r#"{{"__type":"ValidationException","message":"Could not find {what} \"demo\"."}}"#
        ),
    )
}

fn created_endpoint() -> ReplayEvent {
    json(
        200,
        r#"{"EndpointArn":"arn:aws:sagemaker:us-east-1:123456789012:endpoint/demo"}"#,
    )
}

/// A plan where everything but the endpoint exists (aws target).
fn plan_without_endpoint() -> Plan {
    let s = stack("aws");
    let mut o = up_to_date(&desired(&s));
    o.part_mut::<SageMakerObserved>().endpoint = None;
    plan(desired(&s), &o).unwrap()
}

#[tokio::test]
async fn the_endpoint_goes_from_creating_to_in_service_with_progress() {
    let client = StaticReplayClient::new(vec![
        not_found("endpoint"),
        created_endpoint(),
        describe("Creating", None),
        describe("Creating", None),
        describe("InService", None),
    ]);
    let clients = Clients::new(&sdk(&client));
    let plan = plan_without_endpoint();
    assert_eq!(
        plan.pending()
            .map(|c| (c.kind, c.action))
            .collect::<Vec<_>>(),
        vec![(Kind::Endpoint, Action::Create)]
    );
    let mut seen = Vec::new();
    let report = apply(&plan, &clients, &options(), &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(report.endpoint_status, "InService");
    let waits: Vec<String> = seen
        .iter()
        .filter_map(|p| match p {
            Progress::Waiting { status, .. } => Some(status.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(waits, vec!["Creating", "Creating"]);
    assert_eq!(
        operations(&client),
        vec![
            "DescribeEndpoint",
            "CreateEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint"
        ]
    );
    assert_eq!((report.calls.read, report.calls.mutating), (4, 1));
}

#[tokio::test]
async fn a_failed_endpoint_is_an_error_with_its_failure_reason() {
    let reason = "The primary container for production variant AllTraffic did not pass the ping health check.";
    let client = StaticReplayClient::new(vec![
        not_found("endpoint"),
        created_endpoint(),
        describe("Creating", None),
        describe("Failed", Some(reason)),
    ]);
    let clients = Clients::new(&sdk(&client));
    let err = apply(&plan_without_endpoint(), &clients, &options(), &mut |_| {})
        .await
        .unwrap_err();
    match &err {
        ProvisionError::EndpointFailed {
            endpoint,
            reason: got,
        } => {
            assert_eq!(endpoint, "demo");
            assert_eq!(got, reason);
        }
        other => panic!("expected EndpointFailed, got {other:?}"),
    }
    assert!(
        err.to_string()
            .contains("did not pass the ping health check"),
        "{err}"
    );
}

#[tokio::test]
async fn create_model_is_retried_with_backoff_while_the_new_role_propagates() {
    let s = stack("aws");
    let d = desired(&s);
    let mut o: Observed = up_to_date(&d);
    o.part_mut::<IamObserved>().role = None;
    let sagemaker = o.part_mut::<SageMakerObserved>();
    sagemaker.model = None;
    sagemaker.endpoint_config = None;
    sagemaker.endpoint = None;
    let plan = plan(desired(&s), &o).unwrap();
    let cannot_assume = format!(
        r#"{{"__type":"ValidationException","message":"Could not assume role {}. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role."}}"#,
        d.role.arn
    );
    let client = StaticReplayClient::new(vec![
        xml(&format!(
            r#"<CreateRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><CreateRoleResult><Role><Path>/</Path><RoleName>{0}</RoleName><RoleId>AROAREPLAY</RoleId><Arn>{1}</Arn><CreateDate>2026-11-29T00:00:00Z</CreateDate></Role></CreateRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></CreateRoleResponse>"#,
            d.role.name, d.role.arn
        )),
        xml(
            r#"<PutRolePolicyResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><ResponseMetadata><RequestId>r2</RequestId></ResponseMetadata></PutRolePolicyResponse>"#,
        ),
        not_found("model"),
        json(400, &cannot_assume),
        json(400, &cannot_assume),
        json(200, &format!(r#"{{"ModelArn":"{}"}}"#, d.model.arn)),
        not_found("endpoint configuration"),
        json(
            200,
            &format!(r#"{{"EndpointConfigArn":"{}"}}"#, d.endpoint_config.arn),
        ),
        not_found("endpoint"),
        created_endpoint(),
        describe("InService", None),
    ]);
    let clients = Clients::new(&sdk(&client));
    let mut retries = Vec::new();
    let began = Instant::now();
    let report = apply(&plan, &clients, &options(), &mut |p| {
        if let Progress::Retrying {
            attempt, reason, ..
        } = p
        {
            retries.push((attempt, reason));
        }
    })
    .await
    .unwrap();
    // Backoff 20 ms, then 40 ms.
    assert!(
        began.elapsed() >= Duration::from_millis(60),
        "{:?}",
        began.elapsed()
    );
    assert_eq!(
        retries.iter().map(|(a, _)| *a).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert!(retries[0].1.contains("not assumable yet"));
    assert_eq!(
        operations(&client),
        vec![
            "CreateRole",
            "PutRolePolicy",
            "DescribeModel",
            "CreateModel",
            "CreateModel",
            "CreateModel",
            "DescribeEndpointConfig",
            "CreateEndpointConfig",
            "DescribeEndpoint",
            "CreateEndpoint",
            "DescribeEndpoint"
        ]
    );
    assert_eq!(report.endpoint_status, "InService");
}

#[tokio::test]
async fn create_model_gives_up_after_the_configured_attempts() {
    let s = stack("aws");
    let d = desired(&s);
    let mut o = up_to_date(&d);
    let sagemaker = o.part_mut::<SageMakerObserved>();
    sagemaker.model = None;
    sagemaker.endpoint_config = None;
    sagemaker.endpoint = None;
    let plan = plan(desired(&s), &o).unwrap();
    let cannot_assume = r#"{"__type":"ValidationException","message":"Could not assume role x"}"#;
    let client = StaticReplayClient::new(vec![
        not_found("model"),
        json(400, cannot_assume),
        json(400, cannot_assume),
    ]);
    let clients = Clients::new(&sdk(&client));
    let opts = ApplyOptions {
        assume_role_attempts: 2,
        ..options()
    };
    let err = apply(&plan, &clients, &opts, &mut |_| {})
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("ValidationException"));
    assert!(
        err.to_string().contains("CreateModel")
            && err.to_string().contains("Could not assume role"),
        "{err}"
    );
}

#[tokio::test]
async fn throttling_is_retried_by_the_sdk_and_counted_as_one_call() {
    let client = StaticReplayClient::new(vec![
        not_found("endpoint"),
        json(
            400,
            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#,
        ),
        created_endpoint(),
        describe("InService", None),
    ]);
    let clients = Clients::new(&sdk(&client));
    let report = apply(&plan_without_endpoint(), &clients, &options(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(
        operations(&client),
        vec![
            "DescribeEndpoint",
            "CreateEndpoint",
            "CreateEndpoint",
            "DescribeEndpoint"
        ]
    );
    // Two HTTP attempts, one operation.
    assert_eq!(report.calls.mutating, 1);
    assert_eq!(
        report.calls.mutating_operations,
        vec!["SageMaker.CreateEndpoint".to_string()]
    );
}

#[tokio::test]
async fn an_up_to_date_plan_makes_no_call() {
    let s = stack("aws");
    let plan = plan(desired(&s), &up_to_date(&desired(&s))).unwrap();
    let client = StaticReplayClient::new(vec![]);
    let clients = Clients::new(&sdk(&client));
    let report = apply(&plan, &clients, &options(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(client.actual_requests().count(), 0);
    assert_eq!((report.calls.read, report.calls.mutating), (0, 0));
}

#[tokio::test]
async fn no_credentials_on_the_aws_target_is_reported_before_any_call() {
    let client = StaticReplayClient::new(vec![]);
    let sdk = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .http_client(client.clone())
        .build();
    let clients = Clients::new(&sdk);
    let err = crate::identify(&stack("aws"), &clients).await.unwrap_err();
    assert!(matches!(err, ProvisionError::NoCredentials { .. }), "{err}");
    assert!(err.to_string().contains("--target local"), "{err}");
    assert_eq!(client.actual_requests().count(), 0);
}
