//! `cargo xtask bench request` and `bench provisioning`: the request path (inline `Body`
//! against S3 upload + `InputLocation`, through the same local stack) and a no-op `setup`
//! re-run, both with the `bodyline` binary on a stack of their own.

use std::path::Path;
use std::time::Instant;

use anyhow::Context as _;
use serde_json::Value;
use xshell::{cmd, Shell};

/// Requests per path for the request-path comparison.
const REQUESTS: u32 = 1000;
/// Timed no-op `setup` runs.
const SETUP_RUNS: usize = 5;

/// A fresh project directory with the template stack, a running local stack and the stack set
/// up; `body` runs against it, then teardown and `local down` run whatever happened.
fn with_stack(
    sh: &Shell,
    root: &Path,
    name: &str,
    body: impl FnOnce(&Shell, &Path, &Path) -> anyhow::Result<String>,
) -> anyhow::Result<String> {
    let bodyline = crate::bodyline_bin();
    // The same build as `cargo xtask test`, so nothing is recompiled for other features.
    cmd!(sh, "cargo build --quiet --workspace --all-targets").run()?;
    let dir = root.join(".bodyline").join(format!("bench-{name}"));
    if dir.exists() {
        // A previous run that was interrupted: stop its local stack before removing it.
        let _ = cmd!(sh, "{bodyline} local down --root {dir}")
            .quiet()
            .ignore_status()
            .run();
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(&dir)?;
    let template = std::fs::read_to_string(root.join("templates/bodyline.toml"))?;
    let stack_file = dir.join("bodyline.toml");
    std::fs::write(
        &stack_file,
        template.replacen(
            "name = \"bodyline-demo\"",
            &format!("name = \"bench-{name}\""),
            1,
        ),
    )?;
    // The model server the local runtime starts is found on PATH, as a user's would be.
    let path = format!(
        "{}:{}",
        bodyline
            .parent()
            .map(Path::display)
            .map(|d| d.to_string())
            .unwrap_or_default(),
        std::env::var("PATH").unwrap_or_default()
    );
    let _path = sh.push_env("PATH", path);
    let venv = root.join(".bodyline").join("venv");
    let _venv = sh.push_env("BODYLINE_VENV", &venv);
    cmd!(sh, "{bodyline} local up --root {dir}").quiet().run()?;
    let result = cmd!(
        sh,
        "{bodyline} setup --quiet --root {dir} --stack-file {stack_file}"
    )
    .quiet()
    .ignore_stdout()
    .run()
    .map_err(anyhow::Error::from)
    .and_then(|()| body(sh, &dir, &stack_file));
    let teardown = cmd!(
        sh,
        "{bodyline} teardown --quiet --yes --root {dir} --stack-file {stack_file}"
    )
    .quiet()
    .run();
    let down = cmd!(sh, "{bodyline} local down --root {dir}").quiet().run();
    let section = result?;
    teardown?;
    down?;
    Ok(section)
}

/// Inline against S3 upload + `InputLocation`: `bodyline verify --compare-s3 1000`.
pub(crate) fn request(sh: &Shell, root: &Path) -> anyhow::Result<String> {
    with_stack(sh, root, "request", |sh, dir, stack_file| {
        let bodyline = crate::bodyline_bin();
        let requests = REQUESTS.to_string();
        let json = cmd!(
            sh,
            "{bodyline} verify --quiet --root {dir} --stack-file {stack_file} --check endpoint --compare-s3 {requests} --format json"
        )
        .quiet()
        .read()?;
        let report: Value = serde_json::from_str(&json)?;
        let c = &report["comparison"];
        let number = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
        let inline_p50 = number(&c["inline"]["p50_ms"]);
        let s3_p50 = number(&c["s3_input"]["p50_ms"]);
        let ratio = inline_p50 / s3_p50;
        let row = |label: &str, p: &Value| {
            format!(
                "| {label} | {:.1} ms | {:.1} ms | {} | {} | {} of {} |\n",
                number(&p["p50_ms"]),
                number(&p["p95_ms"]),
                p["requests_per_inference"],
                p["s3_puts_per_inference"],
                p["failed"],
                number(&p["submitted"]) + number(&p["failed"]),
            )
        };
        Ok(format!(
            "## Request path benchmark\n\n\
             {REQUESTS} submits per path, one after another, through the same local stack (front door, \
             moto, bodyline's runtime) with the real Rust SDK clients: `bodyline verify --compare-s3 {REQUESTS}`. \
             Submit latency is until the endpoint accepted the request (the S3 path includes its upload).\n\n\
             | path | p50 | p95 | requests per inference | S3 PUTs per inference | failed |\n|---|---|---|---|---|---|\n{}{}\n\
             Inline p50 = {ratio:.2}x the S3 path's (target <= 0.5x){}.\n",
            row("inline `Body`", &c["inline"]),
            row("S3 upload + `InputLocation`", &c["s3_input"]),
            if ratio <= 0.5 { "" } else { " — below target" },
        ))
    })
}

/// A no-op `setup` re-run: its mutating calls (target 0) and wall time.
pub(crate) fn provisioning(sh: &Shell, root: &Path) -> anyhow::Result<String> {
    with_stack(sh, root, "provisioning", |sh, dir, stack_file| {
        let bodyline = crate::bodyline_bin();
        let mut times = Vec::with_capacity(SETUP_RUNS);
        let mut mutating = Vec::with_capacity(SETUP_RUNS);
        let mut reads = Vec::with_capacity(SETUP_RUNS);
        for _ in 0..SETUP_RUNS {
            let started = Instant::now();
            let json = cmd!(
                sh,
                "{bodyline} setup --quiet --root {dir} --stack-file {stack_file} --format json"
            )
            .quiet()
            .read()?;
            times.push(started.elapsed());
            let report: Value = serde_json::from_str(&json)?;
            mutating.push(report["calls"]["mutating"].as_u64().unwrap_or(u64::MAX));
            reads.push(report["calls"]["read"].as_u64().unwrap_or(0));
        }
        let worst = mutating.iter().copied().max().unwrap_or(u64::MAX);
        Ok(format!(
            "## Provisioning benchmark\n\n\
             `bodyline setup` run again on the template stack that is already up to date \
             ({SETUP_RUNS} runs, the binary's whole wall time: start, identify, observe, plan).\n\n\
             | mutating calls | read calls | min | median | max |\n|---|---|---|---|---|\n\
             | {} (target 0) | {} | {} |\n",
            if worst == 0 {
                "0".to_string()
            } else {
                format!("{worst} — below target")
            },
            reads.first().copied().unwrap_or(0),
            crate::bench_migrate::Stats::of(times).cells(),
        ))
    })
}
