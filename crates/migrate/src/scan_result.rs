//! The result of a scan: per file, its edits and the verdict of each site; the files walked,
//! the errors, the crate-wide hints and the SDK requirements. Plain data that the reports, the
//! S3-input report and the writer read; only the scan builds it.

use std::path::{Path, PathBuf};

use crate::analyze::analyze;
use crate::analyze::dead::CrateCandidate;
use crate::edit::EditSet;
use crate::error::MigrateError;
use crate::manifest::PackageIndex;
use crate::options::Strategy;
use crate::sdk::{SdkRequirement, DEFAULT_CRATE};
use crate::verdict::{Site, Verdict};

/// The result of migrating one text: its edits, the verdict of each site and hints.
#[derive(Debug, Clone)]
pub struct FileMigration {
    /// The edits (offsets into the original text).
    pub edits: EditSet,
    /// Every `invoke_endpoint_async` site, in source order.
    pub sites: Vec<Site>,
    /// Follow-up work for the user.
    pub hints: Vec<String>,
    /// Functions called for an input URI that the file does not define.
    pub(crate) wanted_helpers: Vec<String>,
    /// Helpers the rewrite left unmentioned here that may be visible in other files.
    pub(crate) dead_candidates: Vec<CrateCandidate>,
    /// The SDK's crate name in the file's package, used in inserted paths.
    pub(crate) sdk_crate: String,
}

impl FileMigration {
    /// The rewritten text.
    pub fn output(&self) -> String {
        self.edits.apply()
    }

    /// True when the file would change.
    pub fn is_changed(&self) -> bool {
        !self.edits.is_empty()
    }

    /// The sites of the rewritten text, as a scan of the file would find them once written
    /// (without the crate's other files); None when that text does not parse. Analyses text
    /// in memory; reads no source file.
    pub(crate) fn sites_after_write(&self, path: &Path) -> Option<Vec<Site>> {
        let output = self.output();
        let sites = analyze(&output, Some(path), Strategy::Auto, None, DEFAULT_CRATE)
            .ok()
            .map(|a| a.sites);
        // Parsed spans live in a thread-local source map; drop them once per file.
        proc_macro2::extra::invalidate_current_thread_spans();
        sites
    }
}

/// One analysed file.
#[derive(Debug, Clone)]
pub struct FileReport {
    /// Path as walked.
    pub path: PathBuf,
    /// What the migration does to it.
    pub migration: FileMigration,
}

/// The result of a run over paths.
#[derive(Debug, Default)]
pub struct ScanReport {
    /// Files with at least one call site (changed or not), sorted by path.
    pub files: Vec<FileReport>,
    /// Files or paths that could not be processed; the others were.
    pub errors: Vec<MigrateError>,
    /// `.rs` files walked.
    pub files_walked: usize,
    /// Every file walked (and the files given explicitly), sorted.
    pub walked: Vec<PathBuf>,
    /// Files parsed (passed the prefilter).
    pub files_parsed: usize,
    /// Follow-up work per crate, e.g. dependencies the rewrite left unused.
    pub hints: Vec<String>,
    /// The SDK requirement of every package with a call site to rewrite, by manifest.
    pub sdk: Vec<SdkRequirement>,
    /// The package of every walked file (empty unless `ScanOptions::list_packages`).
    pub packages: PackageIndex,
}

/// Counts for the summary line.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    /// Sites rewritten to an inline body.
    pub rewritten: usize,
    /// Sites given a size branch.
    pub branched: usize,
    /// Sites left alone.
    pub skipped: usize,
    /// Files that would change.
    pub files_changed: usize,
    /// Files or paths with errors.
    pub errors: usize,
}

impl ScanReport {
    /// Counts of verdicts, changed files and errors.
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            errors: self.errors.len(),
            ..Summary::default()
        };
        for f in &self.files {
            if f.migration.is_changed() {
                s.files_changed += 1;
            }
            for site in &f.migration.sites {
                match site.verdict {
                    Verdict::Rewritten => s.rewritten += 1,
                    Verdict::Branched => s.branched += 1,
                    _ => s.skipped += 1,
                }
            }
        }
        s
    }
}
