//! `up`, `status` and `down` with a real background process: this binary is both the test and,
//! started as `daemon serve <root>`, the foreground server that `up` detaches.

mod common;

use std::path::Path;
use std::process::{Command, ExitCode};

use bodyline_local::{down, status, up, LocalError, LocalStatus};
use bodyline_stack::{local_sdk_config, LocalEnv};

fn main() -> ExitCode {
    common::main_with_serve(1, "up_status_down", |root| async move {
        up_status_down(&root).await
    })
}

async fn up_status_down(root: &Path) {
    assert_eq!(status(root).await.expect("status"), LocalStatus::Stopped);

    let first = up(root, "us-east-1", common::serve_command(root))
        .await
        .expect("up");
    assert!(!first.already_running);
    assert_eq!(LocalEnv::read(root).expect("local.env"), first.env);
    let pid_text = std::fs::read_to_string(bodyline_local::pid_file(root)).expect("pid file");
    assert_eq!(pid_text.trim(), first.pid.to_string());
    let group = processes_in_group(first.pid);
    assert!(
        group.len() >= 2,
        "serve and moto share a process group: {group:?}"
    );

    match status(root).await.expect("status") {
        LocalStatus::Running { pid, env } => {
            assert_eq!(pid, first.pid);
            assert_eq!(env, first.env);
        }
        other => panic!("expected running, got {other}"),
    }
    let iam = aws_sdk_iam::Client::new(&local_sdk_config(&first.env));
    iam.get_user()
        .send()
        .await
        .expect("GetUser through the background stack");

    let again = up(root, "us-east-1", common::serve_command(root))
        .await
        .expect("up again");
    assert!(again.already_running);
    assert_eq!((again.pid, &again.env), (first.pid, &first.env));
    match up(root, "eu-west-1", common::serve_command(root)).await {
        Err(LocalError::RegionMismatch { running, .. }) => assert_eq!(running, "us-east-1"),
        other => panic!("expected a region mismatch, got {other:?}"),
    }

    assert_eq!(down(root).await.expect("down"), Some(first.pid));
    assert_eq!(status(root).await.expect("status"), LocalStatus::Stopped);
    assert!(!LocalEnv::path(root).exists(), "down left local.env");
    assert!(
        !bodyline_local::pid_file(root).exists(),
        "down left the pid file"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while !processes_in_group(first.pid).is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let left = processes_in_group(first.pid);
    assert!(left.is_empty(), "down left processes behind: {left:?}");
    assert_eq!(down(root).await.expect("down again"), None);

    // A supervisor killed outright (no chance to stop moto) still leaves no moto behind.
    let second = up(root, "us-east-1", common::serve_command(root))
        .await
        .expect("up after down");
    assert!(!second.already_running);
    assert_ne!(second.env.endpoint_url, first.env.endpoint_url);
    let moto: Vec<u32> = processes_in_group(second.pid)
        .into_iter()
        .filter(|pid| *pid != second.pid)
        .collect();
    assert!(!moto.is_empty(), "moto runs beside serve");
    let killed = Command::new("kill")
        .args(["-KILL", &second.pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    for pid in &moto {
        assert!(
            common::wait_gone(*pid),
            "moto {pid} outlived its killed supervisor"
        );
    }
    assert!(matches!(
        status(root).await.expect("status"),
        LocalStatus::Stopped
    ));
    assert_eq!(down(root).await.expect("down after a crash"), None);
    assert!(
        !LocalEnv::path(root).exists(),
        "down left a stale local.env"
    );
}

/// Live (non-zombie) processes whose process group is `pgid`.
fn processes_in_group(pgid: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            let fields: Vec<&str> = stat
                .rsplit_once(')')
                .map(|(_, rest)| rest.split_whitespace().collect())
                .unwrap_or_default();
            // After the command name: state, ppid, pgrp.
            fields.first().is_some_and(|s| *s != "Z")
                && fields.get(2) == Some(&pgid.to_string().as_str())
        })
        .collect()
}
