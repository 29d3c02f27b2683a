//! Running moto: through bodyline's launcher (`moto_persist.py`: moto's state logged to disk
//! and replayed when it starts again), on a listening socket the supervisor keeps, with IAM
//! enforcement armed from the first request after the bootstrap, and a health check.

use std::fs::OpenOptions;
use std::net::{Ipv4Addr, TcpListener};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::process::Child;
use crate::sys;
use crate::LocalError;

/// How many requests moto serves before it enforces IAM: exactly the bootstrap's calls
/// (`CreateUser`, `PutUserPolicy`, `CreateAccessKey`). Calls to `/moto-api/` do not count.
pub(crate) const UNAUTHENTICATED_CALLS: u32 = 3;

/// How long moto may take to answer after start; a first start after an install compiles
/// Python bytecode on a busy machine.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// What starting moto needs; kept so a dead moto is started again exactly the same way.
#[derive(Debug, Clone)]
pub(crate) struct MotoLaunch {
    /// The virtualenv's Python, which has moto installed.
    pub python: PathBuf,
    /// `<state>/moto_persist.py`, written from this crate.
    pub launcher: PathBuf,
    /// Where moto's change log and restore report live.
    pub state_dir: PathBuf,
    /// moto's listening socket, bound once by the supervisor for the life of the stack: a
    /// restarted moto serves on the same port, and connections made while it is down wait in
    /// the socket's backlog instead of being refused.
    pub listener: Arc<TcpListener>,
    /// moto's log file (appended to across restarts).
    pub log: PathBuf,
}

/// The launcher script: moto with its state logged and replayed (see the script's own doc).
const LAUNCHER: &str = include_str!("moto_persist.py");

impl MotoLaunch {
    /// A launch of the moto installed beside `moto_server`, serving on `listener`, keeping its
    /// state in `state_dir`.
    pub(crate) fn new(
        moto_server: &Path,
        listener: TcpListener,
        state_dir: &Path,
        log: &Path,
    ) -> Result<MotoLaunch, LocalError> {
        std::fs::create_dir_all(state_dir).map_err(|e| LocalError::io(state_dir, e))?;
        let launcher = state_dir.join("moto_persist.py");
        std::fs::write(&launcher, LAUNCHER).map_err(|e| LocalError::io(&launcher, e))?;
        Ok(MotoLaunch {
            python: moto_server.with_file_name("python"),
            launcher,
            state_dir: state_dir.to_path_buf(),
            listener: Arc::new(listener),
            log: log.to_path_buf(),
        })
    }

    /// `http://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        let port = self.listener.local_addr().map_or(0, |a| a.port());
        format!("http://127.0.0.1:{port}")
    }

    /// Starts one moto process (which first replays the change log) and waits until it answers.
    pub(crate) async fn start(&self) -> Result<Child, LocalError> {
        let url = self.url();
        let error = |problem: String| LocalError::Moto {
            url: url.clone(),
            problem,
            log: self.log.clone(),
        };
        let log_file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| LocalError::io(&self.log, e))?;
        let log_err = log_file
            .try_clone()
            .map_err(|e| LocalError::io(&self.log, e))?;
        let port = url.rsplit(':').next().unwrap_or_default().to_string();
        let mut command = Command::new(&self.python);
        command
            .arg(&self.launcher)
            .arg("--state")
            .arg(&self.state_dir)
            .args(["--fd", &sys::INHERITED_FD.to_string()])
            .env(
                "INITIAL_NO_AUTH_ACTION_COUNT",
                UNAUTHENTICATED_CALLS.to_string(),
            )
            .env("MOTO_PORT", port)
            .env("PYTHONUNBUFFERED", "1")
            .stdin(Stdio::null())
            .stdout(log_file)
            .stderr(log_err);
        sys::pass_listener(&mut command, self.listener.as_raw_fd());
        let child = Child::spawn(command, "moto").map_err(|e| {
            error(format!(
                "could not be started with {}: {e}",
                self.python.display()
            ))
        })?;
        wait_ready(&child, &url).await.map_err(error)?;
        Ok(child)
    }
}

async fn wait_ready(child: &Child, url: &str) -> Result<(), String> {
    let client = http_client();
    let health = format!("{url}/moto-api/");
    let start = Instant::now();
    loop {
        if child.has_exited() {
            return Err("exited during start".to_string());
        }
        // /moto-api/ does not count against INITIAL_NO_AUTH_ACTION_COUNT.
        if let Ok(response) = client.get(&health).send().await {
            if response.status().is_success() {
                tracing::debug!(%url, elapsed = ?start.elapsed(), "moto ready");
                return Ok(());
            }
        }
        if start.elapsed() > READY_TIMEOUT {
            return Err(format!(
                "did not answer {health} within {}s",
                READY_TIMEOUT.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What the last moto start could not bring back from its change log.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub(crate) struct RestoreReport {
    /// How many changes were replayed.
    pub replayed: u64,
    /// The changes that failed on replay.
    #[serde(default)]
    pub failures: Vec<serde_json::Value>,
}

impl RestoreReport {
    /// `<state>/restore.json`, if moto has written one.
    pub(crate) fn read(state_dir: &Path) -> Option<RestoreReport> {
        let text = std::fs::read_to_string(state_dir.join("restore.json")).ok()?;
        serde_json::from_str(&text).ok()
    }
}

/// Whether `state_dir` holds changes to replay.
pub(crate) fn has_changes(state_dir: &Path) -> bool {
    std::fs::metadata(state_dir.join("changes.jsonl")).is_ok_and(|m| m.len() > 0)
}

/// A listening socket on a free 127.0.0.1 port, or on `port` when one is asked for (a
/// restored stack keeps its URLs). An asked-for port may still be held for a moment by the
/// crashed stack's last processes (each exits once it sees its supervisor gone), so it is
/// retried for a few seconds before the error.
pub(crate) async fn listen(port: u16) -> Result<TcpListener, LocalError> {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match TcpListener::bind((Ipv4Addr::LOCALHOST, port)) {
            Err(e)
                if port != 0
                    && e.kind() == std::io::ErrorKind::AddrInUse
                    && std::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            bound => return bound.map_err(|e| LocalError::io(format!("127.0.0.1:{port}"), e)),
        }
    }
}

/// A plain HTTP client for loopback health checks: no proxy from the environment.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()
        .unwrap_or_default()
}
