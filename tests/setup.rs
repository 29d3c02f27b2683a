//! The main job end to end: the template stack provisioned on the local stack, idempotent,
//! and serving an inline `Body` through the real SageMaker Runtime client.

use std::time::Duration;

use aws_sdk_sagemakerruntime::primitives::Blob;
use bodyline_provision::ApplyOptions;
use bodyline_tests::{start_local, template_stack, unique, wait_for_object};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_template_stack_provisions_idempotently_and_serves_inline_bodies() -> anyhow::Result<()>
{
    let root = tempfile::tempdir()?;
    let local = start_local(root.path()).await?;
    let stack = template_stack(&unique("e2e"))?;
    // The user's path: the SDK configuration comes from `.bodyline/local.env`.
    let sdk = bodyline_stack::sdk_config(&stack, root.path()).await?;
    let options = ApplyOptions::default();

    let first = bodyline_provision::setup(&stack, &sdk, root.path(), &options, &mut |_| {}).await?;
    assert_eq!(first.report.endpoint_status, "InService");
    assert!(first.report.calls.mutating > 0);
    assert!(
        first.state_path.exists(),
        "state saved at {}",
        first.state_path.display()
    );

    let second =
        bodyline_provision::setup(&stack, &sdk, root.path(), &options, &mut |_| {}).await?;
    assert_eq!(
        second.report.calls.mutating, 0,
        "the second setup changed something: {:?}",
        second.report.calls.mutating_operations
    );

    // An inline Body through the front door, with the real runtime client.
    let runtime = aws_sdk_sagemakerruntime::Client::new(&sdk);
    let response = runtime
        .invoke_endpoint_async()
        .endpoint_name(&stack.name)
        .content_type("application/json")
        .body(Blob::new(
            br#"{"records":[{"id":"a","value":0.5},{"id":"b","value":2}]}"#.to_vec(),
        ))
        .send()
        .await?;
    let output_location = response
        .output_location()
        .expect("a 202 carries the OutputLocation");
    let s3 = aws_sdk_s3::Client::new(&sdk);
    let output = wait_for_object(&s3, output_location, Duration::from_secs(30)).await?;
    let answer: serde_json::Value = serde_json::from_slice(&output)?;
    let scores = answer["scores"]
        .as_array()
        .expect("the model answers scores");
    assert_eq!(scores.len(), 2, "one score per record: {answer}");

    local.stop().await;
    Ok(())
}
