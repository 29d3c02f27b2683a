//! The bootstrap: moto's only unauthenticated calls create the administrator identity whose
//! keys sign every later call.

use aws_config::retry::RetryConfig;
use aws_config::SdkConfig;
use aws_sdk_iam::error::DisplayErrorContext;
use bodyline_stack::LocalEnv;

use crate::LocalError;

/// The IAM user the bootstrap creates.
pub(crate) const ADMIN_USER: &str = "bodyline-admin";

/// Its inline policy: everything, like an account's administrator.
const ADMIN_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;

/// The administrator identity in moto's IAM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Admin {
    /// The user's ARN (trust policies of local roles name it).
    pub arn: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

/// Makes exactly [`crate::moto::UNAUTHENTICATED_CALLS`] calls against a fresh moto: `CreateUser`,
/// `PutUserPolicy` (`*` on `*`) and `CreateAccessKey`. Retries are off, because a retried call
/// would spend one more of the unauthenticated calls; then one signed `GetUser` proves the keys.
pub(crate) async fn bootstrap(moto_url: &str, region: &str) -> Result<Admin, LocalError> {
    let failed = |step: &'static str, message: String| LocalError::Bootstrap {
        url: moto_url.to_string(),
        step,
        message,
    };
    // moto skips authentication for these calls, so any key signs them.
    let unauthenticated = config(moto_url, region, "bootstrap", "bootstrap");
    let iam = aws_sdk_iam::Client::new(&unauthenticated);
    let user = iam
        .create_user()
        .user_name(ADMIN_USER)
        .send()
        .await
        .map_err(|e| failed("CreateUser", DisplayErrorContext(e).to_string()))?;
    let arn = user
        .user()
        .map(|u| u.arn().to_string())
        .ok_or_else(|| failed("CreateUser", "the response has no user".to_string()))?;
    iam.put_user_policy()
        .user_name(ADMIN_USER)
        .policy_name("bodyline-admin-all")
        .policy_document(ADMIN_POLICY)
        .send()
        .await
        .map_err(|e| failed("PutUserPolicy", DisplayErrorContext(e).to_string()))?;
    let key = iam
        .create_access_key()
        .user_name(ADMIN_USER)
        .send()
        .await
        .map_err(|e| failed("CreateAccessKey", DisplayErrorContext(e).to_string()))?;
    let key = key
        .access_key()
        .ok_or_else(|| failed("CreateAccessKey", "the response has no key".to_string()))?;
    let admin = Admin {
        arn,
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
    };

    verify(moto_url, region, &admin)
        .await
        .map_err(|message| failed("GetUser (signed)", message))?;
    Ok(admin)
}

/// One signed `GetUser` with the administrator's keys: they work on the moto at `moto_url`.
pub(crate) async fn verify(moto_url: &str, region: &str, admin: &Admin) -> Result<(), String> {
    let signed = config(
        moto_url,
        region,
        &admin.access_key_id,
        &admin.secret_access_key,
    );
    aws_sdk_iam::Client::new(&signed)
        .get_user()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| DisplayErrorContext(e).to_string())
}

/// An SDK configuration for moto itself, with retries off.
pub(crate) fn config(url: &str, region: &str, key: &str, secret: &str) -> SdkConfig {
    bodyline_stack::local_sdk_config(&LocalEnv {
        endpoint_url: url.to_string(),
        access_key_id: key.to_string(),
        secret_access_key: secret.to_string(),
        region: region.to_string(),
        extra: Default::default(),
    })
    .to_builder()
    .retry_config(RetryConfig::disabled())
    .build()
}
