//! Discovery's scaling rules, replayed with the SDK's StaticReplayClient (moto keeps no tags
//! on scalable targets, so their own tags are never read on the local stack): a target is the
//! stack's when the endpoint it scales is; with its endpoint gone, its own tags decide, unless
//! the endpoint is a look-alike discovery skips; policies are read per owned target. Sweep's
//! inventory ties targets and policies to their endpoint's stack alone. The requests are
//! asserted in order, so the listings make the calls they always made.

use aws_smithy_http_client::test_util::{ReplayEvent, StaticReplayClient};
use bodyline_aws::Clients;
use bodyline_stack::Names;

use std::time::{Duration, SystemTime};

use super::discover::discover;
use super::inventory::{inventory, TaggedResource};
use crate::owned::listing::Scope;
use crate::owned::resource::{
    FoundBy, OwnedResource, ResourceKind, ScalingRef, SkipReason, Skipped,
};
use crate::testutil::replay::{json, nothing_after_scaling, operations, sdk, AFTER_SCALING};
use crate::testutil::{stack, ACCOUNT};

const DIMENSION: &str = "sagemaker:variant:DesiredInstanceCount";

fn endpoint(name: &str) -> String {
    format!(
        r#"{{"EndpointName":"{name}","EndpointArn":"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/{name}","CreationTime":1.7E9,"LastModifiedTime":1.7E9,"EndpointStatus":"InService"}}"#
    )
}

fn tagged(stack: Option<&str>) -> ReplayEvent {
    match stack {
        Some(s) => json(
            200,
            &format!(r#"{{"Tags":[{{"Key":"bodyline:stack","Value":"{s}"}}]}}"#),
        ),
        None => json(200, r#"{"Tags":[]}"#),
    }
}

fn rid(endpoint: &str) -> String {
    format!("endpoint/{endpoint}/variant/AllTraffic")
}

fn target(endpoint: &str) -> String {
    format!(
        r#"{{"ServiceNamespace":"sagemaker","ResourceId":"{}","ScalableDimension":"{DIMENSION}","MinCapacity":0,"MaxCapacity":2,"RoleARN":"arn:aws:iam::{ACCOUNT}:role/scaling","CreationTime":1.7E9,"ScalableTargetARN":"arn:aws:application-autoscaling:us-east-1:{ACCOUNT}:scalable-target/{endpoint}"}}"#,
        rid(endpoint)
    )
}

fn policy(endpoint: &str, name: &str) -> String {
    format!(
        r#"{{"PolicyARN":"arn:aws:autoscaling:us-east-1:{ACCOUNT}:scalingPolicy:{name}","PolicyName":"{name}","ServiceNamespace":"sagemaker","ResourceId":"{}","ScalableDimension":"{DIMENSION}","PolicyType":"TargetTrackingScaling","CreationTime":1.7E9}}"#,
        rid(endpoint)
    )
}

fn policies(endpoint: &str, name: &str) -> ReplayEvent {
    json(
        200,
        &format!(r#"{{"ScalingPolicies":[{}]}}"#, policy(endpoint, name)),
    )
}

#[tokio::test]
async fn scalable_targets_follow_their_endpoint_or_their_own_tags_and_policies_follow_targets() {
    let s = stack("aws");
    let names = Names::new(&s, ACCOUNT);
    // "demo" is the stack's endpoint; "demo-two" another stack's; "demo-0123456789" an
    // untagged look-alike with a name of the stack's (skipped); "demo-gone" was deleted by an
    // interrupted teardown and its target is tagged for the stack; "other" is no candidate.
    let mut events = vec![
        json(
            200,
            &format!(
                r#"{{"Endpoints":[{},{},{}]}}"#,
                endpoint("demo"),
                endpoint("demo-two"),
                endpoint("demo-0123456789")
            ),
        ),
        json(200, r#"{"EndpointConfigs":[]}"#),
        json(200, r#"{"Models":[]}"#),
        tagged(Some("demo")),
        tagged(Some("demo-two")),
        tagged(None),
        json(
            200,
            &format!(
                r#"{{"ScalableTargets":[{},{},{},{},{}]}}"#,
                target("demo"),
                target("demo-two"),
                target("demo-0123456789"),
                target("demo-gone"),
                target("other")
            ),
        ),
        // demo-two's target: its own tags, which are not the stack's.
        json(200, r#"{"Tags":{"bodyline:stack":"demo-two"}}"#),
        // demo-gone's target: its own tags say it is the stack's.
        json(200, r#"{"Tags":{"bodyline:stack":"demo"}}"#),
        policies("demo", "demo-backlog-per-instance"),
        policies("demo-gone", "demo-gone-backlog-per-instance"),
    ];
    events.extend(nothing_after_scaling());
    let client = StaticReplayClient::new(events);
    let scope = Scope {
        names: &names,
        state: None,
    };
    let found = discover(&Clients::new(&sdk(&client)), &scope)
        .await
        .expect("discovery");

    let scaling = |endpoint: &str| {
        Some(ScalingRef {
            resource_id: rid(endpoint),
            dimension: DIMENSION.into(),
        })
    };
    let owned = |kind, name: String, arn: Option<String>, scaling| OwnedResource {
        kind,
        name,
        arn,
        scaling,
        found_by: FoundBy::Tag,
    };
    let policy_arn = |name: &str| {
        Some(format!(
            "arn:aws:autoscaling:us-east-1:{ACCOUNT}:scalingPolicy:{name}"
        ))
    };
    assert_eq!(
        found.owned,
        vec![
            owned(
                ResourceKind::ScalingPolicy,
                "demo-backlog-per-instance".into(),
                policy_arn("demo-backlog-per-instance"),
                scaling("demo")
            ),
            owned(
                ResourceKind::ScalingPolicy,
                "demo-gone-backlog-per-instance".into(),
                policy_arn("demo-gone-backlog-per-instance"),
                scaling("demo-gone")
            ),
            // By name: "endpoint/demo-gone/…" sorts before "endpoint/demo/…".
            owned(
                ResourceKind::ScalableTarget,
                rid("demo-gone"),
                None,
                scaling("demo-gone")
            ),
            owned(
                ResourceKind::ScalableTarget,
                rid("demo"),
                None,
                scaling("demo")
            ),
            owned(
                ResourceKind::Endpoint,
                "demo".into(),
                Some(format!(
                    "arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/demo"
                )),
                None
            ),
        ]
    );
    assert_eq!(
        found.skipped,
        vec![Skipped {
            kind: ResourceKind::Endpoint,
            name: "demo-0123456789".into(),
            reason: SkipReason::Foreign,
        }]
    );
    let until_scaling = [
        "ListEndpoints",
        "ListEndpointConfigs",
        "ListModels",
        "ListTags",
        "ListTags",
        "ListTags",
        "AnyScaleFrontendService.DescribeScalableTargets",
        "AnyScaleFrontendService.ListTagsForResource",
        "AnyScaleFrontendService.ListTagsForResource",
        "AnyScaleFrontendService.DescribeScalingPolicies",
        "AnyScaleFrontendService.DescribeScalingPolicies",
    ];
    assert_eq!(
        operations(&client),
        [&until_scaling[..], &AFTER_SCALING].concat()
    );
}

#[tokio::test]
async fn the_inventory_gives_targets_and_policies_their_endpoints_stack() {
    // Endpoint "a" is stack a's (with its region tag), "b" stack b's, "c" untagged; targets
    // scale a, c and x (no endpoint listed); policies sit on a, b and c.
    let mut events = vec![
        json(
            200,
            &format!(
                r#"{{"Endpoints":[{},{},{}]}}"#,
                endpoint("a"),
                endpoint("b"),
                endpoint("c")
            ),
        ),
        json(200, r#"{"EndpointConfigs":[]}"#),
        json(200, r#"{"Models":[]}"#),
        json(
            200,
            r#"{"Tags":[{"Key":"bodyline:stack","Value":"a"},{"Key":"bodyline:region","Value":"us-east-1"}]}"#,
        ),
        tagged(Some("b")),
        tagged(None),
        json(
            200,
            &format!(
                r#"{{"ScalableTargets":[{},{},{}]}}"#,
                target("a"),
                target("c"),
                target("x")
            ),
        ),
        json(
            200,
            &format!(
                r#"{{"ScalingPolicies":[{},{},{}]}}"#,
                policy("a", "a-backlog"),
                policy("b", "b-backlog"),
                policy("c", "c-backlog")
            ),
        ),
    ];
    events.extend(nothing_after_scaling());
    let client = StaticReplayClient::new(events);
    let found = inventory(&Clients::new(&sdk(&client)), "us-east-1")
        .await
        .expect("the inventory");

    let at = Some(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let tagged = |kind, name: &str, region: Option<&str>| TaggedResource {
        kind,
        name: name.to_string(),
        created: at,
        regional: true,
        region: region.map(str::to_string),
    };
    let stacks: Vec<&str> = found.keys().map(String::as_str).collect();
    assert_eq!(stacks, ["a", "b"]);
    assert_eq!(
        found["a"],
        vec![
            tagged(ResourceKind::ScalingPolicy, "a-backlog", None),
            tagged(ResourceKind::ScalableTarget, &rid("a"), None),
            tagged(ResourceKind::Endpoint, "a", Some("us-east-1")),
        ]
    );
    assert_eq!(
        found["b"],
        vec![
            tagged(ResourceKind::ScalingPolicy, "b-backlog", None),
            tagged(ResourceKind::Endpoint, "b", None),
        ]
    );
    let until_scaling = [
        "ListEndpoints",
        "ListEndpointConfigs",
        "ListModels",
        "ListTags",
        "ListTags",
        "ListTags",
        "AnyScaleFrontendService.DescribeScalableTargets",
        "AnyScaleFrontendService.DescribeScalingPolicies",
    ];
    assert_eq!(
        operations(&client),
        [&until_scaling[..], &AFTER_SCALING].concat()
    );
}
