//! Running `moto_server`: a free loopback port, IAM enforcement armed from the first request, a
//! health check, and a stop by PID that leaves no process behind.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::sys::{self, Signal};
use crate::LocalError;

/// How many requests moto serves before it enforces IAM: exactly the bootstrap's calls
/// (`CreateUser`, `PutUserPolicy`, `CreateAccessKey`). Calls to `/moto-api/` do not count.
pub(crate) const UNAUTHENTICATED_CALLS: u32 = 3;

/// How long moto may take to answer after start; a first start after an install compiles
/// Python bytecode on a busy machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long `stop` waits after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(5);

/// A running `moto_server`. Dropping it kills the process.
#[derive(Debug)]
pub(crate) struct MotoProcess {
    pid: u32,
    url: String,
    log: PathBuf,
    /// Becomes `true` once the reaper thread has collected the exit status.
    exited: watch::Receiver<bool>,
}

impl MotoProcess {
    /// Starts `moto_server` on a free 127.0.0.1 port and waits until it answers. A port taken
    /// between choosing and binding it makes moto exit; that is retried on another port.
    pub(crate) async fn start(moto_server: &Path, log: &Path) -> Result<MotoProcess, LocalError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let moto = spawn(moto_server, log)?;
            match moto.wait_ready().await {
                Ok(()) => return Ok(moto),
                Err(err) if attempt < 3 && moto.has_exited() => {
                    tracing::warn!(error = %err, "moto exited during start, trying another port");
                }
                Err(err) => {
                    moto.stop().await;
                    return Err(err);
                }
            }
        }
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// The process id of `moto_server`.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    fn has_exited(&self) -> bool {
        *self.exited.borrow()
    }

    async fn wait_ready(&self) -> Result<(), LocalError> {
        let client = http_client();
        let health = format!("{}/moto-api/", self.url);
        let start = Instant::now();
        loop {
            if self.has_exited() {
                return Err(self.error("exited during start (is the port taken?)"));
            }
            // /moto-api/ does not count against INITIAL_NO_AUTH_ACTION_COUNT.
            if let Ok(response) = client.get(&health).send().await {
                if response.status().is_success() {
                    tracing::debug!(url = %self.url, elapsed = ?start.elapsed(), "moto ready");
                    return Ok(());
                }
            }
            if start.elapsed() > READY_TIMEOUT {
                return Err(self.error(&format!(
                    "did not answer {health} within {}s",
                    READY_TIMEOUT.as_secs()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, a grace period, then SIGKILL; returns once the process is reaped.
    pub(crate) async fn stop(mut self) {
        if !self.has_exited() {
            let _ = sys::kill(self.pid, Signal::Term);
            let exited = self.exited.clone();
            if !wait_exited(exited, TERM_GRACE).await {
                let _ = sys::kill(self.pid, Signal::Kill);
                wait_exited(self.exited.clone(), TERM_GRACE).await;
            }
        }
        // Nothing left for Drop to do.
        self.pid = 0;
    }

    fn error(&self, problem: &str) -> LocalError {
        LocalError::Moto {
            url: self.url.clone(),
            problem: problem.to_string(),
            log: self.log.clone(),
        }
    }
}

impl Drop for MotoProcess {
    fn drop(&mut self) {
        if self.pid != 0 && !self.has_exited() {
            // No await in drop: kill outright; the reaper thread collects the status.
            let _ = sys::kill(self.pid, Signal::Kill);
        }
    }
}

async fn wait_exited(mut exited: watch::Receiver<bool>, limit: Duration) -> bool {
    tokio::time::timeout(limit, exited.wait_for(|done| *done))
        .await
        .is_ok_and(|r| r.is_ok())
}

/// Spawns moto from a dedicated thread that then waits for it. The thread lives exactly as
/// long as the process, which matters for the parent-death signal: Linux sends it when the
/// spawning *thread* ends, so spawning from a pooled thread could kill moto at random.
fn spawn(moto_server: &Path, log: &Path) -> Result<MotoProcess, LocalError> {
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let log_file = File::create(log).map_err(|e| LocalError::io(log, e))?;
    let log_err = log_file.try_clone().map_err(|e| LocalError::io(log, e))?;
    let mut command = Command::new(moto_server);
    command
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .env(
            "INITIAL_NO_AUTH_ACTION_COUNT",
            UNAUTHENTICATED_CALLS.to_string(),
        )
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err);
    sys::die_with_parent(&mut command);

    let (pid_tx, pid_rx) = std::sync::mpsc::channel();
    let (exited_tx, exited_rx) = watch::channel(false);
    let thread = std::thread::Builder::new()
        .name(format!("moto-{port}"))
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = pid_tx.send(Ok(child.id()));
                let status = child.wait();
                tracing::debug!(?status, port, "moto exited");
                let _ = exited_tx.send(true);
            }
            Err(err) => {
                let _ = pid_tx.send(Err(err));
            }
        });
    let spawn_error = |message: String| LocalError::Moto {
        url: url.clone(),
        problem: format!(
            "could not be started from {}: {message}",
            moto_server.display()
        ),
        log: log.to_path_buf(),
    };
    thread.map_err(|e| spawn_error(e.to_string()))?;
    let pid = pid_rx
        .recv()
        .map_err(|e| spawn_error(e.to_string()))?
        .map_err(|e| spawn_error(e.to_string()))?;
    Ok(MotoProcess {
        pid,
        url,
        log: log.to_path_buf(),
        exited: exited_rx,
    })
}

/// A port the OS reports free on 127.0.0.1. Another process may take it before moto binds it;
/// [`MotoProcess::start`] retries then.
pub(crate) fn free_port() -> Result<u16, LocalError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| LocalError::io("127.0.0.1:0", e))?;
    let port = listener
        .local_addr()
        .map_err(|e| LocalError::io("127.0.0.1:0", e))?
        .port();
    Ok(port)
}

/// A plain HTTP client for loopback health checks: no proxy from the environment.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap_or_default()
}
