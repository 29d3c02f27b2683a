//! `bodyline sweep` on the local stack, and `--stack-name` on plan, setup, verify and teardown.
//!
//! Five stacks share one local stack: `ci-1`, `ci-2` and `keep-1` (old), `ci-3` (one resource
//! new: its topic's `bodyline:created` is ahead of the clock, as a run in flight on a machine
//! whose clock runs ahead would write it) and `ci-4` (its setup SIGKILLed after a mutating
//! call, through the kill test's counting forwarder). An untagged bucket named like `ci-1`'s
//! stands beside them. The sweep runs from another project directory, so no state file helps
//! it; its dry run is counted by that project's forwarder.

use std::time::{Duration, SystemTime};

use anyhow::{ensure, Context as _};
use bodyline_stack::{created_tag_value, Stack, CREATED_TAG, STACK_TAG};

use crate::kill::{on_local_stack, resources_named, Context, Project};

/// The interrupted stack's setup is killed after this many mutating calls: past the bucket's
/// tagging, before the endpoint.
const KILLED_AFTER: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sweep_removes_exactly_the_old_ci_stacks_and_stack_name_overrides_the_file(
) -> anyhow::Result<()> {
    on_local_stack(|ctx| async move { scenario(&ctx).await }).await
}

async fn scenario(ctx: &Context) -> anyhow::Result<()> {
    // One project makes the three old stacks and ci-3, each named on the command line.
    let maker = Project::named(ctx, "maker").await?;
    bad_names_are_rejected_before_any_call(&maker).await?;

    let out = maker.run(&["plan", "--stack-name", "ci-1"]).await?;
    ensure!(
        out.status.code() == Some(2) && out.stdout.contains("stack ci-1 "),
        "plan --stack-name ci-1 on an empty account lists changes for ci-1\n{out}"
    );
    for name in ["ci-1", "ci-2", "keep-1"] {
        let out = maker.run(&["setup", "--stack-name", name]).await?;
        ensure!(out.status.success(), "setup of {name}\n{out}");
        ensure!(
            maker
                .dir
                .path()
                .join(format!(".bodyline/state/{name}.json"))
                .exists(),
            "the state file follows --stack-name {name}\n{out}"
        );
    }
    // A second setup a second later writes another bodyline:created value: no drift.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = maker
        .run(&["setup", "--stack-name", "ci-1", "--format", "json"])
        .await?;
    let report: serde_json::Value =
        serde_json::from_str(&again.stdout).with_context(|| format!("setup's JSON\n{again}"))?;
    ensure!(
        report["calls"]["mutating"] == 0,
        "setup run again changed the stack (the created tag must not be drift)\n{again}"
    );
    let out = maker
        .run_with(&["plan"], &[("BODYLINE_STACK_NAME", "ci-2")])
        .await?;
    ensure!(
        out.status.code() == Some(0) && out.stdout.contains("stack ci-2 "),
        "BODYLINE_STACK_NAME=ci-2 plans ci-2, which is up to date\n{out}"
    );
    let out = maker
        .run(&["verify", "--stack-name", "keep-1", "--check", "endpoint"])
        .await?;
    ensure!(out.status.success(), "verify --stack-name keep-1\n{out}");

    let s3 = s3_client(ctx);
    let ci1_bucket = bucket_of(&s3, "ci-1").await?;
    let lookalike = format!("{ci1_bucket}-copy");
    s3.create_bucket().bucket(&lookalike).send().await?;

    let interrupted = Project::named(ctx, "ci-4").await?;
    interrupted.setup_killed_after(KILLED_AFTER).await?;
    let ci4 = plan_of(ctx, &interrupted.stack, &interrupted).await?;
    ensure!(
        !ci4.is_empty(),
        "the interrupted setup left owned resources to sweep: {ci4:?}"
    );

    let out = maker.run(&["setup", "--stack-name", "ci-3"]).await?;
    ensure!(out.status.success(), "setup of ci-3\n{out}");
    // Everything is now older than a second; ci-3's topic says it was created in the future.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    make_young(ctx, "ci-3").await?;

    let before_keep = plan_of(ctx, &renamed(&maker.stack, "keep-1")?, &maker).await?;
    let before_ci3 = plan_of(ctx, &renamed(&maker.stack, "ci-3")?, &maker).await?;

    // The sweep runs where no state file is.
    let sweeper = Project::named(ctx, "sweeper").await?;
    let sweep = ["sweep", "--prefix", "ci-", "--older-than", "1s"];
    let out = sweeper
        .run(&[&sweep[..], &["--dry-run", "--format", "json"]].concat())
        .await?;
    ensure!(out.status.success(), "sweep --dry-run\n{out}");
    let mutating = sweeper.forwarder.take_mutating();
    ensure!(
        mutating.is_empty(),
        "the dry run made mutating calls: {mutating:?}"
    );
    let plan: serde_json::Value = serde_json::from_str(&out.stdout)?;
    let verdicts: Vec<(String, String, u64)> = plan["stacks"]
        .as_array()
        .context("the dry run lists stacks")?
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap_or_default().to_string(),
                s["verdict"].as_str().unwrap_or_default().to_string(),
                s["resources"].as_u64().unwrap_or_default(),
            )
        })
        .collect();
    let names: Vec<(&str, &str)> = verdicts
        .iter()
        .map(|(s, v, _)| (s.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("ci-1", "remove"),
            ("ci-2", "remove"),
            ("ci-3", "keep"),
            ("ci-4", "remove"),
            ("keep-1", "keep"),
        ],
        "{plan:#}"
    );
    assert!(
        verdicts.iter().all(|(_, _, n)| *n > 0),
        "every stack has a resource count: {plan:#}"
    );
    let text = sweeper.run(&[&sweep[..], &["--dry-run"]].concat()).await?;
    ensure!(
        text.status.success()
            && text.stdout.contains("would remove")
            && text.stdout.contains("under 1s"),
        "the text dry run names each decision\n{text}"
    );
    ensure!(sweeper.forwarder.take_mutating().is_empty());

    let out = sweeper
        .run(&[&sweep[..], &["--yes", "--format", "json"]].concat())
        .await?;
    ensure!(out.status.success(), "sweep --yes\n{out}");
    let swept: serde_json::Value = serde_json::from_str(&out.stdout)?;
    let removed: Vec<(&str, bool)> = swept["report"]["swept"]
        .as_array()
        .context("the report lists swept stacks")?
        .iter()
        .map(|s| {
            (
                s["stack"].as_str().unwrap_or_default(),
                s["removed"] == true,
            )
        })
        .collect();
    assert_eq!(
        removed,
        [("ci-1", true), ("ci-2", true), ("ci-4", true)],
        "{swept:#}"
    );
    for name in ["ci-2", "ci-4"] {
        let left = resources_named(&ctx.sdk, name).await?;
        ensure!(left.is_empty(), "{name} was swept, yet {left:?} remain");
    }
    let left = resources_named(&ctx.sdk, "ci-1").await?;
    ensure!(
        left == [format!("bucket {lookalike}")],
        "only the untagged look-alike of ci-1's bucket remains: {left:?}"
    );
    let after_keep = plan_of(ctx, &renamed(&maker.stack, "keep-1")?, &maker).await?;
    let after_ci3 = plan_of(ctx, &renamed(&maker.stack, "ci-3")?, &maker).await?;
    ensure!(
        after_keep == before_keep && after_ci3 == before_ci3,
        "keep-1 and ci-3 were touched:\nkeep-1 {before_keep:?} -> {after_keep:?}\nci-3 {before_ci3:?} -> {after_ci3:?}"
    );

    // What is left goes with teardown, named on the command line and in the environment.
    let keep = Project {
        dir: maker.dir,
        stack: renamed(&maker.stack, "keep-1")?,
        forwarder: maker.forwarder,
    };
    let out = keep
        .run(&["teardown", "--stack-name", "keep-1", "--yes"])
        .await?;
    ensure!(
        out.status.success() && out.stdout.contains("state file removed"),
        "teardown --stack-name keep-1\n{out}"
    );
    let ci3 = Project {
        stack: renamed(&keep.stack, "ci-3")?,
        ..keep
    };
    teardown_named(ctx, &ci3).await
}

/// `teardown` with `BODYLINE_STACK_NAME`, then nothing of the stack is left.
async fn teardown_named(ctx: &Context, project: &Project) -> anyhow::Result<()> {
    let out = project
        .run_with(
            &["teardown", "--yes"],
            &[("BODYLINE_STACK_NAME", &project.stack.name)],
        )
        .await?;
    ensure!(
        out.status.success(),
        "teardown with BODYLINE_STACK_NAME\n{out}"
    );
    let left = resources_named(&ctx.sdk, &project.stack.name).await?;
    ensure!(left.is_empty(), "{left:?} remain");
    let owned = plan_of(ctx, &project.stack, project).await?;
    ensure!(owned.is_empty(), "still owned after teardown: {owned:?}");
    Ok(())
}

/// Every command refuses a bad `--stack-name` before any request reaches the stack.
async fn bad_names_are_rejected_before_any_call(project: &Project) -> anyhow::Result<()> {
    for command in ["plan", "setup", "verify", "teardown"] {
        let before = project.forwarder.requests();
        let mut args = vec![command, "--stack-name", "bad_name"];
        if command == "teardown" {
            args.push("--yes");
        }
        let out = project.run(&args).await?;
        ensure!(
            out.status.code() == Some(1)
                && out
                    .stderr
                    .contains("stack.name (from --stack-name or BODYLINE_STACK_NAME)")
                && out.stderr.contains("bad_name"),
            "{command} --stack-name bad_name is rejected with the rule\n{out}"
        );
        ensure!(
            project.forwarder.requests() == before,
            "{command} made {} request(s) before rejecting the name",
            project.forwarder.requests() - before
        );
    }
    Ok(())
}

fn renamed(stack: &Stack, name: &str) -> anyhow::Result<Stack> {
    Ok(stack.clone().with_name(name)?)
}

/// What teardown would delete for `stack` from `project`'s root, as `kind name` lines.
async fn plan_of(ctx: &Context, stack: &Stack, project: &Project) -> anyhow::Result<Vec<String>> {
    let plan = bodyline_provision::plan_teardown(stack, &ctx.sdk, project.dir.path()).await?;
    Ok(plan
        .delete
        .iter()
        .map(|r| format!("{} {}", r.kind, r.name))
        .collect())
}

fn s3_client(ctx: &Context) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&ctx.sdk)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// The name of the bucket tagged `bodyline:stack=<stack>`.
async fn bucket_of(s3: &aws_sdk_s3::Client, stack: &str) -> anyhow::Result<String> {
    for bucket in s3.list_buckets().send().await?.buckets() {
        let Some(name) = bucket.name() else { continue };
        let Ok(tags) = s3.get_bucket_tagging().bucket(name).send().await else {
            continue;
        };
        if tags
            .tag_set()
            .iter()
            .any(|t| t.key() == STACK_TAG && t.value() == stack)
        {
            return Ok(name.to_string());
        }
    }
    anyhow::bail!("no bucket is tagged {STACK_TAG}={stack}")
}

/// Tags one of `stack`'s topics as created ten minutes from now.
async fn make_young(ctx: &Context, stack: &str) -> anyhow::Result<()> {
    let sns = aws_sdk_sns::Client::new(&ctx.sdk);
    let topics = sns.list_topics().send().await?;
    let arn = topics
        .topics()
        .iter()
        .filter_map(|t| t.topic_arn())
        .find(|arn| {
            arn.rsplit(':')
                .next()
                .is_some_and(|n| n.starts_with(&format!("{stack}-")))
        })
        .with_context(|| format!("{stack} has a topic"))?
        .to_string();
    let ahead = created_tag_value(SystemTime::now() + Duration::from_secs(600));
    sns.tag_resource()
        .resource_arn(&arn)
        .tags(
            aws_sdk_sns::types::Tag::builder()
                .key(CREATED_TAG)
                .value(ahead)
                .build()?,
        )
        .send()
        .await?;
    Ok(())
}
