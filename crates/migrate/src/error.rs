//! Errors of the migration: every variant names the file it is about.

use std::path::PathBuf;

/// What went wrong with one file or path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A path given on the command line or met while walking could not be walked.
    #[error("{path}: cannot walk this path: {message}; check that it exists and is readable")]
    Walk {
        /// The path.
        path: PathBuf,
        /// What the walker reported.
        message: String,
    },
    /// A file could not be read.
    #[error("{path}: cannot read the file: {source}; check its permissions")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A candidate file is not UTF-8, so it cannot be Rust source.
    #[error("{path}: not valid UTF-8, so not parsed as Rust; convert it to UTF-8 or exclude it")]
    NotUtf8 {
        /// The file.
        path: PathBuf,
    },
    /// A candidate file is larger than the analysis limit (`ScanOptions::max_file_bytes`).
    #[error(
        "{path}: {size} bytes, over the limit of {limit} bytes for one file, so it was not \
         analysed and nothing in it was changed; raise the limit with --max-file-size"
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A candidate file does not parse as Rust.
    #[error("{path}:{line}:{column}: does not parse as Rust ({message}); nothing in this file was changed")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line of the syntax error.
        line: usize,
        /// 1-based column of the syntax error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// Writing a file failed; the original is left in place.
    #[error("{path}: cannot write the rewritten file: {source}; the original is unchanged")]
    Write {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// A saved S3-input report could not be parsed.
    #[error(
        "{path}: not an S3-input report ({message}); rerun bodyline migrate to write it again"
    )]
    Report {
        /// The report file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The file changed on disk after it was analysed.
    #[error("{path}: changed on disk since it was analysed; rerun bodyline migrate")]
    Changed {
        /// The file.
        path: PathBuf,
    },
}

impl MigrateError {
    /// The file or path the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            MigrateError::Walk { path, .. }
            | MigrateError::Read { path, .. }
            | MigrateError::NotUtf8 { path }
            | MigrateError::TooLarge { path, .. }
            | MigrateError::Parse { path, .. }
            | MigrateError::Write { path, .. }
            | MigrateError::Report { path, .. }
            | MigrateError::Changed { path } => path,
        }
    }

    /// True for errors about the input itself (not UTF-8, too large, syntax errors): expected
    /// in a corpus.
    pub fn is_input_error(&self) -> bool {
        matches!(
            self,
            MigrateError::NotUtf8 { .. }
                | MigrateError::TooLarge { .. }
                | MigrateError::Parse { .. }
        )
    }
}

/// Why `--write` ([`crate::apply`]) wrote nothing, or not everything. Each names the files or
/// the package, what was put back, and the way out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApplyError {
    /// Files to change have uncommitted changes in git.
    #[error("refusing to write: these files have uncommitted changes: {}; commit or stash them, or pass --allow-dirty", list(.files))]
    Dirty {
        /// The files.
        files: Vec<PathBuf>,
    },
    /// `git status` could not be started for a file.
    #[error("cannot run git status for {}; pass --allow-dirty to write anyway", .path.display())]
    GitNotRun {
        /// The file.
        path: PathBuf,
        /// Why it could not be started.
        source: std::io::Error,
    },
    /// `git status` failed for a file (e.g. not in a repository).
    #[error("cannot tell whether {} has uncommitted changes (git status failed: {stderr}); pass --allow-dirty to write anyway", .path.display())]
    GitFailed {
        /// The file.
        path: PathBuf,
        /// What git said.
        stderr: String,
    },
    /// A file to change has no file name (cannot happen for a walked file).
    #[error("a file path has no file name: {}", .path.display())]
    NoFileName {
        /// The path.
        path: PathBuf,
    },
    /// Files to change are read-only.
    #[error("refusing to write: these files are read-only (no write permission in their mode, or not writable by you): {}; nothing was written; make them writable (chmod u+w), or pass --allow-read-only", list(.files))]
    ReadOnly {
        /// The files.
        files: Vec<PathBuf>,
    },
    /// A `Cargo.lock` to update could not be read for its backup.
    #[error("cannot read {} to back it up before updating it: {error}; nothing was changed", .lock.display())]
    LockUnreadable {
        /// The lock.
        lock: PathBuf,
        /// The I/O error (shown in the message).
        error: std::io::Error,
    },
    /// A manifest whose SDK requirement is raised could not be written.
    #[error("{error}; no manifest, lock or source was changed")]
    ManifestNotWritten {
        /// The write error, naming the manifest (shown in the message).
        error: MigrateError,
    },
    /// `cargo update` for the SDK failed; the manifests and locks were put back.
    #[error("restored the manifests and locks; no source was rewritten: {message}")]
    LockNotUpdated {
        /// What failed: the command, the manifest and cargo's last words.
        message: String,
    },
    /// After `cargo update`, a lock still resolves an SDK from before `body`.
    #[error("package {package} still locks {sdk} {locked} after the update (needs >= {minimum}); restored the manifests and locks, no source was rewritten; raise the requirement by hand and run `cargo update -p {sdk}`", sdk = crate::sdk::SDK_PACKAGE)]
    StillLocked {
        /// The package.
        package: String,
        /// The version its lock resolves.
        locked: String,
        /// The version the rewrite needs.
        minimum: String,
    },
    /// `--verify-build`: `cargo check` failed (or did not run) after the rewrite; what could be
    /// restored was.
    #[error("{failure}; restored {restored} original file(s){}; rerun without --verify-build and fix by hand, or use --strategy branch", sdk_note(*.sdk_files, *.sdk_restored))]
    BuildFailed {
        /// What failed: the check, with the manifest.
        failure: String,
        /// Sources put back.
        restored: usize,
        /// Manifests and locks changed for the SDK.
        sdk_files: usize,
        /// Of those, put back.
        sdk_restored: usize,
    },
    /// Some files could not be written; the others were (each failure was reported).
    #[error("{count} file(s) could not be written; the others were")]
    NotAllWritten {
        /// How many.
        count: usize,
    },
}

fn list(files: &[PathBuf]) -> String {
    files
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn sdk_note(sdk_files: usize, sdk_restored: usize) -> String {
    if sdk_files == 0 {
        String::new()
    } else {
        format!(" and {sdk_restored} manifest and lock file(s)")
    }
}
