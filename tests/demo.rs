//! `cargo xtask demo` end to end, so that CI keeps the demo working: the legacy app before and
//! after `bodyline migrate`, against one local stack, then verify and teardown.

use std::process::Command;

use bodyline_tests::{run, shared_venv, target_dir, workspace_root};
use serde_json::Value;

#[test]
fn the_demo_migrates_the_legacy_app_to_the_same_outputs_with_fewer_requests() {
    // The demo runs as the xtask binary: `cargo xtask test` builds it with the workspace.
    let xtask = target_dir().join("xtask");
    assert!(
        xtask.exists(),
        "{} is missing: run `cargo build --workspace` (cargo xtask test does) first",
        xtask.display()
    );
    let out_dir = tempfile::tempdir().unwrap();
    let summary_path = out_dir.path().join("demo.json");
    // A fixed scratch directory next to the demo's own, outside the target directory (the
    // demo refuses one inside it: cargo would judge the copy by another copy's sources).
    let scratch = workspace_root().join(".bodyline").join("demo-test");
    let mut demo = Command::new(&xtask);
    demo.current_dir(workspace_root())
        .env("BODYLINE_VENV", shared_venv())
        .arg("demo")
        .arg("--no-build")
        .arg("--compare-s3")
        .arg("5")
        .arg("--scratch")
        .arg(&scratch)
        .arg("--summary-json")
        .arg(&summary_path);
    let (out, stdout, stderr) = run(&mut demo);
    let transcript = format!("{stdout}\n{stderr}");
    let summary: Value = std::fs::read_to_string(&summary_path)
        .ok()
        .and_then(|text| serde_json::from_str(&text).ok())
        .unwrap_or_else(|| panic!("the demo wrote no summary JSON:\n{transcript}"));

    for step in summary["steps"].as_array().into_iter().flatten() {
        assert_eq!(
            step["result"], "passed",
            "step {} did not pass: {}\n{transcript}",
            step["name"], step["detail"]
        );
    }
    assert!(
        out.status.success(),
        "the demo exited {}:\n{transcript}",
        out.status
    );

    let before = &summary["before"];
    let after = &summary["after"];
    let outputs = before["outputs"].as_array().cloned().unwrap_or_default();
    assert_eq!(outputs.len(), 6, "one output per inference: {before}");
    assert_eq!(
        before["outputs"], after["outputs"],
        "the migrated app reads back the same outputs"
    );
    let per_inference = |run: &Value| run["requests_per_inference"].as_f64().unwrap_or(f64::NAN);
    assert!(
        per_inference(after) < per_inference(before),
        "fewer requests per inference after the migration: before {before}, after {after}"
    );
    assert_eq!(summary["verify_passed"], true, "{transcript}");
    assert_eq!(summary["teardown"]["clean"], true, "{transcript}");
    assert_eq!(
        summary["teardown"]["owned_left"], 0,
        "teardown leaves no owned resource:\n{transcript}"
    );
    assert!(
        !scratch.join(".bodyline/local.env").exists(),
        "the demo stops its local stack"
    );
}
