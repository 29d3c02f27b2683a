//! A narrow IAM policy check for the one place moto cannot do it: SNS.
//!
//! moto evaluates every SNS statement as if the resource were `*` (only S3, SQS, IAM and STS
//! get real resources), so a least-privilege role allowed `sns:Publish` on exactly its topics is
//! denied locally. When moto denies a role's `Publish`, the runtime reads the role's own policies
//! and, if they allow `sns:Publish` on that topic (and deny nothing of it), publishes with the
//! control plane's credentials instead. A role without that permission stays denied.

use crate::iam_policy::{allows, documents, Principal};

/// Whether the role `role_arn` is allowed `action` on `resource` by its inline and attached
/// policies: some Allow statement applies and no Deny statement does (a statement that needs a
/// condition key never applies: the runtime has none to offer).
pub(crate) async fn role_allows(
    iam: &aws_sdk_iam::Client,
    role_arn: &str,
    action: &str,
    resource: &str,
) -> Result<bool, String> {
    let role =
        Principal::role_of(role_arn).ok_or_else(|| format!("{role_arn:?} is not a role ARN"))?;
    let documents = documents(iam, &role).await?;
    Ok(allows(&documents, action, resource, &[]))
}
