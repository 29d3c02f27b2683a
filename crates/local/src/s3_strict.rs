//! S3's answers where moto is lenient, decided from the signed caller's identity policies.
//!
//! - **A read of a missing object.** S3 answers `GetObject`/`HeadObject` of a key that does not
//!   exist with 404 `NoSuchKey` only when the caller may `s3:ListBucket` on the bucket with
//!   `s3:prefix` = that key; otherwise with 403 `AccessDenied`, so that nobody learns which keys
//!   exist. moto answers 404 to anyone allowed `s3:GetObject`.
//! - **A listing.** moto ignores the conditions of identity policies, so an `s3:ListBucket`
//!   scoped with an `s3:prefix` condition lists the whole bucket there. A listing moto allowed
//!   is refused with 403 when the caller's policies do not allow it for the request's `prefix`
//!   (no `prefix` parameter: the key is absent, as on AWS).
//!
//! moto checks the signature and its own policy evaluation first: only its 404 for a missing
//! key and its 200 for a listing are re-judged. A caller the front door cannot identify (an
//! assumed role whose `AssumeRole` did not pass through it) keeps moto's answer. Path-style
//! addressing only (what the SDKs use against an IP endpoint). Identity policies only: bucket
//! policies, permission boundaries and session policies are not read.

use std::future::Future;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use percent_encoding::percent_decode_str;

use crate::callers::Callers;
use crate::iam_policy::allows;
use crate::LocalError;

/// Largest error or `AssumeRole` body the front door reads to judge it.
pub(crate) const JUDGED_BODY_LIMIT: usize = 1 << 20;

/// What a request is, for the rules of this module.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Judged {
    /// `GetObject` (`head: false`) or `HeadObject` of `bucket`/`key`.
    ObjectRead {
        bucket: String,
        key: String,
        head: bool,
    },
    /// `ListObjects` or `ListObjectsV2` of `bucket`, with its `prefix` parameter.
    List {
        bucket: String,
        prefix: Option<String>,
    },
}

/// The query parameters of `GetObject`/`HeadObject`; any other names a sub-resource (`?acl`,
/// `?tagging`, `?uploadId`, …), which is another operation.
const OBJECT_READ_PARAMS: [&str; 5] = [
    "x-id",
    "partNumber",
    "versionId",
    "response-content-type",
    "response-content-disposition",
];
/// The query parameters of `ListObjects`/`ListObjectsV2`.
const LIST_PARAMS: [&str; 10] = [
    "x-id",
    "list-type",
    "prefix",
    "delimiter",
    "marker",
    "max-keys",
    "encoding-type",
    "continuation-token",
    "start-after",
    "fetch-owner",
];

/// Whether a request is one this module re-judges (signed for `s3`, path-style).
pub(crate) fn judged(method: &Method, uri: &Uri, headers: &HeaderMap) -> Option<Judged> {
    if credential_scope(headers)?.service != "s3"
        || !(method == Method::GET || method == Method::HEAD)
    {
        return None;
    }
    let params: Vec<(String, String)> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect();
    let only = |allowed: &[&str]| {
        params.iter().all(|(name, _)| {
            allowed
                .iter()
                .any(|a| name.as_str() == *a || name.starts_with("response-"))
        })
    };
    let path = uri.path().strip_prefix('/')?;
    match path.split_once('/') {
        Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => only(&OBJECT_READ_PARAMS)
            .then(|| Judged::ObjectRead {
                bucket: decode(bucket),
                key: decode(key),
                head: method == Method::HEAD,
            }),
        _ if method == Method::GET => {
            let bucket = path.trim_end_matches('/');
            (!bucket.is_empty() && only(&LIST_PARAMS)).then(|| Judged::List {
                bucket: decode(bucket),
                prefix: params
                    .iter()
                    .find(|(name, _)| name == "prefix")
                    .map(|(_, value)| value.clone()),
            })
        }
        _ => None,
    }
}

/// Forwards `request` with `forward` and returns the answer S3 would give: a [`Judged`]
/// request re-judged for its caller; an IAM call that may change a policy invalidates the
/// callers' cache once moto answered; an `AssumeRole` answer teaches which role a new key is.
pub(crate) async fn forward_strictly<F, Fut>(
    callers: &Callers,
    request: Request,
    forward: F,
) -> Result<Response, LocalError>
where
    F: FnOnce(Request) -> Fut,
    Fut: Future<Output = Result<Response, LocalError>>,
{
    let (method, path) = (
        request.method().to_string(),
        request.uri().path().to_string(),
    );
    let failed = |message: String| LocalError::CallerPolicies {
        method: method.clone(),
        path: path.clone(),
        message,
    };
    let service = credential_scope(request.headers()).map(|s| s.service.to_string());
    match service.as_deref() {
        Some("iam" | "sts") => {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, JUDGED_BODY_LIMIT)
                .await
                .map_err(|e| failed(format!("reading the request body: {e}")))?;
            let action = query_action(parts.uri.query().unwrap_or_default())
                .or_else(|| query_action(&String::from_utf8_lossy(&bytes)))
                .unwrap_or_default();
            let response = forward(Request::from_parts(parts, Body::from(bytes))).await?;
            if service.as_deref() == Some("iam") {
                if !is_read_only(&action) {
                    callers.invalidate();
                }
                return Ok(response);
            }
            if action != "AssumeRole" || response.status() != StatusCode::OK {
                return Ok(response);
            }
            let (parts, body) = response.into_parts();
            let bytes = axum::body::to_bytes(body, JUDGED_BODY_LIMIT)
                .await
                .map_err(|e| failed(format!("reading moto's AssumeRole answer: {e}")))?;
            {
                let text = String::from_utf8_lossy(&bytes);
                if let (Some(key), Some(arn)) =
                    (xml_text(&text, "AccessKeyId"), xml_text(&text, "Arn"))
                {
                    callers.learn_assumed_role(key, arn);
                }
            }
            Ok(Response::from_parts(parts, Body::from(bytes)))
        }
        Some("s3") => {
            let Some(judged) = judged(request.method(), request.uri(), request.headers()) else {
                return forward(request).await;
            };
            let headers = request.headers().clone();
            let response = forward(request).await?;
            rejudge(callers, judged, &headers, response)
                .await
                .map_err(failed)
        }
        _ => forward(request).await,
    }
}

/// IAM's reads: every other action may change who may do what.
fn is_read_only(action: &str) -> bool {
    ["Get", "List", "Simulate", "Generate"]
        .iter()
        .any(|prefix| action.starts_with(prefix))
}

/// `Action=<name>` of a query-protocol request (query string or form body).
fn query_action(form: &str) -> Option<String> {
    form.split('&')
        .find_map(|pair| pair.strip_prefix("Action="))
        .map(decode)
}

/// The text of the first `<tag>…</tag>`.
fn xml_text<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    let start = xml.find(&format!("<{tag}>"))? + tag.len() + 2;
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..end].trim())
}

/// moto's answer to a [`Judged`] request, as S3 would give it to this caller.
pub(crate) async fn rejudge(
    callers: &Callers,
    judged: Judged,
    headers: &HeaderMap,
    response: Response,
) -> Result<Response, String> {
    let (bucket, prefix) = match &judged {
        Judged::ObjectRead { bucket, key, .. } if response.status() == StatusCode::NOT_FOUND => {
            (bucket, Some(key.as_str()))
        }
        Judged::List { bucket, prefix } if response.status() == StatusCode::OK => {
            (bucket, prefix.as_deref())
        }
        _ => return Ok(response),
    };
    let (parts, body) = response.into_parts();
    // HEAD has no body to say which 404 it is; a GET says NoSuchKey or NoSuchBucket.
    let body = match &judged {
        Judged::ObjectRead { head: false, .. } => {
            let bytes = axum::body::to_bytes(body, JUDGED_BODY_LIMIT)
                .await
                .map_err(|e| format!("reading moto's 404: {e}"))?;
            if !String::from_utf8_lossy(&bytes).contains("<Code>NoSuchKey</Code>") {
                return Ok(Response::from_parts(parts, Body::from(bytes)));
            }
            Body::from(bytes)
        }
        _ => body,
    };
    let Some(scope) = credential_scope(headers) else {
        return Ok(Response::from_parts(parts, body));
    };
    let Some(principal) = callers.principal(scope.access_key_id).await? else {
        tracing::debug!(
            key = scope.access_key_id,
            "unknown caller; moto's answer stands"
        );
        return Ok(Response::from_parts(parts, body));
    };
    let documents = callers.documents(&principal).await?;
    let bucket_arn = format!("arn:{}:s3:::{bucket}", partition(scope.region));
    let context: Vec<(&str, &str)> = prefix.map(|p| ("s3:prefix", p)).into_iter().collect();
    if allows(&documents, "s3:ListBucket", &bucket_arn, &context) {
        return Ok(Response::from_parts(parts, body));
    }
    tracing::debug!(%principal, %bucket, ?prefix, "no s3:ListBucket: 403 as S3 answers");
    Ok(access_denied(matches!(
        judged,
        Judged::ObjectRead { head: true, .. }
    )))
}

/// S3's 403: XML for a GET, no body for a HEAD.
fn access_denied(head: bool) -> Response {
    let mut response = Response::new(if head {
        Body::empty()
    } else {
        Body::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>bodyline-front-door</RequestId></Error>",
        )
    });
    *response.status_mut() = StatusCode::FORBIDDEN;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}

/// The parts of `Credential=<key>/<date>/<region>/<service>/aws4_request` used here.
pub(crate) struct Scope<'a> {
    pub access_key_id: &'a str,
    pub region: &'a str,
    pub service: &'a str,
}

pub(crate) fn credential_scope(headers: &HeaderMap) -> Option<Scope<'_>> {
    let authorization = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let credential = authorization.split("Credential=").nth(1)?;
    let mut parts = credential.split([',', ' ']).next()?.split('/');
    let access_key_id = parts.next()?;
    let region = parts.nth(1)?;
    let service = parts.next()?;
    Some(Scope {
        access_key_id,
        region,
        service,
    })
}

fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

fn decode(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signed(service: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("AWS4-HMAC-SHA256 Credential=AKIA1/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=abc");
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&value).expect("header"),
        );
        headers
    }

    fn judge(method: Method, uri: &str) -> Option<Judged> {
        judged(&method, &uri.parse().expect("uri"), &signed("s3"))
    }

    #[test]
    fn object_reads_and_listings_are_recognised() {
        assert_eq!(
            judge(Method::GET, "/b/output/a%20b.out?x-id=GetObject"),
            Some(Judged::ObjectRead {
                bucket: "b".into(),
                key: "output/a b.out".into(),
                head: false
            })
        );
        assert_eq!(
            judge(Method::HEAD, "/b/output/a.out"),
            Some(Judged::ObjectRead {
                bucket: "b".into(),
                key: "output/a.out".into(),
                head: true
            })
        );
        assert_eq!(
            judge(Method::GET, "/b?list-type=2&prefix=output%2F"),
            Some(Judged::List {
                bucket: "b".into(),
                prefix: Some("output/".into())
            })
        );
        assert_eq!(
            judge(Method::GET, "/b/"),
            Some(Judged::List {
                bucket: "b".into(),
                prefix: None
            })
        );
        // Sub-resources are other operations; writes and other services are not judged.
        assert_eq!(judge(Method::GET, "/b/k?tagging"), None);
        assert_eq!(judge(Method::GET, "/b?versions&prefix=a"), None);
        assert_eq!(judge(Method::GET, "/b?policy"), None);
        assert_eq!(judge(Method::GET, "/"), None);
        assert_eq!(judge(Method::PUT, "/b/k"), None);
        assert_eq!(
            judged(
                &Method::GET,
                &"/b/k".parse().expect("uri"),
                &signed("sagemaker")
            ),
            None
        );
        assert_eq!(
            judged(
                &Method::GET,
                &"/b/k".parse().expect("uri"),
                &HeaderMap::new()
            ),
            None
        );
    }

    #[test]
    fn iam_reads_and_assume_role_answers_are_recognised() {
        assert_eq!(
            query_action("Version=2010-05-08&Action=PutUserPolicy&UserName=u"),
            Some("PutUserPolicy".into())
        );
        assert_eq!(query_action("a=b"), None);
        assert!(is_read_only("GetPolicyVersion") && is_read_only("ListAttachedUserPolicies"));
        assert!(
            !is_read_only("AttachUserPolicy")
                && !is_read_only("CreatePolicyVersion")
                && !is_read_only("")
        );
        let answer = "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIA1</AccessKeyId></Credentials><AssumedRoleUser><AssumedRoleId>AROA:s</AssumedRoleId><Arn>arn:aws:sts::1:assumed-role/app/s</Arn></AssumedRoleUser></AssumeRoleResult></AssumeRoleResponse>";
        assert_eq!(xml_text(answer, "AccessKeyId"), Some("ASIA1"));
        assert_eq!(
            xml_text(answer, "Arn"),
            Some("arn:aws:sts::1:assumed-role/app/s")
        );
    }

    #[test]
    fn the_credential_scope_is_read() {
        let headers = signed("s3");
        let scope = credential_scope(&headers).expect("a scope");
        assert_eq!(
            (scope.access_key_id, scope.region, scope.service),
            ("AKIA1", "us-east-1", "s3")
        );
        assert_eq!(partition("cn-north-1"), "aws-cn");
    }
}
