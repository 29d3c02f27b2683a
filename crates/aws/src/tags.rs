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

/// A service whose tag has a required key and value (`build()` checks them), as IAM's and
/// SNS's do.
macro_rules! required_key_and_value {
    ($to:ident, $from:ident, $sdk:ident, $service:literal) => {
        #[doc = concat!($service, "'s tags.")]
        pub fn $to(tags: &[(String, String)]) -> Result<Vec<$sdk::types::Tag>, BuildError> {
            tags.iter()
                .map(|(k, v)| $sdk::types::Tag::builder().key(k).value(v).build())
                .collect()
        }

        #[doc = concat!("Pairs from ", $service, "'s tags.")]
        pub fn $from(tags: &[$sdk::types::Tag]) -> TagPairs {
            pairs(tags.iter().map(|t| (t.key(), t.value())))
        }
    };
}

/// A service whose tag has an optional key and value (its builder cannot fail), as
/// SageMaker's and CloudWatch's do; reading, a tag without a key is dropped and a missing
/// value is empty.
macro_rules! optional_key_and_value {
    ($to:ident, $from:ident, $sdk:ident, $service:literal) => {
        #[doc = concat!($service, "'s tags.")]
        pub fn $to(tags: &[(String, String)]) -> Vec<$sdk::types::Tag> {
            tags.iter()
                .map(|(k, v)| $sdk::types::Tag::builder().key(k).value(v).build())
                .collect()
        }

        #[doc = concat!("Pairs from ", $service, "'s tags.")]
        pub fn $from(tags: &[$sdk::types::Tag]) -> TagPairs {
            tags.iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .collect()
        }
    };
}

required_key_and_value!(to_iam, from_iam, aws_sdk_iam, "IAM");
required_key_and_value!(to_sns, from_sns, aws_sdk_sns, "SNS");
optional_key_and_value!(to_sagemaker, from_sagemaker, aws_sdk_sagemaker, "SageMaker");
optional_key_and_value!(
    to_cloudwatch,
    from_cloudwatch,
    aws_sdk_cloudwatch,
    "CloudWatch"
);

/// Pairs from S3's tag set.
pub fn from_s3(tags: &[aws_sdk_s3::types::Tag]) -> TagPairs {
    pairs(tags.iter().map(|t| (t.key(), t.value())))
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
