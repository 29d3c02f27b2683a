//! Bounded, resumable waits on the aws target, replayed with the SDK's StaticReplayClient: an
//! endpoint that stays `Creating` or `Updating` past `--wait-timeout`, then the re-run that
//! observes it and continues, and an `UpdateEndpoint` that retires the old config only after.

use std::time::Duration;

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};

use super::{created_endpoint, not_found, options, plan_without_endpoint};
use crate::desired::Desired;
use crate::observe::Observed;
use crate::resources::sagemaker::{observe_endpoint, SageMakerObserved};
use crate::testutil::replay::{json, operations, sdk};
use crate::testutil::{desired, stack, stack_with, up_to_date};
use crate::{apply, plan, Action, ApplyOptions, Kind, Plan, Progress, ProvisionError};
use bodyline_aws::Clients;

/// Polls every 2 ms and gives up after 20 ms: a few polls, then the timeout.
fn short_wait() -> ApplyOptions {
    ApplyOptions {
        poll_interval: Duration::from_millis(2),
        endpoint_timeout: Duration::from_millis(20),
        ..options()
    }
}

/// `DescribeEndpoint` of the stack's endpoint: its status, the config it runs and, during an
/// update, the config it moves to (`PendingDeploymentSummary`).
fn endpoint(d: &Desired, status: &str, config: &str, pending: Option<&str>) -> ReplayEvent {
    let pending = pending
        .map(|p| format!(r#","PendingDeploymentSummary":{{"EndpointConfigName":"{p}"}}"#))
        .unwrap_or_default();
    json(
        200,
        &format!(
            r#"{{"EndpointName":"{}","EndpointArn":"{}","EndpointConfigName":"{config}","EndpointStatus":"{status}","CreationTime":1.7E9,"LastModifiedTime":1.7E9{pending}}}"#,
            d.endpoint.name, d.endpoint.arn
        ),
    )
}

/// `ListTags`: the stack's tags.
fn tags(d: &Desired) -> ReplayEvent {
    let tags: Vec<String> = d
        .tags
        .iter()
        .map(|(k, v)| format!(r#"{{"Key":"{k}","Value":"{v}"}}"#))
        .collect();
    json(200, &format!(r#"{{"Tags":[{}]}}"#, tags.join(",")))
}

/// `DescribeEndpointConfig` of `old`'s config, whose variant runs `old`'s model.
fn config_of(old: &Desired) -> ReplayEvent {
    json(
        200,
        &format!(
            r#"{{"EndpointConfigName":"{}","EndpointConfigArn":"{}","ProductionVariants":[{{"VariantName":"AllTraffic","ModelName":"{}"}}],"CreationTime":1.7E9}}"#,
            old.endpoint_config.name, old.endpoint_config.arn, old.model.name
        ),
    )
}

/// What observe reads of the endpoint and of the config it runs (`old`'s).
fn observed_endpoint(old: &Desired, status: &str, pending: Option<&str>) -> Vec<ReplayEvent> {
    vec![
        endpoint(old, status, &old.endpoint_config.name, pending),
        tags(old),
        config_of(old),
        tags(old),
    ]
}

fn repeat(event: impl Fn() -> ReplayEvent, n: usize) -> Vec<ReplayEvent> {
    (0..n).map(|_| event()).collect()
}

fn waits(seen: &[Progress]) -> Vec<String> {
    seen.iter()
        .filter_map(|p| match p {
            Progress::Waiting { status, .. } => Some(status.clone()),
            _ => None,
        })
        .collect()
}

/// The endpoint config a `DeleteEndpointConfig` request names.
fn deleted_configs(client: &StaticReplayClient) -> Vec<String> {
    client
        .actual_requests()
        .filter(|r| r.headers().get("x-amz-target") == Some("SageMaker.DeleteEndpointConfig"))
        .map(|r| {
            let body = r.body().bytes().unwrap_or_default();
            let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
            v["EndpointConfigName"].as_str().unwrap_or("?").to_string()
        })
        .collect()
}

/// Applies `plan` with the short wait, which must run out while the endpoint is `status`.
async fn runs_out(plan: &Plan, clients: &Clients, endpoint: &str, status: &str) -> ProvisionError {
    let err = apply(plan, clients, &short_wait(), &mut |_| {})
        .await
        .unwrap_err();
    match &err {
        ProvisionError::StillConverging {
            endpoint: e,
            status: st,
            ..
        } => assert_eq!((e.as_str(), st.as_str()), (endpoint, status)),
        other => panic!("expected StillConverging, got {other:?}"),
    }
    err
}

/// What a re-run observes: the stack as `d` wants it, with the endpoint as it is read.
async fn observed_again(d: &Desired, clients: &Clients) -> Observed {
    let mut o = up_to_date(d);
    o.part_mut::<SageMakerObserved>().endpoint = observe_endpoint(d, clients).await.unwrap();
    o
}

#[tokio::test]
async fn creating_past_the_timeout_is_still_converging_and_the_rerun_creates_nothing() {
    let d = desired(&stack("aws"));
    let mut events = vec![not_found("endpoint"), created_endpoint()];
    events.extend(repeat(
        || endpoint(&d, "Creating", &d.endpoint_config.name, None),
        200,
    ));
    let client = StaticReplayClient::new(events);
    let clients = Clients::new(&sdk(&client));
    let err = runs_out(
        &plan_without_endpoint(),
        &clients,
        &d.endpoint.name,
        "Creating",
    )
    .await;
    let text = err.to_string();
    for part in [
        d.endpoint.name.as_str(),
        "is still Creating after waiting 0 s",
        "the stack is still converging",
        "Run the same `bodyline setup` command again to continue",
        "creates nothing twice",
    ] {
        assert!(text.contains(part), "{part:?} not in {text}");
    }
    let ops = operations(&client);
    assert_eq!(ops[..2], ["DescribeEndpoint", "CreateEndpoint"]);
    assert!(ops.len() >= 4, "a few polls before the timeout: {ops:?}");
    assert!(ops[2..].iter().all(|o| o == "DescribeEndpoint"), "{ops:?}");

    // The re-run observes the endpoint InService: nothing to create, no call beyond observe's.
    let s = stack("aws");
    let client = StaticReplayClient::new(vec![
        endpoint(&d, "InService", &d.endpoint_config.name, None),
        tags(&d),
    ]);
    let clients = Clients::new(&sdk(&client));
    let o = observed_again(&d, &clients).await;
    let rerun = plan(desired(&s), &o).unwrap();
    assert_eq!(rerun.pending().count(), 0);
    let report = apply(&rerun, &clients, &short_wait(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(report.endpoint_status, "InService");
    assert_eq!(operations(&client), vec!["DescribeEndpoint", "ListTags"]);
    assert_eq!(report.calls.mutating, 0);
}

#[tokio::test]
async fn a_rerun_that_finds_the_endpoint_still_creating_waits_without_creating_it_again() {
    let s = stack("aws");
    let d = desired(&s);
    let client = StaticReplayClient::new(vec![
        endpoint(&d, "Creating", &d.endpoint_config.name, None),
        tags(&d),
        endpoint(&d, "Creating", &d.endpoint_config.name, None),
        endpoint(&d, "Creating", &d.endpoint_config.name, None),
        endpoint(&d, "InService", &d.endpoint_config.name, None),
    ]);
    let clients = Clients::new(&sdk(&client));
    let o = observed_again(&d, &clients).await;
    let rerun = plan(desired(&s), &o).unwrap();
    let mut seen = Vec::new();
    let report = apply(&rerun, &clients, &options(), &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(report.endpoint_status, "InService");
    assert_eq!(waits(&seen), vec!["Creating", "Creating"]);
    assert_eq!(
        operations(&client),
        vec![
            "DescribeEndpoint",
            "ListTags",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint"
        ]
    );
    assert_eq!((report.calls.mutating, report.applied.len()), (0, 0));
}

/// The stack before and after a change of its endpoint config only (same model).
fn config_change() -> (Desired, bodyline_stack::Stack, Desired) {
    let old = desired(&stack("aws"));
    let s = stack_with("aws", "max_concurrent_invocations_per_instance = 8");
    let new = desired(&s);
    assert_ne!(old.endpoint_config.name, new.endpoint_config.name);
    assert_eq!(old.model.name, new.model.name);
    (old, s, new)
}

/// What observe reads after the change, before setup: the old config serving, the new one not
/// created yet.
async fn observe_change(
    old: &Desired,
    new: &Desired,
    clients: &Clients,
    pending: Option<&str>,
    status: &str,
) -> Observed {
    let mut observed = observed_again(new, clients).await;
    let o = observed.part_mut::<SageMakerObserved>();
    o.endpoint_config = pending.map(|_| crate::owned::ownership::Tagged {
        name: new.endpoint_config.name.clone(),
        arn: new.endpoint_config.arn.clone(),
        tags: new.tags.clone(),
    });
    let e = o.endpoint.as_ref().unwrap();
    assert_eq!(
        (e.status.as_str(), e.config_name.as_str()),
        (status, old.endpoint_config.name.as_str())
    );
    assert_eq!(e.pending_config.as_deref(), pending);
    observed
}

fn update_events(new: &Desired) -> Vec<ReplayEvent> {
    vec![
        not_found("endpoint configuration"),
        json(
            200,
            &format!(r#"{{"EndpointConfigArn":"{}"}}"#, new.endpoint_config.arn),
        ),
        json(200, &format!(r#"{{"EndpointArn":"{}"}}"#, new.endpoint.arn)),
    ]
}

#[tokio::test]
async fn a_config_change_updates_the_endpoint_and_retires_the_old_config_once_in_service() {
    let (old, s, new) = config_change();
    let mut events = observed_endpoint(&old, "InService", None);
    events.extend(update_events(&new));
    let updating = || {
        endpoint(
            &new,
            "Updating",
            &old.endpoint_config.name,
            Some(&new.endpoint_config.name),
        )
    };
    events.extend(repeat(updating, 3));
    events.push(endpoint(&new, "InService", &new.endpoint_config.name, None));
    events.push(json(200, "{}"));
    let client = StaticReplayClient::new(events);
    let clients = Clients::new(&sdk(&client));
    let o = observe_change(&old, &new, &clients, None, "InService").await;
    let p = plan(desired(&s), &o).unwrap();
    assert_eq!(
        p.pending().map(|c| (c.kind, c.action)).collect::<Vec<_>>(),
        vec![
            (Kind::EndpointConfig, Action::Replace),
            (Kind::Endpoint, Action::Update)
        ]
    );
    let mut seen = Vec::new();
    let report = apply(&p, &clients, &options(), &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(waits(&seen), vec!["Updating", "Updating", "Updating"]);
    // The old config is deleted last: after the endpoint is InService with the new one.
    assert_eq!(
        operations(&client),
        vec![
            "DescribeEndpoint",
            "ListTags",
            "DescribeEndpointConfig",
            "ListTags",
            "DescribeEndpointConfig",
            "CreateEndpointConfig",
            "UpdateEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DeleteEndpointConfig"
        ]
    );
    assert_eq!(
        deleted_configs(&client),
        vec![old.endpoint_config.name.clone()]
    );
    assert_eq!(
        report.retired,
        vec![(Kind::EndpointConfig, old.endpoint_config.name.clone())]
    );
    assert!(matches!(
        seen.last(),
        Some(Progress::Retiring {
            kind: Kind::EndpointConfig,
            ..
        })
    ));
}

#[tokio::test]
async fn an_update_rolled_back_to_the_old_config_keeps_it() {
    let (old, s, new) = config_change();
    let reason = "The primary container for production variant AllTraffic did not pass the ping health check.";
    let mut events = observed_endpoint(&old, "InService", None);
    events.extend(update_events(&new));
    events.push(endpoint(
        &new,
        "Updating",
        &old.endpoint_config.name,
        Some(&new.endpoint_config.name),
    ));
    events.push(endpoint(
        &new,
        "RollingBack",
        &old.endpoint_config.name,
        None,
    ));
    events.push(json(
        200,
        &format!(
            r#"{{"EndpointName":"{}","EndpointArn":"{}","EndpointConfigName":"{}","EndpointStatus":"InService","FailureReason":"{reason}","CreationTime":1.7E9,"LastModifiedTime":1.7E9}}"#,
            new.endpoint.name, new.endpoint.arn, old.endpoint_config.name
        ),
    ));
    let client = StaticReplayClient::new(events);
    let clients = Clients::new(&sdk(&client));
    let o = observe_change(&old, &new, &clients, None, "InService").await;
    let err = apply(
        &plan(desired(&s), &o).unwrap(),
        &clients,
        &options(),
        &mut |_| {},
    )
    .await
    .unwrap_err();
    match &err {
        ProvisionError::UpdateRolledBack {
            running, wanted, ..
        } => assert_eq!(
            (running, wanted),
            (&old.endpoint_config.name, &new.endpoint_config.name)
        ),
        other => panic!("expected UpdateRolledBack, got {other:?}"),
    }
    assert!(err.to_string().contains("ping health check"), "{err}");
    // Every request was replayed and none of them deleted the config the endpoint runs.
    assert_eq!(client.actual_requests().count(), 10);
    assert!(deleted_configs(&client).is_empty());
}

#[tokio::test]
async fn a_timeout_while_updating_keeps_the_old_config_and_the_rerun_retires_it() {
    let (old, s, new) = config_change();
    let updating = || {
        endpoint(
            &new,
            "Updating",
            &old.endpoint_config.name,
            Some(&new.endpoint_config.name),
        )
    };
    let mut events = observed_endpoint(&old, "InService", None);
    events.extend(update_events(&new));
    events.extend(repeat(updating, 200));
    let client = StaticReplayClient::new(events);
    let clients = Clients::new(&sdk(&client));
    let o = observe_change(&old, &new, &clients, None, "InService").await;
    runs_out(
        &plan(desired(&s), &o).unwrap(),
        &clients,
        &new.endpoint.name,
        "Updating",
    )
    .await;
    let ops = operations(&client);
    assert_eq!(
        ops[4..7],
        [
            "DescribeEndpointConfig",
            "CreateEndpointConfig",
            "UpdateEndpoint"
        ]
    );
    assert!(ops[7..].iter().all(|o| o == "DescribeEndpoint"), "{ops:?}");
    assert!(deleted_configs(&client).is_empty());

    // The re-run finds the update under way: it neither creates the config nor updates the
    // endpoint again (AWS refuses an update while Updating); it waits, then retires the old.
    let mut events = observed_endpoint(&old, "Updating", Some(&new.endpoint_config.name));
    events.extend(repeat(updating, 2));
    events.push(endpoint(&new, "InService", &new.endpoint_config.name, None));
    events.push(json(200, "{}"));
    let client = StaticReplayClient::new(events);
    let clients = Clients::new(&sdk(&client));
    let o = observe_change(
        &old,
        &new,
        &clients,
        Some(&new.endpoint_config.name),
        "Updating",
    )
    .await;
    let rerun = plan(desired(&s), &o).unwrap();
    assert_eq!(
        rerun
            .pending()
            .map(|c| (c.kind, c.resource.clone(), c.action))
            .collect::<Vec<_>>(),
        vec![(
            Kind::EndpointConfig,
            old.endpoint_config.name.clone(),
            Action::Delete
        )]
    );
    let mut seen = Vec::new();
    let report = apply(&rerun, &clients, &options(), &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(waits(&seen), vec!["Updating", "Updating"]);
    assert_eq!(
        operations(&client),
        vec![
            "DescribeEndpoint",
            "ListTags",
            "DescribeEndpointConfig",
            "ListTags",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DeleteEndpointConfig"
        ]
    );
    assert_eq!(
        deleted_configs(&client),
        vec![old.endpoint_config.name.clone()]
    );
    assert_eq!(report.endpoint_status, "InService");
    assert_eq!(report.calls.mutating, 1);
}

#[tokio::test]
async fn a_failed_endpoint_deleting_past_the_timeout_is_created_again_by_the_rerun() {
    let s = stack("aws");
    let d = desired(&s);
    let config = d.endpoint_config.name.clone();
    let mut o = up_to_date(&d);
    if let Some(e) = o.part_mut::<SageMakerObserved>().endpoint.as_mut() {
        e.status = "Failed".into();
    }
    let mut events = vec![json(200, "{}")];
    events.extend(repeat(|| endpoint(&d, "Deleting", &config, None), 200));
    let client = StaticReplayClient::new(events);
    let clients = Clients::new(&sdk(&client));
    runs_out(
        &plan(desired(&s), &o).unwrap(),
        &clients,
        &d.endpoint.name,
        "Deleting",
    )
    .await;
    let ops = operations(&client);
    assert_eq!(ops[0], "DeleteEndpoint");
    assert!(ops[1..].iter().all(|o| o == "DescribeEndpoint"), "{ops:?}");

    // The re-run finds it Deleting: no second DeleteEndpoint; it waits, then creates it.
    let gone = json(
        400,
        r#"{"__type":"ValidationException","message":"Could not find endpoint \"demo\"."}"#,
    );
    let client = StaticReplayClient::new(vec![
        endpoint(&d, "Deleting", &config, None),
        tags(&d),
        endpoint(&d, "Deleting", &config, None),
        gone,
        not_found("endpoint"),
        created_endpoint(),
        endpoint(&d, "Creating", &config, None),
        endpoint(&d, "InService", &config, None),
    ]);
    let clients = Clients::new(&sdk(&client));
    let o = observed_again(&d, &clients).await;
    let rerun = plan(desired(&s), &o).unwrap();
    assert_eq!(
        rerun
            .pending()
            .map(|c| (c.kind, c.action))
            .collect::<Vec<_>>(),
        vec![(Kind::Endpoint, Action::Replace)]
    );
    let mut seen = Vec::new();
    let report = apply(&rerun, &clients, &options(), &mut |p| seen.push(p))
        .await
        .unwrap();
    assert_eq!(waits(&seen), vec!["Deleting", "Creating"]);
    assert_eq!(
        operations(&client),
        vec![
            "DescribeEndpoint",
            "ListTags",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint",
            "CreateEndpoint",
            "DescribeEndpoint",
            "DescribeEndpoint"
        ]
    );
    assert_eq!(report.endpoint_status, "InService");
}
