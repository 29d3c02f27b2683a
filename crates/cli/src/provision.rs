//! `bodyline plan` and `bodyline setup`: load the stack, call bodyline-provision, print.

use std::path::Path;
use std::process::ExitCode;

use std::fmt::Write as _;

use anyhow::Context as _;
use bodyline_provision::{
    Action, ApplyOptions, Change, Plan, Progress, ProvisionError, SetupReport,
};
use bodyline_stack::{Stack, Target};

use crate::output_format::OutputFormat;
use crate::stack_select::StackSelect;

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
    #[command(flatten)]
    pub wait: crate::wait::WaitArgs,
}

/// The selected stack, its project directory made absolute, and the SDK configuration for
/// its target; on the local target, a missing local stack is started first.
async fn connect(
    select: &StackSelect,
    quiet: bool,
) -> anyhow::Result<(Stack, std::path::PathBuf, bodyline_stack::SdkConfig)> {
    let stack = select.load()?;
    let root = std::path::absolute(&select.root)
        .with_context(|| format!("cannot resolve {}", select.root.display()))?;
    if stack.target == Target::Local {
        ensure_local_stack(&root, &stack.region, quiet).await?;
    }
    let sdk = bodyline_stack::sdk_config(&stack, &root).await?;
    Ok((stack, root, sdk))
}

/// Prints what `setup` would do; exit 0 when nothing would change, 2 when something would
/// (like `terraform plan -detailed-exitcode`).
///
/// On the local target it starts a missing local stack, as `setup` does: the plan then shows
/// what setup would do on the stack it would itself start.
pub async fn plan(args: &PlanArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (stack, root, sdk) = connect(&args.select, quiet).await?;
    let planned = bodyline_provision::plan_stack(&stack, &sdk, &root).await?;
    let calls = planned.clients.calls();
    let mut out = String::new();
    match args.select.format {
        OutputFormat::Json => {
            out = serde_json::to_string_pretty(&serde_json::json!({
                "stack": stack.name,
                "target": stack.target,
                "has_changes": planned.plan.has_changes(),
                "changes": planned.plan.changes,
                "calls": calls,
            }))?;
            out.push('\n');
        }
        OutputFormat::Text => {
            writeln!(out, "stack {} on the {} target", stack.name, stack.target)?;
            write_changes(&mut out, &planned.plan)?;
            let pending = planned.plan.pending().count();
            if pending == 0 {
                writeln!(out, "\nNo changes: the stack is up to date.")?;
            } else {
                writeln!(
                    out,
                    "\n{pending} change(s). Run `bodyline setup` to apply them."
                )?;
            }
        }
    }
    emit(&out)?;
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
        Action::Delete => "-",
        Action::NoOp => "=",
    }
}

/// Writes everything at once; a closed pipe comes back as an `io::Error` (which `main` treats
/// as success) instead of a panic in `println!`.
fn emit(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes())?;
    stdout.flush()
}

fn write_changes(out: &mut String, plan: &Plan) -> std::fmt::Result {
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
        writeln!(
            out,
            "  {:>3} {:<7} {:<width$}  {resource}: {detail}",
            symbol(*action),
            action.to_string(),
            kind.label(),
        )?;
    }
    Ok(())
}

/// Creates or updates the stack and prints a summary; on the local target it starts the local
/// stack first when it is not running. `quiet` prints no progress and no text summary.
pub async fn setup(args: &SetupArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let (stack, root, sdk) = connect(&args.select, quiet).await?;

    let mut options = ApplyOptions::default();
    if let Some(timeout) = args.wait.wait_timeout {
        options.endpoint_timeout = timeout;
    }
    let text = args.select.format == OutputFormat::Text;
    let mut display = crate::wait::Display::new(text, quiet, options.endpoint_timeout);
    let mut on_progress = |p: Progress| report_progress(&mut display, p);
    let result = bodyline_provision::setup(&stack, &sdk, &root, &options, &mut on_progress).await;
    display.finish();
    let report = match result {
        Ok(report) => report,
        Err(err) => {
            let ProvisionError::StillConverging {
                endpoint,
                status,
                waited_secs,
            } = &err
            else {
                return Err(err.into());
            };
            // Not a failure: the endpoint is still converging, and the same command continues.
            let json = (args.select.format == OutputFormat::Json).then(|| {
                serde_json::json!({
                    "stack": stack.name,
                    "target": stack.target,
                    "endpoint": endpoint,
                    "endpoint_status": status,
                    "waited_secs": waited_secs,
                })
            });
            return Ok(crate::wait::report_still_converging(
                &err.to_string(),
                json,
            )?);
        }
    };
    let out = match args.select.format {
        OutputFormat::Json => serde_json::to_string_pretty(&summary_json(&stack, &report))? + "\n",
        OutputFormat::Text if quiet => String::new(),
        OutputFormat::Text => summary(&stack, &args.select, &report)?,
    };
    emit(&out)?;
    Ok(ExitCode::SUCCESS)
}

/// Starts the background local stack unless it runs (the same as `bodyline local up`).
async fn ensure_local_stack(root: &Path, region: &str, quiet: bool) -> anyhow::Result<()> {
    if bodyline_local::answers(root).await {
        return Ok(());
    }
    let exe = std::env::current_exe().context("cannot find the bodyline executable")?;
    let mut serve = std::process::Command::new(exe);
    serve
        .args(["local", "serve", "--root"])
        .arg(root)
        .args(["--region", region]);
    let report = bodyline_local::up(root, region, serve).await?;
    if !report.already_running && !quiet {
        eprintln!("started the local stack on {}", report.env.endpoint_url);
    }
    Ok(())
}

fn report_progress(display: &mut crate::wait::Display, p: Progress) {
    match p {
        Progress::Applying {
            kind,
            resource,
            action,
        } => {
            display.message(format!("{action} {kind} {resource}"));
            display.line(format!(
                "  {:>3} {action} {kind} {resource}",
                symbol(action)
            ));
        }
        Progress::Waiting {
            resource,
            status,
            elapsed,
        } => {
            // A Deleting endpoint is being replaced (a Failed one, or on the local target).
            let goal = if status == "Deleting" {
                "it to be gone"
            } else {
                "InService"
            };
            display.waiting(&resource, &status, goal, elapsed);
        }
        Progress::Retrying {
            resource,
            attempt,
            reason,
        } => display.line(format!(
            "  retrying {resource} (attempt {attempt}): {reason}"
        )),
        Progress::Retiring { kind, resource } => {
            display.line(format!("  - delete replaced {kind} {resource}"))
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
    if select.stack_name.is_some() {
        cmd.push_str(&format!(" --stack-name {}", stack.name));
    }
    cmd
}

fn summary(
    stack: &Stack,
    select: &StackSelect,
    setup: &SetupReport,
) -> Result<String, std::fmt::Error> {
    let d = &setup.plan.desired;
    let r = &setup.report;
    let mut out = String::new();
    if r.applied.is_empty() {
        writeln!(
            out,
            "stack {} is up to date on the {} target",
            stack.name, stack.target
        )?;
    } else {
        writeln!(
            out,
            "stack {} set up on the {} target: {} change(s)",
            stack.name,
            stack.target,
            r.applied.len()
        )?;
    }
    // What the local target does differently from AWS, said every time.
    for c in setup
        .plan
        .changes
        .iter()
        .filter(|c| c.detail.contains("local target"))
    {
        writeln!(out, "  note: {}: {}", c.kind, c.detail)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "  endpoint         {} ({})",
        d.endpoint.name, r.endpoint_status
    )?;
    writeln!(out, "                   {}", d.endpoint.arn)?;
    writeln!(out, "  endpoint config  {}", d.endpoint_config.name)?;
    writeln!(out, "  model            {}", d.model.name)?;
    writeln!(out, "  output bucket    {}", d.bucket.name)?;
    writeln!(out, "  outputs          {}", d.bucket.output_path)?;
    writeln!(out, "  failures         {}", d.bucket.failure_path)?;
    if let Some(t) = &d.topics {
        writeln!(out, "  success topic    {}", t.success.arn)?;
        writeln!(out, "  error topic      {}", t.error.arn)?;
    }
    writeln!(out, "  execution role   {}", d.role.arn)?;
    writeln!(out, "  invoker policy   {}", d.invoker.arn)?;
    writeln!(out, "  state            {}", setup.state_path.display())?;
    writeln!(out)?;
    writeln!(
        out,
        "  AWS calls        {} read, {} mutating",
        r.calls.read, r.calls.mutating
    )?;
    writeln!(out)?;
    if stack.target == Target::Local {
        writeln!(
            out,
            "Your own app reaches the local stack with: set -a; . .bodyline/local.env; set +a"
        )?;
    }
    writeln!(out, "Next: {}", next_command(stack, select))?;
    Ok(out)
}

fn summary_json(stack: &Stack, setup: &SetupReport) -> serde_json::Value {
    let d = &setup.plan.desired;
    serde_json::json!({
        "stack": stack.name,
        "target": stack.target,
        "applied": setup.report.applied,
        "found_own": setup.report.found_own,
        "retired": setup.report.retired,
        "endpoint_status": setup.report.endpoint_status,
        "resources": setup.report.state.resources,
        "output_path": d.bucket.output_path,
        "failure_path": d.bucket.failure_path,
        "state": setup.state_path,
        "calls": setup.report.calls,
    })
}
