//! Fixture tests: `fixtures/NAME.rs` migrates to `NAME.fixed.rs` with the verdicts in
//! `NAME.verdicts`. `BODYLINE_BLESS=1 cargo test -p bodyline-migrate` accepts new output.

// A test file: its helpers may unwrap too (a panic is a failed test, with its message).
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use bodyline_migrate::{migrate_source, scan, ScanOptions, Strategy};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn bless() -> bool {
    std::env::var_os("BODYLINE_BLESS").is_some_and(|v| v == "1")
}

/// `// bodyline-test: strategy=inline` in a fixture picks the strategy.
fn options_for(src: &str) -> ScanOptions {
    let strategy = if src.contains("// bodyline-test: strategy=inline") {
        Strategy::Inline
    } else if src.contains("// bodyline-test: strategy=branch") {
        Strategy::Branch
    } else {
        Strategy::Auto
    };
    ScanOptions {
        strategy,
        ..ScanOptions::default()
    }
}

fn verdict_lines(m: &bodyline_migrate::FileMigration) -> String {
    let mut out = String::new();
    for s in &m.sites {
        out.push_str(&format!("{}:{}: {}\n", s.line, s.column, s.verdict));
        for n in &s.notes {
            out.push_str(&format!("    note: {n}\n"));
        }
    }
    for h in &m.hints {
        out.push_str(&format!("hint: {h}\n"));
    }
    out
}

fn check_or_bless(path: &Path, actual: &str) {
    if bless() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with BODYLINE_BLESS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual);
        panic!(
            "{} differs from the actual output (BODYLINE_BLESS=1 accepts it):\n{}",
            path.display(),
            diff.unified_diff().header("expected", "actual")
        );
    }
}

fn run_fixture(name: &str) {
    let dir = fixtures_dir();
    let input_path = dir.join(format!("{name}.rs"));
    let input = std::fs::read_to_string(&input_path).unwrap();
    let options = options_for(&input);
    let m = migrate_source(&input, Some(&input_path), &options).unwrap();
    let output = m.output();
    syn::parse_file(&output)
        .unwrap_or_else(|e| panic!("{name}: output does not parse: {e}\n{output}"));
    // Nothing outside the edited ranges changes.
    let mut at = 0;
    for e in m.edits.edits() {
        assert!(e.range.start >= at);
        at = e.range.end;
    }
    check_or_bless(&dir.join(format!("{name}.fixed.rs")), &output);
    check_or_bless(&dir.join(format!("{name}.verdicts")), &verdict_lines(&m));
    // Idempotence: the fixed file needs nothing more.
    let again = migrate_source(&output, Some(&input_path), &options).unwrap();
    assert!(
        again.edits.is_empty(),
        "{name}: migrating the output again changes it:\n{}",
        again.output()
    );
}

macro_rules! fixtures {
    ($($name:ident),* $(,)?) => {
        const ALL: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                run_fixture(stringify!($name));
            }
        )*
    };
}

fixtures! {
    blob_reexports,
    cfg_inline_module,
    crlf_bom,
    helper_method,
    helper_method_receivers,
    helper_returns_uri,
    shim_removable,
    size_branch_hoisted,
    tabs_non_ascii,
    trait_closure_cfg,
    custom_attributes,
    dead_helpers,
    error_handling_variants,
    file_upload_branch,
    inference_id_kept,
    invoke_before_upload,
    legacy_app_scoring,
    macro_rules_site,
    object_exists,
    opt_out,
    realtime_untouched,
    shape1_concat_const,
    shape1_format_positional,
    shape1_inline_args,
    shape1_literal_key,
    stored_builder,
    stored_builder_branch,
    uri_parameter,
    uri_returned,
    value_format_specs,
    macro_sites,
    survey_display_location,
    survey_encrypted_training_inline,
    survey_encrypted_training_input,
    survey_free_helpers_bucket_key,
    survey_hash_stamp_key,
    survey_key_fn_helper_upload,
    survey_method_split_stages,
    survey_multipart_upload,
    survey_optional_prefix_repeated,
    survey_path_joined_key,
    survey_retry_flag_upload,
    survey_stored_put_builder,
    survey_trait_store_returns_uri,
    survey_upload_loop_pairs,
}

/// Copy the `.rs` files and the manifest of a crate fixture directory into `to`.
fn copy_crate(from: &Path, to: &Path, manifest: &Path) {
    std::fs::create_dir_all(to).unwrap();
    std::fs::copy(manifest, to.join("Cargo.toml")).unwrap();
    for rel in rs_files(from) {
        let dest = to.join(&rel);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(from.join(&rel), dest).unwrap();
    }
}

/// `.rs` files under `dir`, relative to it, sorted.
fn rs_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

/// A multi-file crate fixture: `crates/NAME/before` (a package) migrates to `crates/NAME/after`
/// (its `.rs` files) with the verdicts in `crates/NAME/verdicts`; the scan sees the whole crate.
fn run_crate_fixture(name: &str) {
    let dir = fixtures_dir().join("crates").join(name);
    let before = dir.join("before");
    let after = dir.join("after");
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join(name);
    copy_crate(&before, &work, &before.join("Cargo.toml"));
    let report = scan(std::slice::from_ref(&work), &ScanOptions::default());
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let prefix = format!("{}/", work.display());
    let mut verdicts = String::new();
    for f in &report.files {
        let rel = f.path.strip_prefix(&work).unwrap().display().to_string();
        for s in &f.migration.sites {
            verdicts.push_str(&format!("{rel}:{}:{}: {}\n", s.line, s.column, s.verdict));
            for n in &s.notes {
                verdicts.push_str(&format!("    note: {}\n", n.replace(&prefix, "")));
            }
        }
        for h in &f.migration.hints {
            verdicts.push_str(&format!("{rel}: hint: {}\n", h.replace(&prefix, "")));
        }
    }
    check_or_bless(&dir.join("verdicts"), &verdicts);
    for rel in rs_files(&before.join("src")) {
        let path = work.join("src").join(&rel);
        let original = std::fs::read_to_string(&path).unwrap();
        let output = report
            .files
            .iter()
            .find(|f| f.path == path)
            .map_or(original, |f| f.migration.output());
        syn::parse_file(&output)
            .unwrap_or_else(|e| panic!("{name}/{}: output does not parse: {e}", rel.display()));
        let expected = after.join("src").join(&rel);
        if bless() {
            std::fs::create_dir_all(expected.parent().unwrap()).unwrap();
        }
        check_or_bless(&expected, &output);
    }
    // Idempotence: the migrated crate needs nothing more.
    let again_dir = tmp.path().join("again");
    copy_crate(&after, &again_dir, &before.join("Cargo.toml"));
    let again = scan(&[again_dir], &ScanOptions::default());
    assert_eq!(
        again.summary().files_changed,
        0,
        "{name}: migrating the output again changes it"
    );
}

macro_rules! crate_fixtures {
    ($($name:ident),* $(,)?) => {
        const CRATES: &[&str] = &[$(stringify!($name)),*];
        $(
            #[test]
            fn $name() {
                run_crate_fixture(stringify!($name));
            }
        )*
    };
}

crate_fixtures! {
    cfg_modules,
    dead_across_files,
    dead_in_library,
    helper_across_files,
    methods_across_files,
}

#[test]
fn every_fixture_file_has_a_test() {
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rs").filter(|s| !s.ends_with(".fixed")) {
            assert!(
                ALL.contains(&stem),
                "fixture {name} has no test: add it to fixtures! in tests/fixtures.rs"
            );
        }
    }
    for entry in std::fs::read_dir(fixtures_dir().join("crates")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            CRATES.contains(&name.as_str()),
            "crate fixture {name} has no test: add it to crate_fixtures! in tests/fixtures.rs"
        );
    }
}

/// `legacy_app_scoring` is a copy of the demo app's scoring module (with `Submitted` defined
/// in place of `use crate::Submitted`); a change to the app must reach the fixture too.
#[test]
fn the_legacy_app_fixture_is_the_example_app() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fixture = std::fs::read_to_string(root.join("tests/fixtures/legacy_app_scoring.rs"))
        .expect("the fixture exists");
    let app = std::fs::read_to_string(root.join("../../examples/legacy-app/src/scoring.rs"))
        .expect("the example app exists");
    let from_marker = |text: &str| {
        let start = text
            .find("const INPUT_PREFIX")
            .expect("both files define INPUT_PREFIX");
        text[start..].to_string()
    };
    assert_eq!(
        from_marker(&fixture),
        from_marker(&app),
        "examples/legacy-app/src/scoring.rs changed: copy it into tests/fixtures/legacy_app_scoring.rs and bless"
    );
}
