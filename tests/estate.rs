//! `bodyline verify --endpoint` on an estate bodyline did not make: a role, bucket, topics,
//! model, two endpoint configs (one with a failure path and SNS, one with neither) and their
//! endpoints, all created here with the SDK directly, the execution role trusting only
//! `sagemaker.amazonaws.com` as on AWS. Every `bodyline` call goes through the counting
//! forwarder (tests/forwarder.rs): verify makes no mutating control-plane call.

use std::path::Path;

use crate::kill::Forwarder;
use anyhow::{ensure, Context as _};
use aws_config::SdkConfig;
use aws_sdk_sagemaker::types::{
    AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceNotificationConfig,
    AsyncInferenceOutputConfig, ContainerDefinition, ProductionVariant,
    ProductionVariantInstanceType,
};
use bodyline_stack::LocalEnv;
use bodyline_tests::{bodyline, run, start_local, unique};
use serde_json::{json, Value};

/// What the test made, by name.
struct Estate {
    bucket: String,
    with_failure: String,
    bare: String,
    invoker_role: String,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_estate_made_with_the_sdk_passes_verify_endpoint_read_only() -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let local = start_local(root.path()).await?;
    let sdk = local.sdk_config();
    let estate = create_estate(&sdk, &unique("estate")).await?;

    let project = tempfile::tempdir()?;
    let forwarder = Forwarder::start(&local.env().endpoint_url).await?;
    LocalEnv {
        endpoint_url: forwarder.url.clone(),
        ..local.env().clone()
    }
    .write(project.path())?;

    for (endpoint, failure_path) in [(&estate.with_failure, true), (&estate.bare, false)] {
        let report = verify(project.path(), &["--endpoint", endpoint], 0)?;
        let names: Vec<&str> = report["checks"]
            .as_array()
            .context("checks")?
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert_eq!(
            names,
            ["endpoint", "inline-body", "size-limit", "exclusive-input"],
            "{report:#}"
        );
        let findings = report["findings"].to_string();
        assert_eq!(
            findings.contains("no S3FailurePath"),
            !failure_path,
            "{report:#}"
        );
        let description = &report["description"];
        if failure_path {
            assert_eq!(
                description["failure_path"],
                json!(format!("s3://{}/failure/", estate.bucket))
            );
            assert!(description["success_topic"].is_string(), "{report:#}");
            assert_eq!(
                description["max_concurrent_invocations_per_instance"],
                json!(2)
            );
        } else {
            assert!(description["failure_path"].is_null(), "{report:#}");
            assert!(description["error_topic"].is_null(), "{report:#}");
        }
        assert!(
            report["notes"]
                .to_string()
                .contains("trusts no AWS principal"),
            "the moto trust accommodation is not said: {report:#}"
        );
        let inline = &report["checks"][1]["detail"];
        let output_prefix = if failure_path { "output" } else { "plain" };
        assert!(
            inline
                .as_str()
                .is_some_and(|d| d.contains(&format!("s3://{}/{output_prefix}/", estate.bucket))),
            "the output did not land under the endpoint's own output path: {report:#}"
        );
    }
    let mutating = forwarder.take_mutating();
    let control: Vec<&String> = mutating
        .iter()
        .filter(|c| !c.ends_with(".InvokeEndpointAsync"))
        .collect();
    assert!(
        control.is_empty(),
        "verify --endpoint made mutating control-plane calls: {control:?}"
    );
    // Inline request, 128,001 and 128,000 bytes, Body with InputLocation: per endpoint.
    assert_eq!(mutating.len(), 8, "{mutating:?}");
    assert!(
        forwarder.requests() > mutating.len() + 6,
        "the describes went past the forwarder"
    );

    // The least-privilege probe as the callers' role, on the endpoint with a failure path.
    let least_privilege = |code| {
        verify(
            project.path(),
            &[
                "--endpoint",
                &estate.with_failure,
                "--invoker-role",
                &estate.invoker_role,
                "--check",
                "least-privilege",
            ],
            code,
        )
    };

    // The callers' role still may upload; the migration report says nothing needs it.
    std::fs::write(
        project.path().join(".bodyline/migrate-report.json"),
        json!({"version": 1, "written": true, "needed": false,
            "crates": [{"name": "scorer-client", "manifest": "Cargo.toml", "sites": []}]})
        .to_string(),
    )?;
    let report = least_privilege(1)?;
    let detail = report["checks"][0]["detail"].as_str().unwrap_or_default();
    for part in [
        "may still s3:PutObject to s3://",
        "says no call site needs S3 input",
        &format!(
            "the grant: s3:PutObject on arn:aws:s3:::{}/input/*",
            estate.bucket
        ),
        "--- inline policy app of role",
        "-      \"Sid\": \"Upload\"",
        "write probe",
        "invoke as role",
    ] {
        assert!(detail.contains(part), "{part:?} not in:\n{detail}");
    }
    assert!(
        !detail.contains("-      \"Sid\": \"Read\""),
        "the diff removes more than the upload grant:\n{detail}"
    );
    let mutating = forwarder.take_mutating();
    let control: Vec<&String> = mutating
        .iter()
        .filter(|c| {
            !c.ends_with(".InvokeEndpointAsync")
                && !["sts.AssumeRole", "s3.PutObject", "s3.DeleteObject"].contains(&c.as_str())
        })
        .collect();
    assert!(
        control.is_empty(),
        "the probe changed the control plane: {control:?}"
    );
    assert!(
        mutating.iter().any(|c| c == "s3.DeleteObject"),
        "the probe object was not deleted: {mutating:?}"
    );
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let left = s3
        .list_objects_v2()
        .bucket(&estate.bucket)
        .prefix("input")
        .send()
        .await?;
    assert!(left.contents().is_empty(), "probe objects left: {left:?}");

    // Once the migration report still lists a call site, the upload grant is reported, not failed.
    std::fs::write(
        project.path().join(".bodyline/migrate-report.json"),
        json!({"version": 1, "written": true, "needed": true,
            "crates": [{"name": "scorer-client", "manifest": "Cargo.toml",
                "sites": [{"path": "src/big.rs", "line": 7, "column": 5, "why": "over 128,000 bytes"}]}]})
        .to_string(),
    )?;
    let report = least_privilege(0)?;
    assert!(
        report["checks"][0]["detail"]
            .to_string()
            .contains("src/big.rs:7"),
        "{report:#}"
    );

    // Without the Poll statement the callers cannot tell "not yet" from "denied": the probe
    // names the missing s3:ListBucket with the statement to add, and still proves the result
    // readable once written.
    let iam = aws_sdk_iam::Client::new(&sdk);
    let app = estate
        .invoker_role
        .rsplit('/')
        .next()
        .context("role name")?;
    let policy = iam
        .get_role_policy()
        .role_name(app)
        .policy_name("app")
        .send()
        .await?;
    let mut document = bodyline_provision::decode_policy_document(app, policy.policy_document())?;
    document["Statement"]
        .as_array_mut()
        .context("statements")?
        .retain(|s| s["Sid"] != "Poll");
    iam.put_role_policy()
        .role_name(app)
        .policy_name("app")
        .policy_document(document.to_string())
        .send()
        .await?;
    let report = least_privilege(1)?;
    let detail = report["checks"][0]["detail"].as_str().unwrap_or_default();
    for part in [
        "(not written yet) as role",
        "was denied: without s3:ListBucket on arn:aws:s3:::",
        "\"s3:prefix\": [\n",
        "\"output/*\"",
        "\"failure/*\"",
        "once written allowed",
    ] {
        assert!(detail.contains(part), "{part:?} not in:\n{detail}");
    }
    local.stop().await;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_endpoint_names_a_missing_or_synchronous_endpoint_and_the_fix() -> anyhow::Result<()>
{
    let root = tempfile::tempdir()?;
    let local = start_local(root.path()).await?;
    let sdk = local.sdk_config();
    let name = unique("sync");
    let estate = create_estate(&sdk, &name).await?;
    let sm = aws_sdk_sagemaker::Client::new(&sdk);
    sm.create_endpoint_config()
        .endpoint_config_name(&name)
        .production_variants(variant(&format!("{name}-model"))?)
        .send()
        .await?;
    sm.create_endpoint()
        .endpoint_name(&name)
        .endpoint_config_name(&name)
        .send()
        .await?;
    local.env().write(root.path())?;
    let missing = format!("{}-gone", estate.bare);
    for (endpoint, want) in [
        (
            missing.as_str(),
            vec![
                format!("endpoint {missing} does not exist"),
                "check the name".into(),
            ],
        ),
        (
            name.as_str(),
            vec![
                format!("endpoint {name} is not an async endpoint"),
                "no AsyncInferenceConfig".into(),
                "give the endpoint a config with AsyncInferenceConfig".into(),
            ],
        ),
    ] {
        // A job-wide BODYLINE_STACK_NAME is for the stack commands; it does not get in the
        // way of --endpoint (the error is about the endpoint, not a conflict).
        let (out, stdout, stderr) = run(bodyline(root.path())
            .args(["verify", "--endpoint", endpoint])
            .env("BODYLINE_STACK_NAME", "ci-1"));
        assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
        for part in want {
            assert!(stderr.contains(&part), "{part:?} not in: {stderr}");
        }
    }
    // --stack-name on the command line says the user meant a stack: a usage error, before
    // any call.
    let (out, _, stderr) = run(bodyline(root.path()).args([
        "verify",
        "--endpoint",
        &estate.bare,
        "--stack-name",
        "ci-1",
    ]));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("'--endpoint <NAME>' cannot be used with '--stack-name <NAME>'"),
        "{stderr}"
    );
    // No local stack at all: the missing connection is named with the fix.
    let elsewhere = tempfile::tempdir()?;
    let (out, _, stderr) =
        run(bodyline(elsewhere.path()).args(["verify", "--endpoint", &estate.bare]));
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("bodyline local up"), "{stderr}");
    local.stop().await;
    Ok(())
}

/// Runs `bodyline verify <args> --format json` in `dir`; the exit code must be `code`.
fn verify(dir: &Path, args: &[&str], code: i32) -> anyhow::Result<Value> {
    let (out, stdout, stderr) = run(bodyline(dir)
        .arg("verify")
        .args(args)
        .args(["--format", "json"]));
    ensure!(
        out.status.code() == Some(code),
        "`bodyline verify {}` exited {:?}, not {code}\n{stdout}\n{stderr}",
        args.join(" "),
        out.status.code()
    );
    serde_json::from_str(&stdout).with_context(|| format!("verify's JSON:\n{stdout}\n{stderr}"))
}

fn variant(model: &str) -> anyhow::Result<ProductionVariant> {
    Ok(ProductionVariant::builder()
        .variant_name("AllTraffic")
        .model_name(model)
        .instance_type(ProductionVariantInstanceType::MlM5Large)
        .initial_instance_count(1)
        .build())
}

/// The estate, as Terraform or a console user would make it: nothing tagged for bodyline, the
/// execution role trusting only SageMaker.
async fn create_estate(sdk: &SdkConfig, name: &str) -> anyhow::Result<Estate> {
    let account = aws_sdk_sts::Client::new(sdk)
        .get_caller_identity()
        .send()
        .await?;
    let caller = account.arn().context("caller arn")?.to_string();
    let account = account.account().context("account")?.to_string();
    let bucket = name.to_ascii_lowercase();
    let s3 = aws_sdk_s3::Client::new(sdk);
    s3.create_bucket().bucket(&bucket).send().await?;

    let sns = aws_sdk_sns::Client::new(sdk);
    let done = sns
        .create_topic()
        .name(format!("{name}-done"))
        .send()
        .await?;
    let failed = sns
        .create_topic()
        .name(format!("{name}-failed"))
        .send()
        .await?;
    let (done, failed) = (
        done.topic_arn().context("topic")?.to_string(),
        failed.topic_arn().context("topic")?.to_string(),
    );

    let iam = aws_sdk_iam::Client::new(sdk);
    let execution = format!("{name}-exec");
    let role = iam
        .create_role()
        .role_name(&execution)
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await?;
    let role_arn = role.role().context("role")?.arn().to_string();
    iam.put_role_policy()
        .role_name(&execution)
        .policy_name("write-results")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:PutObject", "Resource": [
                    format!("arn:aws:s3:::{bucket}/output/*"),
                    format!("arn:aws:s3:::{bucket}/failure/*"),
                    format!("arn:aws:s3:::{bucket}/plain/*")]},
                {"Effect": "Allow", "Action": "sns:Publish", "Resource": [&done, &failed]}
            ]})
            .to_string(),
        )
        .send()
        .await?;

    let app = format!("{name}-app");
    iam.create_role()
        .role_name(&app)
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                "Principal": {"AWS": caller}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await?;
    iam.put_role_policy()
        .role_name(&app)
        .policy_name("app")
        .policy_document(
            json!({"Version": "2012-10-17", "Statement": [
                {"Sid": "Invoke", "Effect": "Allow", "Action": "sagemaker:InvokeEndpointAsync", "Resource": "*"},
                {"Sid": "Read", "Effect": "Allow", "Action": "s3:GetObject", "Resource": [
                    format!("arn:aws:s3:::{bucket}/output/*"), format!("arn:aws:s3:::{bucket}/failure/*")]},
                // Polling a result not written yet needs s3:ListBucket (without it S3 answers
                // 403, not 404, and the front door answers as S3 does).
                {"Sid": "Poll", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": format!("arn:aws:s3:::{bucket}"),
                    "Condition": {"StringLike": {"s3:prefix": ["output/*", "failure/*"]}}},
                {"Sid": "Upload", "Effect": "Allow", "Action": "s3:PutObject", "Resource": format!("arn:aws:s3:::{bucket}/input/*")}
            ]})
            .to_string(),
        )
        .send()
        .await?;

    let sm = aws_sdk_sagemaker::Client::new(sdk);
    let model = format!("{name}-model");
    sm.create_model()
        .model_name(&model)
        .execution_role_arn(&role_arn)
        .primary_container(
            ContainerDefinition::builder()
                .image(format!(
                    "{account}.dkr.ecr.us-east-1.amazonaws.com/scorer:1"
                ))
                .environment(
                    bodyline_terms::LOCAL_COMMAND_VAR,
                    bodyline_stack::DEFAULT_LOCAL_MODEL_COMMAND,
                )
                .build(),
        )
        .send()
        .await?;
    let with_failure = format!("{name}-full");
    let bare = format!("{name}-bare");
    let full_output = AsyncInferenceOutputConfig::builder()
        .s3_output_path(format!("s3://{bucket}/output/"))
        .s3_failure_path(format!("s3://{bucket}/failure/"))
        .notification_config(
            AsyncInferenceNotificationConfig::builder()
                .success_topic(&done)
                .error_topic(&failed)
                .build(),
        )
        .build();
    let bare_output = AsyncInferenceOutputConfig::builder()
        .s3_output_path(format!("s3://{bucket}/plain/"))
        .build();
    for (endpoint, output, client) in [
        (
            &with_failure,
            full_output,
            Some(
                AsyncInferenceClientConfig::builder()
                    .max_concurrent_invocations_per_instance(2)
                    .build(),
            ),
        ),
        (&bare, bare_output, None),
    ] {
        sm.create_endpoint_config()
            .endpoint_config_name(endpoint)
            .production_variants(variant(&model)?)
            .async_inference_config(
                AsyncInferenceConfig::builder()
                    .output_config(output)
                    .set_client_config(client)
                    .build(),
            )
            .send()
            .await?;
        sm.create_endpoint()
            .endpoint_name(endpoint)
            .endpoint_config_name(endpoint)
            .send()
            .await?;
    }
    Ok(Estate {
        bucket,
        with_failure,
        bare,
        invoker_role: app,
    })
}
