/*!
The bodyline stack model: everything bodyline knows about a stack before it makes a call.

A stack is described by a `bodyline.toml` file (see `templates/bodyline.toml`); its format is
an API boundary. This crate reads it, checks every rule, derives every resource name, and
builds the SDK configuration for the stack's target. It makes no network call.

# Brief overview

* [`Stack`] is a validated stack file. [`Stack::load`] parses with serde + toml (unknown keys,
  wrong types and missing fields are errors with line and column), then checks every name and
  value and reports *all* broken rules in one [`StackError::Invalid`], each naming the field,
  the rule and the fix.
* [`Names`] derives every resource name from the stack (and the account, for the globally
  unique bucket name); [`Arns`] builds their ARNs. Provision, verify, teardown and the local
  runtime use the same names.
* [`stack_tags`] and [`ownership`] are the ownership rule: a resource belongs to a stack only
  when it carries `bodyline:stack=<name>`.
* [`State`] is `.bodyline/state/<stack>.json`, a record of what setup made; tags stay the truth.
* [`sdk_config`] returns the `SdkConfig` for the stack's [`Target`]: the local stack through
  `.bodyline/local.env` ([`LocalEnv`]), or AWS through the default credential chain.
* [`Stack::input_decision`] says whether the stack keeps an S3 input prefix and its grants:
  `bucket.input`, and for `"auto"` the [`MigrationReport`] that `bodyline migrate` writes.
* [`MAX_INLINE_BODY_BYTES`] is SageMaker's inline `Body` limit.

```
use std::path::Path;
use bodyline_stack::{Names, Stack, Target};

let stack = Stack::parse(r#"
    [stack]
    name = "scoring"

    [model]
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1"
"#, Path::new("bodyline.toml")).unwrap();
assert_eq!(stack.target, Target::Local);
let names = Names::new(&stack, "123456789012");
assert_eq!(names.bucket, "scoring-123456789012-us-east-1");

let err = Stack::parse("[stack]\nname = \"-bad\"\n[model]\nimage = \"x/y\"\n", Path::new("b.toml"))
    .unwrap_err();
assert!(err.to_string().contains("stack.name"));
```
*/
#![deny(missing_docs)]

mod config;
mod error;
mod fsutil;
mod input;
mod local_env;
mod lock;
mod names;
mod project;
mod sdk;
mod state;
mod tags;

/// The SDK configuration [`sdk_config`] builds, for callers that only pass it on.
pub use aws_config::SdkConfig;
pub use config::{
    AsyncSpec, BucketSpec, EndpointSpec, InputMode, InvokersSpec, LocalModel, ModelSpec,
    ScalingSpec, Stack, Target, DEFAULT_LOCAL_MODEL_COMMAND, DEFAULT_MIGRATION_REPORT,
};
pub use error::{Problem, StackError};
pub use input::{InputDecision, MigrationReport, ReportCrate, ReportSite};
pub use local_env::LocalEnv;
pub use lock::StackLock;
pub use names::{s3_url, Arns, Names, MAX_STACK_NAME_LEN, VARIANT_NAME};
pub use project::ProjectDir;
pub use sdk::{local_sdk_config, sdk_config, target_sdk_config};
pub use state::{content_hash, ResourceRecord, State};
pub use tags::{
    created_tag_value, ownership, parse_created_tag, stack_tags, Ownership, CREATED_TAG,
    MANAGED_TAG, REGION_TAG, STACK_TAG,
};

pub use bodyline_terms::MAX_INLINE_BODY_BYTES;
