//! The size branch: small payloads inline, large ones keep the original upload path.

use std::ops::Range;

use proc_macro2::{TokenStream, TokenTree};
use syn::{Expr, Stmt};

use quote::quote;

use super::payload::Payload;
use super::request::CallSite;
use super::rewrite::SiteRewrite;
use super::upload::RewritePlan;
use crate::analyze::pretty;
use crate::edit::{apply_edits, Edit, EditSet};
use crate::verdict::{SkipReason, Verdict};

use bodyline_terms::MAX_INLINE_BODY_LITERAL as MAX_INLINE_LIT;

impl<'a> CallSite<'_, 'a, '_> {
    /// Wrap the statements from the upload to the invoke in `if <small> { inline } else { original }`.
    pub(super) fn branch(
        &self,
        plan: RewritePlan<'_, 'a>,
        mut notes: Vec<String>,
        builder: Option<&str>,
    ) -> SiteRewrite {
        // The small-payload arm drops the upload, so the same escape rules apply.
        self.removals(&plan, &mut Vec::new())?;
        let text = self.ctx.text;
        let nl = text.newline();
        let chain = self.chain();
        let block = &self.info.blocks[plan.put_stmt.block];
        let Some(inv_index) = block
            .stmts
            .iter()
            .position(|(_, r)| r.start <= chain.range.start && chain.range.end <= r.end)
        else {
            return Err(SkipReason::Unsupported(
                "cannot branch: the upload and the invoke are in different blocks".into(),
            ));
        };
        // A stored builder is sent later: the branch runs to its last use.
        let last_use = builder.and_then(|var| {
            self.info
                .uses(var, block.range.clone(), &[])
                .into_iter()
                .max()
        });
        let inv_index = match last_use.and_then(|at| {
            block
                .stmts
                .iter()
                .position(|(_, r)| r.start <= at && at < r.end)
        }) {
            Some(i) if i > inv_index => i,
            _ => inv_index,
        };
        if plan.put_stmt.index > inv_index {
            return Err(SkipReason::Unsupported(
                "cannot branch: the upload comes after the invoke".into(),
            ));
        }
        let region_stmts = &block.stmts[plan.put_stmt.index..=inv_index];
        let (inv_stmt, inv_range) = &block.stmts[inv_index];
        let first = region_stmts[0].1.start;
        let region = text.expand_to_lines(first..inv_range.end);
        if region == (first..inv_range.end)
            && !text.original[text.line_range(first).start..first]
                .trim()
                .is_empty()
        {
            return Err(SkipReason::Unsupported(
                "cannot branch: statements share a line".into(),
            ));
        }
        if text.expand_to_lines(inv_range.clone()).end != region.end
            || text.expand_to_lines(region_stmts[0].1.clone()).start != region.start
        {
            return Err(SkipReason::Unsupported(
                "cannot branch: statements share a line".into(),
            ));
        }
        // Bindings made in the region (other than the invoke's own) must not be needed after it.
        for (li, l) in self.info.lets.iter().enumerate() {
            let inside = l.stmt_range.start >= region.start && l.stmt_range.end <= region.end;
            if !inside || l.stmt_range == *inv_range {
                continue;
            }
            let after = self.info.uses(&l.name, region.end..l.scope.end, &[]);
            if after
                .iter()
                .any(|at| self.info.find_let(&l.name, *at) == Some(li))
            {
                return Err(SkipReason::Unsupported(format!(
                    "cannot branch: `{}` is made between the upload and the invoke and used after \
                     (move it above the upload, or use `--strategy inline` if the payloads stay \
                     under {MAX_INLINE_LIT} bytes)",
                    l.name
                )));
            }
        }
        let (prefix_range, suffix_range) = match inv_stmt {
            Stmt::Local(l) => {
                let Some(init) = &l.init else {
                    return Err(SkipReason::Unsupported(
                        "cannot branch: `let` without value".into(),
                    ));
                };
                if init.diverge.is_some() {
                    return Err(SkipReason::Unsupported(
                        "cannot branch a `let ... else`".into(),
                    ));
                }
                let e = self.range(&init.expr);
                (inv_range.start..e.start, e.end..inv_range.end)
            }
            Stmt::Expr(..) => (
                inv_range.start..inv_range.start,
                inv_range.end..inv_range.end,
            ),
            _ => {
                return Err(SkipReason::Unsupported(
                    "cannot branch: unusual invoke statement".into(),
                ))
            }
        };
        if multiline_literal(text.original, region.clone()) {
            return Err(SkipReason::Unsupported(
                "cannot branch: a multi-line string literal would change".into(),
            ));
        }
        let unit = if text.indent_at(inv_range.start).contains('\t') {
            "\t"
        } else {
            "    "
        };
        // The condition and the payload name; complex payloads are bound once before the branch.
        let (payload_expr, is_path) = match plan.payload {
            Payload::Bytes(e) => (e, false),
            Payload::Path(e) => (e, true),
        };
        let p_range = self.range(payload_expr);
        let simple = matches!(strip_ref(payload_expr), Expr::Path(_) | Expr::Field(_));
        let (hoist, p_name) = if simple {
            (
                None,
                self.src(self.range(strip_ref(payload_expr))).to_owned(),
            )
        } else {
            let name = if self.info.idents.iter().any(|(n, _)| n == "payload") {
                "bodyline_payload"
            } else {
                "payload"
            };
            let ident = pretty::placeholder(name);
            let value = pretty::placeholder(pretty::PAYLOAD);
            let lines = pretty::stmts(quote!(let #ident = #value;), "payload binding")?;
            let hoisted = pretty::fill(
                &pretty::indent(&lines, text.indent_at(first), unit, nl),
                &[(pretty::PAYLOAD, self.src(p_range.clone()))],
            );
            (Some(format!("{hoisted}{nl}")), name.to_owned())
        };
        let p: Expr = syn::parse_str(&p_name).map_err(|_| {
            SkipReason::Unsupported(format!("cannot branch: `{p_name}` does not reparse"))
        })?;
        let limit = syn::LitInt::new(MAX_INLINE_LIT, proc_macro2::Span::call_site());
        let then_ph = pretty::placeholder(pretty::THEN);
        let else_ph = pretty::placeholder(pretty::ELSE);
        let (skeleton, inline_value) = if is_path {
            (
                quote! {
                    if let Some(inline_body) = std::fs::metadata(&#p)
                        .ok()
                        .filter(|m| m.len() <= #limit)
                        .and_then(|_| std::fs::read(&#p).ok())
                    {
                        #then_ph();
                    } else {
                        #else_ph();
                    }
                },
                "inline_body".to_owned(),
            )
        } else {
            (
                quote! {
                    if #p.len() <= #limit {
                        #then_ph();
                    } else {
                        #else_ph();
                    }
                },
                self.src(self.range(payload_expr)).to_owned(),
            )
        };
        let inline_value = if hoist.is_some() {
            p_name.clone()
        } else {
            inline_value
        };
        let (blob, import) = self.blob()?;
        // Then: the region without the upload, input_location → body.
        let mut then_edits = vec![
            Edit::delete(text.expand_to_lines(plan.put_stmt.range.clone())),
            self.body_call(&plan, &blob, &inline_value)?,
            Edit::delete(prefix_range.clone()),
            Edit::delete(suffix_range.clone()),
        ];
        let mut else_edits = vec![
            Edit::delete(prefix_range.clone()),
            Edit::delete(suffix_range.clone()),
        ];
        if hoist.is_some() {
            else_edits.push(Edit::replace(p_range.clone(), p_name.clone()));
        }
        then_edits.retain(|e| !(e.range.is_empty() && e.text.is_empty()));
        else_edits.retain(|e| !(e.range.is_empty() && e.text.is_empty()));
        let then_text = local_apply(text.original, region.clone(), then_edits)?;
        let else_text = local_apply(text.original, region.clone(), else_edits)?;
        let indent = text.indent_at(inv_range.start);
        let prefix = self.src(prefix_range);
        let suffix = self.src(suffix_range);
        let mut out = String::new();
        if let Some(h) = hoist {
            out.push_str(&h);
        }
        // The printed `if` around the two arms, which keep the user's text, one level deeper.
        let lines = pretty::stmts(skeleton, "size branch")?;
        let last = lines.len() - 1;
        let then_line = format!("{}();", pretty::THEN);
        let else_line = format!("{}();", pretty::ELSE);
        for (i, line) in lines.iter().enumerate() {
            match line.trim() {
                l if l == then_line => out.push_str(&reindent(&then_text, unit)),
                l if l == else_line => out.push_str(&reindent(&else_text, unit)),
                _ => {
                    let printed = pretty::indent(std::slice::from_ref(line), indent, unit, nl);
                    let printed = if i == 0 {
                        format!("{indent}{prefix}{}", &printed[indent.len()..])
                    } else {
                        printed
                    };
                    out.push_str(&printed);
                    if i == last {
                        out.push_str(suffix);
                    }
                    out.push_str(nl);
                }
            }
        }
        if !region_ends_with_newline(text.original, &region) {
            out.truncate(out.len() - nl.len());
        }
        let mut edits = vec![Edit::replace(region, out)];
        edits.extend(import);
        notes.push(format!(
            "payloads over {MAX_INLINE_LIT} bytes keep the S3 upload; small ones go inline"
        ));
        Ok((Verdict::Branched, edits, notes))
    }
}

fn region_ends_with_newline(src: &str, region: &Range<usize>) -> bool {
    src[region.clone()].ends_with('\n')
}

fn local_apply(src: &str, region: Range<usize>, edits: Vec<Edit>) -> Result<String, SkipReason> {
    let sub = &src[region.clone()];
    let mut set = EditSet::new(sub);
    let shifted: Vec<Edit> = edits
        .into_iter()
        .map(|e| {
            Edit::replace(
                e.range.start - region.start..e.range.end - region.start,
                e.text,
            )
        })
        .collect();
    set.transaction(shifted)
        .map_err(|e| SkipReason::Unsupported(format!("cannot branch: {e}")))?;
    Ok(apply_edits(sub, set.edits()))
}

fn reindent(s: &str, unit: &str) -> String {
    let mut out = String::with_capacity(s.len() + 64);
    for line in s.split_inclusive('\n') {
        if !line.trim().is_empty() {
            out.push_str(unit);
        }
        out.push_str(line);
    }
    out
}

/// True when a string literal in `region` spans lines (re-indenting would change its value).
fn multiline_literal(src: &str, region: Range<usize>) -> bool {
    let sub = &src[region];
    let Ok(ts) = sub.parse::<TokenStream>() else {
        return true;
    };
    fn walk(ts: TokenStream) -> bool {
        ts.into_iter().any(|tt| match tt {
            TokenTree::Literal(l) => l.to_string().contains('\n'),
            TokenTree::Group(g) => walk(g.stream()),
            _ => false,
        })
    }
    walk(ts)
}

fn strip_ref(e: &Expr) -> &Expr {
    match e {
        Expr::Reference(r) => strip_ref(&r.expr),
        Expr::Paren(p) => strip_ref(&p.expr),
        _ => e,
    }
}
