//! Policy documents as provision reads and checks them: IAM's percent-encoded text decoded, and a
//! named policy linted into a [`ProvisionError`] (the lint itself, `lint.rs`, knows no error
//! type, so `error.rs` can name its findings without a cycle).

use percent_encoding::percent_decode_str;
use serde_json::Value;

use crate::lint::lint_document;
use crate::ProvisionError;

/// Lints a named policy: `Ok` when it passes, [`ProvisionError::Lint`] listing every finding.
pub fn lint_policy(name: &str, document: &Value) -> Result<(), ProvisionError> {
    let findings = lint_document(document);
    if findings.is_empty() {
        Ok(())
    } else {
        Err(ProvisionError::Lint {
            policy: name.to_string(),
            findings,
        })
    }
}

/// Parses a policy document as IAM returns it: `GetRole`, `GetRolePolicy` and
/// `GetPolicyVersion` percent-encode it; a plain JSON document is accepted too.
pub fn decode_policy_document(resource: &str, text: &str) -> Result<Value, ProvisionError> {
    if let Ok(value) = serde_json::from_str(text) {
        return Ok(value);
    }
    let decoded = percent_decode_str(text)
        .decode_utf8()
        .map_err(|e| ProvisionError::Document {
            resource: resource.to_string(),
            message: e.to_string(),
        })?;
    serde_json::from_str(&decoded).map_err(|e| ProvisionError::Document {
        resource: resource.to_string(),
        message: e.to_string(),
    })
}

/// Compact JSON. No descriptions or other free text are sent to IAM: moto fails the SigV4 check
/// of a form-encoded (query protocol) request whose values contain a space.
pub(crate) fn json(v: &serde_json::Value) -> String {
    v.to_string()
}
