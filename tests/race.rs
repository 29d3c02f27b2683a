//! Two setups of one stack at once, through the `bodyline` binary on the local stack.
//!
//! From one project (one root, one `.bodyline/`), the per-stack lock lets one run change the
//! stack; the other either finds the lock held and is refused before any call, naming the
//! holder, or runs after it and finds nothing to do. From two projects (no shared disk, as two
//! CI runners on AWS), nothing serialises them: both must end with the stack converged, every
//! resource the stack's, and a third setup finding nothing to change.
//!
//! Either way the stack ends as one setup leaves it: a third setup makes no mutating call and
//! the endpoint answers an inline request.

use anyhow::{ensure, Context as _};
use bodyline_tests::unique;

use crate::kill::{finish, on_local_stack, serves_an_inline_body, Context, Project};

const SETUP: [&str; 3] = ["setup", "--format", "json"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_setups_of_one_stack_at_once_end_as_one_setup() -> anyhow::Result<()> {
    on_local_stack(|ctx| async move {
        one_project(&ctx).await?;
        two_projects(&ctx).await
    })
    .await
}

/// The mutating calls a setup's JSON report counts.
fn mutating_calls(stdout: &str) -> anyhow::Result<u64> {
    let report: serde_json::Value = serde_json::from_str(stdout)?;
    report["calls"]["mutating"]
        .as_u64()
        .context("calls.mutating in setup's JSON")
}

async fn one_project(ctx: &Context) -> anyhow::Result<()> {
    let project = Project::named(ctx, &unique("lock")).await?;
    let (a, b) = (project.spawn(&SETUP)?, project.spawn(&SETUP)?);
    let (a, b) = tokio::join!(finish(&SETUP, a), finish(&SETUP, b));
    let (a, b) = (a?, b?);
    let forwarded = project.forwarder.take_mutating();
    let (done, other) = if a.status.success() && mutating_calls(&a.stdout)? > 0 {
        (a, b)
    } else {
        (b, a)
    };
    ensure!(
        done.status.success(),
        "neither setup built the stack\n{done}\n{other}"
    );
    let made = mutating_calls(&done.stdout)?;
    if other.status.success() {
        // It ran after the first released the lock: it found nothing to do.
        ensure!(
            mutating_calls(&other.stdout)? == 0,
            "the second setup changed the stack again\n{other}"
        );
    } else {
        ensure!(
            other.status.code() == Some(1)
                && other.stderr.contains(&format!(
                    "stack {} is being changed by another run",
                    project.stack.name
                )),
            "the refused setup does not name the lock\n{other}"
        );
    }
    ensure!(
        forwarded.len() as u64 == made,
        "{} mutating calls reached the stack, but the setup that built it made {made}: the other one changed something too\n{forwarded:?}",
        forwarded.len()
    );
    converged(ctx, &project).await
}

async fn two_projects(ctx: &Context) -> anyhow::Result<()> {
    let name = unique("twin");
    let first = Project::named(ctx, &name).await?;
    let second = Project::named(ctx, &name).await?;
    let (a, b) = (first.spawn(&SETUP)?, second.spawn(&SETUP)?);
    let (a, b) = tokio::join!(finish(&SETUP, a), finish(&SETUP, b));
    let (a, b) = (a?, b?);
    for out in [&a, &b] {
        // A run that lost a race to its twin may stop, but only with a clear error about a
        // resource of this very stack, never by taking something that is not the stack's.
        ensure!(
            out.status.success() || out.stderr.contains(&name),
            "a concurrent setup failed without naming the stack's resource\n{out}"
        );
    }
    ensure!(
        a.status.success() || b.status.success(),
        "both concurrent setups failed\n{a}\n{b}"
    );
    // Each run reports the calls it made itself, not its twin's.
    for (out, project) in [(&a, &first), (&b, &second)] {
        let forwarded = project.forwarder.take_mutating();
        if out.status.success() {
            let reported = mutating_calls(&out.stdout)?;
            ensure!(
                reported == forwarded.len() as u64,
                "a concurrent setup reported {reported} mutating calls but made {}\n{out}",
                forwarded.len()
            );
        }
    }
    // Whatever the race left, setup converges it, and then there is nothing left to do.
    let again = first.run(&SETUP).await?;
    ensure!(again.status.success(), "setup after the race\n{again}");
    converged(ctx, &first).await?;
    // The twin's view agrees: nothing to change from its project either.
    let out = second.run(&SETUP).await?;
    ensure!(
        out.status.success() && mutating_calls(&out.stdout)? == 0,
        "the twin's setup after the race\n{out}"
    );
    Ok(())
}

/// A third setup makes no mutating call and the endpoint answers an inline request.
async fn converged(ctx: &Context, project: &Project) -> anyhow::Result<()> {
    let out = project.run(&SETUP).await?;
    ensure!(out.status.success(), "setup once more\n{out}");
    let calls = mutating_calls(&out.stdout)?;
    ensure!(
        calls == 0,
        "setup once more made {calls} mutating call(s): the stack is not as one setup leaves it\n{out}"
    );
    project.forwarder.take_mutating();
    serves_an_inline_body(ctx, &project.stack).await
}
