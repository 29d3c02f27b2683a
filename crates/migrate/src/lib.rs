//! Rewrite SageMaker `invoke_endpoint_async()` call sites that upload their payload to S3 and
//! pass `input_location(uri)` into calls that send the payload inline with `body(Blob::new(..))`.
//!
//! # Brief overview
//!
//! The crate is pure text to text. [`scan`] walks paths with `ignore`, skips files that do not
//! contain `input_location` (a memchr prefilter), and hands each candidate to
//! [`migrate_source`], in parallel. That parses the file with syn, finds every
//! `invoke_endpoint_async()` request (inline chains and stored builders), resolves its input
//! URI through `let`s, `format!`, concatenation and `const`s, matches it to the `put_object`
//! of the same bucket and key, and produces a [`FileMigration`]: an [`EditSet`] of byte-range
//! [`Edit`]s into the original text (the rustfix model: sorted, non-overlapping, each site a
//! transaction) and one [`Site`] with a [`Verdict`] per request. Nothing outside the edited
//! ranges changes, so CRLF, BOMs, tabs and comments survive.
//!
//! Files are only written by [`write_files`] (atomic: temp file and rename). Reports come from
//! [`render_human`], [`render_diff`], [`render_json`] and [`render_sarif`].
//!
//! ```
//! use bodyline_migrate::{migrate_source, Options, Verdict};
//! let src = r#"
//! async fn submit(s3: &S3, rt: &Rt, bucket: &str, payload: Vec<u8>) -> anyhow::Result<()> {
//!     let key = format!("in/{}.json", uuid::Uuid::new_v4());
//!     s3.put_object().bucket(bucket).key(&key).body(ByteStream::from(payload)).send().await?;
//!     rt.invoke_endpoint_async()
//!         .endpoint_name("ep")
//!         .input_location(format!("s3://{bucket}/{key}"))
//!         .send()
//!         .await?;
//!     Ok(())
//! }
//! "#;
//! let options = Options { strategy: bodyline_migrate::Strategy::Inline, ..Options::default() };
//! let m = migrate_source(src, None, &options).unwrap();
//! assert_eq!(m.sites[0].verdict, Verdict::Rewritten);
//! assert!(m.output().contains(".body(Blob::new(payload))"));
//! assert!(!m.output().contains("put_object"));
//! ```
#![deny(missing_docs)]

mod analyze;
mod edit;
mod error;
mod report;
mod scan;
mod text;
mod verdict;
mod write;

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

pub use crate::{
    edit::{Edit, EditError, EditSet},
    error::MigrateError,
    report::{render_diff, render_human, render_json, render_sarif},
    scan::{migrate_source, scan, FileMigration, FileReport, Options, ScanReport, Summary, NEEDLE},
    verdict::{Site, SkipReason, Verdict},
    write::{restore, write_files, Backup},
};
