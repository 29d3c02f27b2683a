/*!
Create and delete a bodyline stack: the output bucket, SNS topics, the execution role, the
invoker policy, the model, the endpoint config and the async endpoint (setup, and teardown and
sweep, its inverse) — plus the IAM policy lint that keeps every policy least-privilege.

# Brief overview

Data moves in one direction, and only two steps talk to AWS:

1. [`identify`] asks STS who the caller is ([`Context`]: account and ARN). On the aws target,
   missing credentials are reported here, before anything else.
2. [`Desired::new`] derives the whole desired stack from the [`bodyline_stack::Stack`] and the
   context: names (from [`bodyline_stack::Names`]), ARNs, bucket settings, and the policy
   documents rendered from the `templates/iam` JSON files and checked by [`lint_policy`]. No
   call.
3. [`observe`] reads what exists, by the derived names, and whose it is, by the
   `bodyline:stack` tag ([`Observed`]). Only `Describe`/`Get`/`List`/`Head` calls.
4. [`plan()`] compares the two and returns a [`Plan`]: one [`Change`] per resource, in
   dependency order, each [`Action::Create`], [`Action::Update`], [`Action::Replace`] or
   [`Action::NoOp`]. Pure. A same-named resource without the stack's tag is an error
   ([`ProvisionError::Foreign`]): nothing is ever applied to it.
5. [`apply`] runs the changes, waits for the endpoint to be `InService`, then deletes the
   endpoint config and model it replaced. An up-to-date plan makes no call.

[`bodyline_aws::Clients`] carries one SDK client per service, built from one `SdkConfig` and
counting every operation as a read or a mutation ([`bodyline_aws::CallCounts`]), so `setup` can show that a second run made
no mutating call. [`setup`] and [`plan_stack`] run the whole flow.

Teardown is the inverse, in two steps so it can be shown before it is done: [`plan_teardown`]
finds what the stack owns (state file, then tag discovery: a candidate is owned only when it
carries `bodyline:stack=<name>`) and lists it in [`ResourceKind`] order, with the look-alikes
it leaves alone ([`Skipped`]); [`execute`] deletes in that order, treats NotFound as done,
stops at the first error and ends with a leak check by tag. [`plan_sweep`] and
[`execute_sweep`] find every stack by its tag alone and tear down the old ones the same way.

Inside, what one kind of resource needs (its desired part, observe, ownership, plan, apply,
wait, retirement, discovery's listing, delete) is gathered in its module under `resources/`
(bucket, topics, IAM, SageMaker, scale to zero), behind one trait
(`resources::module::Resource`, with its own observed and step types), on top of the leaf
vocabulary in `owned/` ([`ResourceKind`], [`OwnedResource`], [`TeardownError`], [`Kind`],
[`Action`]). `derive`, `observe`, `plan`, `apply` and `teardown` are the flows that run every
module of one list (`resources::MODULES`), with no line per kind. [`Kind`] and
[`ResourceKind`] are small values (a stable id, a label; a teardown position for the latter,
which orders them) declared as associated consts by the module that owns them, with its
teardown registrations and the tagged listing that finds them, so a new kind of resource is
its module plus one line in that list.

```
use bodyline_provision::{lint_document, LintRule};

let doc = serde_json::json!({
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b/output/x"}]
});
let findings = lint_document(&doc);
assert_eq!(findings[0].rule, LintRule::WildcardAction);

// Teardown deletes in the order of the kinds: the execution role goes last.
use bodyline_provision::ResourceKind;
assert!(ResourceKind::Endpoint < ResourceKind::EndpointConfig);
assert!(ResourceKind::ManagedPolicy < ResourceKind::Role);
```
*/
#![deny(missing_docs)]

mod apply;
mod derive;
mod desired;
mod documents;
mod error;
mod lint;
mod observe;
mod owned;
mod plan;
#[cfg(test)]
mod replay_tests;
mod resources;
mod run;
#[cfg(test)]
mod sixth_kind_tests;
mod teardown;
mod templates;
#[cfg(test)]
mod testutil;

pub use apply::{apply, ApplyOptions, ApplyReport, Progress};
pub use desired::{Context, Desired};
pub use documents::{decode_policy_document, lint_policy};
pub use error::ProvisionError;
pub use lint::{lint_document, normalize_document, resources_allowing, Finding, LintRule};
pub use observe::{identify, observe, Observed};
pub use plan::{plan, Action, Change, Kind, Plan};
pub use run::{plan_stack, setup, Planned, SetupReport};
pub use teardown::sweep::{
    execute_sweep, plan_sweep, SweepDecision, SweepOptions, SweepPlan, SweepReport, SweepStack,
    SweptStack,
};
pub use teardown::{
    delete_user, execute, execute_with_progress, keys_under, plan_teardown, Deletion,
    DeletionOutcome, FoundBy, OwnedResource, ResourceKind, ScalingRef, SkipReason, Skipped,
    TaggedResource, TeardownError, TeardownOptions, TeardownPlan, TeardownProgress, TeardownReport,
};
