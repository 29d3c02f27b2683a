//! The report as SARIF 2.1.0 for GitHub code scanning: every location is relative to the
//! source root (`uriBaseId` `%SRCROOT%`), percent-encoded, and has a region, so the results
//! land on the same lines whatever directory `bodyline migrate` ran in.

use std::path::{Component, Path, PathBuf};

use percent_encoding::{percent_encode, AsciiSet, NON_ALPHANUMERIC};
use serde_json::{json, Value};

use crate::error::MigrateError;
use crate::scan_result::ScanReport;
use crate::sdk::{SdkRequirement, SdkStatus};
use crate::verdict::Verdict;

/// The `uriBaseId` of every location: code scanning resolves it to the checkout.
pub const SRCROOT: &str = "%SRCROOT%";

/// What a path segment keeps unencoded: RFC 3986's unreserved characters. Everything else
/// (spaces, `%`, `#`, `?`, non-ASCII bytes) is percent-encoded.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The directory that SARIF locations are relative to: the repository's top level (the
/// nearest directory holding a `.git` directory or file, found without running git) above the
/// scanned paths, else the directory the scanned paths have in common.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRoot {
    dir: PathBuf,
}

impl SourceRoot {
    /// The source root of a scan of `scanned` (files or directories, relative to the current
    /// directory or absolute): the repository holding them all, else their common directory.
    pub fn find(scanned: &[PathBuf]) -> SourceRoot {
        let dirs = scanned.iter().map(|p| {
            let p = absolute(p);
            if p.is_dir() {
                p
            } else {
                p.parent().map(Path::to_path_buf).unwrap_or(p)
            }
        });
        let common = dirs
            .reduce(|a, b| common_ancestor(&a, &b))
            .unwrap_or_else(|| absolute(Path::new(".")));
        let repo = common
            .ancestors()
            .find(|d| d.join(".git").exists())
            .map(Path::to_path_buf);
        SourceRoot {
            dir: repo.unwrap_or(common),
        }
    }

    /// The directory (absolute, symbolic links resolved).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The root as a `file://` URI ending in `/`, for `originalUriBaseIds`.
    pub fn uri(&self) -> String {
        let mut uri = file_uri(&self.dir);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        uri
    }

    /// The `artifactLocation` of `path`: relative to the root with `uriBaseId` `%SRCROOT%`,
    /// or an absolute `file://` URI for a path outside it.
    pub fn artifact_location(&self, path: &Path) -> Value {
        let path = absolute(path);
        match path.strip_prefix(&self.dir) {
            Ok(relative) => json!({ "uri": relative_uri(relative), "uriBaseId": SRCROOT }),
            Err(_) => json!({ "uri": file_uri(&path) }),
        }
    }
}

/// `path` made absolute with symbolic links resolved, as far up as it exists (a path that
/// does not exist keeps its missing tail).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let joined = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut missing = Vec::new();
    let mut existing = joined.as_path();
    while let Some(parent) = existing.parent() {
        missing.extend(existing.file_name());
        if let Ok(mut p) = std::fs::canonicalize(parent) {
            p.extend(missing.iter().rev());
            return p;
        }
        existing = parent;
    }
    joined
}

/// The longest directory both absolute paths start with.
fn common_ancestor(a: &Path, b: &Path) -> PathBuf {
    a.components()
        .zip(b.components())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x)
        .collect()
}

/// Percent-encoded segments joined by `/`.
fn relative_uri(relative: &Path) -> String {
    let segments: Vec<String> = relative
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(percent_encode(s.as_encoded_bytes(), SEGMENT).to_string()),
            _ => None,
        })
        .collect();
    segments.join("/")
}

/// `file:///a/b` for an absolute path (`file:///C:/a/b` on Windows).
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    let mut wrote_segment = false;
    for c in path.components() {
        match c {
            Component::Prefix(p) => {
                uri.push('/');
                uri.push_str(&p.as_os_str().to_string_lossy().replace('\\', "/"));
            }
            Component::RootDir => {}
            Component::Normal(s) => {
                uri.push('/');
                uri.push_str(&percent_encode(s.as_encoded_bytes(), SEGMENT).to_string());
                wrote_segment = true;
            }
            Component::CurDir | Component::ParentDir => {}
        }
    }
    if !wrote_segment {
        uri.push('/');
    }
    uri
}

/// 1-based line and column (in chars) of byte offset `at` in `text`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = text.get(..at).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// A region from a 1-based position.
fn region(line: usize, column: usize) -> Value {
    json!({ "startLine": line, "startColumn": column })
}

fn result(
    root: &SourceRoot,
    rule: &str,
    level: &str,
    text: &str,
    path: &Path,
    region: Value,
) -> Value {
    json!({
        "ruleId": rule,
        "level": level,
        "message": { "text": text },
        "locations": [{ "physicalLocation": {
            "artifactLocation": root.artifact_location(path),
            "region": region,
        }}]
    })
}

/// The SARIF result for one package's SDK requirement: at the requirement in its manifest
/// (the whole string literal), else at the manifest's first line.
fn sdk_result(root: &SourceRoot, r: &SdkRequirement) -> Value {
    let level = if r.status == SdkStatus::LockedBeforeBody {
        "warning"
    } else {
        "note"
    };
    let (path, region) = match &r.declared {
        Some(d) => {
            let region = match &d.span {
                Some(s) => {
                    let (line, column) = line_col(&d.text, s.start);
                    let (end_line, end_column) = line_col(&d.text, s.end);
                    json!({ "startLine": line, "startColumn": column,
                            "endLine": end_line, "endColumn": end_column })
                }
                None => region(1, 1),
            };
            (d.manifest.as_path(), region)
        }
        None => (r.manifest.as_path(), region(1, 1)),
    };
    result(
        root,
        "bodyline/sdk-version",
        level,
        &r.message(),
        path,
        region,
    )
}

/// The region of an error: the syntax error's position, else the file's first line.
fn error_region(e: &MigrateError) -> Value {
    match e {
        MigrateError::Parse { line, column, .. } => region(*line, *column),
        _ => region(1, 1),
    }
}

/// The report as SARIF 2.1.0 for GitHub code scanning: rewritable sites are warnings
/// (`bodyline/inline-body`), sites left alone are notes (`bodyline/left-alone`), files that
/// could not be analysed are errors (`bodyline/error`) and SDK requirements that predate
/// `body` are `bodyline/sdk-version`. Locations are relative to `root` (`%SRCROOT%`).
pub fn render_sarif(report: &ScanReport, root: &SourceRoot) -> String {
    let mut results = Vec::new();
    for f in &report.files {
        for site in &f.migration.sites {
            let (rule, level, mut text) = match &site.verdict {
                Verdict::Rewritten => ("bodyline/inline-body", "warning", "payload uploaded to S3 for invoke_endpoint_async can be sent inline (Body); run bodyline migrate --write".to_owned()),
                Verdict::Branched => ("bodyline/inline-body", "warning", "payloads up to 128,000 bytes can be sent inline (Body) with a size branch; run bodyline migrate --write".to_owned()),
                Verdict::Skipped { reason } => ("bodyline/left-alone", "note", format!("left alone: {reason}")),
            };
            for n in &site.notes {
                text.push_str(&format!("\nnote: {n}"));
            }
            let region = region(site.line, site.column);
            results.push(result(root, rule, level, &text, &f.path, region));
        }
    }
    for e in &report.errors {
        let text = e.to_string();
        results.push(result(
            root,
            "bodyline/error",
            "error",
            &text,
            e.path(),
            error_region(e),
        ));
    }
    results.extend(
        report
            .sdk
            .iter()
            .filter(|r| r.needs_attention())
            .map(|r| sdk_result(root, r)),
    );
    let v = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "bodyline-migrate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": [
                    { "id": "bodyline/inline-body", "shortDescription": { "text": "S3 upload + input_location can become an inline Body" } },
                    { "id": "bodyline/left-alone", "shortDescription": { "text": "invoke_endpoint_async site bodyline does not rewrite, with the reason" } },
                    { "id": "bodyline/error", "shortDescription": { "text": "a file bodyline could not read or parse" } },
                    { "id": "bodyline/sdk-version", "shortDescription": { "text": "the package's aws-sdk-sagemakerruntime requirement or lock predates body (1.123.0)" } }
                ]
            }},
            "originalUriBaseIds": { SRCROOT: { "uri": root.uri() } },
            "columnKind": "unicodeCodePoints",
            "results": results
        }]
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_segments() {
        assert_eq!(
            relative_uri(Path::new("a b/c#1/%x/é.rs")),
            "a%20b/c%231/%25x/%C3%A9.rs"
        );
        assert_eq!(file_uri(Path::new("/")), "file:///");
        assert_eq!(file_uri(Path::new("/srv/my repo")), "file:///srv/my%20repo");
    }

    #[test]
    fn the_root_is_the_repository_above_the_common_directory() {
        let dir = tempfile::tempdir().unwrap();
        let top = std::fs::canonicalize(dir.path()).unwrap().join("repo");
        std::fs::create_dir_all(top.join("a/src")).unwrap();
        std::fs::create_dir_all(top.join("b")).unwrap();
        std::fs::write(top.join("a/src/lib.rs"), "").unwrap();
        let scanned = [top.join("a/src/lib.rs"), top.join("b")];
        // No `.git`: the scanned paths' common directory.
        assert_eq!(SourceRoot::find(&scanned).dir(), top);
        assert_eq!(SourceRoot::find(&scanned[..1]).dir(), top.join("a/src"));
        // A `.git` file (a worktree or submodule) marks the top level as a directory does.
        std::fs::write(top.join(".git"), "gitdir: elsewhere\n").unwrap();
        let root = SourceRoot::find(&scanned[..1]);
        assert_eq!(root.dir(), top);
        assert_eq!(
            root.artifact_location(&top.join("a/src/lib.rs")),
            json!({ "uri": "a/src/lib.rs", "uriBaseId": SRCROOT })
        );
        assert!(root.uri().starts_with("file:///") && root.uri().ends_with("/repo/"));
        // A path that does not exist is still placed under the root; one outside it is not.
        assert_eq!(
            root.artifact_location(&top.join("gone/x.rs"))["uri"],
            "gone/x.rs"
        );
        let outside = root.artifact_location(dir.path());
        assert!(outside.get("uriBaseId").is_none(), "{outside}");
        assert!(outside["uri"].as_str().unwrap().starts_with("file:///"));
    }
}
