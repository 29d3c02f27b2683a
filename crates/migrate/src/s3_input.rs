//! The S3-input report: per crate, the call sites whose code on disk still sends `input_location`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::MigrateError;
use crate::scan::{migrate_source, Options, ScanReport};
use crate::verdict::{SkipReason, Verdict};

pub use bodyline_terms::{
    MigrationReport, ReportCrate, ReportSite, DEFAULT_MIGRATION_REPORT, MIGRATION_REPORT_VERSION,
};

/// The report for `report` when either all of its changed files were written (`written`)
/// or none were.
pub fn report_from_scan(report: &ScanReport, written: bool) -> MigrationReport {
    let files: Vec<PathBuf> = if written {
        report
            .files
            .iter()
            .filter(|f| f.migration.is_changed())
            .map(|f| f.path.clone())
            .collect()
    } else {
        Vec::new()
    };
    report_from_scan_written(report, &files)
}

/// The report for `report` when exactly the files in `written` now hold their rewritten
/// text (the others hold the text that was scanned). Reads each crate's `Cargo.toml` for
/// its name; writes nothing.
pub fn report_from_scan_written(report: &ScanReport, written: &[PathBuf]) -> MigrationReport {
    let mut manifests = ManifestCache::default();
    let mut crates: Vec<ReportCrate> = Vec::new();
    let mut index: HashMap<Option<PathBuf>, usize> = HashMap::new();
    let mut crate_of = |path: &Path, crates: &mut Vec<ReportCrate>| -> usize {
        let manifest = manifests.manifest_of(path);
        *index.entry(manifest.clone()).or_insert_with(|| {
            let name = manifest.as_deref().map(package_name).unwrap_or_default();
            crates.push(ReportCrate {
                name,
                manifest: manifest
                    .map(|m| m.display().to_string())
                    .unwrap_or_default(),
                sites: Vec::new(),
            });
            crates.len() - 1
        })
    };
    for path in &report.walked {
        crate_of(path, &mut crates);
    }
    let mut any_written = false;
    for f in &report.files {
        let i = crate_of(&f.path, &mut crates);
        let is_written = f.migration.is_changed() && written.contains(&f.path);
        any_written |= is_written;
        // A written file is described by its new text: analyse it again (no disk read).
        let mut listed: Vec<(usize, usize, String)> = if is_written {
            match migrate_source(&f.migration.output(), Some(&f.path), &Options::default()) {
                Ok(m) => listed_sites(&m.sites),
                Err(_) => listed_sites(&f.migration.sites),
            }
        } else {
            listed_sites(&f.migration.sites)
        };
        if is_written {
            // Sites left alone keep their order in the new text; their reasons are the
            // ones this run found (the new analysis lacks the crate's other files).
            let before: Vec<String> = f
                .migration
                .sites
                .iter()
                .filter_map(|s| still_sends_input_location(&s.verdict))
                .filter(|why| why.starts_with(LEFT_ALONE))
                .collect();
            let after: Vec<&mut (usize, usize, String)> = listed
                .iter_mut()
                .filter(|(_, _, why)| why.starts_with(LEFT_ALONE))
                .collect();
            if after.len() == before.len() {
                for (site, why) in after.into_iter().zip(before) {
                    site.2 = why;
                }
            }
        }
        for (line, column, why) in listed {
            crates[i].sites.push(ReportSite {
                path: f.path.display().to_string(),
                line: as_u32(line),
                column: as_u32(column),
                why,
            });
        }
    }
    // A candidate file that could not be analysed may hold sites: never claim it needs
    // nothing (the stack would drop grants the code still uses).
    for e in &report.errors {
        let (line, column) = match e {
            MigrateError::Parse { line, column, .. } => (*line, *column),
            MigrateError::Read { .. } | MigrateError::NotUtf8 { .. } => (1, 1),
            _ => continue,
        };
        let i = crate_of(e.path(), &mut crates);
        crates[i].sites.push(ReportSite {
            path: e.path().display().to_string(),
            line: as_u32(line),
            column: as_u32(column),
            why: format!("not analysed, so counted as still sending input_location: {e}"),
        });
    }
    crates.sort_by(|a, b| a.manifest.cmp(&b.manifest));
    MigrationReport {
        version: MIGRATION_REPORT_VERSION,
        written: any_written,
        needed: crates.iter().any(|c| !c.sites.is_empty()),
        crates,
    }
}

/// Save the report as pretty JSON to `path`, creating its directory, atomically (temp file
/// and rename).
pub fn save_report(report: &MigrationReport, path: &Path) -> Result<(), MigrateError> {
    let write_err = |source| MigrateError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    crate::write::replace_atomically(path, &text).map_err(write_err)
}

/// A line or column as the report stores it (a file of 4 billion lines is not a source file).
fn as_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

const LEFT_ALONE: &str = "left alone: ";

/// (line, column, why) of the sites that still send `input_location`.
fn listed_sites(sites: &[crate::verdict::Site]) -> Vec<(usize, usize, String)> {
    sites
        .iter()
        .filter_map(|s| still_sends_input_location(&s.verdict).map(|why| (s.line, s.column, why)))
        .collect()
}

/// The reason a site with this verdict still sends `input_location` in the code it was found
/// in, or None when it does not (it already sends a body, or sets no input location).
fn still_sends_input_location(verdict: &Verdict) -> Option<String> {
    match verdict {
        Verdict::Rewritten => Some(
            "not written yet: `bodyline migrate --write` sends the payload inline".to_owned(),
        ),
        Verdict::Branched => Some(
            "not written yet: `bodyline migrate --write` adds a size branch; payloads over 128,000 bytes keep the S3 upload"
                .to_owned(),
        ),
        Verdict::Skipped {
            reason: SkipReason::AlreadyInline | SkipReason::NoInputLocation,
        } => None,
        Verdict::Skipped {
            reason: SkipReason::AlreadyBranched,
        } => Some("size branch: payloads over 128,000 bytes keep the S3 upload".to_owned()),
        Verdict::Skipped { reason } => Some(format!("{LEFT_ALONE}{reason}")),
    }
}

/// The nearest `Cargo.toml` with a `[package]` above a file, cached per directory.
#[derive(Default)]
pub(crate) struct ManifestCache {
    dirs: HashMap<PathBuf, Option<PathBuf>>,
}

impl ManifestCache {
    pub(crate) fn manifest_of(&mut self, file: &Path) -> Option<PathBuf> {
        let dir = file.parent()?;
        self.in_dir(dir)
    }

    fn in_dir(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(m) = self.dirs.get(dir) {
            return m.clone();
        }
        let candidate = if dir.as_os_str().is_empty() {
            Path::new("Cargo.toml").to_path_buf()
        } else {
            dir.join("Cargo.toml")
        };
        let found = if is_package_manifest(&candidate) {
            Some(candidate)
        } else {
            // A relative path ends at "" (the current directory, looked at above), so
            // `src/x.rs` still finds `./Cargo.toml`.
            dir.parent().and_then(|parent| self.in_dir(parent))
        };
        self.dirs.insert(dir.to_path_buf(), found.clone());
        found
    }
}

/// True when `path` is a `Cargo.toml` with a `[package]` table (not a virtual workspace).
fn is_package_manifest(path: &Path) -> bool {
    // A cheap look first: this runs for every directory of a large tree.
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.contains("package")
            && toml::from_str::<toml::Table>(&text).is_ok_and(|t| t.contains_key("package"))
    })
}

/// A `Cargo.toml` as a table; None when it cannot be read or parsed.
pub(crate) fn manifest_table(manifest: &Path) -> Option<toml::Table> {
    let text = std::fs::read_to_string(manifest).ok()?;
    toml::from_str(&text).ok()
}

/// `package.name` of a manifest; empty when it cannot be read.
fn package_name(manifest: &Path) -> String {
    manifest_table(manifest)
        .and_then(|t| {
            t.get("package")?
                .get("name")?
                .as_str()
                .map(ToOwned::to_owned)
        })
        .unwrap_or_default()
}
