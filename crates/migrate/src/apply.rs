//! `--write`: the one entry point that changes a user's files. Refuses files with uncommitted
//! changes and read-only files before anything is written, raises the SDK requirement where
//! the rewrite needs it, writes the changed files, and with `verify_build` runs `cargo check`
//! on each affected package and puts every file back when it fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cargo::cargo_command;
use crate::error::ApplyError;
use crate::lock_update::{raise_sdk, restore_reporting};
use crate::manifest::package_manifest;
use crate::scan_result::ScanReport;
use crate::sdk::manifest_edits;
use crate::write::{read_only_files, write_files, Backup};

/// What `--write` may do beyond writing the files that change.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriteOptions {
    /// Write even files with uncommitted changes in git.
    pub allow_dirty: bool,
    /// Write files the caller may not write (no write bit) instead of refusing them.
    pub allow_read_only: bool,
    /// Run `cargo check` on every package with a written file; restore everything if it fails.
    pub verify_build: bool,
}

/// What [`apply`] left on disk.
#[derive(Debug)]
pub struct Applied {
    /// The files that hold their rewritten text afterwards (none after a restore, except
    /// files that could not be restored): what the S3-input report describes as written.
    pub written: Vec<PathBuf>,
    /// Ok when every changed file was written (and, if asked, the build passed).
    pub result: Result<(), ApplyError>,
}

/// Write the changes of `report`: refuse dirty and read-only files unless `options` allows
/// them, raise the SDK requirement and lock where the rewrite needs it, write the files
/// (atomically, each checked unchanged since it was read) and, with `verify_build`, check the
/// build and restore every file when it fails. `progress` gets one line per step (what was
/// raised, written, checked; `error: ...` for a file that failed), for the caller to print.
pub fn apply(
    report: &ScanReport,
    options: &WriteOptions,
    progress: &mut dyn FnMut(&str),
) -> Applied {
    let nothing = |result| Applied {
        written: Vec::new(),
        result,
    };
    if !report.files.iter().any(|f| f.migration.is_changed()) {
        return nothing(Ok(()));
    }
    let manifest_edits = manifest_edits(&report.sdk);
    let changed: Vec<&Path> = report
        .files
        .iter()
        .filter(|f| f.migration.is_changed())
        .map(|f| f.path.as_path())
        .chain(manifest_edits.iter().map(|e| e.path.as_path()))
        .collect();
    if let Err(e) = refuse_unless_allowed(&changed, options) {
        return nothing(Err(e));
    }
    // The SDK first: the rewritten code needs `body`. A failure here changes nothing.
    let sdk_backups = match raise_sdk(&report.sdk, &manifest_edits, progress) {
        Ok(b) => b,
        Err(e) => return nothing(Err(e)),
    };
    let (backups, errors) = write_files(report);
    for e in &errors {
        progress(&format!("error: {e}"));
    }
    progress(&format!("wrote {} file(s)", backups.len()));
    let mut written: Vec<PathBuf> = backups.iter().map(|b| b.path.clone()).collect();
    if options.verify_build && !backups.is_empty() {
        if let Err(e) = verify_build(&backups, &sdk_backups, &mut written, progress) {
            return Applied {
                written,
                result: Err(e),
            };
        }
    }
    let result = if errors.is_empty() {
        Ok(())
    } else {
        Err(ApplyError::NotAllWritten {
            count: errors.len(),
        })
    };
    Applied { written, result }
}

/// The refusals that come before any write: uncommitted changes, then read-only files.
fn refuse_unless_allowed(changed: &[&Path], options: &WriteOptions) -> Result<(), ApplyError> {
    if !options.allow_dirty {
        let dirty = dirty_files(changed)?;
        if !dirty.is_empty() {
            return Err(ApplyError::Dirty { files: dirty });
        }
    }
    if !options.allow_read_only {
        let read_only = read_only_files(changed);
        if !read_only.is_empty() {
            return Err(ApplyError::ReadOnly { files: read_only });
        }
    }
    Ok(())
}

/// `cargo check` each package with a written file; on failure restore every backup (sources,
/// and the manifests and locks in `sdk_backups`, together) and keep in `written` only the
/// files that could not be restored.
fn verify_build(
    backups: &[Backup],
    sdk_backups: &[Backup],
    written: &mut Vec<PathBuf>,
    progress: &mut dyn FnMut(&str),
) -> Result<(), ApplyError> {
    let manifests: BTreeSet<PathBuf> = backups
        .iter()
        .filter_map(|b| package_manifest(&b.path))
        .collect();
    for manifest in &manifests {
        progress(&format!(
            "cargo check --manifest-path {}",
            manifest.display()
        ));
        let status = cargo_command()
            .args(["check", "--quiet", "--manifest-path"])
            .arg(manifest)
            .status();
        let failure = match status {
            Ok(s) if s.success() => continue,
            Ok(_) => format!(
                "cargo check failed for {} after the rewrite",
                manifest.display()
            ),
            Err(e) => format!("cannot run cargo check for {}: {e}", manifest.display()),
        };
        let not_restored = restore_reporting(backups, progress);
        written.retain(|p| not_restored.contains(p));
        let sdk_not_restored = restore_reporting(sdk_backups, progress);
        return Err(ApplyError::BuildFailed {
            failure,
            restored: backups.len() - not_restored.len(),
            sdk_files: sdk_backups.len(),
            sdk_restored: sdk_backups.len() - sdk_not_restored.len(),
        });
    }
    Ok(())
}

/// Files with uncommitted changes according to `git status --porcelain`.
fn dirty_files(files: &[&Path]) -> Result<Vec<PathBuf>, ApplyError> {
    let mut dirty = Vec::new();
    for f in files {
        let dir = f
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = f.file_name().ok_or_else(|| ApplyError::NoFileName {
            path: f.to_path_buf(),
        })?;
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["status", "--porcelain", "--"])
            .arg(name)
            .output()
            .map_err(|source| ApplyError::GitNotRun {
                path: f.to_path_buf(),
                source,
            })?;
        if !out.status.success() {
            return Err(ApplyError::GitFailed {
                path: f.to_path_buf(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_owned(),
            });
        }
        if !out.stdout.is_empty() {
            dirty.push(f.to_path_buf());
        }
    }
    Ok(dirty)
}
