//! `cargo xtask demo`: the whole story on the local stack, narrated step by step, on a scratch
//! copy of `examples/legacy-app`: setup → the old app → migrate → setup from the migration
//! report → the migrated app (same outputs, fewer requests) → verify → `--compare-s3` →
//! teardown with its leak check, then a summary table. Exit 0 only if every step passed.
//!
//! The copy is a standalone package whose manifest spells out what the workspace manifest
//! lends (versions, features, `[profile]`), with the workspace's `Cargo.lock`, and it is built
//! into the workspace's target directory: its dependencies then have the same hashes as the
//! workspace's, so they are reused instead of compiled again. The app runs with the
//! credentials of a demo IAM user that carries only the stack's invoker policy (tagged with
//! the stack, so teardown removes it and the leak check covers it), as an application should.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context as _};
use serde_json::{json, Value};

const USAGE: &str = "\
usage: cargo xtask demo [--keep] [--scratch DIR] [--compare-s3 N] [--no-build] [--summary-json FILE]

  --keep               leave the stack and the local stack running at the end
  --scratch DIR        where the app copy, bodyline.toml and .bodyline/ go [default: .bodyline/demo];
                       not under the target directory (cargo would compare the wrong sources)
  --compare-s3 N       requests per path for `bodyline verify --compare-s3` [default: 20]
  --no-build           use the bodyline binaries already in the target directory
  --summary-json FILE  also write the results as JSON (the end-to-end test reads it)
";

/// The package name of the scratch copy: its own binary name, so that building it never
/// overwrites the workspace's `legacy-app` binary in the shared target directory.
const PACKAGE: &str = "legacy-app-demo";

/// What the demo was asked to do.
#[derive(Debug, Clone, PartialEq)]
struct DemoOptions {
    keep: bool,
    scratch: PathBuf,
    compare_s3: u32,
    build: bool,
    summary_json: Option<PathBuf>,
}

fn parse_args(root: &Path, args: &[String]) -> anyhow::Result<DemoOptions> {
    let mut options = DemoOptions {
        keep: false,
        scratch: default_scratch(root),
        compare_s3: 20,
        build: true,
        summary_json: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .cloned()
                .with_context(|| format!("{name} needs a value\n\n{USAGE}"))
        };
        match arg.as_str() {
            "--keep" => options.keep = true,
            "--no-build" => options.build = false,
            "--scratch" => options.scratch = root.join(value("--scratch")?),
            "--summary-json" => options.summary_json = Some(root.join(value("--summary-json")?)),
            "--compare-s3" => {
                let n = value("--compare-s3")?;
                options.compare_s3 = n
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .with_context(|| format!("--compare-s3 {n:?}: expected a count above 0"))?;
            }
            "-h" | "--help" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            other => bail!("unknown demo option {other:?}\n\n{USAGE}"),
        }
    }
    let target = std::path::absolute(crate::target_dir(root))?;
    if std::path::absolute(&options.scratch)?.starts_with(&target) {
        bail!(
            "--scratch {}: inside the target directory {}, cargo records the copy's sources relative to the target directory and would compare another copy's files; choose a directory outside it (default: .bodyline/demo)",
            options.scratch.display(),
            target.display()
        );
    }
    Ok(options)
}

/// `.bodyline/demo`: outside the target directory on purpose. Cargo records a source file
/// under the target directory relative to it, so a copy there would be judged by another
/// copy's files; and all copies share the app's compiled crate (its hash is relative to its
/// own workspace root), which is only right when each copy's own sources are compared.
fn default_scratch(root: &Path) -> PathBuf {
    root.join(".bodyline").join("demo")
}

/// Runs `cargo xtask demo`.
pub(crate) fn run(root: &Path, args: &[String]) -> anyhow::Result<()> {
    let options = parse_args(root, args)?;
    let mut demo = Demo::new(root, options)?;
    demo.prepare_scratch()?;
    demo.run_all();
    let passed = demo.print_summary();
    if let Some(path) = &demo.options.summary_json {
        let text = serde_json::to_string_pretty(&demo.summary_json(passed))?;
        std::fs::write(path, text + "\n")
            .with_context(|| format!("cannot write the summary to {}", path.display()))?;
    }
    if !passed {
        bail!("the demo failed: see the steps marked FAILED above");
    }
    Ok(())
}

/// How a step ended.
#[derive(Debug, Clone, PartialEq)]
enum StepOutcome {
    Passed(String),
    Failed(String),
    Skipped(String),
}

impl StepOutcome {
    fn label(&self) -> &'static str {
        match self {
            StepOutcome::Passed(_) => "passed",
            StepOutcome::Failed(_) => "FAILED",
            StepOutcome::Skipped(_) => "skipped",
        }
    }

    fn detail(&self) -> &str {
        match self {
            StepOutcome::Passed(d) | StepOutcome::Failed(d) | StepOutcome::Skipped(d) => d,
        }
    }
}

#[derive(Debug)]
struct StepRecord {
    name: &'static str,
    outcome: StepOutcome,
    seconds: f64,
}

/// One run of the app, read from what it prints.
#[derive(Debug, Clone, PartialEq)]
struct AppRun {
    /// The `output <label>: <answer>` lines, in order.
    outputs: Vec<String>,
    requests: u64,
    inferences: u64,
    submit_ms: u64,
}

impl AppRun {
    fn per_inference(&self) -> f64 {
        self.requests as f64 / self.inferences.max(1) as f64
    }

    fn to_json(&self) -> Value {
        json!({
            "outputs": self.outputs,
            "requests": self.requests,
            "inferences": self.inferences,
            "requests_per_inference": self.per_inference(),
            "submit_ms": self.submit_ms,
        })
    }
}

/// Parses the app's stdout: its `output ...` lines and its `requests: ...` line.
fn parse_app_output(stdout: &str) -> anyhow::Result<AppRun> {
    let outputs: Vec<String> = stdout
        .lines()
        .filter(|l| l.starts_with("output "))
        .map(str::to_string)
        .collect();
    let line = stdout
        .lines()
        .find(|l| l.starts_with("requests: "))
        .context("the app printed no `requests: ...` line")?;
    // requests: 12 for 6 async inferences (6 S3 PUT, 6 invoke), 2.00 per inference, submitted in 85 ms
    let words: Vec<&str> = line.split_whitespace().collect();
    let number = |i: usize| -> anyhow::Result<u64> {
        words
            .get(i)
            .and_then(|w| w.trim_end_matches(',').parse().ok())
            .with_context(|| format!("cannot read word {i} of the app's line {line:?}"))
    };
    let submit_ms = words
        .iter()
        .rposition(|w| *w == "ms")
        .and_then(|i| i.checked_sub(1))
        .map(number)
        .transpose()?
        .context("the app's requests line has no submit time")?;
    Ok(AppRun {
        outputs,
        requests: number(1)?,
        inferences: number(3)?,
        submit_ms,
    })
}

/// Turns `examples/legacy-app/Cargo.toml` into a standalone manifest: every `.workspace = true`
/// replaced by the root manifest's value (features added to the workspace's), the root's
/// `[profile]` copied (the same profile is what lets the build reuse the workspace's compiled
/// dependencies), and an empty `[workspace]` so the copy is its own workspace wherever it is.
fn standalone_manifest(root_manifest: &str, app_manifest: &str) -> anyhow::Result<String> {
    let root: toml::Table = root_manifest.parse().context("the root Cargo.toml")?;
    let app: toml::Table = app_manifest
        .parse()
        .context("the legacy app's Cargo.toml")?;
    let workspace = root
        .get("workspace")
        .and_then(toml::Value::as_table)
        .context("the root Cargo.toml has no [workspace]")?;
    let empty = toml::Table::new();
    let inherited_package = workspace
        .get("package")
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty);
    let inherited_deps = workspace
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty);

    let mut package = app
        .get("package")
        .and_then(toml::Value::as_table)
        .cloned()
        .context("the legacy app's Cargo.toml has no [package]")?;
    for (key, value) in package.iter_mut() {
        if inherits(value) {
            *value = inherited_package.get(key).cloned().with_context(|| {
                format!(
                    "package.{key} inherits from a workspace that has no workspace.package.{key}"
                )
            })?;
        }
    }
    package.insert("name".into(), PACKAGE.into());

    let mut dependencies = toml::Table::new();
    let app_deps = app
        .get("dependencies")
        .and_then(toml::Value::as_table)
        .unwrap_or(&empty);
    for (name, spec) in app_deps {
        let resolved = if inherits(spec) {
            let mut base = match inherited_deps.get(name) {
                Some(toml::Value::String(version)) => {
                    let mut t = toml::Table::new();
                    t.insert("version".into(), version.clone().into());
                    t
                }
                Some(toml::Value::Table(t)) => t.clone(),
                _ => bail!("dependency {name} inherits from the workspace, but [workspace.dependencies] has no {name}"),
            };
            if base.contains_key("path") {
                bail!("dependency {name} is a workspace path crate: the demo copy must build on its own, from the registry");
            }
            // `features` and `optional` of the member add to the workspace's.
            if let Some(extra) = spec.get("features").and_then(toml::Value::as_array) {
                let mut features = base
                    .get("features")
                    .and_then(toml::Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for f in extra {
                    if !features.contains(f) {
                        features.push(f.clone());
                    }
                }
                base.insert("features".into(), features.into());
            }
            if let Some(optional) = spec.get("optional") {
                base.insert("optional".into(), optional.clone());
            }
            toml::Value::Table(base)
        } else {
            spec.clone()
        };
        dependencies.insert(name.clone(), resolved);
    }

    let mut out = toml::Table::new();
    out.insert("package".into(), package.into());
    out.insert("dependencies".into(), dependencies.into());
    if let Some(profile) = root.get("profile") {
        out.insert("profile".into(), profile.clone());
    }
    out.insert("workspace".into(), toml::Table::new().into());
    Ok(format!(
        "# Written by `cargo xtask demo` from examples/legacy-app/Cargo.toml and the workspace's\n\
         # root Cargo.toml: a standalone package, its own workspace.\n\n{}",
        toml::to_string(&out)?
    ))
}

/// `foo.workspace = true` (or `{ workspace = true, ... }`).
fn inherits(value: &toml::Value) -> bool {
    value.get("workspace").and_then(toml::Value::as_bool) == Some(true)
}

/// What the stack is called and where its pieces are, once setup has run.
#[derive(Debug, Clone)]
struct Deployed {
    endpoint: String,
    bucket: String,
    /// The local stack's standard AWS variables, with the demo app user's keys.
    app_env: Vec<(String, String)>,
}

struct Demo {
    root: PathBuf,
    options: DemoOptions,
    target: PathBuf,
    bodyline: PathBuf,
    steps: Vec<StepRecord>,
    deployed: Option<Deployed>,
    before: Option<AppRun>,
    after: Option<AppRun>,
    migrate_summary: Option<Value>,
    comparison: Option<Value>,
    verify_passed: bool,
    builds: Vec<(String, Build)>,
    teardown: Option<Value>,
}

impl Demo {
    fn new(root: &Path, options: DemoOptions) -> anyhow::Result<Demo> {
        let target = crate::target_dir(root);
        Ok(Demo {
            root: root.to_path_buf(),
            bodyline: target.join("debug").join("bodyline"),
            target,
            options,
            steps: Vec::new(),
            deployed: None,
            before: None,
            after: None,
            migrate_summary: None,
            comparison: None,
            verify_passed: false,
            builds: Vec::new(),
            teardown: None,
        })
    }

    fn scratch(&self) -> &Path {
        &self.options.scratch
    }

    fn app_dir(&self) -> PathBuf {
        self.scratch().join("legacy-app")
    }

    fn passed(&self, name: &str) -> bool {
        self.steps
            .iter()
            .any(|s| s.name == name && matches!(s.outcome, StepOutcome::Passed(_)))
    }

    /// Runs one step: prints its header and what it proves, then its result and time.
    fn step(
        &mut self,
        name: &'static str,
        proves: &str,
        needs: &[&str],
        work: impl FnOnce(&mut Demo) -> anyhow::Result<String>,
    ) -> bool {
        let n = self.steps.len() + 1;
        println!("\n== {n}. {name}\n   proves: {proves}");
        let started = Instant::now();
        let missing: Vec<&str> = needs
            .iter()
            .copied()
            .filter(|need| !self.passed(need))
            .collect();
        let outcome = if missing.is_empty() {
            match work(self) {
                Ok(detail) => StepOutcome::Passed(detail),
                Err(e) => StepOutcome::Failed(format!("{e:#}")),
            }
        } else {
            StepOutcome::Skipped(format!("needs: {}", missing.join(", ")))
        };
        let seconds = started.elapsed().as_secs_f64();
        println!(
            "   => {} ({seconds:.1}s): {}",
            outcome.label(),
            outcome.detail()
        );
        let ok = matches!(outcome, StepOutcome::Passed(_));
        self.steps.push(StepRecord {
            name,
            outcome,
            seconds,
        });
        ok
    }

    fn run_all(&mut self) {
        if self.options.build {
            self.step(
                "build bodyline",
                "the CLI and the model server the local runtime starts are built",
                &[],
                |d| {
                    let mut cargo = d.cargo();
                    cargo.args([
                        "build",
                        "--package",
                        "bodyline-cli",
                        "--package",
                        "bodyline-model",
                    ]);
                    let build = cargo_build(&mut cargo)?;
                    Ok(format!(
                        "target/debug/bodyline and bodyline-model: {} crate(s) compiled{}",
                        build.compiled,
                        build.waited_note()
                    ))
                },
            );
        }
        let tools = if self.options.build {
            &["build bodyline"][..]
        } else {
            &[]
        };
        self.step(
            "copy + build the legacy app",
            "a standalone copy of examples/legacy-app builds, reusing the workspace's compiled dependencies",
            &[],
            Demo::copy_and_build,
        );
        self.step(
            "bodyline setup",
            "the template stack (with `[bucket] input = \"auto\"`) is provisioned on a fresh local stack",
            tools,
            |d| d.setup("setup"),
        );
        self.step(
            "run the legacy app",
            "the old code works against the stack, as the invoker: S3 upload + InputLocation",
            &["copy + build the legacy app", "bodyline setup"],
            |d| d.run_app("before"),
        );
        self.step(
            "bodyline migrate --diff",
            "migrate shows what it will change, and why, without writing",
            &["copy + build the legacy app"],
            Demo::migrate_diff,
        );
        self.step(
            "bodyline migrate --write --verify-build",
            "the rewrite lands, still compiles, and records which sites still need S3 input",
            &["bodyline migrate --diff"],
            Demo::migrate_write,
        );
        self.step(
            "build the migrated app",
            "a second build of the copy takes seconds: only the app itself is compiled",
            &["bodyline migrate --write --verify-build"],
            |d| d.build_app("after"),
        );
        self.step(
            "bodyline setup (after migrate)",
            "the input prefix and its grants follow the migration report (issue #6)",
            &["bodyline setup", "bodyline migrate --write --verify-build"],
            |d| d.setup("setup-after-migrate"),
        );
        self.step(
            "run the migrated app",
            "the migrated code works against the same endpoint, as the invoker",
            &["build the migrated app", "bodyline setup (after migrate)"],
            |d| d.run_app("after"),
        );
        self.step(
            "compare before and after",
            "the same outputs, with fewer requests per inference",
            &["run the legacy app", "run the migrated app"],
            Demo::compare_runs,
        );
        self.step(
            "bodyline verify",
            "inline Body, the 128,000-byte limit, exclusivity, least privilege and posture hold",
            &["bodyline setup"],
            Demo::verify,
        );
        self.step(
            "bodyline verify --compare-s3",
            "inline Body against S3 upload + InputLocation on the same endpoint: latency and requests",
            &["bodyline setup"],
            Demo::compare_s3,
        );
        if self.options.keep {
            println!(
                "\n== --keep: the stack stays up. Tear it down with:\n   cd {} && {} teardown --yes && {} local down",
                self.scratch().display(),
                self.bodyline.display(),
                self.bodyline.display()
            );
        } else {
            // Always, also after a failed step: nothing is left running or owned.
            self.step(
                "bodyline teardown --yes",
                "every owned resource is deleted (the demo app user too) and the leak check by tag is clean",
                &[],
                Demo::teardown,
            );
        }
    }

    fn cargo(&self) -> Command {
        // Without cargo's variables for the xtask crate: `main` removed them at start.
        let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
        cargo
            .current_dir(&self.root)
            .env("CARGO_TARGET_DIR", &self.target);
        cargo
    }

    /// A `bodyline` command run in the scratch directory (its project root), with the
    /// workspace's moto virtualenv and target directory (for `migrate --verify-build`).
    fn bodyline(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(&self.bodyline);
        cmd.args(args)
            .current_dir(self.scratch())
            .env("CARGO_TARGET_DIR", &self.target)
            .env(
                "BODYLINE_VENV",
                std::env::var_os("BODYLINE_VENV")
                    .unwrap_or_else(|| self.root.join(".bodyline/venv").into_os_string()),
            );
        cmd
    }

    /// Runs a command, showing it and its output; fails on a non-zero exit.
    fn exec(&self, cmd: &mut Command, shown: Shown) -> anyhow::Result<String> {
        let (stdout, stderr, ok) = self.exec_status(cmd, shown)?;
        if !ok {
            bail!(
                "`{}` failed{}",
                display(cmd),
                last_lines(&format!("{stdout}{stderr}"), 6)
            );
        }
        Ok(stdout)
    }

    /// Runs a command, showing it; returns stdout, stderr and whether it exited 0.
    fn exec_status(
        &self,
        cmd: &mut Command,
        shown: Shown,
    ) -> anyhow::Result<(String, String, bool)> {
        println!("   $ {}", display(cmd));
        let out = cmd
            .stdin(Stdio::null())
            .output()
            .with_context(|| format!("cannot run {}", display(cmd)))?;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        if shown == Shown::Print {
            for line in stdout.lines().chain(stderr.lines()) {
                println!("     {line}");
            }
        }
        Ok((stdout, stderr, out.status.success()))
    }

    /// Empties the scratch directory (stopping a local stack a `--keep` run left there) and
    /// writes the demo's stack file into it.
    fn prepare_scratch(&self) -> anyhow::Result<()> {
        let scratch = self.scratch();
        if scratch.join(".bodyline/local.env").exists() && self.bodyline.exists() {
            // A local stack left by `--keep` or an interrupted run would be orphaned.
            let mut down = self.bodyline(&["local", "down"]);
            self.exec(&mut down, Shown::Print)?;
        }
        if scratch.exists() {
            std::fs::remove_dir_all(scratch).with_context(|| {
                format!("cannot empty the scratch directory {}", scratch.display())
            })?;
        }
        std::fs::create_dir_all(scratch)
            .with_context(|| format!("cannot create {}", scratch.display()))?;
        let template = read(&self.root.join("templates/bodyline.toml"))?;
        std::fs::write(scratch.join("bodyline.toml"), stack_file(&template)?)
            .context("cannot write the scratch bodyline.toml")?;
        println!(
            "scratch directory {} (bodyline.toml from the template, with `[bucket] input = \"auto\"`)",
            scratch.display()
        );
        Ok(())
    }

    fn copy_and_build(&mut self) -> anyhow::Result<String> {
        let app = self.app_dir();
        copy_dir(&self.root.join("examples/legacy-app/src"), &app.join("src"))?;
        let manifest = standalone_manifest(
            &read(&self.root.join("Cargo.toml"))?,
            &read(&self.root.join("examples/legacy-app/Cargo.toml"))?,
        )?;
        std::fs::write(app.join("Cargo.toml"), manifest)
            .with_context(|| format!("cannot write {}", app.join("Cargo.toml").display()))?;
        std::fs::copy(self.root.join("Cargo.lock"), app.join("Cargo.lock"))
            .context("cannot copy Cargo.lock")?;
        println!(
            "   copied examples/legacy-app to {} (package {PACKAGE}, concrete Cargo.toml, the workspace's Cargo.lock)",
            app.display()
        );
        self.build_app("before")
    }

    fn build_app(&mut self, which: &str) -> anyhow::Result<String> {
        let manifest = self.app_dir().join("Cargo.toml");
        let mut cargo = self.cargo();
        cargo.arg("build").arg("--manifest-path").arg(&manifest);
        let build = cargo_build(&mut cargo)?;
        let built = self.target.join("debug").join(PACKAGE);
        let kept = self
            .scratch()
            .join("bin")
            .join(format!("legacy-app-{which}"));
        std::fs::create_dir_all(self.scratch().join("bin"))?;
        // The shared target directory holds one binary per name: keep this version aside.
        std::fs::copy(&built, &kept)
            .with_context(|| format!("cannot copy {} to {}", built.display(), kept.display()))?;
        let detail = format!(
            "{} (shared target dir {})",
            build.describe(),
            self.target.display()
        );
        self.builds.push((which.to_string(), build));
        Ok(detail)
    }

    fn setup(&mut self, label: &str) -> anyhow::Result<String> {
        let mut app_key = None;
        if label == "setup" {
            let mut up = self.bodyline(&["local", "up"]);
            self.exec(&mut up, Shown::Print)?;
            // The app's own IAM user, named in `[invokers] principals`: setup attaches the
            // invoker policy to it, and keeps it attached on every later setup.
            let (arn, key, secret) = self.create_app_user()?;
            let path = self.scratch().join("bodyline.toml");
            let text = with_principal(&read(&path)?, &arn)?;
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write {}", path.display()))?;
            println!("   bodyline.toml: [invokers] principals = [\"{arn}\"] (the demo app's user)");
            app_key = Some((key, secret));
        } else {
            // What changes now that the migration report exists (exit 2 means: changes).
            let mut plan = self.bodyline(&["plan", "--stack-file", "bodyline.toml"]);
            self.exec_status(&mut plan, Shown::Print)?;
        }
        let mut setup = self.bodyline(&["setup", "--stack-file", "bodyline.toml"]);
        let (stdout, stderr, ok) = self.exec_status(&mut setup, Shown::Print)?;
        if !ok {
            if stderr.contains("input") && stderr.contains("unknown") {
                bail!("this bodyline does not know `[bucket] input` yet: the demo needs issue #6 (input grants that follow the migration report)");
            }
            bail!("bodyline setup failed{}", last_lines(&stderr, 4));
        }
        if let Some((key, secret)) = app_key {
            self.deployed = Some(self.deployed_stack(key, secret)?);
        }
        let first = stdout.lines().next().unwrap_or_default().to_string();
        Ok(first)
    }

    /// Creates the demo app's IAM user with the local stack's administrator (`local.env`):
    /// tagged with the stack, so teardown removes it and the leak check covers it.
    fn create_app_user(&self) -> anyhow::Result<(String, String, String)> {
        let scratch = self.scratch();
        let stack = bodyline_stack::Stack::load(&scratch.join("bodyline.toml"))?;
        block_on(async {
            let sdk = bodyline_stack::sdk_config(&stack, scratch).await?;
            app_user(&sdk, &stack.name).await
        })
    }

    /// Names from the stack file and state, and the environment the app runs with.
    fn deployed_stack(&self, key: String, secret: String) -> anyhow::Result<Deployed> {
        let scratch = self.scratch();
        let stack = bodyline_stack::Stack::load(&scratch.join("bodyline.toml"))?;
        let state = bodyline_stack::State::load(scratch, &stack.name)?
            .context("setup left no state file")?;
        let names = bodyline_stack::Names::new(&stack, &state.account);
        let policy =
            bodyline_stack::Arns::new(&stack.region, &state.account).policy(&names.invoker_policy);
        let local = bodyline_stack::LocalEnv::read(scratch)?;
        let mut app_env = vec![
            ("AWS_ENDPOINT_URL".to_string(), local.endpoint_url.clone()),
            ("AWS_REGION".to_string(), local.region.clone()),
            ("AWS_DEFAULT_REGION".to_string(), local.region.clone()),
        ];
        app_env.extend(local.extra.clone());
        app_env.push(("AWS_ACCESS_KEY_ID".to_string(), key));
        app_env.push(("AWS_SECRET_ACCESS_KEY".to_string(), secret));
        println!(
            "   the app runs as IAM user {} with only the invoker policy {policy}",
            app_user_name(&stack.name)
        );
        Ok(Deployed {
            endpoint: names.endpoint,
            bucket: names.bucket,
            app_env,
        })
    }

    fn run_app(&mut self, which: &str) -> anyhow::Result<String> {
        let deployed = self
            .deployed
            .clone()
            .context("setup did not record the stack")?;
        let bin = self
            .scratch()
            .join("bin")
            .join(format!("legacy-app-{which}"));
        let mut app = Command::new(&bin);
        app.current_dir(self.scratch())
            .env_remove("AWS_PROFILE")
            .env_remove("AWS_SESSION_TOKEN")
            .envs(deployed.app_env.iter().map(|(k, v)| (k, v)))
            .env("LEGACY_ENDPOINT", &deployed.endpoint)
            .env("LEGACY_BUCKET", &deployed.bucket);
        println!(
            "   LEGACY_ENDPOINT={} LEGACY_BUCKET={} (+ the local stack's AWS_* variables, the app user's keys)",
            deployed.endpoint, deployed.bucket
        );
        let (stdout, stderr, ok) = self.exec_status(&mut app, Shown::Print)?;
        if !ok {
            let hint = if stderr.contains("AccessDenied") && which == "before" {
                "; the invoker may not upload to input/: the grants for S3 input come with issue #6 (`[bucket] input`)"
            } else {
                ""
            };
            bail!("the {which} app failed{hint}{}", last_lines(&stderr, 4));
        }
        let run = parse_app_output(&stdout)?;
        let detail = format!(
            "{} outputs, {} requests for {} inferences ({:.2} per inference), submitted in {} ms",
            run.outputs.len(),
            run.requests,
            run.inferences,
            run.per_inference(),
            run.submit_ms
        );
        if which == "before" {
            self.before = Some(run);
        } else {
            self.after = Some(run);
        }
        Ok(detail)
    }

    fn migrate_diff(&mut self) -> anyhow::Result<String> {
        let mut diff = self.bodyline(&["migrate", "--diff", "legacy-app"]);
        self.exec(&mut diff, Shown::Print)?;
        let mut json = self.bodyline(&["migrate", "--format", "json", "legacy-app"]);
        let report: Value = serde_json::from_str(&self.exec(&mut json, Shown::Quiet)?)
            .context("bodyline migrate --format json printed no JSON")?;
        let summary = report
            .get("summary")
            .cloned()
            .context("the migrate report has no summary")?;
        let text = format!(
            "{} rewritten, {} branched on size, {} left alone",
            summary["rewritten"], summary["branched"], summary["skipped"]
        );
        self.migrate_summary = Some(summary);
        Ok(text)
    }

    fn migrate_write(&mut self) -> anyhow::Result<String> {
        // --allow-dirty: the scratch copy is not a git checkout, so git cannot vouch for it.
        let mut write = self.bodyline(&[
            "migrate",
            "--write",
            "--verify-build",
            "--allow-dirty",
            "legacy-app",
        ]);
        self.exec(&mut write, Shown::Print)?;
        let report_path = self.scratch().join(".bodyline/migrate-report.json");
        let report = bodyline_stack::MigrationReport::load(&report_path)?.context(
            "bodyline migrate wrote no .bodyline/migrate-report.json: setup cannot follow the migration (issue #6)",
        )?;
        Ok(format!(
            "written; the migration report says {} (written: {}, {} site(s) still send input_location)",
            if report.needed {
                "S3 input is still needed"
            } else {
                "no S3 input is needed"
            },
            report.written,
            report.sites().count()
        ))
    }

    fn compare_runs(&mut self) -> anyhow::Result<String> {
        let (Some(before), Some(after)) = (&self.before, &self.after) else {
            bail!("both runs are needed");
        };
        if before.outputs.is_empty() {
            bail!("the legacy app read back no outputs");
        }
        if before.outputs != after.outputs {
            let diff: Vec<String> = before
                .outputs
                .iter()
                .zip(&after.outputs)
                .filter(|(b, a)| b != a)
                .map(|(b, a)| format!("before {b:?} / after {a:?}"))
                .collect();
            bail!(
                "the outputs differ ({} before, {} after): {}",
                before.outputs.len(),
                after.outputs.len(),
                diff.join("; ")
            );
        }
        if after.per_inference() >= before.per_inference() {
            bail!(
                "the migrated app makes {:.2} requests per inference, the legacy app {:.2}: expected fewer",
                after.per_inference(),
                before.per_inference()
            );
        }
        Ok(format!(
            "{} identical outputs; requests per inference {:.2} -> {:.2}",
            before.outputs.len(),
            before.per_inference(),
            after.per_inference()
        ))
    }

    fn verify(&mut self) -> anyhow::Result<String> {
        let mut verify = self.bodyline(&["verify", "--stack-file", "bodyline.toml"]);
        self.exec(&mut verify, Shown::Print)?;
        self.verify_passed = true;
        Ok("every check passed".into())
    }

    fn compare_s3(&mut self) -> anyhow::Result<String> {
        let n = self.options.compare_s3.to_string();
        // Only the endpoint check: the full set ran in the previous step.
        let mut verify = self.bodyline(&[
            "verify",
            "--stack-file",
            "bodyline.toml",
            "--check",
            "endpoint",
            "--compare-s3",
            &n,
            "--format",
            "json",
        ]);
        let (stdout, stderr, ok) = self.exec_status(&mut verify, Shown::Quiet)?;
        let report: Value = serde_json::from_str(&stdout)
            .with_context(|| format!("verify printed no JSON{}", last_lines(&stderr, 4)))?;
        let comparison = report
            .get("comparison")
            .cloned()
            .with_context(|| format!("no comparison: {}", report["comparison_error"]))?;
        let row = |name: &str, s: &Value| {
            format!(
                "     {name:<20} p50 {:>7.1} ms  p95 {:>7.1} ms  {} request(s)/inference, {} failed",
                s["p50_ms"].as_f64().unwrap_or(f64::NAN),
                s["p95_ms"].as_f64().unwrap_or(f64::NAN),
                s["requests_per_inference"],
                s["failed"]
            )
        };
        println!("{}", row("inline Body", &comparison["inline"]));
        println!("{}", row("S3 + InputLocation", &comparison["s3_input"]));
        if !ok {
            bail!(
                "bodyline verify --compare-s3 failed: {}",
                report["comparison_error"]
            );
        }
        let detail = format!(
            "p50 inline {:.1} ms vs S3 path {:.1} ms over {n} requests each",
            comparison["inline"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
            comparison["s3_input"]["p50_ms"]
                .as_f64()
                .unwrap_or(f64::NAN)
        );
        self.comparison = Some(comparison);
        Ok(detail)
    }

    fn teardown(&mut self) -> anyhow::Result<String> {
        if !self.scratch().join(".bodyline/local.env").exists() {
            return Ok("no local stack was started: nothing to remove".into());
        }
        let mut teardown = self.bodyline(&["teardown", "--stack-file", "bodyline.toml", "--yes"]);
        let (_, _, clean) = self.exec_status(&mut teardown, Shown::Print)?;
        // An independent look: what would a teardown find now?
        let mut look = self.bodyline(&[
            "teardown",
            "--stack-file",
            "bodyline.toml",
            "--dry-run",
            "--format",
            "json",
        ]);
        let left = serde_json::from_str::<Value>(&self.exec(&mut look, Shown::Quiet)?)
            .ok()
            .and_then(|plan| plan["delete"].as_array().map(Vec::len));
        let mut down = self.bodyline(&["local", "down"]);
        self.exec(&mut down, Shown::Print)?;
        self.teardown = Some(json!({ "clean": clean, "owned_left": left }));
        match (clean, left) {
            (true, Some(0)) => {
                Ok("deleted; leak check clean: 0 owned resources left; local stack stopped".into())
            }
            (_, Some(n)) => bail!("teardown was not clean: {n} owned resource(s) left"),
            (_, None) => bail!("cannot tell what teardown left: the dry run printed no plan"),
        }
    }

    /// Prints the summary table; true when every step passed.
    fn print_summary(&self) -> bool {
        println!("\n== summary\n");
        println!("  {:<2}  {:<40} {:<8} {:>7}", "#", "step", "result", "time");
        for (i, s) in self.steps.iter().enumerate() {
            println!(
                "  {:<2}  {:<40} {:<8} {:>6.1}s",
                i + 1,
                s.name,
                s.outcome.label(),
                s.seconds
            );
        }
        println!();
        if let Some(m) = &self.migrate_summary {
            println!(
                "  call sites                 {} rewritten, {} branched on size, {} left alone",
                m["rewritten"], m["branched"], m["skipped"]
            );
        }
        let per = |run: &Option<AppRun>| {
            run.as_ref().map_or("n/a".to_string(), |r| {
                format!(
                    "{:.2} ({} for {})",
                    r.per_inference(),
                    r.requests,
                    r.inferences
                )
            })
        };
        let submit = |run: &Option<AppRun>| {
            run.as_ref()
                .map_or("n/a".to_string(), |r| format!("{} ms", r.submit_ms))
        };
        println!(
            "  requests per inference     before {}   after {}",
            per(&self.before),
            per(&self.after)
        );
        println!(
            "  app submit time            before {}   after {}",
            submit(&self.before),
            submit(&self.after)
        );
        if let Some(c) = &self.comparison {
            println!(
                "  p50 submit latency         inline {:.1} ms   S3 + InputLocation {:.1} ms ({} requests each)",
                c["inline"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
                c["s3_input"]["p50_ms"].as_f64().unwrap_or(f64::NAN),
                c["requests"]
            );
        }
        for (which, b) in &self.builds {
            println!("  app build ({which:<6})         {}", b.describe());
        }
        let passed = self
            .steps
            .iter()
            .all(|s| matches!(s.outcome, StepOutcome::Passed(_)));
        println!("\n  demo {}", if passed { "passed" } else { "FAILED" });
        passed
    }

    fn summary_json(&self, passed: bool) -> Value {
        json!({
            "passed": passed,
            "steps": self.steps.iter().map(|s| json!({
                "name": s.name,
                "result": s.outcome.label().to_lowercase(),
                "detail": s.outcome.detail(),
                "seconds": s.seconds,
            })).collect::<Vec<_>>(),
            "before": self.before.as_ref().map(AppRun::to_json),
            "after": self.after.as_ref().map(AppRun::to_json),
            "migrate": self.migrate_summary,
            "verify_passed": self.verify_passed,
            "comparison": self.comparison,
            "teardown": self.teardown,
            "builds": self.builds.iter().map(|(w, b)| json!({
                "which": w,
                "seconds": b.seconds,
                "waited_for_lock_seconds": b.waited,
                "crates_compiled": b.compiled,
            })).collect::<Vec<_>>(),
        })
    }
}

/// How a command's output is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    /// Captured, then printed indented.
    Print,
    /// Captured only (JSON the demo reads).
    Quiet,
}

/// A cargo build: how long it took, how much of that it waited for another cargo's lock on
/// the shared target directory, and how many crates it compiled (reuse shows as few).
#[derive(Debug, Clone, Copy)]
struct Build {
    seconds: f64,
    waited: f64,
    compiled: usize,
}

impl Build {
    /// `N crate(s) compiled in Ts`, the time without the wait for the lock.
    fn describe(&self) -> String {
        format!(
            "{} crate(s) compiled in {:.1}s{}",
            self.compiled,
            self.seconds - self.waited,
            self.waited_note()
        )
    }

    fn waited_note(&self) -> String {
        if self.waited >= 0.5 {
            format!(
                ", after {:.0}s waiting for another cargo's lock on the target directory",
                self.waited
            )
        } else {
            String::new()
        }
    }
}

/// Runs a cargo build, showing its lines as they come, and times it.
fn cargo_build(cmd: &mut Command) -> anyhow::Result<Build> {
    use std::io::BufRead as _;
    println!("   $ {}", display(cmd));
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("cannot run {}", display(cmd)))?;
    let stderr = child.stderr.take().context("cargo's stderr is not piped")?;
    let (mut waited, mut compiled, mut blocked_since) = (0.0, 0, None::<Instant>);
    let mut tail = Vec::new();
    for line in std::io::BufReader::new(stderr).lines() {
        let line = line.context("reading cargo's output")?;
        if let Some(since) = blocked_since.take() {
            waited += since.elapsed().as_secs_f64();
        }
        if line.contains("Blocking waiting for file lock") {
            blocked_since = Some(Instant::now());
        }
        if line.trim_start().starts_with("Compiling ") {
            compiled += 1;
        }
        println!("     {line}");
        tail.push(line);
    }
    let status = child.wait().context("waiting for cargo")?;
    if !status.success() {
        bail!(
            "`{}` failed{}",
            display(cmd),
            last_lines(&tail.join("\n"), 6)
        );
    }
    Ok(Build {
        seconds: started.elapsed().as_secs_f64(),
        waited,
        compiled,
    })
}

/// The template stack with `[bucket] input = "auto"`: the input prefix and its grants follow
/// the migration report (issue #6).
fn stack_file(template: &str) -> anyhow::Result<String> {
    // The template already says it (it is the default too); a second key would be an error.
    if template.lines().any(|l| l.trim() == "input = \"auto\"") {
        return Ok(template.to_string());
    }
    let marker = "[bucket]\n";
    let at = template
        .find(marker)
        .context("templates/bodyline.toml has no [bucket] table")?
        + marker.len();
    Ok(format!(
        "{}# The demo: S3 input (prefix and grants) exists while the migration report says a site needs it.\ninput = \"auto\"\n{}",
        &template[..at],
        &template[at..]
    ))
}

/// The stack file with `principal` as its only invoker.
fn with_principal(stack_file: &str, principal: &str) -> anyhow::Result<String> {
    let line = "principals = []";
    if !stack_file.contains(line) {
        bail!("the stack file has no `{line}` line to name the demo app's user in");
    }
    Ok(stack_file.replacen(line, &format!("principals = [\"{principal}\"]"), 1))
}

fn app_user_name(stack: &str) -> String {
    format!("{stack}-demo-app")
}

/// Runs one async SDK task to completion: the demo is otherwise synchronous.
fn block_on<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::runtime::Runtime::new()
        .context("cannot start tokio")?
        .block_on(work)
}

/// Creates the demo app's IAM user, tagged with the stack (teardown removes it), and returns
/// its ARN and access key. `bodyline setup` attaches the invoker policy to it.
async fn app_user(
    sdk: &aws_config::SdkConfig,
    stack: &str,
) -> anyhow::Result<(String, String, String)> {
    let iam = aws_sdk_iam::Client::new(sdk);
    let name = app_user_name(stack);
    let user =
        bodyline_aws::create_user_with_key(&iam, &name, &bodyline_stack::stack_tags(stack), &[])
            .await?;
    if user.arn.is_empty() {
        bail!("CreateUser {name} returned no user");
    }
    Ok((user.arn, user.access_key_id, user.secret_access_key))
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to).with_context(|| format!("cannot create {}", to.display()))?;
    for entry in
        std::fs::read_dir(from).with_context(|| format!("cannot read {}", from.display()))?
    {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)
                .with_context(|| format!("cannot copy {}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn display(cmd: &Command) -> String {
    let program = Path::new(cmd.get_program()).file_name().map_or_else(
        || cmd.get_program().to_string_lossy(),
        |n| n.to_string_lossy(),
    );
    let mut text = program.into_owned();
    for arg in cmd.get_args() {
        text.push(' ');
        text.push_str(&arg.to_string_lossy());
    }
    text
}

/// The last `n` non-empty lines of a command's output, for an error message.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if lines.is_empty() {
        return String::new();
    }
    format!(": {}", lines[lines.len().saturating_sub(n)..].join(" | "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_app_copy_gets_a_standalone_manifest_with_the_workspace_values() {
        let root = r#"
[workspace]
members = ["app"]
[workspace.package]
version = "0.3.0"
edition = "2021"
[workspace.dependencies]
anyhow = "1.0.1"
tokio = { version = "1.5", features = ["full"] }
internal = { path = "crates/internal", version = "0.1.0" }
[profile.dev.package."*"]
debug = false
"#;
        let app = r#"
[package]
name = "legacy-app"
version.workspace = true
edition.workspace = true
publish = false
[dependencies]
anyhow.workspace = true
tokio = { workspace = true, features = ["test-util"] }
serde = "1"
"#;
        let text = standalone_manifest(root, app).unwrap();
        let t: toml::Table = text.parse().unwrap();
        assert_eq!(t["package"]["name"].as_str(), Some(PACKAGE));
        assert_eq!(t["package"]["version"].as_str(), Some("0.3.0"));
        assert_eq!(t["package"]["edition"].as_str(), Some("2021"));
        assert_eq!(
            t["dependencies"]["anyhow"]["version"].as_str(),
            Some("1.0.1")
        );
        assert_eq!(
            t["dependencies"]["tokio"]["features"],
            toml::Value::from(vec!["full", "test-util"])
        );
        assert_eq!(t["dependencies"]["serde"].as_str(), Some("1"));
        assert_eq!(
            t["profile"]["dev"]["package"]["*"]["debug"].as_bool(),
            Some(false)
        );
        assert!(t["workspace"].as_table().is_some_and(|w| w.is_empty()));
        assert!(!text.contains("workspace = true"), "{text}");

        let internal = app.replace("serde = \"1\"", "internal.workspace = true");
        let err = standalone_manifest(root, &internal).unwrap_err();
        assert!(err.to_string().contains("internal"), "{err}");
    }

    #[test]
    fn the_scratch_directory_is_refused_inside_the_target_directory() {
        let root = Path::new("/work/x");
        let ok = parse_args(root, &[]).unwrap();
        assert_eq!(ok.scratch, root.join(".bodyline/demo"));
        let args = ["--scratch".to_string(), "target/demo".to_string()];
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            let err = parse_args(root, &args).unwrap_err();
            assert!(err.to_string().contains("outside"), "{err}");
        }
        let args = ["--compare-s3".to_string(), "0".to_string()];
        assert!(parse_args(root, &args).is_err());
    }

    #[test]
    fn the_app_output_is_read_line_by_line() {
        let stdout = "\
requests: 12 for 6 async inferences (6 S3 PUT, 6 invoke), 2.00 per inference, submitted in 85 ms
realtime: {\"scores\":[1]}
submitted customer c-001 -> s3://b/output/1.out
output customer c-001: {\"scores\":[0.25]}
output batch of 3: {\"scores\":[1,2,3]}
";
        let run = parse_app_output(stdout).unwrap();
        assert_eq!(run.requests, 12);
        assert_eq!(run.inferences, 6);
        assert_eq!(run.submit_ms, 85);
        assert_eq!(run.per_inference(), 2.0);
        assert_eq!(
            run.outputs,
            [
                "output customer c-001: {\"scores\":[0.25]}",
                "output batch of 3: {\"scores\":[1,2,3]}"
            ]
        );
        assert!(parse_app_output("output x: 1\n").is_err());
    }

    #[test]
    fn the_demo_stack_file_asks_for_input_that_follows_the_migration() {
        let text = stack_file("[stack]\nname = \"d\"\n[bucket]\noutput_prefix = \"o\"\n").unwrap();
        let t: toml::Table = text.parse().unwrap();
        assert_eq!(t["bucket"]["input"].as_str(), Some("auto"));
        assert_eq!(t["bucket"]["output_prefix"].as_str(), Some("o"));
        assert!(stack_file("[stack]\n").is_err());
        let named =
            with_principal("[invokers]\nprincipals = []\n", "arn:aws:iam::1:user/u").unwrap();
        assert!(
            named.contains("principals = [\"arn:aws:iam::1:user/u\"]"),
            "{named}"
        );
        assert!(with_principal("[invokers]\n", "arn").is_err());
    }
}
