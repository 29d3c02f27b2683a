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
    /// A candidate file is larger than the analysis limit (`Options::max_file_bytes`).
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
