//! `bodyline sweep` when one stack cannot be torn down, on the local stack.
//!
//! Three old stacks, `ci-a`, `ci-b` and `ci-c`; `ci-b`'s role is held by a foreign, untagged
//! instance profile, so `DeleteRole` refuses with `DeleteConflict` (moto, as AWS) and teardown,
//! which never touches what it does not own, cannot remove it. The sweep still removes `ci-a`
//! and `ci-c` (the one after the failure too), names `ci-b` and the reason in its JSON and
//! text reports, leaves the instance profile as it was, and exits 1, as `bodyline sweep
//! --help` says. Once the holder lets go, the next sweep finishes `ci-b`: its role is global, but
//! its `bodyline:region` tag says it was left here.

use std::time::Duration;

use anyhow::{ensure, Context as _};

use crate::kill::{on_local_stack, resources_named, Context, Project};

/// The foreign instance profile: no `bodyline:stack` tag.
const HOLDER: &str = "foreign-holder";

/// The sweep, with every resource of the three stacks older than its threshold.
const SWEEP: [&str; 6] = ["sweep", "--older-than", "1s", "--yes", "--prefix", "ci-"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stack_whose_teardown_fails_fails_the_sweep_and_the_others_are_removed(
) -> anyhow::Result<()> {
    on_local_stack(|ctx| async move { scenario(&ctx).await }).await
}

async fn scenario(ctx: &Context) -> anyhow::Result<()> {
    let maker = Project::named(ctx, "maker").await?;
    for name in ["ci-a", "ci-b", "ci-c"] {
        let out = maker.run(&["setup", "--stack-name", name]).await?;
        ensure!(out.status.success(), "setup of {name}\n{out}");
    }
    let role = role_of(ctx, "ci-b").await?;
    let iam = aws_sdk_iam::Client::new(&ctx.sdk);
    iam.create_instance_profile()
        .instance_profile_name(HOLDER)
        .send()
        .await?;
    iam.add_role_to_instance_profile()
        .instance_profile_name(HOLDER)
        .role_name(&role)
        .send()
        .await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    // The sweep runs where no state file is.
    let sweeper = Project::named(ctx, "sweeper").await?;
    let out = sweeper
        .run(&[&SWEEP[..], &["--format", "json"]].concat())
        .await?;
    ensure!(
        out.status.code() == Some(1),
        "a sweep with a failed stack exits 1\n{out}"
    );
    let help = sweeper.run(&["sweep", "--help"]).await?;
    ensure!(
        help.stdout.contains("1: any stack failed"),
        "sweep --help documents the exit code\n{help}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&out.stdout).with_context(|| format!("the sweep's JSON\n{out}"))?;
    let swept: Vec<(&str, bool, &str)> = json["report"]["swept"]
        .as_array()
        .context("the report lists swept stacks")?
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap_or_default(),
                s["removed"] == true,
                s["error"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    let outcomes: Vec<(&str, bool)> = swept.iter().map(|(s, r, _)| (*s, *r)).collect();
    assert_eq!(
        outcomes,
        [("ci-a", true), ("ci-b", false), ("ci-c", true)],
        "{json:#}"
    );
    let error = swept[1].2;
    ensure!(
        error.contains("DeleteRole")
            && error.contains(&role)
            && error.contains("DeleteConflict")
            && error.contains("instance profile"),
        "ci-b's error names the call, the role and the reason: {error}"
    );
    let leaks = &json["report"]["swept"][1]["leaks"];
    ensure!(
        leaks.as_array().map(Vec::len) == Some(1) && leaks[0]["name"] == role.as_str(),
        "the recheck finds ci-b's role still tagged: {leaks}"
    );
    for name in ["ci-a", "ci-c"] {
        let left = resources_named(&ctx.sdk, name).await?;
        ensure!(left.is_empty(), "{name} was swept, yet {left:?} remain");
    }
    let left = resources_named(&ctx.sdk, "ci-b").await?;
    ensure!(
        left == [format!("role {role}")],
        "ci-b loses all but its held role: {left:?}"
    );
    let holder = iam
        .get_instance_profile()
        .instance_profile_name(HOLDER)
        .send()
        .await?;
    let held: Vec<&str> = holder
        .instance_profile()
        .map(|p| p.roles().iter().map(|r| r.role_name()).collect())
        .unwrap_or_default();
    ensure!(
        held == [role.as_str()],
        "the foreign instance profile is untouched: {held:?}"
    );

    // The same failure in the text report: ci-b set up again (its role kept), swept alone.
    let out = maker.run(&["setup", "--stack-name", "ci-b"]).await?;
    ensure!(out.status.success(), "setup of ci-b again\n{out}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let out = sweeper.run(&[&SWEEP[..5], &["ci-b"]].concat()).await?;
    ensure!(
        out.status.code() == Some(1)
            && out.stdout.contains("FAILED   ci-b: DeleteRole on ")
            && out
                .stdout
                .contains("must remove roles from instance profile first")
            && out.stdout.contains("sweep: 0 removed, 1 failed"),
        "the text report names ci-b and why, and the sweep exits 1\n{out}"
    );

    // Once the holder lets go, the next sweep removes what is left: only the role, which is
    // global, but its bodyline:region tag names this region.
    iam.remove_role_from_instance_profile()
        .instance_profile_name(HOLDER)
        .role_name(&role)
        .send()
        .await?;
    let out = sweeper.run(&[&SWEEP[..5], &["ci-b"]].concat()).await?;
    ensure!(
        out.status.success() && out.stdout.contains("sweep: 1 removed, 0 failed"),
        "the next sweep removes the role a failed one left\n{out}"
    );
    let left = resources_named(&ctx.sdk, "ci-b").await?;
    ensure!(left.is_empty(), "{left:?} remain of ci-b");
    iam.delete_instance_profile()
        .instance_profile_name(HOLDER)
        .send()
        .await?;
    Ok(())
}

/// The name of `stack`'s role (the first, if it has several).
async fn role_of(ctx: &Context, stack: &str) -> anyhow::Result<String> {
    let left = resources_named(&ctx.sdk, stack).await?;
    left.iter()
        .find_map(|r| r.strip_prefix("role "))
        .map(str::to_string)
        .with_context(|| format!("{stack} has a role: {left:?}"))
}
