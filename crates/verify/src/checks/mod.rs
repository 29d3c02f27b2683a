//! `bodyline verify`: checks are data — a name, what it proves, and an async function — run
//! in order against one [`VerifyContext`]; the report passes only when every check passes.

mod compare;
mod control;
mod estate;
mod invoke;
mod poll;
mod privilege;
mod probe;
mod report;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use bodyline_provision::Desired;
use bodyline_stack::{Arns, Names, Stack};

use crate::VerifyError;
use bodyline_aws::Clients;

pub use compare::{Comparison, PathStats};
pub use estate::{verify_endpoint, EndpointDescription, EndpointOptions};
pub use report::{CheckResult, EndpointReport, VerifyReport};

use probe::{Probe, S3Path};

/// What a check returns: a detail line on success, the reason on failure.
pub(crate) type CheckOutcome = Result<String, String>;

/// The verdict of a check made of several probes: passed when no probe found a problem; a
/// failure lists the problems and then what held.
pub(crate) fn verdict(ok: Vec<String>, problems: Vec<String>) -> CheckOutcome {
    if problems.is_empty() {
        Ok(ok.join(", "))
    } else {
        Err(format!(
            "{}\n(held: {})",
            problems.join("\n"),
            ok.join(", ")
        ))
    }
}

type CheckFn<C> = for<'a> fn(&'a C) -> Pin<Box<dyn Future<Output = CheckOutcome> + Send + 'a>>;

/// One check: its name (stable, used by `--check` and in JSON), what it proves, and its body,
/// which runs against a context `C` (a stack's, or an endpoint's for `verify --endpoint`).
pub(crate) struct Check<C: 'static = VerifyContext> {
    pub name: &'static str,
    pub proves: &'static str,
    pub run: CheckFn<C>,
}

/// A context the request-path checks can run against: a stack's endpoint, or any async
/// endpoint's (`verify --endpoint`), each seen as a [`Probe`].
pub(crate) trait Probed: Sync + 'static {
    /// The endpoint and the paths it writes, as the request-path checks see them.
    fn probe(&self) -> Probe<'_>;
}

/// The request-path checks, the same for every [`Probed`] context: both check tables list
/// them, so what they prove is said once.
pub(crate) struct RequestPath<C>(std::marker::PhantomData<C>);

impl<C: Probed> RequestPath<C> {
    pub(crate) const INLINE_BODY: Check<C> = Check {
        name: "inline-body",
        proves:
            "an inline Body request returns an OutputLocation and its output appears (and matches)",
        run: |ctx| Box::pin(async move { invoke::inline_body(&ctx.probe()).await }),
    };
    pub(crate) const SIZE_LIMIT: Check<C> = Check {
        name: "size-limit",
        proves: "128,001 bytes are rejected synchronously with ValidationError and create nothing; 128,000 are accepted",
        run: |ctx| Box::pin(async move { invoke::size_limit(&ctx.probe()).await }),
    };
    pub(crate) const EXCLUSIVE_INPUT: Check<C> = Check {
        name: "exclusive-input",
        proves: "Body together with InputLocation is rejected with ValidationError",
        run: |ctx| Box::pin(async move { invoke::exclusive_input(&ctx.probe()).await }),
    };
}

/// An error naming the first of `only` that is not one of `checks`.
fn unknown_check<C>(checks: &[Check<C>], only: &[String]) -> Result<(), VerifyError> {
    match only
        .iter()
        .find(|n| !checks.iter().any(|c| c.name == n.as_str()))
    {
        Some(unknown) => Err(VerifyError::UnknownCheck {
            name: unknown.clone(),
            known: checks.iter().map(|c| c.name).collect::<Vec<_>>().join(", "),
        }),
        None => Ok(()),
    }
}

/// Runs `checks` in order (only those named in `only`, unless it is empty) and times each.
async fn run_checks<C>(checks: &[Check<C>], ctx: &C, only: &[String]) -> Vec<CheckResult> {
    let mut results = Vec::new();
    for check in checks {
        if !only.is_empty() && !only.iter().any(|n| n == check.name) {
            continue;
        }
        let start = Instant::now();
        tracing::info!(check = check.name, "running");
        let verdict = (check.run)(ctx).await;
        let millis = start.elapsed().as_millis();
        let (passed, detail) = match verdict {
            Ok(detail) => (true, detail),
            Err(detail) => (false, detail),
        };
        results.push(CheckResult {
            name: check.name,
            passed,
            detail,
            millis,
        });
    }
    results
}

/// Every check, in the order they run (issue 5's numbering).
pub(crate) const CHECKS: &[Check] = &[
    Check {
        name: "endpoint",
        proves: "endpoint InService; its config's AsyncInferenceConfig has the stack's output and failure paths",
        run: |ctx| Box::pin(control::endpoint(ctx)),
    },
    RequestPath::INLINE_BODY,
    RequestPath::SIZE_LIMIT,
    RequestPath::EXCLUSIVE_INPUT,
    Check {
        name: "least-privilege",
        proves: "with only the invoker policy: invoking and reading the output work; s3:PutObject is denied on outputs, and on the input prefix unless the stack keeps S3 input",
        run: |ctx| Box::pin(privilege::least_privilege(ctx)),
    },
    Check {
        name: "posture",
        proves: "bucket public access block, encryption, lifecycle and policy; deployed IAM policies pass the lint; the invoker may PutObject only where the S3-input decision allows",
        run: |ctx| Box::pin(control::posture(ctx)),
    },
];

/// The names of every check, in the order they run, with what each proves.
pub fn check_names() -> Vec<(&'static str, &'static str)> {
    CHECKS.iter().map(|c| (c.name, c.proves)).collect()
}

/// How to run verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The inline payload to send; `None` sends [`DEFAULT_PAYLOAD`].
    pub payload: Option<Vec<u8>>,
    /// What the output must equal (JSON-equal when both parse as JSON, else byte-equal).
    pub expect: Option<Vec<u8>>,
    /// How long to wait for an output or failure object, per request.
    pub result_timeout: Duration,
    /// On the aws target: a role carrying only the invoker policy, assumed for the
    /// least-privilege check (the local target makes a temporary user instead).
    pub invoker_role: Option<String>,
    /// Run only these checks (by name); empty runs all.
    pub only: Vec<String>,
    /// After the checks, compare N inline submissions with N S3 upload + `InputLocation` ones.
    pub compare_s3: Option<u32>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            payload: None,
            expect: None,
            result_timeout: Duration::from_secs(120),
            invoker_role: None,
            only: Vec::new(),
            compare_s3: None,
        }
    }
}

/// The payload sent when none is given: two records for the model to score.
pub const DEFAULT_PAYLOAD: &[u8] = br#"{"records":[{"amount":12.5},{"amount":3}]}"#;

/// Everything a check needs: the stack, what it should be ([`Desired`], derived once, as
/// setup derives it), its names and ARNs, the clients and the options.
#[derive(Debug)]
pub struct VerifyContext {
    pub(crate) stack: Stack,
    pub(crate) desired: Desired,
    pub(crate) names: Names,
    pub(crate) arns: Arns,
    pub(crate) config: SdkConfig,
    pub(crate) clients: Clients,
    pub(crate) options: VerifyOptions,
}

impl VerifyContext {
    pub(crate) fn payload(&self) -> &[u8] {
        self.options.payload.as_deref().unwrap_or(DEFAULT_PAYLOAD)
    }
}

impl Probed for VerifyContext {
    /// The stack's endpoint as the request-path checks see it: where the desired stack says
    /// it writes.
    fn probe(&self) -> Probe<'_> {
        let path = |url: &str| {
            S3Path::parse(url).unwrap_or_else(|| S3Path::new(&self.desired.bucket.name, ""))
        };
        Probe {
            endpoint: &self.desired.endpoint.name,
            output: path(&self.desired.bucket.output_path),
            failure: Some(path(&self.desired.bucket.failure_path)),
            clients: &self.clients,
            options: &self.options,
        }
    }
}

/// Runs the checks against the stack on the target `config` reaches. `Err` only when verify
/// cannot start (no usable credentials, an unknown check name); a failing check is a result.
pub async fn verify(
    stack: &Stack,
    config: &SdkConfig,
    options: &VerifyOptions,
) -> Result<VerifyReport, VerifyError> {
    unknown_check(CHECKS, &options.only)?;
    let clients = Clients::new(config);
    let caller = crate::aws::caller(&clients, stack.target).await?;
    let desired = Desired::new(stack, &caller)?;
    let ctx = VerifyContext {
        names: desired.names.clone(),
        arns: Arns::new(&stack.region, &caller.account),
        desired,
        stack: stack.clone(),
        config: config.clone(),
        clients,
        options: options.clone(),
    };
    let checks = run_checks(CHECKS, &ctx, &options.only).await;
    let comparison = match options.compare_s3 {
        Some(n) if n > 0 => {
            let input = S3Path::new(&ctx.names.bucket, "bodyline-compare-input");
            Some(compare::compare(&ctx.probe(), &input, &stack.region, n).await)
        }
        _ => None,
    };
    Ok(VerifyReport {
        stack: stack.name.clone(),
        target: stack.target,
        checks,
        comparison: comparison.as_ref().and_then(|c| c.as_ref().ok().cloned()),
        comparison_error: comparison.and_then(Result::err),
    })
}
