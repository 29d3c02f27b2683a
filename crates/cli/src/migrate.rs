//! `bodyline migrate`: rewrite S3 upload + `input_location` call sites to an inline `Body`.
//! Parses the flags, calls `bodyline_migrate::{scan, apply}`, prints, maps to an exit code.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use bodyline_migrate::{Applied, ScanOptions, Strategy, WriteOptions};

/// Output format of the migration report.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MigrateFormat {
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
    #[arg(long, value_enum, default_value_t = MigrateFormat::Human)]
    pub format: MigrateFormat,
    /// How to treat payloads whose size is not known statically.
    #[arg(long, value_enum, default_value_t = StrategyArg::Auto)]
    pub strategy: StrategyArg,
    /// Where to save the S3-input report (which sites still need S3 input after this run);
    /// default `<root>/.bodyline/migrate-report.json`, where `setup` and `plan` read it.
    #[arg(long, value_name = "PATH")]
    pub report_file: Option<PathBuf>,
    /// The project directory (as for `setup`, `plan` and `verify`): its `.bodyline/` receives
    /// the S3-input report.
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
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

impl MigrateArgs {
    /// Where the S3-input report goes: `--report-file`, else the project's `.bodyline/`.
    fn report_path(&self) -> PathBuf {
        self.report_file
            .clone()
            .unwrap_or_else(|| bodyline_stack::ProjectDir::new(&self.root).migration_report())
    }
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
    // Listing every scanned crate reads each package manifest: only when the report is used.
    let wants_s3_input = args.format == MigrateFormat::Json || !args.no_report_file;
    let options = ScanOptions {
        strategy,
        prefilter: !args.no_prefilter,
        max_file_bytes: args.max_file_size,
        list_packages: wants_s3_input,
    };
    let report = bodyline_migrate::scan(&args.paths, &options);
    let summary = report.summary();
    // Write first: the JSON report and the report file describe the files as they are after.
    let applied = if args.write {
        let write_options = WriteOptions {
            allow_dirty: args.allow_dirty,
            allow_read_only: args.allow_read_only,
            verify_build: args.verify_build,
        };
        bodyline_migrate::apply(&report, &write_options, &mut |line| eprintln!("{line}"))
    } else {
        Applied {
            written: Vec::new(),
            result: Ok(()),
        }
    };
    let s3_input = wants_s3_input
        .then(|| bodyline_migrate::report_from_scan_written(&report, &applied.written));
    let mut out = std::io::stdout().lock();
    match args.format {
        MigrateFormat::Human => {
            for e in &report.errors {
                eprintln!("error: {e}");
            }
            let styled = std::io::stdout().is_terminal();
            write!(out, "{}", bodyline_migrate::render_human(&report, styled))?;
            if args.diff {
                write!(out, "{}", bodyline_migrate::render_diff(&report))?;
            }
        }
        MigrateFormat::Json => {
            if let Some(s3_input) = &s3_input {
                writeln!(out, "{}", bodyline_migrate::render_json(&report, s3_input))?;
            }
        }
        MigrateFormat::Sarif => {
            let root = bodyline_migrate::SourceRoot::find(&args.paths);
            writeln!(out, "{}", bodyline_migrate::render_sarif(&report, &root))?
        }
    }
    out.flush()?;
    if let Some(s3_input) = s3_input.as_ref().filter(|_| !args.no_report_file) {
        let report_file = args.report_path();
        bodyline_migrate::save_report(s3_input, &report_file).with_context(|| {
            format!(
                "cannot save the S3-input report to {}; pass --report-file PATH or --no-report-file",
                report_file.display()
            )
        })?;
        if args.format == MigrateFormat::Human {
            let sites: usize = s3_input.crates.iter().map(|c| c.sites.len()).sum();
            eprintln!(
                "S3-input report: {} ({sites} site{} still send input_location)",
                report_file.display(),
                if sites == 1 { "" } else { "s" }
            );
        }
    }
    applied.result?;
    let mut failed = summary.errors > 0;
    if args.check && summary.rewritten + summary.branched > 0 {
        failed = true;
    }
    if !args.write
        && !args.check
        && summary.files_changed > 0
        && args.format == MigrateFormat::Human
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

    /// An upload-then-invoke that `--strategy inline` rewrites. `--write` and its refusals are
    /// tested with `bodyline_migrate::apply` (crates/migrate/tests/apply.rs).
    const SHAPE1: &str = include_str!("../../migrate/tests/support/upload_then_invoke.rs");

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
                format: MigrateFormat::Json,
                strategy: StrategyArg::Inline,
                report_file: Some(self.0.join("out/report.json")),
                root: self.0.clone(),
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
    fn the_report_goes_to_the_project_directory_by_default() {
        let c = TempCrate::new("project");
        run(&MigrateArgs {
            report_file: None,
            ..c.args()
        })
        .unwrap();
        let report = bodyline_stack::ProjectDir::new(&c.0).migration_report();
        assert_eq!(report, c.0.join(".bodyline/migrate-report.json"));
        let saved = bodyline_migrate::MigrationReport::load(&report).unwrap();
        assert!(saved.is_some_and(|r| r.needed), "{}", report.display());
        assert!(!c.0.join("out").exists());
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
}
