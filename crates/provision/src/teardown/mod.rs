//! Teardown: plan from the state file and tag discovery, delete in dependency order, treat
//! "not found" as done, then list everything again by tag to prove nothing leaked.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_applicationautoscaling::types::{ScalableDimension, ServiceNamespace};
use bodyline_stack::{Names, Stack, State, Target};
use serde::Serialize;

use bodyline_aws::AwsFailure;
use bodyline_aws::Clients;
use discover::{discover, Scope};
use failure::{aws_error, none_if_missing};

mod bucket;
mod discover;
mod error;
mod failure;
mod inventory;
mod listing;
mod resource;
mod sweep;

pub use bucket::keys_under;
pub use error::TeardownError;
pub use inventory::TaggedResource;
pub use resource::{FoundBy, OwnedResource, ResourceKind, ScalingRef, SkipReason, Skipped};
pub use sweep::{
    execute_sweep, plan_sweep, SweepDecision, SweepOptions, SweepPlan, SweepReport, SweepStack,
    SweptStack,
};

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
    let out = clients
        .sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws_error("GetCallerIdentity", "the configured credentials", e))?;
    out.account()
        .map(str::to_string)
        .ok_or(TeardownError::NoAccount { target })
}

/// How to run a teardown.
#[derive(Debug, Clone)]
pub struct TeardownOptions {
    /// The project root (the state file lives under it and is removed after a clean run).
    pub root: PathBuf,
    /// Download every output and failure object here (`<dir>/<bucket>/<key>`) before the
    /// bucket is emptied.
    pub backup_dir: Option<PathBuf>,
    /// How long to wait for a deleted endpoint to disappear (`--wait-timeout`). Past it,
    /// teardown stops with [`TeardownError::EndpointStillPresent`] before the bucket, and the
    /// next run continues the wait (without deleting the endpoint twice).
    pub endpoint_timeout: Duration,
    /// The longest pause between two `DescribeEndpoint` calls while waiting: pauses start at
    /// 100 ms (or this, if shorter) and double up to it.
    pub poll_interval: Duration,
}

/// What teardown is doing, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TeardownProgress {
    /// Waiting for a deleted endpoint to be gone.
    Waiting {
        /// The endpoint.
        endpoint: String,
        /// Its current status, e.g. `Deleting`.
        status: String,
        /// How long this run has waited.
        elapsed: Duration,
    },
}

impl TeardownOptions {
    /// Defaults for a project root: no backup, 30 minutes for the endpoint.
    pub fn new(root: impl Into<PathBuf>) -> TeardownOptions {
        TeardownOptions {
            root: root.into(),
            backup_dir: None,
            endpoint_timeout: Duration::from_secs(30 * 60),
            poll_interval: Duration::from_secs(10),
        }
    }
}

/// What happened to one resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeletionOutcome {
    /// Deleted by this run.
    Deleted,
    /// Already gone when its turn came (NotFound is success).
    AlreadyGone,
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

type StepResult = Result<(DeletionOutcome, String), TeardownError>;

/// Deletes the plan's resources in order into `report`, stopping at the first error (so a
/// bucket is never deleted while the endpoint that writes into it is still there).
async fn delete_in_order(
    clients: &Clients,
    plan: &TeardownPlan,
    options: &TeardownOptions,
    progress: &mut dyn FnMut(TeardownProgress),
    report: &mut TeardownReport,
) {
    for resource in &plan.delete {
        tracing::info!(kind = %resource.kind, name = %resource.name, "deleting");
        match delete(
            clients,
            plan,
            options,
            resource,
            &mut report.backed_up,
            progress,
        )
        .await
        {
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

/// The outcome of a delete call that returned `deleted` (`false`: the resource was not found).
fn deleted_or_already_gone(deleted: bool, detail: String) -> (DeletionOutcome, String) {
    if deleted {
        (DeletionOutcome::Deleted, detail)
    } else {
        (DeletionOutcome::AlreadyGone, detail)
    }
}

async fn delete(
    clients: &Clients,
    plan: &TeardownPlan,
    options: &TeardownOptions,
    r: &OwnedResource,
    backed_up: &mut Vec<PathBuf>,
    progress: &mut dyn FnMut(TeardownProgress),
) -> StepResult {
    let name = r.name.as_str();
    match r.kind {
        ResourceKind::ScalingPolicy | ResourceKind::ScalableTarget => {
            let Some(scaling) = &r.scaling else {
                return Ok((
                    DeletionOutcome::AlreadyGone,
                    "no scaling coordinates".into(),
                ));
            };
            let dimension = ScalableDimension::from(scaling.dimension.as_str());
            let deleted = if r.kind == ResourceKind::ScalingPolicy {
                none_if_missing(
                    "DeleteScalingPolicy",
                    name,
                    clients
                        .scaling
                        .delete_scaling_policy()
                        .policy_name(name)
                        .service_namespace(ServiceNamespace::Sagemaker)
                        .resource_id(&scaling.resource_id)
                        .scalable_dimension(dimension)
                        .send()
                        .await,
                )?
                .is_some()
            } else {
                none_if_missing(
                    "DeregisterScalableTarget",
                    name,
                    clients
                        .scaling
                        .deregister_scalable_target()
                        .service_namespace(ServiceNamespace::Sagemaker)
                        .resource_id(&scaling.resource_id)
                        .scalable_dimension(dimension)
                        .send()
                        .await,
                )?
                .is_some()
            };
            Ok(deleted_or_already_gone(deleted, String::new()))
        }
        ResourceKind::Endpoint => delete_endpoint(clients, options, name, progress).await,
        ResourceKind::EndpointConfig => {
            let deleted = none_if_missing(
                "DeleteEndpointConfig",
                name,
                clients
                    .sagemaker
                    .delete_endpoint_config()
                    .endpoint_config_name(name)
                    .send()
                    .await,
            )?
            .is_some();
            Ok(deleted_or_already_gone(deleted, String::new()))
        }
        ResourceKind::Model => {
            let deleted = none_if_missing(
                "DeleteModel",
                name,
                clients
                    .sagemaker
                    .delete_model()
                    .model_name(name)
                    .send()
                    .await,
            )?
            .is_some();
            Ok(deleted_or_already_gone(deleted, String::new()))
        }
        // Untagged: never emptied, and S3 refuses to delete it if anything is in it now.
        ResourceKind::Bucket if r.found_by == FoundBy::InterruptedSetup => {
            match clients.s3.delete_bucket().bucket(name).send().await {
                Ok(_) => Ok((
                    DeletionOutcome::Deleted,
                    "empty and untagged: an interrupted setup's".to_string(),
                )),
                Err(err) => {
                    let failure = AwsFailure::of(&err);
                    if failure.is_not_found() {
                        Ok((DeletionOutcome::AlreadyGone, String::new()))
                    } else {
                        Err(TeardownError::aws("DeleteBucket", name, failure))
                    }
                }
            }
        }
        ResourceKind::Bucket => delete_bucket(clients, plan, options, name, backed_up).await,
        ResourceKind::Topic => {
            let arn = r.arn.as_deref().unwrap_or(name);
            let deleted = none_if_missing(
                "DeleteTopic",
                arn,
                clients.sns.delete_topic().topic_arn(arn).send().await,
            )?
            .is_some();
            Ok(deleted_or_already_gone(deleted, String::new()))
        }
        ResourceKind::Alarm => {
            clients
                .cloudwatch
                .delete_alarms()
                .alarm_names(name)
                .send()
                .await
                .map_err(|e| aws_error("DeleteAlarms", name, e))?;
            // DeleteAlarms succeeds for names that do not exist: the leak check confirms.
            Ok((DeletionOutcome::Deleted, String::new()))
        }
        ResourceKind::User => delete_user(&clients.iam, name).await,
        ResourceKind::ManagedPolicy => {
            let arn = r.arn.as_deref().unwrap_or(name);
            delete_policy(clients, arn).await
        }
        ResourceKind::Role => delete_role(clients, name).await,
    }
}

/// Deletes the endpoint and waits until it is gone. An endpoint already `Deleting` (an
/// earlier run timed out waiting for it) is only waited for: it is not deleted twice.
async fn delete_endpoint(
    clients: &Clients,
    options: &TeardownOptions,
    name: &str,
    progress: &mut dyn FnMut(TeardownProgress),
) -> StepResult {
    let Some(status) = endpoint_status(clients, name).await? else {
        return Ok((DeletionOutcome::AlreadyGone, String::new()));
    };
    let already_deleting = status == "Deleting";
    let deleted = already_deleting
        || none_if_missing(
            "DeleteEndpoint",
            name,
            clients
                .sagemaker
                .delete_endpoint()
                .endpoint_name(name)
                .send()
                .await,
        )?
        .is_some();
    let waited = wait_until_gone(clients, name, options, progress).await?;
    let detail = if already_deleting {
        format!(
            "already Deleting (an earlier run deleted it), gone after {} ms",
            waited.as_millis()
        )
    } else {
        format!("gone after {} ms", waited.as_millis())
    };
    Ok(deleted_or_already_gone(deleted, detail))
}

/// The endpoint's `EndpointStatus`, `None` once it is gone.
async fn endpoint_status(
    clients: &Clients,
    endpoint: &str,
) -> Result<Option<String>, TeardownError> {
    let described = none_if_missing(
        "DescribeEndpoint",
        endpoint,
        clients
            .sagemaker
            .describe_endpoint()
            .endpoint_name(endpoint)
            .send()
            .await,
    )?;
    Ok(described.map(|d| {
        d.endpoint_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default()
    }))
}

async fn wait_until_gone(
    clients: &Clients,
    endpoint: &str,
    options: &TeardownOptions,
    progress: &mut dyn FnMut(TeardownProgress),
) -> Result<Duration, TeardownError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(100).min(options.poll_interval);
    loop {
        let Some(status) = endpoint_status(clients, endpoint).await? else {
            return Ok(start.elapsed());
        };
        let elapsed = start.elapsed();
        if elapsed >= options.endpoint_timeout {
            return Err(TeardownError::EndpointStillPresent {
                endpoint: endpoint.to_string(),
                status,
                waited_secs: elapsed.as_secs(),
            });
        }
        progress(TeardownProgress::Waiting {
            endpoint: endpoint.to_string(),
            status,
            elapsed,
        });
        tokio::time::sleep(pause.min(options.endpoint_timeout - elapsed)).await;
        pause = (pause * 2).min(options.poll_interval);
    }
}

async fn delete_bucket(
    clients: &Clients,
    plan: &TeardownPlan,
    options: &TeardownOptions,
    name: &str,
    backed_up: &mut Vec<PathBuf>,
) -> StepResult {
    let mut detail = Vec::new();
    if let Some(dir) = &options.backup_dir {
        match bucket::backup(&clients.s3, name, &plan.backup_prefixes, dir).await? {
            Some(files) => {
                detail.push(format!("{} objects backed up", files.len()));
                backed_up.extend(files);
            }
            None => return Ok((DeletionOutcome::AlreadyGone, String::new())),
        }
    }
    // Outputs can still land between emptying and deleting: inferences accepted before the
    // endpoint went away finish later (on AWS, and in the local runtime, which drains its
    // queue). A BucketNotEmpty empties again after a pause, for as long as the bucket keeps
    // filling, up to two minutes.
    let mut removed = bucket::Emptied::default();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut pause = Duration::from_millis(200);
    loop {
        let Some(emptied) = bucket::empty(&clients.s3, name).await? else {
            return Ok((DeletionOutcome::AlreadyGone, detail.join(", ")));
        };
        removed.versions += emptied.versions;
        removed.uploads += emptied.uploads;
        match clients.s3.delete_bucket().bucket(name).send().await {
            Ok(_) => {
                detail.push(format!(
                    "{} object versions, {} uploads removed",
                    removed.versions, removed.uploads
                ));
                return Ok((DeletionOutcome::Deleted, detail.join(", ")));
            }
            Err(err) => {
                let failure = AwsFailure::of(&err);
                if failure.is_not_found() {
                    return Ok((DeletionOutcome::AlreadyGone, detail.join(", ")));
                }
                if failure.code.as_deref() != Some("BucketNotEmpty") || Instant::now() > deadline {
                    return Err(TeardownError::aws("DeleteBucket", name, failure));
                }
            }
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// Deletes an IAM user with its access keys and policies (verify's temporary invoker, too);
/// a user already gone is [`DeletionOutcome::AlreadyGone`].
pub async fn delete_user(
    iam: &aws_sdk_iam::Client,
    user: &str,
) -> Result<(DeletionOutcome, String), TeardownError> {
    let Some(keys) = none_if_missing(
        "ListAccessKeys",
        user,
        iam.list_access_keys().user_name(user).send().await,
    )?
    else {
        return Ok((DeletionOutcome::AlreadyGone, String::new()));
    };
    for key in keys.access_key_metadata() {
        if let Some(id) = key.access_key_id() {
            none_if_missing(
                "DeleteAccessKey",
                user,
                iam.delete_access_key()
                    .user_name(user)
                    .access_key_id(id)
                    .send()
                    .await,
            )?;
        }
    }
    if let Some(attached) = none_if_missing(
        "ListAttachedUserPolicies",
        user,
        iam.list_attached_user_policies()
            .user_name(user)
            .send()
            .await,
    )? {
        for arn in attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
        {
            none_if_missing(
                "DetachUserPolicy",
                user,
                iam.detach_user_policy()
                    .user_name(user)
                    .policy_arn(arn)
                    .send()
                    .await,
            )?;
        }
    }
    if let Some(inline) = none_if_missing(
        "ListUserPolicies",
        user,
        iam.list_user_policies().user_name(user).send().await,
    )? {
        for policy in inline.policy_names() {
            none_if_missing(
                "DeleteUserPolicy",
                user,
                iam.delete_user_policy()
                    .user_name(user)
                    .policy_name(policy)
                    .send()
                    .await,
            )?;
        }
    }
    let deleted = none_if_missing(
        "DeleteUser",
        user,
        iam.delete_user().user_name(user).send().await,
    )?
    .is_some();
    Ok(deleted_or_already_gone(deleted, String::new()))
}

async fn delete_policy(clients: &Clients, arn: &str) -> StepResult {
    let iam = &clients.iam;
    // Detach first: moto's DeletePolicy succeeds on an attached policy and leaves roles that can
    // never be deleted; AWS refuses it.
    let mut detached = 0;
    let mut pages = iam
        .list_entities_for_policy()
        .policy_arn(arn)
        .into_paginator()
        .send();
    let mut roles = Vec::new();
    let mut users = Vec::new();
    let mut groups = Vec::new();
    while let Some(page) = pages.next().await {
        let Some(page) = none_if_missing("ListEntitiesForPolicy", arn, page)? else {
            return Ok((DeletionOutcome::AlreadyGone, String::new()));
        };
        roles.extend(
            page.policy_roles()
                .iter()
                .filter_map(|r| r.role_name())
                .map(str::to_string),
        );
        users.extend(
            page.policy_users()
                .iter()
                .filter_map(|u| u.user_name())
                .map(str::to_string),
        );
        groups.extend(
            page.policy_groups()
                .iter()
                .filter_map(|g| g.group_name())
                .map(str::to_string),
        );
    }
    for role in &roles {
        none_if_missing(
            "DetachRolePolicy",
            role,
            iam.detach_role_policy()
                .role_name(role)
                .policy_arn(arn)
                .send()
                .await,
        )?;
        detached += 1;
    }
    for user in &users {
        none_if_missing(
            "DetachUserPolicy",
            user,
            iam.detach_user_policy()
                .user_name(user)
                .policy_arn(arn)
                .send()
                .await,
        )?;
        detached += 1;
    }
    for group in &groups {
        none_if_missing(
            "DetachGroupPolicy",
            group,
            iam.detach_group_policy()
                .group_name(group)
                .policy_arn(arn)
                .send()
                .await,
        )?;
        detached += 1;
    }
    let mut versions = 0;
    if let Some(listed) = none_if_missing(
        "ListPolicyVersions",
        arn,
        iam.list_policy_versions().policy_arn(arn).send().await,
    )? {
        for v in listed.versions().iter().filter(|v| !v.is_default_version()) {
            if let Some(id) = v.version_id() {
                none_if_missing(
                    "DeletePolicyVersion",
                    arn,
                    iam.delete_policy_version()
                        .policy_arn(arn)
                        .version_id(id)
                        .send()
                        .await,
                )?;
                versions += 1;
            }
        }
    }
    let deleted = none_if_missing(
        "DeletePolicy",
        arn,
        iam.delete_policy().policy_arn(arn).send().await,
    )?
    .is_some();
    Ok(deleted_or_already_gone(
        deleted,
        format!("detached from {detached} principals, {versions} old versions deleted"),
    ))
}

async fn delete_role(clients: &Clients, role: &str) -> StepResult {
    let iam = &clients.iam;
    let Some(inline) = none_if_missing(
        "ListRolePolicies",
        role,
        iam.list_role_policies().role_name(role).send().await,
    )?
    else {
        return Ok((DeletionOutcome::AlreadyGone, String::new()));
    };
    for policy in inline.policy_names() {
        none_if_missing(
            "DeleteRolePolicy",
            role,
            iam.delete_role_policy()
                .role_name(role)
                .policy_name(policy)
                .send()
                .await,
        )?;
    }
    let mut detached = 0;
    if let Some(attached) = none_if_missing(
        "ListAttachedRolePolicies",
        role,
        iam.list_attached_role_policies()
            .role_name(role)
            .send()
            .await,
    )? {
        for arn in attached
            .attached_policies()
            .iter()
            .filter_map(|p| p.policy_arn())
        {
            none_if_missing(
                "DetachRolePolicy",
                role,
                iam.detach_role_policy()
                    .role_name(role)
                    .policy_arn(arn)
                    .send()
                    .await,
            )?;
            detached += 1;
        }
    }
    let deleted = none_if_missing(
        "DeleteRole",
        role,
        iam.delete_role().role_name(role).send().await,
    )?
    .is_some();
    Ok(deleted_or_already_gone(
        deleted,
        format!(
            "{} inline policies deleted, {detached} managed detached",
            inline.policy_names().len()
        ),
    ))
}

#[cfg(test)]
mod replay_tests;
