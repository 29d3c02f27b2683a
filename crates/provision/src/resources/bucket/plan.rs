//! The bucket's plan: the bucket, then each setting on its own change, in apply order.

use crate::desired::{Desired, Encryption};
use crate::lint::normalize_document;
use crate::owned::ownership::lacks_managed_tag;
use crate::owned::planned::{Action, Kind, Planned, Planner};

use super::BucketObserved;
/// What apply does to the bucket or one of its settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Step {
    /// Create it, tagged.
    Create,
    /// Tag it (adopting an interrupted setup's bucket, or adding the managed tag).
    Tag {
        /// Its tags now, kept.
        existing: Vec<(String, String)>,
    },
    /// Turn on all four public-access-block flags.
    PublicAccessBlock,
    /// Set default encryption.
    Encryption,
    /// Set `BucketOwnerEnforced`.
    Ownership,
    /// Set the lifecycle rules.
    Lifecycle,
    /// Put the TLS-only policy.
    Policy,
}

/// Plans the bucket and each of its settings, one change each, in apply order.
pub(crate) fn plan(desired: &Desired, existing: Option<&BucketObserved>) -> Vec<Planned<Step>> {
    let d = &desired.bucket;
    let name = d.name.clone();
    let mut planner = Planner::new(desired);
    let p = &mut planner;
    let fresh = existing.is_none();
    match existing {
        None => p.push(
            Kind::Bucket,
            &name,
            Action::Create,
            "new bucket, tagged",
            Step::Create,
        ),
        Some(b) if b.adopt => p.push(
            Kind::Bucket,
            &name,
            Action::Update,
            "adopt: an interrupted setup of this stack created it (state file) and had not \
             tagged it yet; it is empty; tag it",
            Step::Tag {
                existing: b.tags.clone().unwrap_or_default(),
            },
        ),
        Some(b) if lacks_managed_tag(b.tags.as_deref().unwrap_or(&[])) => p.push(
            Kind::Bucket,
            &name,
            Action::Update,
            "add the bodyline:managed tag",
            Step::Tag {
                existing: b.tags.clone().unwrap_or_default(),
            },
        ),
        Some(_) => p.push(Kind::Bucket, &name, Action::NoOp, "exists, tagged", None),
    }
    let b = existing.cloned().unwrap_or_default();
    let setting = |p: &mut Planner<'_, Step>, kind: Kind, ok: bool, want: &str, step: Step| {
        if ok {
            p.push(kind, &name, Action::NoOp, want, None);
        } else if fresh {
            p.push(kind, &name, Action::Create, want, step);
        } else {
            p.push(kind, &name, Action::Update, format!("set {want}"), step);
        }
    };
    setting(
        p,
        Kind::PublicAccessBlock,
        b.public_access_block == Some([true; 4]),
        "all four public-access-block flags on",
        Step::PublicAccessBlock,
    );
    let (enc_ok, enc_want) = match &d.encryption {
        Encryption::S3 => (
            b.encryption
                .as_ref()
                .is_some_and(|(alg, _)| alg == "AES256"),
            "SSE-S3 (AES256)".to_string(),
        ),
        Encryption::Kms(key) => (
            b.encryption
                .as_ref()
                .is_some_and(|(alg, k)| alg == "aws:kms" && k.as_deref() == Some(key)),
            format!("SSE-KMS with {key}"),
        ),
    };
    setting(p, Kind::Encryption, enc_ok, &enc_want, Step::Encryption);
    setting(
        p,
        Kind::OwnershipControls,
        b.object_ownership.as_deref() == Some("BucketOwnerEnforced"),
        "BucketOwnerEnforced (ACLs off)",
        Step::Ownership,
    );
    let expire = d
        .lifecycle
        .iter()
        .find_map(|r| r.expire_days)
        .unwrap_or_default();
    setting(
        p,
        Kind::Lifecycle,
        b.lifecycle == d.lifecycle,
        &format!(
            "expire outputs and failures after {expire} days, {}abort incomplete uploads after 1 day",
            if desired.input.keep {
                format!("uploaded inputs ({}/) after 1 day, ", desired.input.prefix)
            } else {
                String::new()
            }
        ),
        Step::Lifecycle,
    );
    match &d.policy {
        Some(policy) => setting(
            p,
            Kind::BucketPolicy,
            b.policy.as_ref().map(normalize_document) == Some(normalize_document(policy)),
            "TLS-only bucket policy (deny aws:SecureTransport=false)",
            Step::Policy,
        ),
        None => p.push(Kind::BucketPolicy,
            &name,
            Action::NoOp,
            "TLS-only policy skipped on the local target: moto applies a Deny with a Condition unconditionally, which would block every write",
            None,
        ),
    }
    planner.changes
}
