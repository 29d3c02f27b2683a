//! The verify report: a table for people, JSON for CI.

use serde::Serialize;

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// The check's name.
    pub name: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// What was seen (on success) or what is wrong and how to fix it (on failure).
    pub detail: String,
    /// How long it took, in milliseconds.
    pub millis: u128,
}

/// Every check's result.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The stack name.
    pub stack: String,
    /// The target.
    pub target: bodyline_stack::Target,
    /// The results, in the order the checks ran.
    pub checks: Vec<CheckResult>,
    /// `--compare-s3`: inline against S3 upload + `InputLocation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<super::Comparison>,
    /// Why the comparison could not run, if it was asked for and failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_error: Option<String>,
}

impl VerifyReport {
    /// Whether every check passed (and at least one ran), and a requested comparison ran.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty()
            && self.checks.iter().all(|c| c.passed)
            && self.comparison_error.is_none()
    }

    /// A table: check, result, detail, time.
    pub fn render_table(&self) -> String {
        let mut out = render_checks(&self.checks);
        let passed = self.checks.iter().filter(|c| c.passed).count();
        out.push_str(&format!(
            "{passed}/{} checks passed for stack {} on the {} target\n",
            self.checks.len(),
            self.stack,
            self.target
        ));
        if let Some(c) = &self.comparison {
            out.push('\n');
            out.push_str(&c.render_table());
        }
        if let Some(e) = &self.comparison_error {
            out.push_str(&format!("--compare-s3 failed: {e}\n"));
        }
        out
    }
}

/// The checks as a table: check, result, time, detail (multi-line details indented).
fn render_checks(checks: &[CheckResult]) -> String {
    let width = checks
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(5)
        .max(5);
    let mut out = format!(
        "{:<width$}  {:<6}  {:>8}  DETAIL\n",
        "CHECK", "RESULT", "TIME"
    );
    for c in checks {
        let result = if c.passed { "pass" } else { "FAIL" };
        let time = format!("{} ms", c.millis);
        // Multi-line details are indented under the detail column.
        let pad = " ".repeat(width + 20);
        let detail = c.detail.replace('\n', &format!("\n{pad}"));
        out.push_str(&format!(
            "{:<width$}  {result:<6}  {time:>8}  {detail}\n",
            c.name
        ));
    }
    out
}

/// `verify --endpoint`: an endpoint bodyline did not make, described and checked.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointReport {
    /// The endpoint's name.
    pub endpoint: String,
    /// The target.
    pub target: bodyline_stack::Target,
    /// What the control plane says about it (read-only calls).
    pub description: super::EndpointDescription,
    /// What is worth changing but does not fail verify (e.g. no failure path).
    pub findings: Vec<String>,
    /// How verify worked where that matters: the local stack's accommodations, probe methods.
    pub notes: Vec<String>,
    /// The results, in the order the checks ran.
    pub checks: Vec<CheckResult>,
    /// `--compare-s3`: inline against S3 upload + `InputLocation`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison: Option<super::Comparison>,
    /// Why a requested comparison was not run (nothing to upload to); it does not fail verify.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_skipped: Option<String>,
    /// Why the comparison failed, if it ran and failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comparison_error: Option<String>,
}

impl EndpointReport {
    /// Whether every check passed (and at least one ran), and a comparison that ran worked.
    pub fn passed(&self) -> bool {
        !self.checks.is_empty()
            && self.checks.iter().all(|c| c.passed)
            && self.comparison_error.is_none()
    }

    /// Findings and notes, the checks as a table, then the comparison.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        for finding in &self.findings {
            out.push_str(&format!("finding: {finding}\n"));
        }
        for note in &self.notes {
            out.push_str(&format!("note: {note}\n"));
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&render_checks(&self.checks));
        let passed = self.checks.iter().filter(|c| c.passed).count();
        out.push_str(&format!(
            "{passed}/{} checks passed for endpoint {} on the {} target\n",
            self.checks.len(),
            self.endpoint,
            self.target
        ));
        if let Some(c) = &self.comparison {
            out.push('\n');
            out.push_str(&c.render_table());
        }
        if let Some(why) = &self.comparison_skipped {
            out.push_str(&format!("--compare-s3 skipped: {why}\n"));
        }
        if let Some(e) = &self.comparison_error {
            out.push_str(&format!("--compare-s3 failed: {e}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(name: &'static str, passed: bool) -> CheckResult {
        CheckResult {
            name,
            passed,
            detail: "d".into(),
            millis: 3,
        }
    }

    #[test]
    fn passes_only_when_every_check_passes() {
        let mut report = VerifyReport {
            stack: "s".into(),
            target: bodyline_stack::Target::Local,
            checks: vec![],
            comparison: None,
            comparison_error: None,
        };
        assert!(!report.passed(), "an empty run proves nothing");
        report.checks = vec![result("endpoint", true), result("posture", true)];
        assert!(report.passed());
        report.checks.push(result("inline-body", false));
        assert!(!report.passed());
        let table = report.render_table();
        assert!(table.contains("inline-body  FAIL"), "{table}");
        assert!(table.contains("2/3 checks passed"), "{table}");
    }
}
