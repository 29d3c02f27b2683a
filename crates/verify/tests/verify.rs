//! setup → verify → teardown on the local stack, and verify failing for the right reasons
//! when the invoker policy is widened and the bucket loses its public access block.

// The test helpers provision's tests share (one copy for both crates).
#[path = "../../provision/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use bodyline_provision::ApplyOptions;
use bodyline_provision::{execute, plan_teardown, TeardownOptions};
use bodyline_stack::{Arns, Names, State};
use bodyline_verify::{verify, VerifyOptions, VerifyReport};

fn check<'r>(report: &'r VerifyReport, name: &str) -> &'r bodyline_verify::CheckResult {
    report
        .checks
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no check {name} in\n{}", report.render_table()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_verify_tamper_teardown_leaves_nothing() {
    let root = support::temp_root();
    let local = support::local(root.path()).await;
    let config = local.sdk_config();
    let stack = support::stack(root.path(), "ve");
    let account = support::account(&config).await;
    let names = Names::new(&stack, &account);

    let apply = ApplyOptions {
        poll_interval: Duration::from_millis(100),
        endpoint_timeout: Duration::from_secs(30),
        ..ApplyOptions::default()
    };
    bodyline_provision::setup(&stack, &config, root.path(), &apply, &mut |_| {})
        .await
        .expect("setup on the local stack");

    let options = VerifyOptions {
        result_timeout: Duration::from_secs(30),
        compare_s3: Some(5),
        ..VerifyOptions::default()
    };
    let report = verify(&stack, &config, &options).await.unwrap();
    let table = report.render_table();
    println!("{table}");
    // The control-plane checks need nothing but setup.
    assert!(check(&report, "endpoint").passed, "{table}");
    assert!(check(&report, "posture").passed, "{table}");
    assert!(report.passed(), "{table}");
    // Polling as the invoker: "not yet" is told apart from "denied"; listing is scoped.
    let privilege = check(&report, "least-privilege");
    assert!(privilege.detail.contains("answers not found"), "{table}");
    assert!(privilege.detail.contains("/input denied"), "{table}");
    let comparison = report.comparison.as_ref().expect("--compare-s3 ran");
    assert_eq!(
        (comparison.inline.submitted, comparison.s3_input.submitted),
        (5, 5),
        "{table}"
    );
    assert_eq!(comparison.inline.s3_puts_per_inference, 0);
    assert_eq!(comparison.s3_input.s3_puts_per_inference, 1);
    assert!(comparison.inline.p50_ms > 0.0);
    assert_eq!(comparison.put_cost_avoided_per_million, 5.0);

    // Tamper: widen the invoker policy by hand and drop the public access block.
    let iam = aws_sdk_iam::Client::new(&config);
    let arns = Arns::new(&stack.region, &account);
    let wide = format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::{}/*"}},{{"Effect":"Allow","Action":"sagemaker:InvokeEndpointAsync","Resource":"{}"}}]}}"#,
        names.bucket,
        arns.endpoint(&names.endpoint)
    );
    iam.create_policy_version()
        .policy_arn(arns.policy(&names.invoker_policy))
        .policy_document(wide)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    support::s3(&config)
        .delete_public_access_block()
        .bucket(&names.bucket)
        .send()
        .await
        .unwrap();
    let only = VerifyOptions {
        only: vec!["least-privilege".into(), "posture".into()],
        compare_s3: None,
        ..options.clone()
    };
    let report = verify(&stack, &config, &only).await.unwrap();
    let table = report.render_table();
    println!("{table}");
    assert!(!report.passed(), "{table}");
    let posture = check(&report, "posture");
    assert!(!posture.passed, "{table}");
    assert!(posture.detail.contains("public access block"), "{table}");
    assert!(posture.detail.contains("s3:PutObject"), "{table}");
    let privilege = check(&report, "least-privilege");
    assert!(!privilege.passed, "{table}");
    assert!(privilege.detail.contains("was ALLOWED"), "{table}");
    // The hand-made policy has no s3:ListBucket: a poll of a missing result is a 403.
    assert!(
        privilege
            .detail
            .contains("cannot tell \"not yet\" from \"denied\""),
        "{table}"
    );

    // Teardown with a backup: the inline outputs verify produced are kept, nothing leaks.
    let plan = plan_teardown(&stack, &config, root.path()).await.unwrap();
    assert!(plan.state_file.is_some());
    let backup = root.path().join("backup");
    let mut options = TeardownOptions::new(root.path());
    options.backup_dir = Some(backup.clone());
    let report = execute(&plan, &config, &options).await;
    assert!(report.is_clean(), "{}", report.render_text());
    assert!(
        report
            .backed_up
            .iter()
            .any(|p| p.starts_with(backup.join(&names.bucket).join("output"))),
        "{:?}",
        report.backed_up
    );
    assert_eq!(State::load(root.path(), &stack.name).unwrap(), None);
    let again = plan_teardown(&stack, &config, root.path()).await.unwrap();
    assert!(again.is_empty(), "{}", again.render_text());
    local.stop().await;
}
