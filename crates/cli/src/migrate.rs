//! `bodyline migrate`: rewrite S3 upload + `input_location` call sites to an inline `Body`.

use std::collections::BTreeSet;
use std::io::{IsTerminal as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context as _};
use bodyline_migrate::{Options, ScanReport, Strategy};

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
    /// With --write: run `cargo check` on the affected packages and restore every file if it fails.
    #[arg(long, requires = "write")]
    pub verify_build: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// How to treat payloads whose size is not known statically.
    #[arg(long, value_enum, default_value_t = StrategyArg::Auto)]
    pub strategy: StrategyArg,
    /// Parse every .rs file, not only those containing `input_location` (for benchmarks).
    #[arg(long, hide = true)]
    pub no_prefilter: bool,
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
    };
    let report = bodyline_migrate::scan(&args.paths, &options);
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
        Format::Json => writeln!(out, "{}", bodyline_migrate::render_json(&report))?,
        Format::Sarif => writeln!(out, "{}", bodyline_migrate::render_sarif(&report))?,
    }
    out.flush()?;
    let summary = report.summary();
    let mut failed = summary.errors > 0;
    if args.check && summary.rewritten + summary.branched > 0 {
        failed = true;
    }
    if args.write && summary.files_changed > 0 {
        write(args, &report)?;
    } else if !args.write
        && !args.check
        && summary.files_changed > 0
        && args.format == Format::Human
    {
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

fn write(args: &MigrateArgs, report: &ScanReport) -> anyhow::Result<()> {
    let changed: Vec<&Path> = report
        .files
        .iter()
        .filter(|f| f.migration.is_changed())
        .map(|f| f.path.as_path())
        .collect();
    if !args.allow_dirty {
        let dirty = dirty_files(&changed)?;
        if !dirty.is_empty() {
            bail!(
                "refusing to write: these files have uncommitted changes: {}; commit or stash them, or pass --allow-dirty",
                dirty.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
            );
        }
    }
    let (backups, errors) = bodyline_migrate::write_files(report);
    for e in &errors {
        eprintln!("error: {e}");
    }
    eprintln!("wrote {} file(s)", backups.len());
    if args.verify_build && !backups.is_empty() {
        let manifests: BTreeSet<PathBuf> = backups
            .iter()
            .filter_map(|b| package_manifest(&b.path))
            .collect();
        for manifest in &manifests {
            eprintln!("cargo check --manifest-path {}", manifest.display());
            let status = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
                .args(["check", "--quiet", "--manifest-path"])
                .arg(manifest)
                .status()
                .with_context(|| format!("cannot run cargo check for {}", manifest.display()))?;
            if !status.success() {
                let restore_errors = bodyline_migrate::restore(&backups);
                for e in &restore_errors {
                    eprintln!("error: {e}");
                }
                bail!(
                    "cargo check failed for {} after the rewrite; restored {} original file(s); rerun without --verify-build and fix by hand, or use --strategy branch",
                    manifest.display(),
                    backups.len() - restore_errors.len()
                );
            }
        }
    }
    if !errors.is_empty() {
        bail!(
            "{} file(s) could not be written; the others were",
            errors.len()
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
