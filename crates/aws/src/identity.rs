//! Acting as another identity: a role's session credentials, and a configuration that signs
//! with given credentials.

use aws_config::SdkConfig;
use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;

use crate::AwsFailure;

/// The provider name the credentials carry (shown by the SDK's credential errors).
const PROVIDER: &str = "bodyline-verify-invoker";

/// Why a role could not be assumed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AssumeError {
    /// STS refused or failed.
    #[error("AssumeRole {role}: {failure}")]
    Refused {
        /// The role's ARN.
        role: String,
        /// What STS said.
        failure: AwsFailure,
    },
    /// STS answered without credentials.
    #[error("AssumeRole {role} returned no credentials")]
    NoCredentials {
        /// The role's ARN.
        role: String,
    },
}

/// Assumes `role` through `sts` with session name `session`, returning its temporary
/// credentials.
pub async fn assume_role(
    sts: &aws_sdk_sts::Client,
    role: &str,
    session: &str,
) -> Result<Credentials, AssumeError> {
    let out = sts
        .assume_role()
        .role_arn(role)
        .role_session_name(session)
        .send()
        .await
        .map_err(|e| AssumeError::Refused {
            role: role.to_string(),
            failure: AwsFailure::of(&e),
        })?;
    let c = out
        .credentials()
        .ok_or_else(|| AssumeError::NoCredentials {
            role: role.to_string(),
        })?;
    Ok(Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        PROVIDER,
    ))
}

/// Static credentials (an IAM user's access key), named like assumed ones.
pub fn static_credentials(access_key_id: &str, secret_access_key: &str) -> Credentials {
    Credentials::new(access_key_id, secret_access_key, None, None, PROVIDER)
}

/// `config`, signing with `credentials` instead of its own.
pub fn with_credentials(config: &SdkConfig, credentials: Credentials) -> SdkConfig {
    config
        .to_builder()
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build()
}

/// Resolves the credentials of `config` now, so that a missing or broken credential chain is
/// named before any call is made; the error is the chain's own account of what it tried.
pub async fn resolve_credentials(config: &SdkConfig) -> Result<(), String> {
    use aws_credential_types::provider::ProvideCredentials as _;
    let provider = config
        .credentials_provider()
        .ok_or_else(|| "no credential provider is configured".to_string())?;
    provider
        .provide_credentials()
        .await
        .map(|_| ())
        .map_err(|e| crate::error_chain(&e))
}

/// Who the configured credentials are, as STS says (`GetCallerIdentity`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The 12-digit account, when STS names one.
    pub account: Option<String>,
    /// The caller's ARN, when STS names one.
    pub arn: Option<String>,
}

/// Asks STS who the credentials of `sts` are.
pub async fn caller(sts: &aws_sdk_sts::Client) -> Result<Caller, AwsFailure> {
    let out = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsFailure::of(&e))?;
    Ok(Caller {
        account: out.account().map(str::to_string),
        arn: out.arn().map(str::to_string),
    })
}
