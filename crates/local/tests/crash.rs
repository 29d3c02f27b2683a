//! The load test of issue 13: 2,000 inline requests (`BODYLINE_CRASH_REQUESTS` to change) from
//! concurrent callers against a background stack (`up`), `kill -9` of each of its processes in
//! turn mid-load (the front door with the runtime, moto, the model server), then of the
//! supervisor itself and `up` again: every 202 ends in exactly one output or failure object and
//! the stack's resources are all there, with the same URL and keys. Prints the counts.
//!
//! This binary is both the test and, started as `crash serve <root>`, the background server.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, ExitCode};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sagemaker::types::{
    AsyncInferenceClientConfig, AsyncInferenceConfig, AsyncInferenceOutputConfig,
    ContainerDefinition, ProductionVariant, ProductionVariantInstanceType,
};
use aws_sdk_sagemakerruntime::primitives::Blob;
use bodyline_local::{up, ADMIN_ARN_VAR};
use bodyline_stack::{local_sdk_config, LocalEnv};

fn main() -> ExitCode {
    common::main_with_serve(2, "kill_each_process_under_load", |root| async move {
        build_model();
        kill_each_process_under_load(&root).await
    })
}

/// Builds `bodyline-model` next to this test's `target/<profile>`, where the runtime finds it.
fn build_model() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "bodyline-model",
            "--bin",
            "bodyline-model",
        ])
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building bodyline-model failed");
}

/// An accepted request: where its output or failure object goes.
#[derive(Clone)]
struct Accepted {
    output: String,
    failure: String,
}

struct Stack {
    name: String,
    bucket: String,
}

async fn kill_each_process_under_load(root: &Path) {
    let began = Instant::now();
    let first = up(root, "us-east-1", common::serve_command(root))
        .await
        .expect("up");
    let env = first.env.clone();
    let stack = create_endpoint(&env).await;
    let total: usize = std::env::var("BODYLINE_CRASH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let callers = 16;

    let client = aws_sdk_sagemakerruntime::Client::new(&local_sdk_config(&env));
    let next = Arc::new(AtomicUsize::new(0));
    let answered = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let (client, next, answered) = (client.clone(), next.clone(), answered.clone());
        let endpoint = stack.name.clone();
        tasks.push(tokio::spawn(async move {
            let mut accepted = Vec::new();
            let mut refused = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                let sent = client
                    .invoke_endpoint_async()
                    .endpoint_name(&endpoint)
                    .content_type("application/json")
                    .body(Blob::new(format!(r#"{{"amount": {i}}}"#).into_bytes()))
                    .send()
                    .await;
                answered.fetch_add(1, Ordering::Relaxed);
                match sent {
                    Ok(r) => accepted.push(Accepted {
                        output: r.output_location().unwrap_or_default().to_string(),
                        failure: r.failure_location().unwrap_or_default().to_string(),
                    }),
                    Err(e) => refused
                        .push(aws_sdk_sagemakerruntime::error::DisplayErrorContext(&e).to_string()),
                }
            }
            (accepted, refused)
        }));
    }

    // Kill each local-stack process in turn, a quarter of the load apart.
    let supervisor = first.pid;
    for (step, (what, find)) in [
        ("front door", front_door_pid as fn(u32) -> Option<u32>),
        ("moto", moto_pid),
        ("model server", model_pid),
    ]
    .into_iter()
    .enumerate()
    {
        while answered.load(Ordering::Relaxed) < total * (step + 1) / 4 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let pid = wait_for(|| find(supervisor), what).await;
        let model_before = model_pid(supervisor);
        sigkill(pid);
        println!(
            "killed the {what} (pid {pid}) after {} answers",
            answered.load(Ordering::Relaxed)
        );
        let again = wait_for(|| find(supervisor).filter(|p| *p != pid), what).await;
        println!("the {what} runs again (pid {again})");
        if what == "front door" {
            // The model server is not the front door's to take along: the new front door
            // serves with the same process.
            assert!(
                model_before.is_some(),
                "no model server ran before the kill"
            );
            assert_eq!(
                model_pid(supervisor),
                model_before,
                "the model server did not survive the front door's death"
            );
            println!(
                "the model server (pid {}) survived it",
                model_before.unwrap_or_default()
            );
        }
    }

    let mut accepted = Vec::new();
    let mut refused = Vec::new();
    for task in tasks {
        let (a, r) = task.await.expect("caller");
        accepted.extend(a);
        refused.extend(r);
    }
    let sent_in = began.elapsed();
    let counts = drain(&env, &stack.bucket, &accepted, Duration::from_secs(300)).await;
    println!(
        "{total} requests, {callers} callers: accepted {}, refused {}, outputs {}, failures {}, neither {}, both {} ({:.1}s to send, {:.1}s in all)",
        accepted.len(),
        refused.len(),
        counts.outputs,
        counts.failures,
        counts.neither,
        counts.both,
        sent_in.as_secs_f64(),
        began.elapsed().as_secs_f64()
    );
    if let Some(first_refusal) = refused.first() {
        println!("first refusal: {first_refusal}");
    }
    assert!(!accepted.is_empty(), "nothing was accepted");
    assert_eq!(
        (counts.neither, counts.both),
        (0, 0),
        "every accepted request ends in exactly one object"
    );
    resources_are_there(&env, &stack).await;

    // The supervisor itself: everything dies with it; `up` brings back the same stack.
    let model = model_pid(supervisor);
    sigkill(supervisor);
    assert!(
        common::wait_gone(supervisor),
        "the supervisor outlived SIGKILL"
    );
    // What outlives the front door does not outlive the stack.
    let model = model.expect("a model server ran before the supervisor's kill");
    assert!(
        common::wait_gone(model),
        "the model server (pid {model}) outlived the supervisor"
    );
    let restarted = up(root, "us-east-1", common::serve_command(root))
        .await
        .expect("up after a crash");
    assert!(!restarted.already_running);
    assert_eq!(
        restarted.env, env,
        "local.env (URL and keys) is the same after the crash"
    );
    assert!(
        restarted.restored_changes > 0,
        "up restored moto's state: {restarted:?}"
    );
    assert!(restarted.lost.is_empty(), "lost: {:?}", restarted.lost);
    resources_are_there(&env, &stack).await;
    let after = drain(&env, &stack.bucket, &accepted, Duration::from_secs(60)).await;
    assert_eq!(
        (after.outputs, after.failures, after.neither, after.both),
        (counts.outputs, counts.failures, 0, 0),
        "the objects survived the supervisor's death"
    );
    println!(
        "after kill -9 of the supervisor and up: {} change(s) replayed, outputs {}, failures {}, neither 0, both 0 ({:.1}s in all)",
        restarted.restored_changes,
        after.outputs,
        after.failures,
        began.elapsed().as_secs_f64()
    );
}

#[derive(Debug, Default)]
struct Counts {
    outputs: usize,
    failures: usize,
    neither: usize,
    both: usize,
}

/// Waits until every accepted request has an object (or `limit` passes) and counts.
async fn drain(env: &LocalEnv, bucket: &str, accepted: &[Accepted], limit: Duration) -> Counts {
    let began = Instant::now();
    loop {
        let keys = list(env, bucket).await;
        let mut counts = Counts::default();
        for a in accepted {
            let output = keys.contains(&key_of(&a.output));
            let failure = keys.contains(&key_of(&a.failure));
            match (output, failure) {
                (true, true) => counts.both += 1,
                (true, false) => counts.outputs += 1,
                (false, true) => counts.failures += 1,
                (false, false) => counts.neither += 1,
            }
        }
        if counts.neither == 0 || began.elapsed() > limit {
            return counts;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

fn key_of(uri: &str) -> String {
    uri.strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'))
        .map(|(_, key)| key.to_string())
        .unwrap_or_default()
}

/// Every key in `bucket` (listed by first segment: moto fails a prefix with `/`).
async fn list(env: &LocalEnv, bucket: &str) -> HashSet<String> {
    let s3 = s3(env);
    let mut keys = HashSet::new();
    for prefix in ["output", "failure"] {
        let mut token = None;
        loop {
            let page = s3
                .list_objects_v2()
                .bucket(bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .expect("ListObjectsV2");
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(String::from)),
            );
            match page.next_continuation_token() {
                Some(next) => token = Some(next.to_string()),
                None => break,
            }
        }
    }
    keys
}

fn s3(env: &LocalEnv) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&local_sdk_config(env))
            .force_path_style(true)
            .build(),
    )
}

/// The bucket, the role, the endpoint and the administrator's keys all still work.
async fn resources_are_there(env: &LocalEnv, stack: &Stack) {
    let sdk = local_sdk_config(env);
    aws_sdk_iam::Client::new(&sdk)
        .get_user()
        .send()
        .await
        .expect("the administrator's keys work");
    s3(env)
        .head_bucket()
        .bucket(&stack.bucket)
        .send()
        .await
        .expect("the bucket is there");
    aws_sdk_iam::Client::new(&sdk)
        .get_role()
        .role_name(format!("{}-role", stack.name))
        .send()
        .await
        .expect("the role is there");
    let endpoint = aws_sdk_sagemaker::Client::new(&sdk)
        .describe_endpoint()
        .endpoint_name(&stack.name)
        .send()
        .await
        .expect("the endpoint is there");
    assert_eq!(endpoint.endpoint_name(), Some(stack.name.as_str()));
}

async fn create_endpoint(env: &LocalEnv) -> Stack {
    let sdk = local_sdk_config(env);
    let name = common::unique("crash");
    let bucket = common::unique("crash-bucket");
    s3(env)
        .create_bucket()
        .bucket(&bucket)
        .send()
        .await
        .expect("CreateBucket");
    let admin_arn = env.extra.get(ADMIN_ARN_VAR).expect("the admin ARN");
    let trust = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Principal": { "Service": "sagemaker.amazonaws.com", "AWS": admin_arn },
            "Action": "sts:AssumeRole"
        }]
    });
    let iam = aws_sdk_iam::Client::new(&sdk);
    let role = iam
        .create_role()
        .role_name(format!("{name}-role"))
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole");
    let role_arn = role.role().expect("role").arn().to_string();
    let policy = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": [format!("arn:aws:s3:::{bucket}/output/*"), format!("arn:aws:s3:::{bucket}/failure/*")]
        }]
    });
    iam.put_role_policy()
        .role_name(format!("{name}-role"))
        .policy_name("execution")
        .policy_document(policy.to_string())
        .send()
        .await
        .expect("PutRolePolicy");
    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk);
    sagemaker
        .create_model()
        .model_name(format!("{name}-model"))
        .execution_role_arn(&role_arn)
        .primary_container(
            ContainerDefinition::builder()
                .image("bodyline-model:local")
                .environment("BODYLINE_LOCAL_COMMAND", "bodyline-model")
                .build(),
        )
        .send()
        .await
        .expect("CreateModel");
    sagemaker
        .create_endpoint_config()
        .endpoint_config_name(format!("{name}-config"))
        .production_variants(
            ProductionVariant::builder()
                .variant_name("AllTraffic")
                .model_name(format!("{name}-model"))
                .initial_instance_count(1)
                .instance_type(ProductionVariantInstanceType::MlM5Large)
                .build(),
        )
        .async_inference_config(
            AsyncInferenceConfig::builder()
                .client_config(
                    AsyncInferenceClientConfig::builder()
                        .max_concurrent_invocations_per_instance(8)
                        .build(),
                )
                .output_config(
                    AsyncInferenceOutputConfig::builder()
                        .s3_output_path(format!("s3://{bucket}/output"))
                        .s3_failure_path(format!("s3://{bucket}/failure"))
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .expect("CreateEndpointConfig");
    sagemaker
        .create_endpoint()
        .endpoint_name(&name)
        .endpoint_config_name(format!("{name}-config"))
        .send()
        .await
        .expect("CreateEndpoint");
    Stack { name, bucket }
}

fn sigkill(pid: u32) {
    let killed = Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(killed.success(), "kill -9 {pid}");
}

async fn wait_for(find: impl Fn() -> Option<u32>, what: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(pid) = find() {
            return pid;
        }
        assert!(Instant::now() < deadline, "no {what} process within 120 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Live processes with their parent, process group and command line.
fn processes() -> Vec<(u32, u32, u32, String)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
            if fields.first() == Some(&"Z") {
                return None;
            }
            let ppid = fields.get(1)?.parse().ok()?;
            let group = fields.get(2)?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            Some((
                pid,
                ppid,
                group,
                String::from_utf8_lossy(&cmdline).replace('\0', " "),
            ))
        })
        .collect()
}

fn moto_pid(supervisor: u32) -> Option<u32> {
    processes()
        .into_iter()
        .find(|(_, ppid, _, cmd)| *ppid == supervisor && cmd.contains("moto_persist.py"))
        .map(|(pid, ..)| pid)
}

fn front_door_pid(supervisor: u32) -> Option<u32> {
    processes()
        .into_iter()
        .find(|(_, ppid, _, cmd)| *ppid == supervisor && cmd.contains(" serve "))
        .map(|(pid, ..)| pid)
}

/// The stack's model server: in the supervisor's process group (`up` starts the supervisor as
/// a group leader), whichever process started it.
fn model_pid(supervisor: u32) -> Option<u32> {
    processes()
        .into_iter()
        .find(|(_, _, group, cmd)| *group == supervisor && cmd.contains("bodyline-model"))
        .map(|(pid, ..)| pid)
}
