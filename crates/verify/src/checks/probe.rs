//! What the request-path checks (inline-body, size-limit, exclusive-input, `--compare-s3`) need
//! to know about an endpoint: its name and where it writes. A stack's checks derive it from the
//! stack file; `verify --endpoint` from the endpoint's own description. One copy of each check
//! serves both.

use std::fmt;

use super::VerifyOptions;
use bodyline_aws::Clients;

/// An S3 location `s3://bucket/prefix`; `prefix` has no leading or trailing `/` (it may be
/// empty: the whole bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct S3Path {
    pub bucket: String,
    pub prefix: String,
}

impl S3Path {
    pub(crate) fn new(bucket: &str, prefix: &str) -> S3Path {
        S3Path {
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
        }
    }

    /// `s3://bucket/prefix/` or `s3://bucket/prefix`; `None` when it is not an S3 URL.
    pub(crate) fn parse(url: &str) -> Option<S3Path> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| S3Path::new(bucket, prefix))
    }

    /// The key of `name` under the prefix.
    pub(crate) fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            name.to_string()
        } else {
            format!("{}/{name}", self.prefix)
        }
    }

    /// `s3://bucket/<key of name>`.
    pub(crate) fn url(&self, name: &str) -> String {
        format!("s3://{}/{}", self.bucket, self.key(name))
    }
}

impl fmt::Display for S3Path {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}/", self.bucket)
        } else {
            write!(f, "s3://{}/{}/", self.bucket, self.prefix)
        }
    }
}

/// One endpoint to send requests to, the clients to send them with, and how.
pub(crate) struct Probe<'a> {
    pub endpoint: &'a str,
    /// `S3OutputPath`.
    pub output: S3Path,
    /// `S3FailurePath`, when the config has one.
    pub failure: Option<S3Path>,
    pub clients: &'a Clients,
    pub options: &'a VerifyOptions,
}

impl Probe<'_> {
    pub(crate) fn payload(&self) -> &[u8] {
        self.options
            .payload
            .as_deref()
            .unwrap_or(super::DEFAULT_PAYLOAD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_paths_parse_with_or_without_a_prefix() {
        let p = S3Path::parse("s3://b/in/put/").unwrap();
        assert_eq!((p.bucket.as_str(), p.prefix.as_str()), ("b", "in/put"));
        assert_eq!(p.key("x"), "in/put/x");
        assert_eq!(p.to_string(), "s3://b/in/put/");
        let root = S3Path::parse("s3://b").unwrap();
        assert_eq!(root.key("x"), "x");
        assert_eq!(root.url("x"), "s3://b/x");
        assert_eq!(S3Path::parse("https://b/x"), None);
        assert_eq!(S3Path::parse("s3:///x"), None);
    }
}
