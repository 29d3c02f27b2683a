//! Ownership tags: the truth about which resources a stack may touch.

/// Tag key whose value is the owning stack's name.
pub const STACK_TAG: &str = "bodyline:stack";
/// Tag key marking a resource as created and managed by bodyline.
pub const MANAGED_TAG: &str = "bodyline:managed";

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
}
