//! `.bodyline/state/<stack>.json`: what setup last created. A cache, not the truth — tags are.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{StackError, Target};

/// The recorded state of one stack.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// The stack name.
    pub stack: String,
    /// The target it was applied to.
    pub target: Target,
    /// The account it lives in.
    pub account: String,
    /// The region it lives in.
    pub region: String,
    /// Hash of the configuration last applied.
    pub config_hash: Option<String>,
    /// Resources by kind (`bucket`, `execution_role`, `endpoint_config`, …).
    pub resources: BTreeMap<String, ResourceRecord>,
    /// Resources, by kind, that setup is about to create with a call that cannot tag them
    /// (S3 `CreateBucket`; the tags follow in `PutBucketTagging`). Written before that call,
    /// cleared when setup finishes: if setup dies in between, this record is what lets the
    /// next setup adopt (and teardown delete) the untagged resource it made, and nothing else.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub creating: BTreeMap<String, ResourceRecord>,
}

/// One recorded resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRecord {
    /// Its name.
    pub name: String,
    /// Its ARN, where it has one.
    pub arn: Option<String>,
}

impl State {
    /// `<root>/.bodyline/state/<stack>.json`.
    pub fn path(root: &Path, stack: &str) -> PathBuf {
        crate::ProjectDir::new(root).file(format!("state/{stack}.json"))
    }

    /// Loads the state of `stack`; `Ok(None)` when there is none (first setup, or lost state).
    pub fn load(root: &Path, stack: &str) -> Result<Option<State>, StackError> {
        let path = Self::path(root, stack);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StackError::Io { path, source }),
        };
        serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| StackError::State {
                path,
                message: e.to_string(),
            })
    }

    /// Saves atomically.
    pub fn save(&self, root: &Path) -> Result<PathBuf, StackError> {
        let path = Self::path(root, &self.stack);
        let mut text = serde_json::to_string_pretty(self).map_err(|e| StackError::State {
            path: path.clone(),
            message: e.to_string(),
        })?;
        text.push('\n');
        crate::fsutil::write_atomic(&path, text.as_bytes())?;
        Ok(path)
    }

    /// Whether setup recorded that it was creating the `kind` resource named `name`.
    pub fn is_creating(&self, kind: &str, name: &str) -> bool {
        self.creating.get(kind).is_some_and(|r| r.name == name)
    }

    /// Deletes the state file (after a complete teardown); a missing file is fine.
    pub fn remove(root: &Path, stack: &str) -> Result<(), StackError> {
        let path = Self::path(root, stack);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(StackError::Io { path, source: e })
            }
            _ => Ok(()),
        }
    }
}

/// A stable content hash (hex SHA-256 of the canonical JSON) of anything serializable: the
/// suffix of hashed resource names and the state's `config_hash`.
pub fn content_hash<T: Serialize>(value: &T) -> String {
    use sha2::{Digest, Sha256};
    // serde_json writes struct fields in declaration order and maps in key order (BTreeMap),
    // so the same value always hashes the same.
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_then_load_round_trips_and_missing_is_none() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(State::load(dir.path(), "s").unwrap(), None);
        let mut state = State {
            stack: "s".into(),
            account: "123456789012".into(),
            region: "us-east-1".into(),
            ..State::default()
        };
        state.resources.insert(
            "bucket".into(),
            ResourceRecord {
                name: "b".into(),
                arn: Some("arn:aws:s3:::b".into()),
            },
        );
        state.save(dir.path()).unwrap();
        assert_eq!(State::load(dir.path(), "s").unwrap(), Some(state));
        State::remove(dir.path(), "s").unwrap();
        State::remove(dir.path(), "s").unwrap();
        assert_eq!(State::load(dir.path(), "s").unwrap(), None);
    }

    #[test]
    fn a_corrupt_state_file_says_how_to_recover() {
        let dir = tempfile::tempdir().unwrap();
        let path = State::path(dir.path(), "s");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "{not json").unwrap();
        let err = State::load(dir.path(), "s").unwrap_err().to_string();
        assert!(err.contains("found again by tag"), "{err}");
    }

    #[test]
    fn content_hash_is_stable_and_sensitive() {
        assert_eq!(content_hash(&("a", 1)), content_hash(&("a", 1)));
        assert_ne!(content_hash(&("a", 1)), content_hash(&("a", 2)));
        assert_eq!(content_hash(&1).len(), 64);
    }
}
