//! `s3://bucket/key` locations: parsing, joining and printing.

use std::fmt;

/// A bucket and a key (the key may be empty for a bucket-level prefix).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl S3Uri {
    /// Parses `s3://bucket/key`; `None` when it is not such a URI or the bucket is empty.
    pub(crate) fn parse(text: &str) -> Option<S3Uri> {
        let rest = text.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return None;
        }
        Some(S3Uri {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }

    /// Appends path segments with exactly one `/` between them; empty segments are skipped.
    pub(crate) fn join(&self, segments: &[&str]) -> S3Uri {
        let mut key = self.key.trim_end_matches('/').to_string();
        for segment in segments {
            let segment = segment.trim_matches('/');
            if segment.is_empty() {
                continue;
            }
            if !key.is_empty() {
                key.push('/');
            }
            key.push_str(segment);
        }
        S3Uri {
            bucket: self.bucket.clone(),
            key,
        }
    }
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_joins_without_double_slashes() {
        let base = S3Uri::parse("s3://b/async/output/").unwrap();
        assert_eq!(
            base.join(&["", "x.out"]).to_string(),
            "s3://b/async/output/x.out"
        );
        assert_eq!(
            base.join(&["/ext/", "x.out"]).to_string(),
            "s3://b/async/output/ext/x.out"
        );
        let root = S3Uri::parse("s3://b").unwrap();
        assert_eq!(root.join(&["x.out"]).to_string(), "s3://b/x.out");
        assert_eq!(S3Uri::parse("https://b/x"), None);
        assert_eq!(S3Uri::parse("s3:///x"), None);
    }
}
