//! One child process of the local stack (moto, or the front door's own process), spawned so it
//! dies with the supervisor, watched so its death is seen at once, and kept running: a child
//! that dies is started again, with a growing pause if it keeps dying.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::sys::{self, Signal};

/// How long `stop` waits after SIGTERM before SIGKILL.
const TERM_GRACE: Duration = Duration::from_secs(10);
/// Pauses between restarts: from the first to the last, doubling.
const RESTART_PAUSE: (Duration, Duration) = (Duration::from_millis(50), Duration::from_secs(5));

/// A spawned child. Dropping it kills the process.
#[derive(Debug)]
pub(crate) struct Child {
    pid: u32,
    /// Becomes `true` once the reaper thread has collected the exit status.
    exited: watch::Receiver<bool>,
}

impl Child {
    /// Spawns `command` from a dedicated thread that then waits for it. The thread lives exactly
    /// as long as the process, which matters for the parent-death signal: Linux sends it when
    /// the spawning *thread* ends, so spawning from a pooled thread could kill the child at random.
    pub(crate) fn spawn(mut command: Command, name: &str) -> std::io::Result<Child> {
        sys::die_with_parent(&mut command);
        let (pid_tx, pid_rx) = std::sync::mpsc::channel();
        let (exited_tx, exited_rx) = watch::channel(false);
        let label = name.to_string();
        std::thread::Builder::new()
            .name(format!("child-{name}"))
            .spawn(move || match command.spawn() {
                Ok(mut child) => {
                    let _ = pid_tx.send(Ok(child.id()));
                    let status = child.wait();
                    tracing::debug!(?status, child = %label, "child exited");
                    let _ = exited_tx.send(true);
                }
                Err(err) => {
                    let _ = pid_tx.send(Err(err));
                }
            })?;
        let pid = pid_rx
            .recv()
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        Ok(Child {
            pid,
            exited: exited_rx,
        })
    }

    /// The process id.
    pub(crate) fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether the process has exited (and been reaped).
    pub(crate) fn has_exited(&self) -> bool {
        *self.exited.borrow()
    }

    /// Completes when the process has exited.
    pub(crate) async fn wait(&self) {
        let mut exited = self.exited.clone();
        let _ = exited.wait_for(|done| *done).await;
    }

    /// SIGTERM, a grace period, then SIGKILL; returns once the process is reaped.
    pub(crate) async fn stop(mut self) {
        if !self.has_exited() {
            let _ = sys::kill(self.pid, Signal::Term);
            if tokio::time::timeout(TERM_GRACE, self.wait()).await.is_err() {
                let _ = sys::kill(self.pid, Signal::Kill);
                let _ = tokio::time::timeout(TERM_GRACE, self.wait()).await;
            }
        }
        // Nothing left for Drop to do.
        self.pid = 0;
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.pid != 0 && !self.has_exited() {
            // No await in drop: kill outright; the reaper thread collects the status.
            let _ = sys::kill(self.pid, Signal::Kill);
        }
    }
}

/// One incarnation of a kept child being started: ready to serve, or why not.
pub(crate) type Starting =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Child, String>> + Send>>;

/// Starts one incarnation of a kept child and waits until it is ready to serve.
pub(crate) type Launch = Box<dyn Fn() -> Starting + Send + Sync>;

/// A child that is started again whenever it dies, until [`Kept::stop`].
pub(crate) struct Kept {
    current: Arc<Mutex<Option<Child>>>,
    restarts: Arc<std::sync::atomic::AtomicU32>,
    stop: CancellationToken,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Kept {
    /// Keeps `first` (already started and ready) running: when it dies, `launch` starts the next.
    pub(crate) fn keep(name: &'static str, first: Child, launch: Launch) -> Kept {
        let current = Arc::new(Mutex::new(Some(first)));
        let restarts = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let stop = CancellationToken::new();
        let task = tokio::spawn(watch_and_restart(
            name,
            current.clone(),
            restarts.clone(),
            stop.clone(),
            launch,
        ));
        Kept {
            current,
            restarts,
            stop,
            task: Some(task),
        }
    }

    /// The pid of the running incarnation (0 while it is being restarted).
    pub(crate) fn pid(&self) -> u32 {
        self.current
            .lock()
            .ok()
            .and_then(|c| c.as_ref().map(Child::pid))
            .unwrap_or(0)
    }

    /// How many times the child has been started again.
    pub(crate) fn restarts(&self) -> u32 {
        self.restarts.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Stops restarting, then stops the running incarnation.
    pub(crate) async fn stop(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let child = self.current.lock().ok().and_then(|mut c| c.take());
        if let Some(child) = child {
            child.stop().await;
        }
    }
}

impl Drop for Kept {
    fn drop(&mut self) {
        self.stop.cancel();
        // Child's own Drop kills the process.
        if let Ok(mut current) = self.current.lock() {
            current.take();
        }
    }
}

async fn watch_and_restart(
    name: &'static str,
    current: Arc<Mutex<Option<Child>>>,
    restarts: Arc<std::sync::atomic::AtomicU32>,
    stop: CancellationToken,
    launch: Launch,
) {
    let mut pause = RESTART_PAUSE.0;
    let mut started = Instant::now();
    loop {
        let exited = {
            let guard = current.lock().ok();
            guard.and_then(|c| c.as_ref().map(|c| c.exited.clone()))
        };
        if let Some(mut exited) = exited {
            tokio::select! {
                _ = exited.wait_for(|done| *done) => {}
                _ = stop.cancelled() => return,
            }
        }
        if let Ok(mut c) = current.lock() {
            c.take();
        }
        // A child that ran for a while earns a quick restart; one that keeps dying waits longer.
        pause = if started.elapsed() > Duration::from_secs(30) {
            RESTART_PAUSE.0
        } else {
            (pause * 2).min(RESTART_PAUSE.1)
        };
        tracing::warn!(
            child = name,
            ?pause,
            "a local stack process died; starting it again"
        );
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            _ = stop.cancelled() => return,
        }
        started = Instant::now();
        let next = tokio::select! {
            next = launch() => next,
            _ = stop.cancelled() => return,
        };
        match next {
            Ok(child) => {
                tracing::info!(child = name, pid = child.pid(), "started again");
                restarts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if let Ok(mut c) = current.lock() {
                    *c = Some(child);
                }
            }
            Err(problem) => tracing::error!(child = name, %problem, "could not start it again"),
        }
    }
}
