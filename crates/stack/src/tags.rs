//! Ownership tags: the truth about which resources a stack may touch.

/// Tag key whose value is the owning stack's name.
pub const STACK_TAG: &str = "bodyline:stack";
/// Tag key marking a resource as created and managed by bodyline.
pub const MANAGED_TAG: &str = "bodyline:managed";
/// Tag key whose value is when setup created the resource (RFC 3339, UTC, whole seconds):
/// the age `bodyline sweep` uses for resources AWS reports no creation time for (SNS topics,
/// CloudWatch alarms). Never compared as drift: a re-run of setup keeps the first value.
pub const CREATED_TAG: &str = "bodyline:created";

/// Tag key whose value is the region of the stack a resource belongs to. IAM is global, so a
/// sweep of one region also sees the roles of stacks in others; this tag tells those apart from
/// the IAM resources a half-finished teardown left in this region. Never compared as drift.
pub const REGION_TAG: &str = "bodyline:region";

/// The value of [`CREATED_TAG`] for a resource created at `at`: `2026-12-05T04:21:54Z`.
pub fn created_tag_value(at: std::time::SystemTime) -> String {
    let secs = at
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secs = i64::try_from(secs).unwrap_or(i64::MAX);
    aws_smithy_types::DateTime::from_secs(secs)
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

/// The instant a [`CREATED_TAG`] value names; `None` for a value that is not RFC 3339.
pub fn parse_created_tag(value: &str) -> Option<std::time::SystemTime> {
    let at =
        aws_smithy_types::DateTime::from_str(value, aws_smithy_types::date_time::Format::DateTime)
            .ok()?;
    std::time::SystemTime::try_from(at).ok()
}

/// Whether a resource belongs to a stack, judged only from its tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Tagged `bodyline:stack=<this stack>`: the stack may change and delete it.
    Owned,
    /// Tagged for another bodyline stack: never touched.
    OtherStack(String),
    /// Not tagged by bodyline: never touched; setup reports a name clash as an error.
    Foreign,
}

/// The tags every owned resource carries, as (key, value) pairs.
pub fn stack_tags(stack_name: &str) -> Vec<(String, String)> {
    vec![
        (STACK_TAG.to_string(), stack_name.to_string()),
        (MANAGED_TAG.to_string(), "true".to_string()),
    ]
}

/// Judges ownership of a resource by its tags.
pub fn ownership<'a>(
    stack_name: &str,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Ownership {
    match tags.into_iter().find(|(k, _)| *k == STACK_TAG) {
        Some((_, v)) if v == stack_name => Ownership::Owned,
        Some((_, v)) => Ownership::OtherStack(v.to_string()),
        None => Ownership::Foreign,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_stack_tag_decides() {
        assert_eq!(
            ownership("a", [(STACK_TAG, "a"), (MANAGED_TAG, "true")]),
            Ownership::Owned
        );
        assert_eq!(
            ownership("a", [(STACK_TAG, "b")]),
            Ownership::OtherStack("b".into())
        );
        assert_eq!(ownership("a", [(MANAGED_TAG, "true")]), Ownership::Foreign);
        assert_eq!(ownership("a", []), Ownership::Foreign);
    }

    #[test]
    fn created_tags_round_trip_in_whole_seconds() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_796_444_514_700);
        let value = created_tag_value(at);
        assert_eq!(value, "2026-12-05T04:21:54Z");
        assert_eq!(
            parse_created_tag(&value),
            Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_444_514))
        );
        assert_eq!(parse_created_tag("yesterday"), None);
    }
}
