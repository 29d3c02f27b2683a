//! Setup against the real local stack (moto behind bodyline's front door, IAM enforced): every
//! posture item is read back through the SDK, not assumed.

// A test file: its helpers may unwrap too (a panic is a failed test, with its message).
#![allow(clippy::unwrap_used)]

use std::path::Path;

use bodyline_local::LocalStack;
use bodyline_provision::{
    decode_policy_document, lint_document, normalize_document, plan_stack, setup, Action,
    ApplyOptions, ProvisionError, SetupReport,
};
use bodyline_stack::{Stack, State, MANAGED_TAG, STACK_TAG};
use serde_json::json;

mod support;

/// A project root with a local stack of its own.
async fn local_stack() -> (tempfile::TempDir, LocalStack) {
    let root = support::temp_root();
    let stack = support::local(root.path()).await;
    (root, stack)
}

fn stack_file(name: &str, extra_async: &str, principals: &[&str]) -> Stack {
    let principals = principals
        .iter()
        .map(|p| format!("{p:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    Stack::parse(
        &format!(
            r#"
[stack]
name = "{name}"
target = "local"

[model]
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/bodyline-model:latest"
environment = {{ LOG_LEVEL = "info" }}
local_command = "bodyline-model"

[async_inference]
notifications = true
{extra_async}

[bucket]
expire_after_days = 9

[invokers]
principals = [{principals}]
"#
        ),
        Path::new("bodyline.toml"),
    )
    .unwrap()
}

fn fast() -> ApplyOptions {
    ApplyOptions {
        poll_interval: std::time::Duration::from_millis(100),
        ..ApplyOptions::default()
    }
}

async fn run_setup(
    stack: &Stack,
    local: &LocalStack,
    root: &Path,
) -> Result<SetupReport, ProvisionError> {
    setup(stack, &local.sdk_config(), root, &fast(), &mut |_| {}).await
}

fn has_tags(tags: &[(String, String)], stack: &str) -> bool {
    tags.contains(&(STACK_TAG.to_string(), stack.to_string()))
        && tags.contains(&(MANAGED_TAG.to_string(), "true".to_string()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_creates_the_stack_with_its_posture_and_a_second_run_mutates_nothing() {
    let (root, local) = local_stack().await;
    let sdk = local.sdk_config();
    let iam = aws_sdk_iam::Client::new(&sdk);
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    let sns = aws_sdk_sns::Client::new(&sdk);

    // The application role the invoker policy is attached to exists before setup.
    iam.create_role()
        .role_name("scoring-app")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": local.admin_arn()}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();

    let stack = stack_file("posture", "", &["scoring-app"]);
    let first = run_setup(&stack, &local, root.path()).await.unwrap();
    let d = &first.plan.desired;
    assert_eq!(first.report.endpoint_status, "InService");
    assert!(first.report.calls.mutating > 0);
    assert!(!first.report.applied.is_empty());

    // Bucket: public access block, encryption, ownership, lifecycle, tags; no policy locally.
    let bucket = &d.bucket.name;
    let pab = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let pab = pab.public_access_block_configuration().unwrap();
    assert_eq!(
        [
            pab.block_public_acls(),
            pab.ignore_public_acls(),
            pab.block_public_policy(),
            pab.restrict_public_buckets()
        ],
        [Some(true); 4]
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let rule = enc.server_side_encryption_configuration().unwrap().rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .clone();
    assert_eq!(rule.sse_algorithm().as_str(), "AES256");
    let own = s3
        .get_bucket_ownership_controls()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    assert_eq!(
        own.ownership_controls().unwrap().rules()[0]
            .object_ownership()
            .as_str(),
        "BucketOwnerEnforced"
    );
    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .unwrap();
    let mut rules: Vec<(String, Option<i32>, Option<i32>)> = lc
        .rules()
        .iter()
        .map(|r| {
            (
                r.filter()
                    .and_then(|f| f.prefix())
                    .unwrap_or_default()
                    .to_string(),
                r.expiration().and_then(|e| e.days()),
                r.abort_incomplete_multipart_upload()
                    .and_then(|a| a.days_after_initiation()),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            (String::new(), None, Some(1)),
            ("failure/".to_string(), Some(9), None),
            // No migration report yet: the input prefix stays, expiring after a day.
            ("input/".to_string(), Some(1), None),
            ("output/".to_string(), Some(9), None),
        ]
    );
    let tags: Vec<(String, String)> = s3
        .get_bucket_tagging()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    assert!(has_tags(&tags, "posture"), "{tags:?}");
    let policy = s3.get_bucket_policy().bucket(bucket).send().await;
    assert!(policy.is_err(), "no bucket policy on the local target");

    // Topics, tagged.
    for topic in [
        &d.topics.as_ref().unwrap().success,
        &d.topics.as_ref().unwrap().error,
    ] {
        let tags: Vec<(String, String)> = sns
            .list_tags_for_resource()
            .resource_arn(&topic.arn)
            .send()
            .await
            .unwrap()
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect();
        assert!(has_tags(&tags, "posture"), "{}: {tags:?}", topic.name);
    }

    // Execution role: tags, trust (sagemaker + the local caller in one statement), inline policy.
    let role = iam
        .get_role()
        .role_name(&d.role.name)
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    let tags: Vec<(String, String)> = role
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    assert!(has_tags(&tags, "posture"), "{tags:?}");
    let trust =
        decode_policy_document("trust", role.assume_role_policy_document().unwrap()).unwrap();
    assert_eq!(
        trust["Statement"][0]["Principal"],
        json!({"Service": "sagemaker.amazonaws.com", "AWS": local.admin_arn()})
    );
    let inline = iam
        .get_role_policy()
        .role_name(&d.role.name)
        .policy_name(&d.role.policy_name)
        .send()
        .await
        .unwrap();
    let inline = decode_policy_document("inline", inline.policy_document()).unwrap();
    assert_eq!(
        normalize_document(&inline),
        normalize_document(&d.role.policy)
    );
    assert_eq!(lint_document(&inline), vec![]);

    // Invoker policy: the rendered document, linted, s3:PutObject on input/* only (no migration
    // report yet, so S3 input stays), attached to the app role.
    let pol = iam
        .get_policy()
        .policy_arn(&d.invoker.arn)
        .send()
        .await
        .unwrap()
        .policy
        .unwrap();
    let version = iam
        .get_policy_version()
        .policy_arn(&d.invoker.arn)
        .version_id(pol.default_version_id().unwrap())
        .send()
        .await
        .unwrap();
    let doc = decode_policy_document(
        "invoker",
        version.policy_version().unwrap().document().unwrap(),
    )
    .unwrap();
    assert_eq!(
        normalize_document(&doc),
        normalize_document(&d.invoker.document)
    );
    assert_eq!(lint_document(&doc), vec![]);
    assert_eq!(
        bodyline_provision::resources_allowing(&doc, "s3:PutObject"),
        [format!("arn:aws:s3:::{}/input/*", d.bucket.name)]
    );
    let tags: Vec<(String, String)> = iam
        .list_policy_tags()
        .policy_arn(&d.invoker.arn)
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    assert!(has_tags(&tags, "posture"), "{tags:?}");
    let attached = iam
        .list_attached_role_policies()
        .role_name("scoring-app")
        .send()
        .await
        .unwrap();
    assert!(attached
        .attached_policies()
        .iter()
        .any(|p| p.policy_arn() == Some(d.invoker.arn.as_str())));

    // Model: the local runtime's command travels in the environment; the role is the stack's.
    let model = sm
        .describe_model()
        .model_name(&d.model.name)
        .send()
        .await
        .unwrap();
    let env = model.primary_container().unwrap().environment().unwrap();
    assert_eq!(
        env.get("BODYLINE_LOCAL_COMMAND").map(String::as_str),
        Some("bodyline-model")
    );
    assert_eq!(env.get("LOG_LEVEL").map(String::as_str), Some("info"));
    assert_eq!(model.execution_role_arn(), Some(d.role.arn.as_str()));

    // Endpoint config: the async config (read from DescribeEndpointConfig; moto's
    // DescribeEndpoint lacks it).
    let cfg = sm
        .describe_endpoint_config()
        .endpoint_config_name(&d.endpoint_config.name)
        .send()
        .await
        .unwrap();
    let aic = cfg.async_inference_config().unwrap();
    let out = aic.output_config().unwrap();
    assert_eq!(
        out.s3_output_path(),
        Some(format!("s3://{bucket}/output").as_str())
    );
    assert_eq!(
        out.s3_failure_path(),
        Some(format!("s3://{bucket}/failure").as_str())
    );
    let note = out.notification_config().unwrap();
    assert_eq!(
        note.success_topic(),
        Some(d.topics.as_ref().unwrap().success.arn.as_str())
    );
    assert_eq!(
        note.error_topic(),
        Some(d.topics.as_ref().unwrap().error.arn.as_str())
    );
    assert_eq!(
        aic.client_config()
            .unwrap()
            .max_concurrent_invocations_per_instance(),
        Some(4)
    );

    // Endpoint: InService, tagged, running the config.
    let ep = sm
        .describe_endpoint()
        .endpoint_name(&d.endpoint.name)
        .send()
        .await
        .unwrap();
    assert_eq!(ep.endpoint_status().unwrap().as_str(), "InService");
    assert_eq!(
        ep.endpoint_config_name(),
        Some(d.endpoint_config.name.as_str())
    );
    let tags: Vec<(String, String)> = sm
        .list_tags()
        .resource_arn(ep.endpoint_arn().unwrap())
        .send()
        .await
        .unwrap()
        .tags()
        .iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(has_tags(&tags, "posture"), "{tags:?}");

    // State was saved.
    let state = State::load(root.path(), "posture").unwrap().unwrap();
    assert_eq!(state.resources["endpoint"].name, d.endpoint.name);

    // Second run: nothing to do, and not one mutating call.
    let second = run_setup(&stack, &local, root.path()).await.unwrap();
    assert!(
        !second.plan.has_changes(),
        "{:#?}",
        second.plan.pending().collect::<Vec<_>>()
    );
    assert_eq!(
        second.report.calls.mutating, 0,
        "{:?}",
        second.report.calls.mutating_operations
    );
    assert!(second.report.calls.read > 0);

    // Lost state changes nothing: the resources are found again by name and tag.
    State::remove(root.path(), "posture").unwrap();
    let planned = plan_stack(&stack, &sdk, root.path()).await.unwrap();
    assert!(!planned.plan.has_changes());

    // A changed async config: a new config, the endpoint moved (deleted and created again on
    // the local target), the old config deleted.
    let changed = stack_file(
        "posture",
        "max_concurrent_invocations_per_instance = 8",
        &["scoring-app"],
    );
    let third = run_setup(&changed, &local, root.path()).await.unwrap();
    let old_config = d.endpoint_config.name.clone();
    let new_config = third.plan.desired.endpoint_config.name.clone();
    assert_ne!(old_config, new_config);
    let actions: Vec<_> = third.plan.pending().map(|c| (c.kind, c.action)).collect();
    assert_eq!(
        actions,
        vec![
            (bodyline_provision::Kind::EndpointConfig, Action::Replace),
            (bodyline_provision::Kind::Endpoint, Action::Update),
        ]
    );
    let ep = sm
        .describe_endpoint()
        .endpoint_name(&d.endpoint.name)
        .send()
        .await
        .unwrap();
    assert_eq!(ep.endpoint_config_name(), Some(new_config.as_str()));
    assert!(sm
        .describe_endpoint_config()
        .endpoint_config_name(&old_config)
        .send()
        .await
        .is_err());
    let fourth = run_setup(&changed, &local, root.path()).await.unwrap();
    assert_eq!(
        fourth.report.calls.mutating, 0,
        "{:?}",
        fourth.report.calls.mutating_operations
    );

    // An interrupted run left a tagged config behind; an untagged look-alike is not ours.
    let variant = |model: &str| {
        aws_sdk_sagemaker::types::ProductionVariant::builder()
            .variant_name("AllTraffic")
            .model_name(model)
            .instance_type(aws_sdk_sagemaker::types::ProductionVariantInstanceType::MlM5Large)
            .initial_instance_count(1)
            .build()
    };
    let tag = |k: &str, v: &str| {
        aws_sdk_sagemaker::types::Tag::builder()
            .key(k)
            .value(v)
            .build()
    };
    sm.create_endpoint_config()
        .endpoint_config_name("posture-00000000aa")
        .production_variants(variant(&d.model.name))
        .tags(tag(STACK_TAG, "posture"))
        .tags(tag(MANAGED_TAG, "true"))
        .send()
        .await
        .unwrap();
    sm.create_endpoint_config()
        .endpoint_config_name("posture-00000000bb")
        .production_variants(variant(&d.model.name))
        .send()
        .await
        .unwrap();
    let fifth = run_setup(&changed, &local, root.path()).await.unwrap();
    let deleted: Vec<_> = fifth
        .plan
        .pending()
        .map(|c| (c.resource.as_str(), c.action))
        .collect();
    assert_eq!(deleted, vec![("posture-00000000aa", Action::Delete)]);
    assert!(sm
        .describe_endpoint_config()
        .endpoint_config_name("posture-00000000aa")
        .send()
        .await
        .is_err());
    assert!(sm
        .describe_endpoint_config()
        .endpoint_config_name("posture-00000000bb")
        .send()
        .await
        .is_ok());
    let sixth = run_setup(&changed, &local, root.path()).await.unwrap();
    assert_eq!(
        sixth.report.calls.mutating, 0,
        "{:?}",
        sixth.report.calls.mutating_operations
    );

    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_same_named_bucket_stops_setup_before_anything_is_created() {
    let (root, local) = local_stack().await;
    let sdk = local.sdk_config();
    let stack = stack_file("clash", "", &[]);
    let account = support::account(&sdk).await;
    let bucket = bodyline_stack::Names::new(&stack, &account).bucket;
    let s3 = aws_sdk_s3::Client::new(&sdk);
    s3.create_bucket().bucket(&bucket).send().await.unwrap();

    let err = run_setup(&stack, &local, root.path()).await.unwrap_err();
    assert!(
        matches!(&err, ProvisionError::Foreign { name, .. } if *name == bucket),
        "{err}"
    );
    assert!(
        err.to_string().contains("not tagged bodyline:stack=clash"),
        "{err}"
    );

    // Nothing was created, and the foreign bucket is untouched.
    let iam = aws_sdk_iam::Client::new(&sdk);
    assert!(iam
        .get_role()
        .role_name("clash-sagemaker-execution")
        .send()
        .await
        .is_err());
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    assert!(sm
        .list_endpoints()
        .send()
        .await
        .unwrap()
        .endpoints()
        .is_empty());
    assert!(sm.list_models().send().await.unwrap().models().is_empty());
    let topics = aws_sdk_sns::Client::new(&sdk)
        .list_topics()
        .send()
        .await
        .unwrap();
    assert!(topics.topics().is_empty());
    assert!(s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .is_err());
    assert!(State::load(root.path(), "clash").unwrap().is_none());
    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_untagged_bucket_of_an_interrupted_setup_is_adopted_only_when_recorded_and_empty() {
    let (root, local) = local_stack().await;
    let sdk = local.sdk_config();
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let account = support::account(&sdk).await;
    let record = |stack: &Stack, bucket: &str| {
        let mut state = State {
            stack: stack.name.clone(),
            account: account.clone(),
            region: stack.region.clone(),
            ..State::default()
        };
        state.creating.insert(
            "bucket".into(),
            bodyline_stack::ResourceRecord {
                name: bucket.to_string(),
                arn: None,
            },
        );
        state.save(root.path()).unwrap();
    };

    // Recorded and empty: what setup leaves when it dies between CreateBucket and
    // PutBucketTagging. The next setup tags it and finishes.
    let stack = stack_file("adopt", "", &[]);
    let bucket = bodyline_stack::Names::new(&stack, &account).bucket;
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    record(&stack, &bucket);
    let planned = plan_stack(&stack, &sdk, root.path()).await.unwrap();
    let adopt = planned
        .plan
        .changes
        .iter()
        .find(|c| c.resource == bucket && c.detail.starts_with("adopt"))
        .expect("the plan says it adopts the bucket");
    assert_eq!(adopt.action, Action::Update);
    run_setup(&stack, &local, root.path()).await.unwrap();
    let tags = s3
        .get_bucket_tagging()
        .bucket(&bucket)
        .send()
        .await
        .unwrap();
    let tags: Vec<(String, String)> = tags
        .tag_set()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect();
    assert!(has_tags(&tags, "adopt"), "{tags:?}");
    let state = State::load(root.path(), "adopt").unwrap().unwrap();
    assert!(state.creating.is_empty(), "{state:?}");

    // Recorded but holding an object: someone's data is in it, so it is not adopted.
    let stack = stack_file("keepout", "", &[]);
    let bucket = bodyline_stack::Names::new(&stack, &account).bucket;
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("data.json")
        .body(b"{}".to_vec().into())
        .send()
        .await
        .unwrap();
    record(&stack, &bucket);
    let err = run_setup(&stack, &local, root.path()).await.unwrap_err();
    assert!(
        matches!(&err, ProvisionError::Foreign { name, .. } if *name == bucket),
        "{err}"
    );
    local.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scale_to_zero_is_registered_as_configured_and_planned_as_one_unit() {
    use aws_sdk_applicationautoscaling::types::ServiceNamespace;
    let (root, local) = local_stack().await;
    let sdk = local.sdk_config();
    let mut stack = stack_file("scaled", "", &[]);
    stack.scaling = Some(bodyline_stack::ScalingSpec {
        min_instances: 0,
        max_instances: 3,
        target_backlog_per_instance: 7,
        scale_in_cooldown_seconds: 400,
        scale_out_cooldown_seconds: 90,
    });
    let planned = plan_stack(&stack, &sdk, root.path()).await.unwrap();
    let unit = planned
        .plan
        .changes
        .iter()
        .find(|c| c.kind == bodyline_provision::Kind::ScaleToZero)
        .expect("the plan shows scale to zero");
    assert_eq!(unit.action, Action::Create);
    assert!(
        unit.detail.starts_with("0..3 instances, target 7 queued"),
        "{}",
        unit.detail
    );

    run_setup(&stack, &local, root.path()).await.unwrap();
    let aas = aws_sdk_applicationautoscaling::Client::new(&sdk);
    let resource = "endpoint/scaled/variant/AllTraffic";
    let targets = scalable_targets(&aas, resource).await;
    let target = &targets[0];
    assert_eq!((target.min_capacity(), target.max_capacity()), (0, 3));
    assert_eq!(
        target.scalable_dimension().as_str(),
        "sagemaker:variant:DesiredInstanceCount"
    );
    let policies = aas
        .describe_scaling_policies()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(resource)
        .send()
        .await
        .unwrap();
    let tracking = policies
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == "scaled-backlog-per-instance")
        .and_then(|p| p.target_tracking_scaling_policy_configuration())
        .expect("target tracking policy");
    assert_eq!(tracking.target_value(), 7.0);
    assert_eq!(tracking.scale_in_cooldown(), Some(400));
    assert_eq!(tracking.scale_out_cooldown(), Some(90));
    assert_eq!(
        tracking
            .customized_metric_specification()
            .and_then(|m| m.metric_name()),
        Some("ApproximateBacklogSizePerInstance")
    );
    let wake = policies
        .scaling_policies()
        .iter()
        .find(|p| p.policy_name() == "scaled-wake-from-zero")
        .expect("step policy");
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&sdk);
    let alarms = wake_alarms(&cloudwatch).await;
    let alarm = &alarms[0];
    assert_eq!(alarm.metric_name(), Some("HasBacklogWithoutCapacity"));
    assert_eq!(alarm.alarm_actions(), [wake.policy_arn().to_string()]);

    // Set up again: nothing changes. A new target value: one update of the unit.
    let again = run_setup(&stack, &local, root.path()).await.unwrap();
    assert_eq!(again.report.calls.mutating, 0, "{:?}", again.report.calls);
    if let Some(s) = stack.scaling.as_mut() {
        s.target_backlog_per_instance = 9;
    }
    let planned = plan_stack(&stack, &sdk, root.path()).await.unwrap();
    let pending: Vec<_> = planned.plan.pending().collect();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].kind, bodyline_provision::Kind::ScaleToZero);
    assert_eq!(pending[0].detail, "target tracking differs");

    // Taken out of the stack file: removed as one unit.
    stack.scaling = None;
    run_setup(&stack, &local, root.path()).await.unwrap();
    assert!(scalable_targets(&aas, resource).await.is_empty());
    assert!(wake_alarms(&cloudwatch).await.is_empty());
    local.stop().await;
}

async fn scalable_targets(
    aas: &aws_sdk_applicationautoscaling::Client,
    resource: &str,
) -> Vec<aws_sdk_applicationautoscaling::types::ScalableTarget> {
    aas.describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Sagemaker)
        .resource_ids(resource)
        .send()
        .await
        .unwrap()
        .scalable_targets()
        .to_vec()
}

async fn wake_alarms(
    cloudwatch: &aws_sdk_cloudwatch::Client,
) -> Vec<aws_sdk_cloudwatch::types::MetricAlarm> {
    cloudwatch
        .describe_alarms()
        .alarm_names("scaled-has-backlog-without-capacity")
        .send()
        .await
        .unwrap()
        .metric_alarms()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_invoker_principal_stops_setup_before_anything_is_created() {
    let (root, local) = local_stack().await;
    let sdk = local.sdk_config();
    let stack = stack_file(
        "badinput",
        "",
        &["arn:aws:iam::123456789012:role/no-such-app"],
    );
    let planned = plan_stack(&stack, &sdk, root.path()).await;
    let err = planned.as_ref().map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("role no-such-app"), "{err}");
    let err = run_setup(&stack, &local, root.path()).await.unwrap_err();
    assert!(
        matches!(err, ProvisionError::MissingPrincipal { .. }),
        "{err}"
    );
    let s3 = aws_sdk_s3::Client::new(&sdk);
    assert!(s3.list_buckets().send().await.unwrap().buckets().is_empty());
    let iam = aws_sdk_iam::Client::new(&sdk);
    assert!(iam
        .get_role()
        .role_name("badinput-sagemaker-execution")
        .send()
        .await
        .is_err());
    local.stop().await;
}

/// The invoker polls the way callers do (`NoSuchKey` means "not yet"). With the invoker policy
/// a result that is not written yet is "not found", as on AWS; with the policy as it was before
/// it could poll (no `s3:ListBucket`) the front door answers 403, as S3 does, and a listing
/// outside the result prefixes is refused (moto alone would allow both).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_invoker_polls_a_result_not_written_yet_as_not_found_and_without_list_bucket_is_denied()
{
    use aws_credential_types::provider::SharedCredentialsProvider;
    use aws_credential_types::Credentials;

    let (root, local) = local_stack().await;
    let sdk = local.sdk_config();
    let iam = aws_sdk_iam::Client::new(&sdk);
    let role = iam
        .create_role()
        .role_name("polling-app")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": local.admin_arn()}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    let role_arn = role.role().unwrap().arn().to_string();
    let stack = stack_file("poll", "", &["polling-app"]);
    let first = run_setup(&stack, &local, root.path()).await.unwrap();
    let d = &first.plan.desired;

    // The invoker: the application role, assumed through the front door.
    let assumed = aws_sdk_sts::Client::new(&sdk)
        .assume_role()
        .role_arn(&role_arn)
        .role_session_name("poll")
        .send()
        .await
        .unwrap();
    let c = assumed.credentials().unwrap();
    let invoker = aws_sdk_s3::Client::new(
        &sdk.to_builder()
            .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_string()),
                None,
                "invoker",
            )))
            .build(),
    );
    let bucket = &d.bucket.name;
    let key = "output/not-written-yet.out";
    let status =
        |raw: Option<&aws_sdk_s3::config::http::HttpResponse>| raw.map(|r| r.status().as_u16());

    let err = invoker
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_err();
    assert!(
        err.as_service_error().is_some_and(|e| e.is_no_such_key()),
        "{}",
        aws_sdk_s3::error::DisplayErrorContext(&err)
    );
    let err = invoker
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(err.raw_response()), Some(404));
    let err = invoker
        .list_objects_v2()
        .bucket(bucket)
        .prefix("input")
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(err.raw_response()), Some(403));

    // The invoker policy as it was before: no s3:ListBucket. The new default version goes
    // through the front door, which forgets what it read of the caller's policies.
    let mut before = d.invoker.document.clone();
    let statements = before["Statement"].as_array_mut().unwrap();
    let count = statements.len();
    statements.retain(|st| st["Action"] != "s3:ListBucket");
    assert_eq!(statements.len(), count - 1);
    iam.create_policy_version()
        .policy_arn(&d.invoker.arn)
        .policy_document(before.to_string())
        .set_as_default(true)
        .send()
        .await
        .unwrap();
    let err = invoker
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_err();
    assert_eq!(status(err.raw_response()), Some(403));
    assert_eq!(
        err.as_service_error().and_then(|e| e.meta().code()),
        Some("AccessDenied")
    );
    local.stop().await;
}

/// Everything of a bucket someone else could care about, as text: tags, settings, objects.
async fn bucket_snapshot(s3: &aws_sdk_s3::Client, bucket: &str) -> String {
    let tags = s3.get_bucket_tagging().bucket(bucket).send().await.ok();
    let block = s3
        .get_public_access_block()
        .bucket(bucket)
        .send()
        .await
        .ok();
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await
        .ok();
    let policy = s3.get_bucket_policy().bucket(bucket).send().await.ok();
    let mut objects = Vec::new();
    let listed = s3.list_objects_v2().bucket(bucket).send().await.unwrap();
    for o in listed.contents() {
        let key = o.key().unwrap_or_default();
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        let bytes = body.body.collect().await.unwrap().into_bytes();
        objects.push((key.to_string(), bytes.to_vec()));
    }
    format!(
        "tags {:?}\nblock {:?}\nlifecycle {:?}\npolicy {:?}\nobjects {objects:?}",
        tags.map(|t| t.tag_set().to_vec()),
        block.map(|b| b.public_access_block_configuration().cloned()),
        lifecycle.map(|l| l.rules().to_vec()),
        policy.map(|p| p.policy().map(str::to_string)),
    )
}

/// A role's tags, trust, inline policies and attachments, as text.
async fn role_snapshot(iam: &aws_sdk_iam::Client, role: &str) -> String {
    let got = iam.get_role().role_name(role).send().await.unwrap();
    let r = got.role().unwrap();
    let inline = iam
        .list_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    let mut docs = Vec::new();
    for name in inline.policy_names() {
        let doc = iam
            .get_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .unwrap();
        docs.push((name.clone(), doc.policy_document().to_string()));
    }
    let attached = iam
        .list_attached_role_policies()
        .role_name(role)
        .send()
        .await
        .unwrap();
    format!(
        "tags {:?}\ntrust {:?}\ninline {docs:?}\nattached {:?}",
        r.tags(),
        r.assume_role_policy_document(),
        attached.attached_policies()
    )
}

/// A model's role, container and tags, as text.
async fn model_snapshot(sm: &aws_sdk_sagemaker::Client, model: &str) -> String {
    let m = sm.describe_model().model_name(model).send().await.unwrap();
    let arn = m.model_arn().unwrap_or_default().to_string();
    let tags = sm.list_tags().resource_arn(&arn).send().await.unwrap();
    format!(
        "role {:?}\nimage {:?}\ntags {:?}",
        m.execution_role_arn(),
        m.primary_container().and_then(|c| c.image()),
        tags.tags()
    )
}

fn foreign_tag() -> (&'static str, &'static str) {
    ("owner", "someone-else")
}

/// A look-alike made by someone else between setup's observe and its create (here: between
/// plan and apply) stops apply with the "exists but is not ours" error before any call
/// touches it, and the error lists what this run did create. The bucket and the role are
/// found by the create itself (us-east-1's 200 and EntityAlreadyExists); the model by the
/// check before CreateModel (moto would silently overwrite it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_look_alike_made_after_observe_stops_apply_before_it_is_touched() {
    let (root, local) = local_stack().await;
    let sdk = local.sdk_config();
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    let (key, value) = foreign_tag();

    // The bucket: tagged by someone else and holding their object.
    let stack = stack_file("race-bucket", "", &[]);
    let planned = plan_stack(&stack, &sdk, root.path()).await.unwrap();
    let bucket = planned.plan.desired.bucket.name.clone();
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    let tag = aws_sdk_s3::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .unwrap();
    s3.put_bucket_tagging()
        .bucket(&bucket)
        .tagging(
            aws_sdk_s3::types::Tagging::builder()
                .tag_set(tag)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket(&bucket)
        .key("output/precious.txt")
        .body(b"theirs".to_vec().into())
        .send()
        .await
        .unwrap();
    let before = bucket_snapshot(&s3, &bucket).await;
    let err = bodyline_provision::apply(&planned.plan, &planned.clients, &fast(), &mut |_| {})
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, ProvisionError::TakenDuringSetup { name, created, .. }
            if *name == bucket && created.is_empty()),
        "{text}"
    );
    assert!(
        text.contains("exists but is not tagged bodyline:stack=race-bucket")
            && text.contains("owner=someone-else")
            && text.contains("this run created nothing"),
        "{text}"
    );
    assert_eq!(bucket_snapshot(&s3, &bucket).await, before);

    // The role: someone else's, with their inline policy.
    let stack = stack_file("race-role", "", &[]);
    let planned = plan_stack(&stack, &sdk, root.path()).await.unwrap();
    let role = planned.plan.desired.role.name.clone();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name(&role)
        .assume_role_policy_document(trust.to_string())
        .tags(
            aws_sdk_iam::types::Tag::builder()
                .key(key)
                .value(value)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let theirs = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Action": "s3:ListAllMyBuckets", "Resource": "*"}]});
    iam.put_role_policy()
        .role_name(&role)
        .policy_name("theirs")
        .policy_document(theirs.to_string())
        .send()
        .await
        .unwrap();
    let before = role_snapshot(&iam, &role).await;
    let err = bodyline_provision::apply(&planned.plan, &planned.clients, &fast(), &mut |_| {})
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(&err, ProvisionError::TakenDuringSetup { name, created, .. }
            if *name == role && created.iter().any(|c| c.contains(&planned.plan.desired.bucket.name))),
        "{text}"
    );
    assert_eq!(role_snapshot(&iam, &role).await, before);

    // The model: moto overwrites a duplicate CreateModel, so it must be caught before.
    let stack = stack_file("race-model", "", &[]);
    let planned = plan_stack(&stack, &sdk, root.path()).await.unwrap();
    let model = planned.plan.desired.model.name.clone();
    sm.create_model()
        .model_name(&model)
        .execution_role_arn(format!(
            "arn:aws:iam::{}:role/theirs",
            support::account(&sdk).await
        ))
        .primary_container(
            aws_sdk_sagemaker::types::ContainerDefinition::builder()
                .image("theirs:1")
                .build(),
        )
        .tags(
            aws_sdk_sagemaker::types::Tag::builder()
                .key(key)
                .value(value)
                .build(),
        )
        .send()
        .await
        .unwrap();
    let before = model_snapshot(&sm, &model).await;
    let err = bodyline_provision::apply(&planned.plan, &planned.clients, &fast(), &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProvisionError::TakenDuringSetup { name, .. } if *name == model),
        "{err}"
    );
    assert_eq!(model_snapshot(&sm, &model).await, before);
    local.stop().await;
}

/// A second setup of a stack from the same root while the first holds its lock is refused
/// before any call, naming the holder; once the lock is free, setup runs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_setup_of_a_stack_from_the_same_root_is_refused_while_the_first_runs() {
    let (root, local) = local_stack().await;
    let stack = stack_file("locked", "", &[]);
    let held = bodyline_stack::StackLock::acquire(root.path(), "locked", "setup").unwrap();
    let err = run_setup(&stack, &local, root.path()).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("stack locked is being changed by another run")
            && text.contains(&format!("pid {}", std::process::id())),
        "{text}"
    );
    assert!(State::load(root.path(), "locked").unwrap().is_none());
    drop(held);
    let report = run_setup(&stack, &local, root.path()).await.unwrap();
    assert!(!report.report.applied.is_empty());
    local.stop().await;
}
