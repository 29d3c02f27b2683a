//! `bodyline verify` and `bodyline teardown`: load the stack, call bodyline-verify, print.

mod estate;

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use bodyline_provision::{TeardownError, TeardownOptions, TeardownProgress};
use bodyline_stack::Target;
use bodyline_verify::VerifyOptions;

use crate::output_format::OutputFormat;
use crate::stack_select::StackSelect;

/// `bodyline teardown`: remove every resource the stack owns (tagged `bodyline:stack=<name>`),
/// and nothing else; then list again by tag and fail if anything remains.
#[derive(clap::Args, Debug)]
pub struct TeardownArgs {
    #[command(flatten)]
    pub select: StackSelect,
    /// Delete without asking (for CI).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Only show what would be deleted.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// First download every output and failure object to `<DIR>/<bucket>/<key>`.
    #[arg(long, value_name = "DIR")]
    pub backup_dir: Option<PathBuf>,
    #[command(flatten)]
    pub wait: crate::wait::WaitArgs,
}

/// `bodyline verify`: prove the stack works end to end and its permissions are tight.
#[derive(clap::Args, Debug)]
pub struct VerifyArgs {
    /// The stack file.
    #[arg(long, default_value = "bodyline.toml")]
    pub stack_file: PathBuf,
    /// Where the stack lives; overrides `stack.target` of the file.
    #[arg(long, value_parser = crate::stack_select::parse_target)]
    pub target: Option<Target>,
    /// The stack's name; overrides `stack.name` of the file (same rule). The state file and
    /// every derived name follow it. [env: BODYLINE_STACK_NAME=]
    // Read from the environment by hand (`stack_name()`), not by clap: a job-wide
    // BODYLINE_STACK_NAME must not turn `verify --endpoint` into a conflict error, while the
    // flag itself conflicts with --endpoint.
    #[arg(long, value_name = "NAME")]
    pub stack_name: Option<String>,
    /// The project root (holds `.bodyline/`).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// The inline payload to send (default: a two-record JSON sample).
    #[arg(long, value_name = "FILE")]
    pub payload: Option<PathBuf>,
    /// What the output must equal (JSON-equal when both are JSON).
    #[arg(long, value_name = "FILE")]
    pub expect: Option<PathBuf>,
    /// Seconds to wait for each request's output or failure object.
    #[arg(long, default_value_t = 120)]
    pub timeout: u64,
    /// aws target: a role carrying only the invoker policy, for the least-privilege check.
    #[arg(long, value_name = "ARN")]
    pub invoker_role: Option<String>,
    /// Run only this check (repeatable); `--list` shows the names.
    #[arg(long = "check", value_name = "NAME")]
    pub checks: Vec<String>,
    /// List the checks and exit.
    #[arg(long)]
    pub list: bool,
    /// Also submit N requests inline and N through S3 upload + InputLocation, and compare
    /// latency, calls and PUT cost.
    #[arg(long, value_name = "N")]
    pub compare_s3: Option<u32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// Verify this async endpoint instead of a stack: one bodyline did not make, read-only on
    /// the control plane, with the caller's own credentials (no stack file needed).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["stack_file", "stack_name"])]
    pub endpoint: Option<String>,
    /// With --endpoint: the region (default: the credential chain's, or local.env's).
    #[arg(long, requires = "endpoint")]
    pub region: Option<String>,
    /// With --endpoint: where --compare-s3 may upload inputs, and the input location the
    /// --invoker-role probe tries to write to.
    #[arg(long, value_name = "S3_URI", requires = "endpoint")]
    pub input_uri: Option<String>,
    /// With --endpoint: the migration report that says whether any call site still needs S3
    /// input (default: <root>/.bodyline/migrate-report.json).
    #[arg(long, value_name = "FILE", requires = "endpoint")]
    pub migration_report: Option<PathBuf>,
}

impl VerifyArgs {
    /// `--stack-name`, else `BODYLINE_STACK_NAME` (see the field for why by hand).
    fn stack_name(&self) -> Option<String> {
        self.stack_name
            .clone()
            .or_else(|| std::env::var("BODYLINE_STACK_NAME").ok())
    }
}

pub(crate) fn print_json(value: serde_json::Value) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &value)?;
    writeln!(out)?;
    Ok(())
}

/// Runs `bodyline teardown`; `quiet` prints neither the plan nor a clean report (only errors).
pub async fn teardown(args: &TeardownArgs, quiet: bool) -> anyhow::Result<ExitCode> {
    let stack = args.select.load()?;
    let config = bodyline_stack::sdk_config(&stack, &args.select.root).await?;
    let plan = bodyline_provision::plan_teardown(&stack, &config, &args.select.root)
        .await
        .with_context(|| format!("cannot plan the teardown of stack {}", stack.name))?;
    if args.dry_run {
        match args.select.format {
            OutputFormat::Json => print_json(serde_json::to_value(&plan)?)?,
            OutputFormat::Text => print!("{}", plan.render_text()),
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The same lock as setup's: a teardown racing a setup of the stack would delete what
    // the setup is still creating.
    let _lock = bodyline_stack::StackLock::acquire(&args.select.root, &stack.name, "teardown")?;
    if args.select.format == OutputFormat::Text && !quiet {
        print!("{}", plan.render_text());
    }
    if !plan.is_empty() && !args.yes {
        if !std::io::stdin().is_terminal() {
            anyhow::bail!(
                "refusing to delete {} resources of stack {} without confirmation: stdin is not a terminal; pass --yes (CI) or --dry-run (to look)",
                plan.delete.len(),
                plan.stack
            );
        }
        eprint!(
            "delete these {} resources of stack {} on the {} target? type the stack name to confirm: ",
            plan.delete.len(),
            plan.stack,
            plan.target
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if answer.trim() != plan.stack {
            eprintln!("not confirmed; nothing was deleted");
            return Ok(ExitCode::FAILURE);
        }
    }
    let mut options = TeardownOptions::new(&args.select.root);
    options.backup_dir = args.backup_dir.clone();
    if let Some(timeout) = args.wait.wait_timeout {
        options.endpoint_timeout = timeout;
    }
    let mut display = crate::wait::Display::new(
        args.select.format == OutputFormat::Text,
        quiet,
        options.endpoint_timeout,
    );
    let report = bodyline_provision::execute_with_progress(&plan, &config, &options, &mut |p| {
        if let TeardownProgress::Waiting {
            endpoint,
            status,
            elapsed,
        } = p
        {
            display.waiting(&endpoint, &status, "it to be gone", elapsed);
        }
    })
    .await;
    display.finish();
    match args.select.format {
        OutputFormat::Json => print_json(serde_json::json!({ "plan": plan, "report": report }))?,
        OutputFormat::Text if quiet && report.is_clean() => {}
        OutputFormat::Text if quiet => eprint!("{}", report.render_text()),
        OutputFormat::Text => print!("{}", report.render_text()),
    }
    if let Some(TeardownError::EndpointStillPresent { .. }) = &report.failure {
        // The report (stdout) already says why; stderr says how to continue.
        eprintln!(
            "The stack is still converging. To continue, run the same command again: {}",
            crate::wait::command_line(std::env::args())
        );
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn read(path: &Option<PathBuf>) -> anyhow::Result<Option<Vec<u8>>> {
    path.as_ref()
        .map(|p| std::fs::read(p).with_context(|| format!("cannot read {}", p.display())))
        .transpose()
}

/// Runs `bodyline verify`.
pub async fn verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    if args.list {
        for (name, proves) in bodyline_verify::check_names() {
            println!("{name:<16} {proves}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(endpoint) = &args.endpoint {
        return estate::verify(args, endpoint, options(args)?).await;
    }
    let stack = crate::stack_select::load(
        &args.stack_file,
        args.target,
        args.stack_name().as_deref(),
        &args.root,
    )?;
    let config = bodyline_stack::sdk_config(&stack, &args.root).await?;
    let report = bodyline_verify::verify(&stack, &config, &options(args)?)
        .await
        .with_context(|| format!("cannot verify stack {}", stack.name))?;
    print_verdict(
        args.format,
        serde_json::to_value(&report)?,
        report.render_table(),
        report.passed(),
    )
}

/// Prints a verify report (JSON, or its table) and exits 0 when it passed, 1 otherwise.
pub(crate) fn print_verdict(
    format: OutputFormat,
    json: serde_json::Value,
    table: String,
    passed: bool,
) -> anyhow::Result<ExitCode> {
    match format {
        OutputFormat::Json => print_json(json)?,
        OutputFormat::Text => print!("{table}"),
    }
    Ok(if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The options every verify shares, from the arguments.
fn options(args: &VerifyArgs) -> anyhow::Result<VerifyOptions> {
    Ok(VerifyOptions {
        payload: read(&args.payload)?,
        expect: read(&args.expect)?,
        result_timeout: Duration::from_secs(args.timeout),
        invoker_role: args.invoker_role.clone(),
        only: args.checks.clone(),
        compare_s3: args.compare_s3,
    })
}
