//! `bodyline_migrate::apply` (`bodyline migrate --write`): the refusals before any write, the
//! write, `--verify-build`'s restore, and the S3-input report of what is left on disk. Moved
//! here with the code from the cli.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bodyline_migrate::{
    apply, report_from_scan_written, scan, Applied, MigrationReport, ScanOptions, Strategy,
    WriteOptions,
};

/// An upload-then-invoke that `--strategy inline` rewrites; it does not compile on its own
/// (no SDK dependency), so `verify_build` must fail and restore it.
const SHAPE1: &str = include_str!("support/upload_then_invoke.rs");

/// A package `broken` with `src/lib.rs` = [`SHAPE1`], in its own workspace.
fn temp_crate() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), SHAPE1).unwrap();
    dir
}

/// Scan `dir/src` (`--strategy inline`), apply with `options`, and the S3-input report of
/// what is on disk afterwards.
fn write(dir: &Path, options: WriteOptions) -> (Applied, MigrationReport, Vec<String>) {
    let scan_options = ScanOptions {
        strategy: Strategy::Inline,
        ..ScanOptions::default()
    };
    let report = scan(&[dir.join("src")], &scan_options);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let mut progress = Vec::new();
    let applied = apply(&report, &options, &mut |line| {
        progress.push(line.to_owned())
    });
    let s3_input = report_from_scan_written(&report, &applied.written);
    (applied, s3_input, progress)
}

#[test]
fn write_then_restore_reports_the_restored_code() {
    let c = temp_crate();
    let (applied, r, progress) = write(
        c.path(),
        WriteOptions {
            allow_dirty: true,
            verify_build: true,
            ..WriteOptions::default()
        },
    );
    let err = applied.result.unwrap_err().to_string();
    assert!(err.contains("restored 1 original file"), "{err}");
    assert!(
        progress.iter().any(|l| l.starts_with("cargo check")),
        "{progress:?}"
    );
    assert_eq!(
        std::fs::read_to_string(c.path().join("src/lib.rs")).unwrap(),
        SHAPE1
    );
    assert!(applied.written.is_empty());
    assert!(!r.written && r.needed, "{r:?}");
    assert_eq!(r.crates[0].sites.len(), 1);
    assert_eq!(r.crates[0].sites[0].line, 5);
}

#[test]
fn a_read_only_file_is_refused_by_name_and_left_unchanged() {
    use std::os::unix::fs::{MetadataExt as _, PermissionsExt as _};
    let c = temp_crate();
    let lib = c.path().join("src/lib.rs");
    std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o444)).unwrap();
    let inode = std::fs::metadata(&lib).unwrap().ino();
    let allow_dirty = WriteOptions {
        allow_dirty: true,
        ..WriteOptions::default()
    };
    let (applied, _, _) = write(c.path(), allow_dirty);
    let msg = applied.result.unwrap_err().to_string();
    assert!(
        msg.contains("read-only") && msg.contains(&lib.display().to_string()),
        "{msg}"
    );
    let meta = std::fs::metadata(&lib).unwrap();
    assert_eq!(std::fs::read_to_string(&lib).unwrap(), SHAPE1);
    assert_eq!(meta.ino(), inode);
    assert_eq!(meta.permissions().mode() & 0o777, 0o444);
    // The flag says otherwise: written, and still read-only.
    let (applied, _, _) = write(
        c.path(),
        WriteOptions {
            allow_read_only: true,
            ..allow_dirty
        },
    );
    applied.result.unwrap();
    assert_ne!(std::fs::read_to_string(&lib).unwrap(), SHAPE1);
    let mode = std::fs::metadata(&lib).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o444);
}

#[test]
fn write_reports_what_is_left_on_disk() {
    let c = temp_crate();
    let (applied, r, progress) = write(
        c.path(),
        WriteOptions {
            allow_dirty: true,
            ..WriteOptions::default()
        },
    );
    applied.result.unwrap();
    let lib: PathBuf = c.path().join("src/lib.rs");
    assert_eq!(applied.written, vec![lib]);
    assert!(
        progress.contains(&"wrote 1 file(s)".to_owned()),
        "{progress:?}"
    );
    assert!(r.written && !r.needed, "{r:?}");
    assert_eq!(r.crates.len(), 1);
    assert!(r.crates[0].sites.is_empty());
}
