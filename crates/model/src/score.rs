//! Deterministic scoring of JSON records: the "model" the server runs.

use serde_json::{Map, Value};

/// The answer to one payload: one score per record, in input order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scores {
    /// A score in `(0, 1)` per record, rounded to 6 decimals.
    pub scores: Vec<f64>,
    /// What the records asked the server to do besides scoring (honoured only when faults are on).
    pub fault: Fault,
}

/// Fault fields found in the records; the server acts on them only with `BODYLINE_MODEL_FAULTS=1`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fault {
    /// Index of the first record with `"fail": true`: answer HTTP 500.
    pub fail: Option<usize>,
    /// The largest `"sleep_ms"` of any record: wait that long before answering.
    pub sleep_ms: u64,
    /// A record has `"exit": true`: the process exits at once, mid-request.
    pub exit: bool,
}

/// Why a payload cannot be scored.
#[derive(thiserror::Error, Debug)]
#[non_exhaustive]
pub enum ScoreError {
    /// The payload is not JSON.
    #[error("the payload is not JSON ({0}); send a JSON object, an array of objects or {{\"records\": [...]}}")]
    NotJson(#[source] serde_json::Error),
    /// The payload is JSON of the wrong shape.
    #[error("{0}; send a JSON object, an array of objects or {{\"records\": [...]}}")]
    Shape(String),
}

/// Keys that steer the server (faults) or identify a record; they carry no signal.
const CONTROL_KEYS: [&str; 4] = ["fail", "sleep_ms", "exit", "id"];

/// Scores a payload: `{"records": [...]}`, an array of objects, or one object.
pub fn score_payload(payload: &[u8]) -> Result<Scores, ScoreError> {
    let value: Value = serde_json::from_slice(payload).map_err(ScoreError::NotJson)?;
    let records: Vec<&Map<String, Value>> = match &value {
        Value::Object(map) => match map.get("records") {
            Some(Value::Array(items)) => objects(items)?,
            Some(_) => return Err(ScoreError::Shape("\"records\" is not an array".into())),
            None => vec![map],
        },
        Value::Array(items) => objects(items)?,
        _ => {
            return Err(ScoreError::Shape(
                "the payload is neither an object nor an array".into(),
            ))
        }
    };
    let mut fault = Fault::default();
    for (i, record) in records.iter().enumerate() {
        if record.get("fail") == Some(&Value::Bool(true)) && fault.fail.is_none() {
            fault.fail = Some(i);
        }
        if let Some(ms) = record.get("sleep_ms").and_then(Value::as_u64) {
            fault.sleep_ms = fault.sleep_ms.max(ms);
        }
        fault.exit |= record.get("exit") == Some(&Value::Bool(true));
    }
    Ok(Scores {
        scores: records.into_iter().map(score_record).collect(),
        fault,
    })
}

fn objects(items: &[Value]) -> Result<Vec<&Map<String, Value>>, ScoreError> {
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            item.as_object()
                .ok_or_else(|| ScoreError::Shape(format!("record {i} is not an object")))
        })
        .collect()
}

/// Scores one record: a logistic function of a fixed, hash-derived weight per field name.
///
/// Numbers count as themselves, booleans as 0/1, strings by a hash in `[0, 1)`; nested values,
/// nulls and the control keys (`fail`, `sleep_ms`, `exit`, `id`) are ignored.
pub fn score_record(record: &Map<String, Value>) -> f64 {
    let mut z = -0.25;
    for (key, value) in record {
        if CONTROL_KEYS.contains(&key.as_str()) {
            continue;
        }
        let x = match value {
            Value::Number(n) => n.as_f64().unwrap_or(0.0),
            Value::Bool(b) => f64::from(u8::from(*b)),
            Value::String(s) => (fnv1a(s.as_bytes()) % 1000) as f64 / 1000.0,
            _ => 0.0,
        };
        // Squash large magnitudes so one huge field cannot pin every score to 0 or 1.
        z += weight(key) * x.signum() * x.abs().ln_1p();
    }
    let score = 1.0 / (1.0 + (-z).exp());
    (score * 1e6).round() / 1e6
}

fn weight(key: &str) -> f64 {
    ((fnv1a(key.as_bytes()) % 2001) as f64 - 1000.0) / 1000.0
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_shapes_score_the_same_record_the_same() {
        let one = score_payload(br#"{"amount": 42, "country": "NZ"}"#).unwrap();
        let array = score_payload(br#"[{"amount": 42, "country": "NZ"}]"#).unwrap();
        let records = score_payload(br#"{"records": [{"country": "NZ", "amount": 42}]}"#).unwrap();
        assert_eq!(one.scores, array.scores);
        assert_eq!(one.scores, records.scores);
        assert!(one.scores[0] > 0.0 && one.scores[0] < 1.0);
    }

    #[test]
    fn different_records_get_different_scores() {
        let scores = score_payload(br#"{"records": [{"amount": 1}, {"amount": 1000}]}"#).unwrap();
        assert_ne!(scores.scores[0], scores.scores[1]);
    }

    #[test]
    fn control_keys_do_not_change_the_score_and_are_reported() {
        let plain = score_payload(br#"{"records": [{"a": 1}, {"b": 2}]}"#).unwrap();
        let faulty = score_payload(
            br#"{"records": [{"a": 1, "sleep_ms": 5}, {"b": 2, "fail": true, "exit": true}]}"#,
        )
        .unwrap();
        assert_eq!(plain.scores, faulty.scores);
        assert_eq!(
            faulty.fault,
            Fault {
                fail: Some(1),
                sleep_ms: 5,
                exit: true
            }
        );
    }

    #[test]
    fn wrong_shapes_are_rejected_with_the_reason() {
        assert!(matches!(
            score_payload(b"not json"),
            Err(ScoreError::NotJson(_))
        ));
        let err = score_payload(br#"{"records": [1]}"#).unwrap_err();
        assert!(err.to_string().contains("record 0"), "{err}");
        assert!(matches!(score_payload(b"3"), Err(ScoreError::Shape(_))));
    }
}
