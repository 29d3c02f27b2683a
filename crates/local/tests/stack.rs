//! The local stack against real moto: the front door forwards signed SDK calls, moto enforces
//! IAM behind it, runtime calls never reach moto, and stacks start, run side by side and stop
//! without leftovers.

mod common;

use std::sync::OnceLock;

use aws_sdk_iam::config::Credentials;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_sagemaker::types::{
    ContainerDefinition, ProductionVariant, ProductionVariantInstanceType,
};
use bodyline_local::{LocalStack, ADMIN_ARN_VAR, MOTO_URL_VAR};
use bodyline_stack::{local_sdk_config, LocalEnv};
use common::{options, status, temp_root, unique};

/// One stack for the tests of this binary (moto takes seconds to start). It runs on its own
/// thread and runtime, because each `#[tokio::test]` has a runtime that ends with the test.
struct Shared {
    env: LocalEnv,
    root: std::path::PathBuf,
}

fn shared() -> &'static Shared {
    static SHARED: OnceLock<Shared> = OnceLock::new();
    SHARED.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            runtime.block_on(async move {
                // Leaked on purpose: the stack lives until the test process exits, and moto
                // dies with it (parent-death signal).
                let root = temp_root().keep();
                let stack = LocalStack::start(options(&root)).await;
                match stack {
                    Ok(stack) => {
                        let _ = tx.send(Ok(Shared {
                            env: stack.env().clone(),
                            root,
                        }));
                        std::future::pending::<()>().await;
                    }
                    Err(err) => {
                        let _ = tx.send(Err(format!("{err:#}")));
                    }
                }
            });
        });
        match rx.recv() {
            Ok(Ok(shared)) => shared,
            Ok(Err(err)) => panic!("the shared local stack did not start: {err}"),
            Err(_) => panic!("the shared local stack's thread died"),
        }
    })
}

fn admin_config() -> aws_config::SdkConfig {
    local_sdk_config(&shared().env)
}

/// The front door's URL with moto's default test keys, which moto's IAM never issued.
fn test_key_config(endpoint: &str) -> aws_config::SdkConfig {
    admin_config()
        .to_builder()
        .endpoint_url(endpoint)
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                "AKIAIOSFODNN7EXAMPLE",
                "test",
                None,
                None,
                "test",
            )),
        )
        .build()
}

#[tokio::test]
async fn s3_calls_through_the_front_door_are_signed_and_authorized() {
    let s3 = aws_sdk_s3::Client::new(&admin_config());
    let bucket = unique("bodyline-test");
    s3.create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    s3.put_object()
        .bucket(&bucket)
        .key("in/a.json")
        .body(ByteStream::from_static(b"{\"x\": [1, 2, 3]}"))
        .send()
        .await
        .expect("PutObject");
    let object = s3
        .get_object()
        .bucket(&bucket)
        .key("in/a.json")
        .send()
        .await
        .expect("GetObject");
    let body = object.body.collect().await.expect("the object body");
    assert_eq!(body.into_bytes().as_ref(), b"{\"x\": [1, 2, 3]}");

    // Bodies larger than any buffer stream through the proxy unchanged.
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    s3.put_object()
        .bucket(&bucket)
        .key("in/big.bin")
        .body(ByteStream::from(big.clone()))
        .send()
        .await
        .expect("PutObject 3 MB");
    let back = s3
        .get_object()
        .bucket(&bucket)
        .key("in/big.bin")
        .send()
        .await
        .expect("GetObject 3 MB")
        .body
        .collect()
        .await
        .expect("the big body")
        .into_bytes();
    assert!(
        back.as_ref() == big.as_slice(),
        "the 3 MB object changed on its way"
    );
}

#[tokio::test]
async fn iam_and_sagemaker_calls_through_the_front_door_work() {
    let config = admin_config();
    let iam = aws_sdk_iam::Client::new(&config);
    let role = unique("bodyline-role");
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let created = iam
        .create_role()
        .role_name(&role)
        .assume_role_policy_document(trust)
        .send()
        .await
        .expect("CreateRole");
    let role_arn = created.role().map(|r| r.arn().to_string()).expect("a role");
    let read = iam
        .get_role()
        .role_name(&role)
        .send()
        .await
        .expect("GetRole");
    assert_eq!(read.role().map(|r| r.arn()), Some(role_arn.as_str()));

    let sagemaker = aws_sdk_sagemaker::Client::new(&config);
    let model = unique("model");
    sagemaker
        .create_model()
        .model_name(&model)
        .execution_role_arn(&role_arn)
        .primary_container(
            ContainerDefinition::builder()
                .image("bodyline/echo:latest")
                .build(),
        )
        .send()
        .await
        .expect("CreateModel");
    let endpoint_config = unique("config");
    sagemaker
        .create_endpoint_config()
        .endpoint_config_name(&endpoint_config)
        .production_variants(
            ProductionVariant::builder()
                .variant_name("AllTraffic")
                .model_name(&model)
                .instance_type(ProductionVariantInstanceType::MlM5Large)
                .initial_instance_count(1)
                .build(),
        )
        .send()
        .await
        .expect("CreateEndpointConfig");
    let described = sagemaker
        .describe_endpoint_config()
        .endpoint_config_name(&endpoint_config)
        .send()
        .await
        .expect("DescribeEndpointConfig");
    assert_eq!(
        described.endpoint_config_name(),
        Some(endpoint_config.as_str())
    );
    let variant = described
        .production_variants()
        .first()
        .expect("one variant");
    assert_eq!(variant.model_name(), Some(model.as_str()));
}

#[tokio::test]
async fn an_unsigned_request_is_denied_with_403() {
    let url = format!("{}/", shared().env.endpoint_url);
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("Action=ListUsers&Version=2010-05-08")
        .send()
        .await
        .expect("the front door answers");
    assert_eq!(response.status().as_u16(), 403);
    let text = response.text().await.expect("a body");
    assert!(text.contains("MissingAuthenticationToken"), "{text}");
}

#[tokio::test]
async fn keys_moto_did_not_issue_are_denied_through_the_front_door_and_directly() {
    // The bootstrap spent every unauthenticated call: from here moto checks each signature.
    let front = test_key_config(&shared().env.endpoint_url);
    let err = aws_sdk_iam::Client::new(&front)
        .list_users()
        .send()
        .await
        .expect_err("IAM with test keys");
    assert_eq!(status(&err), Some(403), "{err:?}");
    let err = aws_sdk_s3::Client::new(&front)
        .list_buckets()
        .send()
        .await
        .expect_err("S3 with test keys");
    assert_eq!(status(&err), Some(403), "{err:?}");

    let moto_url = shared().env.extra.get(MOTO_URL_VAR).expect("moto's URL");
    let direct = test_key_config(moto_url);
    let err = aws_sdk_iam::Client::new(&direct)
        .list_users()
        .send()
        .await
        .expect_err("IAM at moto with test keys");
    assert_eq!(status(&err), Some(403), "{err:?}");
}

#[tokio::test]
async fn a_user_without_permissions_is_denied_by_moto_behind_the_front_door() {
    let iam = aws_sdk_iam::Client::new(&admin_config());
    let user = unique("bodyline-nobody");
    iam.create_user()
        .user_name(&user)
        .send()
        .await
        .expect("CreateUser");
    let key = iam
        .create_access_key()
        .user_name(&user)
        .send()
        .await
        .expect("CreateAccessKey");
    let key = key.access_key().expect("a key");
    let nobody = admin_config()
        .to_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                key.access_key_id(),
                key.secret_access_key(),
                None,
                None,
                "nobody",
            )),
        )
        .build();
    let err = aws_sdk_s3::Client::new(&nobody)
        .create_bucket()
        .bucket(unique("bodyline-denied"))
        .send()
        .await
        .expect_err("CreateBucket without a policy");
    assert_eq!(status(&err), Some(403), "{err:?}");
}

#[tokio::test]
async fn runtime_invocations_go_to_bodylines_runtime_not_to_moto() {
    // moto's stub would answer 200 for any endpoint name; the runtime rejects an unknown one.
    let runtime = aws_sdk_sagemakerruntime::Client::new(&admin_config());
    let result = runtime
        .invoke_endpoint_async()
        .endpoint_name(unique("no-such-endpoint"))
        .content_type("application/json")
        .body(aws_sdk_sagemakerruntime::primitives::Blob::new(
            b"{}".to_vec(),
        ))
        .send()
        .await;
    let err = result.expect_err("an unknown endpoint is not accepted");
    let code = status(&err).expect("an HTTP answer");
    assert!((400..500).contains(&code), "status {code}: {err:?}");
}

#[tokio::test]
async fn local_env_round_trips_and_names_moto_and_the_admin() {
    let on_disk = LocalEnv::read(&shared().root).expect("local.env");
    assert_eq!(on_disk, shared().env);
    assert!(on_disk.endpoint_url.starts_with("http://127.0.0.1:"));
    assert_ne!(
        Some(&on_disk.endpoint_url),
        on_disk.extra.get(MOTO_URL_VAR),
        "clients must go through the front door"
    );
    let admin = on_disk.extra.get(ADMIN_ARN_VAR).expect("the admin ARN");
    let iam = aws_sdk_iam::Client::new(&local_sdk_config(&on_disk));
    let me = iam
        .get_user()
        .send()
        .await
        .expect("GetUser with the file's keys");
    assert_eq!(me.user().map(|u| u.arn()), Some(admin.as_str()));
}

#[tokio::test]
async fn two_stacks_run_side_by_side_and_stop_without_leftovers() {
    let (root_a, root_b) = (temp_root(), temp_root());
    let (a, b) = tokio::join!(
        LocalStack::start(options(root_a.path())),
        LocalStack::start(options(root_b.path()))
    );
    let (a, b) = (a.expect("stack a"), b.expect("stack b"));
    assert_ne!(a.endpoint_url(), b.endpoint_url());
    assert_ne!(a.moto_url(), b.moto_url());
    assert_ne!(a.env().access_key_id, b.env().access_key_id);
    for stack in [&a, &b] {
        let iam = aws_sdk_iam::Client::new(&stack.sdk_config());
        let me = iam.get_user().send().await.expect("GetUser");
        assert_eq!(me.user().map(|u| u.arn()), Some(stack.admin_arn()));
    }
    // State is per moto: a bucket made in one is not in the other.
    let bucket = unique("bodyline-solo");
    aws_sdk_s3::Client::new(&a.sdk_config())
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket in a");
    let listed = aws_sdk_s3::Client::new(&b.sdk_config())
        .list_buckets()
        .send()
        .await
        .expect("ListBuckets in b");
    assert!(listed
        .buckets()
        .iter()
        .all(|x| x.name() != Some(bucket.as_str())));

    let (pid_a, pid_b) = (a.moto_pid(), b.moto_pid());
    assert!(common::process_exists(pid_a) && common::process_exists(pid_b));
    let endpoint_b = b.endpoint_url().to_string();
    a.stop().await;
    assert!(
        !common::process_exists(pid_a),
        "stop left moto {pid_a} running"
    );
    assert!(
        !LocalEnv::path(root_a.path()).exists(),
        "stop left local.env"
    );
    // Dropping the handle also takes moto down.
    drop(b);
    assert!(common::wait_gone(pid_b), "drop left moto {pid_b} running");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let refused = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(format!("{endpoint_b}/_bodyline/health"))
        .send()
        .await;
    assert!(refused.is_err(), "the front door still answers after drop");
}

#[tokio::test]
async fn a_presigned_url_gets_a_clear_501_instead_of_motos_500() {
    let s3 = aws_sdk_s3::Client::new(&admin_config());
    let presigned = s3
        .get_object()
        .bucket("any-bucket")
        .key("k")
        .presigned(
            aws_sdk_s3::presigning::PresigningConfig::expires_in(std::time::Duration::from_secs(
                60,
            ))
            .expect("a presigning config"),
        )
        .await
        .expect("presigning is local");
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client")
        .get(presigned.uri())
        .send()
        .await
        .expect("the front door answers");
    assert_eq!(response.status().as_u16(), 501);
    let text = response.text().await.expect("a body");
    assert!(text.contains("presigned URL"), "{text}");
}

#[tokio::test]
async fn moto_resets_through_the_front_door_are_refused_and_the_admin_survives() {
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    for path in ["/moto-api/reset", "/moto-api/reset-auth"] {
        let response = client
            .post(format!("{}{path}", shared().env.endpoint_url))
            .body("10")
            .send()
            .await
            .expect("the front door answers");
        assert_eq!(response.status().as_u16(), 403, "{path}");
    }
    let iam = aws_sdk_iam::Client::new(&admin_config());
    iam.get_user().send().await.expect("the admin still works");
}
