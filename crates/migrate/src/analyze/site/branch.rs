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

/// The statements the branch wraps: from the upload to the invoke (or to the last use of a
/// stored builder), whole lines, with the parts of the invoke statement that stay outside the
/// `if` (`let x = ` before it, `;` after it).
struct BranchRegion {
    /// The region, whole lines.
    region: Range<usize>,
    /// Where its first statement starts.
    first: usize,
    /// The invoke's statement.
    invoke_stmt: Range<usize>,
    /// What stays before the `if` (`let out = `), empty for an expression statement.
    prefix: Range<usize>,
    /// What stays after it (`;`), empty for an expression statement.
    suffix: Range<usize>,
}

/// The branch's condition on the payload: the printed `if` with placeholders for its arms, the
/// payload's text in the small arm, and the binding of a complex payload hoisted above the `if`.
struct SizeCondition {
    /// `if <small> { THEN(); } else { ELSE(); }` as tokens.
    skeleton: proc_macro2::TokenStream,
    /// What the small arm sends inline.
    inline_value: String,
    /// `let payload = <expr>;` printed before the `if`, when the payload is not a plain name.
    hoist: Option<String>,
    /// The payload's name in the condition (the hoisted binding, or the expression itself).
    name: String,
    /// The payload expression's range in the original text.
    range: Range<usize>,
}

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
        let area = self.branch_region(&plan, builder)?;
        let unit = if text.indent_at(area.invoke_stmt.start).contains('\t') {
            "\t"
        } else {
            "    "
        };
        let condition = self.size_condition(&plan, &area, unit)?;
        let (blob, import) = self.blob()?;
        // Then: the region without the upload, input_location → body.
        let mut then_edits = vec![
            Edit::delete(text.expand_to_lines(plan.put_stmt.range.clone())),
            self.body_call(&plan, &blob, &condition.inline_value)?,
            Edit::delete(area.prefix.clone()),
            Edit::delete(area.suffix.clone()),
        ];
        let mut else_edits = vec![
            Edit::delete(area.prefix.clone()),
            Edit::delete(area.suffix.clone()),
        ];
        if condition.hoist.is_some() {
            else_edits.push(Edit::replace(
                condition.range.clone(),
                condition.name.clone(),
            ));
        }
        then_edits.retain(|e| !(e.range.is_empty() && e.text.is_empty()));
        else_edits.retain(|e| !(e.range.is_empty() && e.text.is_empty()));
        let then_text = local_apply(text.original, area.region.clone(), then_edits)?;
        let else_text = local_apply(text.original, area.region.clone(), else_edits)?;
        let out = self.print_branch(&area, condition, unit, &then_text, &else_text)?;
        let mut edits = vec![Edit::replace(area.region, out)];
        edits.extend(import);
        notes.push(format!(
            "payloads over {MAX_INLINE_LIT} bytes keep the S3 upload; small ones go inline"
        ));
        Ok((Verdict::Branched, edits, notes))
    }

    /// The statements to wrap, refused when the upload and the invoke are not statements of
    /// one block in that order on their own lines, when a binding made between them is used
    /// after, or when re-indenting would change a multi-line string literal.
    fn branch_region(
        &self,
        plan: &RewritePlan<'_, 'a>,
        builder: Option<&str>,
    ) -> Result<BranchRegion, SkipReason> {
        let text = self.ctx.text;
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
        self.refuse_bindings_used_after(&region, inv_range)?;
        let (prefix, suffix) = match inv_stmt {
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
        Ok(BranchRegion {
            region,
            first,
            invoke_stmt: inv_range.clone(),
            prefix,
            suffix,
        })
    }

    /// Bindings made in the region (other than the invoke's own) must not be needed after it.
    fn refuse_bindings_used_after(
        &self,
        region: &Range<usize>,
        invoke_stmt: &Range<usize>,
    ) -> Result<(), SkipReason> {
        for (li, l) in self.info.lets.iter().enumerate() {
            let inside = l.stmt_range.start >= region.start && l.stmt_range.end <= region.end;
            if !inside || l.stmt_range == *invoke_stmt {
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
        Ok(())
    }

    /// The condition on the payload's size (a file's: its metadata), and the payload bound
    /// once before the branch when it is not a plain name or field.
    fn size_condition(
        &self,
        plan: &RewritePlan<'_, 'a>,
        area: &BranchRegion,
        unit: &str,
    ) -> Result<SizeCondition, SkipReason> {
        let text = self.ctx.text;
        let nl = text.newline();
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
                &pretty::indent(&lines, text.indent_at(area.first), unit, nl),
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
        Ok(SizeCondition {
            skeleton,
            inline_value,
            hoist,
            name: p_name,
            range: p_range,
        })
    }

    /// The region's new text: the hoisted payload, then the printed `if` around the two arms,
    /// which keep the user's text, one level deeper.
    fn print_branch(
        &self,
        area: &BranchRegion,
        condition: SizeCondition,
        unit: &str,
        then_text: &str,
        else_text: &str,
    ) -> Result<String, SkipReason> {
        let text = self.ctx.text;
        let nl = text.newline();
        let indent = text.indent_at(area.invoke_stmt.start);
        let prefix = self.src(area.prefix.clone());
        let suffix = self.src(area.suffix.clone());
        let mut out = String::new();
        if let Some(h) = condition.hoist {
            out.push_str(&h);
        }
        let lines = pretty::stmts(condition.skeleton, "size branch")?;
        let last = lines.len() - 1;
        let then_line = format!("{}();", pretty::THEN);
        let else_line = format!("{}();", pretty::ELSE);
        for (i, line) in lines.iter().enumerate() {
            match line.trim() {
                l if l == then_line => out.push_str(&reindent(then_text, unit)),
                l if l == else_line => out.push_str(&reindent(else_text, unit)),
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
        if !region_ends_with_newline(text.original, &area.region) {
            out.truncate(out.len() - nl.len());
        }
        Ok(out)
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
