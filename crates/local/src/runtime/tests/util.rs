//! Test harness: one local stack per test process (moto with IAM enforced, the front door and
//! the runtime) on its own thread, and async endpoints made the way provisioning makes them.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_sagemaker::types::{
    AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceNotificationConfig,
    AsyncInferenceOutputConfig, ContainerDefinition, ProductionVariant,
    ProductionVariantInstanceType,
};
use bodyline_stack::LocalEnv;

use crate::{LocalOptions, LocalStack};

/// What tests need to reach the shared stack.
pub(super) struct StackInfo {
    pub env: LocalEnv,
    pub admin_arn: String,
    pub moto_url: String,
}

impl StackInfo {
    /// Clients through the front door, as a user's application would make them.
    pub(super) fn sdk(&self) -> SdkConfig {
        bodyline_stack::local_sdk_config(&self.env)
    }

    pub(super) fn runtime_client(&self) -> aws_sdk_sagemakerruntime::Client {
        aws_sdk_sagemakerruntime::Client::new(&self.sdk())
    }

    pub(super) fn s3(&self) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk())
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
}

/// Builds the `bodyline-model` binary (a no-op when fresh), so the runtime finds it next to the
/// test executable's `target/<profile>` directory, as `BODYLINE_LOCAL_COMMAND=bodyline-model` asks.
fn build_model() {
    static BUILT: OnceLock<()> = OnceLock::new();
    BUILT.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = std::process::Command::new(cargo)
            .args([
                "build",
                "--quiet",
                "-p",
                "bodyline-model",
                "--bin",
                "bodyline-model",
            ])
            .current_dir(repo_root())
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building bodyline-model failed");
    });
}

/// The stack shared by every test of this process. It lives on its own thread and runtime, so
/// it outlives each test's runtime; moto dies with the process.
pub(super) fn stack() -> &'static StackInfo {
    static STACK: OnceLock<StackInfo> = OnceLock::new();
    STACK.get_or_init(|| {
        // RUST_LOG=bodyline_local=debug shows the runtime's log lines of a failing test.
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .try_init();
        build_model();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(async move {
                let root = tempfile::tempdir().expect("temp dir");
                let options = LocalOptions::new(root.path(), "us-east-1")
                    .with_venv(repo_root().join(".bodyline").join("venv"))
                    .with_env_file(false);
                let stack = LocalStack::start(options)
                    .await
                    .expect("the local stack starts");
                let info = StackInfo {
                    env: stack.env().clone(),
                    admin_arn: stack.admin_arn().to_string(),
                    moto_url: stack.moto_url().to_string(),
                };
                tx.send(info).expect("test thread waits");
                // Keep the stack (and its temp dir) for the life of the test process.
                let _keep = (stack, root);
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the stack thread reports")
    })
}

/// A unique, SageMaker-valid name.
pub(super) fn unique(prefix: &str) -> String {
    let id = uuid::Uuid::new_v4().simple().to_string();
    format!("{prefix}-{}", &id[..12])
}

/// How a test endpoint is made.
pub(super) struct EndpointSpec {
    pub max_concurrency: i32,
    /// Let the role write outputs (false: only failures, to see a denied write).
    pub role_may_write_output: bool,
    /// Let the role write failure objects.
    pub role_may_write_failure: bool,
    pub with_topics: bool,
    pub model_command: String,
    pub asynchronous: bool,
}

impl Default for EndpointSpec {
    fn default() -> Self {
        EndpointSpec {
            max_concurrency: 4,
            role_may_write_output: true,
            role_may_write_failure: true,
            with_topics: false,
            model_command: "bodyline-model".into(),
            asynchronous: true,
        }
    }
}

/// An async endpoint with its bucket, least-privilege execution role, model and topics.
pub(super) struct TestEndpoint {
    pub name: String,
    pub bucket: String,
    pub role_arn: String,
    pub success_topic: Option<String>,
    pub error_topic: Option<String>,
}

impl TestEndpoint {
    pub(super) async fn create(stack: &StackInfo, spec: EndpointSpec) -> TestEndpoint {
        let sdk = stack.sdk();
        let name = unique("ep");
        let bucket = unique("bucket");
        stack
            .s3()
            .create_bucket()
            .bucket(&bucket)
            .send()
            .await
            .expect("CreateBucket");
        let (success_topic, error_topic) = if spec.with_topics {
            let sns = aws_sdk_sns::Client::new(&sdk);
            let mut arns = Vec::new();
            for kind in ["success", "error"] {
                let topic = sns
                    .create_topic()
                    .name(format!("{name}-{kind}"))
                    .send()
                    .await
                    .expect("CreateTopic");
                arns.push(topic.topic_arn().expect("topic arn").to_string());
            }
            (Some(arns[0].clone()), Some(arns[1].clone()))
        } else {
            (None, None)
        };
        let iam = aws_sdk_iam::Client::new(&sdk);
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": { "Service": "sagemaker.amazonaws.com", "AWS": stack.admin_arn },
                "Action": "sts:AssumeRole"
            }]
        });
        let role = iam
            .create_role()
            .role_name(format!("{name}-role"))
            .assume_role_policy_document(trust.to_string())
            .send()
            .await
            .expect("CreateRole");
        let role_arn = role.role().expect("role").arn().to_string();
        let mut writable = Vec::new();
        if spec.role_may_write_failure {
            writable.push(format!("arn:aws:s3:::{bucket}/failure/*"));
        }
        if spec.role_may_write_output {
            writable.push(format!("arn:aws:s3:::{bucket}/output/*"));
        }
        let mut statements = vec![
            serde_json::json!({ "Effect": "Allow", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/input/*") }),
        ];
        if !writable.is_empty() {
            statements.push(serde_json::json!({ "Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"], "Resource": writable }));
        }
        let topics: Vec<&String> = success_topic.iter().chain(error_topic.iter()).collect();
        if !topics.is_empty() {
            statements.push(serde_json::json!({ "Effect": "Allow", "Action": "sns:Publish", "Resource": topics }));
        }
        iam.put_role_policy()
            .role_name(format!("{name}-role"))
            .policy_name("execution")
            .policy_document(
                serde_json::json!({ "Version": "2012-10-17", "Statement": statements }).to_string(),
            )
            .send()
            .await
            .expect("PutRolePolicy");

        let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
        let container = ContainerDefinition::builder()
            .image("bodyline-model:local")
            .environment("BODYLINE_LOCAL_COMMAND", &spec.model_command)
            .environment("BODYLINE_MODEL_FAULTS", "1")
            .build();
        sagemaker
            .create_model()
            .model_name(format!("{name}-model"))
            .execution_role_arn(&role_arn)
            .primary_container(container)
            .send()
            .await
            .expect("CreateModel");
        let variant = ProductionVariant::builder()
            .variant_name("AllTraffic")
            .model_name(format!("{name}-model"))
            .initial_instance_count(1)
            .instance_type(ProductionVariantInstanceType::MlM5Large)
            .build();
        let mut config = sagemaker
            .create_endpoint_config()
            .endpoint_config_name(format!("{name}-config"))
            .production_variants(variant);
        if spec.asynchronous {
            let mut output = AsyncInferenceOutputConfig::builder()
                .s3_output_path(format!("s3://{bucket}/output"))
                .s3_failure_path(format!("s3://{bucket}/failure"));
            if let (Some(success), Some(error)) = (&success_topic, &error_topic) {
                output = output.notification_config(
                    AsyncInferenceNotificationConfig::builder()
                        .success_topic(success)
                        .error_topic(error)
                        .build(),
                );
            }
            config = config.async_inference_config(
                AsyncInferenceConfig::builder()
                    .client_config(
                        AsyncInferenceClientConfig::builder()
                            .max_concurrent_invocations_per_instance(spec.max_concurrency)
                            .build(),
                    )
                    .output_config(output.build())
                    .build(),
            );
        }
        config.send().await.expect("CreateEndpointConfig");
        sagemaker
            .create_endpoint()
            .endpoint_name(&name)
            .endpoint_config_name(format!("{name}-config"))
            .send()
            .await
            .expect("CreateEndpoint");
        TestEndpoint {
            name,
            bucket,
            role_arn,
            success_topic,
            error_topic,
        }
    }

    /// Uploads `body` under `input/` and returns its `s3://` URI.
    pub(super) async fn upload_input(&self, stack: &StackInfo, key: &str, body: &[u8]) -> String {
        stack
            .s3()
            .put_object()
            .bucket(&self.bucket)
            .key(format!("input/{key}"))
            .body(body.to_vec().into())
            .send()
            .await
            .expect("PutObject input");
        format!("s3://{}/input/{key}", self.bucket)
    }
}

/// An object read back: its content type and body.
#[derive(Debug)]
pub(super) struct Object {
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Object {
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(super) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the object is JSON")
    }
}

/// Reads `s3://bucket/key` now, or `None` if it does not exist.
pub(super) async fn read(stack: &StackInfo, uri: &str) -> Option<Object> {
    let (bucket, key) = uri.strip_prefix("s3://")?.split_once('/')?;
    let object = stack
        .s3()
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .ok()?;
    let content_type = object.content_type().map(str::to_string);
    let body = object.body.collect().await.ok()?.to_vec();
    Some(Object { content_type, body })
}

/// Waits until one of `uris` exists; returns its index and the object. Panics after `timeout`.
pub(super) async fn wait_any(
    stack: &StackInfo,
    uris: &[&str],
    timeout: Duration,
) -> (usize, Object) {
    let started = Instant::now();
    loop {
        for (i, uri) in uris.iter().enumerate() {
            if let Some(object) = read(stack, uri).await {
                return (i, object);
            }
        }
        assert!(
            started.elapsed() < timeout,
            "none of {uris:?} appeared within {timeout:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits for the one object a request ends in (`output` or `failure`) and checks the other does
/// not exist; `true` when it is the output.
pub(super) async fn one_object(
    stack: &StackInfo,
    output: &str,
    failure: &str,
    timeout: Duration,
) -> (bool, Object) {
    let (which, object) = wait_any(stack, &[output, failure], timeout).await;
    let other = if which == 0 { failure } else { output };
    assert!(
        read(stack, other).await.is_none(),
        "both {output} and {failure} exist"
    );
    (which == 0, object)
}

/// What `bodyline-model` answers for `payload`.
pub(super) fn expected_scores(payload: &[u8]) -> serde_json::Value {
    let scores = bodyline_model::score_payload(payload).expect("the payload scores");
    serde_json::json!({ "scores": scores.scores })
}

/// Every key in `bucket`.
pub(super) async fn keys(stack: &StackInfo, bucket: &str) -> Vec<String> {
    let listed = stack
        .s3()
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("ListObjectsV2");
    listed
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}

/// An HTTP endpoint subscribed to SNS topics; collects the notification messages it receives.
pub(super) struct Inbox {
    messages: Arc<Mutex<Vec<serde_json::Value>>>,
    pub url: String,
}

impl Inbox {
    pub(super) async fn start() -> Inbox {
        let messages: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
        let sink = messages.clone();
        let app = axum::Router::new().route(
            "/",
            axum::routing::post(move |body: String| {
                let sink = sink.clone();
                async move {
                    if let Ok(envelope) = serde_json::from_str::<serde_json::Value>(&body) {
                        let message = envelope
                            .get("Message")
                            .and_then(|m| m.as_str())
                            .and_then(|m| serde_json::from_str(m).ok())
                            .unwrap_or(envelope);
                        sink.lock().expect("inbox lock").push(message);
                    }
                    "ok"
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind inbox");
        let url = format!("http://{}/", listener.local_addr().expect("inbox addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Inbox { messages, url }
    }

    pub(super) async fn subscribe(&self, stack: &StackInfo, topic: &str) {
        aws_sdk_sns::Client::new(&stack.sdk())
            .subscribe()
            .topic_arn(topic)
            .protocol("http")
            .endpoint(&self.url)
            .send()
            .await
            .expect("Subscribe");
    }

    /// Waits for a notification about `inference_id`.
    pub(super) async fn wait_for(
        &self,
        inference_id: &str,
        timeout: Duration,
    ) -> serde_json::Value {
        let started = Instant::now();
        loop {
            if let Some(found) = self
                .messages
                .lock()
                .expect("inbox lock")
                .iter()
                .find(|m| m["inferenceId"] == inference_id)
            {
                return found.clone();
            }
            assert!(
                started.elapsed() < timeout,
                "no notification for {inference_id} within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
