//! `bodyline migrate --write`, before the code: raise the `aws-sdk-sagemakerruntime`
//! requirement where it is declared and update the lock for that package only, so the
//! rewritten `body(..)` calls compile. Offline first: cargo goes to the registry only when no
//! version the raised requirement admits is in its local cache, and then says so.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::bail;
use bodyline_migrate::{Backup, ManifestEdit, SdkRequirement, SdkStatus, SDK_PACKAGE};

/// The cargo that runs bodyline's checks: the one that started us, else `cargo` on the path.
pub(super) fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// One `cargo update` to run: the lock, a manifest of a package in it and the old version.
struct LockUpdate<'a> {
    lock: &'a Path,
    manifest: &'a Path,
    locked: &'a str,
}

/// Raise the requirements (`edits`) and update the locks of the packages in `requirements`
/// that lock a version from before `body`. Returns the backups of every manifest and lock it
/// changed; on any failure, puts them all back and names what failed.
pub(super) fn raise(
    requirements: &[SdkRequirement],
    edits: &[ManifestEdit],
) -> anyhow::Result<Vec<Backup>> {
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
            Err(e) => bail!(
                "cannot read {} to back it up before updating it: {e}; nothing was changed",
                u.lock.display()
            ),
        }
    }
    let (written, errors) = bodyline_migrate::write_manifests(edits);
    let mut all = written.clone();
    all.append(&mut backups);
    if let Some(e) = errors.first() {
        restore(&all);
        bail!("{e}; no manifest, lock or source was changed");
    }
    for r in requirements {
        if let (Some(d), Some(to)) = (&r.declared, &r.raise_to) {
            if written.iter().any(|b| b.path == d.manifest) {
                eprintln!(
                    "raised {SDK_PACKAGE} to \"{to}\" in [{}] of {} (for package {})",
                    d.table,
                    d.manifest.display(),
                    r.package
                );
            }
        }
    }
    for u in &updates {
        if let Err(e) = update_lock(u) {
            restore(&all);
            return Err(e.context("restored the manifests and locks; no source was rewritten"));
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
            restore(&all);
            bail!(
                "package {} still locks {SDK_PACKAGE} {} after the update (needs >= {}); restored the manifests and locks, no source was rewritten; raise the requirement by hand and run `cargo update -p {SDK_PACKAGE}`",
                r.package,
                now.and_then(|n| n.locked).unwrap_or_default(),
                r.minimum
            );
        }
    }
    Ok(all)
}

/// `cargo update -p aws-sdk-sagemakerruntime@<old>`, offline first, then from the registry.
fn update_lock(u: &LockUpdate<'_>) -> anyhow::Result<()> {
    let spec = format!("{SDK_PACKAGE}@{}", u.locked);
    let run = |offline: bool| -> anyhow::Result<(bool, String)> {
        let mut cmd = cargo();
        cmd.arg("update");
        if offline {
            cmd.arg("--offline");
        }
        cmd.arg("--manifest-path")
            .arg(u.manifest)
            .args(["-p", &spec]);
        let out = cmd.output().map_err(|e| {
            anyhow::anyhow!("cannot run cargo update for {}: {e}", u.manifest.display())
        })?;
        Ok((
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).trim().to_owned(),
        ))
    };
    let (ok, offline_err) = run(true)?;
    if ok {
        eprintln!(
            "cargo update --offline -p {spec} ({}): from cargo's local cache, no network",
            u.lock.display()
        );
        return Ok(());
    }
    eprintln!(
        "cargo update --offline -p {spec} ({}): no admitted version in cargo's local cache; asking the registry (network)",
        u.lock.display()
    );
    let (ok, online_err) = run(false)?;
    if ok {
        eprintln!(
            "cargo update -p {spec} ({}): from the registry",
            u.lock.display()
        );
        return Ok(());
    }
    bail!(
        "cargo update -p {spec} failed for {}: offline: {}; from the registry: {}",
        u.manifest.display(),
        last_line(&offline_err),
        last_line(&online_err)
    )
}

fn last_line(text: &str) -> &str {
    text.lines().last().unwrap_or("")
}

/// Put every backup back, reporting (not hiding) the files that could not be restored.
pub(super) fn restore(backups: &[Backup]) -> Vec<PathBuf> {
    let errors = bodyline_migrate::restore(backups);
    for e in &errors {
        eprintln!("error: {e}");
    }
    errors.iter().map(|e| e.path().to_path_buf()).collect()
}
