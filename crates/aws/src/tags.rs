//! Tags as `(key, value)` pairs, to and from each service's own tag type.
//!
//! Every bodyline crate reasons about tags as pairs (`bodyline_stack::stack_tags`,
//! `bodyline_stack::ownership`); only the call sites need the SDK types, built here.

use aws_smithy_types::error::operation::BuildError;

/// Tag pairs, as bodyline reasons about them.
pub type TagPairs = Vec<(String, String)>;

/// S3's `Tagging` (the bucket's whole tag set).
pub fn to_s3(tags: &[(String, String)]) -> Result<aws_sdk_s3::types::Tagging, BuildError> {
    let set = tags
        .iter()
        .map(|(k, v)| aws_sdk_s3::types::Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()?;
    aws_sdk_s3::types::Tagging::builder()
        .set_tag_set(Some(set))
        .build()
}

/// IAM's tags.
pub fn to_iam(tags: &[(String, String)]) -> Result<Vec<aws_sdk_iam::types::Tag>, BuildError> {
    tags.iter()
        .map(|(k, v)| aws_sdk_iam::types::Tag::builder().key(k).value(v).build())
        .collect()
}

/// SNS's tags.
pub fn to_sns(tags: &[(String, String)]) -> Result<Vec<aws_sdk_sns::types::Tag>, BuildError> {
    tags.iter()
        .map(|(k, v)| aws_sdk_sns::types::Tag::builder().key(k).value(v).build())
        .collect()
}

/// SageMaker's tags (its builder cannot fail: key and value are optional in the model).
pub fn to_sagemaker(tags: &[(String, String)]) -> Vec<aws_sdk_sagemaker::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_sagemaker::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

/// CloudWatch's tags (its builder cannot fail either).
pub fn to_cloudwatch(tags: &[(String, String)]) -> Vec<aws_sdk_cloudwatch::types::Tag> {
    tags.iter()
        .map(|(k, v)| {
            aws_sdk_cloudwatch::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
        })
        .collect()
}

/// Pairs from S3's tag set.
pub fn from_s3(tags: &[aws_sdk_s3::types::Tag]) -> TagPairs {
    pairs(tags.iter().map(|t| (t.key(), t.value())))
}

/// Pairs from IAM's tags.
pub fn from_iam(tags: &[aws_sdk_iam::types::Tag]) -> TagPairs {
    pairs(tags.iter().map(|t| (t.key(), t.value())))
}

/// Pairs from SNS's tags.
pub fn from_sns(tags: &[aws_sdk_sns::types::Tag]) -> TagPairs {
    pairs(tags.iter().map(|t| (t.key(), t.value())))
}

/// Pairs from SageMaker's tags; a tag without a key is dropped, a missing value is empty.
pub fn from_sagemaker(tags: &[aws_sdk_sagemaker::types::Tag]) -> TagPairs {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Pairs from CloudWatch's tags; a tag without a key is dropped, a missing value is empty.
pub fn from_cloudwatch(tags: &[aws_sdk_cloudwatch::types::Tag]) -> TagPairs {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Owned pairs from borrowed ones.
pub fn pairs<'a>(tags: impl IntoIterator<Item = (&'a str, &'a str)>) -> TagPairs {
    tags.into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack() -> TagPairs {
        vec![
            ("bodyline:stack".into(), "demo".into()),
            ("bodyline:region".into(), "eu-west-1".into()),
        ]
    }

    #[test]
    fn every_service_round_trips_the_pairs_in_order() {
        let tags = stack();
        let s3 = to_s3(&tags).expect("valid tags");
        assert_eq!(from_s3(s3.tag_set()), tags);
        assert_eq!(from_iam(&to_iam(&tags).expect("valid tags")), tags);
        assert_eq!(from_sns(&to_sns(&tags).expect("valid tags")), tags);
        assert_eq!(from_sagemaker(&to_sagemaker(&tags)), tags);
        assert_eq!(from_cloudwatch(&to_cloudwatch(&tags)), tags);
    }
}
