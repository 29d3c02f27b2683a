//! The migration feeds the plan: with `bucket.input = "auto"`, what `bodyline migrate` leaves on
//! `InputLocation` decides whether the stack keeps its input prefix and the two grants on it.
//!
//! A copy of `examples/legacy-app` is migrated with the real binary. With the app's one site
//! that reads an object a pipeline already wrote (`rescore_existing`, nothing to inline) left,
//! the invoker may upload to `input/*` only and that site's request works; once that site is
//! retired and the app migrated again, the plan says the invoker loses `s3:PutObject`,
//! `bodyline verify` fails its posture check until setup has run, and after setup moto's IAM
//! enforcement denies the upload.

use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::primitives::ByteStream;
use bodyline_provision::{resources_allowing, ApplyOptions, Kind};
use bodyline_stack::{local_sdk_config, LocalEnv, MigrationReport, Stack};
use bodyline_tests::{bodyline, run, start_local, unique, wait_for_object, workspace_root};

/// The pipeline-object site of the legacy app, as the test retires it.
const EXISTING_OBJECT_SITE: &str =
    "    /// The object already exists (written by a pipeline): there are no bytes to inline.";

/// The lifecycle rule provision adds on the input prefix while it is kept.
const INPUT_EXPIRY_RULE: &str = "bodyline-expire-inputs";

/// Puts a small object at `key`, as the application would.
async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<PutObjectOutput, SdkError<PutObjectError, HttpResponse>> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(b"{}"))
        .send()
        .await
}

/// The ids of the bucket's lifecycle rules.
async fn lifecycle_rule_ids(s3: &aws_sdk_s3::Client, bucket: &str) -> anyhow::Result<Vec<String>> {
    let lifecycle = s3
        .get_bucket_lifecycle_configuration()
        .bucket(bucket)
        .send()
        .await?;
    Ok(lifecycle
        .rules()
        .iter()
        .filter_map(|r| r.id().map(str::to_string))
        .collect())
}

fn copy_legacy_app(to: &Path) -> anyhow::Result<()> {
    let from = workspace_root().join("examples/legacy-app");
    std::fs::create_dir_all(to.join("src"))?;
    std::fs::copy(from.join("Cargo.toml"), to.join("Cargo.toml"))?;
    for file in ["main.rs", "scoring.rs"] {
        std::fs::copy(from.join("src").join(file), to.join("src").join(file))?;
    }
    Ok(())
}

/// `bodyline migrate --write` in `dir`, which writes `dir/.bodyline/migrate-report.json`.
fn migrate(dir: &Path) -> anyhow::Result<MigrationReport> {
    let (out, stdout, stderr) = run(bodyline(dir).args([
        "migrate",
        "--write",
        "--allow-dirty",
        "--strategy",
        "inline",
        ".",
    ]));
    anyhow::ensure!(out.status.success(), "migrate failed:\n{stdout}\n{stderr}");
    MigrationReport::load(&dir.join(".bodyline/migrate-report.json"))?
        .context("migrate wrote no report")
}

/// Removes the `rescore_existing` method: the team retired the pipeline-object path.
fn retire_existing_object_site(dir: &Path) -> anyhow::Result<()> {
    let path = dir.join("src/scoring.rs");
    let text = std::fs::read_to_string(&path)?;
    let start = text
        .find(EXISTING_OBJECT_SITE)
        .context("examples/legacy-app no longer has the rescore_existing site this test retires")?;
    let end = start
        + text[start..]
            .find("\n    }\n")
            .context("the end of rescore_existing")?
        + "\n    }\n".len();
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end..]))?;
    Ok(())
}

fn stack_file(dir: &Path, name: &str, invoker_arn: &str) -> anyhow::Result<Stack> {
    let text = format!(
        r#"
[stack]
name = "{name}"

[model]
image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/bodyline-model:latest"

[bucket]
input = "auto"

[invokers]
principals = ["{invoker_arn}"]
"#
    );
    let path = dir.join("bodyline.toml");
    std::fs::write(&path, &text)?;
    Ok(Stack::load(&path)?.in_project(bodyline_stack::ProjectDir::new(dir)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_input_grants_follow_what_the_migration_left_on_s3() -> anyhow::Result<()> {
    // The application's directory is the project directory (`--root`): `bodyline migrate`
    // writes its report to `.bodyline/` there, and setup, plan and verify read it there.
    let app = tempfile::tempdir()?;
    copy_legacy_app(app.path())?;
    let root = &app;
    let local = start_local(root.path()).await?;
    let admin = local.sdk_config();

    // The application's own identity: an IAM user that gets the invoker policy.
    let name = unique("input");
    let iam = aws_sdk_iam::Client::new(&admin);
    let user = iam
        .create_user()
        .user_name(format!("{name}-app"))
        .send()
        .await?;
    let user_arn = user
        .user()
        .map(|u| u.arn().to_string())
        .context("user ARN")?;
    let key = iam
        .create_access_key()
        .user_name(format!("{name}-app"))
        .send()
        .await?;
    let key = key.access_key().context("access key")?;
    let invoker = local_sdk_config(&LocalEnv {
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
        ..local.env().clone()
    });
    let invoker_s3 = aws_sdk_s3::Client::new(&invoker);
    let admin_s3 = aws_sdk_s3::Client::new(&admin);

    // One site left on InputLocation: the pipeline-object read.
    let report = migrate(app.path())?;
    let left: Vec<_> = report.sites().map(|(_, s)| s.clone()).collect();
    assert!(report.needed, "{report:?}");
    assert_eq!(left.len(), 1, "only rescore_existing stays on S3: {left:?}");
    let stack = stack_file(app.path(), &name, &user_arn)?;
    let options = ApplyOptions {
        poll_interval: Duration::from_millis(100),
        ..ApplyOptions::default()
    };
    let set_up =
        bodyline_provision::setup(&stack, &admin, root.path(), &options, &mut |_| {}).await?;
    let d = &set_up.plan.desired;
    assert!(d.input.keep, "{}", d.input.reason);
    assert!(d.input.reason.contains("1 call site"), "{}", d.input.reason);
    assert_eq!(
        resources_allowing(&d.invoker.document, "s3:PutObject"),
        [format!("arn:aws:s3:::{}/input/*", d.bucket.name)],
        "the invoker may upload to input/* and nowhere else"
    );
    // moto enforces the deployed policy: input/ is writable, output/ is not.
    let bucket = &d.bucket.name;
    upload(&invoker_s3, bucket, "input/from-the-app.json")
        .await
        .context("the invoker uploads to input/")?;
    let denied = upload(&invoker_s3, bucket, "output/forged.out")
        .await
        .expect_err("the invoker cannot write outputs");
    assert_eq!(
        denied.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    // The input prefix's expiry rule is there while a site needs the prefix.
    assert!(
        lifecycle_rule_ids(&admin_s3, bucket)
            .await?
            .iter()
            .any(|id| id == INPUT_EXPIRY_RULE),
        "setup adds the input prefix's expiry rule"
    );
    // That site's request: an object a pipeline wrote under input/, read by the execution role.
    admin_s3
        .put_object()
        .bucket(bucket)
        .key("input/pipeline/records.json")
        .body(ByteStream::from_static(
            br#"{"records":[{"id":"p","value":1.5}]}"#,
        ))
        .send()
        .await?;
    let runtime = aws_sdk_sagemakerruntime::Client::new(&invoker);
    let accepted = runtime
        .invoke_endpoint_async()
        .endpoint_name(&stack.name)
        .content_type("application/json")
        .input_location(format!("s3://{bucket}/input/pipeline/records.json"))
        .send()
        .await
        .context("the InputLocation request is accepted")?;
    let output = wait_for_object(
        &invoker_s3,
        accepted.output_location().context("OutputLocation")?,
        Duration::from_secs(30),
    )
    .await?;
    let answer: serde_json::Value = serde_json::from_slice(&output)?;
    assert_eq!(
        answer["scores"].as_array().map(Vec::len),
        Some(1),
        "{answer}"
    );

    // The site retired and the app migrated again: nothing needs S3 input any more.
    retire_existing_object_site(app.path())?;
    let report = migrate(app.path())?;
    assert!(!report.needed, "{report:?}");
    assert_eq!(report.sites().count(), 0);
    let planned = bodyline_provision::plan_stack(&stack, &admin, root.path()).await?;
    let invoker_change = planned
        .plan
        .changes
        .iter()
        .find(|c| c.kind == Kind::InvokerPolicy)
        .context("the plan lists the invoker policy")?;
    assert!(
        invoker_change
            .detail
            .starts_with("invoker loses s3:PutObject on input/* — no call site needs S3 input"),
        "{}",
        invoker_change.detail
    );
    let role_change = planned
        .plan
        .changes
        .iter()
        .find(|c| c.kind == Kind::ExecutionPolicy)
        .context("the plan lists the execution policy")?;
    assert!(
        role_change
            .detail
            .starts_with("execution role loses s3:GetObject on input/*"),
        "{}",
        role_change.detail
    );
    // The same plan through the binary, as a user reads it.
    let (out, stdout, _e) = run(bodyline(app.path())
        .args(["plan", "--root"])
        .arg(root.path()));
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{_e}");
    assert!(
        stdout.contains("invoker loses s3:PutObject on input/*"),
        "{stdout}"
    );

    // Until setup runs again, the deployed invoker policy is wider than the report allows:
    // `bodyline verify` says so and names the fix, and passes once setup has narrowed it.
    let posture = |dir: &Path| {
        run(bodyline(dir)
            .args(["verify", "--check", "posture", "--format", "json", "--root"])
            .arg(root.path()))
    };
    let (out, stdout, stderr) = posture(app.path());
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let verdict: serde_json::Value = serde_json::from_str(&stdout)?;
    let detail = verdict["checks"][0]["detail"].as_str().unwrap_or_default();
    assert_eq!(verdict["checks"][0]["passed"], false, "{verdict:#}");
    assert!(
        detail.contains(&format!(
            "still allows s3:PutObject on arn:aws:s3:::{bucket}/input/*"
        )) && detail.contains("run `bodyline setup`"),
        "{detail}"
    );

    bodyline_provision::setup(&stack, &admin, root.path(), &options, &mut |_| {}).await?;
    let (out, stdout, stderr) = posture(app.path());
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let denied = upload(&invoker_s3, bucket, "input/after-migration.json")
        .await
        .expect_err("with no site left, the invoker cannot upload");
    assert_eq!(
        denied.raw_response().map(|r| r.status().as_u16()),
        Some(403)
    );
    assert!(
        !lifecycle_rule_ids(&admin_s3, bucket)
            .await?
            .iter()
            .any(|id| id == INPUT_EXPIRY_RULE),
        "the input prefix's expiry rule goes with it"
    );

    local.stop().await;
    Ok(())
}
