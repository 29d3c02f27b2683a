//! The whole flow of `bodyline plan` and `bodyline setup`: identify, observe, plan, apply, save.

use std::path::{Path, PathBuf};

use aws_config::SdkConfig;
use bodyline_stack::{Stack, StackLock, State};

use bodyline_aws::Clients;

use crate::desired::Desired;
use crate::{
    apply, identify, observe, plan, ApplyOptions, ApplyReport, Plan, Progress, ProvisionError,
};

/// A plan together with the clients that observed it (their call counts included).
#[derive(Debug)]
pub struct Planned {
    /// The plan.
    pub plan: Plan,
    /// The clients; [`Clients::calls`] counts observe's reads.
    pub clients: Clients,
}

/// Identifies the caller, observes the stack and plans it. Makes read calls only.
///
/// `root` holds `.bodyline/state/<stack>.json`; it only matters after an interrupted setup.
pub async fn plan_stack(
    stack: &Stack,
    sdk: &SdkConfig,
    root: &Path,
) -> Result<Planned, ProvisionError> {
    let clients = Clients::new(sdk);
    let ctx = identify(stack, &clients).await?;
    // Deriving first renders and lints every policy: a bad template stops before any call
    // beyond the identity check.
    let desired = Desired::new(stack, &ctx)?;
    let state = State::load(root, &stack.name)?;
    let observed = observe(&desired, &clients, state.as_ref()).await?;
    let plan = plan(desired, &observed)?;
    Ok(Planned { plan, clients })
}

/// What `setup` did.
#[derive(Debug)]
pub struct SetupReport {
    /// The plan it applied.
    pub plan: Plan,
    /// What apply did, with the call counts of the whole run.
    pub report: ApplyReport,
    /// Where the state was saved.
    pub state_path: PathBuf,
}

/// Plans and applies the stack, then saves `.bodyline/state/<stack>.json` under `root`.
///
/// Holds the stack's lock under `root` ([`StackLock`]) from before observe to after the state
/// is saved: a second setup of the stack from the same root is refused, naming this one.
pub async fn setup(
    stack: &Stack,
    sdk: &SdkConfig,
    root: &Path,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<SetupReport, ProvisionError> {
    let _lock = StackLock::acquire(root, &stack.name, "setup")?;
    let Planned { plan, clients } = plan_stack(stack, sdk, root).await?;
    record_untaggable_creations(&plan, root)?;
    let report = apply(&plan, &clients, options, progress).await?;
    let state_path = report.state.save(root)?;
    Ok(SetupReport {
        plan,
        report,
        state_path,
    })
}

/// A create that cannot tag in the same call (S3 creates a bucket untagged and tags it in a
/// second call) is recorded in the state file as being created before it runs, so if setup dies
/// in between, the next setup adopts that resource and teardown deletes it — instead of both
/// treating it as someone else's. Each module says which of its steps need it.
fn record_untaggable_creations(plan: &Plan, root: &Path) -> Result<(), ProvisionError> {
    let d = &plan.desired;
    let records: Vec<_> = plan
        .changes
        .iter()
        .filter_map(|c| c.step.as_ref()?.recorded_before(d))
        .collect();
    if records.is_empty() {
        return Ok(());
    }
    let mut state = State::load(root, &d.stack)?.unwrap_or_else(|| State {
        stack: d.stack.clone(),
        target: d.target,
        account: d.context.account.clone(),
        region: d.region.clone(),
        ..State::default()
    });
    for (key, record) in records {
        state.creating.insert(key.to_string(), record);
    }
    state.save(root)?;
    Ok(())
}
