//! What a scan is asked to do: the rewrite strategy and the scan's limits.

/// How a site whose payload size is unknown is rewritten.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Inline when the payload is provably at most 128,000 bytes, else branch on its size.
    #[default]
    Auto,
    /// Always inline (the user asserts payloads are small); file uploads still branch.
    Inline,
    /// Always branch on the payload size, keeping the upload for large payloads.
    Branch,
}

/// The largest file analysed by default (8 MiB). syn's tree and the analysis take hundreds of
/// times a file's size in memory (a 50 MB generated file took over 4 GB), so a larger file is
/// reported as too large instead of being parsed; `ScanOptions::max_file_bytes` raises the limit.
pub const DEFAULT_MAX_FILE_BYTES: u64 = 8 << 20;

/// How to scan and migrate.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Inline, branch on size, or decide per site.
    pub strategy: Strategy,
    /// Skip files that do not contain `input_location` without parsing them (on by default).
    pub prefilter: bool,
    /// Files larger than this many bytes are reported as too large, not analysed.
    pub max_file_bytes: u64,
    /// Look up the package of every walked file (`ScanReport::packages`, what the S3-input
    /// report groups by; on by default). Off spares a manifest read per package when the
    /// report is not wanted.
    pub list_packages: bool,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            strategy: Strategy::Auto,
            prefilter: true,
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            list_packages: true,
        }
    }
}
