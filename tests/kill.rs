//! `bodyline setup` killed (SIGKILL) right after each of its mutating calls, through a counting
//! forwarder in front of the local stack: teardown then leaves nothing (also with the state
//! file removed, as on a fresh CI runner), and setup run again instead converges to a working
//! stack.
//!
//! No hook in the product: the `bodyline` binary runs as a user runs it, in its own project
//! directory whose `.bodyline/local.env` names the forwarder. The forwarder
//! (`bodyline_tests::forwarder`) passes every request byte for byte (the `Host` header is
//! signed) to the front door; this test classifies it as provision's
//! call counter does, and once the response of the k-th mutating request is back, sends SIGKILL
//! to the `bodyline setup` process before returning that response. Exactly k mutating calls
//! reach the stack; whatever setup would do next never happens.

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt as _;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, ensure, Context as _};
use aws_config::SdkConfig;
use aws_sdk_sagemakerruntime::primitives::Blob;
use axum::http::{header, HeaderMap, Method, Uri};
use bodyline_stack::{LocalEnv, Stack};
use bodyline_tests::forwarder::{Inspector, Verdict};
use bodyline_tests::{bodyline, start_local, template_toml, unique, wait_for_object};

/// Scenarios run at once: each is a chain of `bodyline` processes; moto serves them all.
const PARALLEL: usize = 4;
/// Bounds every `bodyline` run, so a hang fails the scenario instead of the whole test.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(120);
/// The inline request a converged stack must answer.
const PAYLOAD: &[u8] = br#"{"records":[{"id":"a","value":0.5},{"id":"b","value":2}]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_killed_after_each_mutating_call_tears_down_to_nothing_or_converges_when_run_again(
) -> anyhow::Result<()> {
    let started = Instant::now();
    on_local_stack(|ctx| async move { every_kill(&ctx, started).await }).await
}

async fn every_kill(ctx: &Arc<Context>, started: Instant) -> anyhow::Result<()> {
    // One uninterrupted setup learns N, the number of mutating calls, and the order of them.
    let baseline = Project::create(ctx, "kill-n").await?;
    let out = baseline.run(&["setup", "--format", "json"]).await?;
    ensure!(
        out.status.success(),
        "the uninterrupted setup failed\n{out}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).with_context(|| format!("setup's JSON\n{out}"))?;
    let operations = baseline.forwarder.take_mutating();
    let n = operations.len();
    assert_eq!(
        report["calls"]["mutating"].as_u64(),
        Some(n as u64),
        "setup reports another number of mutating calls than the forwarder saw: {:#}\nforwarder: {operations:#?}",
        report["calls"]
    );
    let reported: Vec<&str> = report["calls"]["mutating_operations"]
        .as_array()
        .map(|ops| ops.iter().filter_map(serde_json::Value::as_str).collect())
        .unwrap_or_default();
    // Same length first: `zip` stops at the shorter list, so a missing list would pass.
    assert!(
        operations.len() == reported.len()
            && operations
                .iter()
                .zip(&reported)
                .all(|(seen, said)| same_call(seen, said)),
        "the forwarder's mutating calls are not setup's, in order:\nforwarder: {operations:?}\nsetup:     {reported:?}"
    );
    assert!(n > 5, "setup made only {n} mutating calls: {operations:?}");
    teardown_leaves_nothing(ctx, &baseline).await?;
    let operations = Arc::new(operations);

    let permits = Arc::new(tokio::sync::Semaphore::new(PARALLEL));
    let mut scenarios = tokio::task::JoinSet::new();
    for k in 1..=n {
        for then in [Then::Teardown, Then::TeardownFresh, Then::SetupAgain] {
            let (ctx, permits, operations) = (ctx.clone(), permits.clone(), operations.clone());
            scenarios.spawn(async move {
                let _permit = permits.acquire_owned().await;
                let began = Instant::now();
                let result = killed_after(&ctx, k, then, &operations)
                    .await
                    .map_err(|e| format!("{e:#}"));
                (k, then, began.elapsed(), result)
            });
        }
    }
    let mut results = BTreeMap::new();
    while let Some(done) = scenarios.join_next().await {
        let (k, then, took, result) = done?;
        results.insert((k, then), (took, result));
    }

    let mut table = String::new();
    let mut failures = Vec::new();
    for ((k, then), (took, result)) in &results {
        let verdict = match result {
            Ok(()) => "ok".to_string(),
            Err(e) => {
                failures.push(format!("k={k} {then:?}: {e}"));
                "FAILED".to_string()
            }
        };
        table.push_str(&format!(
            "  k={k:<3} {:<40} {:<12} {verdict:<6} {:.1}s\n",
            operations[k - 1],
            format!("{then:?}"),
            took.as_secs_f64()
        ));
    }
    println!(
        "N = {n} mutating calls (setup reports {}); {} scenarios, {PARALLEL} at a time, in {:.1}s:\n{table}",
        report["calls"]["mutating_operations"],
        results.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        failures.is_empty(),
        "{} of {} scenarios failed:\n{table}\n{}",
        failures.len(),
        results.len(),
        failures.join("\n\n")
    );
    Ok(())
}

/// What follows the kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Then {
    /// `bodyline teardown --yes`: nothing the stack owns may remain.
    Teardown,
    /// The state file removed first (a fresh checkout: a CI runner keeps no files), then
    /// `bodyline teardown --yes`: still nothing the stack owns may remain.
    TeardownFresh,
    /// `bodyline setup` again: it must converge to a working stack.
    SetupAgain,
}

/// Kills setup after its `k`-th mutating call in a fresh project, then does `then`.
async fn killed_after(
    ctx: &Context,
    k: usize,
    then: Then,
    operations: &[String],
) -> anyhow::Result<()> {
    let prefix = match then {
        Then::Teardown => "kill-t",
        Then::TeardownFresh => "kill-f",
        Then::SetupAgain => "kill-s",
    };
    let project = Project::create(ctx, &format!("{prefix}{k}")).await?;
    let forwarded = project.setup_killed_after(k).await?;
    ensure!(
        forwarded == operations[..k],
        "the killed setup's mutating calls differ from the uninterrupted one's first {k}: {forwarded:?}"
    );
    match then {
        Then::Teardown => teardown_leaves_nothing(ctx, &project).await,
        Then::TeardownFresh => {
            bodyline_stack::State::remove(project.dir.path(), &project.stack.name)?;
            teardown_leaves_nothing(ctx, &project).await
        }
        Then::SetupAgain => {
            let out = project.run(&["setup"]).await?;
            ensure!(out.status.success(), "setup after the kill failed\n{out}");
            let out = project.run(&["plan"]).await?;
            ensure!(
                out.status.code() == Some(0) && out.stdout.contains("No changes"),
                "plan after the second setup is not clean\n{out}"
            );
            serves_an_inline_body(ctx, &project.stack).await?;
            teardown_leaves_nothing(ctx, &project).await
        }
    }
}

/// `bodyline teardown --yes` succeeds and its leak check is empty; then nothing owned is found
/// by the verify crate's discovery (by tag, and same-named look-alikes), nor any resource whose
/// name derives from the stack when listing every service through the SDK.
pub(crate) async fn teardown_leaves_nothing(
    ctx: &Context,
    project: &Project,
) -> anyhow::Result<()> {
    let out = project
        .run(&["teardown", "--yes", "--format", "json"])
        .await?;
    ensure!(out.status.success(), "teardown failed\n{out}");
    let json: serde_json::Value =
        serde_json::from_str(&out.stdout).with_context(|| format!("teardown's JSON\n{out}"))?;
    ensure!(
        json["report"]["leaks"]
            .as_array()
            .is_some_and(Vec::is_empty),
        "teardown's leak check found resources\n{out}"
    );
    let again =
        bodyline_provision::plan_teardown(&project.stack, &ctx.sdk, project.dir.path()).await?;
    ensure!(
        again.delete.is_empty() && again.skipped.is_empty(),
        "after teardown (exit 0) the stack's resources are still there:\n{}teardown said:\n{}",
        again.render_text(),
        out.stdout
    );
    let left = resources_named(&ctx.sdk, &project.stack.name).await?;
    ensure!(
        left.is_empty(),
        "after teardown (exit 0) these resources with the stack's names remain: {left:?}\nteardown said:\n{}",
        out.stdout
    );
    Ok(())
}

/// An inline `Body` through the real runtime client yields an output object with the answer.
pub(crate) async fn serves_an_inline_body(ctx: &Context, stack: &Stack) -> anyhow::Result<()> {
    let runtime = aws_sdk_sagemakerruntime::Client::new(&ctx.sdk);
    let response = runtime
        .invoke_endpoint_async()
        .endpoint_name(&stack.name)
        .content_type("application/json")
        .body(Blob::new(PAYLOAD.to_vec()))
        .send()
        .await
        .context("InvokeEndpointAsync with an inline Body")?;
    let location = response
        .output_location()
        .context("the accepted request has no OutputLocation")?;
    let s3 = aws_sdk_s3::Client::new(&ctx.sdk);
    let output = wait_for_object(&s3, location, Duration::from_secs(30)).await?;
    let answer: serde_json::Value = serde_json::from_slice(&output)?;
    ensure!(
        answer["scores"].as_array().map(Vec::len) == Some(2),
        "the output is not one score per record: {answer}"
    );
    Ok(())
}

/// Every resource on the local stack whose name derives from `stack` (`<stack>` or
/// `<stack>-...`; the bucket's lowercased), whatever its tags.
pub(crate) async fn resources_named(sdk: &SdkConfig, stack: &str) -> anyhow::Result<Vec<String>> {
    let ours = |name: &str| {
        let name = name.to_ascii_lowercase();
        let stack = stack.to_ascii_lowercase();
        name == stack || name.starts_with(&format!("{stack}-"))
    };
    let mut left = Vec::new();

    let s3 = aws_sdk_s3::Client::new(sdk);
    for b in s3.list_buckets().send().await?.buckets() {
        left.extend(b.name().filter(|n| ours(n)).map(|n| format!("bucket {n}")));
    }

    let sm = aws_sdk_sagemaker::Client::new(sdk);
    let endpoints = sm.list_endpoints().name_contains(stack).send().await?;
    for e in endpoints.endpoints() {
        left.extend(
            e.endpoint_name()
                .filter(|n| ours(n))
                .map(|n| format!("endpoint {n}")),
        );
    }
    let configs = sm
        .list_endpoint_configs()
        .name_contains(stack)
        .send()
        .await?;
    for c in configs.endpoint_configs() {
        left.extend(
            c.endpoint_config_name()
                .filter(|n| ours(n))
                .map(|n| format!("endpoint config {n}")),
        );
    }
    let models = sm.list_models().name_contains(stack).send().await?;
    for m in models.models() {
        left.extend(
            m.model_name()
                .filter(|n| ours(n))
                .map(|n| format!("model {n}")),
        );
    }

    let iam = aws_sdk_iam::Client::new(sdk);
    let roles = iam.list_roles().into_paginator().items().send();
    for role in roles.collect::<Result<Vec<_>, _>>().await? {
        if ours(role.role_name()) {
            left.push(format!("role {}", role.role_name()));
        }
    }
    let policies = iam
        .list_policies()
        .scope(aws_sdk_iam::types::PolicyScopeType::Local)
        .into_paginator()
        .items()
        .send();
    for policy in policies.collect::<Result<Vec<_>, _>>().await? {
        left.extend(
            policy
                .policy_name()
                .filter(|n| ours(n))
                .map(|n| format!("policy {n}")),
        );
    }

    let sns = aws_sdk_sns::Client::new(sdk);
    let topics = sns.list_topics().into_paginator().items().send();
    for topic in topics.collect::<Result<Vec<_>, _>>().await? {
        let arn = topic.topic_arn().unwrap_or_default();
        if ours(arn.rsplit(':').next().unwrap_or_default()) {
            left.push(format!("topic {arn}"));
        }
    }
    Ok(left)
}

/// Runs `scenario` on a fresh local stack (in a temporary root) and stops the stack after it,
/// whatever the scenario's outcome.
pub(crate) async fn on_local_stack<F, Fut>(scenario: F) -> anyhow::Result<()>
where
    F: FnOnce(Arc<Context>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    let root = tempfile::tempdir()?;
    let local = start_local(root.path()).await?;
    let ctx = Arc::new(Context {
        env: local.env().clone(),
        sdk: local.sdk_config(),
    });
    let result = scenario(ctx).await;
    local.stop().await;
    result
}

/// What every scenario shares.
pub(crate) struct Context {
    /// The front door and the administrator's keys.
    pub env: LocalEnv,
    /// Clients straight to the front door, for the checks (not counted, never killed).
    pub sdk: SdkConfig,
}

/// A project directory as a user has it: `bodyline.toml` (the template under a unique stack
/// name) and `.bodyline/local.env`, which names this project's own forwarder.
pub(crate) struct Project {
    pub dir: tempfile::TempDir,
    pub stack: Stack,
    pub forwarder: Forwarder,
}

impl Project {
    async fn create(ctx: &Context, prefix: &str) -> anyhow::Result<Project> {
        Project::named(ctx, &unique(prefix)).await
    }

    /// A project whose stack file names the stack `name`.
    pub(crate) async fn named(ctx: &Context, name: &str) -> anyhow::Result<Project> {
        let dir = tempfile::tempdir()?;
        let name = name.to_string();
        let text = template_toml(&name)?;
        let path = dir.path().join("bodyline.toml");
        std::fs::write(&path, &text)?;
        let stack = Stack::parse(&text, &path)?;
        ensure!(
            stack.name == name,
            "the template's stack name was not replaced"
        );
        let forwarder = Forwarder::start(&ctx.env.endpoint_url).await?;
        LocalEnv {
            endpoint_url: forwarder.url.clone(),
            ..ctx.env.clone()
        }
        .write(dir.path())?;
        // `bodyline setup` uses the stack that answers at `local.env` (this in-process one,
        // through the forwarder) instead of starting a background one.
        Ok(Project {
            dir,
            stack,
            forwarder,
        })
    }

    /// Runs `bodyline <args>` in the project to its end.
    pub(crate) async fn run(&self, args: &[&str]) -> anyhow::Result<Finished> {
        self.run_with(args, &[]).await
    }

    /// Runs `bodyline <args>` with extra environment variables.
    pub(crate) async fn run_with(
        &self,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> anyhow::Result<Finished> {
        let mut cmd = tokio::process::Command::from(bodyline(self.dir.path()));
        cmd.envs(env.iter().copied());
        let child = Self::spawn_command(cmd, args)?;
        finish(args, child).await
    }

    pub(crate) fn spawn(&self, args: &[&str]) -> anyhow::Result<tokio::process::Child> {
        Self::spawn_command(
            tokio::process::Command::from(bodyline(self.dir.path())),
            args,
        )
    }

    fn spawn_command(
        mut cmd: tokio::process::Command,
        args: &[&str],
    ) -> anyhow::Result<tokio::process::Child> {
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd.spawn()
            .with_context(|| format!("starting bodyline {args:?}"))
    }

    /// Runs `bodyline setup` and kills it after its `k`-th mutating call; returns the mutating
    /// calls that reached the stack (exactly `k`).
    pub(crate) async fn setup_killed_after(&self, k: usize) -> anyhow::Result<Vec<String>> {
        self.forwarder.arm(k);
        let args = ["setup", "--format", "json"];
        let child = self.spawn(&args)?;
        let pid = child.id().context("the setup process has no id")?;
        self.forwarder.set_victim(pid);
        let out = finish(&args, child).await?;
        let forwarded = self.forwarder.take_mutating();
        ensure!(
            out.status.signal() == Some(libc::SIGKILL),
            "setup was to be killed after mutating call {k}, but it ended with {} after {} mutating calls\n{out}",
            out.status,
            forwarded.len()
        );
        ensure!(
            forwarded.len() == k,
            "{} mutating calls reached the stack, not {k}: {forwarded:?}",
            forwarded.len()
        );
        Ok(forwarded)
    }
}

/// A finished `bodyline` run.
pub(crate) struct Finished {
    pub args: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl std::fmt::Display for Finished {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`bodyline {}`: {}\n--- stdout\n{}--- stderr\n{}",
            self.args, self.status, self.stdout, self.stderr
        )
    }
}

pub(crate) async fn finish(
    args: &[&str],
    child: tokio::process::Child,
) -> anyhow::Result<Finished> {
    let Ok(out) = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output()).await else {
        // Dropping the future dropped the child: kill_on_drop ends it.
        bail!(
            "`bodyline {}` did not finish within {COMMAND_TIMEOUT:?}",
            args.join(" ")
        );
    };
    let out = out?;
    Ok(Finished {
        args: args.join(" "),
        status: out.status,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// The counting forwarder of one project, in front of the front door.
pub(crate) struct Forwarder {
    pub(crate) url: String,
    shared: Arc<Shared>,
    _forwarder: bodyline_tests::forwarder::Forwarder,
}

struct Shared {
    state: Mutex<Counting>,
}

impl Shared {
    /// The counting state; a panic elsewhere while holding it leaves it usable.
    fn counting(&self) -> std::sync::MutexGuard<'_, Counting> {
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[derive(Default)]
struct Counting {
    /// Mutating calls forwarded since the last [`Forwarder::take_mutating`].
    mutating: Vec<String>,
    /// Every request forwarded, reading or mutating.
    requests: usize,
    /// Kill the victim once this many mutating calls have been answered; refuse any further
    /// one (it would come from a process being killed).
    kill_after: Option<usize>,
    victim: Option<u32>,
}

impl Forwarder {
    pub(crate) async fn start(upstream: &str) -> anyhow::Result<Forwarder> {
        let shared = Arc::new(Shared {
            state: Mutex::new(Counting::default()),
        });
        let counter = shared.clone();
        let inspect: Inspector = Arc::new(move |parts, body| count(&counter, parts, body));
        let forwarder = bodyline_tests::forwarder::Forwarder::start(upstream, inspect).await?;
        Ok(Forwarder {
            url: forwarder.url.clone(),
            shared,
            _forwarder: forwarder,
        })
    }

    /// The next process to be registered is killed after `k` mutating calls.
    fn arm(&self, k: usize) {
        let mut c = self.shared.counting();
        c.mutating.clear();
        c.kill_after = Some(k);
        c.victim = None;
    }

    fn set_victim(&self, pid: u32) {
        self.shared.counting().victim = Some(pid);
    }

    /// How many requests (of any kind) were forwarded so far.
    pub(crate) fn requests(&self) -> usize {
        self.shared.counting().requests
    }

    /// The mutating calls forwarded since the last call; disarms the kill.
    pub(crate) fn take_mutating(&self) -> Vec<String> {
        let mut c = self.shared.counting();
        c.kill_after = None;
        c.victim = None;
        std::mem::take(&mut c.mutating)
    }
}

/// Counts one request, and has the victim killed after the k-th mutating call's response is
/// back (before that response is returned).
fn count(shared: &Arc<Shared>, parts: &http::request::Parts, body: &[u8]) -> Verdict {
    shared.counting().requests += 1;
    let Some(operation) = classify(&parts.method, &parts.uri, &parts.headers, body) else {
        return Verdict::Forward;
    };
    let mut c = shared.counting();
    if c.kill_after.is_some_and(|k| c.mutating.len() >= k) {
        return Verdict::Refuse(format!(
            "the test stopped forwarding after the kill: {operation}"
        ));
    }
    c.mutating.push(operation);
    if c.kill_after == Some(c.mutating.len()) {
        let shared = shared.clone();
        return Verdict::ForwardThen(Box::pin(async move { kill_victim(&shared).await }));
    }
    Verdict::Forward
}

/// SIGKILLs the registered victim, waiting briefly for its registration (it is registered
/// right after spawning, long before it can have made k calls).
async fn kill_victim(shared: &Shared) {
    let began = Instant::now();
    loop {
        let victim = shared.counting().victim;
        if let Some(pid) = victim.and_then(|p| libc::pid_t::try_from(p).ok()) {
            // SAFETY: kill(2) takes plain integers. The pid is our child, not yet reaped
            // (its parent waits for it after this), so it cannot name another process.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            return;
        }
        if began.elapsed() > Duration::from_secs(10) {
            // Not killed: the scenario sees setup finish and fails.
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Whether a request mutates, by the same rule as [`classify`].
pub(crate) fn is_mutating(parts: &http::request::Parts, body: &[u8]) -> bool {
    classify(&parts.method, &parts.uri, &parts.headers, body).is_some()
}

/// The operation of a request as `service.Operation` when it mutates, `None` when it reads.
/// The rule is provision's call counter's: an operation reads when its name starts with
/// `Describe`, `Get`, `List` or `Head`; every other operation mutates.
fn classify(method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> Option<String> {
    let service = bodyline_contract::signing_name(headers).unwrap_or("unsigned");
    // SageMaker Runtime (the data plane): `POST /endpoints/<name>/async-invocations`.
    if let Some(rest) = uri.path().strip_prefix("/endpoints/") {
        if rest.ends_with("/async-invocations") {
            return Some(format!("{service}.InvokeEndpointAsync"));
        }
        if rest.ends_with("/invocations") {
            return Some(format!("{service}.InvokeEndpoint"));
        }
    }
    // JSON protocols (SageMaker): `X-Amz-Target: SageMaker.CreateModel`.
    let operation = if let Some(target) = headers.get("x-amz-target") {
        let target = target.to_str().unwrap_or_default();
        target.rsplit('.').next().unwrap_or(target).to_string()
    // Query protocol (IAM, STS, SNS): the `Action` parameter of the form body (or the query).
    } else if let Some(action) = form_value(body, "Action")
        .or_else(|| form_value(uri.query().unwrap_or_default().as_bytes(), "Action"))
    {
        action
    // S3's REST protocol: every GET operation is a Get* or List*, every HEAD a Head*; PUT,
    // POST and DELETE are Create*, Put*, Delete*, Restore*, Select*... The SDK names some in
    // an `x-id` query parameter.
    } else {
        if method == Method::GET || method == Method::HEAD {
            return None;
        }
        let query = uri.query().unwrap_or_default();
        match form_value(query.as_bytes(), "x-id") {
            Some(id) => id,
            None => {
                // Without the bucket's name (it differs per stack): `PUT bucket?tagging`.
                let depth = uri.path().trim_matches('/').split('/').count();
                let target = if depth > 1 { "object" } else { "bucket" };
                let subresources: Vec<&str> = query
                    .split('&')
                    .filter(|p| !p.is_empty())
                    .map(|p| p.split('=').next().unwrap_or_default())
                    .collect();
                if subresources.is_empty() {
                    format!("{method} {target}")
                } else {
                    format!("{method} {target}?{}", subresources.join("&"))
                }
            }
        }
    };
    let reads = ["Describe", "Get", "List", "Head"]
        .iter()
        .any(|p| operation.starts_with(p));
    (!reads).then(|| format!("{service}.{operation}"))
}

/// Whether the forwarder's `service.Operation` is the call setup reports as
/// `Service.Operation`. S3's REST requests carry no operation name; their service must match.
fn same_call(seen: &str, said: &str) -> bool {
    match (seen.split_once('.'), said.split_once('.')) {
        (Some((seen_service, seen_op)), Some((said_service, said_op))) => {
            seen_service.eq_ignore_ascii_case(said_service)
                && (seen_service == "s3" || seen_op == said_op)
        }
        _ => false,
    }
}

/// The value of `key` in a form-encoded `a=b&c=d` text (the values read here are plain names).
fn form_value(form: &[u8], key: &str) -> Option<String> {
    let form = std::str::from_utf8(form).ok()?;
    form.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

#[test]
fn requests_are_classified_like_provisions_call_counter() {
    let signed = |service: &str| {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::AUTHORIZATION,
            format!("AWS4-HMAC-SHA256 Credential=AKIA/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=x")
                .parse()
                .expect("a header value"),
        );
        headers
    };
    let uri = |u: &str| u.parse::<Uri>().expect("a uri");
    let mut sagemaker = signed("sagemaker");
    sagemaker.insert(
        "x-amz-target",
        "SageMaker.CreateModel".parse().expect("a header value"),
    );
    assert_eq!(
        classify(&Method::POST, &uri("/"), &sagemaker, b"{}"),
        Some("sagemaker.CreateModel".into())
    );
    sagemaker.insert(
        "x-amz-target",
        "SageMaker.DescribeEndpoint"
            .parse()
            .expect("a header value"),
    );
    assert_eq!(classify(&Method::POST, &uri("/"), &sagemaker, b"{}"), None);
    let iam = signed("iam");
    assert_eq!(
        classify(
            &Method::POST,
            &uri("/"),
            &iam,
            b"Action=TagRole&Version=2010-05-08&RoleName=x"
        ),
        Some("iam.TagRole".into())
    );
    assert_eq!(
        classify(&Method::POST, &uri("/"), &iam, b"Action=GetRole&RoleName=x"),
        None
    );
    let s3 = signed("s3");
    assert_eq!(
        classify(&Method::PUT, &uri("/bucket?tagging"), &s3, b"<Tagging/>"),
        Some("s3.PUT bucket?tagging".into())
    );
    assert_eq!(
        classify(&Method::PUT, &uri("/bucket/key?x-id=PutObject"), &s3, b"x"),
        Some("s3.PutObject".into())
    );
    assert_eq!(
        classify(&Method::GET, &uri("/bucket?tagging"), &s3, b""),
        None
    );
    assert_eq!(classify(&Method::HEAD, &uri("/bucket"), &s3, b""), None);
    assert!(same_call("sns.CreateTopic", "SNS.CreateTopic"));
    assert!(!same_call("sns.CreateTopic", "SNS.TagResource"));
    assert!(same_call("s3.PUT bucket?tagging", "S3.PutBucketTagging"));
    assert!(!same_call("s3.PUT bucket", "IAM.CreateRole"));
    assert_eq!(
        classify(
            &Method::GET,
            &uri("/_bodyline/health"),
            &HeaderMap::new(),
            b""
        ),
        None
    );
}
