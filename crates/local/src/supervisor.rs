//! The supervisor: [`LocalStack::start`] brings up moto, its bootstrap (or, after a crash, the
//! saved state), the runtime and the front door in order, keeps moto (and, for `bodyline local
//! serve`, the front door's own process) running, and stopping (or dropping) the handle takes
//! them down.
//!
//! Process layout of `bodyline local serve`: this supervisor holds both listening sockets and
//! runs two children, moto (through `moto_persist.py`) and the front door with the runtime (the
//! same executable, re-run with [`FRONT_DOOR_PROCESS_VAR`]); the runtime runs the model
//! servers. A child that dies is started again on the same socket, so URLs and `local.env` stay
//! valid and connections made meanwhile wait in the backlog.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use bodyline_stack::LocalEnv;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use std::os::fd::AsRawFd;
use std::sync::Arc;

use crate::bootstrap::{self, Admin};
use crate::front_door::{serve_front_door, FrontDoorState, HEALTH_PATH};
use crate::moto::{self, MotoLaunch};
use crate::process::{Child, Kept, Starting};
use crate::record::{self, StackRecord};
use crate::runtime::{self, Runtime, RuntimeConfig};
use crate::{install, sys, LocalError};
use bodyline_stack::ProjectDir;

/// The `extra` variable of `local.env` with moto's own URL (bypassing the front door).
pub const MOTO_URL_VAR: &str = "BODYLINE_MOTO_URL";
/// The `extra` variable of `local.env` with the administrator's ARN (local trust policies
/// name it, because moto's `AssumeRole` needs an `AWS` principal).
pub const ADMIN_ARN_VAR: &str = "BODYLINE_LOCAL_ADMIN_ARN";

/// How to start a local stack.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct LocalOptions {
    /// The project root; state lives in `<root>/.bodyline/`.
    pub root: PathBuf,
    /// The region clients sign for.
    pub region: String,
    /// moto's virtualenv; `None` means [`default_venv`](crate::default_venv).
    pub venv: Option<PathBuf>,
    /// Whether to write `<root>/.bodyline/local.env` (and remove it on stop).
    pub write_env: bool,
    /// Whether the front door and runtime run in their own, supervised process (`serve`).
    pub(crate) front_door_process: bool,
}

impl LocalOptions {
    /// Options for the project at `root` in `region`, writing `local.env`.
    pub fn new(root: impl Into<PathBuf>, region: impl Into<String>) -> LocalOptions {
        LocalOptions {
            root: root.into(),
            region: region.into(),
            venv: None,
            write_env: true,
            front_door_process: false,
        }
    }

    /// Uses the virtualenv `venv` for moto.
    pub fn with_venv(mut self, venv: impl Into<PathBuf>) -> LocalOptions {
        self.venv = Some(venv.into());
        self
    }

    /// Whether to write `local.env`.
    pub fn with_env_file(mut self, write: bool) -> LocalOptions {
        self.write_env = write;
        self
    }

    fn venv_dir(&self) -> PathBuf {
        self.venv
            .clone()
            .unwrap_or_else(|| install::default_venv(&self.root))
    }
}

/// A running local stack: moto (IAM enforced), the runtime and the front door. [`stop`] or
/// drop it to take everything down; moto also dies with this process.
///
/// [`stop`]: LocalStack::stop
pub struct LocalStack {
    env: LocalEnv,
    root: PathBuf,
    admin_arn: String,
    wrote_env: bool,
    restored: bool,
    moto: Option<Kept>,
    front_door: Option<FrontDoor>,
}

impl std::fmt::Debug for LocalStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStack")
            .field("endpoint_url", &self.env.endpoint_url)
            .field("moto_pid", &self.moto_pid())
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl LocalStack {
    /// Installs moto if needed, starts it with IAM enforcement, creates the administrator (or,
    /// when a crashed stack left its record and moto's change log, restores that stack on the
    /// same ports with the same keys), starts the runtime and the front door, and writes
    /// `local.env` (unless turned off).
    pub async fn start(opts: LocalOptions) -> Result<LocalStack, LocalError> {
        let began = Instant::now();
        let dot = ProjectDir::new(&opts.root).dot_dir();
        tokio::fs::create_dir_all(&dot)
            .await
            .map_err(|e| LocalError::io(&dot, e))?;

        let venv = opts.venv_dir();
        let moto_server = tokio::task::spawn_blocking(move || install::install(&venv))
            .await
            .map_err(|e| LocalError::Task {
                task: "moto install",
                message: e.to_string(),
            })??;
        let installed = began.elapsed();

        let state_dir = record::moto_state_dir(&opts.root);
        let previous = StackRecord::read(&opts.root)
            .filter(|r| r.region == opts.region && moto::has_changes(&state_dir));
        if previous.is_none() {
            // A change log without its record (or of another region) must not replay into a
            // fresh stack whose administrator it does not know.
            record::forget(&opts.root);
        }
        let (moto_port, front_door_port) = previous
            .as_ref()
            .map_or((0, 0), |r| (r.moto_port, r.front_door_port));
        let launch = MotoLaunch::new(
            &moto_server,
            moto::listen(moto_port).await?,
            &state_dir,
            &dot.join("moto.log"),
        )?;
        let front_listener = moto::listen(front_door_port).await?;
        let moto_url = launch.url();
        let first_moto = launch.start().await?;
        let moto_ready = began.elapsed();
        let admin = match &previous {
            Some(record) => {
                let admin = record.admin();
                bootstrap::verify(&moto_url, &opts.region, &admin)
                    .await
                    .map_err(|problem| LocalError::Restore {
                        root: opts.root.clone(),
                        state: state_dir.clone(),
                        problem: format!(
                            "the administrator's keys do not work on the restored moto: {problem}"
                        ),
                    })?;
                tracing::info!(root = %opts.root.display(), "restored the local stack from its saved state");
                admin
            }
            None => bootstrap::bootstrap(&moto_url, &opts.region).await?,
        };
        let addr = front_listener
            .local_addr()
            .map_err(|e| LocalError::io("127.0.0.1:0", e))?;
        StackRecord {
            region: opts.region.clone(),
            front_door_port: addr.port(),
            moto_port: launch.listener.local_addr().map_or(0, |a| a.port()),
            admin_arn: admin.arn.clone(),
            access_key_id: admin.access_key_id.clone(),
            secret_access_key: admin.secret_access_key.clone(),
        }
        .write(&opts.root)?;
        let moto = Kept::keep(
            "moto",
            first_moto,
            Box::new(move || -> Starting {
                let launch = launch.clone();
                Box::pin(async move { launch.start().await.map_err(|e| e.to_string()) })
            }),
        );

        let front_door = if opts.front_door_process {
            FrontDoor::Process(start_front_door_process(front_listener, &opts.root).await?)
        } else {
            let runtime = runtime::start(RuntimeConfig {
                control_plane: control_plane(&moto_url, &opts.region, &admin),
                state_dir: dot.join("runtime"),
                // The runtime is this process: its model servers go with it.
                models_outlive_runtime: None,
            })
            .await
            .map_err(|e| LocalError::Runtime {
                message: e.to_string(),
            })?;
            front_listener
                .set_nonblocking(true)
                .map_err(|e| LocalError::io("127.0.0.1:0", e))?;
            let listener = tokio::net::TcpListener::from_std(front_listener)
                .map_err(|e| LocalError::io("127.0.0.1:0", e))?;
            let state = FrontDoorState::new(&moto_url, runtime.router())
                .with_strict_s3(&control_plane(&moto_url, &opts.region, &admin));
            let (stop_tx, stop_rx) = oneshot::channel::<()>();
            let server = tokio::spawn(serve_front_door(listener, state, async move {
                let _ = stop_rx.await;
            }));
            FrontDoor::InProcess {
                runtime,
                stop: stop_tx,
                server,
            }
        };

        let env = LocalEnv {
            endpoint_url: format!("http://{addr}"),
            access_key_id: admin.access_key_id.clone(),
            secret_access_key: admin.secret_access_key.clone(),
            region: opts.region.clone(),
            extra: [
                (MOTO_URL_VAR.to_string(), moto_url.clone()),
                (ADMIN_ARN_VAR.to_string(), admin.arn.clone()),
            ]
            .into_iter()
            .collect(),
        };
        let mut stack = LocalStack {
            env,
            root: opts.root.clone(),
            admin_arn: admin.arn,
            wrote_env: false,
            restored: previous.is_some(),
            moto: Some(moto),
            front_door: Some(front_door),
        };
        if opts.write_env {
            stack.env.write(&opts.root)?;
            stack.wrote_env = true;
        }
        tracing::info!(
            endpoint = %stack.env.endpoint_url,
            moto = %stack.moto_url(),
            restored = stack.restored,
            install = ?installed,
            moto_ready = ?moto_ready,
            total = ?began.elapsed(),
            "local stack ready"
        );
        Ok(stack)
    }

    /// The variables a client needs (also in `local.env` unless turned off).
    pub fn env(&self) -> &LocalEnv {
        &self.env
    }

    /// The front door: `http://127.0.0.1:<port>`.
    pub fn endpoint_url(&self) -> &str {
        &self.env.endpoint_url
    }

    /// moto's own URL. Calls sent there skip the runtime; use [`endpoint_url`] instead.
    ///
    /// [`endpoint_url`]: LocalStack::endpoint_url
    pub fn moto_url(&self) -> &str {
        self.env.extra.get(MOTO_URL_VAR).map_or("", String::as_str)
    }

    /// The process id of moto (0 while it is being started again).
    pub fn moto_pid(&self) -> u32 {
        self.moto.as_ref().map_or(0, Kept::pid)
    }

    /// How many times moto has been started again since this stack started.
    pub fn moto_restarts(&self) -> u32 {
        self.moto.as_ref().map_or(0, Kept::restarts)
    }

    /// Whether this stack was restored from the saved state of a stack that crashed.
    pub fn restored(&self) -> bool {
        self.restored
    }

    /// The ARN of the administrator whose keys are in [`env`](LocalStack::env).
    pub fn admin_arn(&self) -> &str {
        &self.admin_arn
    }

    /// An SDK configuration for the front door with the administrator's keys.
    pub fn sdk_config(&self) -> SdkConfig {
        bodyline_stack::local_sdk_config(&self.env)
    }

    /// Stops the front door (letting in-flight requests finish), the runtime, then moto;
    /// forgets the saved state (the next start is a fresh stack) and removes `local.env` if this
    /// stack wrote it.
    pub async fn stop(mut self) {
        match self.front_door.take() {
            Some(FrontDoor::InProcess {
                runtime,
                stop,
                server,
            }) => {
                let _ = stop.send(());
                let abort = server.abort_handle();
                if tokio::time::timeout(Duration::from_secs(10), server)
                    .await
                    .is_err()
                {
                    abort.abort();
                }
                runtime.shutdown().await;
            }
            Some(FrontDoor::Process(process)) => process.stop().await,
            None => {}
        }
        if let Some(moto) = self.moto.take() {
            moto.stop().await;
        }
        record::forget(&self.root);
        self.remove_env_file();
    }

    /// Removes `local.env` only while it still describes this stack: another stack may have
    /// replaced it since.
    fn remove_env_file(&mut self) {
        if !self.wrote_env {
            return;
        }
        self.wrote_env = false;
        if LocalEnv::read(&self.root)
            .is_ok_and(|on_disk| on_disk.endpoint_url == self.env.endpoint_url)
        {
            let _ = std::fs::remove_file(LocalEnv::path(&self.root));
        }
    }
}

impl Drop for LocalStack {
    fn drop(&mut self) {
        if let Some(FrontDoor::InProcess { stop, server, .. }) = self.front_door.take() {
            let _ = stop.send(());
            server.abort();
        }
        // Kept's own Drop kills its process. A dropped stack is stopped, not crashed: only a
        // killed process leaves its saved state for the next start to restore.
        self.moto.take();
        record::forget(&self.root);
        self.remove_env_file();
    }
}

/// Where the front door and the runtime run.
enum FrontDoor {
    /// In this process (tests, benchmarks).
    InProcess {
        runtime: Runtime,
        stop: oneshot::Sender<()>,
        server: JoinHandle<std::io::Result<()>>,
    },
    /// In their own process, started again if it dies (`bodyline local serve`).
    Process(Kept),
}

/// Set (to the project root) in the environment of the front door's own process.
pub const FRONT_DOOR_PROCESS_VAR: &str = "BODYLINE_LOCAL_FRONT_DOOR";

/// Starts the front door's process: this executable with its own arguments again, marked with
/// [`FRONT_DOOR_PROCESS_VAR`], serving on `listener`; kept running.
async fn start_front_door_process(
    listener: std::net::TcpListener,
    root: &Path,
) -> Result<Kept, LocalError> {
    let exe = std::env::current_exe().map_err(|e| LocalError::io("the current executable", e))?;
    let url = format!(
        "http://{}",
        listener
            .local_addr()
            .map_err(|e| LocalError::io("127.0.0.1:0", e))?
    );
    let listener = Arc::new(listener);
    let root = root.to_path_buf();
    let launch: crate::process::Launch = Box::new(move || -> Starting {
        let mut command = std::process::Command::new(&exe);
        command
            .args(std::env::args_os().skip(1))
            .env(FRONT_DOOR_PROCESS_VAR, &root)
            .stdin(std::process::Stdio::null());
        sys::pass_listener(&mut command, listener.as_raw_fd());
        let url = url.clone();
        Box::pin(async move {
            let child = Child::spawn(command, "front door")
                .map_err(|e| format!("the front door's process could not be started: {e}"))?;
            let health = format!("{url}{HEALTH_PATH}");
            let client = crate::moto::http_client();
            let began = Instant::now();
            loop {
                if child.has_exited() {
                    return Err(
                        "the front door's process exited during start; see local.log".to_string(),
                    );
                }
                if client
                    .get(&health)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().is_success())
                {
                    return Ok(child);
                }
                if began.elapsed() > Duration::from_secs(120) {
                    return Err(format!(
                        "the front door's process did not answer {health} within 120s"
                    ));
                }
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
        })
    });
    let first = launch()
        .await
        .map_err(|problem| LocalError::Runtime { message: problem })?;
    Ok(Kept::keep("front door", first, launch))
}

/// The front door's own process: serves the runtime and the front door on the listening socket
/// its supervisor passed, for the stack recorded under `root`, until `shutdown`.
pub(crate) async fn run_front_door_process(
    root: &Path,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), LocalError> {
    let record = StackRecord::read(root).ok_or_else(|| LocalError::Runtime {
        message: format!(
            "the front door's process found no stack record at {}",
            StackRecord::path(root).display()
        ),
    })?;
    let listener = sys::inherited_listener()
        .and_then(tokio::net::TcpListener::from_std)
        .map_err(|e| LocalError::io("the inherited front door socket", e))?;
    let moto_url = format!("http://127.0.0.1:{}", record.moto_port);
    let runtime = runtime::start(RuntimeConfig {
        control_plane: control_plane(&moto_url, &record.region, &record.admin()),
        state_dir: ProjectDir::new(root).file("runtime"),
        // This process's parent is the stack's supervisor, which starts it again when it dies;
        // the model servers stay with the supervisor and the next front door takes them over.
        models_outlive_runtime: Some(std::os::unix::process::parent_id()),
    })
    .await
    .map_err(|e| LocalError::Runtime {
        message: e.to_string(),
    })?;
    let state = FrontDoorState::new(&moto_url, runtime.router()).with_strict_s3(&control_plane(
        &moto_url,
        &record.region,
        &record.admin(),
    ));
    let served = serve_front_door(listener, state, shutdown).await;
    runtime.shutdown().await;
    served.map_err(|e| LocalError::io("the front door", e))
}

/// The runtime's view of the control plane: moto directly, the administrator's keys.
fn control_plane(moto_url: &str, region: &str, admin: &Admin) -> SdkConfig {
    bodyline_stack::local_sdk_config(&LocalEnv {
        endpoint_url: moto_url.to_string(),
        access_key_id: admin.access_key_id.clone(),
        secret_access_key: admin.secret_access_key.clone(),
        region: region.to_string(),
        extra: Default::default(),
    })
}
