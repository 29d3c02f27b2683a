/*!
End-to-end checks and teardown of a bodyline stack.

`bodyline verify` proves, against the deployed endpoint, that the inline `Body` path works and
that the permissions are tight; `bodyline teardown` removes every resource the stack owns and
nothing else, and says so. Both run against AWS or the local stack: they only need the
`SdkConfig` that [`bodyline_stack::sdk_config`] builds for the stack's target.

# Brief overview

* Teardown is two steps, so it can be shown before it is done. [`plan_teardown`] reads the
  state file (if any) and lists every service (SageMaker, S3, SNS, IAM, Application Auto
  Scaling); a candidate is owned only when it carries `bodyline:stack=<name>`
  ([`bodyline_stack::ownership`]). The [`TeardownPlan`] lists owned resources in
  [`ResourceKind`] order and the look-alikes it will leave alone ([`Skipped`]).
  [`execute`] deletes in that order (scaling → endpoint, waiting until it is gone → endpoint
  configs → models → bucket, optionally backed up and then emptied of every version, marker
  and upload → topics → users → invoker policy, detached first → execution role, last),
  treats NotFound as done, stops at the first error, then lists everything again by tag: the
  [`TeardownReport`]'s `leaks` must be empty. A clean run removes the state file.
* [`plan_sweep`] finds every stack by its `bodyline:stack` tag alone, with each resource's
  creation time (AWS's, else the `bodyline:created` tag), and chooses those named with a
  prefix whose youngest resource is older than a threshold; [`execute_sweep`] tears each down
  with [`plan_teardown`] and [`execute`], one failure not stopping the others, then lists
  every service again for anything still tagged with a swept name.
* Verify runs checks that are data: a name and an async function each ([`check_names`]).
  [`verify`] runs them in order against a [`VerifyContext`] and returns a [`VerifyReport`]
  (table or JSON); it passes only when every check passes.
* [`verify_endpoint`] does the same for an async endpoint bodyline did not make, with no
  stack file: it describes the endpoint (read-only, an [`EndpointDescription`]), runs the same
  request-path checks against the paths its config names, and, with an invoker identity,
  probes that identity's grants; it returns an [`EndpointReport`].

```
use bodyline_verify::ResourceKind;
// The deletion order is the order of the kinds: the execution role goes last.
assert!(ResourceKind::Endpoint < ResourceKind::EndpointConfig);
assert!(ResourceKind::ManagedPolicy < ResourceKind::Role);
```
*/
#![deny(missing_docs)]

mod aws;
mod bucket;
mod checks;
mod discover;
mod error;
mod inventory;
mod resource;
mod sweep;
mod teardown;

pub use checks::{
    check_names, verify, verify_endpoint, CheckResult, Comparison, EndpointDescription,
    EndpointOptions, EndpointReport, PathStats, VerifyContext, VerifyOptions, VerifyReport,
    DEFAULT_PAYLOAD,
};
pub use error::VerifyError;
pub use inventory::TaggedResource;
pub use resource::{FoundBy, OwnedResource, ResourceKind, ScalingRef, SkipReason, Skipped};
pub use sweep::{
    execute_sweep, plan_sweep, SweepOptions, SweepPlan, SweepReport, SweepStack, SweptStack,
    Verdict,
};
pub use teardown::{
    execute, execute_with_progress, plan_teardown, Outcome, Step, TeardownOptions, TeardownPlan,
    TeardownProgress, TeardownReport,
};
