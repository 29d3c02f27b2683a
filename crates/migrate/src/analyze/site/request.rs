//! Locating the request: the `invoke_endpoint_async()` chain, the calls made on it (also on a
//! stored builder), where its input location is set, the opt-out comment, and the statements
//! that can be deleted.

use std::ops::Range;

use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall, Stmt};

use super::syntax::{matches_or_if_let, peel, peel_parens, some_arg};
use crate::analyze::collect::{Chain, FnInfo};
use crate::analyze::file::FileCtx;
use crate::analyze::resolve::strip;
use crate::verdict::SkipReason;

/// A comment on the statement (or the lines above it) that keeps a site on S3.
const OPT_OUT: &str = "bodyline: keep-s3";

/// One `invoke_endpoint_async()` call site of a function body, with the facts of its file
/// and function.
pub(super) struct CallSite<'c, 'a, 't> {
    pub ctx: &'c FileCtx<'a, 't>,
    pub info: &'c FnInfo<'a>,
    /// The chain holding the `invoke_endpoint_async()` call, in `info.chains`.
    pub chain_index: usize,
    /// The position of the `invoke_endpoint_async()` link in that chain.
    pub invoke_link: usize,
}

/// Where the request's input location is set.
pub(super) struct InputLocation<'a> {
    pub call: &'a ExprMethodCall,
    pub value: &'a Expr,
    /// `set_input_location(Some(..))` rather than `input_location(..)`.
    pub setter: bool,
}

/// A statement that can be deleted: its range and whether it binds a name that stays used.
pub(super) struct StmtLoc {
    pub block: usize,
    pub index: usize,
    pub range: Range<usize>,
}

impl<'a> CallSite<'_, 'a, '_> {
    pub(super) fn chain(&self) -> &Chain<'a> {
        &self.info.chains[self.chain_index]
    }

    pub(super) fn src(&self, r: Range<usize>) -> &str {
        &self.ctx.text.original[r]
    }

    pub(super) fn range(&self, node: &impl Spanned) -> Range<usize> {
        self.ctx.text.range(node.span())
    }

    /// Links applied to the request: the rest of the chain, plus calls on a stored builder.
    pub(super) fn request_links(&self) -> (Vec<&'a ExprMethodCall>, Option<String>) {
        let chain = self.chain();
        let mut links: Vec<&'a ExprMethodCall> = chain.links[self.invoke_link + 1..].to_vec();
        let top = chain.top();
        let bound = self.info.lets.iter().find(|l| {
            l.init.is_some_and(
                |i| matches!(peel_parens(i), Expr::MethodCall(m) if std::ptr::eq(m, top)),
            )
        });
        let Some(l) = bound else { return (links, None) };
        for c in &self.info.chains {
            if c.root_ident().as_deref() == Some(l.name.as_str())
                && c.range.start >= l.stmt_range.end
                && l.scope.start <= c.range.start
                && c.range.end <= l.scope.end
            {
                links.extend(c.links.iter().copied());
            }
        }
        (links, Some(l.name.clone()))
    }

    /// A site inside the large-payload arm of a size branch bodyline wrote, or opted out.
    pub(super) fn refuse_branched_or_opted_out(&self) -> Result<(), SkipReason> {
        let chain = self.chain();
        if self
            .info
            .size_else
            .iter()
            .any(|r| r.contains(&chain.range.start))
        {
            return Err(SkipReason::AlreadyBranched);
        }
        if let Some((b, s)) = self.info.stmt_containing(&chain.range) {
            if self.opted_out(self.info.blocks[b].stmts[s].1.start) {
                return Err(SkipReason::OptOut);
            }
        }
        Ok(())
    }

    /// The one call that sets the input location among `links`, when the request can be
    /// rewritten as far as its own calls tell (custom attributes are a literal).
    pub(super) fn input_location(
        &self,
        links: &[&'a ExprMethodCall],
    ) -> Result<InputLocation<'a>, SkipReason> {
        let mut locations = links.iter().filter_map(|m| {
            if m.args.len() != 1 {
                return None;
            }
            let setter = match m.method.to_string().as_str() {
                "input_location" => false,
                "set_input_location" => true,
                _ => return None,
            };
            Some(InputLocation {
                call: m,
                value: &m.args[0],
                setter,
            })
        });
        let has = |n: &[&str]| links.iter().any(|m| n.iter().any(|x| m.method == x));
        let Some(location) = locations.next() else {
            return Err(if has(&["body", "set_body"]) {
                SkipReason::AlreadyInline
            } else {
                SkipReason::NoInputLocation
            });
        };
        if locations.next().is_some() {
            return Err(SkipReason::Unsupported(
                "input_location is set more than once on this request".into(),
            ));
        }
        if let Some(attrs) = links
            .iter()
            .find(|m| m.method == "custom_attributes" || m.method == "set_custom_attributes")
        {
            let literal = attrs
                .args
                .first()
                .is_some_and(|a| matches!(strip(a), Expr::Lit(_)));
            if !literal {
                return Err(SkipReason::CustomAttributes);
            }
        }
        Ok(location)
    }

    pub(super) fn opted_out(&self, stmt_start: usize) -> bool {
        let text = self.ctx.text;
        let line = text.line_range(stmt_start);
        if text.original[line.clone()].contains(OPT_OUT) {
            return true;
        }
        // Contiguous comment lines directly above.
        let mut at = line.start;
        while at > 0 {
            let prev = text.line_range(at - 1);
            let l = text.original[prev.clone()].trim();
            if !(l.starts_with("//") || l.starts_with("#[")) {
                return false;
            }
            if l.contains(OPT_OUT) {
                return true;
            }
            at = prev.start;
        }
        false
    }

    /// The statement holding this chain, if deleting it drops nothing else.
    pub(super) fn deletable_stmt(&self, chain: &Chain<'a>) -> Option<StmtLoc> {
        let (b, s) = self.info.stmt_containing(&chain.range)?;
        let (stmt, range) = &self.info.blocks[b].stmts[s];
        let top = chain.top();
        let is_it = |e: &Expr| matches!(peel(e), Expr::MethodCall(m) if std::ptr::eq(m, top));
        let ok = match stmt {
            Stmt::Expr(e, Some(_)) => is_it(e) || matches_or_if_let(e, &is_it),
            Stmt::Expr(e, None) => {
                // Not the block's value: a `match`/`if let` statement before other statements.
                s + 1 < self.info.blocks[b].stmts.len() && matches_or_if_let(e, &is_it)
            }
            Stmt::Local(l) => {
                let init_ok = l
                    .init
                    .as_ref()
                    .is_some_and(|i| i.diverge.is_none() && is_it(&i.expr));
                let mut names = Vec::new();
                crate::analyze::collect::pat_idents(&l.pat, &mut names);
                let unused = names.iter().all(|n| {
                    n.starts_with('_')
                        || self
                            .info
                            .uses(n, range.end..self.info.range.end, &[])
                            .is_empty()
                });
                init_ok && unused
            }
            _ => false,
        };
        ok.then(|| StmtLoc {
            block: b,
            index: s,
            range: range.clone(),
        })
    }
}

impl<'a> InputLocation<'a> {
    /// The URI expression: the argument, or the `x` of `set_input_location(Some(x))`.
    pub(super) fn uri(&self) -> Result<&'a Expr, SkipReason> {
        if !self.setter {
            return Ok(self.value);
        }
        some_arg(self.value).ok_or_else(|| {
            SkipReason::Unsupported(
                "set_input_location takes a computed Option; only Some(uri) is followed".into(),
            )
        })
    }
}
