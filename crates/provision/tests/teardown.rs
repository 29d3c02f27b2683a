//! Teardown against the local stack: everything tagged goes, in order, with backups; nothing
//! untagged is touched; state or not, a second run finds nothing.

mod support;

use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use bodyline_provision::{
    execute, plan_teardown, DeletionOutcome, FoundBy, ResourceKind, SkipReason, TeardownOptions,
};
use bodyline_stack::{Names, ResourceRecord, State};
use support::Tagged;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_removes_every_owned_resource_backs_up_outputs_and_runs_twice() {
    let root = support::temp_root();
    let local = support::local(root.path()).await;
    let config = local.sdk_config();
    let stack = support::stack(root.path(), "td");
    let account = support::account(&config).await;
    let names = Names::new(&stack, &account);
    let s = stack.name.as_str();

    // What setup makes, plus what a changed config and scale-to-zero leave behind.
    support::create_bucket(&config, s, &names.bucket, Tagged::Yes).await;
    support::put(&config, &names.bucket, "output/a.out", "{\"score\":1}").await;
    support::put(&config, &names.bucket, "failure/b.out", "boom").await;
    support::put(&config, &names.bucket, "other/c", "not an output").await;
    let s3 = support::s3(&config);
    s3.put_bucket_versioning()
        .bucket(&names.bucket)
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await
        .unwrap();
    support::put(&config, &names.bucket, "output/a.out", "{\"score\":2}").await;
    s3.delete_object()
        .bucket(&names.bucket)
        .key("other/c")
        .send()
        .await
        .unwrap();
    s3.create_multipart_upload()
        .bucket(&names.bucket)
        .key("output/big")
        .send()
        .await
        .unwrap();

    let success = support::create_topic(&config, s, &names.success_topic).await;
    support::create_topic(&config, s, &names.error_topic).await;
    let role_arn = support::create_role(&config, s, &names.execution_role, Tagged::Yes).await;
    let iam = aws_sdk_iam::Client::new(&config);
    iam.put_role_policy()
        .role_name(&names.execution_role)
        .policy_name(&names.execution_policy)
        .policy_document(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/output/*"}]}"#)
        .send()
        .await
        .unwrap();
    let doc = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/output/*"}]}"#;
    let policy_arn = support::create_policy(&config, s, &names.invoker_policy, doc).await;
    iam.create_policy_version()
        .policy_arn(&policy_arn)
        .policy_document(doc)
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    // The invoker policy is attached to the execution role and to an application's role
    // that the stack does not own: that role must only lose the attachment.
    let app_role = format!("{s}app");
    support::create_role(&config, s, &app_role, Tagged::No).await;
    iam.attach_role_policy()
        .role_name(&app_role)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();
    iam.attach_role_policy()
        .role_name(&names.execution_role)
        .policy_arn(&policy_arn)
        .send()
        .await
        .unwrap();

    let (old, new) = (names.model("1111111111aa"), names.model("2222222222bb"));
    support::create_model(&config, s, &old, &role_arn, Tagged::Yes).await;
    support::create_model(&config, s, &new, &role_arn, Tagged::Yes).await;
    let (old_cfg, new_cfg) = (
        names.endpoint_config("3333333333cc"),
        names.endpoint_config("4444444444dd"),
    );
    support::create_endpoint_config(&config, s, &names, &old_cfg, &old, Tagged::Yes).await;
    support::create_endpoint_config(&config, s, &names, &new_cfg, &new, Tagged::Yes).await;
    support::create_endpoint(&config, s, &names.endpoint, &new_cfg, Tagged::Yes).await;

    let resource_id = format!("endpoint/{}/variant/{}", names.endpoint, names.variant);
    let aas = aws_sdk_applicationautoscaling::Client::new(&config);
    aas.register_scalable_target()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&resource_id)
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .min_capacity(0)
        .max_capacity(2)
        .send()
        .await
        .unwrap();
    aas.put_scaling_policy()
        .policy_name(format!("{s}-backlog"))
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(&resource_id)
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(
            TargetTrackingScalingPolicyConfiguration::builder()
                .target_value(5.0)
                .predefined_metric_specification(
                    PredefinedMetricSpecification::builder()
                        .predefined_metric_type(MetricType::SageMakerVariantInvocationsPerInstance)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    // A state file that records part of it (setup's cache), so both ways of finding are used.
    let mut state = State {
        stack: s.to_string(),
        account: account.clone(),
        region: stack.region.clone(),
        ..State::default()
    };
    state.resources.insert(
        "bucket".into(),
        ResourceRecord {
            name: names.bucket.clone(),
            arn: None,
        },
    );
    state.resources.insert(
        "success_topic".into(),
        ResourceRecord {
            name: names.success_topic.clone(),
            arn: Some(success),
        },
    );
    state.save(root.path()).unwrap();

    let plan = plan_teardown(&stack, &config, root.path()).await.unwrap();
    let kinds: Vec<ResourceKind> = plan.delete.iter().map(|r| r.kind).collect();
    assert_eq!(
        kinds,
        [
            ResourceKind::ScalingPolicy,
            ResourceKind::ScalableTarget,
            ResourceKind::Endpoint,
            ResourceKind::EndpointConfig,
            ResourceKind::EndpointConfig,
            ResourceKind::Model,
            ResourceKind::Model,
            ResourceKind::Bucket,
            ResourceKind::Topic,
            ResourceKind::Topic,
            ResourceKind::ManagedPolicy,
            ResourceKind::Role,
        ],
        "{}",
        plan.render_text()
    );
    let bucket = plan
        .delete
        .iter()
        .find(|r| r.kind == ResourceKind::Bucket)
        .unwrap();
    assert_eq!(bucket.found_by, FoundBy::State);
    let endpoint = plan
        .delete
        .iter()
        .find(|r| r.kind == ResourceKind::Endpoint)
        .unwrap();
    assert_eq!(endpoint.found_by, FoundBy::Tag);
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);

    let backup = root.path().join("backup");
    let mut options = TeardownOptions::new(root.path());
    options.backup_dir = Some(backup.clone());
    let report = execute(&plan, &config, &options).await;
    assert!(report.is_clean(), "{}", report.render_text());
    assert!(
        report
            .steps
            .iter()
            .all(|s| s.outcome == DeletionOutcome::Deleted),
        "{}",
        report.render_text()
    );
    assert!(report.state_removed);
    assert_eq!(State::load(root.path(), s).unwrap(), None);

    // Every current output and failure object is in the backup; nothing else is.
    let out = std::fs::read_to_string(backup.join(&names.bucket).join("output/a.out")).unwrap();
    assert_eq!(out, "{\"score\":2}");
    assert_eq!(
        std::fs::read_to_string(backup.join(&names.bucket).join("failure/b.out")).unwrap(),
        "boom"
    );
    assert_eq!(report.backed_up.len(), 2, "{:?}", report.backed_up);

    assert!(!support::bucket_exists(&config, &names.bucket).await);
    assert!(!support::endpoint_exists(&config, &names.endpoint).await);
    assert!(!support::role_exists(&config, &names.execution_role).await);
    // The application's role survives and merely lost the attachment.
    assert!(support::role_exists(&config, &app_role).await);
    let attached = iam
        .list_attached_role_policies()
        .role_name(&app_role)
        .send()
        .await
        .unwrap();
    assert!(attached.attached_policies().is_empty());
    let targets = aas
        .describe_scalable_targets()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_ids(&resource_id)
        .send()
        .await
        .unwrap();
    assert!(targets.scalable_targets().is_empty());

    // Idempotent: a second teardown finds nothing and is clean.
    let again = plan_teardown(&stack, &config, root.path()).await.unwrap();
    assert!(again.is_empty(), "{}", again.render_text());
    let report = execute(&again, &config, &options).await;
    assert!(report.is_clean(), "{}", report.render_text());
    assert!(report.steps.is_empty());

    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookalikes_without_the_tag_survive_and_lost_state_is_found_by_tag() {
    let root = support::temp_root();
    let local = support::local(root.path()).await;
    let config = local.sdk_config();
    let stack = support::stack(root.path(), "fo");
    let account = support::account(&config).await;
    let names = Names::new(&stack, &account);
    let s = stack.name.as_str();

    // Someone else's bucket, role and endpoint with exactly the stack's names, no tag.
    support::create_bucket(&config, s, &names.bucket, Tagged::No).await;
    support::put(&config, &names.bucket, "output/keep", "theirs").await;
    let role_arn = support::create_role(&config, s, &names.execution_role, Tagged::No).await;
    let foreign_model = format!("{s}x");
    support::create_model(&config, s, &foreign_model, &role_arn, Tagged::No).await;
    let foreign_cfg = format!("{s}-foreign");
    support::create_endpoint_config(&config, s, &names, &foreign_cfg, &foreign_model, Tagged::No)
        .await;
    support::create_endpoint(&config, s, &names.endpoint, &foreign_cfg, Tagged::No).await;
    // Another stack's resource with one of this stack's names.
    let other_cfg = names.endpoint_config("5555555555ee");
    let other = "someone-else";
    support::create_endpoint_config(
        &config,
        other,
        &names,
        &other_cfg,
        &foreign_model,
        Tagged::Yes,
    )
    .await;
    // And what this stack owns, with no state file at all.
    support::create_topic(&config, s, &names.error_topic).await;
    let cfg = names.endpoint_config("6666666666ff");
    support::create_endpoint_config(&config, s, &names, &cfg, &foreign_model, Tagged::Yes).await;

    let plan = plan_teardown(&stack, &config, root.path()).await.unwrap();
    assert_eq!(plan.state_file, None);
    let owned: Vec<(ResourceKind, &str, FoundBy)> = plan
        .delete
        .iter()
        .map(|r| (r.kind, r.name.as_str(), r.found_by))
        .collect();
    assert_eq!(
        owned,
        [
            (ResourceKind::EndpointConfig, cfg.as_str(), FoundBy::Tag),
            (
                ResourceKind::Topic,
                names.error_topic.as_str(),
                FoundBy::Tag
            ),
        ],
        "{}",
        plan.render_text()
    );
    let skipped: Vec<(ResourceKind, &str, &SkipReason)> = plan
        .skipped
        .iter()
        .map(|r| (r.kind, r.name.as_str(), &r.reason))
        .collect();
    assert_eq!(
        skipped,
        [
            (
                ResourceKind::Endpoint,
                names.endpoint.as_str(),
                &SkipReason::Foreign
            ),
            (
                ResourceKind::EndpointConfig,
                other_cfg.as_str(),
                &SkipReason::OtherStack(other.into())
            ),
            (
                ResourceKind::Bucket,
                names.bucket.as_str(),
                &SkipReason::Foreign
            ),
            (
                ResourceKind::Role,
                names.execution_role.as_str(),
                &SkipReason::Foreign
            ),
        ],
        "{}",
        plan.render_text()
    );

    let report = execute(&plan, &config, &TeardownOptions::new(root.path())).await;
    assert!(report.is_clean(), "{}", report.render_text());
    assert!(support::bucket_exists(&config, &names.bucket).await);
    assert!(support::role_exists(&config, &names.execution_role).await);
    assert!(support::endpoint_exists(&config, &names.endpoint).await);
    let kept = support::s3(&config)
        .get_object()
        .bucket(&names.bucket)
        .key("output/keep")
        .send()
        .await;
    assert!(kept.is_ok());

    let again = plan_teardown(&stack, &config, root.path()).await.unwrap();
    assert!(again.is_empty(), "{}", again.render_text());
    assert_eq!(again.skipped.len(), 4);
    local.stop().await;
}
