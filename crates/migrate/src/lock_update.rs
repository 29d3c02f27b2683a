//! `--write`, before the code: raise the `aws-sdk-sagemakerruntime` requirement where it is
//! declared and update the lock for that package only, so the rewritten `body(..)` calls
//! compile. Offline first: cargo goes to the registry only when no version the raised
//! requirement admits is in its local cache, and then says so.

use std::path::{Path, PathBuf};

use crate::cargo::cargo_command;
use crate::error::ApplyError;
use crate::sdk::{ManifestEdit, SdkRequirement, SdkStatus, SDK_PACKAGE};
use crate::write::{restore, write_manifests, Backup};

/// One `cargo update` to run: the lock, a manifest of a package in it and the old version.
struct LockUpdate<'a> {
    lock: &'a Path,
    manifest: &'a Path,
    locked: &'a str,
}

/// Raise the requirements (`edits`) and update the locks of the packages in `requirements`
/// that lock a version from before `body`. Returns the backups of every manifest and lock it
/// changed; on any failure, puts them all back and names what failed. `progress` gets one
/// line per change.
pub(crate) fn raise_sdk(
    requirements: &[SdkRequirement],
    edits: &[ManifestEdit],
    progress: &mut dyn FnMut(&str),
) -> Result<Vec<Backup>, ApplyError> {
    let mut updates: Vec<LockUpdate<'_>> = Vec::new();
    for r in requirements
        .iter()
        .filter(|r| r.status == SdkStatus::LockedBeforeBody)
    {
        if let (Some(lock), Some(locked)) = (&r.lock, &r.locked) {
            if !updates.iter().any(|u| u.lock == lock && u.locked == locked) {
                updates.push(LockUpdate {
                    lock,
                    manifest: &r.manifest,
                    locked,
                });
            }
        }
    }
    let mut backups = Vec::new();
    for u in &updates {
        match std::fs::read_to_string(u.lock) {
            Ok(original) => backups.push(Backup {
                path: u.lock.to_path_buf(),
                original,
            }),
            Err(error) => {
                return Err(ApplyError::LockUnreadable {
                    lock: u.lock.to_path_buf(),
                    error,
                })
            }
        }
    }
    let (written, errors) = write_manifests(edits);
    let mut all = written.clone();
    all.append(&mut backups);
    if let Some(error) = errors.into_iter().next() {
        restore_reporting(&all, progress);
        return Err(ApplyError::ManifestNotWritten { error });
    }
    for r in requirements {
        if let (Some(d), Some(to)) = (&r.declared, &r.raise_to) {
            if written.iter().any(|b| b.path == d.manifest) {
                progress(&format!(
                    "raised {SDK_PACKAGE} to \"{to}\" in [{}] of {} (for package {})",
                    d.table,
                    d.manifest.display(),
                    r.package
                ));
            }
        }
    }
    for u in &updates {
        if let Err(message) = update_lock(u, progress) {
            restore_reporting(&all, progress);
            return Err(ApplyError::LockNotUpdated { message });
        }
    }
    // The lock must now resolve a version with `body`, else the rewrite cannot compile.
    for r in requirements
        .iter()
        .filter(|r| r.status == SdkStatus::LockedBeforeBody)
    {
        let now = SdkRequirement::read(&r.manifest);
        if now
            .as_ref()
            .is_none_or(|n| n.status == SdkStatus::LockedBeforeBody)
        {
            restore_reporting(&all, progress);
            return Err(ApplyError::StillLocked {
                package: r.package.clone(),
                locked: now.and_then(|n| n.locked).unwrap_or_default(),
                minimum: r.minimum.clone(),
            });
        }
    }
    Ok(all)
}

/// `cargo update -p aws-sdk-sagemakerruntime@<old>`, offline first, then from the registry.
/// Err: what failed.
fn update_lock(u: &LockUpdate<'_>, progress: &mut dyn FnMut(&str)) -> Result<(), String> {
    let spec = format!("{SDK_PACKAGE}@{}", u.locked);
    let run = |offline: bool| -> Result<(bool, String), String> {
        let mut cmd = cargo_command();
        cmd.arg("update");
        if offline {
            cmd.arg("--offline");
        }
        cmd.arg("--manifest-path")
            .arg(u.manifest)
            .args(["-p", &spec]);
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run cargo update for {}: {e}", u.manifest.display()))?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ))
    };
    let (ok, offline_err) = run(true)?;
    if ok {
        progress(&format!(
            "cargo update --offline -p {spec} ({}): from cargo's local cache, no network",
            u.lock.display()
        ));
        return Ok(());
    }
    progress(&format!(
        "cargo update --offline -p {spec} ({}): no admitted version in cargo's local cache; asking the registry (network)",
        u.lock.display()
    ));
    let (ok, online_err) = run(false)?;
    if ok {
        progress(&format!(
            "cargo update -p {spec} ({}): from the registry",
            u.lock.display()
        ));
        return Ok(());
    }
    Err(format!(
        "cargo update -p {spec} failed for {}: offline: {}; from the registry: {}",
        u.manifest.display(),
        last_line(&offline_err),
        last_line(&online_err)
    ))
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

/// Put every backup back, reporting (not hiding) the files that could not be restored; returns
/// those files.
pub(crate) fn restore_reporting(
    backups: &[Backup],
    progress: &mut dyn FnMut(&str),
) -> Vec<PathBuf> {
    let errors = restore(backups);
    for e in &errors {
        progress(&format!("error: {e}"));
    }
    errors.iter().map(|e| e.path().to_path_buf()).collect()
}
