//! Checks that go through the runtime: an inline request end to end (2), the size boundary
//! (3) and the exclusivity of `Body` and `InputLocation` (4). Also the helpers the
//! least-privilege check reuses: submit a request, wait for its result object.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use aws_sdk_sagemakerruntime::primitives::Blob;
use bodyline_stack::MAX_INLINE_BODY_BYTES;

use super::probe::Probe;
use super::CheckOutcome;
use bodyline_aws::AwsFailure;
use bodyline_provision::keys_under;

/// What a 202 said.
#[derive(Debug, Clone)]
pub(crate) struct Submitted {
    pub output: Option<String>,
    pub failure: Option<String>,
}

/// Sends `InvokeEndpointAsync` with an inline body and/or an input location.
pub(crate) async fn submit(
    runtime: &aws_sdk_sagemakerruntime::Client,
    endpoint: &str,
    body: Option<Vec<u8>>,
    input_location: Option<String>,
) -> Result<Submitted, AwsFailure> {
    let out = runtime
        .invoke_endpoint_async()
        .endpoint_name(endpoint)
        .content_type("application/json")
        .set_body(body.map(Blob::new))
        .set_input_location(input_location)
        .send()
        .await
        .map_err(|e| AwsFailure::of(&e))?;
    Ok(Submitted {
        output: out.output_location().map(str::to_string),
        failure: out.failure_location().map(str::to_string),
    })
}

/// The object a request produced.
#[derive(Debug)]
pub(crate) enum Landed {
    Output(String, Vec<u8>),
    Failure(String, Vec<u8>),
}

/// `s3://bucket/key` → (bucket, key).
pub(crate) fn parse_s3_url(url: &str) -> Option<(&str, &str)> {
    let rest = url.strip_prefix("s3://")?;
    let (bucket, key) = rest.split_once('/')?;
    (!bucket.is_empty() && !key.is_empty()).then_some((bucket, key))
}

async fn read(s3: &aws_sdk_s3::Client, url: &str) -> Result<Option<Vec<u8>>, String> {
    let Some((bucket, key)) = parse_s3_url(url) else {
        return Err(format!("{url:?} is not an s3://bucket/key URL"));
    };
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(out) => out
            .body
            .collect()
            .await
            .map(|d| Some(d.into_bytes().to_vec()))
            .map_err(|e| format!("reading {url}: {e}")),
        Err(e) => {
            let f = AwsFailure::of(&e);
            if f.is_not_found() {
                Ok(None)
            } else {
                Err(format!("GetObject {url}: {}", f.summary()))
            }
        }
    }
}

/// Polls the output and failure locations with backoff until one exists or `timeout` passes.
pub(crate) async fn wait_for_result(
    s3: &aws_sdk_s3::Client,
    submitted: &Submitted,
    timeout: Duration,
) -> Result<Landed, String> {
    let Some(output) = submitted.output.as_deref() else {
        return Err("the 202 carried no OutputLocation".into());
    };
    let start = Instant::now();
    let mut pause = Duration::from_millis(100);
    loop {
        if let Some(bytes) = read(s3, output).await? {
            return Ok(Landed::Output(output.to_string(), bytes));
        }
        if let Some(failure) = submitted.failure.as_deref() {
            if let Some(bytes) = read(s3, failure).await? {
                return Ok(Landed::Failure(failure.to_string(), bytes));
            }
        }
        if start.elapsed() >= timeout {
            return Err(format!(
                "neither {output} nor {} appeared within {} s",
                submitted
                    .failure
                    .as_deref()
                    .unwrap_or("(no FailureLocation)"),
                timeout.as_secs()
            ));
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_secs(2));
    }
}

/// A failure object as text, shortened for a table cell.
pub(crate) fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

fn runtime_refused(f: &AwsFailure) -> String {
    format!("runtime answered {}", f.summary())
}

/// Whether two outputs are the same: JSON-equal when both parse, else byte-equal.
pub(crate) fn same_output(got: &[u8], want: &[u8]) -> bool {
    match (
        serde_json::from_slice::<serde_json::Value>(got),
        serde_json::from_slice::<serde_json::Value>(want),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => got == want,
    }
}

/// Check 2: an inline request, end to end.
pub(crate) async fn inline_body(ctx: &Probe<'_>) -> CheckOutcome {
    let start = Instant::now();
    let submitted = submit(
        &ctx.clients.runtime,
        ctx.endpoint,
        Some(ctx.payload().to_vec()),
        None,
    )
    .await
    .map_err(|f| runtime_refused(&f))?;
    match wait_for_result(&ctx.clients.s3, &submitted, ctx.options.result_timeout).await? {
        Landed::Output(url, bytes) => {
            let matched = match &ctx.options.expect {
                Some(want) if !same_output(&bytes, want) => {
                    return Err(format!(
                        "output {url} differs from the expectation: got {}",
                        shown(&bytes)
                    ))
                }
                Some(_) => ", matches the expectation",
                None => "",
            };
            Ok(format!(
                "{} B inline → {url} ({} B) in {} ms{matched}",
                ctx.payload().len(),
                bytes.len(),
                start.elapsed().as_millis()
            ))
        }
        Landed::Failure(url, bytes) => {
            Err(format!("the request failed; {url} says: {}", shown(&bytes)))
        }
    }
}

/// A payload of exactly `len` bytes: the sample padded with spaces (still valid JSON), or
/// the default sample when the given one is too long.
pub(crate) fn padded(sample: &[u8], len: usize) -> Vec<u8> {
    let base = if sample.len() <= len {
        sample
    } else {
        super::DEFAULT_PAYLOAD
    };
    let mut out = base.to_vec();
    out.resize(len, b' ');
    out
}

fn is_validation_error(f: &AwsFailure) -> bool {
    f.status == Some(400) && f.code.as_deref() == Some("ValidationError")
}

async fn result_keys(ctx: &Probe<'_>) -> Result<BTreeSet<String>, String> {
    let mut keys = BTreeSet::new();
    for path in std::iter::once(&ctx.output).chain(ctx.failure.as_ref()) {
        let listed = keys_under(&ctx.clients.s3, &path.bucket, &path.prefix)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("bucket {} does not exist", path.bucket))?;
        keys.extend(
            listed
                .into_iter()
                .map(|k| format!("s3://{}/{k}", path.bucket)),
        );
    }
    Ok(keys)
}

/// Check 3: 128,001 bytes rejected at once and nothing written; 128,000 accepted.
pub(crate) async fn size_limit(ctx: &Probe<'_>) -> CheckOutcome {
    let endpoint = ctx.endpoint;
    let runtime = &ctx.clients.runtime;
    let before = result_keys(ctx).await?;
    // Sent straight through the SDK: no client-side pre-check stands in the way of the probe.
    let too_big = padded(ctx.payload(), MAX_INLINE_BODY_BYTES + 1);
    let rejected = match submit(runtime, endpoint, Some(too_big), None).await {
        Ok(s) => {
            return Err(format!(
                "{} bytes were accepted (OutputLocation {}); SageMaker rejects more than {} bytes with ValidationError",
                MAX_INLINE_BODY_BYTES + 1,
                s.output.as_deref().unwrap_or("none"),
                MAX_INLINE_BODY_BYTES
            ))
        }
        Err(f) if is_validation_error(&f) => f,
        Err(f) => {
            return Err(format!(
                "{} bytes: expected ValidationError (HTTP 400), {}",
                MAX_INLINE_BODY_BYTES + 1,
                runtime_refused(&f)
            ))
        }
    };
    // Give a wrongly queued request the time to show up before looking.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = result_keys(ctx).await?;
    let created: Vec<&String> = after.difference(&before).collect();
    if !created.is_empty() {
        return Err(format!(
            "the rejected request still created objects: {created:?}"
        ));
    }

    let exact = padded(ctx.payload(), MAX_INLINE_BODY_BYTES);
    let accepted = submit(runtime, endpoint, Some(exact), None)
        .await
        .map_err(|f| {
            format!(
                "{MAX_INLINE_BODY_BYTES} bytes must be accepted; {}",
                runtime_refused(&f)
            )
        })?;
    let landed =
        match wait_for_result(&ctx.clients.s3, &accepted, ctx.options.result_timeout).await? {
            Landed::Output(url, _) => format!("output {url}"),
            Landed::Failure(url, bytes) => format!("the model failed it: {url}: {}", shown(&bytes)),
        };
    Ok(format!(
        "{} B rejected ({}), nothing written; {MAX_INLINE_BODY_BYTES} B accepted → {landed}",
        MAX_INLINE_BODY_BYTES + 1,
        rejected.summary()
    ))
}

/// Check 4: `Body` and `InputLocation` together are rejected.
pub(crate) async fn exclusive_input(ctx: &Probe<'_>) -> CheckOutcome {
    let location = ctx.output.url("bodyline-verify-unused-input");
    match submit(
        &ctx.clients.runtime,
        ctx.endpoint,
        Some(ctx.payload().to_vec()),
        Some(location),
    )
    .await
    {
        Ok(s) => Err(format!(
            "Body with InputLocation was accepted (OutputLocation {}); they are mutually exclusive",
            s.output.as_deref().unwrap_or("none")
        )),
        Err(f) if is_validation_error(&f) => Ok(format!("rejected: {}", f.summary())),
        Err(f) => Err(format!(
            "expected ValidationError (HTTP 400), {}",
            runtime_refused(&f)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_payloads_have_the_exact_length_and_stay_json() {
        let p = padded(br#"{"a":1}"#, MAX_INLINE_BODY_BYTES);
        assert_eq!(p.len(), MAX_INLINE_BODY_BYTES);
        assert!(serde_json::from_slice::<serde_json::Value>(&p).is_ok());
        let huge = vec![b'x'; MAX_INLINE_BODY_BYTES + 10];
        assert_eq!(
            padded(&huge, MAX_INLINE_BODY_BYTES + 1).len(),
            MAX_INLINE_BODY_BYTES + 1
        );
    }

    #[test]
    fn s3_urls_split_into_bucket_and_key() {
        assert_eq!(
            parse_s3_url("s3://b/output/x.out"),
            Some(("b", "output/x.out"))
        );
        assert_eq!(parse_s3_url("s3://b/"), None);
        assert_eq!(parse_s3_url("https://b/x"), None);
    }

    #[test]
    fn outputs_compare_as_json_when_they_can() {
        assert!(same_output(br#"{"a": 1, "b": 2}"#, br#"{"b":2,"a":1}"#));
        assert!(!same_output(br#"{"a": 1}"#, br#"{"a": 2}"#));
        assert!(same_output(b"plain", b"plain"));
    }
}
