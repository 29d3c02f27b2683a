//! A tagged IAM user with an access key: verify's throw-away invoker and the demo app's user
//! are made the same way.

use crate::tags;
use crate::AwsFailure;

/// The user that was made and its key.
#[derive(Clone)]
pub struct UserKey {
    /// The user's name.
    pub name: String,
    /// The user's ARN.
    pub arn: String,
    /// The access key id.
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for UserKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret never reaches a log line.
        f.debug_struct("UserKey")
            .field("name", &self.name)
            .field("arn", &self.arn)
            .field("access_key_id", &self.access_key_id)
            .finish_non_exhaustive()
    }
}

/// Which step failed. Only [`UserError::CreateUser`] and [`UserError::Tags`] leave no user
/// behind; after the others the caller deletes the user ([`UserError::user_exists`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UserError {
    /// A tag could not be built.
    #[error("the tags of user {user} are not valid: {message}")]
    Tags {
        /// The user.
        user: String,
        /// The SDK's reason.
        message: String,
    },
    /// `CreateUser` failed.
    #[error("CreateUser {user}: {failure}")]
    CreateUser {
        /// The user.
        user: String,
        /// What IAM said.
        failure: AwsFailure,
    },
    /// `AttachUserPolicy` failed.
    #[error("attaching {policy} to user {user}: {failure}")]
    AttachPolicy {
        /// The user.
        user: String,
        /// The policy's ARN.
        policy: String,
        /// What IAM said.
        failure: AwsFailure,
    },
    /// `CreateAccessKey` failed or returned no key.
    #[error("CreateAccessKey {user}: {}", failure.as_ref().map_or("IAM returned no key".to_string(), AwsFailure::summary))]
    AccessKey {
        /// The user.
        user: String,
        /// What IAM said, when the call failed.
        failure: Option<AwsFailure>,
    },
}

impl UserError {
    /// Whether the user was made before the failure (and should be deleted).
    pub fn user_exists(&self) -> bool {
        matches!(
            self,
            UserError::AttachPolicy { .. } | UserError::AccessKey { .. }
        )
    }
}

/// Creates user `name` with `tags`, attaches each of `policies` (ARNs), then creates its
/// access key, in that order: the key exists only for a user that already holds its grants.
pub async fn create_user_with_key(
    iam: &aws_sdk_iam::Client,
    name: &str,
    tags: &[(String, String)],
    policies: &[String],
) -> Result<UserKey, UserError> {
    let iam_tags = tags::to_iam(tags).map_err(|e| UserError::Tags {
        user: name.to_string(),
        message: e.to_string(),
    })?;
    let created = iam
        .create_user()
        .user_name(name)
        .set_tags(Some(iam_tags))
        .send()
        .await
        .map_err(|e| UserError::CreateUser {
            user: name.to_string(),
            failure: AwsFailure::of(&e),
        })?;
    for policy in policies {
        iam.attach_user_policy()
            .user_name(name)
            .policy_arn(policy)
            .send()
            .await
            .map_err(|e| UserError::AttachPolicy {
                user: name.to_string(),
                policy: policy.clone(),
                failure: AwsFailure::of(&e),
            })?;
    }
    let key = iam
        .create_access_key()
        .user_name(name)
        .send()
        .await
        .map_err(|e| UserError::AccessKey {
            user: name.to_string(),
            failure: Some(AwsFailure::of(&e)),
        })?;
    let key = key.access_key().ok_or_else(|| UserError::AccessKey {
        user: name.to_string(),
        failure: None,
    })?;
    Ok(UserKey {
        name: name.to_string(),
        arn: created
            .user()
            .map(|u| u.arn().to_string())
            .unwrap_or_default(),
        access_key_id: key.access_key_id().to_string(),
        secret_access_key: key.secret_access_key().to_string(),
    })
}
