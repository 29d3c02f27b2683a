//! Reports: rustc-style text (annotate-snippets), unified diff and JSON (SARIF: `sarif`).

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};
use serde_json::{json, Value};

use crate::scan_result::ScanReport;
use crate::sdk::{manifest_edits, SdkRequirement, SdkStatus};
use crate::verdict::{SkipReason, Verdict};
use bodyline_terms::MigrationReport;

fn display_path(p: &std::path::Path) -> String {
    p.display().to_string()
}

/// A rustc-style report of every site (file:line:col, the source line, the verdict and notes),
/// then hints and a summary line. `styled` adds terminal colours.
pub fn render_human(report: &ScanReport, styled: bool) -> String {
    let renderer = if styled {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    for f in &report.files {
        let src = f.migration.edits.original();
        let lines = LineStarts::new(src);
        let path = display_path(&f.path);
        for site in &f.migration.sites {
            let (level, title, label) = match &site.verdict {
                Verdict::Rewritten => (
                    Level::NOTE,
                    "rewritten: the payload is sent inline".to_owned(),
                    "body(Blob::new(..)) replaces the S3 upload",
                ),
                Verdict::Branched => (
                    Level::NOTE,
                    "branched: payloads up to 128,000 bytes go inline, larger ones keep the upload"
                        .to_owned(),
                    "size branch",
                ),
                Verdict::Skipped {
                    reason: r @ (SkipReason::AlreadyInline | SkipReason::AlreadyBranched),
                } => (Level::INFO, format!("left alone: {r}"), "left alone"),
                Verdict::Skipped { reason } => (
                    Level::WARNING,
                    format!("left alone: {reason}"),
                    "left alone",
                ),
            };
            // Only the site's own lines go to the renderer: handing it the whole file made the
            // report quadratic in the sites of one file (each site re-scanned every line).
            let excerpt = lines.excerpt(src, site.range.clone());
            let mut group = level.primary_title(title).element(
                Snippet::source(excerpt.text)
                    .line_start(excerpt.first_line)
                    .path(path.as_str())
                    .annotation(AnnotationKind::Primary.span(excerpt.span).label(label)),
            );
            for n in &site.notes {
                group = group.element(Level::NOTE.message(n.as_str()));
            }
            out.push_str(&renderer.render(&[group]));
            out.push_str("\n\n");
        }
        for h in &f.migration.hints {
            let group = Group::with_title(Level::HELP.secondary_title(format!("{path}: {h}")));
            out.push_str(&renderer.render(&[group]));
            out.push('\n');
        }
    }
    for h in &report.hints {
        out.push_str(
            &renderer.render(&[Group::with_title(Level::HELP.secondary_title(h.as_str()))]),
        );
        out.push('\n');
    }
    for r in report.sdk.iter().filter(|r| r.needs_attention()) {
        out.push_str(&render_sdk(&renderer, r));
        out.push_str("\n\n");
    }
    out.push_str(&summary_line(report));
    out.push('\n');
    out
}

/// The byte offset where each line of a text starts, to cut a site's lines out of its file.
struct LineStarts(Vec<usize>);

/// The whole lines around a byte range, the 1-based number of the first one, and the range
/// relative to them.
struct Excerpt<'a> {
    text: &'a str,
    first_line: usize,
    span: std::ops::Range<usize>,
}

impl LineStarts {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(memchr::memchr_iter(b'\n', text.as_bytes()).map(|i| i + 1));
        LineStarts(starts)
    }

    fn excerpt<'a>(&self, text: &'a str, range: std::ops::Range<usize>) -> Excerpt<'a> {
        let end = range.end.clamp(range.start, text.len());
        let start = range.start.min(end);
        // The line holding `start`, and the first line starting after the range's last byte.
        let first = self.0.partition_point(|&s| s <= start).saturating_sub(1);
        let after = self.0.partition_point(|&s| s < end.max(start + 1));
        let from = self.0[first];
        let to = self.0.get(after).copied().unwrap_or(text.len());
        Excerpt {
            text: &text[from..to],
            first_line: first + 1,
            span: start - from..end - from,
        }
    }
}

/// One package's SDK requirement as a diagnostic, pointing at the requirement in its manifest.
fn render_sdk(renderer: &Renderer, r: &SdkRequirement) -> String {
    let level = if r.status == SdkStatus::LockedBeforeBody {
        Level::WARNING
    } else {
        Level::NOTE
    };
    let message = r.message();
    let title = level.primary_title(message.as_str());
    let located = r.declared.as_ref().and_then(|d| Some((d, d.span.clone()?)));
    let Some((d, span)) = located else {
        return renderer.render(&[Group::with_title(title)]);
    };
    let path = display_path(&d.manifest);
    let label = match (&r.locked, &r.raise_to) {
        (Some(v), Some(to)) => format!("locked at {v}; --write raises this to \"{to}\""),
        (None, Some(to)) => format!("--write raises this to \"{to}\""),
        (Some(v), None) => format!("locked at {v}"),
        (None, None) => "requirement".to_owned(),
    };
    let group = title.element(
        Snippet::source(d.text.as_str())
            .line_start(1)
            .path(path.as_str())
            .annotation(AnnotationKind::Primary.span(span).label(label.as_str())),
    );
    renderer.render(&[group])
}

/// `N rewritten, N branched, N left alone in N files (N would change), N errors`.
pub(crate) fn summary_line(report: &ScanReport) -> String {
    let s = report.summary();
    // Files without call sites are in the report only for dead helpers removed there.
    let (with_sites, helper_only): (Vec<_>, Vec<_>) = report
        .files
        .iter()
        .partition(|f| !f.migration.sites.is_empty());
    let mut line = format!(
        "{} rewritten, {} branched, {} left alone; {} of {} files with call sites change",
        s.rewritten,
        s.branched,
        s.skipped,
        with_sites
            .iter()
            .filter(|f| f.migration.is_changed())
            .count(),
        with_sites.len()
    );
    if !helper_only.is_empty() {
        line.push_str(&format!(
            ", and {} more losing dead helpers",
            helper_only.len()
        ));
    }
    if s.errors > 0 {
        line.push_str(&format!(
            "; {} error{}",
            s.errors,
            if s.errors == 1 { "" } else { "s" }
        ));
    }
    line
}

/// A unified diff (3 lines of context) of every changed file.
pub fn render_diff(report: &ScanReport) -> String {
    let mut out = String::new();
    for f in report.files.iter().filter(|f| f.migration.is_changed()) {
        let before = f.migration.edits.original();
        let after = f.migration.output();
        let path = display_path(&f.path);
        let diff = similar::TextDiff::from_lines(before, after.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string(),
        );
    }
    // The manifests `--write` raises the SDK requirement in.
    for e in manifest_edits(&report.sdk) {
        let path = display_path(&e.path);
        let diff = similar::TextDiff::from_lines(e.original.as_str(), e.output.as_str());
        out.push_str(
            &diff
                .unified_diff()
                .context_radius(3)
                .header(&format!("a/{path}"), &format!("b/{path}"))
                .to_string(),
        );
    }
    out
}

/// The report as JSON: files (sites with verdicts, notes, hints, edits), errors, a summary,
/// `sdk` (per package with a call site to rewrite: its SDK requirement, where it is declared,
/// the locked version, the minimum needed, the status and the message) and `s3_input` (the
/// sites that still need S3 input after the run, see [`MigrationReport`]).
pub fn render_json(report: &ScanReport, s3_input: &MigrationReport) -> String {
    let files: Vec<Value> = report
        .files
        .iter()
        .map(|f| {
            json!({
                "path": display_path(&f.path),
                "changed": f.migration.is_changed(),
                "sites": f.migration.sites,
                "hints": f.migration.hints,
                "edits": f.migration.edits.edits(),
            })
        })
        .collect();
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|e| json!({ "path": display_path(e.path()), "message": e.to_string() }))
        .collect();
    let v = json!({
        "files": files,
        "errors": errors,
        "hints": report.hints,
        "summary": report.summary(),
        "sdk": report.sdk.iter().map(sdk_json).collect::<Vec<_>>(),
        "s3_input": s3_input,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn sdk_json(r: &SdkRequirement) -> Value {
    let mut v = serde_json::to_value(r).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("message".into(), r.message().into());
    }
    v
}
