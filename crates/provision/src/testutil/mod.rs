//! Fixtures shared by the unit tests: stacks, a caller, and an account where a stack is up to date.

pub(crate) mod replay;

use std::path::Path;

use bodyline_stack::Stack;

use crate::desired::{Context, Desired};
use crate::observe::Observed;

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

/// What observe would read from an account where `d` was applied completely: each module's
/// own idea of it.
pub(crate) fn up_to_date(d: &Desired) -> Observed {
    let mut observed = Observed::default();
    for module in crate::resources::MODULES {
        observed.insert(module.up_to_date_any(d));
    }
    observed
}
