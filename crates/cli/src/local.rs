//! `bodyline local`: the local stack (moto, bodyline's front door and async runtime) as a
//! background process per project.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use bodyline_local::{LocalOptions, LocalStatus};
use bodyline_stack::LocalEnv;

/// `bodyline local <command>`.
#[derive(clap::Subcommand, Debug)]
pub enum LocalCommand {
    /// Start the local stack in the background (or find it running) and write
    /// `.bodyline/local.env` with its URL, region and keys.
    Up {
        #[command(flatten)]
        stack: StackArgs,
    },
    /// Stop the background local stack and remove `.bodyline/local.env`.
    Down {
        #[command(flatten)]
        root: RootArgs,
    },
    /// Show whether the local stack runs, with its URLs (exit 0: running, 1: not running).
    Status {
        #[command(flatten)]
        root: RootArgs,
    },
    /// Run the local stack in the foreground until ctrl-c or SIGTERM (what `up` starts).
    #[command(hide = true)]
    Serve {
        #[command(flatten)]
        stack: StackArgs,
    },
    /// Install moto into the virtualenv now (the first `up` does it on its own).
    Install {
        #[command(flatten)]
        root: RootArgs,
        /// The virtualenv [default: <root>/.bodyline/venv].
        #[arg(long, env = "BODYLINE_VENV")]
        venv: Option<PathBuf>,
    },
}

/// The project whose `.bodyline/` holds the local stack's files.
#[derive(clap::Args, Debug)]
pub struct RootArgs {
    /// The project root.
    #[arg(long, default_value = ".")]
    root: PathBuf,
}

/// Where and how to run the local stack.
#[derive(clap::Args, Debug)]
pub struct StackArgs {
    #[command(flatten)]
    root: RootArgs,
    /// The region clients sign for.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// moto's virtualenv [default: <root>/.bodyline/venv].
    #[arg(long, env = "BODYLINE_VENV")]
    venv: Option<PathBuf>,
}

/// Runs one `bodyline local` command.
pub async fn run(cmd: &LocalCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LocalCommand::Up { stack } => up(stack).await,
        LocalCommand::Down { root } => {
            let root = absolute(&root.root)?;
            match bodyline_local::down(&root).await? {
                Some(pid) => println!("local stack stopped (pid {pid})"),
                None => println!("local stack was not running"),
            }
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Status { root } => {
            let root = absolute(&root.root)?;
            let status = bodyline_local::status(&root).await?;
            println!("local stack {status}");
            print_losses(&bodyline_local::losses(&root));
            Ok(match status {
                LocalStatus::Running { .. } => ExitCode::SUCCESS,
                _ => ExitCode::FAILURE,
            })
        }
        LocalCommand::Serve { stack } => {
            let root = absolute(&stack.root.root)?;
            bodyline_local::serve(
                options(&root, stack)?,
                |env| println!("local stack ready on {}", env.endpoint_url),
                bodyline_local::shutdown_signal(),
            )
            .await?;
            Ok(ExitCode::SUCCESS)
        }
        LocalCommand::Install { root, venv } => {
            let root = absolute(&root.root)?;
            let venv = match venv {
                Some(venv) => absolute(venv)?,
                None => bodyline_local::default_venv(&root),
            };
            let began = Instant::now();
            let moto_server = tokio::task::spawn_blocking(move || bodyline_local::install(&venv))
                .await
                .context("the install task failed")??;
            println!(
                "{} ready: {} ({:.1}s)",
                bodyline_local::MOTO_REQUIREMENT,
                moto_server.display(),
                began.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn up(args: &StackArgs) -> anyhow::Result<ExitCode> {
    let root = absolute(&args.root.root)?;
    let exe = std::env::current_exe().context("cannot find the bodyline executable")?;
    let mut serve = std::process::Command::new(exe);
    serve
        .args(["local", "serve", "--root"])
        .arg(&root)
        .args(["--region", &args.region]);
    if let Some(venv) = &args.venv {
        serve.arg("--venv").arg(absolute(venv)?);
    }
    let report = bodyline_local::up(&root, &args.region, serve).await?;
    let running = LocalStatus::Running {
        pid: report.pid,
        env: report.env,
    };
    if report.already_running {
        println!("local stack already {running}");
    } else {
        println!("local stack {running}");
    }
    if report.restored_changes > 0 {
        println!(
            "  restored  {} change(s) from the crashed stack's saved state",
            report.restored_changes
        );
    }
    print_losses(&report.lost);
    println!(
        "  env file  {}\n\nLoad it with: set -a; . {}; set +a",
        LocalEnv::path(&root).display(),
        LocalEnv::path(&root).display()
    );
    Ok(ExitCode::SUCCESS)
}

/// What the local stack could not bring back after a crash, one line each.
fn print_losses(lost: &[String]) {
    if !lost.is_empty() {
        println!(
            "  lost      {} item(s) could not be brought back:",
            lost.len()
        );
        for line in lost {
            println!("    {line}");
        }
    }
}

fn options(root: &Path, args: &StackArgs) -> anyhow::Result<LocalOptions> {
    let mut opts = LocalOptions::new(root, args.region.clone());
    if let Some(venv) = &args.venv {
        opts = opts.with_venv(absolute(venv)?);
    }
    Ok(opts)
}

fn absolute(path: &Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(path).with_context(|| format!("cannot resolve {}", path.display()))
}
