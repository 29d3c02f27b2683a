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
//! ranges changes, so CRLF, BOMs, tabs and comments survive. Inserted code (the `body(..)`
//! call, the `Blob` import, the size branch) is built as tokens and printed with prettyplease,
//! then indented to the site; the user's own expressions go in verbatim.
//!
//! A URI returned by a helper is followed in the same file, and [`scan`] follows module-level
//! helpers across the files of a crate: a file that calls a function it does not define for an
//! input URI is analysed again with its package's module tree (`src/lib.rs`, `src/main.rs`,
//! `src/bin/*`, through `mod` items and `#[path]`), resolving the call through `use` items
//! (renames, globs, re-exports), `crate::`/`self::`/`super::` paths and the library's name.
//! When the name may mean several functions, the site is left alone with that reason.
//! Methods are followed too, when the receiver's type is known (a parameter, a typed `let`, a
//! struct literal, a declared field of `self`, `Self`), to inherent `impl` blocks anywhere in
//! the crate; trait methods are left alone. `#[cfg]` modules are followed in every
//! configuration and edits inside them are noted with their `cfg`. A helper the rewrite leaves
//! without any mention in the crate is removed, with the imports only it used (a `pub` helper
//! of a library is kept and reported).
//!
//! Files are only written by [`write_files`] (atomic: temp file and rename) and [`apply`], which
//! is `bodyline migrate --write`: it refuses files with uncommitted changes or no write
//! permission unless [`WriteOptions`] allows them, raises the SDK requirement where the rewrite
//! needs it, writes, and with `verify_build` runs `cargo check` and restores every file when it
//! fails. Reports come from [`render_human`], [`render_diff`], [`render_json`] and
//! [`render_sarif`] (locations relative to the repository's top level, [`SourceRoot`]); all are
//! pure functions of the [`ScanReport`].
//!
//! # Layers
//!
//! The modules form layers; each uses only modules listed before it (no import loop):
//!
//! 1. words: `options`, `verdict`, `text`, `edit`, `manifest` (which package a file belongs
//!    to), `cargo` (running cargo), `sdk` (the SDK requirement), `error`;
//! 2. `analyze`: one file's text to edits and verdicts (its `site` module split by job:
//!    locate the request, the payload, the upload or helper, the rewrite, the size branch);
//! 3. the scan: `scan_result` (plain data) and `scan`;
//! 4. the reports: `s3_input`, `report`, `sarif`;
//! 5. writing: `write`, `lock_update`, `apply`.
//!
//! # The S3-input report
//!
//! [`MigrationReport`] says, per crate, which call sites still send `input_location` in the code
//! as it is on disk after a run, so that the stack keeps (or drops) the input prefix and its
//! S3 grants. `bodyline migrate` prints it as the `s3_input` member of `--format json` and saves
//! it to `.bodyline/migrate-report.json` ([`DEFAULT_MIGRATION_REPORT`]; `--report-file`,
//! `--no-report-file`) on every run. The shape, version 1:
//!
//! ```json
//! {
//!   "version": 1,
//!   "written": false,
//!   "needed": true,
//!   "crates": [
//!     {
//!       "name": "legacy-app",
//!       "manifest": "examples/legacy-app/Cargo.toml",
//!       "sites": [
//!         { "path": "examples/legacy-app/src/scoring.rs", "line": 168, "column": 14,
//!           "why": "left alone: the input URI is a parameter (`input_uri`); the upload happens elsewhere" }
//!       ]
//!     }
//!   ]
//! }
//! ```
//!
//! - `written`: this run wrote rewritten files and they are still on disk (false for check,
//!   diff and dry runs, and after `--verify-build` restored the originals).
//! - `needed`: some crate lists a site; false means no scanned code needs S3 input.
//! - `crates`: every Cargo package (nearest `Cargo.toml` with a `[package]`) with at least one
//!   walked `.rs` file, sorted by `manifest`; a crate with empty `sites` was scanned and needs
//!   nothing. Files outside any package are grouped under `name` and `manifest` `""`. Paths
//!   are as walked (relative when the scanned paths were relative).
//! - `sites`: each `invoke_endpoint_async` request whose code on disk sends `input_location`:
//!   sites left alone for any reason other than already sending a body or setting no input
//!   location, size-branched sites (their large-payload arm keeps the upload), and — when the
//!   file was not written — the sites `--write` would rewrite. `line`/`column` (1-based, column
//!   in chars) locate the call in the file as it is on disk; `why` is a human-readable reason.
//!   A candidate file that could not be read or parsed is listed as one site (at the syntax
//!   error, else 1:1) whose `why` starts with `not analysed`: unknown code counts as needing S3.
//!
//! ```
//! use bodyline_migrate::{migrate_source, ScanOptions, Verdict};
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
//! let options = ScanOptions { strategy: bodyline_migrate::Strategy::Inline, ..ScanOptions::default() };
//! let m = migrate_source(src, None, &options).unwrap();
//! assert_eq!(m.sites[0].verdict, Verdict::Rewritten);
//! assert!(m.output().contains(".body(Blob::new(payload))"));
//! assert!(!m.output().contains("put_object"));
//! ```
#![deny(missing_docs)]

mod analyze;
mod apply;
mod cargo;
mod edit;
mod error;
mod lock_update;
mod manifest;
mod options;
mod report;
mod s3_input;
mod sarif;
mod scan;
mod scan_result;
mod sdk;
mod text;
mod verdict;
mod write;

pub use crate::{
    apply::{apply, Applied, WriteOptions},
    cargo::{cargo_command, is_set_by_cargo, without_cargo_vars},
    edit::{Edit, EditError, EditSet},
    error::{ApplyError, MigrateError},
    manifest::{Package, PackageIndex},
    options::{ScanOptions, Strategy, DEFAULT_MAX_FILE_BYTES},
    report::{render_diff, render_human, render_json},
    s3_input::{
        report_from_scan, report_from_scan_written, MigrationReport, ReportCrate, ReportSite,
        DEFAULT_MIGRATION_REPORT, MIGRATION_REPORT_VERSION,
    },
    sarif::{render_sarif, SourceRoot, SRCROOT},
    scan::{migrate_source, scan, NEEDLE},
    scan_result::{FileMigration, FileReport, ScanReport, Summary},
    sdk::{
        manifest_edits, ManifestEdit, SdkDeclaration, SdkRequirement, SdkStatus, BODY_SINCE,
        SDK_PACKAGE,
    },
    verdict::{Site, SkipReason, Verdict},
    write::{read_only_files, restore, save_report, write_files, write_manifests, Backup},
};
