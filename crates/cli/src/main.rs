//! `bodyline`: the command line. It only wires things: parse, call one library function, print.
//!
//! Exit codes follow Terraform: 0 ok / no changes; 1 an error or a failed check (`verify`,
//! `migrate --check`); 2 `plan` found changes.

mod local;
mod migrate;
mod output_format;
mod provision;
mod stack_select;
mod sweep;
mod verify;
mod wait;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{CommandFactory as _, Parser, Subcommand};

/// `bodyline local` serves every request of the local stack and the SDK clients allocate per
/// call; glibc malloc spent about a tenth of the runtime's accept path consolidating free lists
/// (perf during `cargo xtask bench runtime`). mimalloc also speeds up `migrate`'s parallel parse.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Move SageMaker async inference onto the inline `Body` path: provision, migrate, verify.
#[derive(Parser, Debug)]
#[command(name = "bodyline", version, about, long_about = None)]
struct Cli {
    /// Print only errors.
    #[arg(long, short, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print debug logs (RUST_LOG overrides).
    #[arg(long, short, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Show what `setup` would create, update or replace (exit 0: no changes, 2: changes).
    Plan(provision::PlanArgs),
    /// Create or update the stack: bucket, topics, IAM, model, endpoint config, endpoint.
    Setup(provision::SetupArgs),
    /// Prove the stack works end to end: inline Body, limits, least privilege, posture.
    Verify(verify::VerifyArgs),
    /// Remove every resource the stack owns (and nothing else), then check for leaks.
    Teardown(verify::TeardownArgs),
    /// Tear down every stack named with a prefix whose resources are all older than an age
    /// (exit 0: every chosen stack removed, or a dry run; 1: any stack failed, the others still
    /// swept).
    Sweep(sweep::SweepArgs),
    /// Rewrite S3 upload + input_location call sites to inline Body.
    Migrate(migrate::MigrateArgs),
    /// Run the local stack (moto + bodyline's front door and async runtime).
    Local {
        #[command(subcommand)]
        cmd: local::LocalCommand,
    },
    /// Print shell completions.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing(cli.quiet, cli.verbose);
    let result = match cli.command {
        Command::Migrate(args) => migrate::run(&args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "bodyline",
                &mut std::io::stdout(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => block_on(provision::plan(&args, cli.quiet)),
        Command::Setup(args) => block_on(provision::setup(&args, cli.quiet)),
        Command::Verify(args) => block_on(verify::verify(&args)),
        Command::Teardown(args) => block_on(verify::teardown(&args, cli.quiet)),
        Command::Sweep(args) => block_on(sweep::run(&args)),
        Command::Local { cmd } => block_on(local::run(&cmd)),
    };
    match result {
        Ok(code) => code,
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn block_on(
    work: impl std::future::Future<Output = anyhow::Result<ExitCode>>,
) -> anyhow::Result<ExitCode> {
    use anyhow::Context as _;
    tokio::runtime::Runtime::new()
        .context("cannot start the async runtime")?
        .block_on(work)
}

fn init_tracing(quiet: bool, verbose: bool) {
    let default = if quiet {
        "error"
    } else if verbose {
        "debug"
    } else {
        "warn"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
