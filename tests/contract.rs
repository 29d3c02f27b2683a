//! The aws target held to AWS's own contract without an account: the whole flow (setup with
//! every option of the template on, verify, teardown) on the local stack, through a recording
//! forwarder, and every request it made checked against the input shape of its operation in
//! botocore's service models (`bodyline_contract`). moto accepts much that AWS refuses; this
//! test does not.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{ensure, Context as _};
use aws_sdk_iam::error::ProvideErrorMetadata as _;
use bodyline_contract::{botocore_data_dir, Contract, Violation};
use bodyline_provision::ApplyOptions;
use bodyline_provision::TeardownOptions;
use bodyline_stack::{local_sdk_config, LocalEnv, Stack};
use bodyline_tests::forwarder::Forwarder;
use bodyline_tests::{shared_venv, start_local, template_toml, unique};
use bodyline_verify::VerifyOptions;

/// The template with every option turned on, and names at (or near) their longest.
fn every_option(name: &str, bucket: &str) -> anyhow::Result<String> {
    let text = template_toml(name)?;
    let replace = |text: String, from: &str, to: &str| -> anyhow::Result<String> {
        ensure!(text.contains(from), "the template no longer has {from:?}");
        Ok(text.replacen(from, to, 1))
    };
    let text = replace(
        text,
        "# model_data_url = \"s3://my-models/scorer/model.tar.gz\"",
        "model_data_url = \"s3://bodyline-contract-models/scorers/2026/model.tar.gz\"",
    )?;
    let text = replace(
        text,
        "# kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/...\"",
        "kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
    )?;
    let text = replace(
        text,
        "# name = \"my-outputs\"",
        &format!("name = \"{bucket}\""),
    )?;
    let text = replace(text, "input = \"auto\"", "input = \"s3\"")?;
    let text = replace(
        text,
        "output_prefix = \"output\"",
        "output_prefix = \"async-inference/outputs\"",
    )?;
    let text = replace(
        text,
        "# [scaling]\n# min_instances = 0\n# max_instances = 2\n# target_backlog_per_instance = 5\n# scale_in_cooldown_seconds = 600\n# scale_out_cooldown_seconds = 300",
        "[scaling]\nmin_instances = 0\nmax_instances = 2\ntarget_backlog_per_instance = 5\nscale_in_cooldown_seconds = 600\nscale_out_cooldown_seconds = 300",
    )?;
    Ok(text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_of_setup_verify_and_teardown_keeps_aws_service_models() -> anyhow::Result<()>
{
    let started = Instant::now();
    let root = tempfile::tempdir()?;
    let local = start_local(root.path()).await?;
    let data = botocore_data_dir(&shared_venv())?;
    let mut contract = Contract::from_botocore(&data)?;

    // The longest stack name (32) and a 63-character bucket name: the limits the rules allow.
    let name = format!("contract-all-options-on-{}", &unique("x")[2..]);
    let bucket = format!("{name}-outputs-{}", "b".repeat(63 - name.len() - 9));
    assert_eq!((name.len(), bucket.len()), (32, 63));
    let text = every_option(&name, &bucket)?;
    let path = root.path().join("bodyline.toml");
    std::fs::write(&path, &text)?;
    let stack = Stack::parse(&text, &path)?;
    ensure!(stack.scaling.is_some() && stack.async_inference.kms_key_id.is_some());

    let (forwarder, recorded) = Forwarder::recording(&local.env().endpoint_url).await?;
    let sdk = local_sdk_config(&LocalEnv {
        endpoint_url: forwarder.url.clone(),
        ..local.env().clone()
    });
    let setup = bodyline_provision::setup(
        &stack,
        &sdk,
        root.path(),
        &ApplyOptions::default(),
        &mut |_| {},
    )
    .await
    .context("setup with every option")?;
    ensure!(setup.report.endpoint_status == "InService");
    let verified = bodyline_verify::verify(&stack, &sdk, &VerifyOptions::default()).await?;
    let teardown_plan = bodyline_provision::plan_teardown(&stack, &sdk, root.path()).await?;
    let torn_down =
        bodyline_provision::execute(&teardown_plan, &sdk, &TeardownOptions::new(root.path())).await;
    let flow_took = started.elapsed();
    local.stop().await;

    let requests = recorded.take();
    let check_started = Instant::now();
    let mut per_operation: BTreeMap<String, usize> = BTreeMap::new();
    let mut violations: Vec<Violation> = Vec::new();
    let mut undecoded = Vec::new();
    for request in &requests {
        match contract.check(request) {
            Ok(Some(checked)) => {
                *per_operation
                    .entry(format!("{}.{}", checked.service, checked.decoded.operation))
                    .or_default() += 1;
                violations.extend(checked.violations);
            }
            Ok(None) => {}
            Err(e) => undecoded.push(format!("{} {}: {e}", request.method(), request.uri())),
        }
    }
    let checked: usize = per_operation.values().sum();
    println!(
        "contract: {} requests recorded, {checked} checked against botocore's models in {} ms, {} operations (flow {:.1}s, whole test {:.1}s)\n{per_operation:#?}\npatterns not checked (look-around): {:?}",
        requests.len(),
        check_started.elapsed().as_millis(),
        per_operation.len(),
        flow_took.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        contract.unchecked_patterns()
    );
    let listed: Vec<String> = violations.iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty() && undecoded.is_empty(),
        "requests that AWS would refuse:\n{}\nrequests the checker could not decode:\n{}",
        listed.join("\n"),
        undecoded.join("\n")
    );
    // Every option's calls were made and checked, so a pass means something.
    for operation in [
        "s3.CreateBucket",
        "s3.PutBucketEncryption",
        "s3.PutBucketLifecycleConfiguration",
        "s3.PutBucketTagging",
        "iam.CreateRole",
        "iam.PutRolePolicy",
        "iam.CreatePolicy",
        "sns.CreateTopic",
        "sagemaker.CreateModel",
        "sagemaker.CreateEndpointConfig",
        "sagemaker.CreateEndpoint",
        "application-autoscaling.RegisterScalableTarget",
        "application-autoscaling.PutScalingPolicy",
        "cloudwatch.PutMetricAlarm",
        "sts.GetCallerIdentity",
        "sagemaker.DeleteEndpoint",
        "s3.DeleteBucket",
        "iam.DeleteRole",
    ] {
        assert!(
            per_operation.contains_key(operation),
            "{operation} was not among the checked requests: {per_operation:#?}"
        );
    }
    ensure!(
        verified.passed(),
        "verify failed:\n{}",
        verified.render_table()
    );
    ensure!(
        torn_down.is_clean(),
        "teardown left something:\n{}",
        torn_down.render_text()
    );
    Ok(())
}

/// The checker on values bodyline must never send: a 64-character endpoint config name (moto
/// takes it) and an invoker-sized managed policy one character over IAM's 6,144. Both are
/// caught and named; the same mistakes in `bodyline.toml` are refused before any call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_checker_names_what_aws_would_refuse_and_the_stack_file_refuses_it_first(
) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let local = start_local(root.path()).await?;
    let mut contract = Contract::from_botocore(&botocore_data_dir(&shared_venv())?)?;
    let (forwarder, recorded) = Forwarder::recording(&local.env().endpoint_url).await?;
    let sdk = local_sdk_config(&LocalEnv {
        endpoint_url: forwarder.url.clone(),
        ..local.env().clone()
    });

    let config_name = "c".repeat(64);
    let variant = aws_sdk_sagemaker::types::ProductionVariant::builder()
        .variant_name("AllTraffic")
        .model_name("m")
        .instance_type(aws_sdk_sagemaker::types::ProductionVariantInstanceType::MlM5Large)
        .initial_instance_count(1)
        .build();
    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
    let moto_says = sagemaker
        .create_endpoint_config()
        .endpoint_config_name(&config_name)
        .production_variants(variant)
        .send()
        .await
        .map(|_| "accepted".to_string())
        .unwrap_or_else(|e| format!("refused: {}", e.message().unwrap_or_default()));

    let statement = |i: usize| {
        format!(
            r#"{{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/output-{i:04}/*"}}"#
        )
    };
    let mut statements: Vec<String> = (0..200).map(statement).collect();
    let document = |statements: &[String]| {
        format!(
            r#"{{"Version":"2012-10-17","Statement":[{}]}}"#,
            statements.join(",")
        )
    };
    while bodyline_contract::policy_size(&document(&statements)) > 6_145 {
        statements.pop();
    }
    // Pad the first bucket name by exactly what is missing.
    let short = document(&statements);
    let missing = 6_145 - bodyline_contract::policy_size(&short);
    let policy = short.replacen(":::b/", &format!(":::b{}/", "b".repeat(missing)), 1);
    assert_eq!(bodyline_contract::policy_size(&policy), 6_145);
    let iam = aws_sdk_iam::Client::new(&sdk);
    let _ = iam
        .create_policy()
        .policy_name(unique("too-big"))
        .policy_document(&policy)
        .send()
        .await;
    local.stop().await;

    let found: Vec<Violation> = recorded
        .take()
        .iter()
        .filter_map(|r| contract.check(r).ok().flatten())
        .flat_map(|checked| checked.violations)
        .collect();
    let shown: Vec<String> = found.iter().map(ToString::to_string).collect();
    println!(
        "moto on the 64-character name: {moto_says}\n{}",
        shown.join("\n")
    );
    let endpoint_config = found
        .iter()
        .find(|v| v.operation == "CreateEndpointConfig" && v.member == "EndpointConfigName")
        .with_context(|| format!("the 64-character name was not caught: {shown:#?}"))?;
    assert_eq!(endpoint_config.value, format!("{config_name:?}"));
    assert!(
        endpoint_config.rule.contains("<= 63") || endpoint_config.rule.contains("..=63"),
        "{endpoint_config}"
    );
    let too_big = found
        .iter()
        .find(|v| v.operation == "CreatePolicy" && v.member == "PolicyDocument")
        .with_context(|| format!("the 6,145-character policy was not caught: {shown:#?}"))?;
    assert!(
        too_big.rule.contains("6144") && too_big.rule.contains("6145"),
        "{too_big}"
    );

    // The stack file cannot ask for either: names are bounded so every derived name and
    // policy fits, and the refusal comes from parsing, before any call.
    let path = root.path().join("bodyline.toml");
    let too_long = template_toml(&"s".repeat(33))?;
    let err = Stack::parse(&too_long, &path).expect_err("a 33-character stack name is refused");
    assert!(err.to_string().contains("stack.name"), "{err}");
    let long_prefix = template_toml("prefix-check")?.replacen(
        "output_prefix = \"output\"",
        &format!("output_prefix = \"{}\"", "o".repeat(2_000)),
        1,
    );
    let err = Stack::parse(&long_prefix, &path).expect_err("a 2,000-character prefix is refused");
    assert!(err.to_string().contains("bucket.output_prefix"), "{err}");
    Ok(())
}
