//! Scale to zero end to end on the local stack: setup registers the unit, verify checks it
//! as configured (and fails when the alarm is gone), teardown removes it first, and the leak
//! check covers the target, both policies and the alarm.

// The test helpers provision's tests share (one copy for both crates).
#[path = "../../provision/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use aws_sdk_applicationautoscaling::types::ServiceNamespace;
use bodyline_provision::ApplyOptions;
use bodyline_provision::{execute, plan_teardown, ResourceKind, TeardownOptions};
use bodyline_verify::{verify, VerifyOptions};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_to_zero_is_verified_and_torn_down_with_the_stack() {
    let root = support::temp_root();
    let local = support::local(root.path()).await;
    let config = local.sdk_config();
    let mut stack = support::stack(root.path(), "stz");
    stack.scaling = Some(bodyline_stack::ScalingSpec {
        min_instances: 0,
        max_instances: 2,
        target_backlog_per_instance: 5,
        scale_in_cooldown_seconds: 600,
        scale_out_cooldown_seconds: 300,
    });
    let options = ApplyOptions {
        poll_interval: Duration::from_millis(100),
        ..ApplyOptions::default()
    };
    bodyline_provision::setup(&stack, &config, root.path(), &options, &mut |_| {})
        .await
        .unwrap();

    let only_endpoint = VerifyOptions {
        only: vec!["endpoint".into()],
        ..VerifyOptions::default()
    };
    let report = verify(&stack, &config, &only_endpoint).await.unwrap();
    assert!(report.passed(), "{}", report.render_table());
    assert!(
        report.render_table().contains("woken from zero by alarm"),
        "{}",
        report.render_table()
    );

    // Without its alarm the endpoint could never wake from zero: verify says so.
    let alarm = format!("{}-has-backlog-without-capacity", stack.name);
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    cloudwatch
        .delete_alarms()
        .alarm_names(&alarm)
        .send()
        .await
        .unwrap();
    let report = verify(&stack, &config, &only_endpoint).await.unwrap();
    assert!(!report.passed());
    assert!(
        report.render_table().contains("would never wake from zero"),
        "{}",
        report.render_table()
    );
    bodyline_provision::setup(&stack, &config, root.path(), &options, &mut |_| {})
        .await
        .unwrap();

    let plan = plan_teardown(&stack, &config, root.path()).await.unwrap();
    let kinds: Vec<ResourceKind> = plan.delete.iter().map(|r| r.kind).collect();
    assert_eq!(
        &kinds[..4],
        [
            ResourceKind::Alarm,
            ResourceKind::ScalingPolicy,
            ResourceKind::ScalingPolicy,
            ResourceKind::ScalableTarget
        ],
        "scale to zero goes first: {}",
        plan.render_text()
    );
    let report = execute(&plan, &config, &TeardownOptions::new(root.path())).await;
    assert!(report.is_clean(), "{}", report.render_text());
    let targets = aws_sdk_applicationautoscaling::Client::new(&config)
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .send()
        .await
        .unwrap();
    assert!(targets.scalable_targets().is_empty());
    let alarms = cloudwatch
        .describe_alarms()
        .alarm_names(&alarm)
        .send()
        .await
        .unwrap();
    assert!(alarms.metric_alarms().is_empty());
    let again = plan_teardown(&stack, &config, root.path()).await.unwrap();
    assert!(again.is_empty(), "{}", again.render_text());
    local.stop().await;
}
