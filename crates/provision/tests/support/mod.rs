//! Helpers shared by provision's and verify's test binaries: a local stack per test, a unique
//! stack, and creating resources through the SDK the way setup does (tagged, or deliberately
//! not).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use aws_config::SdkConfig;
use bodyline_local::{LocalOptions, LocalStack};
use bodyline_stack::{stack_tags, Names, Stack};

/// The virtualenv the tests share: `BODYLINE_VENV`, else the workspace's `.bodyline/venv`.
pub fn venv() -> PathBuf {
    // The workspace root: the same virtualenv `cargo xtask test` installs moto into.
    bodyline_local::default_venv(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
}

/// A fresh project root under cargo's per-target temp dir.
pub fn temp_root() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("bodyline-test-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temp dir under CARGO_TARGET_TMPDIR")
}

/// Starts a local stack (moto with IAM enforcement + front door) for the project at `root`.
pub async fn local(root: &Path) -> LocalStack {
    LocalStack::start(LocalOptions::new(root, "us-east-1").with_venv(venv()))
        .await
        .expect("the local stack starts")
}

/// A stack with a unique name, written to `<root>/bodyline.toml`.
pub fn stack(root: &Path, prefix: &str) -> Stack {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let name = format!("{prefix}-{}", &id[..8]);
    let text = format!(
        "[stack]\nname = \"{name}\"\ntarget = \"local\"\n\n[model]\nimage = \"123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1\"\n\n[async_inference]\nnotifications = true\n"
    );
    let path = root.join("bodyline.toml");
    std::fs::write(&path, &text).expect("write bodyline.toml");
    Stack::parse(&text, &path).expect("a valid stack")
}

/// The account moto answers with.
pub async fn account(config: &SdkConfig) -> String {
    aws_sdk_sts::Client::new(config)
        .get_caller_identity()
        .send()
        .await
        .expect("GetCallerIdentity")
        .account()
        .expect("an account")
        .to_string()
}

pub fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// Whether the stack's tags go on a resource.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Tagged {
    Yes,
    No,
}

fn sm_tags(stack: &str, tagged: Tagged) -> Option<Vec<aws_sdk_sagemaker::types::Tag>> {
    (tagged == Tagged::Yes).then(|| {
        stack_tags(stack)
            .into_iter()
            .map(|(k, v)| {
                aws_sdk_sagemaker::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
            })
            .collect()
    })
}

fn iam_tags(stack: &str, tagged: Tagged) -> Option<Vec<aws_sdk_iam::types::Tag>> {
    (tagged == Tagged::Yes).then(|| {
        stack_tags(stack)
            .into_iter()
            .map(|(k, v)| {
                aws_sdk_iam::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .expect("tag")
            })
            .collect()
    })
}

pub async fn create_bucket(config: &SdkConfig, stack: &str, bucket: &str, tagged: Tagged) {
    let s3 = s3(config);
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("CreateBucket");
    if tagged == Tagged::Yes {
        let tags = stack_tags(stack)
            .into_iter()
            .map(|(k, v)| {
                aws_sdk_s3::types::Tag::builder()
                    .key(k)
                    .value(v)
                    .build()
                    .expect("tag")
            })
            .collect();
        s3.put_bucket_tagging()
            .bucket(bucket)
            .tagging(
                aws_sdk_s3::types::Tagging::builder()
                    .set_tag_set(Some(tags))
                    .build()
                    .expect("tagging"),
            )
            .send()
            .await
            .expect("PutBucketTagging");
    }
}

pub async fn put(config: &SdkConfig, bucket: &str, key: &str, body: &str) {
    s3(config)
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(body.as_bytes().to_vec().into())
        .send()
        .await
        .expect("PutObject");
}

pub async fn create_role(config: &SdkConfig, stack: &str, role: &str, tagged: Tagged) -> String {
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    aws_sdk_iam::Client::new(config)
        .create_role()
        .role_name(role)
        .assume_role_policy_document(trust)
        .set_tags(iam_tags(stack, tagged))
        .send()
        .await
        .expect("CreateRole")
        .role()
        .expect("a role")
        .arn()
        .to_string()
}

pub async fn create_policy(config: &SdkConfig, stack: &str, name: &str, document: &str) -> String {
    aws_sdk_iam::Client::new(config)
        .create_policy()
        .policy_name(name)
        .policy_document(document)
        .set_tags(iam_tags(stack, Tagged::Yes))
        .send()
        .await
        .expect("CreatePolicy")
        .policy()
        .and_then(|p| p.arn())
        .expect("a policy ARN")
        .to_string()
}

pub async fn create_topic(config: &SdkConfig, stack: &str, name: &str) -> String {
    let tags = stack_tags(stack)
        .into_iter()
        .map(|(k, v)| {
            aws_sdk_sns::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .expect("tag")
        })
        .collect();
    aws_sdk_sns::Client::new(config)
        .create_topic()
        .name(name)
        .set_tags(Some(tags))
        .send()
        .await
        .expect("CreateTopic")
        .topic_arn()
        .expect("a topic ARN")
        .to_string()
}

pub async fn create_model(
    config: &SdkConfig,
    stack: &str,
    model: &str,
    role_arn: &str,
    tagged: Tagged,
) {
    aws_sdk_sagemaker::Client::new(config)
        .create_model()
        .model_name(model)
        .execution_role_arn(role_arn)
        .primary_container(
            aws_sdk_sagemaker::types::ContainerDefinition::builder()
                .image("123456789012.dkr.ecr.us-east-1.amazonaws.com/m:1")
                .build(),
        )
        .set_tags(sm_tags(stack, tagged))
        .send()
        .await
        .expect("CreateModel");
}

pub async fn create_endpoint_config(
    config: &SdkConfig,
    stack: &str,
    names: &Names,
    endpoint_config: &str,
    model: &str,
    tagged: Tagged,
) {
    use aws_sdk_sagemaker::types::{
        AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceOutputConfig,
        ProductionVariant,
    };
    aws_sdk_sagemaker::Client::new(config)
        .create_endpoint_config()
        .endpoint_config_name(endpoint_config)
        .production_variants(
            ProductionVariant::builder()
                .variant_name(&names.variant)
                .model_name(model)
                .instance_type("ml.m5.large".into())
                .initial_instance_count(1)
                .build(),
        )
        .async_inference_config(
            AsyncInferenceConfig::builder()
                .output_config(
                    AsyncInferenceOutputConfig::builder()
                        .s3_output_path(format!("s3://{}/output", names.bucket))
                        .s3_failure_path(format!("s3://{}/failure", names.bucket))
                        .build(),
                )
                .client_config(
                    AsyncInferenceClientConfig::builder()
                        .max_concurrent_invocations_per_instance(4)
                        .build(),
                )
                .build(),
        )
        .set_tags(sm_tags(stack, tagged))
        .send()
        .await
        .expect("CreateEndpointConfig");
}

pub async fn create_endpoint(
    config: &SdkConfig,
    stack: &str,
    endpoint: &str,
    endpoint_config: &str,
    tagged: Tagged,
) {
    aws_sdk_sagemaker::Client::new(config)
        .create_endpoint()
        .endpoint_name(endpoint)
        .endpoint_config_name(endpoint_config)
        .set_tags(sm_tags(stack, tagged))
        .send()
        .await
        .expect("CreateEndpoint");
}

pub async fn bucket_exists(config: &SdkConfig, bucket: &str) -> bool {
    s3(config).head_bucket().bucket(bucket).send().await.is_ok()
}

pub async fn role_exists(config: &SdkConfig, role: &str) -> bool {
    aws_sdk_iam::Client::new(config)
        .get_role()
        .role_name(role)
        .send()
        .await
        .is_ok()
}

pub async fn endpoint_exists(config: &SdkConfig, endpoint: &str) -> bool {
    aws_sdk_sagemaker::Client::new(config)
        .describe_endpoint()
        .endpoint_name(endpoint)
        .send()
        .await
        .is_ok()
}
