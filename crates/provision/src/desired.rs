//! What a stack should look like in an account: every name, ARN, setting and policy document,
//! derived without a call from the stack and the caller's identity.

use std::collections::BTreeMap;

use bodyline_stack::{
    content_hash, s3_url, stack_tags, Arns, LocalModel, Names, Stack, Target, CREATED_TAG,
    REGION_TAG,
};
use serde::Serialize;
use serde_json::{json, Value};

use crate::templates::{
    render_policy, BUCKET_TLS_TEMPLATE, EXECUTION_ROLE_TEMPLATE, EXECUTION_TRUST_TEMPLATE,
    INVOKER_TEMPLATE,
};
use crate::ProvisionError;

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

/// The CloudWatch namespace SageMaker endpoints publish metrics in; the execution role may put
/// metrics only there.
pub const METRICS_NAMESPACE: &str = "/aws/sagemaker/Endpoints";

// The environment variables that tell the local runtime which command serves the model, or
// the URL of a running model server: one name each, in `terms`.
use bodyline_terms::{LOCAL_COMMAND_VAR, LOCAL_URL_VAR};

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

impl Desired {
    /// Derives the desired stack; renders and lints every policy document (a template that
    /// breaks a least-privilege rule stops here, before any call).
    pub fn new(stack: &Stack, ctx: &Context) -> Result<Desired, ProvisionError> {
        let names = Names::new(stack, &ctx.account);
        let arns = Arns::new(&stack.region, &ctx.account);
        let b = &stack.bucket;
        let bucket_arn = arns.bucket(&names.bucket);
        let output_objects = vec![
            arns.objects_under(&names.bucket, &b.output_prefix),
            arns.objects_under(&names.bucket, &b.failure_prefix),
        ];

        let encryption = match &stack.async_inference.kms_key_id {
            Some(key) => Encryption::Kms(key.clone()),
            None => Encryption::S3,
        };
        let expire = i32::try_from(b.expire_after_days).unwrap_or(i32::MAX);
        let mut lifecycle = vec![
            LifecycleRuleSpec {
                id: "bodyline-expire-outputs".into(),
                prefix: format!("{}/", b.output_prefix),
                expire_days: Some(expire),
                abort_multipart_days: None,
            },
            LifecycleRuleSpec {
                id: "bodyline-expire-failures".into(),
                prefix: format!("{}/", b.failure_prefix),
                expire_days: Some(expire),
                abort_multipart_days: None,
            },
            LifecycleRuleSpec {
                id: "bodyline-abort-incomplete-uploads".into(),
                prefix: String::new(),
                expire_days: None,
                abort_multipart_days: Some(1),
            },
        ];
        let input_decision = stack.input_decision()?;
        let input = InputDesired {
            keep: input_decision.keep,
            prefix: b.input_prefix.clone(),
            objects_arn: arns.objects_under(&names.bucket, &b.input_prefix),
            reason: input_decision.reason,
        };
        if input.keep {
            lifecycle.push(LifecycleRuleSpec {
                id: "bodyline-expire-inputs".into(),
                prefix: format!("{}/", b.input_prefix),
                expire_days: Some(1),
                abort_multipart_days: None,
            });
        }
        lifecycle.sort();
        let input_objects = input.keep.then(|| input.objects_arn.clone());
        let policy = match stack.target {
            Target::Aws => Some(render_policy(
                BUCKET_TLS_TEMPLATE,
                &json!({ "bucket_arn": bucket_arn }),
            )?),
            // moto applies a Deny with a Condition as an unconditional deny: the TLS-only
            // policy would block the runtime's own writes.
            Target::Local => None,
        };
        let bucket = BucketDesired {
            name: names.bucket.clone(),
            arn: bucket_arn,
            encryption,
            lifecycle,
            policy,
            output_path: s3_url(&names.bucket, &b.output_prefix),
            failure_path: s3_url(&names.bucket, &b.failure_prefix),
        };

        let topics = stack.async_inference.notifications.then(|| TopicsDesired {
            success: TopicDesired {
                name: names.success_topic.clone(),
                arn: arns.topic(&names.success_topic),
            },
            error: TopicDesired {
                name: names.error_topic.clone(),
                arn: arns.topic(&names.error_topic),
            },
        });

        let kms_key_arn = stack
            .async_inference
            .kms_key_id
            .as_deref()
            .map(|k| kms_key_arn(&arns, k));
        let role_policy = render_policy(
            EXECUTION_ROLE_TEMPLATE,
            &json!({
                "output_objects": output_objects,
                "log_group": arns.endpoint_log_group(&names.endpoint),
                "metrics_namespace": METRICS_NAMESPACE,
                "ecr_repository": ecr_repository_arn(&arns, &stack.model.image),
                "model_artifact": stack.model.model_data_url.as_deref().map(|u| s3_object_arn(&arns, u)),
                "topics": topics.as_ref().map(|t| vec![t.success.arn.clone(), t.error.arn.clone()]),
                "kms_key": kms_key_arn,
                "input_objects": input_objects,
            }),
        )?;
        crate::documents::lint_policy(&names.execution_policy, &role_policy)?;
        let trust = render_policy(
            EXECUTION_TRUST_TEMPLATE,
            &json!({
                "local_caller": (stack.target == Target::Local).then_some(&ctx.caller_arn),
            }),
        )?;
        let role = RoleDesired {
            name: names.execution_role.clone(),
            arn: arns.role(&names.execution_role),
            trust,
            policy_name: names.execution_policy.clone(),
            policy: role_policy,
        };

        let endpoint_arn = arns.endpoint(&names.endpoint);
        let invoker_doc = render_policy(
            INVOKER_TEMPLATE,
            &json!({
                "endpoint_arn": endpoint_arn,
                "output_objects": output_objects,
                "bucket_arn": bucket.arn,
                "list_prefixes": [format!("{}/*", b.output_prefix), format!("{}/*", b.failure_prefix)],
                "kms_key": stack.async_inference.kms_key_id.as_deref()
                    .map(|k| invoker_kms_grant(&arns, k)),
                "input_objects": input_objects,
            }),
        )?;
        crate::documents::lint_policy(&names.invoker_policy, &invoker_doc)?;
        let mut principals: Vec<Principal> = stack
            .invokers
            .principals
            .iter()
            .map(|p| Principal::parse(p))
            .collect();
        principals.sort();
        principals.dedup();
        let invoker = InvokerDesired {
            name: names.invoker_policy.clone(),
            arn: arns.policy(&names.invoker_policy),
            document: invoker_doc,
            principals,
        };

        let mut environment = stack.model.environment.clone();
        if stack.target == Target::Local {
            // The local runtime finds how to serve the model through DescribeModel.
            match &stack.model.local {
                LocalModel::Command(cmd) => {
                    environment.insert(LOCAL_COMMAND_VAR.into(), cmd.clone())
                }
                LocalModel::Url(url) => environment.insert(LOCAL_URL_VAR.into(), url.clone()),
            };
        }
        let mut model = ModelDesired {
            name: String::new(),
            arn: String::new(),
            image: stack.model.image.clone(),
            model_data_url: stack.model.model_data_url.clone(),
            environment,
            execution_role_arn: role.arn.clone(),
        };
        model.name = names.model(&content_hash(&model));
        model.arn = arns.model(&model.name);

        let mut endpoint_config = EndpointConfigDesired {
            name: String::new(),
            arn: String::new(),
            model: model.name.clone(),
            variant: names.variant.clone(),
            instance_type: stack.endpoint.instance_type.clone(),
            instance_count: stack.endpoint.instance_count,
            output_path: bucket.output_path.clone(),
            failure_path: bucket.failure_path.clone(),
            kms_key_id: stack.async_inference.kms_key_id.clone(),
            success_topic: topics.as_ref().map(|t| t.success.arn.clone()),
            error_topic: topics.as_ref().map(|t| t.error.arn.clone()),
            max_concurrent_invocations_per_instance: stack
                .async_inference
                .max_concurrent_invocations_per_instance,
        };
        endpoint_config.name = names.endpoint_config(&content_hash(&endpoint_config));
        endpoint_config.arn = arns.endpoint_config(&endpoint_config.name);

        let as_i32 = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
        let scaling = stack.scaling.as_ref().map(|sc| ScalingDesired {
            min: as_i32(sc.min_instances),
            max: as_i32(sc.max_instances),
            target_backlog: sc.target_backlog_per_instance,
            scale_in_cooldown: as_i32(sc.scale_in_cooldown_seconds),
            scale_out_cooldown: as_i32(sc.scale_out_cooldown_seconds),
        });

        Ok(Desired {
            scaling,
            source: stack.clone(),
            stack: stack.name.clone(),
            target: stack.target,
            region: stack.region.clone(),
            context: ctx.clone(),
            tags: stack_tags(&stack.name)
                .into_iter()
                .chain([
                    (CREATED_TAG.to_string(), ctx.created.clone()),
                    (REGION_TAG.to_string(), stack.region.clone()),
                ])
                .collect(),
            endpoint: EndpointDesired {
                name: names.endpoint.clone(),
                arn: endpoint_arn,
            },
            names,
            input,
            bucket,
            topics,
            role,
            invoker,
            model,
            endpoint_config,
        })
    }
}

/// `arn:…:kms:…:key/<id>` or `…:alias/<name>` for a key id, alias or ARN.
fn kms_key_arn(arns: &Arns, key: &str) -> String {
    if key.starts_with("arn:") {
        key.to_string()
    } else if key.starts_with("alias/") {
        format!(
            "arn:{}:kms:{}:{}:{key}",
            arns.partition, arns.region, arns.account
        )
    } else {
        format!(
            "arn:{}:kms:{}:{}:key/{key}",
            arns.partition, arns.region, arns.account
        )
    }
}

/// What the invoker's `kms:Decrypt` statement names: the key's ARN; for an alias, every key of
/// the account and region narrowed by `kms:ResourceAliases` (IAM does not match an alias ARN
/// against the key a request uses). Always only through S3 in the stack's region.
fn invoker_kms_grant(arns: &Arns, key: &str) -> serde_json::Value {
    let arn = kms_key_arn(arns, key);
    let via_service = format!("s3.{}.amazonaws.com", arns.region);
    // arn:<partition>:kms:<region>:<account>:alias/<name>
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    match parts.as_slice() {
        [_, partition, _, region, account, alias] if alias.starts_with("alias/") => json!({
            "resource": format!("arn:{partition}:kms:{region}:{account}:key/*"),
            "alias": alias,
            "via_service": via_service,
        }),
        _ => json!({ "resource": arn, "alias": null, "via_service": via_service }),
    }
}

/// The ECR repository ARN of an ECR image URI; `None` for other registries.
fn ecr_repository_arn(arns: &Arns, image: &str) -> Option<String> {
    let (registry, path) = image.split_once('/')?;
    let mut parts = registry.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let repo = path.split(['@', ':']).next()?;
    Some(format!(
        "arn:{}:ecr:{region}:{account}:repository/{repo}",
        arns.partition
    ))
}

/// The object ARN of an `s3://bucket/key` URL (`key*` when it names a prefix).
fn s3_object_arn(arns: &Arns, url: &str) -> String {
    let rest = url.trim_start_matches("s3://");
    let rest = if !rest.contains('/') {
        format!("{rest}/*")
    } else if rest.ends_with('/') {
        format!("{rest}*")
    } else {
        rest.to_string()
    };
    format!("arn:{}:s3:::{rest}", arns.partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_images_get_their_repository_and_others_none() {
        let arns = Arns::new("us-east-1", "123456789012");
        assert_eq!(
            ecr_repository_arn(
                &arns,
                "210987654321.dkr.ecr.eu-west-1.amazonaws.com/team/scorer:1"
            )
            .as_deref(),
            Some("arn:aws:ecr:eu-west-1:210987654321:repository/team/scorer")
        );
        assert_eq!(ecr_repository_arn(&arns, "localhost:5000/model"), None);
        assert_eq!(
            s3_object_arn(&arns, "s3://m/a/model.tar.gz"),
            "arn:aws:s3:::m/a/model.tar.gz"
        );
        assert_eq!(s3_object_arn(&arns, "s3://m"), "arn:aws:s3:::m/*");
        assert_eq!(
            kms_key_arn(&arns, "alias/out"),
            "arn:aws:kms:us-east-1:123456789012:alias/out"
        );
    }

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
