//! `--wait-timeout` on the local stack, through the `bodyline` binary. The local stack's
//! endpoints converge at once (moto has no `Creating` or `Deleting`; the replay tests in
//! provision and verify cover those), so a zero timeout must still pass: every wait observes
//! once before it gives up. A bad duration (option or `BODYLINE_WAIT_TIMEOUT`) is refused
//! before any call.

use anyhow::ensure;
use bodyline_tests::unique;

use crate::kill::{on_local_stack, Context, Project};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_wait_timeout_passes_when_the_endpoint_converges_at_once() -> anyhow::Result<()> {
    on_local_stack(|ctx| async move { scenario(&ctx).await }).await
}

async fn scenario(ctx: &Context) -> anyhow::Result<()> {
    let project = Project::named(ctx, &unique("waits")).await?;

    // BODYLINE_WAIT_TIMEOUT is --wait-timeout's variable, checked like the option.
    let out = project
        .run_with(&["setup"], &[("BODYLINE_WAIT_TIMEOUT", "5x")])
        .await?;
    ensure!(
        out.status.code() == Some(2)
            && out.stderr.contains("--wait-timeout")
            && out.stderr.contains("unknown unit \"x\""),
        "a bad BODYLINE_WAIT_TIMEOUT is refused by name and rule\n{out}"
    );
    ensure!(
        project.forwarder.requests() == 0,
        "a bad --wait-timeout is refused before any call ({} requests)",
        project.forwarder.requests()
    );

    // CreateEndpoint, then one DescribeEndpoint finds it InService.
    let out = project.run(&["setup", "--wait-timeout", "0s"]).await?;
    ensure!(
        out.status.success(),
        "setup with a zero wait timeout\n{out}"
    );

    // A config change on the local target deletes the endpoint, waits until it is gone and
    // creates it again: both waits pass with --wait-timeout 0s.
    let path = project.dir.path().join("bodyline.toml");
    let text = std::fs::read_to_string(&path)?;
    let changed = text.replace(
        "max_concurrent_invocations_per_instance = 4",
        "max_concurrent_invocations_per_instance = 5",
    );
    ensure!(
        changed != text,
        "the template sets max_concurrent_invocations_per_instance = 4"
    );
    std::fs::write(&path, changed)?;
    let out = project.run(&["setup", "--wait-timeout", "0s"]).await?;
    ensure!(
        out.status.success() && out.stdout.contains("change(s)"),
        "setup of a config change with a zero wait timeout\n{out}"
    );

    let out = project
        .run(&["teardown", "--yes", "--wait-timeout", "0s"])
        .await?;
    ensure!(
        out.status.success() && out.stdout.contains("leak check: 0 resources"),
        "teardown with a zero wait timeout\n{out}"
    );
    Ok(())
}
