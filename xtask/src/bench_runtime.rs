//! `cargo xtask bench runtime`: the local runtime's accepted submits/s and completed inferences/s
//! against the raw `PutObject` rate of the same moto instance, with a lost-request count.
//!
//! The load generator, the front door and the runtime share one process (two tokio worker
//! threads, the machine's two cores); moto and the shipped `bodyline-model` are its children.
//! The figures are meaningful only for an optimised build, so by default the task builds
//! `xtask` and `bodyline-model` in release and re-runs itself from `target/release` to measure
//! (`BODYLINE_BENCH_PROFILE=dev` measures the dev build instead, and says so).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use aws_sdk_sagemakerruntime::primitives::Blob;
use bodyline_local::{LocalOptions, LocalStack};
use bodyline_provision::ApplyOptions;
use bodyline_stack::Stack;
use xshell::{cmd, Shell};

/// Measured rounds (after one warm-up); the table shows min, median and max.
const ROUNDS: usize = 5;
/// Requests per round, for the runtime and for the `PutObject` ceiling alike.
const REQUESTS: usize = 5_000;
/// Concurrent callers, and the endpoint's `MaxConcurrentInvocationsPerInstance`.
const CONCURRENCY: usize = 64;
/// The inline `Body` (and the `PutObject` payload) is a JSON document of about this size.
const PAYLOAD_BYTES: usize = 1_000;
/// A request with neither object after this much quiet time at the end is counted as lost.
const SETTLE: Duration = Duration::from_secs(60);
/// The longest wait for the last accepted request's object.
const LAST_WAIT: Duration = Duration::from_secs(600);
/// Between two checks of the last accepted request's objects while waiting for completion.
const POLL: Duration = Duration::from_millis(100);

const TARGET_SUBMITS: f64 = 5_000.0;
const TARGET_RATIO: f64 = 0.80;

/// Set in the re-run measuring process: where it writes its markdown section.
const SECTION_VAR: &str = "BODYLINE_BENCH_RUNTIME_SECTION";
/// `dev` measures the dev build; anything else (or unset) the release build.
const PROFILE_VAR: &str = "BODYLINE_BENCH_PROFILE";

/// Run the benchmark and return a markdown section with min/median/max and ratios.
pub(crate) fn run(sh: &Shell, root: &Path) -> anyhow::Result<String> {
    let current = if cfg!(debug_assertions) {
        "dev"
    } else {
        "release"
    };
    if let Some(out) = std::env::var_os(SECTION_VAR) {
        // The measuring process: write the section for the parent and stop here, so this
        // process does not also write docs/BENCHMARKS.md.
        let section = measure_blocking(root, current)?;
        std::fs::write(&out, &section)
            .with_context(|| format!("cannot write {}", PathBuf::from(&out).display()))?;
        std::process::exit(0);
    }
    let wanted = match std::env::var(PROFILE_VAR) {
        Ok(p) if p == "dev" => "dev",
        _ => "release",
    };
    let _dir = sh.push_dir(root);
    let release: &[&str] = if wanted == "release" {
        &["--release"]
    } else {
        &[]
    };
    if wanted == current {
        cmd!(sh, "cargo build --quiet {release...} -p bodyline-model").run()?;
        return measure_blocking(root, current);
    }
    cmd!(
        sh,
        "cargo build --quiet {release...} -p xtask -p bodyline-model"
    )
    .run()?;
    let bin = crate::target_dir(root)
        .join(if wanted == "release" {
            "release"
        } else {
            "debug"
        })
        .join("xtask");
    let out = crate::target_dir(root).join("bench-runtime-section.md");
    let _ = std::fs::remove_file(&out);
    cmd!(sh, "{bin} bench runtime")
        .env(SECTION_VAR, &out)
        .run()?;
    let section = std::fs::read_to_string(&out)
        .with_context(|| format!("the measuring run wrote no section to {}", out.display()))?;
    let _ = std::fs::remove_file(&out);
    Ok(section)
}

fn measure_blocking(root: &Path, profile: &str) -> anyhow::Result<String> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(measure(root, profile))
}

/// One round's figures.
struct Round {
    submitted: usize,
    accepted: usize,
    submit_errors: usize,
    first_error: Option<String>,
    submit_time: Duration,
    complete_time: Duration,
    outputs: usize,
    failures: usize,
    both: usize,
    lost: usize,
    late: usize,
    first_failure: Option<String>,
    ceiling_puts: usize,
    ceiling_errors: usize,
    ceiling_time: Duration,
}

impl Round {
    fn submits_per_s(&self) -> f64 {
        self.accepted as f64 / self.submit_time.as_secs_f64().max(1e-9)
    }
    fn completions_per_s(&self) -> f64 {
        (self.outputs + self.failures - self.both) as f64
            / self.complete_time.as_secs_f64().max(1e-9)
    }
    fn ceiling_per_s(&self) -> f64 {
        self.ceiling_puts as f64 / self.ceiling_time.as_secs_f64().max(1e-9)
    }
    fn ratio(&self) -> f64 {
        self.completions_per_s() / self.ceiling_per_s().max(1e-9)
    }
}

/// Where an accepted request ends, and when its 202 arrived.
#[derive(Clone)]
struct Accepted {
    output: String,
    failure: String,
    at: Instant,
}

/// What every round of the bench sends to: the endpoint, its bucket, the clients and the payload.
struct BenchTarget {
    runtime: aws_sdk_sagemakerruntime::Client,
    s3: aws_sdk_s3::Client,
    endpoint: String,
    bucket: String,
    payload: Vec<u8>,
}

async fn measure(root: &Path, profile: &str) -> anyhow::Result<String> {
    let work = crate::target_dir(root).join("bench-runtime");
    if work.exists() {
        std::fs::remove_dir_all(&work)
            .with_context(|| format!("cannot clear {}", work.display()))?;
    }
    std::fs::create_dir_all(&work)?;
    eprintln!(
        "bench runtime: starting the local stack in {}",
        work.display()
    );
    let opts = LocalOptions::new(&work, "us-east-1").with_venv(bodyline_local::default_venv(root));
    let local = LocalStack::start(opts)
        .await
        .context("the local stack starts")?;
    let result = measure_on(root, &work, &local, profile).await;
    local.stop().await;
    let _ = std::fs::remove_dir_all(&work);
    result
}

async fn measure_on(
    root: &Path,
    work: &Path,
    local: &LocalStack,
    profile: &str,
) -> anyhow::Result<String> {
    let stack = bench_stack(root)?;
    let sdk = local.sdk_config();
    eprintln!("bench runtime: provisioning stack {}", stack.name);
    bodyline_provision::setup(&stack, &sdk, work, &ApplyOptions::default(), &mut |_| {})
        .await
        .context("provisioning the bench stack")?;
    let mut clients = BenchTarget {
        runtime: aws_sdk_sagemakerruntime::Client::new(&sdk),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&sdk)
                .force_path_style(true)
                .build(),
        ),
        endpoint: stack.name.clone(),
        bucket: String::new(),
        payload: payload(),
    };

    // Warm-up: starts the model server, fills connection pools and caches, and grows the
    // journal file and the heap to a round's size (the first round after a small warm-up was
    // consistently the slowest to accept); not measured.
    eprintln!("bench runtime: warm-up");
    let warm = submit_all(&clients, REQUESTS).await;
    let Some(first) = warm.accepted.first() else {
        bail!(
            "the warm-up had no accepted request: {}",
            warm.first_error.unwrap_or_default()
        );
    };
    clients.bucket = split_s3(&first.output)?.0.to_string();
    let warm_round = complete(&clients, &warm.accepted, Instant::now()).await?;
    if warm_round.lost > 0 {
        bail!(
            "{} warm-up requests ended in no object; see {}",
            warm_round.lost,
            work.join(".bodyline").display()
        );
    }

    let load_before = load_average();
    let mut rounds = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        eprintln!("bench runtime: round {}/{ROUNDS}", round + 1);
        // The ceiling is measured before and after the runtime's part, and the round uses
        // their combined rate: the machine is shared and its speed drifts within a round.
        let before = put_all(&clients, 2 * round, REQUESTS).await;
        let started = Instant::now();
        let submits = submit_all(&clients, REQUESTS).await;
        let done = complete(&clients, &submits.accepted, started).await?;
        let after = put_all(&clients, 2 * round + 1, REQUESTS).await;
        let r = Round {
            submitted: REQUESTS,
            accepted: submits.accepted.len(),
            submit_errors: submits.errors,
            first_error: submits.first_error,
            submit_time: submits.elapsed,
            complete_time: done.elapsed,
            outputs: done.outputs,
            failures: done.failures,
            both: done.both,
            lost: done.lost,
            late: done.late,
            first_failure: done.first_failure,
            ceiling_puts: before.ok + after.ok,
            ceiling_errors: before.errors + after.errors,
            ceiling_time: before.elapsed + after.elapsed,
        };
        eprintln!(
            "  accepted {:.0}/s, completed {:.0}/s, PutObject {:.0}/s ({:.0}%), lost {}",
            r.submits_per_s(),
            r.completions_per_s(),
            r.ceiling_per_s(),
            r.ratio() * 100.0,
            r.lost
        );
        rounds.push(r);
    }
    let load = format!("{load_before} before, {} after", load_average());
    let section = report(&rounds, profile, &load);
    for line in section.lines().filter(|l| l.contains("below target")) {
        eprintln!("bench runtime: {line}");
    }
    Ok(section)
}

/// The template stack under a fresh name, with the endpoint as wide as the callers and no SNS
/// notifications: a completion is then one `PutObject`, the operation the ceiling measures.
fn bench_stack(root: &Path) -> anyhow::Result<Stack> {
    let path = root.join("templates").join("bodyline.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let id = std::process::id();
    let replacements = [
        (
            "name = \"bodyline-demo\"".to_string(),
            format!("name = \"bench-runtime-{id}\""),
        ),
        (
            "max_concurrent_invocations_per_instance = 4".to_string(),
            format!("max_concurrent_invocations_per_instance = {CONCURRENCY}"),
        ),
        (
            "notifications = true".to_string(),
            "notifications = false".to_string(),
        ),
    ];
    let mut text = text;
    for (from, to) in &replacements {
        if !text.contains(from.as_str()) {
            bail!(
                "{} no longer contains `{from}`; update the bench's stack",
                path.display()
            );
        }
        text = text.replacen(from.as_str(), to, 1);
    }
    Ok(Stack::parse(&text, &path)?)
}

/// A `{"records": [...]}` document of about [`PAYLOAD_BYTES`].
fn payload() -> Vec<u8> {
    let mut text = String::from("{\"records\":[");
    let mut i = 0;
    while text.len() < PAYLOAD_BYTES - 60 {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&format!(
            "{{\"id\":\"r{i:03}\",\"amount\":{}.25,\"country\":\"NZ\"}}",
            i * 7
        ));
        i += 1;
    }
    text.push_str("]}");
    text.into_bytes()
}

struct Submits {
    accepted: Vec<Accepted>,
    errors: usize,
    first_error: Option<String>,
    elapsed: Duration,
}

/// `n` `InvokeEndpointAsync` calls from [`CONCURRENCY`] callers; counts the 202s.
async fn submit_all(clients: &BenchTarget, n: usize) -> Submits {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let next = next.clone();
        let runtime = clients.runtime.clone();
        let endpoint = clients.endpoint.clone();
        let payload = clients.payload.clone();
        set.spawn(async move {
            let mut accepted = Vec::new();
            let mut errors = 0;
            let mut first_error = None;
            while next.fetch_add(1, Ordering::Relaxed) < n {
                let sent = runtime
                    .invoke_endpoint_async()
                    .endpoint_name(&endpoint)
                    .content_type("application/json")
                    .body(Blob::new(payload.clone()))
                    .send()
                    .await;
                match sent {
                    Ok(r) => match (r.output_location(), r.failure_location()) {
                        (Some(o), Some(f)) => accepted.push(Accepted {
                            output: o.to_string(),
                            failure: f.to_string(),
                            at: Instant::now(),
                        }),
                        _ => {
                            errors += 1;
                            first_error.get_or_insert_with(|| {
                                "a 202 without OutputLocation or FailureLocation".to_string()
                            });
                        }
                    },
                    Err(e) => {
                        errors += 1;
                        first_error.get_or_insert_with(|| {
                            aws_sdk_sagemakerruntime::error::DisplayErrorContext(&e).to_string()
                        });
                    }
                }
            }
            (accepted, errors, first_error)
        });
    }
    let mut out = Submits {
        accepted: Vec::with_capacity(n),
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
    };
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((accepted, errors, first_error)) => {
                out.accepted.extend(accepted);
                out.errors += errors;
                if out.first_error.is_none() {
                    out.first_error = first_error;
                }
            }
            Err(e) => {
                out.errors += 1;
                out.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }
    out.elapsed = started.elapsed();
    // In the order the 202s arrived: the runtime hands out the endpoint's slots in that order.
    out.accepted.sort_by_key(|a| a.at);
    out
}

struct Completion {
    elapsed: Duration,
    /// Requests still without an object when the last accepted one had its object.
    late: usize,
    outputs: usize,
    failures: usize,
    both: usize,
    lost: usize,
    first_failure: Option<String>,
}

/// Waits until every accepted request has its object; `elapsed` counts from `started`.
///
/// Only the last accepted request is polled while the runtime works (two `HeadObject` calls per
/// [`POLL`] at most, so the check barely loads moto): the endpoint's slots are handed out in
/// arrival order, so it is among the last to finish. Then every request's output and failure
/// locations are checked (not timed); requests still without an object are polled until they
/// have one, and the completion time moves to when they did.
async fn complete(
    clients: &BenchTarget,
    accepted: &[Accepted],
    started: Instant,
) -> anyhow::Result<Completion> {
    let Some(last) = accepted.last() else {
        return Ok(Completion {
            elapsed: started.elapsed(),
            late: 0,
            outputs: 0,
            failures: 0,
            both: 0,
            lost: 0,
            first_failure: None,
        });
    };
    let waiting = Instant::now();
    loop {
        if exists(&clients.s3, &last.output).await? || exists(&clients.s3, &last.failure).await? {
            break;
        }
        if waiting.elapsed() > LAST_WAIT {
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    let mut elapsed = started.elapsed();
    let mut states = check_all(clients, accepted).await?;
    let mut pending: Vec<usize> = (0..accepted.len())
        .filter(|&i| !states[i].0 && !states[i].1)
        .collect();
    let late = pending.len();
    let mut quiet_since = Instant::now();
    while !pending.is_empty() && quiet_since.elapsed() < SETTLE {
        tokio::time::sleep(POLL).await;
        let before = pending.len();
        let subset: Vec<Accepted> = pending.iter().map(|&i| accepted[i].clone()).collect();
        let found = check_all(clients, &subset).await?;
        let mut still = Vec::new();
        for (&i, state) in pending.iter().zip(found) {
            states[i] = state;
            if !state.0 && !state.1 {
                still.push(i);
            }
        }
        if still.len() < before {
            elapsed = started.elapsed();
            quiet_since = Instant::now();
        }
        pending = still;
    }
    let mut first_failure = None;
    if let Some(i) = states.iter().position(|s| s.1) {
        first_failure = Some(read_text(&clients.s3, &accepted[i].failure).await);
    }
    Ok(Completion {
        elapsed,
        late,
        outputs: states.iter().filter(|s| s.0).count(),
        failures: states.iter().filter(|s| s.1).count(),
        both: states.iter().filter(|s| s.0 && s.1).count(),
        lost: states.iter().filter(|s| !s.0 && !s.1).count(),
        first_failure,
    })
}

/// (output exists, failure exists) for every request, checked by [`CONCURRENCY`] callers.
async fn check_all(
    clients: &BenchTarget,
    accepted: &[Accepted],
) -> anyhow::Result<Vec<(bool, bool)>> {
    let shared: Arc<Vec<Accepted>> = Arc::new(accepted.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let (shared, next, s3) = (shared.clone(), next.clone(), clients.s3.clone());
        set.spawn(async move {
            let mut found = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(a) = shared.get(i) else { break };
                found.push((
                    i,
                    exists(&s3, &a.output).await?,
                    exists(&s3, &a.failure).await?,
                ));
            }
            Ok::<_, anyhow::Error>(found)
        });
    }
    let mut states = vec![(false, false); accepted.len()];
    while let Some(joined) = set.join_next().await {
        for (i, output, failure) in joined?? {
            states[i] = (output, failure);
        }
    }
    Ok(states)
}

fn split_s3(location: &str) -> anyhow::Result<(&str, &str)> {
    location
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .with_context(|| format!("{location:?} is not an s3:// URL"))
}

async fn exists(s3: &aws_sdk_s3::Client, location: &str) -> anyhow::Result<bool> {
    let (bucket, key) = split_s3(location)?;
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(|e| e.is_not_found()) => Ok(false),
        Err(e) => Err(anyhow::Error::new(e)).with_context(|| format!("HeadObject {location}")),
    }
}

async fn read_text(s3: &aws_sdk_s3::Client, location: &str) -> String {
    let Ok((bucket, key)) = split_s3(location) else {
        return String::new();
    };
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(o) => match o.body.collect().await {
            Ok(b) => String::from_utf8_lossy(&b.into_bytes()).into_owned(),
            Err(e) => e.to_string(),
        },
        Err(e) => aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
    }
}

struct Puts {
    ok: usize,
    errors: usize,
    elapsed: Duration,
}

/// The ceiling: `n` `PutObject` calls of the same payload by [`CONCURRENCY`] callers through
/// the front door, into the stack's bucket.
async fn put_all(clients: &BenchTarget, round: usize, n: usize) -> Puts {
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for _ in 0..CONCURRENCY {
        let next = next.clone();
        let s3 = clients.s3.clone();
        let bucket = clients.bucket.clone();
        let payload = clients.payload.clone();
        set.spawn(async move {
            let (mut ok, mut errors) = (0, 0);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let put = s3
                    .put_object()
                    .bucket(&bucket)
                    .key(format!("bench-ceiling/{round}/{i}.json"))
                    .content_type("application/json")
                    .body(payload.clone().into())
                    .send()
                    .await;
                if put.is_ok() {
                    ok += 1;
                } else {
                    errors += 1;
                }
            }
            (ok, errors)
        });
    }
    let mut out = Puts {
        ok: 0,
        errors: 0,
        elapsed: Duration::ZERO,
    };
    while let Some(joined) = set.join_next().await {
        let (ok, errors) = joined.unwrap_or((0, 1));
        out.ok += ok;
        out.errors += errors;
    }
    out.elapsed = started.elapsed();
    out
}

fn min_median_max(mut values: Vec<f64>) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        return (0.0, 0.0, 0.0);
    }
    (values[0], values[n / 2], values[n - 1])
}

/// The 1-minute load average: the machine is shared, and other work there lowers the figures.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|text| text.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
}

fn report(rounds: &[Round], profile: &str, load: &str) -> String {
    let per = |f: fn(&Round) -> f64| min_median_max(rounds.iter().map(f).collect());
    let submits = per(Round::submits_per_s);
    let completions = per(Round::completions_per_s);
    let ceiling = per(Round::ceiling_per_s);
    let ratio = per(Round::ratio);
    let sum = |f: fn(&Round) -> usize| rounds.iter().map(f).sum::<usize>();
    let (submitted, accepted, errors) = (
        sum(|r| r.submitted),
        sum(|r| r.accepted),
        sum(|r| r.submit_errors),
    );
    let (outputs, failures, both, lost) = (
        sum(|r| r.outputs),
        sum(|r| r.failures),
        sum(|r| r.both),
        sum(|r| r.lost),
    );
    let ceiling_errors = sum(|r| r.ceiling_errors);
    let late = sum(|r| r.late);
    let verdict = |ok: bool| if ok { "met" } else { "**below target**" };
    let build = if profile == "release" {
        "release build (`--release`)"
    } else {
        "dev build (unoptimised; figures understate an installed build)"
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut out = String::from("## bodyline local runtime benchmark\n\n");
    out.push_str(&format!(
        "`cargo xtask bench runtime`, {build}, on {cores} cores: the load generator, the front door \
         and the runtime in one process (2 tokio worker threads); moto (IAM enforcement on) and the \
         shipped `bodyline-model` as child processes. Stack: `templates/bodyline.toml` renamed, \
         `max_concurrent_invocations_per_instance = {CONCURRENCY}`, `notifications = false` (so a \
         completion is one `PutObject`, the operation of the ceiling). Each round: {REQUESTS} \
         `InvokeEndpointAsync` calls with a {} byte inline JSON `Body` from {CONCURRENCY} concurrent \
         callers (aws-sdk-sagemakerruntime through the front door); before and after them, {REQUESTS} \
         `PutObject` calls of the same payload from {CONCURRENCY} callers through the front door to \
         the same moto, whose combined rate is the round's ceiling (the machine's speed drifts). \
         {ROUNDS} rounds after one warm-up round of {REQUESTS} submits; min / median / max over \
         rounds. The machine is \
         shared: 1-minute load average {load} the rounds.\n\n",
        payload().len()
    ));
    out.push_str("| measure | min | median | max | target |\n|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| accepted submits/s (202s over submit wall time) | {:.0} | {:.0} | {:.0} | >= {TARGET_SUBMITS:.0}: {} |\n",
        submits.0,
        submits.1,
        submits.2,
        verdict(submits.1 >= TARGET_SUBMITS)
    ));
    out.push_str(&format!(
        "| completed inferences/s (first submit to last object) | {:.0} | {:.0} | {:.0} | |\n",
        completions.0, completions.1, completions.2
    ));
    out.push_str(&format!(
        "| raw `PutObject`/s, same moto (the ceiling) | {:.0} | {:.0} | {:.0} | |\n",
        ceiling.0, ceiling.1, ceiling.2
    ));
    out.push_str(&format!(
        "| completions / ceiling, same round | {:.0}% | {:.0}% | {:.0}% | >= {:.0}%: {} |\n",
        ratio.0 * 100.0,
        ratio.1 * 100.0,
        ratio.2 * 100.0,
        TARGET_RATIO * 100.0,
        verdict(ratio.1 >= TARGET_RATIO)
    ));
    out.push_str(&format!(
        "| lost (accepted, no object) | | {lost} | | 0: {} |\n",
        verdict(lost == 0 && both == 0)
    ));
    out.push_str(&format!(
        "\nCounts over the {ROUNDS} rounds: {submitted} submitted, {accepted} accepted (202), \
         {errors} not accepted; {outputs} output objects, {failures} failure objects, {both} with \
         both, {lost} with neither; {late} still running when the last accepted request had its \
         object (the completion time then waits for them too); {ceiling_errors} ceiling \
         `PutObject` errors.\n"
    ));
    if let Some(e) = rounds.iter().find_map(|r| r.first_error.as_deref()) {
        out.push_str(&format!("\nFirst submit error: `{}`\n", one_line(e)));
    }
    if let Some(f) = rounds.iter().find_map(|r| r.first_failure.as_deref()) {
        out.push_str(&format!("\nFirst failure object: `{}`\n", one_line(f)));
    }
    out
}

fn one_line(text: &str) -> String {
    text.replace(['\n', '`'], " ").chars().take(300).collect()
}
