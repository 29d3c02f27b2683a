//! The scoring calls, in the shapes real services use: an inline upload-then-invoke, an upload
//! helper, a stored builder with conditional setters, a large document, an object that already
//! exists in S3, and a real-time call.

use anyhow::Context as _;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::Client as S3Client;
use aws_sdk_sagemakerruntime::primitives::Blob;
use aws_sdk_sagemakerruntime::Client as RuntimeClient;
use uuid::Uuid;

use crate::Submitted;

const INPUT_PREFIX: &str = "input";

/// Submits scoring requests to one async endpoint.
pub struct Scoring {
    s3: S3Client,
    runtime: RuntimeClient,
    endpoint: String,
    bucket: String,
}

impl Scoring {
    /// A scorer for `endpoint`, uploading inputs to `bucket`.
    pub fn new(s3: S3Client, runtime: RuntimeClient, endpoint: String, bucket: String) -> Self {
        Scoring {
            s3,
            runtime,
            endpoint,
            bucket,
        }
    }

    /// Same function: serialize, upload under a UUID key, invoke with the URI.
    pub async fn score_customer(&self, customer_id: &str, value: f64) -> anyhow::Result<Submitted> {
        let payload = serde_json::to_vec(&serde_json::json!({
            "records": [{ "id": customer_id, "value": value }]
        }))?;
        let key = format!("{INPUT_PREFIX}/{}.json", Uuid::new_v4());
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(payload))
            .send()
            .await
            .context("upload failed")?;
        let response = self
            .runtime
            .invoke_endpoint_async()
            .endpoint_name(&self.endpoint)
            .input_location(format!("s3://{}/{}", self.bucket, key))
            .inference_id(customer_id)
            .send()
            .await
            .context("invoke failed")?;
        Ok(Submitted {
            label: format!("customer {customer_id}"),
            output_location: response.output_location().unwrap_or_default().to_string(),
        })
    }

    /// A helper uploads and returns the URI; the caller passes it on.
    pub async fn score_batch(&self, values: &[f64]) -> anyhow::Result<Submitted> {
        let records: Vec<_> = values
            .iter()
            .enumerate()
            .map(|(i, v)| serde_json::json!({ "id": format!("b-{i}"), "value": v }))
            .collect();
        let payload = serde_json::to_vec(&serde_json::json!({ "records": records }))?;
        let uri = self.upload_input(payload).await?;
        let response = self
            .runtime
            .invoke_endpoint_async()
            .endpoint_name(&self.endpoint)
            .content_type("application/json")
            .input_location(uri)
            .send()
            .await?;
        Ok(Submitted {
            label: format!("batch of {}", values.len()),
            output_location: response.output_location().unwrap_or_default().to_string(),
        })
    }

    async fn upload_input(&self, payload: Vec<u8>) -> anyhow::Result<String> {
        let key = format!("{INPUT_PREFIX}/{}.json", Uuid::new_v4());
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(payload.into())
            .send()
            .await?;
        Ok(format!("s3://{}/{}", self.bucket, key))
    }

    /// A stored builder with conditional setters, sent later.
    pub async fn score_with_ttl(
        &self,
        values: &[f64],
        ttl: Option<i32>,
    ) -> anyhow::Result<Submitted> {
        let body = serde_json::to_vec(&serde_json::json!({ "values": values }))?;
        let request_id = Uuid::new_v4().to_string();
        let key = format!("{INPUT_PREFIX}/{request_id}.json");
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .body(ByteStream::from(body))
            .send()
            .await?;
        let mut req = self
            .runtime
            .invoke_endpoint_async()
            .endpoint_name(&self.endpoint)
            .set_input_location(Some(format!("s3://{}/{key}", self.bucket)));
        if let Some(ttl) = ttl {
            req = req.request_ttl_seconds(ttl);
        }
        req = req.inference_id(&request_id);
        let response = req.send().await?;
        Ok(Submitted {
            label: format!("values with ttl {ttl:?}"),
            output_location: response.output_location().unwrap_or_default().to_string(),
        })
    }

    /// A document whose size is only known at run time: it may exceed the inline limit.
    pub async fn score_document(&self, text: &str) -> anyhow::Result<Submitted> {
        let payload = serde_json::to_vec(&serde_json::json!({ "document": text }))?;
        let key = format!("{INPUT_PREFIX}/doc-{}.json", Uuid::new_v4());
        self.s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type("application/json")
            .body(ByteStream::from(payload))
            .send()
            .await?;
        let response = self
            .runtime
            .invoke_endpoint_async()
            .endpoint_name(&self.endpoint)
            .input_location(format!("s3://{}/{}", self.bucket, key))
            .send()
            .await?;
        Ok(Submitted {
            label: format!("document of {} bytes", text.len()),
            output_location: response.output_location().unwrap_or_default().to_string(),
        })
    }

    /// The object already exists (written by a pipeline): there are no bytes to inline.
    #[allow(dead_code)]
    pub async fn rescore_existing(&self, input_uri: &str) -> anyhow::Result<Submitted> {
        let response = self
            .runtime
            .invoke_endpoint_async()
            .endpoint_name(&self.endpoint)
            .input_location(input_uri)
            .send()
            .await?;
        Ok(Submitted {
            label: format!("existing {input_uri}"),
            output_location: response.output_location().unwrap_or_default().to_string(),
        })
    }

    /// Real-time inference: already inline, never touched by the migration.
    pub async fn score_realtime(&self, value: f64) -> anyhow::Result<String> {
        let payload = serde_json::to_vec(
            &serde_json::json!({ "records": [{ "id": "rt", "value": value }] }),
        )?;
        let response = self
            .runtime
            .invoke_endpoint()
            .endpoint_name(&self.endpoint)
            .content_type("application/json")
            .body(Blob::new(payload))
            .send()
            .await?;
        let body = response
            .body()
            .map(|b| b.as_ref().to_vec())
            .unwrap_or_default();
        Ok(String::from_utf8_lossy(&body).into_owned())
    }
}
