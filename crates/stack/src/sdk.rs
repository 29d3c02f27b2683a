//! The SDK configuration for a target: the one place that decides where AWS calls go.

use std::path::Path;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;

use crate::{LocalEnv, Stack, StackError, Target};

/// Builds the shared SDK configuration for the stack's target. Every client is built from it
/// (`Client::new(&config)`), so one value decides whether calls reach AWS or the local stack.
///
/// The local target reads `<root>/.bodyline/local.env` (the front door's URL and the keys the
/// bootstrap created); the aws target uses the default credential chain (environment,
/// profiles, SSO, instance roles). No call is made here: credentials resolve on first use.
pub async fn sdk_config(stack: &Stack, root: &Path) -> Result<SdkConfig, StackError> {
    match stack.target {
        Target::Local => Ok(local_sdk_config(&LocalEnv::read(root)?)),
        Target::Aws => Ok(aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(stack.region.clone()))
            .load()
            .await),
    }
}

/// The shared SDK configuration for `target` without a stack file (`verify --endpoint`): the
/// local stack through `<root>/.bodyline/local.env`, or AWS through the default credential
/// chain. `region`, when given, replaces the one local.env or the chain would use; on the aws
/// target the result has no region when neither names one.
pub async fn target_sdk_config(
    target: Target,
    region: Option<&str>,
    root: &Path,
) -> Result<SdkConfig, StackError> {
    let region = region.map(|r| Region::new(r.to_string()));
    match target {
        Target::Local => {
            let config = local_sdk_config(&LocalEnv::read(root)?);
            Ok(match region {
                Some(region) => config.to_builder().region(region).build(),
                None => config,
            })
        }
        Target::Aws => {
            let mut loader = aws_config::defaults(BehaviorVersion::latest());
            if let Some(region) = region {
                loader = loader.region(region);
            }
            Ok(loader.load().await)
        }
    }
}

/// The SDK configuration that reaches a local stack: static keys, one endpoint URL.
///
/// The endpoint is an IP address, so the S3 client addresses buckets path-style on its own.
pub fn local_sdk_config(env: &LocalEnv) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(env.region.clone()))
        .endpoint_url(env.endpoint_url.clone())
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                env.access_key_id.clone(),
                env.secret_access_key.clone(),
                None,
                None,
                "bodyline-local",
            )),
        )
        .build()
}
