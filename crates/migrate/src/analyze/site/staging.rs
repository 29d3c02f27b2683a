//! Staging shapes the rewrite does not take, named with their true reason: an upload inside a
//! loop the invoke is not in (a retry loop, several objects staged in one loop), a multipart
//! upload of the object the URI names, an upload inside a helper called before the invoke, and a
//! stored upload builder sent later.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{Expr, Stmt};

use super::payload::MAX_INLINE;
use super::request::CallSite;
use super::syntax::object_path;
use crate::analyze::collect::Chain;
use crate::analyze::resolve::{Part, Resolver};

impl<'a> CallSite<'_, 'a, '_> {
    /// The innermost `for`/`while`/`loop` statement around `inner` that does not also hold the
    /// invoke, as its keyword and 1-based line.
    pub(super) fn loop_around(&self, inner: &Range<usize>) -> Option<(&'static str, usize)> {
        let invoke = &self.chain().range;
        let mut best: Option<(&'static str, Range<usize>)> = None;
        for block in &self.info.blocks {
            for (stmt, range) in &block.stmts {
                let holds = |r: &Range<usize>| range.start <= r.start && r.end <= range.end;
                if !holds(inner) || holds(invoke) || range == inner {
                    continue;
                }
                let Some(keyword) = loop_keyword(stmt) else {
                    continue;
                };
                if best.as_ref().is_none_or(|(_, b)| range.len() < b.len()) {
                    best = Some((keyword, range.clone()));
                }
            }
        }
        best.map(|(keyword, r)| (keyword, self.ctx.text.line_col(r.start).0))
    }

    /// Why an upload of the URI's object inside a loop is left alone.
    pub(super) fn loop_reason(&self, upload: &Chain<'a>, keyword: &str, line: usize) -> String {
        let (upload_line, _) = self.ctx.text.line_col(upload.range.start);
        format!(
            "the upload on line {upload_line} runs inside the `{keyword}` loop on line {line} and the invoke does not: \
             bodyline does not unroll loops (a retry or a batch of uploads); rewrite it by hand"
        )
    }

    /// A multipart upload (`create_multipart_upload` .. `complete_multipart_upload`) of the
    /// object at `path`, before the invoke: the reason it stays in S3.
    pub(super) fn multipart_reason(
        &self,
        resolver: &Resolver<'_, 'a, '_>,
        path: &[Part],
    ) -> Option<String> {
        let invoke = &self.chain().range;
        self.info.chains.iter().find_map(|c| {
            let p = ["complete_multipart_upload", "create_multipart_upload"]
                .iter()
                .find_map(|m| c.position(m))?;
            if c.range.end > invoke.start {
                return None;
            }
            let staged = object_path(resolver, &c.links[p + 1..], c.range.start)?;
            if staged != path {
                return None;
            }
            let (line, _) = self.ctx.text.line_col(c.range.start);
            Some(format!(
                "the object is staged with a multipart upload (`{}` on line {line}), not a `put_object`: \
                 its parts (all but the last) are 5 MiB or more, over the {},{:03}-byte inline limit, so the input stays in S3",
                c.links[p].method,
                MAX_INLINE / 1000,
                MAX_INLINE % 1000
            ))
        })
    }
}

impl CallSite<'_, '_, '_> {
    /// A free function of this file, called before the invoke, whose body calls `put_object`:
    /// the object is probably uploaded there, with bytes this function never sees.
    pub(super) fn helper_upload_reason(&self) -> Option<String> {
        let invoke = self.chain().range.start;
        let text = self.ctx.text;
        self.ctx.helpers.iter().filter(|h| !h.method).find_map(|h| {
            let (_, call) = self.info.idents.iter().find(|(name, at)| {
                *name == h.name && self.info.range.start <= *at && *at < invoke
            })?;
            let body = text.range(h.block.span());
            let put = text.original[body.clone()].find("put_object")? + body.start;
            Some(format!(
                "`{}` (called on line {}) uploads with `put_object` on line {}, probably this object: \
                 its bytes are made there, and bodyline does not move a payload out of a helper; \
                 return the bytes and send them inline by hand",
                h.name,
                text.line_col(*call).0,
                text.line_col(put).0
            ))
        })
    }
}

impl<'a> CallSite<'_, 'a, '_> {
    /// The upload request is bound (`let put = s3.put_object()..;`) and sent later.
    pub(super) fn stored_put_reason(&self, upload: &Chain<'a>) -> Option<String> {
        let (b, s) = self.info.stmt_containing(&upload.range)?;
        let (Stmt::Local(local), range) = &self.info.blocks[b].stmts[s] else {
            return None;
        };
        let init = &local.init.as_ref()?.expr;
        if self.range(&**init) != upload.range {
            return None;
        }
        let mut names = Vec::new();
        crate::analyze::collect::pat_idents(&local.pat, &mut names);
        let [name] = names.as_slice() else {
            return None;
        };
        let (line, _) = self.ctx.text.line_col(range.start);
        Some(format!(
            "the put_object request is stored in `{name}` on line {line} and sent later: \
             bodyline follows a stored invoke builder, not a stored upload builder; rewrite it by hand"
        ))
    }
}

/// `for`, `while` or `loop` when the statement is one.
fn loop_keyword(stmt: &Stmt) -> Option<&'static str> {
    let e = match stmt {
        Stmt::Expr(e, _) => e,
        Stmt::Local(l) => &l.init.as_ref()?.expr,
        _ => return None,
    };
    match e {
        Expr::ForLoop(_) => Some("for"),
        Expr::While(_) => Some("while"),
        Expr::Loop(_) => Some("loop"),
        _ => None,
    }
}
