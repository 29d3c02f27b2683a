//! Teardown's bounded wait for the endpoint, replayed with the SDK's StaticReplayClient
//! (moto deletes an endpoint at once): `Deleting` past `--wait-timeout` stops before the
//! bucket, and the re-run waits without deleting the endpoint twice, then deletes the bucket.

use std::path::Path;
use std::time::Duration;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use bodyline_stack::{Names, Stack, Target};

use super::{
    delete_in_order, DeletionOutcome, TeardownOptions, TeardownPlan, TeardownProgress,
    TeardownReport,
};
use crate::owned::error::TeardownError;
use crate::owned::resource::{FoundBy, OwnedResource, ResourceKind};
use crate::testutil::replay::{event, operations, sdk};
use bodyline_aws::Clients;

const ACCOUNT: &str = "123456789012";

fn endpoint(name: &str, status: &str) -> ReplayEvent {
    event(
        200,
        "application/x-amz-json-1.1",
        &format!(
            r#"{{"EndpointName":"{name}","EndpointArn":"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}","EndpointConfigName":"{name}-cfg","EndpointStatus":"{status}","CreationTime":1.7E9,"LastModifiedTime":1.7E9}}"#
        ),
    )
}

fn endpoint_gone(name: &str) -> ReplayEvent {
    event(
        400,
        "application/x-amz-json-1.1",
        &format!(
            r#"{{"__type":"ValidationException","message":"Could not find endpoint \"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}\"."}}"#
        ),
    )
}

const S3_NS: &str = "http://s3.amazonaws.com/doc/2006-03-01/";

/// An empty bucket, then its deletion.
fn bucket_deleted(bucket: &str) -> Vec<ReplayEvent> {
    vec![
        event(
            200,
            "application/xml",
            &format!(
                r#"<ListVersionsResult xmlns="{S3_NS}"><Name>{bucket}</Name><IsTruncated>false</IsTruncated></ListVersionsResult>"#
            ),
        ),
        event(
            200,
            "application/xml",
            &format!(
                r#"<ListMultipartUploadsResult xmlns="{S3_NS}"><Bucket>{bucket}</Bucket><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>"#
            ),
        ),
        event(204, "application/xml", ""),
    ]
}

/// A plan with the endpoint and the bucket: the endpoint is deleted first.
fn plan(root: &Path) -> TeardownPlan {
    let stack = Stack::parse(
        &format!(
            "[stack]\nname = \"demo\"\ntarget = \"aws\"\nregion = \"us-east-1\"\n\n[model]\nimage = \"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/scorer:1\"\n"
        ),
        &root.join("bodyline.toml"),
    )
    .expect("a valid stack file");
    let names = Names::new(&stack, ACCOUNT);
    let owned = |kind, name: &str| OwnedResource {
        kind,
        name: name.to_string(),
        arn: None,
        scaling: None,
        found_by: FoundBy::Tag,
    };
    TeardownPlan {
        stack: stack.name.clone(),
        target: Target::Aws,
        account: ACCOUNT.into(),
        region: stack.region.clone(),
        state_file: None,
        delete: vec![
            owned(ResourceKind::Endpoint, &names.endpoint),
            owned(ResourceKind::Bucket, &names.bucket),
        ],
        skipped: Vec::new(),
        backup_prefixes: Vec::new(),
        names,
        state: None,
    }
}

fn report() -> TeardownReport {
    TeardownReport {
        stack: "demo".into(),
        steps: Vec::new(),
        backed_up: Vec::new(),
        leaks: Vec::new(),
        failure: None,
        state_removed: false,
    }
}

fn options(root: &Path, timeout: Duration) -> TeardownOptions {
    TeardownOptions {
        endpoint_timeout: timeout,
        poll_interval: Duration::from_millis(2),
        ..TeardownOptions::new(root)
    }
}

#[tokio::test]
async fn deleting_past_the_timeout_leaves_the_bucket_and_the_rerun_finishes() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let plan = plan(root.path());
    let name = plan.names.endpoint.clone();
    let bucket = plan.names.bucket.clone();

    let mut events = vec![
        endpoint(&name, "InService"),
        event(200, "application/x-amz-json-1.1", "{}"),
    ];
    events.extend((0..200).map(|_| endpoint(&name, "Deleting")));
    let client = StaticReplayClient::new(events);
    let mut seen = Vec::new();
    let mut first = report();
    delete_in_order(
        &Clients::new(&sdk(&client)),
        &plan,
        &options(root.path(), Duration::from_millis(20)),
        &mut |p| seen.push(p),
        &mut first,
    )
    .await;
    match &first.failure {
        Some(TeardownError::EndpointStillPresent {
            endpoint, status, ..
        }) => assert_eq!((endpoint, status.as_str()), (&name, "Deleting")),
        other => panic!("expected EndpointStillPresent, got {other:?}"),
    }
    let text = first
        .failure
        .as_ref()
        .map(ToString::to_string)
        .unwrap_or_default();
    for part in [
        format!("endpoint {name} is still Deleting after waiting"),
        "the stack is still converging".into(),
        "the bucket and the resources after it were left".into(),
        "Run the same teardown command again to continue".into(),
    ] {
        assert!(text.contains(&part), "{part:?} not in {text}");
    }
    assert!(first.steps.is_empty(), "{:?}", first.steps);
    assert!(!seen.is_empty());
    assert!(seen.iter().all(
        |p| matches!(p, TeardownProgress::Waiting { endpoint, status, .. } if *endpoint == name && status == "Deleting")
    ));
    let ops = operations(&client);
    assert_eq!(
        ops[..3],
        ["DescribeEndpoint", "DeleteEndpoint", "DescribeEndpoint"]
    );
    // Nothing but polls after DeleteEndpoint: the bucket was not touched.
    assert!(ops[2..].iter().all(|o| o == "DescribeEndpoint"), "{ops:?}");

    // The re-run finds it Deleting: it waits (no second DeleteEndpoint), then the bucket goes.
    let mut events = vec![
        endpoint(&name, "Deleting"),
        endpoint(&name, "Deleting"),
        endpoint(&name, "Deleting"),
        endpoint_gone(&name),
    ];
    events.extend(bucket_deleted(&bucket));
    let client = StaticReplayClient::new(events);
    let mut again = report();
    delete_in_order(
        &Clients::new(&sdk(&client)),
        &plan,
        &options(root.path(), Duration::from_secs(30)),
        &mut |_| {},
        &mut again,
    )
    .await;
    assert!(again.failure.is_none(), "{:?}", again.failure);
    assert_eq!(
        operations(&client),
        vec![
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "ListObjectVersions",
            "ListMultipartUploads",
            "DeleteBucket"
        ]
    );
    let steps: Vec<(ResourceKind, DeletionOutcome)> =
        again.steps.iter().map(|s| (s.kind, s.outcome)).collect();
    assert_eq!(
        steps,
        vec![
            (ResourceKind::Endpoint, DeletionOutcome::Deleted),
            (ResourceKind::Bucket, DeletionOutcome::Deleted)
        ]
    );
    assert!(
        again.steps[0].detail.contains("already Deleting"),
        "{}",
        again.steps[0].detail
    );
}

#[tokio::test]
async fn an_endpoint_already_gone_is_neither_deleted_nor_waited_for() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let plan = plan(root.path());
    let mut events = vec![endpoint_gone(&plan.names.endpoint)];
    events.extend(bucket_deleted(&plan.names.bucket));
    let client = StaticReplayClient::new(events);
    let mut r = report();
    delete_in_order(
        &Clients::new(&sdk(&client)),
        &plan,
        &options(root.path(), Duration::ZERO),
        &mut |_| {},
        &mut r,
    )
    .await;
    assert!(r.failure.is_none(), "{:?}", r.failure);
    assert_eq!(r.steps[0].outcome, DeletionOutcome::AlreadyGone);
    assert_eq!(
        operations(&client)[..2],
        ["DescribeEndpoint", "ListObjectVersions"]
    );
}

#[allow(non_upper_case_globals)]
impl ResourceKind {
    /// A kind no module registers.
    const Unknown: ResourceKind = ResourceKind::new(5, "unknown", "unknown kind");
}

/// A kind no module registers (a plan made by a newer bodyline, say) stops the teardown before
/// any call, naming it, and nothing after it is deleted.
#[tokio::test]
async fn a_kind_no_module_registers_stops_the_teardown_before_touching_it() {
    let root = tempfile::tempdir().expect("a temporary directory");
    let mut plan = plan(root.path());
    plan.delete.insert(
        0,
        OwnedResource {
            kind: ResourceKind::Unknown,
            name: "demo-thing".into(),
            arn: None,
            scaling: None,
            found_by: FoundBy::Tag,
        },
    );
    let client = StaticReplayClient::new(Vec::new());
    let mut r = report();
    delete_in_order(
        &Clients::new(&sdk(&client)),
        &plan,
        &options(root.path(), Duration::ZERO),
        &mut |_| {},
        &mut r,
    )
    .await;
    assert!(
        matches!(&r.failure, Some(TeardownError::Unregistered { kind: "unknown kind", name }) if name == "demo-thing"),
        "{:?}",
        r.failure
    );
    assert!(r.steps.is_empty(), "{:?}", r.steps);
    assert!(operations(&client).is_empty());
}
