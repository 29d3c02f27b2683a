//! The in-process supervisor: [`LocalStack::start`] brings up moto, its bootstrap, the runtime
//! and the front door in order, and stopping (or dropping) the handle takes them down.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use bodyline_stack::LocalEnv;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::bootstrap::{self, Admin};
use crate::front_door::{serve_front_door, FrontDoorState};
use crate::moto::MotoProcess;
use crate::runtime::{self, Runtime, RuntimeConfig};
use crate::{install, LocalError};

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
}

impl LocalOptions {
    /// Options for the project at `root` in `region`, writing `local.env`.
    pub fn new(root: impl Into<PathBuf>, region: impl Into<String>) -> LocalOptions {
        LocalOptions {
            root: root.into(),
            region: region.into(),
            venv: None,
            write_env: true,
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
    moto: Option<MotoProcess>,
    runtime: Option<Runtime>,
    front_door: Option<(oneshot::Sender<()>, JoinHandle<std::io::Result<()>>)>,
}

impl std::fmt::Debug for LocalStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalStack")
            .field("endpoint_url", &self.env.endpoint_url)
            .field("moto", &self.moto)
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

impl LocalStack {
    /// Installs moto if needed, starts it with IAM enforcement, creates the administrator,
    /// starts the runtime and the front door, and writes `local.env` (unless turned off).
    pub async fn start(opts: LocalOptions) -> Result<LocalStack, LocalError> {
        let began = Instant::now();
        let dot = opts.root.join(".bodyline");
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

        let moto = MotoProcess::start(&moto_server, &dot.join("moto.log")).await?;
        let moto_ready = began.elapsed();
        let admin = bootstrap::bootstrap(moto.url(), &opts.region).await?;

        let runtime = runtime::start(RuntimeConfig {
            control_plane: control_plane(moto.url(), &opts.region, &admin),
            state_dir: dot.join("runtime"),
        })
        .await
        .map_err(|e| LocalError::Runtime {
            message: e.to_string(),
        })?;

        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .await
            .map_err(|e| LocalError::io("127.0.0.1:0", e))?;
        let addr = listener
            .local_addr()
            .map_err(|e| LocalError::io("127.0.0.1:0", e))?;
        let state = FrontDoorState::new(moto.url(), runtime.router())
            .with_strict_s3(&control_plane(moto.url(), &opts.region, &admin));
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let server = tokio::spawn(serve_front_door(listener, state, async move {
            let _ = stop_rx.await;
        }));

        let env = LocalEnv {
            endpoint_url: format!("http://{addr}"),
            access_key_id: admin.access_key_id.clone(),
            secret_access_key: admin.secret_access_key.clone(),
            region: opts.region.clone(),
            extra: [
                (MOTO_URL_VAR.to_string(), moto.url().to_string()),
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
            moto: Some(moto),
            runtime: Some(runtime),
            front_door: Some((stop_tx, server)),
        };
        if opts.write_env {
            stack.env.write(&opts.root)?;
            stack.wrote_env = true;
        }
        tracing::info!(
            endpoint = %stack.env.endpoint_url,
            moto = %stack.moto_url(),
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

    /// The process id of `moto_server`.
    pub fn moto_pid(&self) -> u32 {
        self.moto.as_ref().map_or(0, MotoProcess::pid)
    }

    /// The ARN of the administrator whose keys are in [`env`](LocalStack::env).
    pub fn admin_arn(&self) -> &str {
        &self.admin_arn
    }

    /// An SDK configuration for the front door with the administrator's keys.
    pub fn sdk_config(&self) -> SdkConfig {
        bodyline_stack::local_sdk_config(&self.env)
    }

    /// Stops the front door (letting in-flight requests finish), the runtime, then moto, and
    /// removes `local.env` if this stack wrote it.
    pub async fn stop(mut self) {
        if let Some((stop, server)) = self.front_door.take() {
            let _ = stop.send(());
            let abort = server.abort_handle();
            if tokio::time::timeout(Duration::from_secs(10), server)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown().await;
        }
        if let Some(moto) = self.moto.take() {
            moto.stop().await;
        }
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
        if let Some((stop, server)) = self.front_door.take() {
            let _ = stop.send(());
            server.abort();
        }
        // MotoProcess's own Drop kills moto.
        self.moto.take();
        self.runtime.take();
        self.remove_env_file();
    }
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

/// `<root>/.bodyline`.
pub(crate) fn dot_dir(root: &Path) -> PathBuf {
    root.join(".bodyline")
}
