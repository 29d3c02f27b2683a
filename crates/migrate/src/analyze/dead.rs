//! Dead helpers: after the rewrite, a function or inherent method that the rewritten code no
//! longer mentions anywhere it is visible is removed, with its doc comment and attributes (one
//! more span edit). Only helpers the rewrite left without a mention are touched: code that was
//! dead before stays as it was. A `pub` helper is kept and reported (another crate may use it);
//! a helper visible beyond this file (`pub(crate)`, `pub(super)`, or a private one whose module
//! has child modules in other files) is handed to the scan, which searches the whole crate.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{ImplItem, Item, Visibility};

use super::references::{count, mention_counts};
use crate::edit::{Edit, EditSet};
use crate::text::SourceText;

/// Attributes that do not make a function reachable by other means than its name.
const PLAIN_ATTRS: &[&str] = &[
    "doc",
    "allow",
    "expect",
    "warn",
    "inline",
    "must_use",
    "cold",
    "instrument",
];

/// A helper the rewrite left unmentioned in its file but which may be visible elsewhere in
/// the crate: the scan decides.
#[derive(Debug, Clone)]
pub(crate) struct CrateCandidate {
    pub name: String,
    pub line: usize,
    /// Declared `pub`: kept in a library crate.
    pub public: bool,
}

impl CrateCandidate {
    /// The hint when no crate-wide search decided (a lone file).
    pub fn undecided_hint(&self) -> String {
        let (name, line) = (&self.name, self.line);
        if self.public {
            format!("helper `{name}` (line {line}) has no caller left in this file; it is `pub`, so it is kept: remove it if nothing else uses it")
        } else {
            format!("helper `{name}` (line {line}) has no caller left in this file; it is visible elsewhere in the crate, so it is kept: remove it if nothing else uses it")
        }
    }
}

/// A function or inherent method of the file that could be removed when dead.
pub(crate) struct Helper {
    pub name: String,
    /// The item with its attributes.
    pub item: Range<usize>,
    pub vis: Vis,
}

#[derive(PartialEq)]
pub(crate) enum Vis {
    Private,
    /// `pub(crate)`, `pub(super)`, `pub(in ..)`.
    Restricted,
    Pub,
}

/// Remove the helpers of `file` that the `edits` left without a mention. Returns the helpers
/// to check across the crate.
pub(crate) fn remove_dead_helpers(
    text: &SourceText<'_>,
    file: &syn::File,
    edits: &mut EditSet,
    hints: &mut Vec<String>,
) -> Vec<CrateCandidate> {
    let mut crate_wide = Vec::new();
    if edits.is_empty() {
        return crate_wide;
    }
    let (helpers, file_children) = helpers(text, file);
    let original = text.original;
    let output = edits.apply();
    let before_counts = mention_counts(original);
    let after_counts = mention_counts(&output);
    for h in helpers {
        if touches(edits, &h.item) || h.name == "main" {
            continue;
        }
        let own = count(&mention_counts(&original[h.item.clone()]), &h.name);
        let before = count(&before_counts, &h.name).saturating_sub(own);
        let after = count(&after_counts, &h.name).saturating_sub(own);
        if before == 0 || after > 0 {
            continue;
        }
        let line = text.line_col(h.item.start).0;
        if h.vis == Vis::Private && !file_children {
            if delete_item(text, h.item.clone(), edits) {
                hints.push(format!(
                    "removed helper `{}` (line {line}): nothing references it after the rewrite",
                    h.name
                ));
            }
        } else {
            crate_wide.push(CrateCandidate {
                name: h.name,
                line,
                public: h.vis == Vis::Pub,
            });
        }
    }
    crate_wide
}

/// True when an edit of `edits` overlaps `range` (the edits are sorted and do not overlap,
/// so a binary search finds the only candidates).
pub(crate) fn touches(edits: &EditSet, range: &Range<usize>) -> bool {
    let all = edits.edits();
    let first = all.partition_point(|e| e.range.end <= range.start);
    all[first..]
        .iter()
        .take_while(|e| e.range.start < range.end)
        .any(|e| e.range.start < range.end && range.start < e.range.end)
}

/// The ranges that delete `item`, best first: its lines with the blank line after it (or
/// before it, when it is the last item of its block or file, or when the one after is taken),
/// then its lines alone. The first that fits beside the other edits is used.
pub(crate) fn deletions(text: &SourceText<'_>, item: Range<usize>) -> Vec<Range<usize>> {
    let lines = text.expand_to_lines(item.clone());
    if lines == item {
        return vec![item];
    }
    let original = text.original;
    let blank = |r: &Range<usize>| original[r.clone()].trim().is_empty();
    let next = (lines.end < original.len()).then(|| text.line_range(lines.end));
    let prev = (lines.start > 0).then(|| text.line_range(lines.start - 1));
    let mut out = Vec::new();
    if let Some(n) = next.as_ref().filter(|n| blank(n)) {
        out.push(lines.start..n.end);
    }
    let last = next
        .as_ref()
        .is_none_or(|n| original[n.clone()].trim_start().starts_with('}'));
    if let Some(p) = prev.as_ref().filter(|p| blank(p)) {
        if last || !out.is_empty() {
            out.push(p.start..lines.end);
        }
    }
    out.push(lines);
    out
}

/// Delete `item` with the first of its [`deletions`] that fits: false when none does.
pub(crate) fn delete_item(text: &SourceText<'_>, item: Range<usize>, edits: &mut EditSet) -> bool {
    deletions(text, item)
        .into_iter()
        .any(|r| edits.transaction(vec![Edit::delete(r)]).is_ok())
}

fn plain(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().all(|a| {
        a.path()
            .segments
            .last()
            .is_some_and(|s| PLAIN_ATTRS.iter().any(|p| s.ident == p))
    })
}

fn vis(v: &Visibility) -> Vis {
    match v {
        Visibility::Inherited => Vis::Private,
        Visibility::Restricted(_) => Vis::Restricted,
        Visibility::Public(_) => Vis::Pub,
    }
}

/// The removable helpers of a parsed file, and whether it declares modules in other files.
pub(crate) fn helpers(text: &SourceText<'_>, file: &syn::File) -> (Vec<Helper>, bool) {
    let mut out = Vec::new();
    let mut file_children = false;
    collect(text, &file.items, &mut out, &mut file_children);
    (out, file_children)
}

fn collect(text: &SourceText<'_>, items: &[Item], out: &mut Vec<Helper>, file_children: &mut bool) {
    for item in items {
        match item {
            Item::Fn(f) if plain(&f.attrs) && f.sig.abi.is_none() => out.push(Helper {
                name: f.sig.ident.to_string(),
                item: text.range(f.span()),
                vis: vis(&f.vis),
            }),
            Item::Impl(i) if i.trait_.is_none() => {
                for it in &i.items {
                    if let ImplItem::Fn(f) = it {
                        if plain(&f.attrs) {
                            out.push(Helper {
                                name: f.sig.ident.to_string(),
                                item: text.range(f.span()),
                                vis: vis(&f.vis),
                            });
                        }
                    }
                }
            }
            Item::Mod(m) => match &m.content {
                Some((_, inner)) => collect(text, inner, out, file_children),
                None => *file_children = true,
            },
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_edits_overlapping_the_range_touch_it() {
        let src = "0123456789abcdef";
        let mut edits = EditSet::new(src);
        edits
            .transaction(vec![
                Edit::insert(2, "x"),
                Edit::delete(4..6),
                Edit::insert(10, "y"),
            ])
            .unwrap();
        assert!(!touches(&edits, &(6..10)));
        assert!(touches(&edits, &(5..8)));
        assert!(touches(&edits, &(9..12)));
        assert!(!touches(&edits, &(11..16)));
    }

    #[test]
    fn a_deleted_item_takes_one_blank_line_with_it() {
        let src = "fn a() {}\n\nfn dead() {}\n\nfn b() {}\n";
        let text = SourceText::new(src);
        let item = src.find("fn dead").unwrap()..src.find("}\n\nfn b").unwrap() + 1;
        let first = deletions(&text, item).remove(0);
        let mut out = src.to_owned();
        out.replace_range(first, "");
        assert_eq!(out, "fn a() {}\n\nfn b() {}\n");
        // The last item of a block takes the blank line before it.
        let src = "impl A {\n    fn a() {}\n\n    fn dead() {}\n}\n";
        let text = SourceText::new(src);
        let item = src.find("fn dead").unwrap()..src.rfind("}\n}").unwrap() + 1;
        let first = deletions(&text, item).remove(0);
        let mut out = src.to_owned();
        out.replace_range(first, "");
        assert_eq!(out, "impl A {\n    fn a() {}\n}\n");
    }
}
