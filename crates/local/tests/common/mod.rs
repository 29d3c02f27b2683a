//! Helpers shared by the local stack's test binaries: where moto is installed, unique names,
//! and reading the HTTP status out of an SDK error.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

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

/// The `main` of a test binary whose scenario runs the local stack in the background, as `up`
/// does: `up` starts this same binary as `serve <root>` (see [`serve_command`]). Serves when
/// started so; otherwise runs `scenario` on a fresh root, stops whatever it left running
/// (also when it panicked), and reports like libtest, with the tail of `local.log` on failure.
pub fn main_with_serve<F, Fut>(worker_threads: usize, name: &str, scenario: F) -> ExitCode
where
    F: FnOnce(PathBuf) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let args: Vec<String> = std::env::args().collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    if args.get(1).map(String::as_str) == Some("serve") {
        let root = PathBuf::from(args.get(2).expect("serve <root>"));
        let served = runtime.block_on(bodyline_local::serve(
            options(&root),
            |env| println!("ready on {}", env.endpoint_url),
            bodyline_local::shutdown_signal(),
        ));
        return match served {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("serve failed: {err}");
                ExitCode::FAILURE
            }
        };
    }
    let root = temp_root();
    let path = root.path().to_path_buf();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runtime.block_on(scenario(path))
    }));
    // Whatever happened, leave nothing running.
    let _ = runtime.block_on(bodyline_local::down(root.path()));
    if outcome.is_ok() {
        println!("test {name} ... ok\n\n1 passed, 0 failed");
        return ExitCode::SUCCESS;
    }
    let log = std::fs::read_to_string(bodyline_local::log_file(root.path())).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    let tail = lines[lines.len().saturating_sub(60)..].join("\n");
    println!("test {name} ... FAILED\n--- local.log (tail) ---\n{tail}\n\n0 passed, 1 failed");
    ExitCode::FAILURE
}

/// `up`'s command for a stack served by this test binary ([`main_with_serve`]).
pub fn serve_command(root: &Path) -> Command {
    let mut command = Command::new(std::env::current_exe().expect("this test binary"));
    command.arg("serve").arg(root);
    command
}
