//! An accepted asynchronous invocation, as journaled before the 202 goes out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::s3uri::S3Uri;

/// Everything needed to finish a request after a restart, even if its endpoint is gone by then:
/// where the answer goes, with which role, and whom to notify.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Job {
    pub inference_id: String,
    pub endpoint_name: String,
    /// Milliseconds since the Unix epoch when the request was accepted; the TTL counts from here.
    pub accepted_at_ms: u64,
    pub ttl_seconds: u32,
    pub timeout_seconds: u32,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub custom_attributes: Option<String>,
    /// `None` for an inline `Body`, which is stored next to this header in the journal.
    pub input_location: Option<S3Uri>,
    pub output: S3Uri,
    pub failure: S3Uri,
    pub execution_role_arn: String,
    pub success_topic: Option<String>,
    pub error_topic: Option<String>,
    /// `IncludeInferenceResponseIn` of the endpoint config.
    pub include_response_in: Vec<String>,
}

/// A job and its inline payload (empty when the input is an `InputLocation`).
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    pub job: Job,
    pub body: Bytes,
}

impl Queued {
    /// The journal value: a 4-byte little-endian header length, the JSON header, the raw body.
    pub(crate) fn encode(&self) -> Result<Vec<u8>, serde_json::Error> {
        let header = serde_json::to_vec(&self.job)?;
        let len = u32::try_from(header.len()).unwrap_or(u32::MAX);
        let mut out = Vec::with_capacity(4 + header.len() + self.body.len());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&header);
        out.extend_from_slice(&self.body);
        Ok(out)
    }

    /// Reads a journal value written by [`Queued::encode`].
    pub(crate) fn decode(value: &[u8]) -> Result<Queued, String> {
        let (len, rest) = value
            .split_first_chunk::<4>()
            .ok_or("the entry is shorter than its length prefix")?;
        let len = u32::from_le_bytes(*len) as usize;
        if rest.len() < len {
            return Err(format!(
                "the header claims {len} bytes, only {} are there",
                rest.len()
            ));
        }
        let (header, body) = rest.split_at(len);
        let job = serde_json::from_slice(header).map_err(|e| e.to_string())?;
        Ok(Queued {
            job,
            body: Bytes::copy_from_slice(body),
        })
    }
}

impl Job {
    /// When the request expires if it has not started by then.
    pub(crate) fn deadline(&self) -> SystemTime {
        UNIX_EPOCH
            + Duration::from_millis(self.accepted_at_ms)
            + Duration::from_secs(self.ttl_seconds.into())
    }

    /// The acceptance time, for notifications.
    pub(crate) fn accepted_at(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(self.accepted_at_ms)
    }
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_round_trips_with_binary_body() {
        let queued = Queued {
            job: Job {
                inference_id: "id-1".into(),
                endpoint_name: "ep".into(),
                accepted_at_ms: 1,
                ttl_seconds: 60,
                timeout_seconds: 900,
                content_type: Some("application/json".into()),
                accept: None,
                custom_attributes: None,
                input_location: None,
                output: S3Uri::parse("s3://b/out/id-1.out").unwrap(),
                failure: S3Uri::parse("s3://b/fail/id-1-error.out").unwrap(),
                execution_role_arn: "arn:aws:iam::123456789012:role/r".into(),
                success_topic: None,
                error_topic: None,
                include_response_in: vec![],
            },
            body: Bytes::from_static(&[0, 159, 146, 150, 255]),
        };
        let decoded = Queued::decode(&queued.encode().unwrap()).unwrap();
        assert_eq!(decoded.body, queued.body);
        assert_eq!(decoded.job.output, queued.job.output);
        assert!(Queued::decode(&[1, 0]).is_err());
    }
}
