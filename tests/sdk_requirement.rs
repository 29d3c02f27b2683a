//! The SDK requirement follows the migration: fixture packages whose `Cargo.lock` pins
//! `aws-sdk-sagemakerruntime` 1.122.0 (the last version without `body`) are migrated with the
//! real binary. `--check` names the version needed; `--write --verify-build` raises the
//! requirement where it is declared (the package, the workspace root, a renamed dependency in a
//! `[target.'cfg(..)'.dependencies]` table), updates the lock offline and the result compiles;
//! the manifests differ from the originals only in the requirement.
//!
//! Cost: the fixtures have the legacy app's dependencies, features and profile (as the demo's
//! standalone copy does) and build into the workspace's target directory, so their checks reuse
//! the dependencies the demo checked; each fixture adds one small crate.

use std::path::{Path, PathBuf};
use std::process::Command;

use bodyline_migrate::{cargo_command, without_cargo_vars};
use bodyline_tests::{bodyline, run, workspace_root};
use serde_json::Value;

/// The last `aws-sdk-sagemakerruntime` without `body` and its crates.io checksum: its
/// dependencies are those of 1.123.0, so it resolves with the workspace's other pins.
const OLD_VERSION: &str = "1.122.0";
const OLD_CHECKSUM: &str = "805fbdd028f528673c46a76ab662f9734371402042ac29c82acd45bc514e15c9";

/// A fixture copied to a scratch directory, with a lock made from the workspace's.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    /// Copies `tests/fixtures/sdk/<name>` with the shared source (`pinned/src/lib.rs`, the SDK
    /// under the package's name for it) and writes its `Cargo.lock`: the workspace's lock,
    /// pruned to the fixture's packages by cargo (offline), with the SDK set to 1.122.0.
    fn new(name: &str) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join(name);
        let fixtures = workspace_root().join("tests/fixtures/sdk");
        copy_dir(&fixtures.join(name), &root);
        // One source for every fixture: `pinned`'s, under the name each package gives the SDK.
        let (source, sdk_name) = match name {
            "renamed" => ("src/lib.rs", "smr"),
            "workspace" => ("service/src/lib.rs", "aws_sdk_sagemakerruntime"),
            _ => ("src/lib.rs", "aws_sdk_sagemakerruntime"),
        };
        let shared = std::fs::read_to_string(fixtures.join("pinned/src/lib.rs")).unwrap();
        let source = root.join(source);
        std::fs::create_dir_all(source.parent().unwrap()).unwrap();
        let text = shared.replace(
            "aws_sdk_sagemakerruntime::Client",
            &format!("{sdk_name}::Client"),
        );
        std::fs::write(source, text).unwrap();
        std::fs::copy(workspace_root().join("Cargo.lock"), root.join("Cargo.lock")).unwrap();
        let (out, _, stderr) = run(cargo(&root).args(["update", "--offline", "--workspace"]));
        assert!(out.status.success(), "cargo update --workspace: {stderr}");
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        let block = sdk_block(&lock).expect("the workspace lock has the SDK");
        let old = format!(
            "name = \"aws-sdk-sagemakerruntime\"\nversion = \"{OLD_VERSION}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\nchecksum = \"{OLD_CHECKSUM}\"\n"
        );
        let head = block.lines().take(4).collect::<Vec<_>>().join("\n") + "\n";
        std::fs::write(root.join("Cargo.lock"), lock.replacen(&head, &old, 1)).unwrap();
        Fixture { _dir: dir, root }
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.root.join(file)).unwrap()
    }

    /// `bodyline migrate` in the fixture (inline strategy, no report file).
    fn migrate(&self, args: &[&str]) -> (bool, String, String) {
        let mut cmd = bodyline(&self.root);
        without_cargo_vars(&mut cmd);
        cmd.env("CARGO_TARGET_DIR", target_root()).args([
            "migrate",
            "--strategy",
            "inline",
            "--no-report-file",
        ]);
        let (out, stdout, stderr) = run(cmd.args(args));
        (out.status.success(), stdout, stderr)
    }
}

/// The workspace's target directory (shared, so the fixtures reuse compiled dependencies).
fn target_root() -> PathBuf {
    bodyline_tests::target_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// cargo in `dir`, with the shared target directory.
fn cargo(dir: &Path) -> Command {
    let mut cmd = cargo_command();
    cmd.current_dir(dir).env("CARGO_TARGET_DIR", target_root());
    cmd
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `[[package]]` block of the SDK in a lock.
fn sdk_block(lock: &str) -> Option<&str> {
    lock.split("\n[[package]]\n")
        .find(|b| b.starts_with("name = \"aws-sdk-sagemakerruntime\"\n"))
}

/// The lock without the SDK's block: what must not change.
fn lock_without_sdk(lock: &str) -> Vec<&str> {
    lock.split("\n[[package]]\n")
        .filter(|b| !b.starts_with("name = \"aws-sdk-sagemakerruntime\"\n"))
        .collect()
}

/// Runs the whole story on one fixture: `--check` names the needed version, `--write
/// --verify-build` raises `requirement` to `raised` in `declared_in` (and nothing else), the
/// lock moves to a version with `body`, and the package compiles.
fn migrates(name: &str, package_dir: &str, declared_in: &str, requirement: &str, raised: &str) {
    let f = Fixture::new(name);
    let manifest_before = f.read(declared_in);
    let member_manifest = format!("{package_dir}Cargo.toml");
    let member_before = f.read(&member_manifest);
    let lock_before = f.read("Cargo.lock");

    let (ok, stdout, stderr) = f.migrate(&["--check", "."]);
    assert!(
        !ok,
        "--check fails while a site is rewritable:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "requires aws-sdk-sagemakerruntime \"{requirement}\""
        )) && stdout.contains(&format!("locks {OLD_VERSION}"))
            && stdout.contains("at least 1.123.0"),
        "--check names the requirement, the locked version and the minimum:\n{stdout}"
    );
    let (_, json, _) = f.migrate(&["--format", "json", "."]);
    let json: Value = serde_json::from_str(&json).unwrap();
    let sdk = &json["sdk"][0];
    assert_eq!(sdk["status"], "locked_before_body", "{json}");
    assert_eq!(sdk["locked"], OLD_VERSION);
    assert_eq!(sdk["minimum"], "1.123.0");
    assert_eq!(sdk["declared"]["requirement"], requirement);
    assert_eq!(
        f.read(declared_in),
        manifest_before,
        "--check writes nothing"
    );

    let (ok, stdout, stderr) = f.migrate(&["--write", "--allow-dirty", "--verify-build", "."]);
    assert!(ok, "--write --verify-build succeeds:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("from cargo's local cache, no network"),
        "{stderr}"
    );

    // The manifest differs only in the requirement, byte for byte.
    let expected = manifest_before.replacen(&format!("{requirement}\""), &format!("{raised}\""), 1);
    let expected = if expected == manifest_before {
        manifest_before.replacen(&format!("{requirement}'"), &format!("{raised}'"), 1)
    } else {
        expected
    };
    assert_ne!(expected, manifest_before);
    assert_eq!(f.read(declared_in), expected);
    if member_manifest != declared_in {
        assert_eq!(
            f.read(&member_manifest),
            member_before,
            "the member's manifest is untouched"
        );
    }
    // The lock changed in the SDK's entry only, to a version with `body`.
    let lock = f.read("Cargo.lock");
    assert_eq!(lock_without_sdk(&lock), lock_without_sdk(&lock_before));
    let version = sdk_block(&lock)
        .and_then(|b| b.lines().nth(1))
        .and_then(|l| l.strip_prefix("version = \""))
        .and_then(|v| v.strip_suffix('"'))
        .unwrap();
    let minor: u64 = version.split('.').nth(1).unwrap().parse().unwrap();
    assert!(minor >= 123, "the lock now has {version}");

    let src = f.read(&format!("{package_dir}src/lib.rs"));
    assert!(src.contains(".body(Blob::new(payload))"), "{src}");
    // And it compiles (the test's own check, after bodyline's).
    let (out, _, stderr) = run(cargo(&f.root).args(["check", "--offline", "--quiet"]));
    assert!(
        out.status.success(),
        "the migrated fixture compiles:\n{stderr}"
    );
}

#[test]
fn a_package_locking_an_sdk_before_body_is_raised_and_compiles() {
    migrates("pinned", "", "Cargo.toml", "1.122", "1.123");
}

#[test]
fn a_requirement_inherited_from_the_workspace_is_raised_at_the_root() {
    migrates(
        "workspace",
        "service/",
        "Cargo.toml",
        "=1.122.0",
        "=1.123.0",
    );
}

#[test]
fn a_renamed_dependency_in_a_target_table_is_raised_and_named_in_the_import() {
    migrates("renamed", "", "Cargo.toml", "~1.122", "~1.123");
}

#[test]
fn the_renamed_sdk_is_imported_under_its_own_name() {
    let f = Fixture::new("renamed");
    let (_, diff, _) = f.migrate(&["--diff", "."]);
    assert!(diff.contains("+use smr::primitives::Blob;"), "{diff}");
    assert!(!diff.contains("aws_sdk_sagemakerruntime"), "{diff}");
    assert!(
        diff.contains("-smr = { package = \"aws-sdk-sagemakerruntime\", version = '~1.122' }")
            && diff
                .contains("+smr = { package = \"aws-sdk-sagemakerruntime\", version = '~1.123' }"),
        "--diff shows the manifest change too:\n{diff}"
    );
    let (_, sarif, _) = f.migrate(&["--format", "sarif", "."]);
    let sarif: Value = serde_json::from_str(&sarif).unwrap();
    let sdk = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "bodyline/sdk-version")
        .cloned()
        .unwrap_or_else(|| panic!("SARIF carries the SDK diagnostic: {sarif}"));
    assert_eq!(sdk["level"], "warning");
    let location = &sdk["locations"][0]["physicalLocation"];
    assert_eq!(location["region"]["startLine"], 16, "{sdk}");
}

#[test]
fn a_failed_build_restores_manifest_lock_and_sources_together() {
    let f = Fixture::new("pinned");
    // Once the upload goes, `s3` and `bucket` are unused: this crate then fails to compile.
    let src = f.read("src/lib.rs").replacen(
        "\n\nuse aws_sdk_s3",
        "\n#![deny(unused_variables)]\n\nuse aws_sdk_s3",
        1,
    );
    std::fs::write(f.root.join("src/lib.rs"), src).unwrap();
    let before: Vec<String> = ["Cargo.toml", "Cargo.lock", "src/lib.rs"]
        .iter()
        .map(|p| f.read(p))
        .collect();
    let (ok, stdout, stderr) = f.migrate(&["--write", "--allow-dirty", "--verify-build", "."]);
    assert!(!ok, "the build fails:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("restored 1 original file(s) and 2 manifest and lock file(s)"),
        "{stderr}"
    );
    let after: Vec<String> = ["Cargo.toml", "Cargo.lock", "src/lib.rs"]
        .iter()
        .map(|p| f.read(p))
        .collect();
    assert_eq!(after, before);
}

#[test]
fn nothing_in_a_manifest_changes_when_no_call_site_is_rewritten() {
    let f = Fixture::new("pinned");
    // The URI is a parameter: the upload happens elsewhere, so the site is left alone.
    let src = "//! Invokes with a URI it is given.\n\npub async fn submit(runtime: &aws_sdk_sagemakerruntime::Client, input_uri: &str) -> anyhow::Result<()> {\n    runtime.invoke_endpoint_async().endpoint_name(\"scoring\").input_location(input_uri).send().await?;\n    Ok(())\n}\n";
    std::fs::write(f.root.join("src/lib.rs"), src).unwrap();
    let manifest = f.read("Cargo.toml");
    let lock = f.read("Cargo.lock");
    let (ok, stdout, stderr) = f.migrate(&["--write", "--allow-dirty", "--format", "json", "."]);
    assert!(ok, "{stdout}\n{stderr}");
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["summary"]["skipped"], 1, "{json}");
    assert_eq!(json["sdk"], serde_json::json!([]));
    assert_eq!(f.read("Cargo.toml"), manifest);
    assert_eq!(f.read("Cargo.lock"), lock);
}
