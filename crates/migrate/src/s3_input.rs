//! The S3-input report: per crate, the call sites whose code on disk still sends `input_location`.
//!
//! A pure function of the scan result (and of which of its files were written): the packages
//! come from the scan's [`crate::manifest::PackageIndex`], the sites of a written file from its rewritten text.
//! It reads and writes no file; [`crate::write::save_report`] saves it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::error::MigrateError;
use crate::scan_result::ScanReport;
use crate::verdict::{Site, SkipReason, Verdict};

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
/// text (the others hold the text that was scanned). Crates are the packages the scan looked
/// up (`ScanOptions::list_packages`); reads and writes nothing.
pub fn report_from_scan_written(report: &ScanReport, written: &[PathBuf]) -> MigrationReport {
    let mut crates: Vec<ReportCrate> = Vec::new();
    let mut index: HashMap<Option<&Path>, usize> = HashMap::new();
    let mut crate_of = |path: &Path, crates: &mut Vec<ReportCrate>| -> usize {
        let package = report.packages.package_of(path);
        *index
            .entry(package.map(|p| p.manifest.as_path()))
            .or_insert_with(|| {
                crates.push(ReportCrate {
                    name: package.map(|p| p.name.clone()).unwrap_or_default(),
                    manifest: package
                        .map(|p| p.manifest.display().to_string())
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
            match f.migration.sites_after_write(&f.path) {
                Some(sites) => listed_sites(&sites),
                None => listed_sites(&f.migration.sites),
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

/// A line or column as the report stores it (a file of 4 billion lines is not a source file).
fn as_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

const LEFT_ALONE: &str = "left alone: ";

/// (line, column, why) of the sites that still send `input_location`.
fn listed_sites(sites: &[Site]) -> Vec<(usize, usize, String)> {
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
