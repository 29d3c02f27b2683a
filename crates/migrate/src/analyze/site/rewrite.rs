//! Building the edits of a rewritten site: the `body(Blob::new(..))` call in place of
//! `input_location(..)`, the `Blob` import, and the removal of the upload with the cleanup
//! `delete_object` and the bindings only they used (refused when the object's name escapes).
//! The size branch (`branch`) builds on the same pieces.

use std::ops::Range;

use quote::ToTokens;
use syn::{Expr, Stmt};

use super::payload::Payload;
use super::request::CallSite;
use super::syntax::{key_arg, object_path, pure};
use super::upload::RewritePlan;
use crate::analyze::collect::path_ident;
use crate::analyze::pretty;
use crate::analyze::resolve::{strip, Resolver};
use crate::edit::Edit;
use crate::verdict::{SkipReason, Verdict};

/// A decided site: its verdict, its edits and its notes (`hint: ` notes become file hints);
/// or the reason it is left alone.
pub(super) type SiteRewrite = Result<(Verdict, Vec<Edit>, Vec<String>), SkipReason>;

impl<'a> CallSite<'_, 'a, '_> {
    /// How `Blob` is named at the site, and the `use` to add when no `Blob` is in scope.
    pub(super) fn blob(&self) -> Result<(syn::Path, Option<Edit>), SkipReason> {
        // The crate's own name for the SDK: a renamed dependency (`smr = { package = .. }`)
        // is not reachable as `aws_sdk_sagemakerruntime`.
        let krate: syn::Ident = syn::parse_str(self.ctx.sdk_crate)
            .unwrap_or_else(|_| syn::parse_quote!(aws_sdk_sagemakerruntime));
        let qualified: syn::Path = syn::parse_quote!(#krate::primitives::Blob);
        let site = self.chain().range.start;
        let module = self
            .ctx
            .modules
            .iter()
            .filter(|m| m.range.contains(&site))
            .min_by_key(|m| m.range.end - m.range.start);
        let Some(module) = module else {
            return Ok((qualified, None));
        };
        if let Some(name) = &module.blob_name {
            let path = syn::parse_str(name).map_err(|_| {
                SkipReason::Unsupported(format!("`{name}` (the Blob in scope) is not a path"))
            })?;
            return Ok((path, None));
        }
        if self.ctx.local_blob_type {
            return Ok((qualified, None));
        }
        let import = pretty::item(quote::quote!(use #qualified;), "Blob import")?;
        let text = format!("{}{import}{}", module.use_prefix, module.use_suffix);
        Ok((
            syn::parse_quote!(Blob),
            Some(Edit::insert(module.use_at, text)),
        ))
    }

    /// The replacement for the `input_location(..)` call: `[content_type(..).]body(Blob::new(P))`,
    /// with `payload_text` (source text) as `P`.
    pub(super) fn body_call(
        &self,
        plan: &RewritePlan<'_, 'a>,
        blob: &syn::Path,
        payload_text: &str,
    ) -> Result<Edit, SkipReason> {
        let call = plan.loc.call;
        let start = self.range(&call.method).start;
        let end = self.ctx.text.range(call.paren_token.span.close()).end;
        let p = pretty::placeholder(pretty::PAYLOAD);
        let body = if plan.loc.setter {
            pretty::link(quote::quote!(set_body(Some(#blob::new(#p)))), "body")?
        } else {
            pretty::link(quote::quote!(body(#blob::new(#p))), "body")?
        };
        let text = match &plan.content_type {
            Some(ct) => {
                let c = pretty::placeholder(pretty::CONTENT_TYPE);
                let content_type = pretty::link(quote::quote!(content_type(#c)), "content type")?;
                // Continue the chain in its own style: one call per line, or all on one.
                let before = &self.ctx.text.original[self.ctx.text.line_range(start).start..start];
                let sep = if before.trim() == "." {
                    format!(
                        "{}{}",
                        self.ctx.text.newline(),
                        &before[..before.len() - 1].trim_end_matches('.')
                    )
                } else {
                    String::new()
                };
                pretty::fill(
                    &format!("{content_type}{sep}.{body}"),
                    &[
                        (pretty::CONTENT_TYPE, ct.as_str()),
                        (pretty::PAYLOAD, payload_text),
                    ],
                )
            }
            None => pretty::fill(&body, &[(pretty::PAYLOAD, payload_text)]),
        };
        Ok(Edit::replace(start..end, text))
    }

    pub(super) fn inline(&self, plan: RewritePlan<'_, 'a>, mut notes: Vec<String>) -> SiteRewrite {
        let Payload::Bytes(p) = plan.payload else {
            return Err(SkipReason::Unsupported(
                "a file upload needs a size branch".into(),
            ));
        };
        let (blob, import) = self.blob()?;
        let payload_text = self.src(self.range(p)).to_owned();
        let mut edits = vec![self.body_call(&plan, &blob, &payload_text)?];
        let removed = self.removals(&plan, &mut notes)?;
        for r in &removed {
            edits.push(Edit::delete(self.ctx.text.expand_to_lines(r.clone())));
        }
        edits.extend(import);
        let left = self.info.blocks.first().map_or(usize::MAX, |b| {
            b.stmts
                .iter()
                .filter(|(_, r)| !removed.iter().any(|d| d.start <= r.start && r.end <= d.end))
                .count()
        });
        let param_payload = path_ident(strip(p)).is_some_and(|n| self.info.params.contains(&n));
        if param_payload && plan.put.is_some() && left <= 3 {
            notes.push(
                "the payload is a parameter: if this function only existed to stage bytes in S3, callers can now invoke directly"
                    .into(),
            );
        }
        Ok((Verdict::Rewritten, edits, notes))
    }

    /// Statements that go with the upload: the put_object, the cleanup delete_object of the
    /// same object and bindings that become dead. Fails when the object's name escapes.
    pub(super) fn removals(
        &self,
        plan: &RewritePlan<'_, 'a>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Range<usize>>, SkipReason> {
        let text = self.ctx.text;
        let mut removed = vec![plan.put_stmt.range.clone()];
        let mut deleted: Vec<Range<usize>> =
            vec![plan.put_stmt.range.clone(), self.range(plan.uri)];
        let resolver = Resolver {
            ctx: self.ctx,
            info: self.info,
        };
        let path = plan
            .put
            .and_then(|put| object_path(&resolver, &plan.put_links, put.range.start));
        for c in self.info.chains.iter().filter(|_| path.is_some()) {
            let Some(d) = c.position("delete_object") else {
                continue;
            };
            if c.range.start < self.chain().range.end {
                continue;
            }
            if object_path(&resolver, &c.links[d + 1..], c.range.start) != path {
                continue;
            }
            match self.deletable_stmt(c) {
                Some(s) => {
                    removed.push(s.range.clone());
                    deleted.push(s.range);
                }
                None => notes.push(format!(
                    "the cleanup delete_object on line {} stays; remove it by hand",
                    text.line_col(c.range.start).0
                )),
            }
        }
        // What moves into the invoke keeps its bindings.
        let mut keep: Vec<usize> = Vec::new();
        let mut moved = match plan.payload {
            Payload::Bytes(p) | Payload::Path(p) => vec![self.range(p)],
        };
        moved.extend(plan.content_type_range.clone());
        for r in &moved {
            for (name, at) in self.info.idents_in(r) {
                keep.extend(self.info.find_let(&name, at));
            }
        }
        let (dead, dead_ranges) = self.dead_bindings(&mut deleted, &keep);
        removed.extend(dead_ranges);
        // Bindings that named the object must not escape.
        for e in [Some(plan.uri), key_arg(&plan.put_links)]
            .into_iter()
            .flatten()
        {
            let Some(name) = path_ident(strip(e)) else {
                continue;
            };
            let Some(li) = self.info.find_let(&name, self.range(e).start) else {
                continue;
            };
            if dead.contains(&li) {
                continue;
            }
            let l = &self.info.lets[li];
            if let Some(at) = self.escape(li, &deleted, 0) {
                let line = text.line_col(at).0;
                return Err(SkipReason::Escapes(format!(
                    "`{}` is used on line {line}",
                    l.name
                )));
            }
            if !self
                .info
                .uses(&l.name, l.stmt_range.end..l.scope.end, &deleted)
                .is_empty()
            {
                notes.push(format!(
                    "`{}` is still logged; the object it names is no longer uploaded",
                    l.name
                ));
            }
        }
        Ok(removed)
    }

    /// Let bindings made dead by deleting `deleted`, to a fixed point (pure initializers only),
    /// with the statement ranges to delete (the `let` and any `push_str` onto it).
    pub(super) fn dead_bindings(
        &self,
        deleted: &mut Vec<Range<usize>>,
        keep: &[usize],
    ) -> (Vec<usize>, Vec<Range<usize>>) {
        let mut dead: Vec<usize> = Vec::new();
        let mut ranges = Vec::new();
        loop {
            let mut changed = false;
            let mut candidates: Vec<usize> = Vec::new();
            for r in deleted.iter() {
                for (name, at) in self.info.idents_in(r) {
                    if let Some(li) = self.info.find_let(&name, at) {
                        candidates.push(li);
                    }
                }
            }
            for li in candidates {
                if dead.contains(&li) || keep.contains(&li) {
                    continue;
                }
                let l = &self.info.lets[li];
                let Some(init) = l.init else { continue };
                if !pure(init.to_token_stream()) {
                    continue;
                }
                let appends = if l.mutable {
                    self.append_stmts(li)
                } else {
                    Vec::new()
                };
                let mut skip = deleted.clone();
                skip.push(l.stmt_range.clone());
                skip.extend(appends.iter().cloned());
                let uses: Vec<usize> = self
                    .info
                    .uses(&l.name, l.stmt_range.end..l.scope.end, &skip)
                    .into_iter()
                    .filter(|at| self.info.find_let(&l.name, *at) == Some(li))
                    .collect();
                if uses.is_empty() {
                    dead.push(li);
                    deleted.push(l.stmt_range.clone());
                    ranges.push(l.stmt_range.clone());
                    deleted.extend(appends.iter().cloned());
                    ranges.extend(appends);
                    changed = true;
                }
            }
            if !changed {
                return (dead, ranges);
            }
        }
    }

    /// `name.push_str(..);` / `name.push(..);` statements building the string of binding `li`.
    pub(super) fn append_stmts(&self, li: usize) -> Vec<Range<usize>> {
        let l = &self.info.lets[li];
        let mut out = Vec::new();
        for c in &self.info.chains {
            if c.root_ident().as_deref() != Some(l.name.as_str())
                || c.range.start < l.stmt_range.end
            {
                continue;
            }
            if c.links.len() != 1
                || !(c.links[0].method == "push_str" || c.links[0].method == "push")
            {
                continue;
            }
            if !pure(c.links[0].args.to_token_stream()) {
                continue;
            }
            if let Some((b, s)) = self.info.stmt_containing(&c.range) {
                let (stmt, r) = &self.info.blocks[b].stmts[s];
                if matches!(stmt, Stmt::Expr(Expr::MethodCall(m), Some(_)) if std::ptr::eq(m, c.top()))
                {
                    out.push(r.clone());
                }
            }
        }
        out
    }

    /// The first use of binding `li` (outside `deleted`) that is not a log line, following
    /// string-building `let`s derived from it.
    pub(super) fn escape(&self, li: usize, deleted: &[Range<usize>], depth: u32) -> Option<usize> {
        let l = &self.info.lets[li];
        for at in self
            .info
            .uses(&l.name, l.stmt_range.end..l.scope.end, deleted)
        {
            if self.in_log_macro(at) {
                continue;
            }
            let derived = self.info.lets.iter().position(|d| {
                d.stmt_range.contains(&at)
                    && d.init.is_some_and(|i| {
                        pure(i.to_token_stream())
                            && matches!(strip(i), Expr::Macro(_) | Expr::Binary(_) | Expr::Lit(_))
                    })
            });
            match derived {
                Some(d) if d != li && depth < 8 => {
                    if let Some(found) = self.escape(d, deleted, depth + 1) {
                        return Some(found);
                    }
                }
                _ => return Some(at),
            }
        }
        None
    }

    /// True when the use at `at` is inside a statement-level macro (a log line).
    pub(super) fn in_log_macro(&self, at: usize) -> bool {
        let Some((b, s)) = self.info.stmt_containing(&(at..at)) else {
            return false;
        };
        matches!(
            self.info.blocks[b].stmts[s].0,
            Stmt::Macro(_) | Stmt::Expr(Expr::Macro(_), Some(_))
        )
    }
}
