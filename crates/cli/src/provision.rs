//! `bodyline plan` and `bodyline setup`: load the stack, call bodyline-provision, print.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bodyline_provision::{Action, ApplyOptions, CallCounts, Change, Plan, Progress, SetupReport};
use bodyline_stack::{Stack, Target};

/// How results are printed.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// For people.
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// Which stack, where.
#[derive(clap::Args, Debug)]
pub struct StackSelect {
    /// The stack file.
    #[arg(long, default_value = "bodyline.toml")]
    pub stack_file: PathBuf,
    /// Where the stack lives; overrides `stack.target` of the file.
    #[arg(long, value_parser = parse_target)]
    pub target: Option<Target>,
    /// The project root (holds `.bodyline/`: local stack connection and state).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

fn parse_target(s: &str) -> Result<Target, String> {
    s.parse()
}

/// `bodyline plan`.
#[derive(clap::Args, Debug)]
pub struct PlanArgs {
    #[command(flatten)]
    pub select: StackSelect,
}

/// `bodyline setup`.
#[derive(clap::Args, Debug)]
pub struct SetupArgs {
    #[command(flatten)]
    pub select: StackSelect,
}

fn load(select: &StackSelect) -> anyhow::Result<Stack> {
    let stack = Stack::load(&select.stack_file)?;
    Ok(match select.target {
        Some(target) => stack.with_target(target),
        None => stack,
    })
}

/// Prints what `setup` would do; exit 0 when nothing would change, 2 when something would
/// (like `terraform plan -detailed-exitcode`).
pub async fn plan(args: &PlanArgs) -> anyhow::Result<ExitCode> {
    let stack = load(&args.select)?;
    let sdk = bodyline_stack::sdk_config(&stack, &args.select.root).await?;
    let planned = bodyline_provision::plan_stack(&stack, &sdk).await?;
    let calls = planned.clients.calls();
    match args.select.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "stack": stack.name,
                "target": stack.target,
                "has_changes": planned.plan.has_changes(),
                "changes": planned.plan.changes,
                "calls": calls,
            }))?
        ),
        Format::Text => {
            println!("stack {} on the {} target", stack.name, stack.target);
            print_changes(&planned.plan);
            let pending = planned.plan.pending().count();
            if pending == 0 {
                println!("\nNo changes: the stack is up to date.");
            } else {
                println!("\n{pending} change(s). Run `bodyline setup` to apply them.");
            }
        }
    }
    Ok(if planned.plan.has_changes() {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn symbol(action: Action) -> &'static str {
    match action {
        Action::Create => "+",
        Action::Update => "~",
        Action::Replace => "-/+",
        Action::NoOp => "=",
    }
}

fn print_changes(plan: &Plan) {
    let width = plan
        .changes
        .iter()
        .map(|c| c.kind.label().len())
        .max()
        .unwrap_or(0);
    for Change {
        kind,
        resource,
        action,
        detail,
        ..
    } in &plan.changes
    {
        println!(
            "  {:>3} {:<7} {:<width$}  {resource}: {detail}",
            symbol(*action),
            action.to_string(),
            kind.label(),
        );
    }
}

/// Creates or updates the stack and prints a summary; on the local target it starts the local
/// stack first when it is not running.
pub async fn setup(args: &SetupArgs) -> anyhow::Result<ExitCode> {
    let stack = load(&args.select)?;
    let root = std::path::absolute(&args.select.root)
        .with_context(|| format!("cannot resolve {}", args.select.root.display()))?;
    if stack.target == Target::Local {
        ensure_local_stack(&root, &stack.region).await?;
    }
    let sdk = bodyline_stack::sdk_config(&stack, &root).await?;

    let text = args.select.format == Format::Text;
    let bar = progress_bar(text);
    let mut on_progress = |p: Progress| report_progress(&bar, p);
    let result = bodyline_provision::setup(
        &stack,
        &sdk,
        &root,
        &ApplyOptions::default(),
        &mut on_progress,
    )
    .await;
    bar.finish_and_clear();
    let report = result?;
    match args.select.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&summary_json(&stack, &report))?
        ),
        Format::Text => print_summary(&stack, &args.select, &report),
    }
    Ok(ExitCode::SUCCESS)
}

/// Starts the background local stack unless it runs (the same as `bodyline local up`).
async fn ensure_local_stack(root: &Path, region: &str) -> anyhow::Result<()> {
    let exe = std::env::current_exe().context("cannot find the bodyline executable")?;
    let mut serve = std::process::Command::new(exe);
    serve
        .args(["local", "serve", "--root"])
        .arg(root)
        .args(["--region", region]);
    let report = bodyline_local::up(root, region, serve).await?;
    if !report.already_running {
        eprintln!("started the local stack on {}", report.env.endpoint_url);
    }
    Ok(())
}

fn progress_bar(visible: bool) -> indicatif::ProgressBar {
    if !visible || !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.enable_steady_tick(Duration::from_millis(120));
    if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}") {
        bar.set_style(style);
    }
    bar
}

fn report_progress(bar: &indicatif::ProgressBar, p: Progress) {
    match p {
        Progress::Applying {
            kind,
            resource,
            action,
        } => {
            bar.set_message(format!("{action} {kind} {resource}"));
            bar.println(format!(
                "  {:>3} {action} {kind} {resource}",
                symbol(action)
            ));
        }
        Progress::Waiting {
            resource, status, ..
        } => bar.set_message(format!(
            "endpoint {resource} is {status}; waiting for InService"
        )),
        Progress::Retrying {
            resource,
            attempt,
            reason,
        } => bar.println(format!(
            "  retrying {resource} (attempt {attempt}): {reason}"
        )),
        Progress::Retiring { kind, resource } => {
            bar.println(format!("  - delete replaced {kind} {resource}"))
        }
        _ => {}
    }
}

fn next_command(stack: &Stack, select: &StackSelect) -> String {
    let mut cmd = String::from("bodyline verify");
    if select.stack_file != Path::new("bodyline.toml") {
        cmd.push_str(&format!(" --stack-file {}", select.stack_file.display()));
    }
    if select.target.is_some() {
        cmd.push_str(&format!(" --target {}", stack.target));
    }
    cmd
}

fn print_summary(stack: &Stack, select: &StackSelect, setup: &SetupReport) {
    let d = &setup.plan.desired;
    let r = &setup.report;
    if r.applied.is_empty() {
        println!(
            "stack {} is up to date on the {} target",
            stack.name, stack.target
        );
    } else {
        println!(
            "stack {} set up on the {} target: {} change(s)",
            stack.name,
            stack.target,
            r.applied.len()
        );
    }
    for note in setup
        .plan
        .changes
        .iter()
        .filter(|c| c.action == Action::NoOp && c.detail.contains("local target"))
    {
        println!("  note: {} {}", note.kind, note.detail);
    }
    println!();
    println!(
        "  endpoint         {} ({})",
        d.endpoint.name, r.endpoint_status
    );
    println!("                   {}", d.endpoint.arn);
    println!("  endpoint config  {}", d.endpoint_config.name);
    println!("  model            {}", d.model.name);
    println!(
        "  output bucket    {}  ({} / {})",
        d.bucket.name, d.bucket.output_path, d.bucket.failure_path
    );
    if let Some(t) = &d.topics {
        println!("  success topic    {}", t.success.arn);
        println!("  error topic      {}", t.error.arn);
    }
    println!("  execution role   {}", d.role.arn);
    println!("  invoker policy   {}", d.invoker.arn);
    println!("  state            {}", setup.state_path.display());
    println!();
    print_calls(&r.calls);
    println!();
    if stack.target == Target::Local {
        println!(
            "Your own app reaches the local stack with: set -a; . .bodyline/local.env; set +a"
        );
    }
    println!("Next: {}", next_command(stack, select));
}

fn print_calls(calls: &CallCounts) {
    println!(
        "  AWS calls        {} read, {} mutating",
        calls.read, calls.mutating
    );
}

fn summary_json(stack: &Stack, setup: &SetupReport) -> serde_json::Value {
    let d = &setup.plan.desired;
    serde_json::json!({
        "stack": stack.name,
        "target": stack.target,
        "applied": setup.report.applied,
        "retired": setup.report.retired,
        "endpoint_status": setup.report.endpoint_status,
        "resources": setup.report.state.resources,
        "output_path": d.bucket.output_path,
        "failure_path": d.bucket.failure_path,
        "state": setup.state_path,
        "calls": setup.report.calls,
    })
}
