//! What a stack should look like in an account: every name, ARN, setting and policy document,
//! derived without a call from the stack and the caller's identity.

use std::collections::BTreeMap;

use bodyline_stack::{Arns, Names, Stack, Target};
use serde::Serialize;
use serde_json::Value;

/// Who is provisioning: the account and caller from STS `GetCallerIdentity`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Context {
    /// The 12-digit account id.
    pub account: String,
    /// The caller's ARN (on the local target it joins the execution role's trust policy).
    pub caller_arn: String,
    /// When this run started, as the `bodyline:created` tag value every resource it creates
    /// carries (an input, so planning stays pure; never compared as drift).
    pub created: String,
}

/// The whole desired stack.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Desired {
    /// The stack name.
    pub stack: String,
    /// The target.
    pub target: Target,
    /// The region.
    pub region: String,
    /// Who provisions it.
    pub context: Context,
    /// Every derived name.
    #[serde(skip)]
    pub names: Names,
    /// The ownership tags every resource carries.
    pub tags: Vec<(String, String)>,
    /// The output bucket.
    pub bucket: BucketDesired,
    /// SNS topics, when notifications are on.
    pub topics: Option<TopicsDesired>,
    /// The execution role.
    pub role: RoleDesired,
    /// The invoker managed policy.
    pub invoker: InvokerDesired,
    /// The model.
    pub model: ModelDesired,
    /// The endpoint config.
    pub endpoint_config: EndpointConfigDesired,
    /// The endpoint.
    pub endpoint: EndpointDesired,
    /// Whether the stack keeps S3 input (the input prefix and its two grants), and why.
    pub input: InputDesired,
    /// Scale to zero, when configured.
    pub scaling: Option<ScalingDesired>,
    /// The stack file it derives from: a resource module whose desired part no other crate
    /// reads derives that part from here, in the module, instead of adding a field above.
    #[serde(skip)]
    pub source: Stack,
}

/// `SageMaker` namespace metric the target-tracking policy follows.
pub const BACKLOG_METRIC: &str = "ApproximateBacklogSizePerInstance";
/// The metric that says requests wait while no instance runs.
pub const NO_CAPACITY_METRIC: &str = "HasBacklogWithoutCapacity";
/// The scalable dimension of an endpoint variant.
pub const SCALABLE_DIMENSION: &str = "sagemaker:variant:DesiredInstanceCount";

/// Scale to zero as one unit: the scalable target, the target-tracking policy, the step policy
/// that wakes the endpoint, and the alarm that triggers it. Their names are the stack's
/// ([`Desired::names`]: `scaling_resource`, `backlog_policy`, `wake_policy`, `wake_alarm`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScalingDesired {
    /// `MinCapacity`.
    pub min: i32,
    /// `MaxCapacity`.
    pub max: i32,
    /// Its target value: queued requests per instance.
    pub target_backlog: u32,
    /// Scale-in cooldown, seconds.
    pub scale_in_cooldown: i32,
    /// Scale-out cooldown, seconds.
    pub scale_out_cooldown: i32,
}

/// The S3 input path: `<input_prefix>/` in the bucket (expiring after a day), the invoker's
/// `s3:PutObject` and the execution role's `s3:GetObject` on it — all three, or none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputDesired {
    /// Whether the prefix and grants exist.
    pub keep: bool,
    /// The prefix, without slashes.
    pub prefix: String,
    /// `arn:…:s3:::<bucket>/<prefix>/*`: the only resource either grant names.
    pub objects_arn: String,
    /// Why (`bucket.input`, or what the migration report says).
    pub reason: String,
}

/// Default encryption of the bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Encryption {
    /// SSE-S3 (`AES256`).
    S3,
    /// SSE-KMS with this key.
    Kms(String),
}

/// One lifecycle rule, in the only shapes bodyline writes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct LifecycleRuleSpec {
    /// The rule id.
    pub id: String,
    /// The key prefix it applies to (`""`: every key).
    pub prefix: String,
    /// Expire current objects after this many days.
    pub expire_days: Option<i32>,
    /// Abort incomplete multipart uploads after this many days.
    pub abort_multipart_days: Option<i32>,
}

/// The output bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketDesired {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Default encryption.
    pub encryption: Encryption,
    /// Lifecycle rules, sorted by id.
    pub lifecycle: Vec<LifecycleRuleSpec>,
    /// The TLS-only policy (aws target); `None` on the local target.
    pub policy: Option<Value>,
    /// `s3://bucket/<output prefix>`.
    pub output_path: String,
    /// `s3://bucket/<failure prefix>`.
    pub failure_path: String,
}

/// A named SNS topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicDesired {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
}

/// The success and error topics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicsDesired {
    /// Published to when an inference completes.
    pub success: TopicDesired,
    /// Published to when an inference fails.
    pub error: TopicDesired,
}

/// The execution role and its inline policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleDesired {
    /// The role name.
    pub name: String,
    /// The role ARN.
    pub arn: String,
    /// The trust policy.
    pub trust: Value,
    /// The inline policy's name.
    pub policy_name: String,
    /// The inline policy.
    pub policy: Value,
}

/// An IAM principal the invoker policy is attached to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Principal {
    /// A role, by name.
    Role(String),
    /// A user, by name.
    User(String),
}

impl Principal {
    /// Reads an ARN (`…:role/[path/]name` or `…:user/[path/]name`) or a bare role name.
    pub fn parse(text: &str) -> Principal {
        let name = |rest: &str| rest.rsplit('/').next().unwrap_or(rest).to_string();
        match text.split_once(":role/") {
            Some((_, rest)) => Principal::Role(name(rest)),
            None => match text.split_once(":user/") {
                Some((_, rest)) => Principal::User(name(rest)),
                None => Principal::Role(text.to_string()),
            },
        }
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Principal::Role(n) => write!(f, "role {n}"),
            Principal::User(n) => write!(f, "user {n}"),
        }
    }
}

/// The invoker managed policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InvokerDesired {
    /// The policy name.
    pub name: String,
    /// The policy ARN.
    pub arn: String,
    /// The document.
    pub document: Value,
    /// Who it is attached to, sorted.
    pub principals: Vec<Principal>,
}

/// The hashed content of the model: a change is a new model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelDesired {
    /// `Names::model(hash)`.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Container image.
    pub image: String,
    /// Model artifact.
    pub model_data_url: Option<String>,
    /// Container environment (with `BODYLINE_LOCAL_*` on the local target).
    pub environment: BTreeMap<String, String>,
    /// The execution role ARN.
    pub execution_role_arn: String,
}

/// The hashed content of the endpoint config: a change is a new config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointConfigDesired {
    /// `Names::endpoint_config(hash)`.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// The model of its one variant.
    pub model: String,
    /// The variant name.
    pub variant: String,
    /// Instance type.
    pub instance_type: String,
    /// Initial instance count.
    pub instance_count: u32,
    /// `S3OutputPath`.
    pub output_path: String,
    /// `S3FailurePath`.
    pub failure_path: String,
    /// `KmsKeyId`.
    pub kms_key_id: Option<String>,
    /// `NotificationConfig.SuccessTopic`.
    pub success_topic: Option<String>,
    /// `NotificationConfig.ErrorTopic`.
    pub error_topic: Option<String>,
    /// `ClientConfig.MaxConcurrentInvocationsPerInstance`.
    pub max_concurrent_invocations_per_instance: u32,
}

/// The endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EndpointDesired {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
}

/// What every kind's desired part derives from, without a call: the stack file, the caller,
/// and the names and ARNs derived from both. Each resource module derives its part from it
/// (`resources/*`'s `desired`); `derive.rs` assembles the parts into a [`Desired`].
pub(crate) struct Deriving<'a> {
    /// The stack file.
    pub stack: &'a Stack,
    /// The caller.
    pub ctx: &'a Context,
    /// Every derived name.
    pub names: &'a Names,
    /// ARNs in the stack's partition, region and account.
    pub arns: &'a Arns,
}

impl Deriving<'_> {
    /// The objects the runtime writes: everything under the output and failure prefixes.
    pub fn output_objects(&self) -> Vec<String> {
        let b = &self.stack.bucket;
        vec![
            self.arns
                .objects_under(&self.names.bucket, &b.output_prefix),
            self.arns
                .objects_under(&self.names.bucket, &b.failure_prefix),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_parse_from_arns_and_names() {
        assert_eq!(
            Principal::parse("arn:aws:iam::123456789012:role/apps/scoring-app"),
            Principal::Role("scoring-app".into())
        );
        assert_eq!(
            Principal::parse("arn:aws:iam::123456789012:user/ci"),
            Principal::User("ci".into())
        );
        assert_eq!(Principal::parse("app"), Principal::Role("app".into()));
    }
}
