//! `verify --compare-s3 N`: the same endpoint fed N times inline and N times the old way
//! (S3 upload, then `InputLocation`), to put numbers on what the migration saves.

use std::time::Instant;

use serde::Serialize;

use super::invoke::submit;
use super::probe::{Probe, S3Path};
use bodyline_aws::AwsFailure;

/// S3 Standard PUT list prices in USD per 1,000 requests (public price list, 2025). Regions
/// not listed are priced like us-east-1, and the report says so.
const PUT_PRICES_PER_1000: &[(&str, f64)] = &[
    ("us-east-1", 0.005),
    ("us-east-2", 0.005),
    ("us-west-2", 0.005),
    ("eu-west-1", 0.005),
    ("eu-central-1", 0.0054),
];

/// Latency and call counts of one way of submitting.
#[derive(Debug, Clone, Serialize)]
pub struct PathStats {
    /// Requests submitted successfully.
    pub submitted: u32,
    /// Requests whose submission failed.
    pub failed: u32,
    /// Median submit latency (the S3 path includes its upload), in milliseconds.
    pub p50_ms: f64,
    /// 95th percentile submit latency, in milliseconds.
    pub p95_ms: f64,
    /// API requests per inference.
    pub requests_per_inference: u32,
    /// S3 PUTs per inference.
    pub s3_puts_per_inference: u32,
}

/// The comparison: inline `Body` against S3 upload + `InputLocation`.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Requests per path.
    pub requests: u32,
    /// The inline path.
    pub inline: PathStats,
    /// The S3 upload + `InputLocation` path.
    pub s3_input: PathStats,
    /// The region priced.
    pub region: String,
    /// The S3 PUT list price used, USD per 1,000 requests.
    pub put_price_per_1000: f64,
    /// Whether the region is in bodyline's price table (otherwise us-east-1's price is used).
    pub price_known: bool,
    /// PUT cost avoided per million inferences, USD.
    pub put_cost_avoided_per_million: f64,
    /// Inputs uploaded for the comparison that could not be deleted afterwards (URL and why):
    /// delete them by hand.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub left_behind: Vec<String>,
}

impl Comparison {
    /// A table for people.
    pub fn render_table(&self) -> String {
        let row = |name: &str, s: &PathStats| {
            format!(
                "{name:<22} {:>9.1} {:>9.1} {:>12} {:>12} {:>7}\n",
                s.p50_ms, s.p95_ms, s.requests_per_inference, s.s3_puts_per_inference, s.failed
            )
        };
        let mut out = format!(
            "{:<22} {:>9} {:>9} {:>12} {:>12} {:>7}\n",
            "PATH", "P50 ms", "P95 ms", "REQ/INFER", "PUTS/INFER", "FAILED"
        );
        out.push_str(&row("inline Body", &self.inline));
        out.push_str(&row("S3 + InputLocation", &self.s3_input));
        out.push_str(&format!(
            "{} requests each; S3 PUT cost avoided: ${:.2} per million inferences at ${}/1,000 PUTs ({}{})\n",
            self.requests,
            self.put_cost_avoided_per_million,
            self.put_price_per_1000,
            self.region,
            if self.price_known {
                ""
            } else {
                ", not in bodyline's price table: priced as us-east-1"
            }
        ));
        if !self.left_behind.is_empty() {
            out.push_str(&format!(
                "{} uploaded input(s) could not be deleted; delete them by hand:\n",
                self.left_behind.len()
            ));
            for left in &self.left_behind {
                out.push_str(&format!("  {left}\n"));
            }
        }
        out
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    // Nearest rank: the smallest value with at least p of the samples at or below it.
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn stats(mut samples: Vec<f64>, failed: u32, requests: u32, puts: u32) -> PathStats {
    samples.sort_by(f64::total_cmp);
    PathStats {
        submitted: u32::try_from(samples.len()).unwrap_or(u32::MAX),
        failed,
        p50_ms: percentile(&samples, 0.50),
        p95_ms: percentile(&samples, 0.95),
        requests_per_inference: requests,
        s3_puts_per_inference: puts,
    }
}

/// Runs `n` inline and `n` S3-path submissions, alternating so both see the same conditions.
/// The S3 path's inputs go under `input` and are deleted afterwards (those that cannot be are
/// listed in the result); only submission is measured (the execution role may not be granted
/// those inputs, so their inferences may fail later — that does not change what a submission
/// costs). `region` prices the PUTs.
pub(crate) async fn compare(
    ctx: &Probe<'_>,
    input: &S3Path,
    region: &str,
    n: u32,
) -> Result<Comparison, String> {
    let endpoint = ctx.endpoint;
    let bucket = &input.bucket;
    let payload = ctx.payload().to_vec();
    let (mut inline, mut s3_path) = (Vec::new(), Vec::new());
    let (mut inline_failed, mut s3_failed) = (0, 0);
    let mut uploaded = Vec::new();
    let mut first_error = None;
    for i in 0..n {
        let start = Instant::now();
        match submit(&ctx.clients.runtime, endpoint, Some(payload.clone()), None).await {
            Ok(_) => inline.push(start.elapsed().as_secs_f64() * 1000.0),
            Err(f) => {
                inline_failed += 1;
                first_error.get_or_insert_with(|| format!("inline: {}", f.summary()));
            }
        }

        let key = input.key(&format!("{}-{i}", uuid::Uuid::new_v4().simple()));
        let start = Instant::now();
        let put = ctx
            .clients
            .s3
            .put_object()
            .bucket(bucket)
            .key(&key)
            .content_type("application/json")
            .body(payload.clone().into())
            .send()
            .await;
        let result = match put {
            Ok(_) => {
                uploaded.push(key.clone());
                submit(
                    &ctx.clients.runtime,
                    endpoint,
                    None,
                    Some(format!("s3://{bucket}/{key}")),
                )
                .await
                .map(|_| ())
                .map_err(|f| format!("InputLocation: {}", f.summary()))
            }
            Err(e) => Err(format!("PutObject: {}", AwsFailure::of(&e).summary())),
        };
        match result {
            Ok(()) => s3_path.push(start.elapsed().as_secs_f64() * 1000.0),
            Err(e) => {
                s3_failed += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    let mut left_behind = Vec::new();
    for key in &uploaded {
        let deleted = ctx
            .clients
            .s3
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await;
        if let Err(e) = deleted {
            left_behind.push(format!(
                "s3://{bucket}/{key} ({})",
                AwsFailure::of(&e).summary()
            ));
        }
    }
    if inline.is_empty() && s3_path.is_empty() {
        return Err(format!(
            "no request could be submitted: {}",
            first_error.unwrap_or_default()
        ));
    }
    let region = region.to_string();
    let known = PUT_PRICES_PER_1000.iter().find(|(r, _)| *r == region);
    let price = known.map_or(PUT_PRICES_PER_1000[0].1, |(_, p)| *p);
    Ok(Comparison {
        requests: n,
        inline: stats(inline, inline_failed, 1, 0),
        s3_input: stats(s3_path, s3_failed, 2, 1),
        region,
        put_price_per_1000: price,
        price_known: known.is_some(),
        // One PUT avoided per inference: a million inferences avoid a thousand thousand-PUTs.
        put_cost_avoided_per_million: price * 1000.0,
        left_behind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&samples, 0.50), 50.0);
        assert_eq!(percentile(&samples, 0.95), 95.0);
        assert_eq!(percentile(&[7.0], 0.95), 7.0);
        assert_eq!(percentile(&[], 0.5), 0.0);
    }

    #[test]
    fn the_s3_path_costs_one_put_per_inference() {
        let s = stats(vec![3.0, 1.0, 2.0], 1, 2, 1);
        assert_eq!((s.submitted, s.failed, s.p50_ms), (3, 1, 2.0));
        assert_eq!(s.s3_puts_per_inference, 1);
    }
}
