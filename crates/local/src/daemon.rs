//! The background local stack behind `bodyline local up | down | status`: one detached
//! `bodyline local serve` process per project, found again through its pid file.

use std::fmt;
use std::fs::OpenOptions;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bodyline_stack::{LocalEnv, StackError};

use crate::front_door::HEALTH_PATH;
use crate::moto::{http_client, RestoreReport};
use crate::record::{losses, moto_state_dir};
use crate::supervisor::{run_front_door_process, FRONT_DOOR_PROCESS_VAR, MOTO_URL_VAR};
use crate::sys::{self, Signal};
use crate::{LocalError, LocalOptions, LocalStack};
use bodyline_stack::ProjectDir;

/// How long `up` waits for the background stack (a first run installs moto: ~30 s here).
const UP_TIMEOUT: Duration = Duration::from_secs(600);
/// How long `down` waits after SIGTERM before SIGKILL.
const DOWN_GRACE: Duration = Duration::from_secs(15);

/// `<root>/.bodyline/local.pid`: the background process's id.
pub fn pid_file(root: &Path) -> PathBuf {
    ProjectDir::new(root).file("local.pid")
}

/// `<root>/.bodyline/local.log`: the background process's output.
pub fn log_file(root: &Path) -> PathBuf {
    ProjectDir::new(root).file("local.log")
}

/// What `bodyline local status` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum LocalStatus {
    /// The stack answers on its front door.
    Running {
        /// The background process.
        pid: u32,
        /// The variables of `local.env`.
        env: LocalEnv,
    },
    /// The process lives but the stack does not answer (still starting, or broken).
    Unhealthy {
        /// The background process.
        pid: u32,
        /// What is wrong.
        problem: String,
    },
    /// No local stack runs for this project.
    Stopped,
}

impl fmt::Display for LocalStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LocalStatus::Running { pid, env } => {
                writeln!(f, "running (pid {pid})")?;
                writeln!(f, "  endpoint  {}", env.endpoint_url)?;
                if let Some(moto) = env.extra.get(MOTO_URL_VAR) {
                    writeln!(f, "  moto      {moto}")?;
                }
                write!(f, "  region    {}", env.region)
            }
            LocalStatus::Unhealthy { pid, problem } => {
                write!(f, "unhealthy (pid {pid}): {problem}")
            }
            LocalStatus::Stopped => write!(f, "stopped"),
        }
    }
}

/// What `up` did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UpReport {
    /// The background process.
    pub pid: u32,
    /// The variables of `local.env`.
    pub env: LocalEnv,
    /// Whether a healthy stack was already running (and nothing was started).
    pub already_running: bool,
    /// How many changes of moto's saved state were replayed: more than 0 when a stack that
    /// crashed was brought back.
    pub restored_changes: u64,
    /// What could not be brought back (see [`losses`](crate::losses)); empty when nothing.
    pub lost: Vec<String>,
}

impl UpReport {
    fn new(root: &Path, pid: u32, env: LocalEnv, already_running: bool) -> UpReport {
        UpReport {
            pid,
            env,
            already_running,
            restored_changes: RestoreReport::read(&moto_state_dir(root)).map_or(0, |r| r.replayed),
            lost: losses(root),
        }
    }
}

/// Starts the local stack for `root` in the background, unless a healthy one already runs.
///
/// `serve_command` is the foreground server (the cli passes `bodyline local serve --root ..`);
/// it runs detached in its own process group with its output in `<root>/.bodyline/local.log`.
/// Returns once `local.env` is written and the front door answers.
pub async fn up(
    root: &Path,
    region: &str,
    mut serve_command: Command,
) -> Result<UpReport, LocalError> {
    let dot = ProjectDir::new(root).dot_dir();
    std::fs::create_dir_all(&dot).map_err(|e| LocalError::io(&dot, e))?;
    // Two `up`s at once (a user and `cargo xtask setup`) must not start two stacks.
    let _lock = lock_project(root).await?;
    match status(root).await? {
        LocalStatus::Running { pid, env } => {
            if env.region != region {
                return Err(LocalError::RegionMismatch {
                    root: root.to_path_buf(),
                    running: env.region,
                    wanted: region.to_string(),
                });
            }
            return Ok(UpReport::new(root, pid, env, true));
        }
        LocalStatus::Unhealthy { pid, problem } => {
            return Err(LocalError::Daemon {
                pid,
                problem: format!("{problem}; run `bodyline local down`, then `up` again"),
                log: log_file(root),
            });
        }
        LocalStatus::Stopped => {}
    }
    // A stale file would make the wait below return at once.
    remove_if_present(&LocalEnv::path(root))?;
    let log = log_file(root);
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log)
        .map_err(|e| LocalError::io(&log, e))?;
    let err = out.try_clone().map_err(|e| LocalError::io(&log, e))?;
    {
        use std::os::unix::process::CommandExt;
        // Its own process group: a ctrl-c in the user's terminal does not reach it, and
        // `down` can signal it and its moto together.
        serve_command.process_group(0);
    }
    let mut child = serve_command
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| LocalError::io(PathBuf::from(serve_command.get_program()), e))?;
    let pid = child.id();
    write_pid(root, pid)?;

    let client = http_client();
    let began = Instant::now();
    loop {
        if let Ok(Some(exit)) = child.try_wait() {
            let _ = std::fs::remove_file(pid_file(root));
            return Err(LocalError::Daemon {
                pid,
                problem: format!("it exited with {exit}"),
                log,
            });
        }
        if let Ok(env) = LocalEnv::read(root) {
            if is_healthy(&client, &env).await {
                return Ok(UpReport::new(root, pid, env, false));
            }
        }
        if began.elapsed() > UP_TIMEOUT {
            let _ = sys::kill_group(pid, Signal::Kill);
            let _ = std::fs::remove_file(pid_file(root));
            return Err(LocalError::Daemon {
                pid,
                problem: format!("it did not answer within {}s", UP_TIMEOUT.as_secs()),
                log,
            });
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Stops the background local stack of `root`: SIGTERM, a grace period, then SIGKILL to its
/// whole process group; removes `local.env` and the pid file. Returns the pid it stopped, or
/// `None` if nothing was running.
pub async fn down(root: &Path) -> Result<Option<u32>, LocalError> {
    let stopped = match read_pid(root)? {
        Some(pid) if is_our_serve(pid) => {
            sys::kill(pid, Signal::Term).map_err(|e| LocalError::io(pid_file(root), e))?;
            let began = Instant::now();
            while sys::is_alive(pid) && began.elapsed() < DOWN_GRACE {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            if sys::is_alive(pid) {
                // The process group is the serve process's pid (see `up`); moto is in it.
                let _ = sys::kill_group(pid, Signal::Kill);
            }
            Some(pid)
        }
        _ => None,
    };
    remove_if_present(&LocalEnv::path(root))?;
    remove_if_present(&pid_file(root))?;
    Ok(stopped)
}

/// Whether the local stack of `root` runs and answers.
pub async fn status(root: &Path) -> Result<LocalStatus, LocalError> {
    let Some(pid) = read_pid(root)? else {
        return Ok(LocalStatus::Stopped);
    };
    if !is_our_serve(pid) {
        return Ok(LocalStatus::Stopped);
    }
    let env = match LocalEnv::read(root) {
        Ok(env) => env,
        Err(StackError::LocalStackNotRunning { .. }) => {
            return Ok(LocalStatus::Unhealthy {
                pid,
                problem: "it has not written local.env yet".to_string(),
            })
        }
        Err(e) => return Err(e.into()),
    };
    if is_healthy(&http_client(), &env).await {
        Ok(LocalStatus::Running { pid, env })
    } else {
        Ok(LocalStatus::Unhealthy {
            pid,
            problem: format!("{} does not answer", env.endpoint_url),
        })
    }
}

/// Runs the local stack in the foreground until `shutdown` completes: what
/// `bodyline local serve` (and so `up`) runs. Writes the pid file; `ready` sees the variables
/// once clients can connect.
pub async fn serve(
    opts: LocalOptions,
    ready: impl FnOnce(&LocalEnv),
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LocalError> {
    if std::env::var_os(FRONT_DOOR_PROCESS_VAR).is_some() {
        // This process is the front door that a `serve` supervisor started.
        return run_front_door_process(&opts.root, shutdown).await;
    }
    let root = opts.root.clone();
    let mut opts = opts;
    opts.front_door_process = true;
    let stack = LocalStack::start(opts).await?;
    let pid = std::process::id();
    write_pid(&root, pid)?;
    ready(stack.env());
    shutdown.await;
    tracing::info!("stopping the local stack");
    stack.stop().await;
    if read_pid(&root).ok().flatten() == Some(pid) {
        let _ = std::fs::remove_file(pid_file(&root));
    }
    Ok(())
}

/// Completes on ctrl-c or SIGTERM: the shutdown signal for [`serve`].
pub async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(err) => {
                tracing::warn!(error = %err, "cannot listen for SIGTERM; ctrl-c only");
                std::future::pending::<()>().await;
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

/// A live process started as `... serve ...` (`bodyline local serve`).
fn is_our_serve(pid: u32) -> bool {
    sys::is_alive(pid) && sys::has_argument(pid, "serve")
}

/// Whether `root`'s `local.env` names a local stack that answers, whoever serves it: a daemon
/// of [`up`], `bodyline local serve` in a terminal, or a program that embeds [`LocalStack`]
/// (such as the test harness), which keeps no pid file. Commands that need a stack use this
/// before [`up`], which would otherwise start a second one and take `local.env` away from it.
///
/// [`LocalStack`]: crate::LocalStack
pub async fn answers(root: &Path) -> bool {
    match LocalEnv::read(root) {
        Ok(env) => is_healthy(&http_client(), &env).await,
        Err(_) => false,
    }
}

async fn is_healthy(client: &reqwest::Client, env: &LocalEnv) -> bool {
    let url = format!("{}{HEALTH_PATH}", env.endpoint_url.trim_end_matches('/'));
    client
        .get(url)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Holds `<root>/.bodyline/local.lock` until dropped.
async fn lock_project(root: &Path) -> Result<std::fs::File, LocalError> {
    let path = ProjectDir::new(root).file("local.lock");
    tokio::task::spawn_blocking(move || {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| LocalError::io(&path, e))?;
        sys::lock_exclusive(&file).map_err(|e| LocalError::io(&path, e))?;
        Ok(file)
    })
    .await
    .map_err(|e| LocalError::Task {
        task: "project lock",
        message: e.to_string(),
    })?
}

fn read_pid(root: &Path) -> Result<Option<u32>, LocalError> {
    let path = pid_file(root);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(text.trim().parse().ok()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LocalError::io(path, e)),
    }
}

fn write_pid(root: &Path, pid: u32) -> Result<(), LocalError> {
    let path = pid_file(root);
    std::fs::write(&path, format!("{pid}\n")).map_err(|e| LocalError::io(path, e))
}

fn remove_if_present(path: &Path) -> Result<(), LocalError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(LocalError::io(path, e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_project_without_a_pid_file_is_stopped() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(
            status(dir.path()).await.expect("status"),
            LocalStatus::Stopped
        );
        assert_eq!(down(dir.path()).await.expect("down"), None);
    }

    #[tokio::test]
    async fn a_dead_pid_is_stopped_and_down_cleans_up() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(ProjectDir::new(dir.path()).dot_dir()).expect("mkdir");
        let mut child = Command::new("true").spawn().expect("spawn true");
        let pid = child.id();
        child.wait().expect("wait");
        write_pid(dir.path(), pid).expect("pid file");
        std::fs::write(LocalEnv::path(dir.path()), "stale").expect("env file");
        assert_eq!(
            status(dir.path()).await.expect("status"),
            LocalStatus::Stopped
        );
        assert_eq!(down(dir.path()).await.expect("down"), None);
        assert!(!pid_file(dir.path()).exists());
        assert!(!LocalEnv::path(dir.path()).exists());
    }
}
