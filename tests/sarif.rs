//! `bodyline migrate --format sarif` as code scanning needs it: the real binary, run from four
//! working directories (the repository's top level, inside a crate, below it, and outside the
//! repository with an absolute path), writes the same locations every time, relative to the
//! repository (`uriBaseId` `%SRCROOT%`, percent-encoded, with `originalUriBaseIds` giving the
//! root), each with a region (parse errors and the SDK requirement in `Cargo.toml` too), and
//! every file validates against the SARIF 2.1.0 schema in `tests/fixtures/sarif`.
//!
//! The validator is `tests/sarif-validate` (jsonschema), its own workspace, built here by cargo
//! into the shared target directory: see its Cargo.toml for why it is not a dev-dependency.

use std::path::{Path, PathBuf};
use std::process::Command;

use bodyline_tests::{bodyline, run, workspace_root};
use serde_json::Value;

use bodyline_migrate::cargo_command;

/// An upload-then-invoke that `bodyline migrate` rewrites (`invoke_endpoint_async` at 5:8).
const SITE: &str = include_str!("../crates/migrate/tests/support/upload_then_invoke.rs");

/// A candidate (it names `input_location`) with a syntax error at 3:13.
const BROKEN: &str = "//! Broken.\nfn f() {\n    let x = ;\n    input_location(x);\n}\n";

/// A package requiring an SDK from before `body` (the requirement's literal is at 7:28).
const MANIFEST: &str = "[package]\nname = \"cafe-app\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\naws-sdk-sagemakerruntime = \"1\"\n";

/// The crate's directory in the repository: a space and a non-ASCII letter, to be encoded.
const CRATE: &str = "my app/café";

/// `%SRCROOT%`-relative URIs of the three files.
const CRATE_URI: &str = "my%20app/caf%C3%A9";

/// `bodyline migrate --format sarif ARG` in `dir`, parsed; also saved as `out`.
fn sarif(dir: &Path, arg: &Path, out: &Path) -> Value {
    let (output, stdout, stderr) = run(bodyline(dir)
        .args(["migrate", "--format", "sarif", "--no-report-file"])
        .arg(arg));
    // 1: the broken file is an error.
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    std::fs::write(out, &stdout).unwrap();
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {stdout}"))
}

/// Each result's rule and location (`artifactLocation` and `region`), sorted: what code
/// scanning places. Messages may name paths as given and are left out.
fn placed(sarif: &Value) -> Vec<String> {
    let mut placed: Vec<String> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| format!("{} {}", r["ruleId"], r["locations"][0]["physicalLocation"]))
        .collect();
    placed.sort();
    placed
}

/// The location of the one result of `rule` for the file `uri`.
fn location<'a>(sarif: &'a Value, rule: &str, uri: &str) -> &'a Value {
    let results = sarif["runs"][0]["results"].as_array().expect("results");
    let found: Vec<&Value> = results
        .iter()
        .filter(|r| r["ruleId"] == rule)
        .map(|r| &r["locations"][0]["physicalLocation"])
        .filter(|l| l["artifactLocation"]["uri"] == uri)
        .collect();
    assert_eq!(found.len(), 1, "one {rule} at {uri} in {sarif:#}");
    found[0]
}

/// The `bodyline-sarif-validate` binary, built into the shared target directory.
fn validator() -> PathBuf {
    let root = workspace_root();
    let target = bodyline_tests::target_dir()
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("target"));
    let mut cmd = cargo_command();
    let (output, _, stderr) = run(cmd
        .current_dir(root.join("tests/sarif-validate"))
        .env("CARGO_TARGET_DIR", &target)
        .args(["build", "--quiet", "--locked"]));
    assert!(output.status.success(), "building the validator: {stderr}");
    target.join("debug/bodyline-sarif-validate")
}

/// Runs the validator on `files`: (valid, what it printed).
fn validate(validator: &Path, files: &[PathBuf]) -> (bool, String) {
    let schema = workspace_root().join("tests/fixtures/sarif/sarif-schema-2.1.0.json");
    let (output, stdout, stderr) = run(Command::new(validator).arg(schema).args(files));
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "the validator failed to run: {stderr}"
    );
    (output.status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn sarif_locations_are_repository_relative_from_any_directory_and_valid() {
    let scratch = tempfile::tempdir().unwrap();
    let outside = std::fs::canonicalize(scratch.path()).unwrap();
    let repo = outside.join("repo");
    let krate = repo.join(CRATE);
    std::fs::create_dir_all(krate.join("src")).unwrap();
    // The top level is found by its `.git`, without running git.
    std::fs::create_dir_all(repo.join(".git")).unwrap();
    std::fs::write(krate.join("Cargo.toml"), MANIFEST).unwrap();
    std::fs::write(krate.join("src/lib.rs"), SITE).unwrap();
    std::fs::write(krate.join("src/broken.rs"), BROKEN).unwrap();

    let runs = [
        ("top level", repo.clone(), PathBuf::from(CRATE)),
        ("in the crate", krate.clone(), PathBuf::from(".")),
        ("below the crate", krate.join("src"), PathBuf::from("..")),
        ("outside, absolute", outside.clone(), krate.clone()),
    ];
    let mut files = Vec::new();
    let mut reports = Vec::new();
    for (i, (what, dir, arg)) in runs.iter().enumerate() {
        let out = outside.join(format!("run-{i}.sarif"));
        let report = sarif(dir, arg, &out);
        files.push(out);
        reports.push((what, report));
    }

    let (_, first) = &reports[0];
    let root_uri = format!("file://{}/", repo.display());
    for (what, report) in &reports {
        assert_eq!(
            placed(report),
            placed(first),
            "{what} places results elsewhere"
        );
        assert_eq!(
            report["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            root_uri.as_str(),
            "{what}"
        );
        for result in report["runs"][0]["results"].as_array().unwrap() {
            let l = &result["locations"][0]["physicalLocation"];
            assert_eq!(
                l["artifactLocation"]["uriBaseId"], "%SRCROOT%",
                "{what}: {l}"
            );
            assert!(l["region"]["startLine"].as_u64() >= Some(1), "{what}: {l}");
        }
    }
    let site = location(
        first,
        "bodyline/inline-body",
        &format!("{CRATE_URI}/src/lib.rs"),
    );
    assert_eq!(site["region"]["startLine"], 5);
    assert_eq!(site["region"]["startColumn"], 8);
    let broken = location(
        first,
        "bodyline/error",
        &format!("{CRATE_URI}/src/broken.rs"),
    );
    assert_eq!(broken["region"]["startLine"], 3);
    assert_eq!(broken["region"]["startColumn"], 13);
    let sdk = location(
        first,
        "bodyline/sdk-version",
        &format!("{CRATE_URI}/Cargo.toml"),
    );
    assert_eq!(sdk["region"]["startLine"], 7);
    assert_eq!(sdk["region"]["startColumn"], 28);
    assert_eq!(first["runs"][0]["results"].as_array().unwrap().len(), 3);

    let validator = validator();
    let (valid, said) = validate(&validator, &files);
    assert!(valid, "the SARIF files break the 2.1.0 schema: {said}");
    // The validator can fail: a region starting at line 0 breaks the schema.
    let mut broken = first.clone();
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        0.into();
    let bad = outside.join("bad.sarif");
    std::fs::write(&bad, broken.to_string()).unwrap();
    let (valid, said) = validate(&validator, &[bad]);
    assert!(!valid && said.contains("startLine"), "{said}");
}
