//! Helpers for bodyline's end-to-end tests: the `bodyline` binary, a local stack per test,
//! unique names, and polling for async outputs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use anyhow::{bail, Context as _};
use bodyline_local::{LocalOptions, LocalStack};
use bodyline_stack::Stack;

pub mod forwarder;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(".."))
}

/// The workspace's dev build directory (`target/debug`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("debug")
}

/// The moto virtualenv shared by every test (installed once by `cargo xtask test`).
pub fn shared_venv() -> PathBuf {
    bodyline_local::default_venv(&workspace_root())
}

/// A `bodyline` command for the binary this workspace built, run in `dir`.
///
/// The binary of another package cannot be a dependency of a test, so `cargo xtask test`
/// builds the workspace first; a missing binary is a clear failure, not a skip.
pub fn bodyline(dir: &Path) -> Command {
    let bin = target_dir().join("bodyline");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p bodyline-cli` (cargo xtask test does) first",
        bin.display()
    );
    let mut cmd = Command::new(bin);
    cmd.current_dir(dir).env("BODYLINE_VENV", shared_venv());
    cmd
}

/// Runs a command and returns its output, with stdout and stderr as text for assertions.
pub fn run(cmd: &mut Command) -> (Output, String, String) {
    let output = cmd.output().expect("the command starts");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stdout, stderr)
}

/// A name no other test (or earlier run against the same stack) uses.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..8])
}

/// A local stack rooted in `root`, using the shared virtualenv.
pub async fn start_local(root: &Path) -> anyhow::Result<LocalStack> {
    let opts = LocalOptions::new(root, "us-east-1").with_venv(shared_venv());
    LocalStack::start(opts)
        .await
        .context("the local stack starts")
}

/// The text of `templates/bodyline.toml` under another stack name, as a user would copy and
/// edit it.
pub fn template_toml(name: &str) -> anyhow::Result<String> {
    let path = template_path();
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text.replacen("name = \"bodyline-demo\"", &format!("name = \"{name}\""), 1))
}

/// `templates/bodyline.toml` under another stack name, as a user would copy and edit it.
pub fn template_stack(name: &str) -> anyhow::Result<Stack> {
    Ok(Stack::parse(&template_toml(name)?, &template_path())?)
}

fn template_path() -> PathBuf {
    workspace_root().join("templates").join("bodyline.toml")
}

/// Waits for an object at `s3://bucket/key` (async outputs appear later) and returns it.
pub async fn wait_for_object(
    s3: &aws_sdk_s3::Client,
    location: &str,
    deadline: Duration,
) -> anyhow::Result<Vec<u8>> {
    let (bucket, key) = split_s3_url(location)?;
    let started = std::time::Instant::now();
    loop {
        match s3.get_object().bucket(bucket).key(key).send().await {
            Ok(object) => return Ok(object.body.collect().await?.into_bytes().to_vec()),
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                if started.elapsed() > deadline {
                    bail!("no object at {location} after {deadline:?}");
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {location}")),
        }
    }
}

/// Whether an object exists at `s3://bucket/key`.
pub async fn object_exists(s3: &aws_sdk_s3::Client, location: &str) -> anyhow::Result<bool> {
    let (bucket, key) = split_s3_url(location)?;
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
        Err(e) => Err(e).with_context(|| format!("checking {location}")),
    }
}

/// `s3://bucket/key` as `(bucket, key)`.
fn split_s3_url(location: &str) -> anyhow::Result<(&str, &str)> {
    location
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .with_context(|| format!("{location:?} is not an s3:// URL"))
}
