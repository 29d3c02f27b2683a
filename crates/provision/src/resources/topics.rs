//! Deleting the SNS topics.

use crate::owned::deleting::{deleted_or_already_gone, Deleting, Pending};
use crate::owned::failure::none_if_missing;
use crate::owned::resource::OwnedResource;

/// Deletes a topic, by its ARN.
pub(crate) fn delete_topic<'a>(cx: &'a mut Deleting<'_>, r: &'a OwnedResource) -> Pending<'a> {
    Box::pin(async move {
        let arn = r.arn.as_deref().unwrap_or(&r.name);
        let deleted = none_if_missing(
            "DeleteTopic",
            arn,
            cx.clients.sns.delete_topic().topic_arn(arn).send().await,
        )?
        .is_some();
        Ok(deleted_or_already_gone(deleted, String::new()))
    })
}
