//! A sixth kind of resource, written as one module and nothing else: a hypothetical CloudWatch
//! dashboard for the endpoint, declared here with its `Kind`, `ResourceKind`, observed shape,
//! steps, desired part (derived from `Desired::source`), tagged listing and teardown
//! registration. Listed beside the five real modules — the one line `resources::MODULES` would
//! get — it is observed, judged by its tag, planned after the others, applied, placed in
//! teardown's order, and found by discovery through its own listing, with no line of
//! `observe.rs`, `plan.rs`, `apply.rs`, `desired.rs`, the registry or `teardown/` naming it.

use std::sync::atomic::{AtomicUsize, Ordering};

use aws_smithy_http_client::test_util::StaticReplayClient;
use bodyline_aws::Clients;
use bodyline_stack::{Names, State, STACK_TAG};

use crate::desired::Desired;
use crate::observe::Observed;
use crate::owned::deleting::{Deleting, Pending};
use crate::owned::listing::{Filter, ListFuture, Listed, Listing, Scope};
use crate::owned::ownership::{check_owned, Created};
use crate::owned::planned::{Action, Kind, Planned};
use crate::owned::registration::{registered, Owns};
use crate::owned::resource::{FoundBy, OwnedResource, ResourceKind};
use crate::plan::{plan_modules, Plan};
use crate::resources::module::{AnyResource, ApplyContext, InFlight, Resource};
use crate::resources::{owned, MODULES};
use crate::teardown::discover::discover_modules;
use crate::teardown::registry::{assemble, listings, planned_but_unregistered};
use crate::testutil::replay::{json, nothing_after_scaling, operations, sdk, AFTER_SCALING};
use crate::testutil::{desired, stack, up_to_date, ACCOUNT};
use crate::{apply, ApplyOptions, DeletionOutcome, ProvisionError};

#[allow(non_upper_case_globals)]
impl Kind {
    const Dashboard: Kind = Kind::new("dashboard", "dashboard");
}

#[allow(non_upper_case_globals)]
impl ResourceKind {
    // Deleted after the model and before the bucket: a free position between 60 and 70.
    const Dashboard: ResourceKind = ResourceKind::new(65, "dashboard", "dashboard");
}

/// Its desired part, derived in the module from the stack file.
fn dashboard_name(d: &Desired) -> String {
    format!("{}-endpoint", d.source.name)
}

#[derive(Debug, Clone, Default)]
struct DashboardObserved {
    /// `None`: no dashboard by the stack's name.
    tags: Option<Vec<(String, String)>>,
}

#[derive(Debug, Clone, PartialEq)]
enum DashboardStep {
    Put { title: String },
}

/// Counts the module's applies and deletes (no AWS call: the point is who calls it).
static PUTS: AtomicUsize = AtomicUsize::new(0);

fn delete_dashboard<'a>(_cx: &'a mut Deleting<'_>, _r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async { Ok((DeletionOutcome::Deleted, String::new())) })
}

/// Its listing, after the alarms and before the buckets (a free position between 30 and 40).
const DASHBOARDS: Listing = Listing::new(35, "dashboards", list_dashboards);

/// Counts the listing's runs.
static LISTED: AtomicUsize = AtomicUsize::new(0);

/// What a dashboard service would list for the stack (no AWS call): its dashboard, tagged for
/// it, and another stack's look-alike, which discovery must leave alone.
fn list_dashboards<'a>(_: &'a Clients, filter: &'a Filter<'a>, _: &'a [Listed]) -> ListFuture<'a> {
    Box::pin(async move {
        LISTED.fetch_add(1, Ordering::SeqCst);
        let dashboard = |name: String, stack: &str| Listed {
            kind: ResourceKind::Dashboard,
            arn: Some(format!("arn:aws:cloudwatch::{ACCOUNT}:dashboard/{name}")),
            name,
            created: None,
            regional: true,
            tags: vec![(STACK_TAG.to_string(), stack.to_string())],
            scaling: None,
        };
        let stack = filter.stack.unwrap_or("demo");
        Ok(vec![
            dashboard(format!("{stack}-endpoint"), stack),
            dashboard(format!("{stack}-other-endpoint"), "other"),
        ])
    })
}

const OWNS: Owns = Owns {
    plans: &[Kind::Dashboard],
    teardown: &[registered(
        ResourceKind::Dashboard,
        &[Kind::Dashboard],
        &DASHBOARDS,
        delete_dashboard,
    )],
};

struct Dashboard;

impl Resource for Dashboard {
    type Observed = DashboardObserved;
    type Step = DashboardStep;

    fn owns(&self) -> Owns {
        OWNS
    }

    fn observe<'a>(
        &'a self,
        _desired: &'a Desired,
        _clients: &'a Clients,
        _state: Option<&'a State>,
    ) -> InFlight<'a, DashboardObserved> {
        Box::pin(async { Ok(DashboardObserved::default()) })
    }

    fn check_ownership(&self, d: &Desired, o: &DashboardObserved) -> Result<(), ProvisionError> {
        match &o.tags {
            Some(tags) => check_owned(d, Kind::Dashboard, &dashboard_name(d), tags),
            None => Ok(()),
        }
    }

    fn plan(&self, d: &Desired, o: &DashboardObserved) -> Vec<Planned<DashboardStep>> {
        let (action, detail, step) = match o.tags {
            None => (
                Action::Create,
                "new dashboard",
                Some(DashboardStep::Put {
                    title: format!("{} on {}", d.source.name, d.source.endpoint.instance_type),
                }),
            ),
            Some(_) => (Action::NoOp, "exists, tagged", None),
        };
        vec![Planned {
            kind: Kind::Dashboard,
            resource: dashboard_name(d),
            action,
            detail: detail.into(),
            step,
        }]
    }

    fn apply<'a>(
        &'a self,
        _step: &'a DashboardStep,
        _kind: Kind,
        _cx: &'a mut ApplyContext<'_>,
    ) -> InFlight<'a, Created> {
        Box::pin(async {
            PUTS.fetch_add(1, Ordering::SeqCst);
            Ok(Created::New)
        })
    }

    fn up_to_date(&self, d: &Desired) -> DashboardObserved {
        DashboardObserved {
            tags: Some(d.tags.clone()),
        }
    }
}

/// The five modules and the sixth: what `resources::MODULES` would be with its one new line.
fn with_dashboard() -> Vec<&'static dyn AnyResource> {
    MODULES
        .iter()
        .copied()
        .chain([&Dashboard as &'static dyn AnyResource])
        .collect()
}

#[tokio::test]
async fn a_sixth_module_is_planned_applied_and_torn_down_through_its_module_alone() {
    let modules = with_dashboard();
    let s = stack("aws");
    let d = desired(&s);

    // A fresh account: its change comes last, in MODULES order, with its own step.
    let fresh = plan_modules(&modules, &d, &Observed::default()).unwrap();
    let last = fresh.last().unwrap();
    assert_eq!(
        (last.kind, last.resource.as_str(), last.action),
        (Kind::Dashboard, "demo-endpoint", Action::Create)
    );
    assert_eq!(
        last.step
            .as_ref()
            .and_then(|s| s.downcast::<DashboardStep>()),
        Some(&DashboardStep::Put {
            title: "demo on ml.m5.large".into()
        })
    );

    // The five up to date, the dashboard missing: apply runs its step and nothing else (the
    // replay client has no answer for any AWS call).
    let observed = up_to_date(&d);
    let changes = plan_modules(&modules, &d, &observed).unwrap();
    let plan = Plan {
        desired: d.clone(),
        changes,
    };
    let pending: Vec<Kind> = plan.pending().map(|c| c.kind).collect();
    assert_eq!(pending, vec![Kind::Dashboard]);
    let client = StaticReplayClient::new(Vec::new());
    let clients = Clients::new(&sdk(&client));
    let before = PUTS.load(Ordering::SeqCst);
    let report = apply(&plan, &clients, &ApplyOptions::default(), &mut |_| {})
        .await
        .unwrap();
    assert_eq!(PUTS.load(Ordering::SeqCst), before + 1);
    assert_eq!(
        report.applied,
        vec![(Kind::Dashboard, "demo-endpoint".to_string(), Action::Create)]
    );
    assert_eq!(
        (report.calls.read, report.calls.mutating),
        (0, 0),
        "{:?}",
        report.calls
    );

    // Up to date with its own baseline: nothing to do.
    let mut all = observed.clone();
    all.insert(Dashboard.up_to_date_any(&d));
    assert!(plan_modules(&modules, &d, &all)
        .unwrap()
        .iter()
        .all(|c| c.action == Action::NoOp));

    // A same-named dashboard without the stack's tag stops the plan, naming it.
    let mut foreign = observed;
    foreign.insert(Box::new(DashboardObserved {
        tags: Some(vec![("team".into(), "data".into())]),
    }));
    let err = plan_modules(&modules, &d, &foreign).unwrap_err();
    assert!(
        matches!(&err, ProvisionError::Foreign { kind: "dashboard", name, .. } if name == "demo-endpoint"),
        "{err}"
    );

    // Teardown: its registration takes its place in deletion order, and it is registered
    // for what it plans.
    let owns: Vec<Owns> = modules.iter().map(|m| m.owns()).collect();
    assert_eq!(owns.len(), owned().len() + 1);
    assert_eq!(planned_but_unregistered(&owns), Vec::<Kind>::new());
    let order: Vec<ResourceKind> = assemble(&owns).iter().map(|r| r.kind).collect();
    let at = order
        .iter()
        .position(|k| *k == ResourceKind::Dashboard)
        .unwrap();
    assert_eq!(
        (order[at - 1], order[at + 1]),
        (ResourceKind::Model, ResourceKind::Bucket)
    );

    // Discovery: its listing runs in its place among the five modules' (after the alarms,
    // before the buckets), and what it lists is judged like any other kind: the stack's
    // dashboard is owned, found by its tag; the other stack's is left alone.
    let ids: Vec<&str> = listings(&owns).iter().map(|l| l.id).collect();
    assert_eq!(
        ids,
        [
            "sagemaker",
            "scaling",
            "alarms",
            "dashboards",
            "buckets",
            "topics",
            "iam"
        ]
    );
    let names = Names::new(&s, ACCOUNT);
    let scope = Scope {
        names: &names,
        state: None,
    };
    // An account with nothing in it: every real listing gets one empty answer.
    let mut events = vec![
        json(200, r#"{"Endpoints":[]}"#),
        json(200, r#"{"EndpointConfigs":[]}"#),
        json(200, r#"{"Models":[]}"#),
        json(200, r#"{"ScalableTargets":[]}"#),
    ];
    events.extend(nothing_after_scaling());
    let client = StaticReplayClient::new(events);
    let listed_before = LISTED.load(Ordering::SeqCst);
    let found = discover_modules(&Clients::new(&sdk(&client)), &scope, &owns)
        .await
        .unwrap();
    assert_eq!(LISTED.load(Ordering::SeqCst), listed_before + 1);
    assert_eq!(
        found.owned,
        vec![OwnedResource {
            kind: ResourceKind::Dashboard,
            name: "demo-endpoint".into(),
            arn: Some(format!(
                "arn:aws:cloudwatch::{ACCOUNT}:dashboard/demo-endpoint"
            )),
            scaling: None,
            found_by: FoundBy::Tag,
        }]
    );
    assert!(found.skipped.is_empty(), "{:?}", found.skipped);
    let until_scaling = [
        "ListEndpoints",
        "ListEndpointConfigs",
        "ListModels",
        "AnyScaleFrontendService.DescribeScalableTargets",
    ];
    assert_eq!(
        operations(&client),
        [&until_scaling[..], &AFTER_SCALING].concat()
    );
}
