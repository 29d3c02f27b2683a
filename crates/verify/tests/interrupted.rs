//! Setup interrupted at every change, then teardown: nothing owned is left. And setup run
//! again instead: it converges to a stack that passes the control-plane checks.
//!
//! The interruption drops the setup future right after apply announces its k-th change, so
//! that change's calls are in flight or not yet made: the state file never records the
//! resources and teardown must find everything by tag. (tests/kill.rs does the same to the
//! `bodyline` process with SIGKILL after its k-th mutating call.)
//!
//! S3 tags a bucket only in a second call after `CreateBucket`, so an interruption in between
//! leaves the stack's bucket untagged. Setup records the bucket in the state file before
//! `CreateBucket`; with that record, teardown deletes the empty untagged bucket and a new setup
//! adopts it. Nothing is skipped and nothing is removed by hand here.

// The test helpers provision's tests share (one copy for both crates).
#[path = "../../provision/tests/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bodyline_provision::{execute, plan_teardown, TeardownOptions};
use bodyline_provision::{ApplyOptions, Progress};
use bodyline_stack::State;
use bodyline_verify::{verify, VerifyOptions};

fn apply_options() -> ApplyOptions {
    ApplyOptions {
        poll_interval: Duration::from_millis(100),
        endpoint_timeout: Duration::from_secs(30),
        ..ApplyOptions::default()
    }
}

/// Runs setup and drops it right after its `k`-th change starts; returns whether setup
/// finished on its own first (so there is no k-th change).
async fn setup_interrupted_at(
    stack: &bodyline_stack::Stack,
    config: &aws_config::SdkConfig,
    root: &std::path::Path,
    k: usize,
) -> bool {
    let started = Arc::new(AtomicUsize::new(0));
    let reached = Arc::new(tokio::sync::Notify::new());
    let (count, notify) = (started.clone(), reached.clone());
    let mut progress = move |p: Progress| {
        if matches!(p, Progress::Applying { .. }) && count.fetch_add(1, Ordering::SeqCst) + 1 == k {
            notify.notify_one();
        }
    };
    let options = apply_options();
    let setup = bodyline_provision::setup(stack, config, root, &options, &mut progress);
    tokio::select! {
        biased;
        _ = reached.notified() => false,
        done = setup => {
            done.expect("an uninterrupted setup succeeds");
            true
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_after_setup_interrupted_at_every_change_leaves_nothing() {
    let root = support::temp_root();
    let local = support::local(root.path()).await;
    let config = local.sdk_config();
    let checks = VerifyOptions {
        only: vec!["endpoint".into(), "posture".into()],
        ..VerifyOptions::default()
    };
    let mut k = 1;
    loop {
        assert!(k < 50, "setup never finished");
        // Interrupted, then torn down.
        let stack = support::stack(root.path(), &format!("k{k}"));
        let finished = setup_interrupted_at(&stack, &config, root.path(), k).await;
        if !finished {
            // Only the intent to create the bucket is recorded before apply; the resources are
            // recorded when setup finishes.
            let state = State::load(root.path(), &stack.name).unwrap();
            assert!(
                state.as_ref().is_none_or(|s| s.resources.is_empty()),
                "k={k}: {state:?}"
            );
        }
        let plan = plan_teardown(&stack, &config, root.path()).await.unwrap();
        let report = execute(&plan, &config, &TeardownOptions::new(root.path())).await;
        assert!(
            report.is_clean(),
            "k={k}: {}\n{}",
            plan.render_text(),
            report.render_text()
        );
        let again = plan_teardown(&stack, &config, root.path()).await.unwrap();
        assert!(again.is_empty(), "k={k}: {}", again.render_text());
        assert!(
            plan.skipped.is_empty(),
            "k={k}: nothing of the stack's may be left behind as foreign: {}",
            plan.render_text()
        );

        // Interrupted, then set up again: it converges to a working stack.
        let stack = support::stack(root.path(), &format!("r{k}"));
        setup_interrupted_at(&stack, &config, root.path(), k).await;
        bodyline_provision::setup(&stack, &config, root.path(), &apply_options(), &mut |_| {})
            .await
            .unwrap_or_else(|e| panic!("k={k}: setup after an interruption: {e}"));
        let report = verify(&stack, &config, &checks).await.unwrap();
        assert!(report.passed(), "k={k}: {}", report.render_table());
        let plan = plan_teardown(&stack, &config, root.path()).await.unwrap();
        let report = execute(&plan, &config, &TeardownOptions::new(root.path())).await;
        assert!(report.is_clean(), "k={k}: {}", report.render_text());

        if finished {
            break;
        }
        k += 1;
    }
    assert!(k > 5, "setup announced only {} changes", k - 1);
    local.stop().await;
}
