//! Polling a result that is not written yet, as every caller of async inference does. S3
//! answers a missing key with 404 `NoSuchKey` only when the caller may `s3:ListBucket` on the
//! bucket (for that prefix); without it the answer is 403 `AccessDenied`, so a caller that
//! treats `NoSuchKey` as "not yet" fails on its first poll. Both least-privilege probes (the
//! stack's invoker and `verify --endpoint --invoker-role`) ask the same question here.

use serde_json::{json, Value};

use super::probe::S3Path;
use bodyline_aws::AwsFailure;

/// What GetObject of a key that verify never writes answered.
#[derive(Debug)]
pub(crate) enum Poll {
    /// 404: the caller can tell "not yet" from "denied".
    NotFound,
    /// 403: the caller lacks `s3:ListBucket` there (or `s3:GetObject`).
    Denied,
    /// The key exists, though verify never writes it.
    Exists,
    /// Another answer, summarised.
    Failed(String),
}

/// GetObject of `key` in `bucket` with `s3`'s credentials; `key` must be one that nobody writes.
pub(crate) async fn poll_not_written(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Poll {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(_) => Poll::Exists,
        Err(e) => {
            let failure = AwsFailure::of(&e);
            if failure.is_not_found() {
                Poll::NotFound
            } else if failure.is_access_denied() {
                Poll::Denied
            } else {
                Poll::Failed(failure.summary())
            }
        }
    }
}

/// The statement that lets a caller poll the result locations: `s3:ListBucket` on the bucket,
/// limited by `s3:prefix` to the result prefixes (all in `bucket`).
pub(crate) fn list_bucket_statement(bucket: &str, results: &[&S3Path]) -> Value {
    let prefixes: Vec<String> = results
        .iter()
        .map(|p| {
            if p.prefix.is_empty() {
                "*".to_string()
            } else {
                format!("{}/*", p.prefix)
            }
        })
        .collect();
    json!({
        "Sid": "PollResults",
        "Effect": "Allow",
        "Action": "s3:ListBucket",
        "Resource": format!("arn:aws:s3:::{bucket}"),
        "Condition": {"StringLike": {"s3:prefix": prefixes}}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_poll_statement_lists_only_the_result_prefixes() {
        let output = S3Path::new("b", "async/output/");
        let failure = S3Path::new("b", "async/failure");
        let statement = list_bucket_statement("b", &[&output, &failure]);
        assert_eq!(statement["Resource"], "arn:aws:s3:::b");
        assert_eq!(
            statement["Condition"]["StringLike"]["s3:prefix"],
            json!(["async/output/*", "async/failure/*"])
        );
        let whole = S3Path::new("b", "");
        assert_eq!(
            list_bucket_statement("b", &[&whole])["Condition"]["StringLike"]["s3:prefix"],
            json!(["*"])
        );
    }
}
