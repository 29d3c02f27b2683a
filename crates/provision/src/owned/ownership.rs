//! Whose a resource is, by its tags: the [`Tagged`] shape observe reads, and the verdicts a
//! create reaches from tags already read ([`found_before_create`], [`found_after_create`]):
//! the stack's → not a change, anything else → [`ProvisionError::TakenDuringSetup`]; and the
//! check plan makes of everything found by the stack's names ([`check_owned`]).

use bodyline_stack::{ownership, Ownership, MANAGED_TAG};

use crate::desired::Desired;
use crate::owned::planned::Kind;
use crate::ProvisionError;

/// A state file's record of a resource, by name and ARN.
pub(crate) fn record(name: &str, arn: &str) -> bodyline_stack::ResourceRecord {
    bodyline_stack::ResourceRecord {
        name: name.to_string(),
        arn: Some(arn.to_string()),
    }
}

/// Tags as key–value pairs.
pub(crate) type Tags = Vec<(String, String)>;

/// A resource known by name, ARN and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tagged {
    /// Its name.
    pub name: String,
    /// Its ARN.
    pub arn: String,
    /// Its tags.
    pub tags: Tags,
}

pub(crate) fn tag_refs(tags: &[(String, String)]) -> impl Iterator<Item = (&str, &str)> {
    tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))
}

/// Fails unless `tags` say the stack owns the resource `name` of `kind`: what plan checks of
/// everything found by the stack's names before it lists a change.
pub(crate) fn check_owned(
    d: &Desired,
    kind: Kind,
    name: &str,
    tags: &[(String, String)],
) -> Result<(), ProvisionError> {
    match ownership(&d.stack, tag_refs(tags)) {
        Ownership::Owned => Ok(()),
        Ownership::OtherStack(owner) => Err(ProvisionError::OtherStack {
            kind: kind.label(),
            name: name.to_string(),
            owner,
            stack: d.stack.clone(),
        }),
        Ownership::Foreign => Err(ProvisionError::Foreign {
            kind: kind.label(),
            name: name.to_string(),
            stack: d.stack.clone(),
        }),
    }
}

/// Whether the tags lack `bodyline:managed=true` (a resource to tag again).
pub(crate) fn lacks_managed_tag(tags: &[(String, String)]) -> bool {
    !tags.iter().any(|(k, v)| k == MANAGED_TAG && v == "true")
}

/// What a create step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Created {
    /// This run made the resource: a change.
    New,
    /// It was there already, tagged as the stack's (a concurrent or earlier run of this
    /// stack made it): not a change of this run.
    FoundOwn,
}

/// The error for a resource that is not the stack's; `created` is filled in by apply.
pub(crate) fn taken(d: &Desired, kind: Kind, name: &str, why: String) -> ProvisionError {
    ProvisionError::TakenDuringSetup {
        kind: kind.label(),
        name: name.to_string(),
        stack: d.stack.clone(),
        why,
        created: Vec::new(),
    }
}

/// Why `tags` do not make a resource the stack's; `None` when they do.
pub(crate) fn not_ours(stack: &str, tags: &[(String, String)]) -> Option<String> {
    match ownership(stack, tag_refs(tags)) {
        Ownership::Owned => None,
        Ownership::OtherStack(owner) => Some(format!("it belongs to the bodyline stack {owner:?}")),
        Ownership::Foreign if tags.is_empty() => Some("it has no tags".to_string()),
        Ownership::Foreign => Some(format!(
            "tagged {}",
            tags.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// Before a create, from the tags read (`None`: not there): `Some(FoundOwn)` when the resource
/// is there and the stack's, an error when it is there and not, `None` when it is not there.
pub(crate) fn found_before_create(
    d: &Desired,
    kind: Kind,
    name: &str,
    tags: Option<Tags>,
) -> Result<Option<Created>, ProvisionError> {
    match tags {
        None => Ok(None),
        Some(tags) => match not_ours(&d.stack, &tags) {
            None => Ok(Some(Created::FoundOwn)),
            Some(why) => Err(taken(d, kind, name, why)),
        },
    }
}

/// After a create that answered "it exists" (`found_existing`) or succeeded on a service whose
/// create is idempotent, from the tags read then: the resource must be the stack's.
pub(crate) fn found_after_create(
    d: &Desired,
    kind: Kind,
    name: &str,
    tags: Option<Tags>,
    found_existing: bool,
) -> Result<Created, ProvisionError> {
    match tags {
        Some(tags) => match not_ours(&d.stack, &tags) {
            None if found_existing => Ok(Created::FoundOwn),
            None => Ok(Created::New),
            Some(why) => Err(taken(d, kind, name, why)),
        },
        None => Err(taken(
            d,
            kind,
            name,
            "it was there when created and gone when its tags were read".to_string(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_names_the_owner_or_the_tags() {
        let t = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(not_ours("s", &[t("bodyline:stack", "s")]), None);
        assert_eq!(
            not_ours("s", &[t("bodyline:stack", "o")]).as_deref(),
            Some("it belongs to the bodyline stack \"o\"")
        );
        assert_eq!(
            not_ours("s", &[t("owner", "someone-else"), t("team", "x")]).as_deref(),
            Some("tagged owner=someone-else, team=x")
        );
        assert_eq!(not_ours("s", &[]).as_deref(), Some("it has no tags"));
    }
}
