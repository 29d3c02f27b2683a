//! Whether the stack keeps an S3 input prefix: `bucket.input` and the migration report that
//! `bodyline migrate` writes (`.bodyline/migrate-report.json`).
//!
//! The report is the bridge between the code and the permissions: it lists, per crate, the
//! call sites that still send `input_location` in the code as it is on disk. With
//! `input = "auto"` the stack grants S3 input (the invoker's `s3:PutObject` and the execution
//! role's `s3:GetObject` on `<input_prefix>/*`) exactly while that list is not empty. Without a
//! report nothing is known, so the grants stay: dropping them would break code that was never
//! looked at.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{InputMode, Stack, StackError};

pub use bodyline_terms::{MigrationReport, ReportCrate, ReportSite};

/// Reads the migration report at `path` (`Ok(None)` when there is none), as a stack error.
fn load_report(path: &Path) -> Result<Option<MigrationReport>, StackError> {
    MigrationReport::load(path).map_err(|e| match e {
        bodyline_terms::ReportError::Io { path, source } => StackError::Io { path, source },
        // The stack error names the file and the fixes itself: only the reason is carried.
        bodyline_terms::ReportError::Invalid { path, message } => {
            StackError::MigrationReport { path, message }
        }
        other => StackError::MigrationReport {
            path: path.to_path_buf(),
            message: other.to_string(),
        },
    })
}

/// Whether the stack keeps its input prefix and grants, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputDecision {
    /// Keep `<input_prefix>/` (1-day expiry), the invoker's `s3:PutObject` and the execution
    /// role's `s3:GetObject` on it.
    pub keep: bool,
    /// The report that decided, for `input = "auto"`.
    pub report: Option<PathBuf>,
    /// One sentence for plans and checks.
    pub reason: String,
}

impl fmt::Display for InputDecision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl Stack {
    /// Where `input = "auto"` looks for the migration report: `bucket.migration_report`,
    /// relative to the project directory (see [`crate::ProjectDir`] for the rule).
    pub fn migration_report_path(&self) -> PathBuf {
        self.project.resolve(&self.bucket.migration_report)
    }

    /// Decides whether the stack keeps S3 input. Reads the migration report for
    /// `input = "auto"`; a report that exists but cannot be read is an error (a guess either
    /// way would be wrong: too wide, or breaking callers).
    pub fn input_decision(&self) -> Result<InputDecision, StackError> {
        let prefix = &self.bucket.input_prefix;
        match self.bucket.input {
            InputMode::S3 => Ok(InputDecision {
                keep: true,
                report: None,
                reason: format!(
                    "bucket.input = \"s3\": {prefix}/ stays for InputLocation requests"
                ),
            }),
            InputMode::None => Ok(InputDecision {
                keep: false,
                report: None,
                reason: "bucket.input = \"none\": inline Body only".into(),
            }),
            InputMode::Auto => {
                let path = self.migration_report_path();
                match load_report(&path)? {
                    None => Ok(InputDecision {
                        keep: true,
                        reason: format!(
                            "no migration report at {}: {prefix}/ stays until `bodyline migrate` shows no call site needs it",
                            path.display()
                        ),
                        report: Some(path),
                    }),
                    Some(report) => Ok(decide_from(&report, path)),
                }
            }
        }
    }
}

fn decide_from(report: &MigrationReport, path: PathBuf) -> InputDecision {
    let sites: Vec<String> = report
        .sites()
        .map(|(c, s)| format!("{}:{} ({})", s.path, s.line, c.name))
        .collect();
    if report.crates.is_empty() {
        return InputDecision {
            keep: true,
            reason: format!(
                "the migration report at {} scanned no crate, so it cannot say nothing needs S3 input; set bucket.input = \"none\" if nothing uploads",
                path.display()
            ),
            report: Some(path),
        };
    }
    let keep = report.needed || !sites.is_empty();
    let reason = if keep {
        let shown = sites.iter().take(3).cloned().collect::<Vec<_>>().join(", ");
        let more = sites.len().saturating_sub(3);
        format!(
            "{} call site{} still send input_location ({shown}{}) per {}",
            sites.len(),
            if sites.len() == 1 { "" } else { "s" },
            if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            },
            path.display()
        )
    } else {
        format!(
            "no call site needs S3 input ({} crate{} scanned, per {})",
            report.crates.len(),
            if report.crates.len() == 1 { "" } else { "s" },
            path.display()
        )
    };
    InputDecision {
        keep,
        report: Some(path),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(dir: &Path, input: &str) -> Stack {
        let text = format!(
            "[stack]\nname = \"s\"\n[model]\nimage = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1\"\n[bucket]\ninput = \"{input}\"\n"
        );
        // The stack file sits elsewhere: the report is the project's, not the file's.
        Stack::parse(&text, &dir.join("config/bodyline.toml"))
            .unwrap()
            .in_project(crate::ProjectDir::new(dir))
    }

    fn write_report(dir: &Path, body: &str) {
        std::fs::create_dir_all(dir.join(".bodyline")).unwrap();
        std::fs::write(dir.join(".bodyline/migrate-report.json"), body).unwrap();
    }

    #[test]
    fn auto_keeps_input_without_a_report_and_follows_the_report_once_there_is_one() {
        let dir = tempfile::tempdir().unwrap();
        let s = stack(dir.path(), "auto");
        let d = s.input_decision().unwrap();
        assert!(d.keep);
        assert!(d.reason.contains("no migration report"), "{d}");

        write_report(
            dir.path(),
            r#"{"version":1,"written":true,"needed":false,"crates":[{"name":"app","manifest":"Cargo.toml","sites":[]}]}"#,
        );
        let d = s.input_decision().unwrap();
        assert!(!d.keep, "{d}");
        assert!(d.reason.contains("no call site needs S3 input"), "{d}");

        write_report(
            dir.path(),
            r#"{"version":1,"written":true,"needed":true,"crates":[{"name":"app","manifest":"Cargo.toml","sites":[{"path":"src/big.rs","line":12,"column":5,"why":"branched"}]}]}"#,
        );
        let d = s.input_decision().unwrap();
        assert!(d.keep);
        assert!(d.reason.contains("src/big.rs:12 (app)"), "{d}");

        // A report of no crate at all proves nothing: S3 input stays.
        write_report(
            dir.path(),
            r#"{"version":1,"written":false,"needed":false,"crates":[]}"#,
        );
        let d = s.input_decision().unwrap();
        assert!(d.keep, "{d}");
        assert!(d.reason.contains("scanned no crate"), "{d}");
    }

    #[test]
    fn explicit_modes_ignore_the_report_and_a_broken_report_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        write_report(dir.path(), "{not json");
        assert!(stack(dir.path(), "s3").input_decision().unwrap().keep);
        assert!(!stack(dir.path(), "none").input_decision().unwrap().keep);
        let err = stack(dir.path(), "auto").input_decision().unwrap_err();
        assert!(err.to_string().contains("migrate-report.json"), "{err}");
        assert!(err.to_string().contains("bodyline migrate"), "{err}");
    }
}
