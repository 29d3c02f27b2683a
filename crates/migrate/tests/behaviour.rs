//! Behaviour beyond the fixtures: byte identity, bad input, writing, report formats.

// A test file: its helpers may unwrap too (a panic is a failed test, with its message).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bodyline_migrate::{
    migrate_source, scan, write_files, MigrateError, ScanOptions, Strategy, Verdict,
};

fn fixture(name: &str) -> (PathBuf, String) {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    let s = std::fs::read_to_string(&p).unwrap();
    (p, s)
}

const SHAPE1: &str = r#"use aws_sdk_s3::primitives::ByteStream;

async fn go(s3: &S3, rt: &Rt, bucket: &str, payload: Vec<u8>) -> anyhow::Result<()> {
    let key = format!("in/{}.json", uuid::Uuid::new_v4());
    s3.put_object().bucket(bucket).key(&key).body(ByteStream::from(payload)).send().await?;
    rt.invoke_endpoint_async().endpoint_name("e").input_location(format!("s3://{bucket}/{key}")).send().await?;
    Ok(())
}
"#;

fn inline() -> ScanOptions {
    ScanOptions {
        strategy: Strategy::Inline,
        ..ScanOptions::default()
    }
}

/// The output is the input outside the edited ranges, byte for byte, judged from the two
/// texts themselves (not by applying the edits again, which is what `output()` does): the
/// input before the first edit is a common prefix, the input after the last edit a common
/// suffix, and each untouched stretch between edits is found in the output in order.
fn assert_unchanged_outside_edits(src: &str, m: &bodyline_migrate::FileMigration) {
    let out = m.output();
    let edits = m.edits.edits();
    let (Some(first), Some(last)) = (edits.first(), edits.last()) else {
        assert_eq!(out, src, "no edits, yet the output differs");
        return;
    };
    let common_prefix = src
        .bytes()
        .zip(out.bytes())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        common_prefix >= first.range.start,
        "the output differs at byte {common_prefix}, before the first edit at {}",
        first.range.start
    );
    let common_suffix = src
        .bytes()
        .rev()
        .zip(out.bytes().rev())
        .take_while(|(a, b)| a == b)
        .count();
    assert!(
        common_suffix >= src.len() - last.range.end,
        "the output differs {common_suffix} bytes from its end, after the last edit (which ends {} bytes from the input's end)",
        src.len() - last.range.end
    );
    let mut found = first.range.start;
    for pair in edits.windows(2) {
        let gap = &src[pair[0].range.end..pair[1].range.start];
        match out[found..].find(gap) {
            Some(at) => found += at + gap.len(),
            None => panic!(
                "the input between edits ({}..{}) is not in the output: {gap:?}",
                pair[0].range.end, pair[1].range.start
            ),
        }
    }
}

#[test]
fn crlf_and_bom_survive_and_inserted_lines_use_crlf() {
    let (p, src) = fixture("crlf_bom.rs");
    assert!(src.starts_with('\u{feff}') && src.contains("\r\n"));
    let m = migrate_source(&src, Some(&p), &inline()).unwrap();
    assert!(m.is_changed());
    let out = m.output();
    assert!(out.starts_with('\u{feff}'));
    assert_eq!(
        out.matches('\n').count(),
        out.matches("\r\n").count(),
        "a bare LF was written"
    );
    assert_unchanged_outside_edits(&src, &m);
}

#[test]
fn tabs_and_non_ascii_survive() {
    let (p, src) = fixture("tabs_non_ascii.rs");
    let m = migrate_source(
        &src,
        Some(&p),
        &ScanOptions {
            strategy: Strategy::Branch,
            ..ScanOptions::default()
        },
    )
    .unwrap();
    assert_eq!(m.sites[0].verdict, Verdict::Branched);
    let out = m.output();
    assert!(out.contains("\tlet label = \"日本🚀\";\n"));
    assert!(out.contains("\t\t\t.body(Blob::new(payload))\n"), "{out}");
    assert!(
        !out.lines().any(|l| l.starts_with("    ")),
        "space indentation in a tab file:\n{out}"
    );
    assert_unchanged_outside_edits(&src, &m);
    // Columns count chars: the site is reported at the right column despite `résumé` above.
    let (line, col) = (m.sites[0].line, m.sites[0].column);
    let text_line = src.lines().nth(line - 1).unwrap();
    assert_eq!(
        text_line.chars().skip(col - 1).take(21).collect::<String>(),
        "invoke_endpoint_async"
    );
}

#[test]
fn every_fixture_is_byte_identical_outside_edits() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "rs") {
            let src = std::fs::read_to_string(&p).unwrap();
            for strategy in [Strategy::Auto, Strategy::Inline, Strategy::Branch] {
                let m = migrate_source(
                    &src,
                    Some(&p),
                    &ScanOptions {
                        strategy,
                        ..ScanOptions::default()
                    },
                )
                .unwrap();
                assert_unchanged_outside_edits(&src, &m);
                syn::parse_file(&m.output())
                    .unwrap_or_else(|e| panic!("{}: {strategy:?}: {e}", p.display()));
                // No request ever sets both.
                let out = m.output();
                for stmt in out.split(';') {
                    assert!(
                        !(stmt.contains(".input_location(") && stmt.contains(".body(Blob")),
                        "{}: {stmt}",
                        p.display()
                    );
                }
            }
        }
    }
}

#[test]
fn bad_inputs_are_reported_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.rs");
    std::fs::write(&good, SHAPE1).unwrap();
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad/syntax_error.rs");
    std::fs::copy(&bad, dir.path().join("syntax_error.rs")).unwrap();
    std::fs::write(
        dir.path().join("latin1.rs"),
        b"// input_location caf\xe9\nfn f() {}\n",
    )
    .unwrap();
    let locked = dir.path().join("locked.rs");
    std::fs::write(&locked, SHAPE1).unwrap();
    let mut perms = std::fs::metadata(&locked).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o000);
    std::fs::set_permissions(&locked, perms).unwrap();
    let can_lock = std::fs::read(&locked).is_err(); // root reads anyway
    let missing = dir.path().join("does-not-exist");

    let report = scan(&[dir.path().to_path_buf(), missing.clone()], &inline());
    let errs: Vec<String> = report.errors.iter().map(|e| e.to_string()).collect();
    assert!(
        report
            .errors
            .iter()
            .any(|e| matches!(e, MigrateError::Walk { path, .. } if *path == missing)),
        "{errs:?}"
    );
    assert!(
        report
            .errors
            .iter()
            .any(|e| matches!(e, MigrateError::NotUtf8 { path } if path.ends_with("latin1.rs"))),
        "{errs:?}"
    );
    assert!(
        report.errors.iter().any(|e| matches!(e, MigrateError::Parse { path, line: 5, .. } if path.ends_with("syntax_error.rs"))),
        "{errs:?}"
    );
    if can_lock {
        assert!(
            report
                .errors
                .iter()
                .any(|e| matches!(e, MigrateError::Read { path, .. } if *path == locked)),
            "{errs:?}"
        );
    }
    for e in &errs {
        assert!(
            e.contains(dir.path().to_str().unwrap()),
            "error does not name the file: {e}"
        );
    }
    // The good file was still analysed.
    let good_report = report.files.iter().find(|f| f.path == good).unwrap();
    assert_eq!(good_report.migration.sites[0].verdict, Verdict::Rewritten);
}

#[test]
fn write_is_atomic_and_refuses_files_changed_since_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.rs");
    let b = dir.path().join("b.rs");
    std::fs::write(&a, SHAPE1).unwrap();
    std::fs::write(&b, SHAPE1).unwrap();
    let report = scan(&[dir.path().to_path_buf()], &inline());
    assert_eq!(report.summary().files_changed, 2);
    std::fs::write(&b, format!("{SHAPE1}\n// edited meanwhile\n")).unwrap();
    let (backups, errors) = write_files(&report);
    assert_eq!(backups.len(), 1);
    assert!(matches!(&errors[..], [MigrateError::Changed { path }] if *path == b));
    let written = std::fs::read_to_string(&a).unwrap();
    assert!(written.contains(".body(Blob::new(payload))") && !written.contains("put_object"));
    assert!(std::fs::read_to_string(&b)
        .unwrap()
        .ends_with("// edited meanwhile\n"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 2, "temp files left behind: {leftovers:?}");
    // Restoring puts the original back.
    assert!(bodyline_migrate::restore(&backups).is_empty());
    assert_eq!(std::fs::read_to_string(&a).unwrap(), SHAPE1);
}

#[test]
fn reports_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.rs");
    std::fs::write(&a, SHAPE1).unwrap();
    let report = scan(std::slice::from_ref(&a), &inline());
    let human = bodyline_migrate::render_human(&report, false);
    assert!(human.contains(&format!("{}:6:8", a.display())), "{human}");
    assert!(
        human.contains("1 rewritten, 0 branched, 0 left alone"),
        "{human}"
    );
    let diff = bodyline_migrate::render_diff(&report);
    assert!(
        diff.contains("-    s3.put_object()")
            && diff.contains("+use aws_sdk_sagemakerruntime::primitives::Blob;"),
        "{diff}"
    );
    let json: serde_json::Value = serde_json::from_str(&bodyline_migrate::render_json(
        &report,
        &bodyline_migrate::report_from_scan(&report, false),
    ))
    .unwrap();
    assert_eq!(json["summary"]["rewritten"], 1);
    assert_eq!(json["files"][0]["sites"][0]["verdict"], "rewritten");
    assert_eq!(json["files"][0]["sites"][0]["line"], 6);
    assert_eq!(json["s3_input"]["crates"][0]["sites"][0]["line"], 6);
    assert_eq!(json["s3_input"]["written"], false);
    let sarif: serde_json::Value = serde_json::from_str(&bodyline_migrate::render_sarif(
        &report,
        &bodyline_migrate::SourceRoot::find(&[]),
    ))
    .unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["ruleId"], "bodyline/inline-body");
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        6
    );
}

#[test]
fn default_strategy_branches_unknown_sizes_and_inlines_small_literals() {
    let m = migrate_source(SHAPE1, None, &ScanOptions::default()).unwrap();
    assert_eq!(m.sites[0].verdict, Verdict::Branched);
    assert!(m.output().contains("if payload.len() <= 128_000 {"));
    let small = SHAPE1.replace(
        "ByteStream::from(payload)",
        "ByteStream::from_static(b\"{}\")",
    );
    let m = migrate_source(&small, None, &ScanOptions::default()).unwrap();
    assert_eq!(m.sites[0].verdict, Verdict::Rewritten);
    let big = SHAPE1.replace(
        "ByteStream::from(payload)",
        &format!("ByteStream::from_static(b\"{}\")", "x".repeat(128_001)),
    );
    let m = migrate_source(&big, None, &ScanOptions::default()).unwrap();
    assert_eq!(m.sites[0].verdict, Verdict::Branched);
}

/// An invoke of `$call` with the URI it returns; `$call` names a helper somewhere in the crate.
fn caller(name: &str, call: &str) -> String {
    format!(
        r#"pub async fn {name}(s3: &S3, rt: &Rt, bucket: &str, payload: Vec<u8>) -> anyhow::Result<()> {{
    let uri = {call}(s3, bucket, payload).await?;
    rt.invoke_endpoint_async().endpoint_name("e").input_location(uri).send().await?;
    Ok(())
}}
"#
    )
}

#[test]
fn helpers_in_other_files_resolve_through_paths_imports_globs_and_the_library_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "Cargo.toml",
        "[package]\nname = \"my-app\"\nversion = \"0.1.0\"\n",
    );
    write("src/lib.rs", "pub mod storage;\nmod jobs;\n");
    write(
        "src/storage/mod.rs",
        "pub mod s3;\npub use self::s3::upload as put_input;\n",
    );
    write(
        "src/storage/s3.rs",
        r#"pub async fn upload(s3: &S3, bucket: &str, body: Vec<u8>) -> anyhow::Result<String> {
    let key = format!("in/{}.json", uuid::Uuid::new_v4());
    s3.put_object().bucket(bucket).key(&key).body(body.into()).send().await?;
    Ok(format!("s3://{bucket}/{key}"))
}
"#,
    );
    write(
        "src/jobs.rs",
        &format!(
            "use crate::storage::s3::*;\n\n{}\n{}\n{}\nmod inner {{\n    use super::super::storage::s3::upload as up;\n{}}}\n",
            caller("by_glob", "upload"),
            caller("by_reexport", "crate::storage::put_input"),
            caller("elsewhere", "other_crate::upload"),
            caller("by_alias", "up"),
        ),
    );
    write(
        "src/main.rs",
        &format!(
            "fn main() {{}}\n\n{}",
            caller("from_binary", "my_app::storage::s3::upload")
        ),
    );
    // Not declared by any `mod`: not part of the crate, so nothing there is followed.
    write("src/orphan.rs", &caller("orphan", "upload"));

    let report = scan(&[root.to_path_buf()], &inline());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let verdicts = |file: &str| -> Vec<String> {
        report
            .files
            .iter()
            .find(|f| f.path.ends_with(file))
            .unwrap_or_else(|| panic!("{file} not reported"))
            .migration
            .sites
            .iter()
            .map(|s| s.verdict.to_string())
            .collect()
    };
    let jobs = verdicts("src/jobs.rs");
    assert_eq!(jobs[0], "rewritten", "glob import: {jobs:?}");
    assert_eq!(jobs[1], "rewritten", "re-export: {jobs:?}");
    assert!(jobs[2].contains("not an s3:// URI built here"), "{jobs:?}");
    assert_eq!(
        jobs[3], "rewritten",
        "aliased import in an inline module: {jobs:?}"
    );
    assert_eq!(verdicts("src/main.rs"), ["rewritten"]);
    assert!(verdicts("src/orphan.rs")[0].contains("not an s3:// URI built here"));
    let jobs_out = report
        .files
        .iter()
        .find(|f| f.path.ends_with("src/jobs.rs"))
        .unwrap()
        .migration
        .output();
    assert_eq!(
        jobs_out.matches(".body(Blob::new(payload))").count(),
        3,
        "{jobs_out}"
    );
    assert!(jobs_out.contains("other_crate::upload(s3, bucket, payload)"));
}

#[test]
fn a_local_blob_type_gets_the_qualified_sdk_blob_even_in_a_wide_setter() {
    let src = SHAPE1
        .replace(
            ".input_location(format!(\"s3://{bucket}/{key}\"))",
            ".set_input_location(Some(format!(\"s3://{bucket}/{key}\")))",
        )
        .replace("Ok(())\n}\n", "Ok(())\n}\n\nstruct Blob;\n");
    let m = migrate_source(&src, None, &inline()).unwrap();
    assert_eq!(m.sites[0].verdict, Verdict::Rewritten, "{:?}", m.sites);
    let out = m.output();
    assert!(
        out.contains(".set_body(Some(aws_sdk_sagemakerruntime::primitives::Blob::new(payload)))"),
        "{out}"
    );
    assert!(!out.contains("use aws_sdk_sagemakerruntime::primitives::Blob;"));
}

#[test]
fn a_file_over_the_size_limit_is_reported_and_left_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.rs");
    std::fs::write(&big, SHAPE1).unwrap();
    let limit = SHAPE1.len() as u64 - 1;
    let options = ScanOptions {
        max_file_bytes: limit,
        ..inline()
    };
    let report = scan(std::slice::from_ref(&big), &options);
    assert!(
        report.files.is_empty(),
        "a file over the limit was analysed"
    );
    match &report.errors[..] {
        [e @ MigrateError::TooLarge {
            path,
            size,
            limit: l,
        }] => {
            assert_eq!((path, *size, *l), (&big, SHAPE1.len() as u64, limit));
            let text = e.to_string();
            assert!(
                text.contains(big.to_str().unwrap()) && text.contains("--max-file-size"),
                "{text}"
            );
        }
        other => panic!("expected one TooLarge error, got {other:?}"),
    }
    // At the limit exactly, the file is analysed.
    let options = ScanOptions {
        max_file_bytes: SHAPE1.len() as u64,
        ..inline()
    };
    let report = scan(std::slice::from_ref(&big), &options);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files[0].migration.sites.len(), 1);
}

#[test]
fn the_human_report_names_every_site_of_a_file_at_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.rs");
    // Three copies of the function, renamed: sites at lines 6, 14 and 22.
    let text: String = (0..3)
        .map(|i| {
            let body = SHAPE1.replace("async fn go(", &format!("async fn go{i}("));
            if i == 0 {
                body
            } else {
                body.replace("use aws_sdk_s3::primitives::ByteStream;\n", "")
            }
        })
        .collect();
    std::fs::write(&a, &text).unwrap();
    let report = scan(std::slice::from_ref(&a), &inline());
    let lines: Vec<usize> = report.files[0]
        .migration
        .sites
        .iter()
        .map(|s| text[..s.range.start].matches('\n').count() + 1)
        .collect();
    assert_eq!(lines, [6, 13, 20]);
    let human = bodyline_migrate::render_human(&report, false);
    for line in lines {
        let at = format!("{}:{line}:8", a.display());
        assert_eq!(human.matches(&at).count(), 1, "{at} in\n{human}");
    }
    // Each site's own source line is shown under its header.
    assert_eq!(
        human.matches("rt.invoke_endpoint_async()").count(),
        3,
        "{human}"
    );
}

/// Copy the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let dest = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), dest).unwrap();
        }
    }
}

#[test]
fn an_edit_inside_a_cfg_module_names_its_cfg_in_every_report_format() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("cfg-modules");
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/crates/cfg_modules/before");
    copy_dir(&fixture, &work);
    let report = scan(std::slice::from_ref(&work), &ScanOptions::default());
    let cfg = r#"`#[cfg(not(feature = "offline"))]` (module `jobs`)"#;
    let human = bodyline_migrate::render_human(&report, false);
    assert!(human.contains(cfg), "{human}");
    let json: serde_json::Value = serde_json::from_str(&bodyline_migrate::render_json(
        &report,
        &bodyline_migrate::report_from_scan(&report, false),
    ))
    .unwrap();
    let notes: Vec<String> = json["files"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["sites"].as_array().unwrap().iter())
        .filter(|s| s["verdict"] == "rewritten")
        .flat_map(|s| s["notes"].as_array().unwrap().iter())
        .map(|n| n.as_str().unwrap().to_owned())
        .collect();
    assert!(notes.iter().any(|n| n.contains(cfg)), "{notes:?}");
    let sarif: serde_json::Value = serde_json::from_str(&bodyline_migrate::render_sarif(
        &report,
        &bodyline_migrate::SourceRoot::find(std::slice::from_ref(&work)),
    ))
    .unwrap();
    let messages: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "bodyline/inline-body")
        .map(|r| r["message"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(messages[0].contains(cfg), "{messages:?}");
}

/// Functions and methods (`fn NAME`) defined in `text`.
fn fn_names(text: &str) -> Vec<String> {
    let file = syn::parse_file(text.trim_start_matches('\u{feff}')).unwrap();
    let mut names = Vec::new();
    for item in &file.items {
        match item {
            syn::Item::Fn(f) => names.push(f.sig.ident.to_string()),
            syn::Item::Impl(i) => names.extend(i.items.iter().filter_map(|it| match it {
                syn::ImplItem::Fn(f) => Some(f.sig.ident.to_string()),
                _ => None,
            })),
            _ => {}
        }
    }
    names
}

/// Whole-word occurrences of `word` in `text` outside `//` comments.
fn code_mentions(text: &str, word: &str) -> usize {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .flat_map(|l| l.split(|c: char| !ident(c)))
        .filter(|w| *w == word)
        .count()
}

/// The demo's app (`cargo xtask demo` migrates a copy of it, with the default strategy):
/// after migrate, every function that something called before is still called by something
/// (no dead helper left behind); with `inline`, its upload helper loses its caller and goes.
#[test]
fn the_legacy_app_keeps_no_dead_helper_after_migrate() {
    for options in [ScanOptions::default(), inline()] {
        let hints = migrate_legacy_app(&options);
        assert!(hints.iter().all(|h| !h.contains("remove it")), "{hints:?}");
        if options.strategy == Strategy::Inline {
            assert!(
                hints
                    .iter()
                    .any(|h| h.contains("removed helper `upload_input`")),
                "{hints:?}"
            );
        }
    }
}

/// Migrate a copy of the demo's app; panic on a function the migration left without a caller.
/// Returns the hints.
fn migrate_legacy_app(options: &ScanOptions) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("legacy-app");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/legacy-app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::copy(root.join("Cargo.toml"), app.join("Cargo.toml")).unwrap();
    copy_dir(&root.join("src"), &app.join("src"));
    let report = scan(std::slice::from_ref(&app), options);
    assert!(
        report.summary().files_changed > 0,
        "the demo rewrites the app"
    );
    let mut before = String::new();
    let mut after = String::new();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(app.join("src")).unwrap() {
        let path = entry.unwrap().path();
        let original = std::fs::read_to_string(&path).unwrap();
        let output = report
            .files
            .iter()
            .find(|f| f.path == path)
            .map_or(original.clone(), |f| f.migration.output());
        names.extend(fn_names(&output));
        before.push_str(&original);
        after.push_str(&output);
    }
    for name in names.into_iter().filter(|n| n != "main") {
        let called_before = code_mentions(&before, &name) > 1;
        assert!(
            !called_before || code_mentions(&after, &name) > 1,
            "`{name}` is left without a caller by the migration ({options:?})"
        );
    }
    report
        .files
        .iter()
        .flat_map(|f| f.migration.hints.iter().cloned())
        .collect()
}

#[test]
fn a_file_that_only_loses_dead_helpers_is_in_the_report_and_the_diff() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("dead-across-files");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/crates/dead_across_files/before");
    copy_dir(&fixture, &work);
    let report = scan(std::slice::from_ref(&work), &ScanOptions::default());
    let human = bodyline_migrate::render_human(&report, false);
    assert!(
        human.contains("1 of 1 files with call sites change, and 1 more losing dead helpers"),
        "{human}"
    );
    assert!(
        human.contains("removed helper `upload_input` (line 11)"),
        "{human}"
    );
    let diff = bodyline_migrate::render_diff(&report);
    assert!(
        diff.contains("-fn input_key() -> String {") && diff.contains("-use uuid::Uuid;"),
        "{diff}"
    );
    // Written, the crate needs nothing more.
    let (written, errors) = write_files(&report);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(written.len(), 2, "jobs.rs and storage.rs are written");
    let again = scan(std::slice::from_ref(&work), &ScanOptions::default());
    assert_eq!(again.summary().files_changed, 0);
}
