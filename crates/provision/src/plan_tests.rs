//! plan() cases: fresh account, up to date, changed config, foreign and other-stack clashes.

use bodyline_stack::{MANAGED_TAG, STACK_TAG};

use super::*;
use crate::owned::ownership::Tagged;
use crate::resources::bucket::BucketObserved;
use crate::resources::iam::{self, IamObserved};
use crate::resources::sagemaker::{self, ConfigObserved, SageMakerObserved};
use crate::resources::scaling::{self, ScalingObserved};
use crate::testutil::{desired, stack, stack_with, up_to_date};

/// A change's step, if its module's steps are `S`.
fn step<S: Clone + 'static>(c: &Change) -> Option<S> {
    c.step.as_ref().and_then(|s| s.downcast::<S>()).cloned()
}

fn actions(plan: &Plan) -> Vec<(Kind, Action)> {
    plan.changes.iter().map(|c| (c.kind, c.action)).collect()
}

fn change(plan: &Plan, kind: Kind) -> &Change {
    match plan.changes.iter().find(|c| c.kind == kind) {
        Some(c) => c,
        None => panic!("no {kind} change in {:#?}", plan.changes),
    }
}

#[test]
fn a_fresh_account_creates_everything_in_dependency_order() {
    let plan = plan(desired(&stack("local")), &Observed::default()).unwrap();
    assert!(plan.has_changes());
    assert_eq!(
        actions(&plan),
        vec![
            (Kind::Bucket, Action::Create),
            (Kind::PublicAccessBlock, Action::Create),
            (Kind::Encryption, Action::Create),
            (Kind::OwnershipControls, Action::Create),
            (Kind::Lifecycle, Action::Create),
            // moto applies a conditional Deny unconditionally: skipped, and said so.
            (Kind::BucketPolicy, Action::NoOp),
            (Kind::SuccessTopic, Action::Create),
            (Kind::ErrorTopic, Action::Create),
            (Kind::ExecutionRole, Action::Create),
            (Kind::ExecutionPolicy, Action::Create),
            (Kind::InvokerPolicy, Action::Create),
            (Kind::InvokerAttachments, Action::Create),
            (Kind::Model, Action::Create),
            (Kind::EndpointConfig, Action::Create),
            (Kind::Endpoint, Action::Create),
        ]
    );
    assert!(change(&plan, Kind::BucketPolicy)
        .detail
        .contains("skipped on the local target"));
    assert!(change(&plan, Kind::ExecutionRole)
        .detail
        .contains("bodyline-admin"));
}

#[test]
fn the_aws_target_plans_the_tls_policy_and_no_local_trust() {
    let plan = plan(desired(&stack("aws")), &Observed::default()).unwrap();
    assert_eq!(change(&plan, Kind::BucketPolicy).action, Action::Create);
    assert!(!change(&plan, Kind::ExecutionRole).detail.contains("local"));
}

#[test]
fn an_up_to_date_account_is_all_no_op() {
    for target in ["local", "aws"] {
        let s = stack(target);
        let plan = plan(desired(&s), &up_to_date(&desired(&s))).unwrap();
        assert!(
            !plan.has_changes(),
            "{target}: {:#?}",
            plan.pending().collect::<Vec<_>>()
        );
    }
}

#[test]
fn drifted_bucket_settings_and_policies_are_updated() {
    let s = stack("aws");
    let d = desired(&s);
    let mut o = up_to_date(&d);
    if let Some(b) = o.part_mut::<Option<BucketObserved>>().as_mut() {
        b.public_access_block = Some([true, true, false, true]);
        b.lifecycle.pop();
        b.policy = None;
    }
    if let Some(r) = o.part_mut::<IamObserved>().role.as_mut() {
        r.policy = Some(serde_json::json!({"Version": "2012-10-17", "Statement": []}));
    }
    let plan = plan(desired(&s), &o).unwrap();
    let pending: Vec<(Kind, Action)> = plan.pending().map(|c| (c.kind, c.action)).collect();
    assert_eq!(
        pending,
        vec![
            (Kind::PublicAccessBlock, Action::Update),
            (Kind::Lifecycle, Action::Update),
            (Kind::BucketPolicy, Action::Update),
            (Kind::ExecutionPolicy, Action::Update),
        ]
    );
}

/// The account as the old stack left it, seen by the new stack's observe: the endpoint runs
/// the old config, which is found (and judged by tag) through the endpoint.
fn observed_after_change(old: &Desired, new: &Desired) -> Observed {
    let mut observed = up_to_date(old);
    let o = observed.part_mut::<SageMakerObserved>();
    o.model = (old.model.name == new.model.name)
        .then(|| o.model.clone())
        .flatten();
    o.endpoint_config = None;
    if let Some(e) = o.endpoint.as_mut() {
        e.current_config = Some(ConfigObserved {
            name: old.endpoint_config.name.clone(),
            tags: old.tags.clone(),
            model: (old.model.name != new.model.name).then(|| Tagged {
                name: old.model.name.clone(),
                arn: old.model.arn.clone(),
                tags: old.tags.clone(),
            }),
        });
    }
    observed
}

#[test]
fn a_changed_config_is_replaced_and_the_endpoint_moves() {
    let old = desired(&stack("local"));
    for (target, recreate) in [("local", true), ("aws", false)] {
        let s = stack_with(target, "max_concurrent_invocations_per_instance = 8");
        let new = desired(&s);
        let old = if target == "local" {
            old.clone()
        } else {
            desired(&stack("aws"))
        };
        assert_ne!(old.endpoint_config.name, new.endpoint_config.name);
        assert_eq!(old.model.name, new.model.name);
        let plan = plan(desired(&s), &observed_after_change(&old, &new)).unwrap();
        let pending: Vec<(Kind, Action)> = plan.pending().map(|c| (c.kind, c.action)).collect();
        assert_eq!(
            pending,
            vec![
                (Kind::EndpointConfig, Action::Replace),
                (Kind::Endpoint, Action::Update)
            ],
            "{target}"
        );
        let endpoint = change(&plan, Kind::Endpoint);
        assert_eq!(
            step::<sagemaker::Step>(endpoint),
            Some(sagemaker::Step::SwitchEndpoint {
                recreate,
                retire_config: Some(old.endpoint_config.name.clone()),
                retire_model: None,
            }),
            "{target}"
        );
        if target == "local" {
            assert!(
                endpoint.detail.contains("moto has no UpdateEndpoint"),
                "{}",
                endpoint.detail
            );
        }
    }
}

#[test]
fn a_changed_model_replaces_model_and_config_and_retires_both() {
    let old = desired(&stack("aws"));
    let mut s = stack("aws");
    s.model.image = format!(
        "{}.dkr.ecr.us-east-1.amazonaws.com/scorer:2",
        crate::testutil::ACCOUNT
    );
    let new = desired(&s);
    let plan = plan(desired(&s), &observed_after_change(&old, &new)).unwrap();
    assert_eq!(change(&plan, Kind::Model).action, Action::Replace);
    assert_eq!(change(&plan, Kind::EndpointConfig).action, Action::Replace);
    assert_eq!(
        step::<sagemaker::Step>(change(&plan, Kind::Endpoint)),
        Some(sagemaker::Step::SwitchEndpoint {
            recreate: false,
            retire_config: Some(old.endpoint_config.name.clone()),
            retire_model: Some(old.model.name.clone()),
        })
    );
}

#[test]
fn the_plan_states_its_phases_wait_then_scaling_then_retirement() {
    let old = desired(&stack("aws"));
    let mut s = stack_with(
        "aws",
        "[scaling]\nmin_instances = 0\nmax_instances = 2\ntarget_backlog_per_instance = 5",
    );
    s.model.image = format!(
        "{}.dkr.ecr.us-east-1.amazonaws.com/scorer:2",
        crate::testutil::ACCOUNT
    );
    let new = desired(&s);
    let plan = plan(desired(&s), &observed_after_change(&old, &new)).unwrap();
    let phases = plan.phases();
    let kinds = |changes: &[&crate::Change]| changes.iter().map(|c| c.kind).collect::<Vec<_>>();
    assert!(
        phases.wait.is_some(),
        "the endpoint moves: apply waits for it"
    );
    assert_eq!(kinds(&phases.after), vec![Kind::ScaleToZero]);
    assert!(!kinds(&phases.before).contains(&Kind::ScaleToZero));
    assert_eq!(
        phases
            .retire
            .iter()
            .map(|r| (r.kind, r.name.clone()))
            .collect::<Vec<_>>(),
        vec![
            (Kind::EndpointConfig, old.endpoint_config.name.clone()),
            (Kind::Model, old.model.name.clone())
        ]
    );
    let up_to_date = plan_up_to_date(&desired(&stack("aws")));
    let phases = up_to_date.phases();
    assert!(phases.wait.is_none() && phases.after.is_empty() && phases.retire.is_empty());
}

fn plan_up_to_date(d: &crate::Desired) -> crate::Plan {
    plan(d.clone(), &up_to_date(d)).unwrap()
}

#[test]
fn a_failed_endpoint_is_replaced() {
    let s = stack("aws");
    let mut o = up_to_date(&desired(&s));
    if let Some(e) = o.part_mut::<SageMakerObserved>().endpoint.as_mut() {
        e.status = "Failed".into();
        e.failure_reason = Some("image not found".into());
    }
    let plan = plan(desired(&s), &o).unwrap();
    let endpoint = change(&plan, Kind::Endpoint);
    assert_eq!(endpoint.action, Action::Replace);
    assert!(endpoint.detail.contains("image not found"));
}

#[test]
fn a_foreign_same_named_bucket_is_an_error_naming_it() {
    let s = stack("local");
    let d = desired(&s);
    let mut o = Observed::default();
    *o.part_mut::<Option<BucketObserved>>() = Some(BucketObserved {
        name: d.bucket.name.clone(),
        tags: Some(vec![("team".into(), "data".into())]),
        ..Default::default()
    });
    let err = plan(desired(&s), &o).unwrap_err();
    assert!(
        matches!(&err, ProvisionError::Foreign { kind: "bucket", name, .. } if *name == d.bucket.name),
        "{err}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains(&d.bucket.name) && msg.contains("bodyline:stack=demo"),
        "{msg}"
    );
    assert!(msg.contains("rename"), "{msg}");

    // Taken in another account (HeadBucket 403): no tags could be read.
    *o.part_mut::<Option<BucketObserved>>() = Some(BucketObserved {
        name: d.bucket.name.clone(),
        tags: None,
        ..Default::default()
    });
    assert!(matches!(
        plan(desired(&s), &o),
        Err(ProvisionError::Foreign { .. })
    ));
}

#[test]
fn a_resource_of_another_stack_is_an_error() {
    let s = stack("local");
    let d = desired(&s);
    let mut o = up_to_date(&d);
    if let Some(r) = o.part_mut::<IamObserved>().role.as_mut() {
        r.tags = vec![
            (STACK_TAG.into(), "other".into()),
            (MANAGED_TAG.into(), "true".into()),
        ];
    }
    let err = plan(desired(&s), &o).unwrap_err();
    assert!(
        matches!(&err, ProvisionError::OtherStack { owner, .. } if owner == "other"),
        "{err}"
    );
}

#[test]
fn invoker_attachments_follow_the_configured_principals() {
    let s = stack("local");
    let d = desired(&s);
    let mut o = up_to_date(&d);
    if let Some(i) = o.part_mut::<IamObserved>().invoker.as_mut() {
        i.roles = vec!["old-app".into()];
    }
    let plan = plan(desired(&s), &o).unwrap();
    let c = change(&plan, Kind::InvokerAttachments);
    assert_eq!(c.action, Action::Update);
    assert_eq!(
        step::<iam::Step>(c),
        Some(iam::Step::Attach {
            attach: vec![crate::desired::Principal::Role("scoring-app".into())],
            detach: vec![crate::desired::Principal::Role("old-app".into())],
        })
    );
}

/// A stack set up before the invoker could poll: its policy has no s3:ListBucket and no
/// kms:Decrypt. The plan updates it in place and says why.
#[test]
fn an_invoker_policy_without_the_poll_grant_is_updated_and_the_plan_says_why() {
    let s = stack_with(
        "aws",
        "kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\"",
    );
    let d = desired(&s);
    let mut o = up_to_date(&d);
    if let Some(i) = o.part_mut::<IamObserved>().invoker.as_mut() {
        let statements = i.document["Statement"].as_array_mut().expect("statements");
        let before = statements.len();
        statements.retain(|st| st["Action"] != "s3:ListBucket" && st["Action"] != "kms:Decrypt");
        assert_eq!(
            before - statements.len(),
            2,
            "both grants were there to remove"
        );
    }
    let planned = plan(desired(&s), &o).unwrap();
    let c = change(&planned, Kind::InvokerPolicy);
    assert_eq!(c.action, Action::Update);
    assert!(
        matches!(
            step::<iam::Step>(c),
            Some(iam::Step::UpdatePolicy { document: true, .. })
        ),
        "{:?}",
        c.step
    );
    assert!(
        c.detail.contains("invoker gains s3:ListBucket")
            && c.detail
                .contains("404 NoSuchKey instead of 403 AccessDenied")
            && c.detail.contains("invoker gains kms:Decrypt"),
        "{}",
        c.detail
    );
    // Applied, the same stack plans nothing for the invoker.
    let applied = plan(desired(&s), &up_to_date(&d)).unwrap();
    assert_eq!(change(&applied, Kind::InvokerPolicy).action, Action::NoOp);
}

#[test]
fn a_missing_invoker_principal_is_an_error_before_any_change() {
    let s = stack("local");
    let mut o = Observed::default();
    o.part_mut::<IamObserved>().missing_principals =
        vec![crate::desired::Principal::Role("scoring-app".into())];
    let err = plan(desired(&s), &o).unwrap_err().to_string();
    assert!(
        err.contains("role scoring-app") && err.contains("invokers.principals"),
        "{err}"
    );
}

#[test]
fn leftovers_of_the_stack_are_deleted_after_the_endpoint_is_ready() {
    let s = stack("local");
    let d = desired(&s);
    let leftover = |name: &str| Tagged {
        name: name.into(),
        arn: format!("arn:aws:sagemaker:us-east-1:123456789012:x/{name}"),
        tags: d.tags.clone(),
    };
    let mut o = up_to_date(&d);
    let sagemaker = o.part_mut::<SageMakerObserved>();
    sagemaker.leftover_configs = vec![leftover("demo-0000000001")];
    sagemaker.leftover_models = vec![leftover("demo-0000000002")];
    let plan = plan(desired(&s), &o).unwrap();
    let pending: Vec<(Kind, &str, Action)> = plan
        .pending()
        .map(|c| (c.kind, c.resource.as_str(), c.action))
        .collect();
    assert_eq!(
        pending,
        vec![
            (Kind::EndpointConfig, "demo-0000000001", Action::Delete),
            (Kind::Model, "demo-0000000002", Action::Delete),
        ]
    );
    assert!(plan
        .pending()
        .all(|c| step::<sagemaker::Step>(c) == Some(sagemaker::Step::Retire)));
}

#[test]
fn scale_to_zero_is_one_change_created_kept_updated_and_removed() {
    let mut s = stack("aws");
    s.scaling = Some(bodyline_stack::ScalingSpec {
        min_instances: 0,
        max_instances: 4,
        target_backlog_per_instance: 5,
        scale_in_cooldown_seconds: 600,
        scale_out_cooldown_seconds: 300,
    });
    let fresh = plan(desired(&s), &Observed::default()).unwrap();
    let unit = change(&fresh, Kind::ScaleToZero);
    assert_eq!(unit.action, Action::Create);
    assert_eq!(unit.resource, "endpoint/demo/variant/AllTraffic");
    assert_eq!(step::<scaling::Step>(unit), Some(scaling::Step::Put));
    assert_eq!(
        fresh.changes.last().map(|c| c.kind),
        Some(Kind::ScaleToZero)
    );

    let d = desired(&s);
    let observed = up_to_date(&d);
    let same = plan(desired(&s), &observed).unwrap();
    assert!(!same.has_changes(), "{:#?}", same.changes);

    let mut wider = observed.clone();
    wider.part_mut::<ScalingObserved>().target = Some((0, 2));
    let update = plan(desired(&s), &wider).unwrap();
    let unit = change(&update, Kind::ScaleToZero);
    assert_eq!(unit.action, Action::Update);
    assert_eq!(unit.detail, "capacity 0..2 -> 0..4");

    let mut without = s.clone();
    without.scaling = None;
    let removal = plan(desired(&without), &observed).unwrap();
    let unit = change(&removal, Kind::ScaleToZero);
    assert_eq!(step::<scaling::Step>(unit), Some(scaling::Step::Remove));
    assert_eq!(unit.action, Action::Update);
}
