//! Apply: run a plan's changes in dependency order, idempotently, and wait for the endpoint.

use bodyline_stack::{content_hash, State};
use serde::Serialize;

use crate::desired::Desired;
pub use crate::owned::applying::{ApplyOptions, Progress};
use crate::owned::ownership::Created;
use crate::plan::{Action, Kind, Plan};
use crate::resources::module::ApplyContext;
use crate::resources::MODULES;
use crate::ProvisionError;
use bodyline_aws::{CallCounts, Clients};

/// What apply did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApplyReport {
    /// The changes made, in order.
    pub applied: Vec<(Kind, String, Action)>,
    /// Planned creates that found the resource already there and the stack's (made by a
    /// concurrent run of the stack): not changes of this run.
    pub found_own: Vec<(Kind, String)>,
    /// Resources deleted after their replacements took over.
    pub retired: Vec<(Kind, String)>,
    /// The endpoint's final status.
    pub endpoint_status: String,
    /// Read and mutating calls made through the clients (observe included, if it used them).
    pub calls: CallCounts,
    /// The state to save.
    pub state: State,
}

/// Applies `plan`: each change in order, then waits for the endpoint to be `InService` and
/// deletes replaced configs and models. Running it on an up-to-date plan makes no call.
pub async fn apply(
    plan: &Plan,
    clients: &Clients,
    options: &ApplyOptions,
    progress: &mut dyn FnMut(Progress),
) -> Result<ApplyReport, ProvisionError> {
    let d = &plan.desired;
    let phases = plan.phases();
    let mut cx = ApplyContext {
        desired: d,
        clients,
        options,
        progress,
    };
    let mut applied: Vec<(Kind, String, Action)> = Vec::new();
    let mut found_own = Vec::new();
    for change in phases.before {
        let Some(step) = &change.step else {
            continue;
        };
        // A change that only retires its resource is reported when the resource is deleted,
        // after the endpoint is ready.
        let retires_itself = step
            .retires(change.kind, &change.resource)
            .contains(&(change.kind, change.resource.clone()));
        if change.action != Action::NoOp && !retires_itself {
            (cx.progress)(Progress::Applying {
                kind: change.kind,
                resource: change.resource.clone(),
                action: change.action,
            });
        }
        let created = match step.apply(change.kind, &mut cx).await {
            Ok(created) => created,
            Err(ProvisionError::TakenDuringSetup {
                kind,
                name,
                stack,
                why,
                ..
            }) => {
                return Err(ProvisionError::TakenDuringSetup {
                    kind,
                    name,
                    stack,
                    why,
                    created: applied
                        .iter()
                        .filter(|(_, _, action)| *action == Action::Create)
                        .map(|(kind, name, _)| format!("{kind} {name}"))
                        .collect(),
                })
            }
            Err(e) => return Err(e),
        };
        if created == Created::FoundOwn {
            found_own.push((change.kind, change.resource.clone()));
        } else if change.action != Action::NoOp {
            applied.push((change.kind, change.resource.clone(), change.action));
        }
    }
    let endpoint_status = match phases.wait {
        Some(step) => step.wait_ready(&mut cx).await?,
        None => "InService".to_string(),
    };
    for change in phases.after {
        (cx.progress)(Progress::Applying {
            kind: change.kind,
            resource: change.resource.clone(),
            action: change.action,
        });
        if let Some(step) = &change.step {
            step.apply(change.kind, &mut cx).await?;
        }
        applied.push((change.kind, change.resource.clone(), change.action));
    }
    let mut retired = Vec::new();
    for retirement in &phases.retire {
        (cx.progress)(Progress::Retiring {
            kind: retirement.kind,
            resource: retirement.name.clone(),
        });
        retirement
            .by
            .retire(clients, retirement.kind, &retirement.name)
            .await?;
        retired.push((retirement.kind, retirement.name.clone()));
    }
    Ok(ApplyReport {
        applied,
        found_own,
        retired,
        endpoint_status,
        calls: clients.calls(),
        state: state_of(d),
    })
}

/// The state record of an applied desired stack.
pub fn state_of(d: &Desired) -> State {
    let mut state = State {
        stack: d.stack.clone(),
        target: d.target,
        account: d.context.account.clone(),
        region: d.region.clone(),
        config_hash: Some(content_hash(d)),
        ..State::default()
    };
    for module in MODULES {
        for (key, record) in module.state_records_any(d) {
            state.resources.insert(key.to_string(), record);
        }
    }
    state
}
