//! `bodyline sweep`: tear down every stack named with a prefix whose resources are all older
//! than a threshold (orphans of cancelled or crashed CI runs), found by tag, no state file.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use bodyline_provision::{SweepOptions, TeardownOptions};
use bodyline_stack::Target;

use crate::output_format::OutputFormat;

/// `bodyline sweep`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Only stacks whose name starts with this (e.g. `ci-`).
    #[arg(long, required = true)]
    pub prefix: String,
    /// Only stacks whose every resource is older than this: `90s`, `30m`, `6h`, `2d`.
    #[arg(long, value_name = "AGE", value_parser = parse_age, required = true)]
    pub older_than: Duration,
    /// The stack file each swept stack is torn down as (its target and region; the name comes
    /// from each stack's tag).
    #[arg(long, default_value = "bodyline.toml")]
    pub stack_file: PathBuf,
    /// Where the stacks live; overrides `stack.target` of the file.
    #[arg(long, value_parser = |s: &str| s.parse::<Target>())]
    pub target: Option<Target>,
    /// The project root (holds `.bodyline/`).
    #[arg(long, default_value = ".")]
    pub root: PathBuf,
    /// Delete without asking (for CI); without it the sweep only lists.
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Only list what would be removed, with each stack's age and resource count.
    #[arg(long, conflicts_with = "yes")]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub format: OutputFormat,
    /// How long each swept stack's teardown waits for its endpoint to be gone.
    #[command(flatten)]
    pub wait: crate::wait::WaitArgs,
}

/// How each chosen stack is torn down: teardown's defaults under `--root`, with
/// `--wait-timeout` bounding the wait for each endpoint.
fn teardown_options(args: &SweepArgs) -> TeardownOptions {
    let mut options = TeardownOptions::new(&args.root);
    if let Some(timeout) = args.wait.wait_timeout {
        options.endpoint_timeout = timeout;
    }
    options
}

/// `6h` → six hours. A bare number is seconds. `sweep --older-than` and `--wait-timeout` use it.
pub(crate) fn parse_age(text: &str) -> Result<Duration, String> {
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 = number.parse().map_err(|_| {
        format!("{text:?} is not a duration: write a number and a unit (s, m, h or d), e.g. 6h")
    })?;
    let unit_secs = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        other => {
            return Err(format!(
                "unknown unit {other:?} in {text:?}: use s, m, h or d (e.g. 6h)"
            ))
        }
    };
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is too long a duration"))
}

/// Runs `bodyline sweep`: exit 0 when every chosen stack is gone (or on a dry run), 1 when any
/// failed.
pub async fn run(args: &SweepArgs) -> anyhow::Result<ExitCode> {
    if !args.yes && !args.dry_run {
        anyhow::bail!(
            "bodyline sweep deletes stacks: pass --dry-run to see which, or --yes to delete them"
        );
    }
    let base = crate::stack_select::load(&args.stack_file, args.target, None, &args.root)?;
    let config = bodyline_stack::sdk_config(&base, &args.root).await?;
    let options = SweepOptions {
        prefix: args.prefix.clone(),
        older_than: args.older_than,
        now: SystemTime::now(),
    };
    let plan = bodyline_provision::plan_sweep(&base, &config, &options).await?;
    let mut out = std::io::stdout().lock();
    if args.dry_run {
        match args.format {
            OutputFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?,
            OutputFormat::Text => write!(out, "{}", plan.render_text(true))?,
        }
        return Ok(ExitCode::SUCCESS);
    }
    if args.format == OutputFormat::Text {
        write!(out, "{}", plan.render_text(false))?;
        out.flush()?;
    }
    let report =
        bodyline_provision::execute_sweep(&plan, &base, &config, &teardown_options(args)).await;
    match args.format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "plan": plan, "report": report }))?
        )?,
        OutputFormat::Text => write!(out, "{}", report.render_text())?,
    }
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_have_units() {
        assert_eq!(parse_age("6h"), Ok(Duration::from_secs(6 * 3600)));
        assert_eq!(parse_age("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(parse_age("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_age("2d"), Ok(Duration::from_secs(172_800)));
        assert!(parse_age("6 hours").is_err());
        assert!(parse_age("h").is_err());
    }

    /// `bodyline sweep` with `args` appended to its required options.
    fn sweep_args(args: &[&str]) -> Result<SweepArgs, clap::Error> {
        #[derive(clap::Parser)]
        struct Sweep {
            #[command(flatten)]
            args: SweepArgs,
        }
        let base = [
            "sweep",
            "--prefix",
            "ci-",
            "--older-than",
            "6h",
            "--root",
            "/p",
        ];
        <Sweep as clap::Parser>::try_parse_from(base.iter().chain(args)).map(|sweep| sweep.args)
    }

    #[test]
    fn the_wait_timeout_bounds_each_swept_endpoint_and_teardowns_default_stays() {
        let options = teardown_options(&sweep_args(&["--wait-timeout", "20m"]).unwrap());
        assert_eq!(options.endpoint_timeout, Duration::from_secs(1200));
        assert_eq!(options.root, PathBuf::from("/p"));
        let default = teardown_options(&sweep_args(&[]).unwrap());
        assert_eq!(
            default.endpoint_timeout,
            TeardownOptions::new("/p").endpoint_timeout
        );
        let err = sweep_args(&["--wait-timeout", "soon"]).err().unwrap();
        assert!(err.to_string().contains("is not a duration"), "{err}");
    }
}
