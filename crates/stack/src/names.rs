//! Name rules (checked before any call) and the names every resource derives from the stack.

use std::sync::LazyLock;

use regex::Regex;

use crate::{Problem, Stack};

/// One naming rule: a pattern, what it means in words, and how to comply.
pub(crate) struct Rule {
    pattern: LazyLock<Regex>,
    extra: fn(&str) -> Option<&'static str>,
    rule: &'static str,
    fix: &'static str,
}

impl Rule {
    pub(crate) fn check(&self, field: &str, value: &str) -> Result<(), Problem> {
        let broken = if !self.pattern.is_match(value) {
            Some(self.rule)
        } else {
            (self.extra)(value)
        };
        match broken {
            None => Ok(()),
            Some(rule) => Err(Problem {
                field: field.into(),
                value: value.into(),
                rule: rule.into(),
                fix: self.fix.into(),
            }),
        }
    }
}

fn none(_: &str) -> Option<&'static str> {
    None
}

macro_rules! rule {
    ($name:ident, $re:expr, $rule:expr, $fix:expr) => {
        rule!($name, $re, none, $rule, $fix);
    };
    ($name:ident, $re:expr, $extra:expr, $rule:expr, $fix:expr) => {
        pub(crate) static $name: Rule = Rule {
            // The patterns are literals checked by the `every_rule_accepts_its_kind_and_refuses_another` test.
            pattern: LazyLock::new(|| Regex::new($re).expect("rule patterns are valid")),
            extra: $extra,
            rule: $rule,
            fix: $fix,
        };
    };
}

/// Longest stack name: every derived name (bucket with account and region, role, config with
/// hash) must still fit its service's limit.
pub const MAX_STACK_NAME_LEN: usize = 32;

rule!(
    STACK_NAME,
    r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}$",
    "must be a SageMaker name (letters, digits and hyphens, starting and ending with a letter or digit) of at most 32 characters, so every derived name fits",
    "e.g. \"scoring-prod\""
);
rule!(
    REGION,
    r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$",
    "must be an AWS region code",
    "e.g. \"us-east-1\" or \"eu-west-1\""
);
rule!(
    IMAGE_URI,
    r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]+)?/[a-z0-9]+([._/-][a-z0-9]+)*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127}|@sha256:[a-f0-9]{64})?$",
    image_extra,
    "must be a container image URI <registry>/<repository>[:tag|@sha256:digest]",
    "e.g. \"123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1\""
);
rule!(
    S3_URL,
    r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
    model_data_url_extra,
    "must be an s3://bucket/key URL",
    "e.g. \"s3://my-models/scorer/model.tar.gz\""
);
rule!(
    ENV_KEY,
    r"^[a-zA-Z_][a-zA-Z0-9_]{0,1023}$",
    "must be an environment variable name",
    "use letters, digits and underscores, not starting with a digit"
);
rule!(
    HTTP_URL,
    r"^https?://[^\s/]+(/\S*)?$",
    "must be an http:// or https:// URL",
    "e.g. \"http://127.0.0.1:9000\""
);
rule!(
    NON_EMPTY,
    r"\S",
    "must not be empty",
    "name the model server command, e.g. \"bodyline-model\""
);
rule!(
    INSTANCE_TYPE,
    r"^ml\.[a-z0-9]+(\.[a-z0-9-]+)?\.[0-9]*[a-z]+$",
    "must be a SageMaker instance type ml.<family>.<size>",
    "e.g. \"ml.m5.large\""
);
rule!(
    KMS_KEY,
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|alias/[A-Za-z0-9/_-]+)$",
    kms_key_extra,
    "must be a KMS key ARN, key id or alias",
    "e.g. \"arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab\""
);
rule!(
    BUCKET_NAME,
    r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
    bucket_extra,
    "must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit",
    "e.g. \"scoring-prod-outputs\", or leave bucket.name out to derive one"
);
rule!(
    S3_PREFIX,
    r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$",
    prefix_extra,
    "must be a key prefix of safe characters (letters, digits, ! _ . * ' ( ) -) separated by single slashes",
    "e.g. \"output\" or \"async/failures\""
);
rule!(
    PRINCIPAL,
    r"^(arn:aws[a-z-]*:iam::[0-9]{12}:(role|user)(/[\w+=,.@-]+)*/[\w+=,.@-]{1,64}|[\w+=,.@-]{1,64})$",
    "must be an IAM role or user ARN, or a role name in the stack's account",
    "e.g. \"arn:aws:iam::123456789012:role/scoring-app\""
);

fn bucket_extra(name: &str) -> Option<&'static str> {
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        Some("must not contain \"..\", \".-\" or \"-.\"")
    } else if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
        Some("must not look like an IP address")
    } else if name.starts_with("xn--") || name.starts_with("sthree-") {
        Some("must not start with the reserved prefixes \"xn--\" or \"sthree-\"")
    } else if name.ends_with("-s3alias") || name.ends_with("--ol-s3") {
        Some("must not end with the reserved suffixes \"-s3alias\" or \"--ol-s3\"")
    } else {
        None
    }
}

fn prefix_extra(prefix: &str) -> Option<&'static str> {
    if prefix.split('/').any(|p| p == "." || p == "..") {
        Some("must not contain \".\" or \"..\" segments")
    } else if prefix.chars().count() > MAX_PREFIX_LEN {
        Some("must be at most 256 characters, so that s3://<bucket>/<prefix> fits SageMaker's 512 and the policies naming the prefixes fit IAM's size limits")
    } else {
        None
    }
}

/// Longest bucket key prefix: `s3://` + a 63-character bucket + `/` + the prefix stays within
/// SageMaker's 512-character `S3OutputPath`, and the invoker and execution policies, which name
/// every prefix, stay within IAM's 6,144 and 10,240 characters.
pub const MAX_PREFIX_LEN: usize = 256;

/// Longest value in SageMaker's model (`ContainerImage`, `Url`, `KmsKeyId`, `EnvironmentValue`).
fn at_most(value: &str, max: usize) -> bool {
    value.chars().count() <= max
}

fn image_extra(image: &str) -> Option<&'static str> {
    (!at_most(image, 255)).then_some("must be at most 255 characters (SageMaker's ContainerImage)")
}

fn model_data_url_extra(url: &str) -> Option<&'static str> {
    (!at_most(url, 1024)).then_some("must be at most 1024 characters (SageMaker's ModelDataUrl)")
}

fn kms_key_extra(key: &str) -> Option<&'static str> {
    (!at_most(key, 2048)).then_some("must be at most 2048 characters (SageMaker's KmsKeyId)")
}

/// Most environment variables SageMaker takes for a container (`EnvironmentMap`).
pub const MAX_ENVIRONMENT_ENTRIES: usize = 100;
/// Longest environment value SageMaker takes (`EnvironmentValue`).
pub const MAX_ENVIRONMENT_VALUE_LEN: usize = 1024;

/// The production variant's name: one variant per endpoint.
pub const VARIANT_NAME: &str = "AllTraffic";

/// Every resource name of a stack, derived once so that provision, verify, teardown and the
/// runtime agree on them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// The stack name.
    pub stack: String,
    /// The endpoint.
    pub endpoint: String,
    /// The production variant.
    pub variant: String,
    /// The output bucket.
    pub bucket: String,
    /// The SageMaker execution role.
    pub execution_role: String,
    /// The inline policy on the execution role.
    pub execution_policy: String,
    /// The customer-managed invoker policy.
    pub invoker_policy: String,
    /// SNS topic for successes.
    pub success_topic: String,
    /// SNS topic for errors.
    pub error_topic: String,
    /// Application Auto Scaling resource id of the variant: `endpoint/<ep>/variant/<v>`.
    pub scaling_resource: String,
    /// Target-tracking policy on `ApproximateBacklogSizePerInstance`.
    pub backlog_policy: String,
    /// Step policy that wakes the endpoint from zero instances.
    pub wake_policy: String,
    /// CloudWatch alarm on `HasBacklogWithoutCapacity` that triggers the wake policy.
    pub wake_alarm: String,
}

impl Names {
    /// Derives the names of `stack` in `account` (12 digits; the bucket name must be globally
    /// unique on AWS, so a derived one carries the account and the region).
    pub fn new(stack: &Stack, account: &str) -> Names {
        let s = &stack.name;
        let bucket =
            stack.bucket.name.clone().unwrap_or_else(|| {
                format!("{}-{account}-{}", s.to_ascii_lowercase(), stack.region)
            });
        Names {
            stack: s.clone(),
            endpoint: s.clone(),
            variant: VARIANT_NAME.into(),
            bucket,
            execution_role: format!("{s}-sagemaker-execution"),
            execution_policy: format!("{s}-execution"),
            invoker_policy: format!("{s}-invoker"),
            success_topic: format!("{s}-success"),
            error_topic: format!("{s}-error"),
            scaling_resource: format!("endpoint/{s}/variant/{VARIANT_NAME}"),
            backlog_policy: format!("{s}-backlog-per-instance"),
            wake_policy: format!("{s}-wake-from-zero"),
            wake_alarm: format!("{s}-has-backlog-without-capacity"),
        }
    }

    /// The model's name for a given content hash: models cannot be updated in place, so a new
    /// content gets a new name.
    pub fn model(&self, content_hash: &str) -> String {
        format!("{}-{}", self.stack, short(content_hash))
    }

    /// The endpoint config's name for a given content hash: every output-config property forces
    /// a replacement, so the name carries the content.
    pub fn endpoint_config(&self, content_hash: &str) -> String {
        format!("{}-{}", self.stack, short(content_hash))
    }

    /// Whether `name` is one of this stack's hashed model or endpoint-config names.
    pub fn is_hashed_name(&self, name: &str) -> bool {
        name.strip_prefix(&self.stack)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|h| h.len() == SHORT_HASH_LEN && h.bytes().all(|b| b.is_ascii_hexdigit()))
    }
}

const SHORT_HASH_LEN: usize = 10;

fn short(hash: &str) -> &str {
    hash.get(..SHORT_HASH_LEN).unwrap_or(hash)
}

/// ARNs of a stack's resources in one partition, region and account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arns {
    /// `aws`, `aws-cn` or `aws-us-gov`.
    pub partition: String,
    /// The region.
    pub region: String,
    /// The 12-digit account id.
    pub account: String,
}

impl Arns {
    /// ARNs in `region` (the partition follows from it) and `account`.
    pub fn new(region: &str, account: &str) -> Arns {
        let partition = if region.starts_with("cn-") {
            "aws-cn"
        } else if region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        };
        Arns {
            partition: partition.into(),
            region: region.into(),
            account: account.into(),
        }
    }

    fn sagemaker(&self, kind: &str, name: &str) -> String {
        // SageMaker lower-cases resource names in its ARNs.
        format!(
            "arn:{}:sagemaker:{}:{}:{kind}/{}",
            self.partition,
            self.region,
            self.account,
            name.to_ascii_lowercase()
        )
    }

    /// `arn:…:sagemaker:…:endpoint/<name>`.
    pub fn endpoint(&self, name: &str) -> String {
        self.sagemaker("endpoint", name)
    }
    /// `arn:…:sagemaker:…:endpoint-config/<name>`.
    pub fn endpoint_config(&self, name: &str) -> String {
        self.sagemaker("endpoint-config", name)
    }
    /// `arn:…:sagemaker:…:model/<name>`.
    pub fn model(&self, name: &str) -> String {
        self.sagemaker("model", name)
    }
    /// `arn:…:iam::<account>:role/<name>`.
    pub fn role(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:role/{name}", self.partition, self.account)
    }
    /// `arn:…:iam::<account>:policy/<name>`.
    pub fn policy(&self, name: &str) -> String {
        format!("arn:{}:iam::{}:policy/{name}", self.partition, self.account)
    }
    /// `arn:…:s3:::<bucket>`.
    pub fn bucket(&self, bucket: &str) -> String {
        format!("arn:{}:s3:::{bucket}", self.partition)
    }
    /// `arn:…:s3:::<bucket>/<prefix>/*`: every object under a prefix.
    pub fn objects_under(&self, bucket: &str, prefix: &str) -> String {
        format!("arn:{}:s3:::{bucket}/{prefix}/*", self.partition)
    }
    /// `arn:…:sns:<region>:<account>:<name>`.
    pub fn topic(&self, name: &str) -> String {
        format!(
            "arn:{}:sns:{}:{}:{name}",
            self.partition, self.region, self.account
        )
    }
    /// `arn:…:logs:<region>:<account>:log-group:/aws/sagemaker/Endpoints/<endpoint>*`.
    pub fn endpoint_log_group(&self, endpoint: &str) -> String {
        format!(
            "arn:{}:logs:{}:{}:log-group:/aws/sagemaker/Endpoints/{endpoint}:*",
            self.partition, self.region, self.account
        )
    }
}

/// `s3://<bucket>/<prefix>`: how `AsyncInferenceConfig` names an output location.
pub fn s3_url(bucket: &str, prefix: &str) -> String {
    format!("s3://{bucket}/{prefix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each rule accepts a value of its kind and refuses one that is not, naming itself (a
    /// pattern that did not compile would panic here, too).
    #[test]
    fn every_rule_accepts_its_kind_and_refuses_another() {
        for (rule, good, bad) in [
            (&STACK_NAME, "scoring-prod", "scoring_prod"),
            (&REGION, "eu-west-1", "europe"),
            (
                &IMAGE_URI,
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1",
                "Scorer Image",
            ),
            (&S3_URL, "s3://my-models/scorer/model.tar.gz", "https://x/y"),
            (&ENV_KEY, "MODEL_NAME", "1MODEL"),
            (&HTTP_URL, "http://127.0.0.1:9000", "ftp://host"),
            (&NON_EMPTY, "bodyline-model", "  "),
            (&INSTANCE_TYPE, "ml.m5.large", "m5.large"),
            (&KMS_KEY, "alias/outputs", "my key"),
            (&BUCKET_NAME, "scoring-prod-outputs", "Scoring"),
            (&S3_PREFIX, "async/failures", "a//b"),
            (
                &PRINCIPAL,
                "arn:aws:iam::123456789012:role/scoring-app",
                "arn:aws:iam::1:group/x",
            ),
        ] {
            assert!(
                rule.check("f", good).is_ok(),
                "{good:?} refused by {}",
                rule.rule
            );
            let problem = rule
                .check("f", bad)
                .expect_err(&format!("{bad:?} accepted by {}", rule.rule));
            assert_eq!(problem.value, bad);
            assert!(!problem.rule.is_empty() && !problem.fix.is_empty());
        }
    }

    #[test]
    fn bucket_rules_catch_the_special_cases() {
        for bad in [
            "ab",
            "Upper",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "abc-s3alias",
            "-abc",
            "a_b",
        ] {
            assert!(BUCKET_NAME.check("bucket.name", bad).is_err(), "{bad}");
        }
        for good in ["abc", "my-bucket.logs", "a1-b2"] {
            assert!(BUCKET_NAME.check("bucket.name", good).is_ok(), "{good}");
        }
    }

    #[test]
    fn instance_types_and_images() {
        for good in [
            "ml.m5.large",
            "ml.g4dn.xlarge",
            "ml.c7i.48xlarge",
            "ml.t2.medium",
        ] {
            assert!(INSTANCE_TYPE.check("t", good).is_ok(), "{good}");
        }
        for bad in ["m5.large", "ml.m5", "ml..large", "ML.M5.LARGE"] {
            assert!(INSTANCE_TYPE.check("t", bad).is_err(), "{bad}");
        }
        for good in [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/scorer:1",
            "localhost:5000/bodyline/model",
            "public.ecr.aws/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(IMAGE_URI.check("i", good).is_ok(), "{good}");
        }
        for bad in ["scorer", "", "https://x/y", "a/B"] {
            assert!(IMAGE_URI.check("i", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn stack_names_fit_every_derived_name() {
        assert!(STACK_NAME
            .check("n", &"a".repeat(MAX_STACK_NAME_LEN))
            .is_ok());
        assert!(STACK_NAME
            .check("n", &"a".repeat(MAX_STACK_NAME_LEN + 1))
            .is_err());
        for bad in ["-a", "a-", "a_b", "a.b", ""] {
            assert!(STACK_NAME.check("n", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn values_longer_than_sagemaker_takes_are_refused() {
        let image = format!(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/{}",
            "a".repeat(300)
        );
        assert!(IMAGE_URI.check("model.image", &image).is_err());
        let url = format!("s3://models/{}", "k".repeat(1024));
        assert!(S3_URL.check("model.model_data_url", &url).is_err());
        assert!(S3_URL.check("model.model_data_url", &url[..1024]).is_ok());
        let alias = format!("alias/{}", "k".repeat(2048));
        assert!(KMS_KEY.check("async_inference.kms_key_id", &alias).is_err());
        assert!(S3_PREFIX
            .check("bucket.output_prefix", &"o".repeat(MAX_PREFIX_LEN))
            .is_ok());
        let err = S3_PREFIX
            .check("bucket.output_prefix", &"o".repeat(MAX_PREFIX_LEN + 1))
            .expect_err("a 257-character prefix");
        assert!(err.rule.contains("256"), "{}", err.rule);
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(Arns::new("cn-north-1", "1").partition, "aws-cn");
        assert_eq!(Arns::new("us-gov-west-1", "1").partition, "aws-us-gov");
        assert_eq!(
            Arns::new("eu-west-1", "123456789012").endpoint("Demo"),
            "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/demo"
        );
    }
}
