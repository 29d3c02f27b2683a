//! Model servers behind endpoints: started from `BODYLINE_LOCAL_COMMAND` as `<command> serve`
//! on a free port and kept alive, or reached at `BODYLINE_LOCAL_URL`.
//!
//! One supervisor task per model owns the child process: it waits for `GET /ping`, publishes
//! the server's URL, and when the process exits it records how and starts it again (with a
//! growing pause, so a model that cannot start does not spin).
//!
//! When the runtime runs in the front door's own process ([`Adoption`]), a model server lives
//! as long as the stack's supervisor, not as long as the runtime: it is told to exit with the
//! supervisor's pid, and recorded under the runtime's state directory. A runtime started again
//! after a crash takes over a recorded server that still answers instead of starting another,
//! so the death of the front door does not take the model servers with it (as on SageMaker,
//! where the container does not die with the service in front of it).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::endpoints::ModelInfo;

use bodyline_terms::{LOCAL_COMMAND_VAR as COMMAND_VAR, LOCAL_URL_VAR as URL_VAR};

/// How long a started server has to answer `/ping`.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// Pauses between restarts: from the first to the last, doubling.
const RESTART_PAUSE: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// What a supervisor says about its server.
#[derive(Debug, Clone)]
pub(crate) enum HostState {
    Starting,
    Ready { url: String, generation: u64 },
    Down { reason: String },
}

/// One model server.
pub(crate) struct ModelHost {
    state: watch::Receiver<HostState>,
    /// How the last process ended, with its generation.
    last_exit: Arc<Mutex<Option<(u64, String)>>>,
    /// Whether the runtime runs the process (not a `BODYLINE_LOCAL_URL` server).
    supervised: bool,
}

impl ModelHost {
    /// Waits until the server is ready, at most `timeout`; the error says what is wrong.
    pub(crate) async fn ready(&self, timeout: Duration) -> Result<(String, u64), String> {
        let mut state = self.state.clone();
        let wait = async {
            loop {
                if let HostState::Ready { url, generation } = &*state.borrow_and_update() {
                    return Ok((url.clone(), *generation));
                }
                if state.changed().await.is_err() {
                    return Err(
                        "the model supervisor stopped (the runtime is shutting down)".to_string(),
                    );
                }
            }
        };
        match tokio::time::timeout(timeout, wait).await {
            Ok(result) => result,
            Err(_) => Err(match &*self.state.borrow() {
                HostState::Down { reason } => reason.clone(),
                _ => format!(
                    "the model server did not become ready within {} s",
                    timeout.as_secs()
                ),
            }),
        }
    }

    /// After a failed call to generation `generation`: how the process died, if it did. Waits
    /// briefly, since the supervisor may see the exit a moment after the connection broke.
    pub(crate) async fn exit_of(&self, generation: u64) -> Option<String> {
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            if let Ok(last) = self.last_exit.lock() {
                if let Some((g, how)) = last.as_ref() {
                    if *g == generation {
                        return Some(how.clone());
                    }
                }
            }
            if !self.supervised || Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// How a model is reached.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Launch {
    Url(String),
    Command {
        program: PathBuf,
        args: Vec<String>,
        env: BTreeMap<String, String>,
    },
}

/// Model servers that outlive the runtime: they exit with `anchor` (the stack's supervisor)
/// and are recorded in `registry` for the next runtime to take over.
#[derive(Debug, Clone)]
pub(crate) struct Adoption {
    pub anchor: u32,
    pub registry: PathBuf,
}

/// A recorded model server: its process and port.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct Recorded {
    pid: u32,
    port: u16,
}

/// All model servers, by model.
pub(crate) struct Models {
    hosts: Mutex<HashMap<Launch, Arc<ModelHost>>>,
    adoption: Option<Adoption>,
    log_dir: PathBuf,
    http: reqwest::Client,
    shutdown: CancellationToken,
    tasks: tokio_util::task::TaskTracker,
}

impl Models {
    pub(crate) fn new(
        log_dir: PathBuf,
        http: reqwest::Client,
        adoption: Option<Adoption>,
    ) -> Models {
        Models {
            hosts: Mutex::new(HashMap::new()),
            adoption,
            log_dir,
            http,
            shutdown: CancellationToken::new(),
            tasks: tokio_util::task::TaskTracker::new(),
        }
    }

    /// The host for `model`, starting its server on first use.
    pub(crate) fn host(&self, model: &ModelInfo) -> Result<Arc<ModelHost>, String> {
        let launch = launch(model)?;
        let mut hosts = self
            .hosts
            .lock()
            .map_err(|_| "the model table lock is poisoned".to_string())?;
        if let Some(host) = hosts.get(&launch) {
            return Ok(host.clone());
        }
        let host = match &launch {
            Launch::Url(url) => {
                let (_, rx) = watch::channel(HostState::Ready {
                    url: url.trim_end_matches('/').to_string(),
                    generation: 0,
                });
                Arc::new(ModelHost {
                    state: rx,
                    last_exit: Arc::default(),
                    supervised: false,
                })
            }
            Launch::Command { program, args, env } => {
                let (tx, rx) = watch::channel(HostState::Starting);
                let host = Arc::new(ModelHost {
                    state: rx,
                    last_exit: Arc::default(),
                    supervised: true,
                });
                let supervisor = Supervisor {
                    record: self
                        .adoption
                        .as_ref()
                        .map(|a| a.registry.join(format!("{}.json", fingerprint(&launch)))),
                    anchor: self.adoption.as_ref().map(|a| a.anchor),
                    model: model.name.clone(),
                    program: program.clone(),
                    args: args.clone(),
                    env: env.clone(),
                    log: self.log_dir.join(format!("{}.log", model.name)),
                    http: self.http.clone(),
                    state: tx,
                    last_exit: host.last_exit.clone(),
                    shutdown: self.shutdown.clone(),
                };
                self.tasks.spawn(supervisor.run());
                host
            }
        };
        hosts.insert(launch, host.clone());
        Ok(host)
    }

    /// Stops every model process the runtime started and waits for them to be gone.
    pub(crate) async fn shutdown(&self) {
        self.shutdown.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

fn launch(model: &ModelInfo) -> Result<Launch, String> {
    if let Some(url) = model.environment.get(URL_VAR) {
        return Ok(Launch::Url(url.clone()));
    }
    let Some(command) = model.environment.get(COMMAND_VAR) else {
        return Err(format!(
            "model {} has neither {COMMAND_VAR} nor {URL_VAR} in its container environment; the local runtime needs one of them to run it",
            model.name
        ));
    };
    let mut words = command.split_whitespace();
    let program = words
        .next()
        .ok_or_else(|| format!("model {}: {COMMAND_VAR} is empty", model.name))?;
    let program = resolve_program(program).ok_or_else(|| {
        format!(
            "model {}: the command {program:?} of {COMMAND_VAR} was found neither next to the runtime's executable nor on PATH",
            model.name
        )
    })?;
    let env = model
        .environment
        .iter()
        .filter(|(k, _)| !k.starts_with("BODYLINE_LOCAL_"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Ok(Launch::Command {
        program,
        args: words.map(str::to_string).collect(),
        env,
    })
}

/// A path is used as given; a bare name is looked up next to the current executable (and, for
/// a test binary in `target/<profile>/deps`, in `target/<profile>`), then on `PATH`.
fn resolve_program(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        let path = PathBuf::from(program);
        return path.is_file().then_some(path);
    }
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        if dir.file_name().is_some_and(|n| n == "deps") {
            if let Some(parent) = dir.parent() {
                dirs.push(dir.clone());
                dirs.push(parent.to_path_buf());
            }
        } else {
            dirs.push(dir);
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        dirs.extend(std::env::split_paths(&path));
    }
    dirs.into_iter()
        .map(|d| d.join(program))
        .find(|p| p.is_file())
}

/// A name for a launch that stays the same across runtimes of one build: the key of its record.
fn fingerprint(launch: &Launch) -> String {
    use std::hash::{Hash, Hasher};
    // DefaultHasher::new() uses fixed keys: the same launch hashes the same in every process.
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    launch.hash(&mut hasher);
    format!("{:016x}", hasher.finish())
}

struct Supervisor {
    /// Where this model's server is recorded for a later runtime (with [`Adoption`]).
    record: Option<PathBuf>,
    /// The process the server exits with (with [`Adoption`]); else it exits with the runtime.
    anchor: Option<u32>,
    model: String,
    program: PathBuf,
    args: Vec<String>,
    env: BTreeMap<String, String>,
    log: PathBuf,
    http: reqwest::Client,
    state: watch::Sender<HostState>,
    last_exit: Arc<Mutex<Option<(u64, String)>>>,
    shutdown: CancellationToken,
}

impl Supervisor {
    async fn run(self) {
        let mut generation = 0;
        let mut pause = RESTART_PAUSE.0;
        while !self.shutdown.is_cancelled() {
            if self.anchor.is_some_and(|pid| !crate::sys::is_alive(pid)) {
                // The stack's supervisor is gone: a new server would only exit again (and
                // could take a port the restored stack wants back).
                break;
            }
            generation += 1;
            let started = Instant::now();
            let reason = self.run_once(generation).await;
            if self.shutdown.is_cancelled() {
                break;
            }
            tracing::warn!(model = %self.model, %reason, "model server is down; restarting");
            let _ = self.state.send(HostState::Down { reason });
            // A server that ran for a while earns a quick restart; one that keeps dying waits longer.
            pause = if started.elapsed() > Duration::from_secs(30) {
                RESTART_PAUSE.0
            } else {
                (pause * 2).min(RESTART_PAUSE.1)
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.shutdown.cancelled() => break,
            }
            let _ = self.state.send(HostState::Starting);
        }
    }

    /// Runs one server process until it exits or the runtime shuts down; returns why it ended.
    async fn run_once(&self, generation: u64) -> String {
        if let Some(taken) = self.take_over().await {
            return self.watch_taken_over(generation, taken).await;
        }
        let port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
            Ok(addr) => addr.port(),
            Err(e) => return format!("no free port for the model server: {e}"),
        };
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log);
        let (stdout, stderr) = match log.and_then(|f| Ok((f.try_clone()?, f))) {
            Ok((out, err)) => (Stdio::from(out), Stdio::from(err)),
            Err(_) => (Stdio::null(), Stdio::null()),
        };
        let mut command = tokio::process::Command::new(&self.program);
        command
            .args(&self.args)
            .arg("serve")
            .envs(&self.env)
            .env("SAGEMAKER_BIND_TO_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .kill_on_drop(true);
        match self.anchor {
            Some(pid) => command.env("BODYLINE_MODEL_EXIT_WITH_PID", pid.to_string()),
            None => command.env("BODYLINE_MODEL_EXIT_WITH_PARENT", "1"),
        };
        let mut child = match command.spawn() {
            Ok(child) => child,
            Err(e) => {
                return format!(
                    "model {}: cannot start {} serve: {e}",
                    self.model,
                    self.program.display()
                )
            }
        };
        let url = format!("http://127.0.0.1:{port}");
        let ping = format!("{url}/ping");
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return self.exited(
                    generation,
                    format!("exited during start ({status}); see {}", self.log.display()),
                );
            }
            if Instant::now() > deadline {
                let _ = child.kill().await;
                return format!(
                    "model {}: the server did not answer {ping} within {} s; see {}",
                    self.model,
                    START_TIMEOUT.as_secs(),
                    self.log.display()
                );
            }
            if self.shutdown.is_cancelled() {
                let _ = child.kill().await;
                return "the runtime is shutting down".into();
            }
            match self
                .http
                .get(&ping)
                .timeout(Duration::from_secs(2))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => break,
                _ => tokio::time::sleep(Duration::from_millis(25)).await,
            }
        }
        tracing::info!(model = %self.model, %url, "model server ready");
        if let Some(pid) = child.id() {
            self.remember(Recorded { pid, port });
        }
        let _ = self.state.send(HostState::Ready { url, generation });
        let ended = tokio::select! {
            status = child.wait() => {
                let how = match status {
                    Ok(status) => format!("exited ({status})"),
                    Err(e) => format!("could not be waited for: {e}"),
                };
                self.exited(generation, how)
            }
            _ = self.shutdown.cancelled() => {
                let _ = child.kill().await;
                "the runtime is shutting down".into()
            }
        };
        self.forget();
        ended
    }

    /// The recorded server of an earlier runtime, when it still runs and answers `/ping`.
    async fn take_over(&self) -> Option<(Recorded, String)> {
        let path = self.record.as_ref()?;
        let recorded: Recorded = serde_json::from_slice(&std::fs::read(path).ok()?).ok()?;
        let url = format!("http://127.0.0.1:{}", recorded.port);
        let answers = crate::sys::is_alive(recorded.pid)
            && self
                .http
                .get(format!("{url}/ping"))
                .timeout(Duration::from_secs(2))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
        if answers {
            Some((recorded, url))
        } else {
            self.forget();
            None
        }
    }

    /// Serves a taken-over server until its process is gone or the runtime shuts down. It is
    /// not this process's child, so its exit is seen by polling.
    async fn watch_taken_over(
        &self,
        generation: u64,
        (recorded, url): (Recorded, String),
    ) -> String {
        tracing::info!(model = %self.model, %url, pid = recorded.pid, "took over the running model server");
        let _ = self.state.send(HostState::Ready { url, generation });
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(100)) => {
                    if !crate::sys::is_alive(recorded.pid) {
                        self.forget();
                        return self.exited(generation, "exited".to_string());
                    }
                }
                _ = self.shutdown.cancelled() => {
                    let _ = crate::sys::kill(recorded.pid, crate::sys::Signal::Term);
                    self.forget();
                    return "the runtime is shutting down".into();
                }
            }
        }
    }

    fn remember(&self, recorded: Recorded) {
        let Some(path) = &self.record else { return };
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, serde_json::to_vec(&recorded).unwrap_or_default()));
        if let Err(e) = written {
            // Not fatal: a later runtime then starts a new server instead of taking this one.
            tracing::warn!(model = %self.model, path = %path.display(), "cannot record the model server: {e}");
        }
    }

    fn forget(&self) {
        if let Some(path) = &self.record {
            let _ = std::fs::remove_file(path);
        }
    }

    fn exited(&self, generation: u64, how: String) -> String {
        let reason = format!("model {}: the server process {how}", self.model);
        if let Ok(mut last) = self.last_exit.lock() {
            *last = Some((generation, reason.clone()));
        }
        reason
    }
}
