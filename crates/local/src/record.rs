//! What a local stack needs to come back after a crash, on disk under `<root>/.bodyline/`:
//! `local-stack.json` (its ports and the administrator the bootstrap made), `moto-state/`
//! (moto's change log, see `moto_persist.py`), and what could not be brought back
//! ([`losses`]).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use bodyline_stack::ProjectDir;

use crate::bootstrap::Admin;
use crate::moto::RestoreReport;
use crate::LocalError;

/// The stack's identity: written once it is bootstrapped, removed by a clean stop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StackRecord {
    /// The region clients sign for.
    pub region: String,
    /// The front door's port (in `local.env`'s `AWS_ENDPOINT_URL`).
    pub front_door_port: u16,
    /// moto's port.
    pub moto_port: u16,
    /// The administrator's ARN.
    pub admin_arn: String,
    /// The administrator's access key id.
    pub access_key_id: String,
    /// The administrator's secret key.
    pub secret_access_key: String,
}

impl StackRecord {
    /// `<root>/.bodyline/local-stack.json`.
    pub(crate) fn path(root: &Path) -> PathBuf {
        ProjectDir::new(root).file("local-stack.json")
    }

    /// The record of `root`'s stack, if one was written and is readable.
    pub(crate) fn read(root: &Path) -> Option<StackRecord> {
        let text = std::fs::read_to_string(StackRecord::path(root)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the record (atomically: a crash leaves the old one or the new one).
    pub(crate) fn write(&self, root: &Path) -> Result<(), LocalError> {
        let path = StackRecord::path(root);
        let tmp = path.with_extension("json.tmp");
        let text = serde_json::to_string_pretty(self).map_err(|e| LocalError::Runtime {
            message: format!("cannot encode {}: {e}", path.display()),
        })?;
        std::fs::write(&tmp, text).map_err(|e| LocalError::io(&tmp, e))?;
        std::fs::rename(&tmp, &path).map_err(|e| LocalError::io(&path, e))
    }

    /// The administrator it names.
    pub(crate) fn admin(&self) -> Admin {
        Admin {
            arn: self.admin_arn.clone(),
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.clone(),
        }
    }
}

/// `<root>/.bodyline/moto-state`: moto's change log and its last restore report.
pub(crate) fn moto_state_dir(root: &Path) -> PathBuf {
    ProjectDir::new(root).file("moto-state")
}

/// `<root>/.bodyline/runtime/stranded.jsonl`: accepted requests that ended with no object.
pub(crate) fn stranded_file(state_dir: &Path) -> PathBuf {
    state_dir.join("stranded.jsonl")
}

/// Forgets the stack: its record and moto's state (a clean `down` starts the next `up` fresh).
pub(crate) fn forget(root: &Path) {
    let _ = std::fs::remove_file(StackRecord::path(root));
    let _ = std::fs::remove_dir_all(moto_state_dir(root));
}

/// What the local stack of `root` could not bring back, one line each: changes of moto's state
/// that failed to replay on its last start, and accepted requests that ended with no output or
/// failure object (their bucket was gone). Empty when nothing was lost.
pub fn losses(root: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(report) = RestoreReport::read(&moto_state_dir(root)) {
        for failure in &report.failures {
            lines.push(format!(
                "moto state: a change could not be restored ({failure}); see {}",
                moto_state_dir(root).join("restore.json").display()
            ));
        }
    }
    let stranded = stranded_file(&ProjectDir::new(root).file("runtime"));
    if let Ok(text) = std::fs::read_to_string(&stranded) {
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            lines.push(format!("request with no object: {line}"));
        }
    }
    lines
}
