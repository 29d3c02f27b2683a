//! `bodyline-model`: the model server binary (`bodyline-model serve`), as SageMaker starts a container.

use std::process::ExitCode;
use std::time::Duration;

use bodyline_model::ServeOptions;

const USAGE: &str = "\
usage: bodyline-model serve

Serves GET /ping and POST /invocations on 127.0.0.1:$SAGEMAKER_BIND_TO_PORT (default 8080),
scoring JSON records deterministically: {\"records\": [...]}, an array of objects or one object
in, {\"scores\": [...]} out.

environment:
  SAGEMAKER_BIND_TO_PORT          port to listen on
  BODYLINE_MODEL_FAULTS=1         honour record fields \"fail\": true (HTTP 500),
                                  \"sleep_ms\": n (delay) and \"exit\": true (the process exits)
  BODYLINE_MODEL_EXIT_WITH_PARENT=1  exit when the starting process is gone
  BODYLINE_MODEL_EXIT_WITH_PID=<pid> exit when process <pid> is gone
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["serve"] => serve(),
        ["-h"] | ["--help"] | ["help"] => {
            print!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprint!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn serve() -> ExitCode {
    let options = match ServeOptions::from_env() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("bodyline-model: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("bodyline-model: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let listener = match tokio::net::TcpListener::bind(options.addr).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!("bodyline-model: cannot listen on {}: {err}", options.addr);
                return ExitCode::FAILURE;
            }
        };
        eprintln!("bodyline-model: serving on http://{}", options.addr);
        let shutdown = shutdown_signal(options.exit_with_parent, options.exit_with_pid);
        match bodyline_model::serve(listener, &options, shutdown).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("bodyline-model: {err}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Resolves on ctrl-c, SIGTERM or, when asked, when the parent process is gone (the process is
/// then re-parented, so its parent id changes) or when the process `exit_with_pid` is gone.
async fn shutdown_signal(exit_with_parent: bool, exit_with_pid: Option<u32>) {
    let parent = std::os::unix::process::parent_id();
    let orphaned = async move {
        if !exit_with_parent && exit_with_pid.is_none() {
            return std::future::pending().await;
        }
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            if exit_with_parent && std::os::unix::process::parent_id() != parent {
                return;
            }
            if exit_with_pid.is_some_and(|pid| !is_running(pid)) {
                return;
            }
        }
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
        _ = orphaned => {}
    }
}

/// Whether process `pid` runs (a zombie does not): read from `/proc`, where the local stack runs.
fn is_running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}
