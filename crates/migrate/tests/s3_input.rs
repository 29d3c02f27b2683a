//! The S3-input report: which sites still send `input_location` after a run, per crate, in the
//! code as it is on disk.

// A test file: its helpers may unwrap too (a panic is a failed test, with its message).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bodyline_migrate::{
    report_from_scan, report_from_scan_written, save_report, scan, write_files, MigrationReport,
    ScanOptions, ScanReport, Strategy,
};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn options(strategy: Strategy) -> ScanOptions {
    ScanOptions {
        strategy,
        ..ScanOptions::default()
    }
}

/// A workspace of two packages: `app` holds copies of fixtures, `quiet` has no call site.
fn two_crates(dir: &Path, fixtures_in_app: &[&str]) {
    let src = dir.join("app/src");
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(
        dir.join("app/Cargo.toml"),
        "[package]\nname = \"app\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    for name in fixtures_in_app {
        std::fs::copy(
            fixtures().join(format!("{name}.rs")),
            src.join(format!("{name}.rs")),
        )
        .unwrap();
    }
    std::fs::create_dir_all(dir.join("quiet/src")).unwrap();
    std::fs::write(
        dir.join("quiet/Cargo.toml"),
        "[package]\nname = \"quiet\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("quiet/src/lib.rs"),
        "//! No SageMaker here.\npub fn f() {}\n",
    )
    .unwrap();
    // A virtual workspace manifest above them is not a package.
    std::fs::write(
        dir.join("Cargo.toml"),
        "[workspace]\nmembers = [\"app\", \"quiet\"]\n",
    )
    .unwrap();
}

/// (file name, line, why) of every listed site of crate `name`.
fn sites_of(r: &MigrationReport, name: &str) -> Vec<(String, usize, String)> {
    let c = r
        .crates
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("crate {name} is not listed: {r:#?}"));
    c.sites
        .iter()
        .map(|s| {
            let file = Path::new(&s.path)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (file, s.line as usize, s.why.clone())
        })
        .collect()
}

const MIXED: &[&str] = &[
    "shape1_format_positional", // branched (unknown size)
    "shape1_literal_key",       // rewritable
    "object_exists",            // 3 x no upload
    "opt_out",                  // opted out
    "uri_parameter",            // 2 x parameter
    "custom_attributes",        // custom attributes
    "realtime_untouched",       // already inline: never listed
];

#[test]
fn json_shape_is_the_documented_contract() {
    let dir = tempfile::tempdir().unwrap();
    two_crates(dir.path(), &["shape1_literal_key"]);
    let report = scan(&[dir.path().to_path_buf()], &options(Strategy::Auto));
    let s3 = report_from_scan(&report, false);
    let v: serde_json::Value = serde_json::to_value(&s3).unwrap();
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&v), ["crates", "needed", "version", "written"]);
    assert_eq!(v["version"], 1);
    assert_eq!(v["written"], false);
    assert_eq!(v["needed"], true);
    let crates = v["crates"].as_array().unwrap();
    assert_eq!(crates.len(), 2, "{v:#}");
    assert_eq!(keys(&crates[0]), ["manifest", "name", "sites"]);
    assert_eq!(crates[0]["name"], "app");
    assert_eq!(
        crates[0]["manifest"],
        dir.path().join("app/Cargo.toml").display().to_string()
    );
    let site = &crates[0]["sites"][0];
    assert_eq!(keys(site), ["column", "line", "path", "why"]);
    assert!(site["line"].as_u64().unwrap() > 0 && site["column"].as_u64().unwrap() > 0);
    // The package without call sites is listed, with nothing needed.
    assert_eq!(crates[1]["name"], "quiet");
    assert_eq!(crates[1]["sites"], serde_json::json!([]));
    // `--format json` carries the same object.
    let full: serde_json::Value =
        serde_json::from_str(&bodyline_migrate::render_json(&report, &s3)).unwrap();
    assert_eq!(full["s3_input"], v);
}

#[test]
fn check_mode_lists_rewritable_sites_and_after_write_only_what_stays_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    two_crates(dir.path(), MIXED);
    let report = scan(&[dir.path().to_path_buf()], &options(Strategy::Auto));
    assert!(report.errors.is_empty(), "{:?}", report.errors);

    let before = report_from_scan(&report, false);
    let sites = sites_of(&before, "app");
    let count = |file: &str| sites.iter().filter(|(f, _, _)| f == file).count();
    assert_eq!(count("shape1_format_positional.rs"), 1);
    assert_eq!(count("shape1_literal_key.rs"), 1, "{sites:#?}");
    assert_eq!(count("object_exists.rs"), 3);
    assert_eq!(count("opt_out.rs"), 1);
    assert_eq!(count("uri_parameter.rs"), 2);
    assert_eq!(count("custom_attributes.rs"), 1);
    assert_eq!(
        count("realtime_untouched.rs"),
        0,
        "an inline body needs no S3"
    );
    assert!(sites
        .iter()
        .any(|(f, _, why)| f == "shape1_literal_key.rs" && why.starts_with("not written yet")));
    assert!(sites
        .iter()
        .any(|(f, _, why)| f == "uri_parameter.rs" && why.contains("parameter")));
    assert!(!before.written && before.needed);
    assert!(sites_of(&before, "quiet").is_empty());

    let (backups, errors) = write_files(&report);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(backups.len(), 2);
    let written: Vec<PathBuf> = backups.iter().map(|b| b.path.clone()).collect();
    let after = report_from_scan_written(&report, &written);
    assert!(after.written && after.needed);
    let sites = sites_of(&after, "app");
    let count = |file: &str| sites.iter().filter(|(f, _, _)| f == file).count();
    assert_eq!(count("shape1_literal_key.rs"), 0, "inlined: {sites:#?}");
    assert_eq!(count("shape1_format_positional.rs"), 1);
    assert!(sites
        .iter()
        .any(|(f, _, why)| f == "shape1_format_positional.rs" && why.starts_with("size branch")));
    assert_eq!(sites.len(), 1 + 3 + 1 + 2 + 1);

    // The report describes the disk: a fresh scan of the written files agrees, positions too.
    let rescan = scan(&[dir.path().to_path_buf()], &options(Strategy::Auto));
    let fresh = report_from_scan(&rescan, false);
    assert_eq!(fresh.crates, after.crates);
}

#[test]
fn a_failed_write_is_reported_as_the_code_left_on_disk() {
    let dir = tempfile::tempdir().unwrap();
    two_crates(
        dir.path(),
        &["shape1_literal_key", "shape1_format_positional"],
    );
    let report = scan(&[dir.path().to_path_buf()], &options(Strategy::Inline));
    // Only one of the two changed files was written (the other failed or was restored).
    let one = dir.path().join("app/src/shape1_literal_key.rs");
    let partial = report_from_scan_written(&report, std::slice::from_ref(&one));
    let sites = sites_of(&partial, "app");
    assert_eq!(sites.len(), 1, "{sites:#?}");
    assert_eq!(sites[0].0, "shape1_format_positional.rs");
    assert!(sites[0].2.starts_with("not written yet"));
    assert!(partial.written);
    let none = report_from_scan_written(&report, &[]);
    assert_eq!(none, report_from_scan(&report, false));
    assert!(!none.written);
}

fn legacy_app_copy(dir: &Path) -> PathBuf {
    let app = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/legacy-app");
    let to = dir.join("legacy-app");
    std::fs::create_dir_all(to.join("src")).unwrap();
    std::fs::copy(app.join("Cargo.toml"), to.join("Cargo.toml")).unwrap();
    for f in ["main.rs", "scoring.rs"] {
        std::fs::copy(app.join("src").join(f), to.join("src").join(f)).unwrap();
    }
    to
}

fn write_all(path: &Path, strategy: Strategy) -> (ScanReport, MigrationReport) {
    let report = scan(&[path.to_path_buf()], &options(strategy));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let (backups, errors) = write_files(&report);
    assert!(errors.is_empty() && !backups.is_empty(), "{errors:?}");
    let s3 = report_from_scan(&report, true);
    (report, s3)
}

/// The line of `needle` in the file on disk.
fn line_of(file: &Path, needle: &str) -> usize {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn legacy_app_fully_inlined_keeps_only_the_existing_object_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let app = legacy_app_copy(dir.path());
    let (_, s3) = write_all(&app, Strategy::Inline);
    assert_eq!(s3.crates.len(), 1);
    assert_eq!(s3.crates[0].name, "legacy-app");
    let sites = &s3.crates[0].sites;
    // Only `rescore_existing`: the object already exists in S3, its URI is a parameter.
    assert_eq!(sites.len(), 1, "{sites:#?}");
    let scoring = app.join("src/scoring.rs");
    assert_eq!(sites[0].path, scoring.display().to_string());
    assert!(sites[0].why.contains("`input_uri`"), "{}", sites[0].why);
    // The invoke chain starts on the line after `let response = self.runtime`.
    let fn_line = line_of(&scoring, "pub async fn rescore_existing");
    let line = sites[0].line as usize;
    assert!(line > fn_line && line <= fn_line + 4);
    assert!(s3.needed && s3.written);
}

#[test]
fn legacy_app_with_size_branches_keeps_each_large_payload_arm_on_s3() {
    let dir = tempfile::tempdir().unwrap();
    let app = legacy_app_copy(dir.path());
    let (_, s3) = write_all(&app, Strategy::Auto);
    let sites = &s3.crates[0].sites;
    let branches = sites
        .iter()
        .filter(|s| s.why.starts_with("size branch"))
        .count();
    assert_eq!(branches, 4, "{sites:#?}");
    assert_eq!(sites.len(), 5);
    // Each listed line really holds an `invoke_endpoint_async` in the rewritten file.
    let text = std::fs::read_to_string(app.join("src/scoring.rs")).unwrap();
    for s in sites {
        let line = text.lines().nth(s.line as usize - 1).unwrap();
        assert_eq!(
            line.chars()
                .skip(s.column as usize - 1)
                .take(21)
                .collect::<String>(),
            "invoke_endpoint_async",
            "{s:?}"
        );
    }
}

#[test]
fn save_is_atomic_creates_the_directory_and_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    two_crates(dir.path(), &["uri_parameter"]);
    let report = scan(&[dir.path().join("app")], &options(Strategy::Auto));
    let s3 = report_from_scan(&report, false);
    let path = dir.path().join("state/.bodyline/migrate-report.json");
    save_report(&s3, &path).unwrap();
    assert_eq!(MigrationReport::load(&path).unwrap(), Some(s3.clone()));
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "temp file left behind: {names:?}");
    // Only the scanned crate is listed.
    assert_eq!(s3.crates.len(), 1);
    std::fs::write(&path, "{\"version\": 1}").unwrap();
    let err = MigrationReport::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("migrate-report.json") && err.contains("is unusable: missing field"),
        "{err}"
    );
}

#[test]
fn after_write_sites_left_alone_keep_the_reason_this_run_found() {
    let dir = tempfile::tempdir().unwrap();
    let from = fixtures().join("crates/helper_across_files/before");
    let app = dir.path().join("app");
    std::fs::create_dir_all(app.join("src")).unwrap();
    std::fs::copy(from.join("Cargo.toml"), app.join("Cargo.toml")).unwrap();
    for f in ["main.rs", "scoring.rs", "storage.rs"] {
        std::fs::copy(from.join("src").join(f), app.join("src").join(f)).unwrap();
    }
    let (_, s3) = write_all(&app, Strategy::Auto);
    let whys: Vec<&str> = s3.crates[0].sites.iter().map(|s| s.why.as_str()).collect();
    assert_eq!(whys.len(), 3, "{whys:#?}");
    assert!(whys[0].starts_with("size branch"), "{whys:#?}");
    assert!(
        whys[1].contains("its payload is computed inside it"),
        "{whys:#?}"
    );
    assert!(whys[2].contains("may mean several functions"), "{whys:#?}");
}

#[test]
fn a_file_that_does_not_parse_counts_as_needing_s3() {
    let dir = tempfile::tempdir().unwrap();
    two_crates(dir.path(), &[]);
    std::fs::write(
        dir.path().join("quiet/src/broken.rs"),
        "fn f() { rt.invoke_endpoint_async().input_location(uri) \n",
    )
    .unwrap();
    let report = scan(&[dir.path().to_path_buf()], &options(Strategy::Auto));
    assert_eq!(report.errors.len(), 1);
    let s3 = report_from_scan(&report, false);
    assert!(s3.needed);
    let sites = sites_of(&s3, "quiet");
    assert_eq!(sites.len(), 1);
    assert_eq!(sites[0].0, "broken.rs");
    assert!(sites[0].2.starts_with("not analysed"), "{}", sites[0].2);
}

/// The report is a function of the scan result: the packages are those the scan listed, so the
/// report reads no manifest (here, gone after the scan) and needs no file on disk.
#[test]
fn the_report_reads_nothing_after_the_scan() {
    let dir = tempfile::tempdir().unwrap();
    two_crates(dir.path(), &["shape1_literal_key", "uri_parameter"]);
    let report = scan(&[dir.path().to_path_buf()], &options(Strategy::Auto));
    let unlisted = scan(
        &[dir.path().to_path_buf()],
        &ScanOptions {
            list_packages: false,
            ..options(Strategy::Auto)
        },
    );
    let expected = report_from_scan(&report, false);
    std::fs::remove_dir_all(dir.path()).unwrap();
    let again = report_from_scan(&report, false);
    assert_eq!(again, expected);
    assert_eq!(sites_of(&again, "app").len(), 3, "{again:#?}");
    assert!(sites_of(&again, "quiet").is_empty());
    // Without the package listing every site still counts, under no crate.
    let grouped = report_from_scan(&unlisted, false);
    assert_eq!(grouped.crates.len(), 1, "{grouped:#?}");
    assert_eq!(grouped.crates[0].manifest, "");
    assert_eq!(sites_of(&grouped, "").len(), 3);
    assert!(grouped.needed);
}
