//! The migration report: what `bodyline migrate` leaves at `.bodyline/migrate-report.json` for
//! `setup` (`input = "auto"`) and `verify` to read. It lists, per crate, the call sites that
//! still send `input_location` in the code as it is on disk.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Where `bodyline migrate` writes the report by default (relative to where it runs).
pub const DEFAULT_MIGRATION_REPORT: &str = ".bodyline/migrate-report.json";

/// The report's format version.
pub const MIGRATION_REPORT_VERSION: u32 = 1;

/// The migration report (version [`MIGRATION_REPORT_VERSION`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MigrationReport {
    /// Format version.
    pub version: u32,
    /// Whether the run that wrote it rewrote files (otherwise it describes unmigrated code).
    #[serde(default)]
    pub written: bool,
    /// Whether any call site still needs S3 input.
    pub needed: bool,
    /// Every crate scanned, with its remaining S3-input sites (possibly none), sorted by
    /// manifest path.
    #[serde(default)]
    pub crates: Vec<ReportCrate>,
}

/// One Cargo package of a [`MigrationReport`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportCrate {
    /// The package name from its `Cargo.toml` (empty for files outside any package).
    pub name: String,
    /// Path of its `Cargo.toml`, as walked (empty for files outside any package).
    #[serde(default)]
    pub manifest: String,
    /// Call sites that still send `input_location`; empty when it needs no S3 input.
    #[serde(default)]
    pub sites: Vec<ReportSite>,
}

/// One `invoke_endpoint_async` call site that still sends `input_location`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSite {
    /// The source file, as walked.
    pub path: String,
    /// 1-based line of the call in the file on disk.
    pub line: u32,
    /// 1-based column (in chars).
    #[serde(default)]
    pub column: u32,
    /// Why it still sends `input_location` (the verdict).
    #[serde(default)]
    pub why: String,
}

/// Why a report could not be read.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum ReportError {
    /// The file exists but could not be read.
    #[error("cannot read the migration report {}: {source}", path.display())]
    Io {
        /// The report.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// The file is not a migration report this version reads.
    #[error("the migration report {} is unusable: {message}; run `bodyline migrate` again to rewrite it", path.display())]
    Invalid {
        /// The report.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl MigrationReport {
    /// Every remaining site with its crate.
    pub fn sites(&self) -> impl Iterator<Item = (&ReportCrate, &ReportSite)> {
        self.crates
            .iter()
            .flat_map(|c| c.sites.iter().map(move |s| (c, s)))
    }

    /// Reads a report; `Ok(None)` when the file does not exist.
    pub fn load(path: &Path) -> Result<Option<MigrationReport>, ReportError> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(ReportError::Io {
                    path: path.to_path_buf(),
                    source,
                })
            }
        };
        let invalid = |message: String| ReportError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        let report: MigrationReport =
            serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
        if report.version != MIGRATION_REPORT_VERSION {
            return Err(invalid(format!(
                "version {} is not version {MIGRATION_REPORT_VERSION}",
                report.version
            )));
        }
        Ok(Some(report))
    }
}
