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

/// The clients provision uses, built from one `SdkConfig` and sharing one [`CallCounter`].
#[derive(Debug, Clone)]
pub struct Clients {
    pub(crate) sdk: SdkConfig,
    pub(crate) s3: aws_sdk_s3::Client,
    pub(crate) iam: aws_sdk_iam::Client,
    pub(crate) sagemaker: aws_sdk_sagemaker::Client,
    pub(crate) sns: aws_sdk_sns::Client,
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) scaling: aws_sdk_applicationautoscaling::Client,
    pub(crate) cloudwatch: aws_sdk_cloudwatch::Client,
    counter: CallCounter,
}

impl Clients {
    /// Builds every client from `sdk` (`from_conf`, so an endpoint URL such as the local
    /// stack's applies to all of them) with the call counter installed.
    pub fn new(sdk: &SdkConfig) -> Clients {
        let counter = CallCounter::default();
        let s3 = aws_sdk_s3::config::Builder::from(sdk)
            // The local stack is addressed by IP; path-style also keeps dotted bucket names valid.
            .force_path_style(sdk.endpoint_url().is_some())
            .interceptor(counter.clone())
            .build();
        let iam = aws_sdk_iam::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build();
        let sagemaker = aws_sdk_sagemaker::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build();
        let sns = aws_sdk_sns::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build();
        let sts = aws_sdk_sts::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build();
        let scaling = aws_sdk_applicationautoscaling::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build();
        let cloudwatch = aws_sdk_cloudwatch::config::Builder::from(sdk)
            .interceptor(counter.clone())
            .build();
        Clients {
            scaling: aws_sdk_applicationautoscaling::Client::from_conf(scaling),
            cloudwatch: aws_sdk_cloudwatch::Client::from_conf(cloudwatch),
            sdk: sdk.clone(),
            s3: aws_sdk_s3::Client::from_conf(s3),
            iam: aws_sdk_iam::Client::from_conf(iam),
            sagemaker: aws_sdk_sagemaker::Client::from_conf(sagemaker),
            sns: aws_sdk_sns::Client::from_conf(sns),
            sts: aws_sdk_sts::Client::from_conf(sts),
            counter,
        }
    }

    /// The calls made through these clients so far.
    pub fn calls(&self) -> CallCounts {
        self.counter.counts()
    }
}
