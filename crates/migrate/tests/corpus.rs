//! No-harm test: every crate source in the local cargo registry cache goes through the
//! migration without a panic, without an edit, and with no error other than input errors.

use std::path::PathBuf;
use std::time::Instant;

use bodyline_migrate::{scan, ScanOptions, Verdict};

#[test]
fn registry_sources_are_left_alone() {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")));
    let Some(src) = home.map(|h| h.join("registry/src")).filter(|p| p.is_dir()) else {
        println!(
            "note: no cargo registry source cache found; the corpus test has nothing to check"
        );
        return;
    };
    let roots: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    let started = Instant::now();
    let report = scan(&roots, &ScanOptions::default());
    println!(
        "corpus: {} .rs files walked, {} parsed, {} with call sites, {} errors in {:?}",
        report.files_walked,
        report.files_parsed,
        report.files.len(),
        report.errors.len(),
        started.elapsed()
    );
    for e in &report.errors {
        println!("  reported: {e}");
        assert!(e.is_input_error(), "unexpected error: {e}");
    }
    for f in &report.files {
        assert!(
            !f.migration.is_changed(),
            "{} would be edited: {:?}",
            f.path.display(),
            f.migration.edits.edits()
        );
        for s in &f.migration.sites {
            assert!(
                !matches!(s.verdict, Verdict::Rewritten | Verdict::Branched),
                "{}: {s:?}",
                f.path.display()
            );
        }
    }
    assert!(report.files_walked > 0);
}

#[test]
fn registry_sources_parse_without_prefilter_in_sdk_crates() {
    // The prefilter hides most files from the analysis; run the full analysis (no prefilter)
    // over the SDK crates, which are the likeliest to confuse it.
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/registry/src"));
    let Some(src) = home.filter(|p| p.is_dir()) else {
        println!("note: no cargo registry source cache found");
        return;
    };
    let mut roots = Vec::new();
    for index in std::fs::read_dir(&src).unwrap() {
        for krate in std::fs::read_dir(index.unwrap().path()).unwrap() {
            let p = krate.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if std::env::var_os("BODYLINE_CORPUS_ALL").is_some()
                || name.starts_with("aws-sdk-sagemakerruntime-")
                || name.starts_with("aws-smithy-types-")
            {
                roots.push(p);
            }
        }
    }
    let started = Instant::now();
    let report = scan(
        &roots,
        &ScanOptions {
            prefilter: false,
            ..ScanOptions::default()
        },
    );
    println!(
        "no prefilter: {} files parsed, {} with call sites, {} errors in {:?}",
        report.files_parsed,
        report.files.len(),
        report.errors.len(),
        started.elapsed()
    );
    for e in &report.errors {
        assert!(e.is_input_error(), "unexpected error: {e}");
    }
    assert!(report.files.iter().all(|f| !f.migration.is_changed()));
}
