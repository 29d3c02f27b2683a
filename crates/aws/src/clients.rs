//! The SDK clients of one run, all counting their calls through one interceptor.

use std::sync::{Arc, Mutex};

use aws_config::SdkConfig;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

/// How many calls a run made, split into reads and mutations.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct CallCounts {
    /// `Describe*`, `Get*`, `List*` and `Head*` operations.
    pub read: u64,
    /// Every other operation.
    pub mutating: u64,
    /// The mutating operations in order, as `Service.Operation`.
    pub mutating_operations: Vec<String>,
}

/// An interceptor counting each operation once (not each retry attempt), classified by name.
#[derive(Debug, Clone, Default)]
pub struct CallCounter {
    counts: Arc<Mutex<CallCounts>>,
}

impl CallCounter {
    /// The counts so far.
    pub fn counts(&self) -> CallCounts {
        self.counts.lock().map(|c| c.clone()).unwrap_or_default()
    }

    fn record(&self, service: &str, operation: &str) {
        let read = ["Describe", "Get", "List", "Head"]
            .iter()
            .any(|p| operation.starts_with(p));
        if let Ok(mut c) = self.counts.lock() {
            if read {
                c.read += 1;
            } else {
                c.mutating += 1;
                c.mutating_operations.push(format!("{service}.{operation}"));
            }
        }
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "BodylineCallCounter"
    }

    // Called once per operation, before any attempt (retries are not counted twice), and —
    // unlike `read_before_execution` of a client-level interceptor — after the operation's
    // configuration, which carries its name, is in the bag.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(meta) = cfg.load::<Metadata>() {
            self.record(meta.service(), meta.name());
        }
        Ok(())
    }
}

/// One client per service, built from one `SdkConfig` and sharing one [`CallCounter`].
#[derive(Debug, Clone)]
pub struct Clients {
    sdk: SdkConfig,
    /// S3, path-style whenever the configuration names an endpoint URL.
    pub s3: aws_sdk_s3::Client,
    /// IAM.
    pub iam: aws_sdk_iam::Client,
    /// SageMaker (the control plane).
    pub sagemaker: aws_sdk_sagemaker::Client,
    /// SageMaker Runtime (`InvokeEndpointAsync`).
    pub runtime: aws_sdk_sagemakerruntime::Client,
    /// SNS.
    pub sns: aws_sdk_sns::Client,
    /// STS.
    pub sts: aws_sdk_sts::Client,
    /// Application Auto Scaling.
    pub scaling: aws_sdk_applicationautoscaling::Client,
    /// CloudWatch (the wake alarm).
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    counter: CallCounter,
}

impl Clients {
    /// Builds every client from `sdk` (`from_conf`, so an endpoint URL such as the local
    /// stack's applies to all of them) with the call counter installed.
    pub fn new(sdk: &SdkConfig) -> Clients {
        let counter = CallCounter::default();
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            // The local stack is addressed by IP, and moto serves buckets only path-style;
            // path-style also keeps dotted bucket names valid.
            .force_path_style(sdk.endpoint_url().is_some())
            .interceptor(counter.clone())
            .build();
        macro_rules! counted {
            ($sdk_crate:ident) => {
                $sdk_crate::Client::from_conf(
                    $sdk_crate::config::Builder::from(sdk)
                        .interceptor(counter.clone())
                        .build(),
                )
            };
        }
        Clients {
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: counted!(aws_sdk_iam),
            sagemaker: counted!(aws_sdk_sagemaker),
            runtime: counted!(aws_sdk_sagemakerruntime),
            sns: counted!(aws_sdk_sns),
            sts: counted!(aws_sdk_sts),
            scaling: counted!(aws_sdk_applicationautoscaling),
            cloudwatch: counted!(aws_sdk_cloudwatch),
            sdk: sdk.clone(),
            counter,
        }
    }

    /// The configuration the clients were built from (its credentials provider, region).
    pub fn sdk(&self) -> &SdkConfig {
        &self.sdk
    }

    /// The calls made through these clients so far.
    pub fn calls(&self) -> CallCounts {
        self.counter.counts()
    }
}
