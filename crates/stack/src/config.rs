//! `bodyline.toml`: the file format (an API boundary) and its validation into a [`Stack`].
//!
//! Parsing happens in two stages, like ripgrep's `LowArgs` → `HiArgs`: serde reads the raw
//! shape (unknown keys are errors, so typos are caught with line and column), then
//! [`validate`] checks every rule and reports all broken ones at once, before any call is made.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::names::{self, Rule};
use crate::{Problem, StackError};

/// Where a stack lives. The local stack is the default, because AWS costs money.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// moto plus bodyline's front door on this machine (`bodyline local up`).
    #[default]
    Local,
    /// Real AWS, through the default credential chain. Used only when asked for.
    Aws,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Target::Local => "local",
            Target::Aws => "aws",
        })
    }
}

impl std::str::FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" => Ok(Target::Local),
            "aws" => Ok(Target::Aws),
            other => Err(format!(
                "unknown target {other:?}: expected \"local\" (the default) or \"aws\""
            )),
        }
    }
}

/// A validated stack: every name and value in it has passed its rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stack {
    /// The stack's name; every resource name derives from it and it is the ownership tag's value.
    pub name: String,
    /// Where the stack lives.
    pub target: Target,
    /// The AWS region (also used by the local stack, which is region-aware).
    pub region: String,
    /// The model behind the endpoint.
    pub model: ModelSpec,
    /// The endpoint's production variant.
    pub endpoint: EndpointSpec,
    /// The endpoint config's `AsyncInferenceConfig`.
    pub async_inference: AsyncSpec,
    /// The output bucket.
    pub bucket: BucketSpec,
    /// Principals the invoker policy is attached to.
    pub invokers: InvokersSpec,
    /// Scale to zero (`[scaling]`), when configured.
    pub scaling: Option<ScalingSpec>,
    /// The file the stack was read from (for messages).
    #[serde(skip)]
    pub source: PathBuf,
    /// The project directory whose `.bodyline/` holds the migration report and the state
    /// ([`crate::ProjectDir`]); the current directory unless [`Stack::in_project`] says otherwise.
    #[serde(skip)]
    pub project: crate::ProjectDir,
}

/// The model: container image, artifact and environment; and for the local target, what serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelSpec {
    /// Container image URI (ECR on AWS).
    pub image: String,
    /// Optional `s3://` URL of the model artifact.
    pub model_data_url: Option<String>,
    /// Container environment.
    pub environment: BTreeMap<String, String>,
    /// How the local runtime serves this model (ignored on the aws target).
    pub local: LocalModel,
}

/// How the local runtime serves the model; on AWS the container image does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LocalModel {
    /// A command started as `<command> serve` with `SAGEMAKER_BIND_TO_PORT`.
    Command(String),
    /// An already-running model server (`GET /ping`, `POST /invocations`).
    Url(String),
}

/// The endpoint's production variant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointSpec {
    /// e.g. `ml.m5.large`.
    pub instance_type: String,
    /// Initial instance count.
    pub instance_count: u32,
}

/// The endpoint config's `AsyncInferenceConfig`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AsyncSpec {
    /// `ClientConfig.MaxConcurrentInvocationsPerInstance`.
    pub max_concurrent_invocations_per_instance: u32,
    /// Whether success and error SNS topics are created and configured.
    pub notifications: bool,
    /// KMS key for outputs (SSE-KMS on the bucket too); `None` means SSE-S3.
    pub kms_key_id: Option<String>,
}

/// The output bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BucketSpec {
    /// An explicit name; `None` derives one from the stack, account and region.
    pub name: Option<String>,
    /// Prefix of output objects, without slashes at either end.
    pub output_prefix: String,
    /// Prefix of failure objects, without slashes at either end.
    pub failure_prefix: String,
    /// Outputs and failures expire after this many days.
    pub expire_after_days: u32,
    /// Whether the stack keeps an S3 input prefix (and its grants) for `InputLocation` requests.
    pub input: InputMode,
    /// Prefix of uploaded inputs, without slashes at either end; expires after one day.
    pub input_prefix: String,
    /// The migration report `input = "auto"` reads (written by `bodyline migrate`), relative to
    /// the project directory ([`crate::ProjectDir`]).
    pub migration_report: PathBuf,
}

/// `bucket.input`: who decides whether requests may still send their payload through S3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InputMode {
    /// The latest migration report decides: the input prefix and its grants exist while some
    /// call site still sends `input_location` (or while no report says otherwise).
    #[default]
    Auto,
    /// Inline `Body` only: no input prefix, no `s3:PutObject` for the invoker.
    None,
    /// Always keep the input prefix and its grants.
    S3,
}

/// Scale to zero: an Application Auto Scaling target on the endpoint's variant, target tracking
/// on the backlog per instance, and a step policy that wakes the endpoint from zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalingSpec {
    /// `MinCapacity` (0 scales to zero).
    pub min_instances: u32,
    /// `MaxCapacity`.
    pub max_instances: u32,
    /// Target value of `ApproximateBacklogSizePerInstance`.
    pub target_backlog_per_instance: u32,
    /// Seconds after a scale-in before the next.
    pub scale_in_cooldown_seconds: u32,
    /// Seconds after a scale-out before the next.
    pub scale_out_cooldown_seconds: u32,
}

/// Who may invoke the endpoint and read its outputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct InvokersSpec {
    /// IAM role or user ARNs, or role names in the stack's account.
    pub principals: Vec<String>,
}

// ---- the raw file shape -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    stack: RawStack,
    model: RawModel,
    #[serde(default)]
    endpoint: RawEndpoint,
    #[serde(default)]
    async_inference: RawAsync,
    #[serde(default)]
    bucket: RawBucket,
    #[serde(default)]
    invokers: RawInvokers,
    scaling: Option<RawScaling>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScaling {
    #[serde(default)]
    min_instances: u32,
    max_instances: u32,
    #[serde(default = "default_backlog")]
    target_backlog_per_instance: u32,
    #[serde(default = "default_scale_in_cooldown")]
    scale_in_cooldown_seconds: u32,
    #[serde(default = "default_scale_out_cooldown")]
    scale_out_cooldown_seconds: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStack {
    name: String,
    #[serde(default)]
    target: Target,
    #[serde(default = "default_region")]
    region: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    image: String,
    model_data_url: Option<String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    local_command: Option<String>,
    local_url: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEndpoint {
    #[serde(default = "default_instance_type")]
    instance_type: String,
    #[serde(default = "one")]
    instance_count: u32,
}

impl Default for RawEndpoint {
    fn default() -> Self {
        RawEndpoint {
            instance_type: default_instance_type(),
            instance_count: 1,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsync {
    #[serde(default = "default_concurrency")]
    max_concurrent_invocations_per_instance: u32,
    #[serde(default)]
    notifications: bool,
    kms_key_id: Option<String>,
}

impl Default for RawAsync {
    fn default() -> Self {
        RawAsync {
            max_concurrent_invocations_per_instance: default_concurrency(),
            notifications: false,
            kms_key_id: None,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBucket {
    name: Option<String>,
    #[serde(default = "default_output_prefix")]
    output_prefix: String,
    #[serde(default = "default_failure_prefix")]
    failure_prefix: String,
    #[serde(default = "default_expiry")]
    expire_after_days: u32,
    #[serde(default)]
    input: InputMode,
    #[serde(default = "default_input_prefix")]
    input_prefix: String,
    #[serde(default = "default_migration_report")]
    migration_report: PathBuf,
}

impl Default for RawBucket {
    fn default() -> Self {
        RawBucket {
            name: None,
            output_prefix: default_output_prefix(),
            failure_prefix: default_failure_prefix(),
            expire_after_days: default_expiry(),
            input: InputMode::default(),
            input_prefix: default_input_prefix(),
            migration_report: default_migration_report(),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawInvokers {
    #[serde(default)]
    principals: Vec<String>,
}

fn default_region() -> String {
    "us-east-1".into()
}
fn default_instance_type() -> String {
    "ml.m5.large".into()
}
fn one() -> u32 {
    1
}
fn default_concurrency() -> u32 {
    4
}
fn default_output_prefix() -> String {
    "output".into()
}
fn default_failure_prefix() -> String {
    "failure".into()
}
fn default_expiry() -> u32 {
    7
}
fn default_input_prefix() -> String {
    "input".into()
}
pub use bodyline_terms::DEFAULT_MIGRATION_REPORT;
fn default_migration_report() -> PathBuf {
    PathBuf::from(DEFAULT_MIGRATION_REPORT)
}
fn default_backlog() -> u32 {
    5
}
fn default_scale_in_cooldown() -> u32 {
    600
}
fn default_scale_out_cooldown() -> u32 {
    300
}

/// The command the local runtime starts when the stack names none: the model server shipped
/// in this workspace.
pub const DEFAULT_LOCAL_MODEL_COMMAND: &str = "bodyline-model";

impl Stack {
    /// Reads and validates a stack file.
    pub fn load(path: &Path) -> Result<Stack, StackError> {
        let text = std::fs::read_to_string(path).map_err(|source| StackError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Stack::parse(&text, path)
    }

    /// Parses and validates stack file contents; `path` is used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Stack, StackError> {
        let raw: RawFile = toml::from_str(text).map_err(|e| StackError::Parse {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        validate(raw, path)
    }

    /// The same stack in another project directory (the command line's `--root`).
    pub fn in_project(mut self, project: crate::ProjectDir) -> Stack {
        self.project = project;
        self
    }

    /// The same stack on another target (the command line's `--target` wins over the file).
    pub fn with_target(mut self, target: Target) -> Stack {
        self.target = target;
        self
    }

    /// The same stack under another name (the command line's `--stack-name` wins over
    /// `[stack] name`), checked by the same rule; every derived name and the state file follow.
    pub fn with_name(mut self, name: &str) -> Result<Stack, StackError> {
        names::STACK_NAME
            .check(
                "stack.name (from --stack-name or BODYLINE_STACK_NAME)",
                name,
            )
            .map_err(|problem| StackError::Invalid {
                path: self.source.clone(),
                problems: vec![problem],
            })?;
        self.name = name.to_string();
        Ok(self)
    }
}

fn validate(raw: RawFile, path: &Path) -> Result<Stack, StackError> {
    let mut problems = Vec::new();
    let mut check = |field: &str, value: &str, rule: &Rule| {
        if let Err(p) = rule.check(field, value) {
            problems.push(p);
        }
    };

    check("stack.name", &raw.stack.name, &names::STACK_NAME);
    check("stack.region", &raw.stack.region, &names::REGION);
    check("model.image", &raw.model.image, &names::IMAGE_URI);
    if let Some(url) = &raw.model.model_data_url {
        check("model.model_data_url", url, &names::S3_URL);
    }
    for key in raw.model.environment.keys() {
        check("model.environment", key, &names::ENV_KEY);
    }
    if let Some(url) = &raw.model.local_url {
        check("model.local_url", url, &names::HTTP_URL);
    }
    if let Some(cmd) = &raw.model.local_command {
        check("model.local_command", cmd, &names::NON_EMPTY);
    }
    check(
        "endpoint.instance_type",
        &raw.endpoint.instance_type,
        &names::INSTANCE_TYPE,
    );
    if let Some(key) = &raw.async_inference.kms_key_id {
        check("async_inference.kms_key_id", key, &names::KMS_KEY);
    }
    if let Some(name) = &raw.bucket.name {
        check("bucket.name", name, &names::BUCKET_NAME);
    }
    let output_prefix = raw.bucket.output_prefix.trim_matches('/').to_string();
    let failure_prefix = raw.bucket.failure_prefix.trim_matches('/').to_string();
    check("bucket.output_prefix", &output_prefix, &names::S3_PREFIX);
    check("bucket.failure_prefix", &failure_prefix, &names::S3_PREFIX);
    let input_prefix = raw.bucket.input_prefix.trim_matches('/').to_string();
    check("bucket.input_prefix", &input_prefix, &names::S3_PREFIX);
    for principal in &raw.invokers.principals {
        check("invokers.principals", principal, &names::PRINCIPAL);
    }

    for (key, value) in &raw.model.environment {
        if value.chars().count() > names::MAX_ENVIRONMENT_VALUE_LEN {
            problems.push(Problem {
                field: format!("model.environment.{key}"),
                value: format!("{} characters", value.chars().count()),
                rule: format!(
                    "must be at most {} characters (SageMaker's EnvironmentValue)",
                    names::MAX_ENVIRONMENT_VALUE_LEN
                ),
                fix: "pass large settings through model_data_url instead".into(),
            });
        }
    }
    if raw.model.environment.len() > names::MAX_ENVIRONMENT_ENTRIES {
        problems.push(Problem {
            field: "model.environment".into(),
            value: format!("{} variables", raw.model.environment.len()),
            rule: format!(
                "must have at most {} variables (SageMaker's EnvironmentMap)",
                names::MAX_ENVIRONMENT_ENTRIES
            ),
            fix: "merge settings into fewer variables".into(),
        });
    }

    let mut range = |field: &str, value: u32, min: u32, max: u32, fix: &str| {
        if value < min || value > max {
            problems.push(Problem {
                field: field.into(),
                value: value.to_string(),
                rule: format!("must be between {min} and {max}"),
                fix: fix.into(),
            });
        }
    };
    range(
        "endpoint.instance_count",
        raw.endpoint.instance_count,
        1,
        100,
        "use at least one instance (scale to zero is configured separately)",
    );
    range(
        "async_inference.max_concurrent_invocations_per_instance",
        raw.async_inference.max_concurrent_invocations_per_instance,
        1,
        1000,
        "SageMaker accepts 1 to 1000",
    );
    range(
        "bucket.expire_after_days",
        raw.bucket.expire_after_days,
        1,
        3650,
        "keep outputs between a day and ten years",
    );

    if let Some(s) = &raw.scaling {
        range(
            "scaling.max_instances",
            s.max_instances,
            1,
            100,
            "allow at least one instance, so the endpoint can wake from zero",
        );
        range(
            "scaling.min_instances",
            s.min_instances,
            0,
            s.max_instances.max(1),
            "0 scales to zero; min_instances cannot exceed max_instances",
        );
        range(
            "scaling.target_backlog_per_instance",
            s.target_backlog_per_instance,
            1,
            100_000,
            "the queued requests per instance to aim for, e.g. 5",
        );
        range(
            "scaling.scale_in_cooldown_seconds",
            s.scale_in_cooldown_seconds,
            0,
            86_400,
            "seconds, at most a day",
        );
        range(
            "scaling.scale_out_cooldown_seconds",
            s.scale_out_cooldown_seconds,
            0,
            86_400,
            "seconds, at most a day",
        );
    }

    let overlapping = |a: &str, b: &str| a == b || a.starts_with(&format!("{b}/"));
    let prefixes = [
        ("bucket.output_prefix", &output_prefix),
        ("bucket.failure_prefix", &failure_prefix),
        ("bucket.input_prefix", &input_prefix),
    ];
    for (i, (field, prefix)) in prefixes.iter().enumerate() {
        for (other_field, other) in &prefixes[..i] {
            if overlapping(prefix, other) || overlapping(other, prefix) {
                problems.push(Problem {
                    field: (*field).into(),
                    value: (*prefix).clone(),
                    rule: format!("overlaps {other_field} {other:?}"),
                    fix: "give outputs, failures and inputs separate prefixes, so each grant stays scoped to one"
                        .into(),
                });
            }
        }
    }
    if raw
        .model
        .environment
        .keys()
        .any(|k| k.starts_with("BODYLINE_"))
    {
        problems.push(Problem {
            field: "model.environment".into(),
            value: "BODYLINE_*".into(),
            rule: "the BODYLINE_ prefix is reserved for the local runtime".into(),
            fix: "rename the variable".into(),
        });
    }
    let local = match (raw.model.local_command, raw.model.local_url) {
        (Some(_), Some(_)) => {
            problems.push(Problem {
                field: "model.local_url".into(),
                value: "both local_command and local_url".into(),
                rule: "the local model is either a command or a URL".into(),
                fix: "keep one of model.local_command and model.local_url".into(),
            });
            LocalModel::Command(DEFAULT_LOCAL_MODEL_COMMAND.into())
        }
        (_, Some(url)) => LocalModel::Url(url),
        (Some(cmd), None) => LocalModel::Command(cmd),
        (None, None) => LocalModel::Command(DEFAULT_LOCAL_MODEL_COMMAND.into()),
    };

    if !problems.is_empty() {
        return Err(StackError::Invalid {
            path: path.to_path_buf(),
            problems,
        });
    }
    Ok(Stack {
        name: raw.stack.name,
        target: raw.stack.target,
        region: raw.stack.region,
        model: ModelSpec {
            image: raw.model.image,
            model_data_url: raw.model.model_data_url,
            environment: raw.model.environment,
            local,
        },
        endpoint: EndpointSpec {
            instance_type: raw.endpoint.instance_type,
            instance_count: raw.endpoint.instance_count,
        },
        async_inference: AsyncSpec {
            max_concurrent_invocations_per_instance: raw
                .async_inference
                .max_concurrent_invocations_per_instance,
            notifications: raw.async_inference.notifications,
            kms_key_id: raw.async_inference.kms_key_id,
        },
        bucket: BucketSpec {
            name: raw.bucket.name,
            output_prefix,
            failure_prefix,
            expire_after_days: raw.bucket.expire_after_days,
            input: raw.bucket.input,
            input_prefix,
            migration_report: raw.bucket.migration_report,
        },
        scaling: raw.scaling.map(|s| ScalingSpec {
            min_instances: s.min_instances,
            max_instances: s.max_instances,
            target_backlog_per_instance: s.target_backlog_per_instance,
            scale_in_cooldown_seconds: s.scale_in_cooldown_seconds,
            scale_out_cooldown_seconds: s.scale_out_cooldown_seconds,
        }),
        invokers: InvokersSpec {
            principals: raw.invokers.principals,
        },
        source: path.to_path_buf(),
        project: crate::ProjectDir::default(),
    })
}
