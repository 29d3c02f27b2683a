//! legacy-app: scores customer records with a SageMaker async endpoint, the way it was done
//! before inline `Body` existed — every request is an S3 upload plus an `InputLocation`.
//!
//! It is the "before" of bodyline's demo: `bodyline migrate` rewrites what it can prove and
//! leaves the rest. Configuration comes only from the standard AWS variables (for the local
//! stack: `set -a; . .bodyline/local.env; set +a`) plus:
//!
//! - `LEGACY_ENDPOINT`: the async endpoint's name;
//! - `LEGACY_BUCKET`: the bucket inputs are uploaded to (under `input/`).
//!
//! It prints one line per submitted request and one per output read back, so two runs can be
//! compared line by line.

mod scoring;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use aws_sdk_s3::Client as S3Client;
use aws_sdk_sagemakerruntime::Client as RuntimeClient;

/// Where a submitted request's answer will appear.
pub struct Submitted {
    /// What was submitted, for the transcript.
    pub label: String,
    /// `s3://bucket/key` of the output object.
    pub output_location: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let endpoint = std::env::var("LEGACY_ENDPOINT")
        .context("set LEGACY_ENDPOINT to the async endpoint's name")?;
    let bucket = std::env::var("LEGACY_BUCKET").context("set LEGACY_BUCKET to the input bucket")?;
    let config = aws_config::load_from_env().await;
    // Every request each client sends is counted, so a run reports what a submission costs.
    let s3_requests = RequestCounter::default();
    let runtime_requests = RequestCounter::default();
    let s3 = S3Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .interceptor(s3_requests.clone())
            .build(),
    );
    let runtime = RuntimeClient::from_conf(
        aws_sdk_sagemakerruntime::config::Builder::from(&config)
            .interceptor(runtime_requests.clone())
            .build(),
    );
    let app = scoring::Scoring::new(s3.clone(), runtime, endpoint, bucket);

    let started = Instant::now();
    let mut submitted = Vec::new();
    let customers = [("c-001", 0.25), ("c-002", 0.75), ("c-003", 0.5)];
    for (id, value) in customers {
        submitted.push(app.score_customer(id, value).await?);
    }
    submitted.push(app.score_batch(&[1.0, 2.0, 3.0]).await?);
    submitted.push(app.score_with_ttl(&[4.0, 5.0], Some(3600)).await?);
    // A document of 200,000 bytes: more than the inline limit, so it must keep using S3.
    submitted.push(app.score_document(&"x".repeat(200_000)).await?);
    let submit_time = started.elapsed();
    let (puts, invokes) = (s3_requests.get(), runtime_requests.get());
    println!(
        "requests: {} for {} async inferences ({} S3 PUT, {} invoke), {:.2} per inference, submitted in {} ms",
        puts + invokes,
        submitted.len(),
        puts,
        invokes,
        (puts + invokes) as f64 / submitted.len() as f64,
        submit_time.as_millis()
    );
    // The real-time call is answered synchronously and must never be rewritten.
    let realtime = app.score_realtime(0.5).await?;
    println!("realtime: {realtime}");

    for s in &submitted {
        println!("submitted {} -> {}", s.label, s.output_location);
    }
    for s in &submitted {
        let output = wait_for_output(&s3, &s.output_location).await?;
        println!("output {}: {}", s.label, output.trim());
    }
    Ok(())
}

/// Counts the requests a client sends (one per operation, retries not counted).
#[derive(Debug, Clone, Default)]
struct RequestCounter(Arc<AtomicU64>);

impl RequestCounter {
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl aws_sdk_s3::config::Intercept for RequestCounter {
    fn name(&self) -> &'static str {
        "RequestCounter"
    }

    fn read_before_execution(
        &self,
        _context: &aws_sdk_s3::config::interceptors::BeforeSerializationInterceptorContextRef<'_>,
        _cfg: &mut aws_sdk_s3::config::ConfigBag,
    ) -> Result<(), aws_sdk_s3::error::BoxError> {
        self.0.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// Polls the output location until the object appears (async inference finishes later).
async fn wait_for_output(s3: &S3Client, location: &str) -> anyhow::Result<String> {
    let Some((bucket, key)) = location
        .strip_prefix("s3://")
        .and_then(|r| r.split_once('/'))
    else {
        bail!("output location {location:?} is not an s3:// URL");
    };
    for _ in 0..300 {
        match s3.get_object().bucket(bucket).key(key).send().await {
            Ok(object) => {
                let bytes = object.body.collect().await?.into_bytes();
                return Ok(String::from_utf8_lossy(&bytes).into_owned());
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_no_such_key()) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot read {location}")),
        }
    }
    bail!("no output at {location} after 30 s")
}
