//! The `bodyline-model` binary honours the SageMaker container contract and its fault options.

// A test file: its helpers may unwrap too (a panic is a failed test, with its message).
#![allow(clippy::unwrap_used)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

struct Server {
    child: Child,
    url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(faults: bool) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_bodyline-model"))
        .arg("serve")
        .env("SAGEMAKER_BIND_TO_PORT", port.to_string())
        .env("BODYLINE_MODEL_FAULTS", if faults { "1" } else { "0" })
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(r) = client.get(format!("{}/ping", server.url)).send().await {
            if r.status() == 200 {
                return server;
            }
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("bodyline-model did not answer /ping");
}

async fn invoke(server: &Server, body: &str) -> Result<reqwest::Response, reqwest::Error> {
    reqwest::Client::new()
        .post(format!("{}/invocations", server.url))
        .header("content-type", "application/json")
        .header("x-amzn-sagemaker-custom-attributes", "trace=abc")
        .body(body.to_string())
        .send()
        .await
}

#[tokio::test]
async fn scores_records_as_the_library_does() {
    let server = start(false).await;
    let payload = r#"{"records":[{"amount":3,"fail":true},{"amount":300}]}"#;
    let response = invoke(&server, payload).await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    assert_eq!(
        response.headers()["x-amzn-sagemaker-custom-attributes"],
        "trace=abc"
    );
    let answer: serde_json::Value = response.json().await.unwrap();
    let expected = bodyline_model::score_payload(payload.as_bytes()).unwrap();
    assert_eq!(answer, serde_json::json!({ "scores": expected.scores }));
}

#[tokio::test]
async fn bad_payloads_are_client_errors() {
    let server = start(false).await;
    assert_eq!(invoke(&server, "nope").await.unwrap().status(), 400);
    let csv = reqwest::Client::new()
        .post(format!("{}/invocations", server.url))
        .header("content-type", "text/csv")
        .body("1,2")
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 415);
}

#[tokio::test]
async fn faults_fail_delay_and_exit_on_request() {
    let mut server = start(true).await;
    let failed = invoke(&server, r#"{"fail":true}"#).await.unwrap();
    assert_eq!(failed.status(), 500);
    let started = std::time::Instant::now();
    assert_eq!(
        invoke(&server, r#"{"sleep_ms":300}"#)
            .await
            .unwrap()
            .status(),
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(invoke(&server, r#"{"exit":true}"#).await.is_err());
    let status = server.child.wait().unwrap();
    assert_eq!(status.code(), Some(70));
}
