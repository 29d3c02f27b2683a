//! The SDK requirement, read from manifests and a lock written here (no cargo): where it is
//! declared, what is locked, the raised manifest (only the literal changes) and the renamed
//! crate's name in the inserted import.

// A test file: its helpers may unwrap too (a panic is a failed test, with its message).
#![allow(clippy::unwrap_used)]

use std::path::Path;

use bodyline_migrate::{manifest_edits, scan, ScanOptions, SdkStatus, Strategy};

const SITE: &str = include_str!("support/upload_then_invoke.rs");

fn lock(package: &str, sdk: &str) -> String {
    format!(
        "version = 4\n\n[[package]]\nname = \"aws-sdk-sagemakerruntime\"\nversion = \"{sdk}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"{package}\"\nversion = \"0.1.0\"\ndependencies = [\n \"aws-sdk-sagemakerruntime\",\n]\n"
    )
}

fn write(root: &Path, file: &str, text: &str) {
    let path = root.join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn options() -> ScanOptions {
    ScanOptions {
        strategy: Strategy::Inline,
        ..ScanOptions::default()
    }
}

#[test]
fn a_workspace_requirement_is_read_and_raised_at_the_root_only() {
    let dir = tempfile::tempdir().unwrap();
    let root_manifest = "[workspace]\nmembers = [\"app\"]\n\n[workspace.dependencies]\n# keep me\naws-sdk-sagemakerruntime = { version   = \"1.100\" , features = [] }  # pinned\n";
    write(dir.path(), "Cargo.toml", root_manifest);
    write(
        dir.path(),
        "app/Cargo.toml",
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n\n[dependencies]\naws-sdk-sagemakerruntime.workspace = true\n",
    );
    write(dir.path(), "app/src/lib.rs", SITE);
    write(dir.path(), "Cargo.lock", &lock("app", "1.100.0"));

    let report = scan(&[dir.path().join("app")], &options());
    assert_eq!(report.sdk.len(), 1, "{:?}", report.sdk);
    let r = &report.sdk[0];
    assert_eq!(r.status, SdkStatus::LockedBeforeBody);
    assert_eq!(r.locked.as_deref(), Some("1.100.0"));
    assert_eq!(r.raise_to.as_deref(), Some("1.123"));
    let d = r.declared.as_ref().unwrap();
    assert_eq!(d.table, "workspace.dependencies");
    assert!(d.manifest.ends_with("Cargo.toml") && !d.manifest.ends_with("app/Cargo.toml"));
    assert!(r.message().contains("locks 1.100.0"), "{}", r.message());

    let edits = manifest_edits(&report.sdk);
    assert_eq!(edits.len(), 1);
    assert_eq!(
        edits[0].output,
        root_manifest.replace("\"1.100\"", "\"1.123\""),
        "only the literal changes"
    );
}

#[test]
fn a_renamed_dependency_names_the_import_and_a_ready_sdk_is_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n\n[target.'cfg(unix)'.dependencies]\nsmr = { package = \"aws-sdk-sagemakerruntime\", version = \"1.123.0\" }\n";
    write(dir.path(), "Cargo.toml", manifest);
    write(dir.path(), "src/lib.rs", SITE);
    write(dir.path(), "Cargo.lock", &lock("svc", "1.124.0"));

    let report = scan(&[dir.path().to_path_buf()], &options());
    let out = report.files[0].migration.output();
    assert!(out.contains("use smr::primitives::Blob;"), "{out}");
    assert!(!out.contains("aws_sdk_sagemakerruntime"), "{out}");
    let r = &report.sdk[0];
    assert_eq!(r.crate_name, "smr");
    assert_eq!(r.status, SdkStatus::Ready, "{r:?}");
    assert_eq!(
        r.declared.as_ref().unwrap().table,
        "target.'cfg(unix)'.dependencies"
    );
    assert!(manifest_edits(&report.sdk).is_empty());
}

#[test]
fn no_rewrite_no_requirement_read() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "Cargo.toml",
        "[package]\nname = \"svc\"\nversion = \"0.1.0\"\n\n[dependencies]\naws-sdk-sagemakerruntime = \"1.100\"\n",
    );
    write(
        dir.path(),
        "src/lib.rs",
        "//! Given a URI.\npub async fn go(rt: &Rt, uri: &str) { rt.invoke_endpoint_async().input_location(uri).send().await; }\n",
    );
    let report = scan(&[dir.path().to_path_buf()], &options());
    assert_eq!(report.summary().skipped, 1);
    assert!(report.sdk.is_empty(), "{:?}", report.sdk);
}
