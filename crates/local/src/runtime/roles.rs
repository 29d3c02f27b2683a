//! S3 and SNS clients acting as an endpoint's execution role, through STS `AssumeRole`.
//!
//! SageMaker writes outputs and publishes notifications as the model's execution role, so the
//! runtime does the same against the control plane: with IAM enforcement on, a role without
//! `s3:PutObject` on the output prefix really cannot write there.
//!
//! One exception: moto's `AssumeRole` fails (HTTP 500) on a trust policy with a statement whose
//! principal has no `AWS` key, which is exactly the trust an execution role has on AWS
//! (`sagemaker.amazonaws.com` only). Such a role, made by Terraform or by hand, is not changed:
//! its session is *checked by policy* instead ([`RoleSession::by_policy`]): the runtime reads
//! the role's own policies ([`super::policy`]) before each write and then writes with the
//! control plane's credentials.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;

/// Credentials are renewed this long before they expire.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Pauses between AssumeRole attempts that got no answer: from the first, doubling, giving up
/// once the pause would reach the second (about two minutes in all).
const ASSUME_RETRY_PAUSE: (Duration, Duration) =
    (Duration::from_millis(100), Duration::from_secs(64));

/// Whether the call got no answer, or a 5xx (the control plane is restarting or busy).
fn is_unanswered<E>(
    error: &aws_sdk_sts::error::SdkError<E, aws_sdk_sts::config::http::HttpResponse>,
) -> bool {
    use aws_sdk_sts::error::SdkError;
    match error {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(e) => e.raw().status().as_u16() >= 500,
        _ => false,
    }
}

/// Clients signed with one role's temporary credentials.
#[derive(Clone)]
pub(crate) struct RoleSession {
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    /// The role could not be assumed because of moto's trust quirk: `s3` and `sns` carry the
    /// control plane's credentials, and every use must first check the role's own policies.
    pub by_policy: bool,
    expires: SystemTime,
}

/// How long a by-policy session is used before `AssumeRole` is tried again (the trust policy
/// may have been changed meanwhile).
const BY_POLICY_FOR: Duration = Duration::from_secs(RENEW_BEFORE.as_secs() + 60);

/// Assumed-role sessions by role ARN.
pub(crate) struct Roles {
    base: aws_config::SdkConfig,
    sts: aws_sdk_sts::Client,
    iam: aws_sdk_iam::Client,
    slots: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<RoleSession>>>>>,
}

impl Roles {
    pub(crate) fn new(base: &aws_config::SdkConfig) -> Roles {
        Roles {
            base: base.clone(),
            sts: aws_sdk_sts::Client::new(base),
            iam: aws_sdk_iam::Client::new(base),
            slots: Mutex::new(HashMap::new()),
        }
    }

    /// A session for `role_arn`, assuming the role when there is none or it is about to expire.
    pub(crate) async fn session(&self, role_arn: &str) -> Result<RoleSession, String> {
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .map_err(|_| "the role session cache lock is poisoned".to_string())?;
            slots.entry(role_arn.to_string()).or_default().clone()
        };
        let mut session = slot.lock().await;
        if let Some(current) = session.as_ref() {
            if current.expires > SystemTime::now() + RENEW_BEFORE {
                return Ok(current.clone());
            }
        }
        let fresh = self.assume(role_arn).await?;
        *session = Some(fresh.clone());
        Ok(fresh)
    }

    async fn assume(&self, role_arn: &str) -> Result<RoleSession, String> {
        let mut pause = ASSUME_RETRY_PAUSE.0;
        let output = loop {
            match self
                .sts
                .assume_role()
                .role_arn(role_arn)
                .role_session_name("bodyline-local-runtime")
                .send()
                .await
            {
                Ok(output) => break output,
                Err(e) => {
                    let server_error = e
                        .raw_response()
                        .is_some_and(|r| r.status().is_server_error());
                    // moto answers 500 for a role that trusts only services (as on AWS); asked
                    // first, so that answer is not mistaken for moto being away.
                    if server_error && self.trusts_only_services(role_arn).await {
                        tracing::info!(role = %role_arn, "the execution role trusts no AWS principal, which moto's AssumeRole cannot take; checking its policies for each write instead");
                        return Ok(self.by_policy());
                    }
                    // No answer (moto restarting): the role is not unusable, the control plane
                    // is away for a moment; a refusal or a 4xx is returned at once.
                    if is_unanswered(&e) && pause < ASSUME_RETRY_PAUSE.1 {
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                        continue;
                    }
                    return Err(format!(
                        "STS AssumeRole on the execution role {role_arn} failed: {}; the role's trust policy must allow the local administrator (a statement with both Service and AWS principals)",
                        aws_sdk_sts::error::DisplayErrorContext(&e)
                    ));
                }
            }
        };
        let creds = output
            .credentials()
            .ok_or_else(|| format!("STS AssumeRole on {role_arn} returned no credentials"))?;
        let expires = SystemTime::try_from(*creds.expiration())
            .unwrap_or_else(|_| SystemTime::now() + Duration::from_secs(900));
        let credentials = Credentials::new(
            creds.access_key_id(),
            creds.secret_access_key(),
            Some(creds.session_token().to_string()),
            Some(expires),
            "bodyline-execution-role",
        );
        let s3 = aws_sdk_s3::config::Builder::from(&self.base)
            .credentials_provider(credentials.clone())
            .force_path_style(true)
            .build();
        let sns = aws_sdk_sns::config::Builder::from(&self.base)
            .credentials_provider(credentials)
            .build();
        Ok(RoleSession {
            s3: aws_sdk_s3::Client::from_conf(s3),
            sns: aws_sdk_sns::Client::from_conf(sns),
            by_policy: false,
            expires,
        })
    }

    /// A session with the control plane's own clients, to be used only after the role's
    /// policies allow what is done.
    fn by_policy(&self) -> RoleSession {
        let s3 = aws_sdk_s3::config::Builder::from(&self.base)
            .force_path_style(true)
            .build();
        RoleSession {
            s3: aws_sdk_s3::Client::from_conf(s3),
            sns: aws_sdk_sns::Client::new(&self.base),
            by_policy: true,
            expires: SystemTime::now() + BY_POLICY_FOR,
        }
    }

    /// Whether the role's trust policy has a statement whose principal names no `AWS` identity
    /// (moto's `AssumeRole` answers 500 on those).
    async fn trusts_only_services(&self, role_arn: &str) -> bool {
        let name = role_arn.rsplit('/').next().unwrap_or(role_arn);
        let Ok(role) = self.iam.get_role().role_name(name).send().await else {
            return false;
        };
        let Some(text) = role.role().and_then(|r| r.assume_role_policy_document()) else {
            return false;
        };
        let decoded = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
        let Ok(trust) = serde_json::from_str::<serde_json::Value>(&decoded) else {
            return false;
        };
        let statements = match &trust["Statement"] {
            serde_json::Value::Array(list) => list.iter().collect(),
            one @ serde_json::Value::Object(_) => vec![one],
            _ => Vec::new(),
        };
        statements.iter().any(|st| {
            st["Principal"]
                .as_object()
                .is_some_and(|p| !p.contains_key("AWS"))
        })
    }
}
