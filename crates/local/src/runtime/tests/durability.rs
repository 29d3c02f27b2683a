//! The journal: a runtime killed with SIGKILL while requests are queued resumes them, and every
//! accepted request ends in exactly one output or failure object.
//!
//! The runtime runs in a child process: this test binary itself, re-run with
//! `BODYLINE_RUNTIME_CHILD` set, where the same test serves the runtime instead of driving it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use aws_sdk_sagemakerruntime::primitives::Blob;
use bodyline_stack::LocalEnv;

use super::util::{read, stack, wait_any, EndpointSpec, TestEndpoint};
use crate::runtime::{self, RuntimeConfig};

const CHILD_VAR: &str = "BODYLINE_RUNTIME_CHILD";
const TEST_NAME: &str =
    "runtime::tests::durability::sigkill_while_queued_loses_and_duplicates_nothing";

/// In the child: serve a runtime on a free port, print the port, run until killed.
async fn serve_child(spec: &str) {
    let (moto_url, key, secret, state_dir) = match spec.split('|').collect::<Vec<_>>()[..] {
        [a, b, c, d] => (a.to_string(), b.to_string(), c.to_string(), d.to_string()),
        _ => panic!("bad {CHILD_VAR}: {spec}"),
    };
    let control_plane = bodyline_stack::local_sdk_config(&LocalEnv {
        endpoint_url: moto_url,
        access_key_id: key,
        secret_access_key: secret,
        region: "us-east-1".into(),
        extra: Default::default(),
    });
    let runtime = runtime::start(RuntimeConfig {
        control_plane,
        state_dir: state_dir.into(),
        models_outlive_runtime: None,
    })
    .await
    .expect("the runtime starts");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    println!("PORT={}", listener.local_addr().expect("addr").port());
    axum::serve(listener, runtime.router())
        .await
        .expect("serve");
}

struct ChildRuntime {
    child: Child,
    url: String,
}

impl ChildRuntime {
    fn start(spec: &str) -> ChildRuntime {
        let mut child = Command::new(std::env::current_exe().expect("test exe"))
            .args([TEST_NAME, "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_VAR, spec)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn the child runtime");
        let stdout = child.stdout.take().expect("stdout");
        let mut port = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("child output");
            // libtest prints "test <name> ... " without a newline before the test's own output.
            if let Some((_, p)) = line.split_once("PORT=") {
                port = Some(p.trim().to_string());
                break;
            }
        }
        let port = port.expect("the child runtime reports its port");
        ChildRuntime {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }

    fn sigkill(mut self) {
        // std's kill is SIGKILL on Unix: no shutdown code runs.
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

impl Drop for ChildRuntime {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn sigkill_while_queued_loses_and_duplicates_nothing() {
    if let Ok(spec) = std::env::var(CHILD_VAR) {
        return serve_child(&spec).await;
    }
    let stack = stack();
    // One slot and slow requests: most of them are still queued when the runtime dies.
    let endpoint = TestEndpoint::create(
        stack,
        EndpointSpec {
            max_concurrency: 1,
            ..EndpointSpec::default()
        },
    )
    .await;
    let state = tempfile::tempdir().expect("state dir");
    let spec = format!(
        "{}|{}|{}|{}",
        stack.moto_url,
        stack.env.access_key_id,
        stack.env.secret_access_key,
        state.path().display()
    );
    let first = ChildRuntime::start(&spec);
    let mut env = stack.env.clone();
    env.endpoint_url = first.url.clone();
    let client = aws_sdk_sagemakerruntime::Client::new(&bodyline_stack::local_sdk_config(&env));
    let mut accepted = Vec::new();
    for i in 0..12 {
        let payload = if i % 4 == 3 {
            r#"{"fail": true, "sleep_ms": 150}"#.to_string()
        } else {
            format!(r#"{{"amount": {i}, "sleep_ms": 150}}"#)
        };
        let response = client
            .invoke_endpoint_async()
            .endpoint_name(&endpoint.name)
            .content_type("application/json")
            .body(Blob::new(payload.into_bytes()))
            .send()
            .await
            .expect("accepted");
        accepted.push((
            response.output_location().expect("out").to_string(),
            response.failure_location().expect("fail").to_string(),
        ));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    first.sigkill();

    let mut finished_before = 0;
    for (output, failure) in &accepted {
        if read(stack, output).await.is_some() || read(stack, failure).await.is_some() {
            finished_before += 1;
        }
    }
    assert!(
        finished_before < accepted.len(),
        "the kill came too late to test anything"
    );

    let second = ChildRuntime::start(&spec);
    for (i, (output, failure)) in accepted.iter().enumerate() {
        let (which, _) = wait_any(stack, &[output, failure], Duration::from_secs(60)).await;
        let other = if which == 0 { failure } else { output };
        assert!(
            read(stack, other).await.is_none(),
            "request {i} has both objects"
        );
        assert_eq!(which == 1, i % 4 == 3, "request {i} ended the wrong way");
    }
    drop(second);
}
