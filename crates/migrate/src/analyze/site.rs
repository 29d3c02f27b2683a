//! Per call site: find the request, its input location, the matching upload, and build the edits.

use std::ops::Range;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::{Expr, ExprMethodCall, Lit, Stmt};

use super::collect::{path_ident, Chain, FnInfo};
use super::crate_scope::{HelperUpload, Resolution};
use super::file::{fn_params, FileCtx, ModuleInfo};
use super::method::MethodTarget;
use super::resolve::{strip, Resolved, Resolver};
use crate::edit::{Edit, EditSet};
use crate::options::Strategy;
use crate::verdict::{Site, SkipReason, Verdict};

mod branch;
mod staging;

use super::pretty;

/// The inline `Body` size limit of `InvokeEndpointAsync`, in bytes.
pub(crate) const MAX_INLINE: u64 = bodyline_terms::MAX_INLINE_BODY_BYTES as u64;

const OPT_OUT: &str = "bodyline: keep-s3";

type Outcome = Result<(Verdict, Vec<Edit>, Vec<String>), SkipReason>;

/// Analyse every `invoke_endpoint_async()` site of one function body.
pub(crate) fn analyze_fn(
    ctx: &FileCtx<'_, '_>,
    info: &FnInfo<'_>,
    edits: &mut EditSet,
    sites: &mut Vec<Site>,
    hints: &mut Vec<String>,
) {
    let mut used_puts: Vec<Range<usize>> = Vec::new();
    for (ci, chain) in info.chains.iter().enumerate() {
        let Some(k) = chain.position("invoke_endpoint_async") else {
            continue;
        };
        let name_range = ctx.text.range(chain.links[k].method.span());
        let (line, column) = ctx.text.line_col(name_range.start);
        let s = SiteCx {
            ctx,
            info,
            chain_index: ci,
            k,
        };
        let (verdict, mut notes) = match s.run(&mut used_puts) {
            Ok((verdict, site_edits, notes)) => match edits.transaction(site_edits) {
                Ok(()) => (verdict, notes),
                Err(e) => (
                    Verdict::Skipped {
                        reason: SkipReason::Unsupported(format!(
                            "the rewrite conflicts with another one in this file ({e})"
                        )),
                    },
                    notes,
                ),
            },
            Err(reason) => (Verdict::Skipped { reason }, Vec::new()),
        };
        if matches!(verdict, Verdict::Rewritten | Verdict::Branched) {
            hints.extend(
                notes
                    .iter()
                    .filter(|n| n.starts_with("hint: "))
                    .map(|n| n["hint: ".len()..].to_owned()),
            );
        }
        notes.retain(|n| !n.starts_with("hint: "));
        if matches!(verdict, Verdict::Rewritten | Verdict::Branched) {
            notes.extend(cfg_note(ctx, name_range.start));
        }
        sites.push(Site {
            line,
            column,
            range: name_range,
            verdict,
            notes,
        });
    }
}

/// The note for an edit inside inline modules under `#[cfg]` in this file.
fn cfg_note(ctx: &FileCtx<'_, '_>, at: usize) -> Option<String> {
    let mut enclosing: Vec<&ModuleInfo> = ctx
        .modules
        .iter()
        .filter(|m| m.name.is_some() && m.range.contains(&at))
        .collect();
    enclosing.sort_by_key(|m| m.range.start);
    let cfg: Vec<&str> = enclosing
        .iter()
        .flat_map(|m| m.cfg.iter().map(String::as_str))
        .collect();
    let path: Vec<&str> = enclosing.iter().filter_map(|m| m.name.as_deref()).collect();
    (!cfg.is_empty()).then(|| cfg_note_text(&path.join("::"), &cfg))
}

/// "edited under `#[cfg(..)]` (module `m`): ...", for a site in a module compiled only in
/// some configurations.
pub(crate) fn cfg_note_text(module: &str, cfg: &[&str]) -> String {
    format!(
        "edited under `{}` (module `{module}`): build that configuration to check it",
        cfg.join(" ")
    )
}

struct SiteCx<'c, 'a, 't> {
    ctx: &'c FileCtx<'a, 't>,
    info: &'c FnInfo<'a>,
    chain_index: usize,
    k: usize,
}

/// Where the request's input location is set.
struct LocLink<'a> {
    call: &'a ExprMethodCall,
    value: &'a Expr,
    setter: bool,
}

enum Payload<'a> {
    Bytes(&'a Expr),
    Path(&'a Expr),
}

/// A statement that can be deleted: its range and whether it binds a name that stays used.
struct StmtLoc {
    block: usize,
    index: usize,
    range: Range<usize>,
}

impl<'a> SiteCx<'_, 'a, '_> {
    fn chain(&self) -> &Chain<'a> {
        &self.info.chains[self.chain_index]
    }

    fn src(&self, r: Range<usize>) -> &str {
        &self.ctx.text.original[r]
    }

    fn range(&self, node: &impl Spanned) -> Range<usize> {
        self.ctx.text.range(node.span())
    }

    /// Links applied to the request: the rest of the chain, plus calls on a stored builder.
    fn site_links(&self) -> (Vec<&'a ExprMethodCall>, Option<String>) {
        let chain = self.chain();
        let mut links: Vec<&'a ExprMethodCall> = chain.links[self.k + 1..].to_vec();
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

    fn run(&self, used_puts: &mut Vec<Range<usize>>) -> Outcome {
        let chain = self.chain();
        let (links, builder_var) = self.site_links();
        if self
            .info
            .size_else
            .iter()
            .any(|r| r.contains(&chain.range.start))
        {
            return Err(SkipReason::AlreadyBranched);
        }
        let site_stmt = self.info.stmt_containing(&chain.range);
        if let Some((b, s)) = site_stmt {
            if self.opted_out(self.info.blocks[b].stmts[s].1.start) {
                return Err(SkipReason::OptOut);
            }
        }
        let locs: Vec<LocLink<'a>> = links
            .iter()
            .filter_map(|m| {
                let name = m.method.to_string();
                if m.args.len() != 1 {
                    return None;
                }
                match name.as_str() {
                    "input_location" => Some(LocLink {
                        call: m,
                        value: &m.args[0],
                        setter: false,
                    }),
                    "set_input_location" => Some(LocLink {
                        call: m,
                        value: &m.args[0],
                        setter: true,
                    }),
                    _ => None,
                }
            })
            .collect();
        let has = |n: &[&str]| links.iter().any(|m| n.iter().any(|x| m.method == x));
        if locs.is_empty() {
            return Err(if has(&["body", "set_body"]) {
                SkipReason::AlreadyInline
            } else {
                SkipReason::NoInputLocation
            });
        }
        if locs.len() > 1 {
            return Err(SkipReason::Unsupported(
                "input_location is set more than once on this request".into(),
            ));
        }
        let loc = &locs[0];
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
        let value =
            if loc.setter {
                match some_arg(loc.value) {
                    Some(v) => v,
                    None => return Err(SkipReason::Unsupported(
                        "set_input_location takes a computed Option; only Some(uri) is followed"
                            .into(),
                    )),
                }
            } else {
                loc.value
            };
        let at = self.range(loc.call).start;
        let resolver = Resolver {
            ctx: self.ctx,
            info: self.info,
        };
        if let Some(helper) = self.helper_call(value, at) {
            return self.helper_site(helper, loc, value, builder_var);
        }
        let uri = resolver.resolve(value, at);
        let Some(path) = uri.s3_path() else {
            return Err(self.unresolved(value, &uri));
        };
        // Every put_object in the function whose bucket/key spell the same path.
        let mut before = None;
        let mut after = None;
        let mut mismatch = None;
        for c in &self.info.chains {
            let Some(p) = c.position("put_object") else {
                continue;
            };
            let put_links = &c.links[p + 1..];
            let Some(put_path) = object_path(&resolver, put_links, c.range.start) else {
                continue;
            };
            if put_path != path {
                mismatch = mismatch.or_else(|| {
                    let why = super::value::key_mismatch(&path, &put_path)?;
                    if let Some((keyword, at)) = self.loop_around(&c.range) {
                        return Some(self.loop_reason(c, keyword, at));
                    }
                    let line = self.ctx.text.line_col(c.range.start).0;
                    Some(format!("the upload on line {line} {why}"))
                });
                continue;
            }
            if c.range.end <= chain.range.start {
                before = Some((c, p));
            } else if after.is_none() {
                after = Some(c);
            }
        }
        let Some((put, p)) = before else {
            if let Some(c) = after {
                let (l, _) = self.ctx.text.line_col(c.range.start);
                return Err(SkipReason::InvokeBeforeUpload(format!(
                    "the upload is on line {l}"
                )));
            }
            if let Some(why) = self.multipart_reason(&resolver, &path) {
                return Err(SkipReason::Unsupported(why));
            }
            if let Some(why) = mismatch {
                return Err(SkipReason::UriMismatch(why));
            }
            if let Some(param) = uri.params.first() {
                return Err(SkipReason::UriParameter(format!(
                    "built from parameter `{param}`"
                )));
            }
            if let Some(why) = self.helper_upload_reason() {
                return Err(SkipReason::Unsupported(why));
            }
            return Err(SkipReason::NoUpload(format!(
                "`{}`",
                one_line(self.src(self.range(value)))
            )));
        };
        let put_links: Vec<&'a ExprMethodCall> = put.links[p + 1..].to_vec();
        if let Some((keyword, at)) = self.loop_around(&put.range) {
            return Err(SkipReason::Unsupported(self.loop_reason(put, keyword, at)));
        }
        let Some(put_stmt) = self.deletable_stmt(put) else {
            if let Some(why) = self.stored_put_reason(put) {
                return Err(SkipReason::Unsupported(why));
            }
            return Err(SkipReason::Unsupported(
                "the put_object statement is not a plain `...send().await` statement".into(),
            ));
        };
        if self.opted_out(put_stmt.range.start) {
            return Err(SkipReason::OptOut);
        }
        if !self.info.blocks[put_stmt.block]
            .range
            .contains(&chain.range.start)
        {
            return Err(SkipReason::Unsupported(
                "the upload is in a block that does not enclose the invoke".into(),
            ));
        }
        if used_puts.contains(&put.range) {
            return Err(SkipReason::Unsupported(
                "the same upload feeds several invokes".into(),
            ));
        }
        let Some(body_arg) = put_links
            .iter()
            .find_map(|m| match m.method.to_string().as_str() {
                "body" if m.args.len() == 1 => Some(&m.args[0]),
                "set_body" if m.args.len() == 1 => some_arg(&m.args[0]),
                _ => None,
            })
        else {
            return Err(SkipReason::Unsupported(
                "the put_object sets no body".into(),
            ));
        };
        let Some((payload, _)) = self.payload(body_arg, put.range.start) else {
            return Err(SkipReason::Unsupported(format!(
                "payload `{}` is not a recognised ByteStream source",
                one_line(self.src(self.range(body_arg)))
            )));
        };
        let mut notes = Vec::new();
        let dropped: Vec<String> = put_links
            .iter()
            .map(|m| m.method.to_string())
            .filter(|n| {
                !matches!(
                    n.as_str(),
                    "bucket"
                        | "set_bucket"
                        | "key"
                        | "set_key"
                        | "body"
                        | "set_body"
                        | "content_type"
                        | "set_content_type"
                        | "send"
                        | "customize"
                        | "content_length"
                        | "set_content_length"
                )
            })
            .collect();
        if !dropped.is_empty() {
            notes.push(format!(
                "upload-only settings go away with the upload: {}",
                dropped.join(", ")
            ));
        }
        let content_type_range = if has(&["content_type", "set_content_type"]) {
            None
        } else {
            put_links
                .iter()
                .find_map(|m| match m.method.to_string().as_str() {
                    "content_type" if m.args.len() == 1 => Some(self.range(&m.args[0])),
                    "set_content_type" if m.args.len() == 1 => {
                        some_arg(&m.args[0]).map(|a| self.range(a))
                    }
                    _ => None,
                })
        };
        let content_type = content_type_range.clone().map(|r| self.src(r).to_owned());
        used_puts.push(put.range.clone());
        let plan = Plan {
            loc,
            value,
            put: Some(put),
            put_links: &put_links,
            put_stmt,
            payload,
            content_type,
            content_type_range,
            uri_value: value,
        };
        self.finish(plan, notes, builder_var)
    }

    fn finish(&self, plan: Plan<'_, 'a>, notes: Vec<String>, stored: Option<String>) -> Outcome {
        let branch = match (&plan.payload, self.ctx.strategy) {
            (Payload::Path(_), _) => true,
            (_, Strategy::Branch) => true,
            (_, Strategy::Inline) => false,
            (Payload::Bytes(e), Strategy::Auto) => {
                !self.provably_small(e, plan.put_stmt.range.start, 0)
            }
        };
        if branch {
            self.branch(plan, notes, stored.as_deref())
        } else {
            self.inline(plan, notes)
        }
    }

    fn opted_out(&self, stmt_start: usize) -> bool {
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

    fn unresolved(&self, value: &Expr, uri: &Resolved) -> SkipReason {
        let v = strip(value);
        if let Some(name) = path_ident(v) {
            if self.info.params.contains(&name)
                && self.info.find_let(&name, self.range(value).start).is_none()
            {
                return SkipReason::UriParameter(format!("`{name}`"));
            }
        }
        // An upload is right here: say why the URI cannot be matched to it.
        let resolver = Resolver {
            ctx: self.ctx,
            info: self.info,
        };
        let upload = self.info.chains.iter().find_map(|c| {
            let p = c.position("put_object")?;
            let path = object_path(&resolver, &c.links[p + 1..], c.range.start)?;
            Some((self.ctx.text.line_col(c.range.start).0, path))
        });
        if let Some((line, path)) = upload {
            return SkipReason::UriMismatch(format!(
                "it is `{}`, which does not start with a literal `s3://bucket/`, so it cannot be matched to the upload on line {line} (`s3://{}`)",
                super::value::describe(&uri.parts),
                super::value::describe(&path)
            ));
        }
        if let Some(p) = uri.params.first() {
            return SkipReason::UriParameter(format!("built from parameter `{p}`"));
        }
        SkipReason::NoUpload(format!(
            "`{}` is not an s3:// URI built here",
            one_line(self.src(self.range(value)))
        ))
    }

    /// The statement holding this chain, if deleting it drops nothing else.
    fn deletable_stmt(&self, chain: &Chain<'a>) -> Option<StmtLoc> {
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
                super::collect::pat_idents(&l.pat, &mut names);
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

    fn payload(&self, e: &'a Expr, at: usize) -> Option<(Payload<'a>, Option<usize>)> {
        let e = peel_parens(e);
        match e {
            Expr::Call(c) if c.args.len() == 1 => {
                let f = c.func.to_token_stream().to_string().replace(' ', "");
                let last = f.rsplit("::").next().unwrap_or("");
                let ty = f.rsplit("::").nth(1).unwrap_or("");
                match (ty, last) {
                    ("ByteStream" | "SdkBody", "from") | ("", "from") => {
                        let inner = &c.args[0];
                        if let Expr::Call(ic) = peel_parens(inner) {
                            let g = ic.func.to_token_stream().to_string().replace(' ', "");
                            if g.ends_with("SdkBody::from") && ic.args.len() == 1 {
                                return Some((Payload::Bytes(&ic.args[0]), None));
                            }
                        }
                        Some((Payload::Bytes(inner), None))
                    }
                    ("ByteStream", "from_static") => Some((Payload::Bytes(&c.args[0]), None)),
                    ("ByteStream", "new") => match peel_parens(&c.args[0]) {
                        Expr::Call(ic)
                            if ic.args.len() == 1
                                && ic
                                    .func
                                    .to_token_stream()
                                    .to_string()
                                    .replace(' ', "")
                                    .ends_with("SdkBody::from") =>
                        {
                            Some((Payload::Bytes(&ic.args[0]), None))
                        }
                        _ => None,
                    },
                    _ => None,
                }
            }
            Expr::MethodCall(m) if m.method == "into" && m.args.is_empty() => {
                Some((Payload::Bytes(&m.receiver), None))
            }
            Expr::Try(_) | Expr::Await(_) => {
                let mut inner = e;
                while let Expr::Try(t) = inner {
                    inner = &t.expr;
                }
                if let Expr::Await(a) = inner {
                    inner = &a.base;
                }
                match inner {
                    Expr::Call(c)
                        if c.args.len() == 1
                            && c.func
                                .to_token_stream()
                                .to_string()
                                .replace(' ', "")
                                .ends_with("ByteStream::from_path") =>
                    {
                        Some((Payload::Path(&c.args[0]), None))
                    }
                    _ => None,
                }
            }
            Expr::Path(_) => {
                let name = path_ident(e)?;
                let li = self.info.find_let(&name, at)?;
                let init = self.info.lets[li].init?;
                let (p, _) = self.payload(init, self.info.lets[li].stmt_range.start)?;
                Some((p, Some(li)))
            }
            _ => None,
        }
    }

    fn provably_small(&self, e: &Expr, at: usize, depth: u32) -> bool {
        if depth > 4 {
            return false;
        }
        match peel_parens(e) {
            Expr::Reference(r) => self.provably_small(&r.expr, at, depth + 1),
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => s.value().len() as u64 <= MAX_INLINE,
                Lit::ByteStr(s) => s.value().len() as u64 <= MAX_INLINE,
                _ => false,
            },
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "to_vec"
                            | "into_bytes"
                            | "as_bytes"
                            | "to_string"
                            | "to_owned"
                            | "clone"
                            | "into"
                    ) =>
            {
                self.provably_small(&m.receiver, at, depth + 1)
            }
            Expr::Call(c) if c.args.len() == 1 => {
                let f = c.func.to_token_stream().to_string().replace(' ', "");
                matches!(
                    f.as_str(),
                    "Vec::from"
                        | "String::from"
                        | "Bytes::from"
                        | "Bytes::from_static"
                        | "bytes::Bytes::from_static"
                ) && self.provably_small(&c.args[0], at, depth + 1)
            }
            Expr::Macro(m) => {
                let name = m
                    .mac
                    .path
                    .segments
                    .last()
                    .map(|s| s.ident.to_string())
                    .unwrap_or_default();
                if name != "include_bytes" && name != "include_str" {
                    return false;
                }
                let Ok(lit) = syn::parse2::<syn::LitStr>(m.mac.tokens.clone()) else {
                    return false;
                };
                let Some(dir) = self.ctx.path.and_then(|p| p.parent()) else {
                    return false;
                };
                std::fs::metadata(dir.join(lit.value())).is_ok_and(|md| md.len() <= MAX_INLINE)
            }
            e @ Expr::Path(_) => {
                let Some(name) = path_ident(e) else {
                    return false;
                };
                if let Some(li) = self.info.find_let(&name, at) {
                    let l = &self.info.lets[li];
                    !l.mutable
                        && l.init
                            .is_some_and(|i| self.provably_small(i, l.stmt_range.start, depth + 1))
                } else {
                    self.ctx
                        .consts
                        .iter()
                        .any(|(n, v)| *n == name && v.len() as u64 <= MAX_INLINE)
                }
            }
            _ => false,
        }
    }

    /// How `Blob` is named at the site, and the `use` to add when no `Blob` is in scope.
    fn blob(&self) -> Result<(syn::Path, Option<Edit>), SkipReason> {
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
    fn body_call(
        &self,
        plan: &Plan<'_, 'a>,
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

    fn inline(&self, plan: Plan<'_, 'a>, mut notes: Vec<String>) -> Outcome {
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
    fn removals(
        &self,
        plan: &Plan<'_, 'a>,
        notes: &mut Vec<String>,
    ) -> Result<Vec<Range<usize>>, SkipReason> {
        let text = self.ctx.text;
        let mut removed = vec![plan.put_stmt.range.clone()];
        let mut deleted: Vec<Range<usize>> =
            vec![plan.put_stmt.range.clone(), self.range(plan.value)];
        let resolver = Resolver {
            ctx: self.ctx,
            info: self.info,
        };
        let path = plan
            .put
            .and_then(|put| object_path(&resolver, plan.put_links, put.range.start));
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
        for e in [Some(plan.uri_value), key_arg(plan.put_links)]
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
    fn dead_bindings(
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
    fn append_stmts(&self, li: usize) -> Vec<Range<usize>> {
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
    fn escape(&self, li: usize, deleted: &[Range<usize>], depth: u32) -> Option<usize> {
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
    fn in_log_macro(&self, at: usize) -> bool {
        let Some((b, s)) = self.info.stmt_containing(&(at..at)) else {
            return false;
        };
        matches!(
            self.info.blocks[b].stmts[s].0,
            Stmt::Macro(_) | Stmt::Expr(Expr::Macro(_), Some(_))
        )
    }

    /// `helper(args).await?` or `self.helper(args).await?` (directly or through a `let`) where
    /// `helper` is a function or method of this file, or a module-level function of another
    /// file of the crate (when the scan resolved the crate): its arguments, the caller's `let`
    /// index if bound, and what following it found.
    fn helper_call(&self, value: &'a Expr, at: usize) -> Option<HelperCall<'a>> {
        let mut e = strip(value);
        let mut bound = None;
        if let Some(name) = path_ident(e) {
            let li = self.info.find_let(&name, at)?;
            bound = Some(li);
            e = self.info.lets[li].init?;
        }
        let (segments, args): (Vec<String>, Vec<&'a Expr>) = match peel(e) {
            Expr::Call(call) => {
                let Expr::Path(f) = &*call.func else {
                    return None;
                };
                if f.qself.is_some() || f.path.leading_colon.is_some() {
                    return None;
                }
                let segments = f
                    .path
                    .segments
                    .iter()
                    .map(|s| s.ident.to_string())
                    .collect();
                (segments, call.args.iter().collect())
            }
            Expr::MethodCall(m) => {
                let call_at = self.range(m).start;
                let source = match super::method::resolve_method(self.ctx, self.info, m, call_at)? {
                    MethodTarget::Local { sig, block } => HelperSource::Local { sig, block },
                    MethodTarget::Crate(entry) => HelperSource::Crate {
                        upload: entry.summary.clone(),
                    },
                    MethodTarget::Ambiguous(candidates) => HelperSource::Ambiguous(candidates),
                    MethodTarget::Refused(why) => HelperSource::Refused(why),
                };
                return Some(HelperCall {
                    name: m.method.to_string(),
                    args: m.args.iter().collect(),
                    bound,
                    source,
                });
            }
            _ => return None,
        };
        let name = segments.last()?.clone();
        let local = (segments.len() == 1)
            .then(|| {
                self.ctx
                    .helpers
                    .iter()
                    .find(|h| h.name == name && !h.method && h.owner.is_none())
            })
            .flatten();
        let source = match local {
            Some(h) => HelperSource::Local {
                sig: h.sig,
                block: h.block,
            },
            None => {
                let Some(scope) = self.ctx.scope else {
                    // Maybe defined in another file of the crate: the scan looks there.
                    self.ctx.wanted.borrow_mut().push(name);
                    return None;
                };
                let site = self.chain().range.start;
                let mut inline: Vec<&ModuleInfo> = self
                    .ctx
                    .modules
                    .iter()
                    .filter(|m| m.name.is_some() && m.range.contains(&site))
                    .collect();
                inline.sort_by_key(|m| m.range.start);
                let inline: Vec<String> = inline.iter().filter_map(|m| m.name.clone()).collect();
                match scope.resolve(&inline, &segments) {
                    Resolution::NotInCrate => return None,
                    Resolution::Ambiguous(candidates) => HelperSource::Ambiguous(candidates),
                    Resolution::Found(entry) => HelperSource::Crate {
                        upload: entry.summary.clone(),
                    },
                }
            }
        };
        Some(HelperCall {
            name,
            args,
            bound,
            source,
        })
    }

    /// Shape 2: the URI comes from a helper that uploads its parameter and returns the URI.
    fn helper_site(
        &self,
        HelperCall {
            name,
            args,
            bound,
            source,
        }: HelperCall<'a>,
        loc: &LocLink<'a>,
        value: &'a Expr,
        stored: Option<String>,
    ) -> Outcome {
        let unsupported = |why: &str| {
            Err(SkipReason::Unsupported(format!(
                "the URI comes from helper `{name}`, but {why}"
            )))
        };
        // A helper left without a caller is removed (or reported) by `dead`.
        let upload = match source {
            HelperSource::Refused(why) => return unsupported(&why),
            HelperSource::Ambiguous(candidates) => {
                return unsupported(&format!(
                    "that name may mean several functions of this crate ({}); bodyline cannot prove which one runs",
                    candidates.join(", ")
                ))
            }
            HelperSource::Local { sig, block } => summarize_helper(self.ctx, sig, block),
            HelperSource::Crate { upload } => upload,
        };
        let upload = match upload {
            Ok(u) => u,
            Err(why) => return unsupported(&why),
        };
        let Some(li) = bound else {
            return unsupported(
                "it is called inside input_location; bind its result with `let` first",
            );
        };
        let Some(arg) = args.get(upload.payload_param).copied() else {
            return unsupported("the call has too few arguments");
        };
        let links = self.site_links().0;
        let content_type = if links
            .iter()
            .any(|m| m.method == "content_type" || m.method == "set_content_type")
        {
            None
        } else {
            upload.content_type
        };
        let let_range = self.info.lets[li].stmt_range.clone();
        let Some((b, s)) = self.info.stmt_containing(&let_range) else {
            return unsupported("its call is not a statement");
        };
        let put_stmt = StmtLoc {
            block: b,
            index: s,
            range: let_range,
        };
        let mut notes = Vec::new();
        let plan = Plan {
            loc,
            value,
            put: None,
            put_links: &[],
            put_stmt,
            payload: Payload::Bytes(arg),
            content_type,
            content_type_range: None,
            uri_value: value,
        };
        notes.push(format!("followed helper `{name}`"));
        self.finish(plan, notes, stored)
    }
}

/// Follow a helper in its own file: does it upload one of its parameters and return the
/// `s3://` URI of that object? Err says why not (completing "but ...").
pub(crate) fn summarize_helper<'a>(
    ctx: &FileCtx<'a, '_>,
    sig: &'a syn::Signature,
    block: &'a syn::Block,
) -> Result<HelperUpload, String> {
    let text = ctx.text;
    let mut c = super::collect::Collector::new(text, text.range(block.span()));
    let (params, _) = fn_params(sig);
    c.add_params(params.iter().copied());
    c.add_tokens(block.to_token_stream());
    syn::visit::Visit::visit_block(&mut c, block);
    let hinfo = c.info;
    let hres = Resolver { ctx, info: &hinfo };
    // The helper's value: the tail `Ok(uri)` or `uri`.
    let Some(Stmt::Expr(tail, None)) = block.stmts.last() else {
        return Err("it does not end in the URI it returns".into());
    };
    let returned = match peel_parens(tail) {
        Expr::Call(ok)
            if ok.args.len() == 1
                && matches!(&*ok.func, Expr::Path(p) if p.path.is_ident("Ok")) =>
        {
            &ok.args[0]
        }
        e => e,
    };
    let tail_at = text.range(tail.span()).start;
    let Some(path) = hres.resolve(returned, tail_at).s3_path() else {
        return Err("what it returns is not an s3:// URI built there".into());
    };
    let put = hinfo.chains.iter().find_map(|ch| {
        let p = ch.position("put_object")?;
        (ch.range.end <= tail_at
            && object_path(&hres, &ch.links[p + 1..], ch.range.start).as_ref() == Some(&path))
        .then_some((ch, p))
    });
    let Some((put, p)) = put else {
        let why = hinfo.chains.iter().find_map(|ch| {
            let p = ch.position("put_object")?;
            let put_path = object_path(&hres, &ch.links[p + 1..], ch.range.start)?;
            super::value::key_mismatch(&path, &put_path)
        });
        return Err(match why {
            Some(why) => format!("it uploads no object with that name: its upload {why}"),
            None => "it uploads no object with that name".into(),
        });
    };
    let put_links = &put.links[p + 1..];
    let Some(body_arg) = put_links
        .iter()
        .find_map(|m| (m.method == "body" && m.args.len() == 1).then(|| &m.args[0]))
    else {
        return Err("its put_object sets no body".into());
    };
    let hs = SiteCx {
        ctx,
        info: &hinfo,
        chain_index: 0,
        k: 0,
    };
    let Some((Payload::Bytes(pe), _)) = hs.payload(body_arg, put.range.start) else {
        return Err("its payload is not a recognised ByteStream source".into());
    };
    // The payload must be one of the helper's parameters: the caller's argument replaces it.
    let Some(param) = path_ident(pe) else {
        return Err("its payload is computed inside it".into());
    };
    let Some(payload_param) = params
        .iter()
        .position(|pat| matches!(pat, syn::Pat::Ident(i) if i.ident == param))
    else {
        return Err("its payload is computed inside it".into());
    };
    let content_type = put_links
        .iter()
        .find(|m| m.method == "content_type" && m.args.len() == 1)
        .filter(|m| matches!(strip(&m.args[0]), Expr::Lit(_)))
        .map(|m| text.original[text.range(m.args[0].span())].to_owned());
    Ok(HelperUpload {
        payload_param,
        content_type,
    })
}

/// A call of a helper that may upload and return the URI.
struct HelperCall<'a> {
    name: String,
    args: Vec<&'a Expr>,
    bound: Option<usize>,
    source: HelperSource<'a>,
}

/// Where the called helper is defined.
enum HelperSource<'a> {
    /// In this file.
    Local {
        sig: &'a syn::Signature,
        block: &'a syn::Block,
    },
    /// In another file of the crate, already followed there.
    Crate {
        upload: Result<HelperUpload, String>,
    },
    /// The name may mean several functions of the crate (described).
    Ambiguous(Vec<String>),
    /// The call cannot be followed (why, completing "but ...").
    Refused(String),
}

struct Plan<'p, 'a> {
    loc: &'p LocLink<'a>,
    value: &'a Expr,
    put: Option<&'p Chain<'a>>,
    put_links: &'p [&'a ExprMethodCall],
    put_stmt: StmtLoc,
    payload: Payload<'a>,
    content_type: Option<String>,
    content_type_range: Option<Range<usize>>,
    uri_value: &'a Expr,
}

fn peel_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Peel `?`, `.await` and error adapters down to the request's `send()` call.
fn peel(mut e: &Expr) -> &Expr {
    loop {
        e = match e {
            Expr::Try(t) => &t.expr,
            Expr::Await(a) => &a.base,
            Expr::Paren(p) => &p.expr,
            Expr::MethodCall(m)
                if matches!(
                    m.method.to_string().as_str(),
                    "map_err"
                        | "context"
                        | "with_context"
                        | "expect"
                        | "unwrap"
                        | "ok"
                        | "inspect_err"
                        | "wrap_err"
                        | "wrap_err_with"
                        | "map"
                        | "unwrap_or_default"
                ) =>
            {
                &m.receiver
            }
            _ => return e,
        };
    }
}

fn matches_or_if_let(e: &Expr, is_it: &dyn Fn(&Expr) -> bool) -> bool {
    match e {
        Expr::Match(m) => is_it(&m.expr),
        Expr::If(i) => matches!(&*i.cond, Expr::Let(l) if is_it(&l.expr)),
        _ => false,
    }
}

fn some_arg(e: &Expr) -> Option<&Expr> {
    match peel_parens(e) {
        Expr::Call(c)
            if c.args.len() == 1
                && matches!(&*c.func, Expr::Path(p) if p.path.is_ident("Some")) =>
        {
            Some(&c.args[0])
        }
        _ => None,
    }
}

fn key_arg<'a>(links: &[&'a ExprMethodCall]) -> Option<&'a Expr> {
    links
        .iter()
        .find_map(|m| match m.method.to_string().as_str() {
            "key" if m.args.len() == 1 => Some(&m.args[0]),
            "set_key" if m.args.len() == 1 => some_arg(&m.args[0]),
            _ => None,
        })
}

/// `bucket/key` of an S3 request chain, as parts.
fn object_path(
    r: &Resolver<'_, '_, '_>,
    links: &[&ExprMethodCall],
    at: usize,
) -> Option<Vec<super::resolve::Part>> {
    let bucket = links
        .iter()
        .find_map(|m| match m.method.to_string().as_str() {
            "bucket" if m.args.len() == 1 => Some(&m.args[0]),
            "set_bucket" if m.args.len() == 1 => some_arg(&m.args[0]),
            _ => None,
        })?;
    let key = key_arg(links)?;
    let mut parts = r.resolve(bucket, at).parts;
    parts.push(super::resolve::Part::Lit("/".into()));
    parts.extend(r.resolve(key, at).parts);
    Some(
        Resolved {
            parts,
            params: Vec::new(),
        }
        .normalized()
        .parts,
    )
}

/// Token-level purity: no `?`, no `.await`, no macros except string building.
fn pure(ts: TokenStream) -> bool {
    let mut prev_ident: Option<String> = None;
    for tt in ts {
        let this_ident = match &tt {
            TokenTree::Ident(i) => Some(i.to_string()),
            _ => None,
        };
        match tt {
            TokenTree::Punct(p) if p.as_char() == '?' => return false,
            TokenTree::Punct(p)
                if p.as_char() == '!'
                    && !matches!(
                        prev_ident.as_deref(),
                        Some("format" | "concat" | "stringify")
                    ) =>
            {
                return false
            }
            TokenTree::Ident(i) if i == "await" => return false,
            TokenTree::Group(g) if !pure(g.stream()) => return false,
            _ => {}
        }
        prev_ident = this_ident;
    }
    true
}

fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}
