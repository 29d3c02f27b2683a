//! The CI template's `local` job, run as written: every `run:` step of
//! `templates/ci/github-actions.yml` (but the install, which builds bodyline from git) runs in
//! bash against this workspace's binaries, on a scratch project with the template stack file.
//! So the project's own CI runs the sequence it tells users to run: migrate --check, local up,
//! setup, verify, teardown (leak check), local down. The nightly `sweep` job's Sweep step runs
//! the same way against the local stack, on a `ci-` stack older than the threshold.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context as _};
use bodyline_tests::{shared_venv, target_dir, unique, workspace_root};

/// One step of a job: its name, its `run:` script, and whether it runs after a failed step
/// (`if: always()`).
#[derive(Debug)]
struct Step {
    name: String,
    run: String,
    always: bool,
}

/// The `run:` steps of `job` in a GitHub Actions workflow. A small reader for the shapes the
/// template uses (`- name:`, `if: always()`, `run: cmd` and `run: |` blocks), not a YAML parser.
fn steps_of(workflow: &str, job: &str) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut in_job = false;
    let mut name = String::new();
    let mut always = false;
    let mut lines = workflow.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with("  ") && !line.starts_with("   ") && line.trim_end().ends_with(':') {
            in_job = line.trim() == format!("{job}:");
            continue;
        }
        if !in_job {
            continue;
        }
        let trimmed = line.trim_start();
        if let Some(n) = trimmed.strip_prefix("- name: ") {
            name = n.trim().to_string();
            always = false;
        } else if trimmed.trim_end() == "if: always()" {
            always = true;
        } else if let Some(cmd) = trimmed.strip_prefix("run: ") {
            let indent = line.len() - trimmed.len();
            let run = if cmd.trim() == "|" {
                let mut block = Vec::new();
                while let Some(next) = lines.peek() {
                    let next_indent = next.len() - next.trim_start().len();
                    if !next.trim().is_empty() && next_indent <= indent {
                        break;
                    }
                    block.push(next.get(indent + 2..).unwrap_or("").to_string());
                    lines.next();
                }
                block.join("\n")
            } else {
                cmd.to_string()
            };
            steps.push(Step {
                name: name.clone(),
                run,
                always,
            });
        }
    }
    steps
}

#[test]
fn the_ci_templates_local_job_runs_on_the_local_stack() -> anyhow::Result<()> {
    let workflow =
        std::fs::read_to_string(workspace_root().join("templates/ci/github-actions.yml"))?;
    let steps = steps_of(&workflow, "local");
    let names: Vec<&str> = steps.iter().map(|s| s.name.as_str()).collect();
    for wanted in ["Setup", "Verify", "Teardown"] {
        assert!(
            names.contains(&wanted),
            "the local job lost its {wanted} step: {names:?}"
        );
    }
    let dir = tempfile::tempdir()?;
    std::fs::copy(
        workspace_root().join("templates/bodyline.toml"),
        dir.path().join("bodyline.toml"),
    )?;
    let path = format!(
        "{}:{}",
        target_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let stack = unique("ci");
    let mut failed = None;
    for step in steps.iter().filter(|s| !s.run.contains("cargo install")) {
        // Like the workflow: a failed step stops the job, but teardown and `local down`
        // (`if: always()`) still run.
        if failed.is_some() && !step.always {
            continue;
        }
        let status = Command::new("bash")
            .args(["-eo", "pipefail", "-c", &step.run])
            .current_dir(dir.path())
            .env("PATH", &path)
            .env("AWS_REGION", "us-east-1")
            .env("BODYLINE_STACK", &stack)
            .env("BODYLINE_VENV", shared_venv())
            .status()
            .with_context(|| format!("running step {:?}", step.name))?;
        if !status.success() && failed.is_none() {
            failed = Some(format!(
                "step {:?} failed: {status}\n{}",
                step.name, step.run
            ));
        }
    }
    if let Some(f) = failed {
        bail!(f);
    }
    let verify: serde_json::Value = read_json(&dir.path().join("verify-local.json"))?;
    let checks = verify["checks"]
        .as_array()
        .context("verify JSON has checks")?;
    assert!(checks.len() >= 6, "{verify:#}");
    assert!(checks.iter().all(|c| c["passed"] == true), "{verify:#}");
    let teardown: serde_json::Value = read_json(&dir.path().join("teardown-local.json"))?;
    assert_eq!(
        teardown["report"]["leaks"].as_array().map(Vec::len),
        Some(0),
        "{teardown:#}"
    );
    assert!(
        !dir.path().join(".bodyline/local.pid").exists(),
        "`bodyline local down` stopped the daemon"
    );
    Ok(())
}

/// Runs one shell command in `dir` with the workspace's binaries first on the PATH.
fn bash(dir: &Path, script: &str, env: &[(&str, &str)]) -> anyhow::Result<()> {
    let path = format!(
        "{}:{}",
        target_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let status = Command::new("bash")
        .args(["-eo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", &path)
        .env("AWS_REGION", "us-east-1")
        .env("BODYLINE_VENV", shared_venv())
        .envs(env.iter().copied())
        .status()
        .with_context(|| format!("running {script:?}"))?;
    anyhow::ensure!(status.success(), "{script:?} failed: {status}");
    Ok(())
}

#[test]
fn the_ci_templates_sweep_step_removes_an_old_ci_stack_on_the_local_stack() -> anyhow::Result<()> {
    let workflow =
        std::fs::read_to_string(workspace_root().join("templates/ci/github-actions.yml"))?;
    let steps = steps_of(&workflow, "sweep");
    let sweep = steps
        .iter()
        .find(|s| s.name == "Sweep")
        .context("the sweep job has a Sweep step")?;
    assert!(
        sweep.run.contains("--prefix ci-") && workflow.contains("SWEEP_OLDER_THAN: 6h"),
        "the nightly sweep removes ci- stacks older than 6h: {sweep:?}"
    );
    let dir = tempfile::tempdir()?;
    std::fs::copy(
        workspace_root().join("templates/bodyline.toml"),
        dir.path().join("bodyline.toml"),
    )?;
    let (old, other) = (unique("ci"), unique("keep"));
    bash(dir.path(), "bodyline local up --region us-east-1", &[])?;
    let swept = (|| {
        for name in [&old, &other] {
            bash(
                dir.path(),
                &format!("bodyline setup --stack-name {name} --target local --format json"),
                &[],
            )?;
        }
        // Every resource of both stacks is older than the step's threshold once a second
        // has passed.
        std::thread::sleep(std::time::Duration::from_millis(2100));
        bash(
            dir.path(),
            &sweep.run,
            &[("SWEEP_TARGET", "local"), ("SWEEP_OLDER_THAN", "1s")],
        )?;
        read_json(&dir.path().join("sweep.json"))
    })();
    let down = bash(dir.path(), "bodyline local down", &[]);
    let swept = swept?;
    down?;
    let removed: Vec<&str> = swept["report"]["swept"]
        .as_array()
        .context("the sweep's JSON has report.swept")?
        .iter()
        .filter(|s| s["removed"] == true)
        .filter_map(|s| s["stack"].as_str())
        .collect();
    assert_eq!(removed, [old.as_str()], "{swept:#}");
    let kept = swept["plan"]["stacks"]
        .as_array()
        .context("the sweep's JSON has plan.stacks")?
        .iter()
        .find(|s| s["stack"] == other.as_str())
        .context("the other stack is listed")?;
    assert_eq!(kept["verdict"], "keep", "{swept:#}");
    Ok(())
}

fn read_json(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text = std::fs::read_to_string(path).with_context(|| format!("{}", path.display()))?;
    Ok(serde_json::from_str(&text)?)
}

#[test]
fn the_workflow_reader_finds_single_line_and_block_steps() {
    let steps = steps_of(
        "jobs:\n  local:\n    steps:\n      - name: One\n        run: echo one\n      - name: Two\n        if: always()\n        run: |\n          echo a\n          echo b\n  aws:\n    steps:\n      - name: Three\n        run: echo three\n",
        "local",
    );
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].run, "echo one");
    assert_eq!(steps[1].name, "Two");
    assert_eq!(steps[1].run, "echo a\necho b");
    assert!(!steps[0].always && steps[1].always, "{steps:?}");
}
