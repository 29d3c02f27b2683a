//! Members of `use` groups (`use a::{b, c};`) that the rewrite left unused: removed from the
//! group, or the whole item when none is left. Single-name imports are handled beside the
//! `Blob` import in the parent module; this is the grouped form, common when a caller imports
//! several helpers of one module.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{Item, UseTree, Visibility};

use super::dead::delete_item;
use super::file::{file_ctx, FileCtx};
use crate::edit::{Edit, EditSet};
use crate::options::Strategy;
use crate::text::SourceText;

/// Remove the group members of private `use` items of `file` that were mentioned before the
/// `edits` and are mentioned nowhere but in their import after them.
pub(crate) fn remove_dead_group_members(
    text: &SourceText<'_>,
    file: &syn::File,
    edits: &mut EditSet,
    hints: &mut Vec<String>,
) {
    if edits.is_empty() {
        return;
    }
    let output = edits.apply();
    let dead = |name: &str| word_count(text.original, name) > 1 && word_count(&output, name) == 1;
    let mut uses = Vec::new();
    collect_uses(&file.items, &mut uses);
    for u in uses {
        let mut groups = Vec::new();
        find_groups(&u.tree, true, &mut groups);
        for (group, at_root) in groups {
            let members: Vec<(Option<String>, Range<usize>)> = group
                .items
                .iter()
                .map(|t| (imported_name(t), text.range(t.span())))
                .collect();
            let is_dead: Vec<bool> = members
                .iter()
                .map(|(n, _)| n.as_deref().is_some_and(dead))
                .collect();
            if !is_dead.iter().any(|d| *d) {
                continue;
            }
            let names: Vec<&str> = members
                .iter()
                .zip(&is_dead)
                .filter(|(_, d)| **d)
                .filter_map(|((n, _), _)| n.as_deref())
                .collect();
            let line = text.line_col(text.range(u.span()).start).0;
            let removed = if is_dead.iter().all(|d| *d) && at_root {
                delete_item(text, text.range(u.span()), edits)
            } else if is_dead.iter().all(|d| *d) {
                false
            } else {
                let ranges = run_ranges(&members, &is_dead);
                edits
                    .transaction(ranges.into_iter().map(Edit::delete).collect())
                    .is_ok()
            };
            if removed {
                hints.push(format!(
                    "removed `{}` from the import on line {line}: nothing uses it after the rewrite",
                    names.join("`, `")
                ));
            }
        }
    }
}

/// The deletions for the runs of dead members: a run before a kept member goes up to that
/// member; a run at the end goes from the end of the kept member before it.
fn run_ranges(members: &[(Option<String>, Range<usize>)], dead: &[bool]) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < members.len() {
        if !dead[i] {
            i += 1;
            continue;
        }
        let start = i;
        while i < members.len() && dead[i] {
            i += 1;
        }
        if i < members.len() {
            out.push(members[start].1.start..members[i].1.start);
        } else {
            // A trailing run: keep the text after the last member (a trailing comma, `}`).
            out.push(members[start - 1].1.end..members[i - 1].1.end);
        }
    }
    out
}

fn collect_uses<'a>(items: &'a [Item], out: &mut Vec<&'a syn::ItemUse>) {
    for item in items {
        match item {
            Item::Use(u) if matches!(u.vis, Visibility::Inherited) => out.push(u),
            Item::Mod(m) => {
                if let Some((_, inner)) = &m.content {
                    collect_uses(inner, out);
                }
            }
            _ => {}
        }
    }
}

/// Groups of `tree`; `at_root` when the group is the item's whole tree after a plain path.
fn find_groups<'a>(tree: &'a UseTree, at_root: bool, out: &mut Vec<(&'a syn::UseGroup, bool)>) {
    match tree {
        UseTree::Path(p) => find_groups(&p.tree, at_root, out),
        UseTree::Group(g) => {
            out.push((g, at_root));
            for t in &g.items {
                find_groups(t, false, out);
            }
        }
        _ => {}
    }
}

/// The name a group member brings into scope (`b`, `c as d` → `d`); None for globs, nested
/// groups, `self` and `_`.
fn imported_name(tree: &UseTree) -> Option<String> {
    match tree {
        UseTree::Name(n) if n.ident != "self" => Some(n.ident.to_string()),
        UseTree::Rename(r) if r.rename != "_" && r.ident != "self" => Some(r.rename.to_string()),
        _ => None,
    }
}

/// The rewrite removes every mention of some imported names (`ByteStream`, `Uuid`, a helper
/// it no longer calls, a name only a removed dead helper used): drop their now-unused
/// single-name private imports too, so `-D warnings` builds keep passing. An import that was
/// unused before the rewrite stays as it was.
pub(crate) fn remove_dead_imports(
    ctx: &FileCtx<'_, '_>,
    edits: &mut EditSet,
    hints: &mut Vec<String>,
) {
    if edits.is_empty() {
        return;
    }
    let output = edits.apply();
    // `ByteStream`/`Uuid` first: their removal keeps the `Blob` import's insertion point.
    let special = |leaf: &str| leaf == "ByteStream" || leaf == "Uuid";
    let mut uses: Vec<&(String, Range<usize>)> = ctx.single_uses.iter().collect();
    uses.sort_by_key(|(leaf, _)| !special(leaf));
    for (leaf, range) in uses {
        if word_count(ctx.text.original, leaf) > 1 && word_count(&output, leaf) == 1 {
            let line = ctx.text.line_col(range.start).0;
            let text = ctx.text;
            let whole = Edit::delete(text.expand_to_lines(range.clone()));
            // With a blank line around it when that leaves no double blank line.
            if delete_item(text, range.clone(), edits) {
                hints.push(format!("removed the import of `{leaf}` on line {line}: nothing uses it after the rewrite"));
                continue;
            }
            // When the `Blob` import is added right after this item, keep that insertion point:
            // delete from the previous line break to the end of the item instead.
            let nl = text.newline();
            let line_start = text.line_range(range.start).start;
            let from_break = line_start
                .checked_sub(nl.len())
                .filter(|&b| text.original.get(b..line_start) == Some(nl))
                .filter(|_| text.original[line_start..range.start].trim().is_empty())
                .map(|b| Edit::delete(b..range.end));
            let removed = edits.transaction(vec![whole]).is_ok()
                || from_break.is_some_and(|e| edits.transaction(vec![e]).is_ok());
            if removed {
                hints.push(format!("removed the import of `{leaf}` on line {line}: nothing uses it after the rewrite"));
            }
        }
    }
}

/// Occurrences of `word` as a whole identifier in `text`.
pub(crate) fn word_count(text: &str, word: &str) -> usize {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word)
        .filter(|(i, _)| {
            !text[..*i].chars().next_back().is_some_and(ident)
                && !text[i + word.len()..].chars().next().is_some_and(ident)
        })
        .count()
}

/// After removals in another pass, drop the single-name imports of `src` that only the
/// removed items used.
pub(crate) fn drop_orphan_imports(src: &str, edits: &mut EditSet, hints: &mut Vec<String>) {
    let text = SourceText::new(src);
    let Ok(file) = syn::parse_file(text.code()) else {
        return;
    };
    let ctx = file_ctx(&text, None, Strategy::Auto, &file, None);
    remove_dead_imports(&ctx, edits, hints);
    remove_dead_group_members(&text, &file, edits, hints);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `src` with the members of its one `use` group named in `dead` removed.
    fn without(src: &str, dead: &[&str]) -> String {
        let file = syn::parse_file(src).unwrap();
        let text = SourceText::new(src);
        let Item::Use(u) = &file.items[0] else {
            panic!("a use item")
        };
        let mut groups = Vec::new();
        find_groups(&u.tree, true, &mut groups);
        let members: Vec<(Option<String>, Range<usize>)> = groups[0]
            .0
            .items
            .iter()
            .map(|t| (imported_name(t), text.range(t.span())))
            .collect();
        let is_dead: Vec<bool> = members
            .iter()
            .map(|(n, _)| dead.contains(&n.as_deref().unwrap_or("")))
            .collect();
        let mut edits = EditSet::new(src);
        edits
            .transaction(
                run_ranges(&members, &is_dead)
                    .into_iter()
                    .map(Edit::delete)
                    .collect(),
            )
            .unwrap();
        edits.apply()
    }

    #[test]
    fn dead_members_leave_the_group_and_its_punctuation_well_formed() {
        assert_eq!(without("use m::{a, b, c};", &["b"]), "use m::{a, c};");
        assert_eq!(without("use m::{a, b, c};", &["a", "b"]), "use m::{c};");
        assert_eq!(without("use m::{a, b, c};", &["c"]), "use m::{a, b};");
        assert_eq!(
            without("use m::{a, b as x, c};", &["x", "c"]),
            "use m::{a};"
        );
        assert_eq!(
            without("use m::{\n    a,\n    b,\n};", &["b"]),
            "use m::{\n    a,\n};"
        );
    }
}
