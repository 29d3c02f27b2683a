//! Teardown: plan from the state file and tag discovery, delete in dependency order, treat
//! "not found" as done, then list everything again by tag to prove nothing leaked.

use std::path::{Path, PathBuf};

use aws_config::SdkConfig;
use bodyline_stack::{Names, Stack, State, Target};
use serde::Serialize;

use crate::owned::deleting::Deleting;
use crate::owned::listing::Scope;
use bodyline_aws::Clients;
use discover::discover;

pub(crate) mod discover;
mod inventory;
pub(crate) mod registry;
pub(crate) mod sweep;

pub use crate::owned::deleting::{DeletionOutcome, TeardownOptions, TeardownProgress};
pub use crate::owned::error::TeardownError;
pub use crate::owned::resource::{
    FoundBy, OwnedResource, ResourceKind, ScalingRef, SkipReason, Skipped,
};
pub use crate::resources::bucket::keys_under;
pub use crate::resources::iam::delete_user;
pub use inventory::TaggedResource;

/// What teardown would delete and what it will leave alone, in deletion order.
#[derive(Debug, Clone, Serialize)]
pub struct TeardownPlan {
    /// The stack name.
    pub stack: String,
    /// The target the plan was made against.
    pub target: Target,
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// Whether a state file was read (otherwise everything was found by tag alone).
    pub state_file: Option<PathBuf>,
    /// Owned resources, in the order they will be deleted.
    pub delete: Vec<OwnedResource>,
    /// Resources with the stack's names that are not the stack's: never touched.
    pub skipped: Vec<Skipped>,
    /// Output and failure prefixes, for `--backup-dir`.
    pub backup_prefixes: Vec<String>,
    #[serde(skip)]
    names: Names,
    #[serde(skip)]
    state: Option<State>,
}

impl TeardownPlan {
    /// Nothing owned was found.
    pub fn is_empty(&self) -> bool {
        self.delete.is_empty()
    }

    /// A human-readable plan: one line per resource, skipped ones last.
    pub fn render_text(&self) -> String {
        let mut out = format!(
            "teardown of stack {} on the {} target (account {}, {}){}\n",
            self.stack,
            self.target,
            self.account,
            self.region,
            match &self.state_file {
                Some(p) => format!(", state file {}", p.display()),
                None => ", no state file: found by tag".into(),
            }
        );
        if self.delete.is_empty() {
            out.push_str("  nothing to delete: no resource carries the stack's tag\n");
        }
        for (i, r) in self.delete.iter().enumerate() {
            out.push_str(&format!(
                "  {:>2}. delete {:<16} {}\n",
                i + 1,
                r.kind.label(),
                r.name
            ));
        }
        for s in &self.skipped {
            out.push_str(&format!(
                "      skip   {:<16} {} ({})\n",
                s.kind.label(),
                s.name,
                s.reason
            ));
        }
        out
    }
}

/// Finds what `stack` owns on the target `config` reaches: the state file under `root` (if
/// any) adds candidates, the `bodyline:stack` tag decides.
pub async fn plan_teardown(
    stack: &Stack,
    config: &SdkConfig,
    root: &Path,
) -> Result<TeardownPlan, TeardownError> {
    let clients = Clients::new(config);
    let account = account(&clients, stack.target).await?;
    let names = Names::new(stack, &account);
    let state = State::load(root, &stack.name)?;
    let found = discover(
        &clients,
        &Scope {
            names: &names,
            state: state.as_ref(),
        },
    )
    .await?;
    Ok(TeardownPlan {
        stack: stack.name.clone(),
        target: stack.target,
        account,
        region: stack.region.clone(),
        state_file: state.as_ref().map(|_| State::path(root, &stack.name)),
        delete: found.owned,
        skipped: found.skipped,
        backup_prefixes: vec![
            stack.bucket.output_prefix.clone(),
            stack.bucket.failure_prefix.clone(),
        ],
        names,
        state,
    })
}

/// The 12-digit account of the configured credentials.
pub(crate) async fn account(clients: &Clients, target: Target) -> Result<String, TeardownError> {
    bodyline_aws::caller(&clients.sts)
        .await
        .map_err(|f| TeardownError::aws("GetCallerIdentity", "the configured credentials", f))?
        .account
        .ok_or(TeardownError::NoAccount { target })
}

/// One resource teardown handled: deleted by this run, or already gone.
#[derive(Debug, Clone, Serialize)]
pub struct Deletion {
    /// What it was.
    pub kind: ResourceKind,
    /// Its name.
    pub name: String,
    /// What happened.
    pub outcome: DeletionOutcome,
    /// Extra facts (objects removed, principals detached, files backed up).
    pub detail: String,
}

/// The result of [`execute`]: the steps done, the backup, and the leak check.
#[derive(Debug, Serialize)]
pub struct TeardownReport {
    /// The stack name.
    pub stack: String,
    /// Each resource handled, in order.
    pub steps: Vec<Deletion>,
    /// Files written by `--backup-dir`.
    pub backed_up: Vec<PathBuf>,
    /// Owned resources still listed by tag after the run: must be empty.
    pub leaks: Vec<OwnedResource>,
    /// The first error (teardown stops at it, to keep the order's guarantees).
    #[serde(serialize_with = "display_error")]
    pub failure: Option<TeardownError>,
    /// Whether the state file was removed (only after a clean run).
    pub state_removed: bool,
}

fn display_error<S: serde::Serializer>(e: &Option<TeardownError>, s: S) -> Result<S::Ok, S::Error> {
    match e {
        Some(e) => s.serialize_some(&e.to_string()),
        None => s.serialize_none(),
    }
}

impl TeardownReport {
    /// Everything was deleted and the leak check found nothing.
    pub fn is_clean(&self) -> bool {
        self.failure.is_none() && self.leaks.is_empty()
    }

    /// A human-readable report.
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            let what = match s.outcome {
                DeletionOutcome::Deleted => "deleted",
                DeletionOutcome::AlreadyGone => "gone   ",
            };
            out.push_str(&format!("  {what} {:<16} {}", s.kind.label(), s.name));
            if !s.detail.is_empty() {
                out.push_str(&format!(" ({})", s.detail));
            }
            out.push('\n');
        }
        if !self.backed_up.is_empty() {
            out.push_str(&format!("  backed up {} objects\n", self.backed_up.len()));
        }
        if let Some(e) = &self.failure {
            out.push_str(&format!("error: {e}\n"));
        }
        if self.leaks.is_empty() {
            out.push_str(&format!(
                "leak check: 0 resources tagged bodyline:stack={} remain\n",
                self.stack
            ));
        } else {
            out.push_str(&format!(
                "leak check: {} resources tagged bodyline:stack={} remain:\n",
                self.leaks.len(),
                self.stack
            ));
            for r in &self.leaks {
                out.push_str(&format!("  - {:<16} {}\n", r.kind.label(), r.name));
            }
        }
        if self.state_removed {
            out.push_str("state file removed\n");
        }
        out
    }
}

/// Deletes every resource of `plan` in order, stopping at the first error; then lists every
/// owned resource again by tag (the leak check) and removes the state file if nothing is left.
pub async fn execute(
    plan: &TeardownPlan,
    config: &SdkConfig,
    options: &TeardownOptions,
) -> TeardownReport {
    execute_with_progress(plan, config, options, &mut |_| {}).await
}

/// [`execute`], telling `progress` how the wait for the endpoint goes.
pub async fn execute_with_progress(
    plan: &TeardownPlan,
    config: &SdkConfig,
    options: &TeardownOptions,
    progress: &mut dyn FnMut(TeardownProgress),
) -> TeardownReport {
    let clients = Clients::new(config);
    let mut report = TeardownReport {
        stack: plan.stack.clone(),
        steps: Vec::new(),
        backed_up: Vec::new(),
        leaks: Vec::new(),
        failure: None,
        state_removed: false,
    };
    delete_in_order(&clients, plan, options, progress, &mut report).await;
    let scope = Scope {
        names: &plan.names,
        state: plan.state.as_ref(),
    };
    match discover(&clients, &scope).await {
        Ok(found) => report.leaks = found.owned,
        Err(e) => {
            report.failure.get_or_insert(e);
        }
    }
    if report.is_clean() {
        match State::remove(&options.root, &plan.stack) {
            Ok(()) => report.state_removed = plan.state.is_some(),
            Err(e) => report.failure = Some(e.into()),
        }
    }
    report
}

/// Deletes the plan's resources in order into `report`, stopping at the first error (so a
/// bucket is never deleted while the endpoint that writes into it is still there).
async fn delete_in_order(
    clients: &Clients,
    plan: &TeardownPlan,
    options: &TeardownOptions,
    progress: &mut dyn FnMut(TeardownProgress),
    report: &mut TeardownReport,
) {
    let mut deleting = Deleting {
        clients,
        options,
        backup_prefixes: &plan.backup_prefixes,
        backed_up: &mut report.backed_up,
        progress,
    };
    for resource in &plan.delete {
        tracing::info!(kind = %resource.kind, name = %resource.name, "deleting");
        let Some(registered) = registry::registration(resource.kind) else {
            report.failure = Some(TeardownError::Unregistered {
                kind: resource.kind.label(),
                name: resource.name.clone(),
            });
            break;
        };
        let delete = registered.delete;
        match delete(&mut deleting, resource).await {
            Ok((outcome, detail)) => report.steps.push(Deletion {
                kind: resource.kind,
                name: resource.name.clone(),
                outcome,
                detail,
            }),
            Err(e) => {
                report.failure = Some(e);
                break;
            }
        }
    }
}

#[cfg(test)]
mod discover_replay_tests;
#[cfg(test)]
mod replay_tests;
