//! Fixtures shared by the unit tests: stacks, a caller, and an account where a stack is up to date.

pub(crate) mod replay;

use std::path::Path;

use bodyline_stack::Stack;

use crate::desired::{Context, Desired, Encryption};
use crate::observe::{
    BucketObserved, EndpointObserved, Observed, PolicyObserved, RoleObserved, Tagged,
};

pub(crate) const ACCOUNT: &str = "123456789012";

pub(crate) fn ctx() -> Context {
    Context {
        account: ACCOUNT.into(),
        caller_arn: format!("arn:aws:iam::{ACCOUNT}:user/bodyline-admin"),
        created: "2026-01-01T00:00:00Z".into(),
    }
}

/// A stack file with every optional part switched on, on `target`, with `extra` appended.
pub(crate) fn stack_with(target: &str, extra: &str) -> Stack {
    let text = format!(
        r#"
[stack]
name = "demo"
target = "{target}"
region = "us-east-1"

[model]
image = "{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/scorer:1"
model_data_url = "s3://models-{ACCOUNT}/scorer/model.tar.gz"
environment = {{ LOG_LEVEL = "info" }}

[async_inference]
notifications = true
{extra}

[invokers]
principals = ["arn:aws:iam::{ACCOUNT}:role/scoring-app"]
"#
    );
    match Stack::parse(&text, Path::new("bodyline.toml")) {
        Ok(stack) => stack,
        Err(e) => panic!("fixture stack is invalid: {e}"),
    }
}

pub(crate) fn stack(target: &str) -> Stack {
    stack_with(target, "")
}

pub(crate) fn desired(stack: &Stack) -> Desired {
    match Desired::new(stack, &ctx()) {
        Ok(d) => d,
        Err(e) => panic!("fixture stack does not derive: {e}"),
    }
}

/// What observe would read from an account where `d` was applied completely.
pub(crate) fn up_to_date(d: &Desired) -> Observed {
    let tagged = |name: &str, arn: &str| Tagged {
        name: name.into(),
        arn: arn.into(),
        tags: d.tags.clone(),
    };
    let topics = d.topics.as_ref();
    Observed {
        bucket: Some(BucketObserved {
            name: d.bucket.name.clone(),
            tags: Some(d.tags.clone()),
            public_access_block: Some([true; 4]),
            encryption: Some(match &d.bucket.encryption {
                Encryption::S3 => ("AES256".into(), None),
                Encryption::Kms(k) => ("aws:kms".into(), Some(k.clone())),
            }),
            object_ownership: Some("BucketOwnerEnforced".into()),
            lifecycle: d.bucket.lifecycle.clone(),
            policy: d.bucket.policy.clone(),
            adopt: false,
        }),
        success_topic: topics.map(|t| tagged(&t.success.name, &t.success.arn)),
        error_topic: topics.map(|t| tagged(&t.error.name, &t.error.arn)),
        role: Some(RoleObserved {
            arn: d.role.arn.clone(),
            tags: d.tags.clone(),
            trust: d.role.trust.clone(),
            policy: Some(d.role.policy.clone()),
        }),
        invoker: Some(PolicyObserved {
            arn: d.invoker.arn.clone(),
            tags: d.tags.clone(),
            document: d.invoker.document.clone(),
            other_versions: Vec::new(),
            roles: d
                .invoker
                .principals
                .iter()
                .filter_map(|p| match p {
                    crate::desired::Principal::Role(n) => Some(n.clone()),
                    crate::desired::Principal::User(_) => None,
                })
                .collect(),
            users: Vec::new(),
        }),
        model: Some(tagged(&d.model.name, &d.model.arn)),
        endpoint_config: Some(tagged(&d.endpoint_config.name, &d.endpoint_config.arn)),
        endpoint: Some(EndpointObserved {
            arn: d.endpoint.arn.clone(),
            tags: d.tags.clone(),
            status: "InService".into(),
            failure_reason: None,
            config_name: d.endpoint_config.name.clone(),
            pending_config: None,
            current_config: None,
        }),
        missing_principals: Vec::new(),
        leftover_configs: Vec::new(),
        leftover_models: Vec::new(),
        scaling: d
            .scaling
            .as_ref()
            .map(|s| {
                let wake_arn = format!("arn:aws:autoscaling:policy/{}", d.names.wake_policy);
                crate::resources::scaling::ScalingObserved {
                    target: Some((s.min, s.max)),
                    backlog_policy: Some(crate::resources::scaling::TrackingObserved {
                        target_value: f64::from(s.target_backlog),
                        scale_in_cooldown: Some(s.scale_in_cooldown),
                        scale_out_cooldown: Some(s.scale_out_cooldown),
                        metric: Some(crate::desired::BACKLOG_METRIC.into()),
                    }),
                    wake_policy: Some(crate::resources::scaling::WakeObserved {
                        arn: wake_arn.clone(),
                        steps: crate::resources::scaling::wake_steps(),
                    }),
                    alarm: Some(crate::resources::scaling::AlarmObserved {
                        arn: format!("arn:aws:cloudwatch:alarm:{}", d.names.wake_alarm),
                        metric: crate::desired::NO_CAPACITY_METRIC.into(),
                        actions: vec![wake_arn],
                        tags: d.tags.clone(),
                    }),
                }
            })
            .unwrap_or_default(),
    }
}
