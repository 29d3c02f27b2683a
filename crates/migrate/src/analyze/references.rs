//! The reference search behind dead-helper removal: whole-identifier mentions of a name in
//! source text. Text, not syntax, so that every way of naming an item counts (a call, a path,
//! a `use`, a function pointer, a macro body); a mention in a comment or a string counts too,
//! which can only keep an item that is in fact dead, never remove a live one.

use std::collections::HashMap;
use std::ops::Range;

/// Whole-identifier mentions of `name` in `text` outside the byte ranges `skip`.
pub(crate) fn mentions_outside(text: &str, name: &str, skip: &[Range<usize>]) -> usize {
    mention_offsets(text, name)
        .filter(|at| !skip.iter().any(|r| r.contains(at)))
        .count()
}

/// Byte offsets of whole-identifier mentions of `name` in `text` (`r#name` included).
pub(crate) fn mention_offsets<'t>(
    text: &'t str,
    name: &'t str,
) -> impl Iterator<Item = usize> + 't {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(name).map(|(i, _)| i).filter(move |&i| {
        let before = text[..i].strip_suffix("r#").unwrap_or(&text[..i]);
        !before.chars().next_back().is_some_and(ident)
            && !text[i + name.len()..].chars().next().is_some_and(ident)
    })
}

/// Whole-identifier mentions of every name in `text`, in one pass (an identifier is a run
/// of alphanumerics and `_`, so this agrees with [`mentions_outside`]).
pub(crate) fn mention_counts(text: &str) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    for word in text.split(|c: char| !ident(c)).filter(|w| !w.is_empty()) {
        *counts.entry(word).or_insert(0) += 1;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_identifiers_outside_the_skipped_ranges_count() {
        let text = "fn upload() {} upload_all(); upload(); let f = upload; r#upload; m!(upload)";
        assert_eq!(mentions_outside(text, "upload", &[]), 5);
        assert_eq!(mentions_outside(text, "upload", &[0..14]), 4);
        assert_eq!(mentions_outside(text, "upload_all", &[]), 1);
        assert_eq!(mentions_outside(text, "load", &[]), 0);
        let counts = mention_counts(text);
        assert_eq!(counts.get("upload"), Some(&5));
        assert_eq!(counts.get("upload_all"), Some(&1));
        assert_eq!(counts.get("load"), None);
    }
}
