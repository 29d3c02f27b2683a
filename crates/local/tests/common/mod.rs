//! Helpers shared by the local stack's test binaries: where moto is installed, unique names,
//! and reading the HTTP status out of an SDK error.

#![allow(dead_code)]

use std::path::PathBuf;

use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response;
use bodyline_local::LocalOptions;

/// The virtualenv the tests share: `BODYLINE_VENV`, else the workspace's `.bodyline/venv`
/// (where `cargo xtask test` installs moto before running the tests).
pub fn venv() -> PathBuf {
    // The workspace root: the same virtualenv `cargo xtask test` installs moto into.
    bodyline_local::default_venv(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A fresh project root under cargo's per-target temp dir.
pub fn temp_root() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("bodyline-local-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temp dir under CARGO_TARGET_TMPDIR")
}

/// Options for a test stack at `root` with the shared virtualenv.
pub fn options(root: &std::path::Path) -> LocalOptions {
    LocalOptions::new(root, "us-east-1").with_venv(venv())
}

/// A name no other test (or earlier run against the same moto) uses.
pub fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// The HTTP status of a failed SDK call, if the service answered.
pub fn status<E>(err: &SdkError<E, Response>) -> Option<u16> {
    err.raw_response().map(|r| r.status().as_u16())
}

/// Whether process `pid` still exists (a zombie counts as gone).
pub fn process_exists(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

/// Waits up to five seconds for `pid` to disappear.
pub fn wait_gone(pid: u32) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while process_exists(pid) {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    true
}
