//! `bodyline migrate`: rewrite S3 upload + `input_location` call sites to an inline `Body`.

mod sdk;

use std::collections::BTreeSet;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context as _};
use bodyline_migrate::{Backup, Options, ScanReport, Strategy};

/// Output format of the report.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// rustc-style diagnostics and a summary line.
    Human,
    /// Machine-readable JSON.
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
}

/// How sites whose payload size is unknown are rewritten.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum StrategyArg {
    /// Inline provably small payloads; branch on size otherwise.
    Auto,
    /// Always inline (you assert payloads are at most 128,000 bytes).
    Inline,
    /// Always branch on size, keeping the upload for large payloads.
    Branch,
}

/// Rewrite S3 upload + input_location call sites to inline Body (dry run by default).
#[derive(clap::Args, Debug)]
pub struct MigrateArgs {
    /// Files or directories to scan (.gitignore is respected, target/ skipped).
    #[arg(default_value = ".")]
    pub paths: Vec<PathBuf>,
    /// Apply the rewrite to the files (atomically, file by file).
    #[arg(long, conflicts_with = "check")]
    pub write: bool,
    /// Print a unified diff of the changes.
    #[arg(long)]
    pub diff: bool,
    /// Exit 1 if any site would be rewritten (a CI gate); writes nothing.
    #[arg(long)]
    pub check: bool,
    /// With --write: write even if the files have uncommitted changes in git.
    #[arg(long, requires = "write")]
    pub allow_dirty: bool,
    /// With --write: write files the caller may not write (no write bit, e.g. mode 0444)
    /// instead of refusing them.
    #[arg(long, requires = "write")]
    pub allow_read_only: bool,
    /// With --write: run `cargo check` on the affected packages and restore every file if it fails.
    #[arg(long, requires = "write")]
    pub verify_build: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// How to treat payloads whose size is not known statically.
    #[arg(long, value_enum, default_value_t = StrategyArg::Auto)]
    pub strategy: StrategyArg,
    /// Where to save the S3-input report (which sites still need S3 input after this run).
    #[arg(long, default_value = bodyline_migrate::DEFAULT_MIGRATION_REPORT)]
    pub report_file: PathBuf,
    /// Do not save the S3-input report.
    #[arg(long, conflicts_with = "report_file")]
    pub no_report_file: bool,
    /// Largest file to analyse, in bytes (suffixes K, M, G: powers of 1024); a larger file is
    /// reported as too large and left unchanged.
    #[arg(long, value_name = "SIZE", default_value = "8M", value_parser = parse_size)]
    pub max_file_size: u64,
    /// Parse every .rs file, not only those containing `input_location` (for benchmarks).
    #[arg(long, hide = true)]
    pub no_prefilter: bool,
}

/// A size such as `8M`, `500K` or `1048576` (bytes; K, M and G are powers of 1024).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, ""),
    };
    let shift = match unit.to_ascii_uppercase().as_str() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        _ => {
            return Err(format!(
                "`{text}`: unknown unit `{unit}`; use a number of bytes, or K, M or G"
            ))
        }
    };
    digits
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(1 << shift))
        .ok_or_else(|| {
            format!("`{text}` is not a size; use a number of bytes, or K, M or G (e.g. 16M)")
        })
}

/// Run `bodyline migrate`: 0 ok, 1 on errors or when `--check` finds rewritable sites.
pub fn run(args: &MigrateArgs) -> anyhow::Result<ExitCode> {
    let strategy = match args.strategy {
        StrategyArg::Auto => Strategy::Auto,
        StrategyArg::Inline => Strategy::Inline,
        StrategyArg::Branch => Strategy::Branch,
    };
    let options = Options {
        strategy,
        prefilter: !args.no_prefilter,
        max_file_bytes: args.max_file_size,
    };
    let report = bodyline_migrate::scan(&args.paths, &options);
    let summary = report.summary();
    // Write first: the JSON report and the report file describe the files as they are after.
    let (written, write_result) = if args.write && summary.files_changed > 0 {
        write(args, &report)
    } else {
        (Vec::new(), Ok(()))
    };
    // Listing every scanned crate reads each package manifest: only when the report is used.
    let s3_input = (args.format == Format::Json || !args.no_report_file)
        .then(|| bodyline_migrate::report_from_scan_written(&report, &written));
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Human => {
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            let styled = std::io::stdout().is_terminal();
            write!(out, "{}", bodyline_migrate::render_human(&report, styled))?;
            if args.diff {
                write!(out, "{}", bodyline_migrate::render_diff(&report))?;
            }
        }
        Format::Json => {
            if let Some(s3_input) = &s3_input {
                writeln!(out, "{}", bodyline_migrate::render_json(&report, s3_input))?;
            }
        }
        Format::Sarif => {
            let root = bodyline_migrate::SourceRoot::find(&args.paths);
            writeln!(out, "{}", bodyline_migrate::render_sarif(&report, &root))?
        }
    }
    out.flush()?;
    if let Some(s3_input) = s3_input.as_ref().filter(|_| !args.no_report_file) {
        bodyline_migrate::save_report(s3_input, &args.report_file).with_context(|| {
            format!(
                "cannot save the S3-input report to {}; pass --report-file PATH or --no-report-file",
                args.report_file.display()
            )
        })?;
        if args.format == Format::Human {
            let sites: usize = s3_input.crates.iter().map(|c| c.sites.len()).sum();
            eprintln!(
                "S3-input report: {} ({sites} site{} still send input_location)",
                args.report_file.display(),
                if sites == 1 { "" } else { "s" }
            );
        }
    }
    write_result?;
    let mut failed = summary.errors > 0;
    if args.check && summary.rewritten + summary.branched > 0 {
        failed = true;
    }
    if !args.write && !args.check && summary.files_changed > 0 && args.format == Format::Human {
        eprintln!(
            "dry run: nothing written; rerun with --write to apply, --diff to see the changes"
        );
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Raise the SDK requirement and lock where the rewrite needs it, write the changed files (and
/// check the build if asked). Returns the files that hold their rewritten text afterwards
/// (none after a restore, except files that could not be restored) and the outcome.
fn write(args: &MigrateArgs, report: &ScanReport) -> (Vec<PathBuf>, anyhow::Result<()>) {
    let manifest_edits = bodyline_migrate::manifest_edits(&report.sdk);
    let changed: Vec<&Path> = report
        .files
        .iter()
        .filter(|f| f.migration.is_changed())
        .map(|f| f.path.as_path())
        .chain(manifest_edits.iter().map(|e| e.path.as_path()))
        .collect();
    if !args.allow_dirty {
        let dirty = match dirty_files(&changed) {
            Ok(d) => d,
            Err(e) => return (Vec::new(), Err(e)),
        };
        if !dirty.is_empty() {
            return (
                Vec::new(),
                Err(anyhow::anyhow!(
                    "refusing to write: these files have uncommitted changes: {}; commit or stash them, or pass --allow-dirty",
                    dirty.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }
    if !args.allow_read_only {
        let read_only = bodyline_migrate::read_only_files(&changed);
        if !read_only.is_empty() {
            return (
                Vec::new(),
                Err(anyhow::anyhow!(
                    "refusing to write: these files are read-only (no write permission in their mode, or not writable by you): {}; nothing was written; make them writable (chmod u+w), or pass --allow-read-only",
                    read_only.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                )),
            );
        }
    }
    // The SDK first: the rewritten code needs `body`. A failure here changes nothing.
    let sdk_backups = match sdk::raise(&report.sdk, &manifest_edits) {
        Ok(b) => b,
        Err(e) => return (Vec::new(), Err(e)),
    };
    let (backups, errors) = bodyline_migrate::write_files(report);
    for e in &errors {
        eprintln!("error: {e}");
    }
    eprintln!("wrote {} file(s)", backups.len());
    let mut written: Vec<PathBuf> = backups.iter().map(|b| b.path.clone()).collect();
    if args.verify_build && !backups.is_empty() {
        if let Err(e) = verify_build(&backups, &sdk_backups, &mut written) {
            return (written, Err(e));
        }
    }
    if !errors.is_empty() {
        return (
            written,
            Err(anyhow::anyhow!(
                "{} file(s) could not be written; the others were",
                errors.len()
            )),
        );
    }
    (written, Ok(()))
}

/// `cargo check` each package with a written file; on failure restore every backup (sources,
/// and the manifests and locks in `sdk_backups`, together) and keep in `written` only the
/// files that could not be restored.
fn verify_build(
    backups: &[Backup],
    sdk_backups: &[Backup],
    written: &mut Vec<PathBuf>,
) -> anyhow::Result<()> {
    let manifests: BTreeSet<PathBuf> = backups
        .iter()
        .filter_map(|b| package_manifest(&b.path))
        .collect();
    for manifest in &manifests {
        eprintln!("cargo check --manifest-path {}", manifest.display());
        let status = sdk::cargo()
            .args(["check", "--quiet", "--manifest-path"])
            .arg(manifest)
            .status();
        let failure = match status {
            Ok(s) if s.success() => continue,
            Ok(_) => format!(
                "cargo check failed for {} after the rewrite",
                manifest.display()
            ),
            Err(e) => format!("cannot run cargo check for {}: {e}", manifest.display()),
        };
        let not_restored = sdk::restore(backups);
        written.retain(|p| not_restored.contains(p));
        let sdk_not_restored = sdk::restore(sdk_backups);
        let sdk_note = if sdk_backups.is_empty() {
            String::new()
        } else {
            format!(
                " and {} manifest and lock file(s)",
                sdk_backups.len() - sdk_not_restored.len()
            )
        };
        bail!(
            "{failure}; restored {} original file(s){sdk_note}; rerun without --verify-build and fix by hand, or use --strategy branch",
            backups.len() - not_restored.len()
        );
    }
    Ok(())
}

/// Files with uncommitted changes according to `git status --porcelain`.
fn dirty_files(files: &[&Path]) -> anyhow::Result<Vec<PathBuf>> {
    let mut dirty = Vec::new();
    for f in files {
        let dir = f
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = f.file_name().context("a file path has no file name")?;
        let out = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["status", "--porcelain", "--"])
            .arg(name)
            .output()
            .with_context(|| {
                format!(
                    "cannot run git status for {}; pass --allow-dirty to write anyway",
                    f.display()
                )
            })?;
        if !out.status.success() {
            bail!(
                "cannot tell whether {} has uncommitted changes (git status failed: {}); pass --allow-dirty to write anyway",
                f.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        if !out.stdout.is_empty() {
            dirty.push(f.to_path_buf());
        }
    }
    Ok(dirty)
}

/// The nearest `Cargo.toml` with a `[package]` above `file`.
fn package_manifest(file: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(file).ok()?;
    abs.ancestors()
        .skip(1)
        .map(|d| d.join("Cargo.toml"))
        .find(|m| {
            std::fs::read_to_string(m).is_ok_and(|t| t.lines().any(|l| l.trim() == "[package]"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_units_and_refuse_anything_else() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("8M"), Ok(8 << 20));
        assert_eq!(parse_size("500k"), Ok(500 << 10));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        for bad in ["", "M", "10Q", "-1", "99999999999999999999G"] {
            let err = parse_size(bad).unwrap_err();
            assert!(err.contains("K, M or G"), "{bad}: {err}");
        }
    }

    /// An upload-then-invoke that `--strategy inline` rewrites; it does not compile on its own
    /// (no SDK dependency), so `--verify-build` must fail and restore it.
    const SHAPE1: &str = r#"//! Upload, then invoke.
pub async fn go(s3: &S3, rt: &Rt, bucket: &str, payload: Vec<u8>) -> anyhow::Result<()> {
    let key = format!("in/{}.json", uuid::Uuid::new_v4());
    s3.put_object().bucket(bucket).key(&key).body(ByteStream::from(payload)).send().await?;
    rt.invoke_endpoint_async().endpoint_name("e").input_location(format!("s3://{bucket}/{key}")).send().await?;
    Ok(())
}
"#;

    struct TempCrate(PathBuf);

    impl TempCrate {
        fn new(tag: &str) -> Self {
            let dir = std::env::temp_dir()
                .join(format!("bodyline-cli-migrate-{tag}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(dir.join("src")).unwrap();
            std::fs::write(
                dir.join("Cargo.toml"),
                "[package]\nname = \"broken\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
            )
            .unwrap();
            std::fs::write(dir.join("src/lib.rs"), SHAPE1).unwrap();
            TempCrate(dir)
        }

        fn args(&self) -> MigrateArgs {
            MigrateArgs {
                paths: vec![self.0.join("src")],
                write: false,
                diff: false,
                check: false,
                allow_dirty: false,
                allow_read_only: false,
                verify_build: false,
                format: Format::Json,
                strategy: StrategyArg::Inline,
                report_file: self.0.join("out/report.json"),
                no_report_file: false,
                no_prefilter: false,
                max_file_size: bodyline_migrate::DEFAULT_MAX_FILE_BYTES,
            }
        }

        fn report(&self) -> bodyline_migrate::MigrationReport {
            bodyline_migrate::MigrationReport::load(&self.0.join("out/report.json"))
                .unwrap()
                .expect("the report was written")
        }
    }

    impl Drop for TempCrate {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn check_saves_the_report_with_the_rewritable_site() {
        let c = TempCrate::new("check");
        let code = run(&MigrateArgs {
            check: true,
            ..c.args()
        })
        .unwrap();
        assert_eq!(code, ExitCode::FAILURE);
        let r = c.report();
        assert!(!r.written && r.needed);
        assert_eq!(r.crates[0].name, "broken");
        assert_eq!(r.crates[0].sites[0].line, 5);
        assert!(r.crates[0].sites[0].why.starts_with("not written yet"));
    }

    #[test]
    fn no_report_file_writes_none() {
        let c = TempCrate::new("none");
        run(&MigrateArgs {
            no_report_file: true,
            ..c.args()
        })
        .unwrap();
        assert!(!c.0.join("out").exists());
    }

    #[test]
    fn write_then_restore_reports_the_restored_code() {
        let c = TempCrate::new("restore");
        let err = run(&MigrateArgs {
            write: true,
            allow_dirty: true,
            verify_build: true,
            ..c.args()
        })
        .unwrap_err();
        assert!(
            format!("{err:#}").contains("restored 1 original file"),
            "{err:#}"
        );
        assert_eq!(
            std::fs::read_to_string(c.0.join("src/lib.rs")).unwrap(),
            SHAPE1
        );
        let r = c.report();
        assert!(!r.written && r.needed, "{r:?}");
        assert_eq!(r.crates[0].sites.len(), 1);
        assert_eq!(r.crates[0].sites[0].line, 5);
    }

    #[test]
    fn a_read_only_file_is_refused_by_name_and_left_unchanged() {
        use std::os::unix::fs::PermissionsExt as _;
        let c = TempCrate::new("read-only");
        let lib = c.0.join("src/lib.rs");
        std::fs::set_permissions(&lib, std::fs::Permissions::from_mode(0o444)).unwrap();
        let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&lib).unwrap());
        let err = run(&MigrateArgs {
            write: true,
            allow_dirty: true,
            ..c.args()
        })
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("read-only") && msg.contains(&lib.display().to_string()),
            "{msg}"
        );
        let meta = std::fs::metadata(&lib).unwrap();
        assert_eq!(std::fs::read_to_string(&lib).unwrap(), SHAPE1);
        assert_eq!(std::os::unix::fs::MetadataExt::ino(&meta), inode);
        assert_eq!(meta.permissions().mode() & 0o777, 0o444);
        // The flag says otherwise: written, and still read-only.
        run(&MigrateArgs {
            write: true,
            allow_dirty: true,
            allow_read_only: true,
            ..c.args()
        })
        .unwrap();
        assert_ne!(std::fs::read_to_string(&lib).unwrap(), SHAPE1);
        let mode = std::fs::metadata(&lib).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o444);
    }

    #[test]
    fn write_reports_what_is_left_on_disk() {
        let c = TempCrate::new("write");
        run(&MigrateArgs {
            write: true,
            allow_dirty: true,
            ..c.args()
        })
        .unwrap();
        let r = c.report();
        assert!(r.written && !r.needed, "{r:?}");
        assert_eq!(r.crates.len(), 1);
        assert!(r.crates[0].sites.is_empty());
    }
}
