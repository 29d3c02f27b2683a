//! Resolve string expressions (URIs, buckets, keys) to comparable parts through `let`s,
//! `format!`, `+`/`push_str` concatenation, `const`s and literals.

use std::cell::Cell;

use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Token};

use super::collect::{path_ident, FnInfo};
use super::FileCtx;

/// A piece of a string value: known text, or an expression named by its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Lit(String),
    Expr(String),
    /// Something that cannot be compared (a formatting spec, a depth limit); never equal.
    Opaque(u32),
}

thread_local! {
    static OPAQUE: Cell<u32> = const { Cell::new(0) };
}

fn opaque() -> Part {
    OPAQUE.with(|c| {
        c.set(c.get().wrapping_add(1));
        Part::Opaque(c.get())
    })
}

/// The outcome of resolving a string expression.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    pub parts: Vec<Part>,
    /// Parameters the value was built from.
    pub params: Vec<String>,
}

impl Resolved {
    /// Merge adjacent literal parts so equal strings compare equal however they were split.
    pub fn normalized(mut self) -> Self {
        let mut out: Vec<Part> = Vec::new();
        for p in self.parts.drain(..) {
            match (out.last_mut(), p) {
                (_, Part::Lit(s)) if s.is_empty() => {}
                (Some(Part::Lit(a)), Part::Lit(b)) => a.push_str(&b),
                (_, p) => out.push(p),
            }
        }
        self.parts = out;
        self
    }

    /// The parts after an `s3://` prefix, if the value starts with one.
    pub fn s3_path(&self) -> Option<Vec<Part>> {
        let mut parts = self.parts.clone();
        match parts.first_mut() {
            Some(Part::Lit(s)) if s.starts_with("s3://") => {
                s.replace_range(..5, "");
                if s.is_empty() {
                    parts.remove(0);
                }
                Some(parts)
            }
            _ => None,
        }
    }
}

/// Peel borrows, parens and conversions that do not change the string value.
pub(crate) fn strip(mut e: &Expr) -> &Expr {
    loop {
        e = match e {
            Expr::Reference(r) => &r.expr,
            Expr::Paren(p) => &p.expr,
            Expr::Group(g) => &g.expr,
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Deref(_)) => &u.expr,
            Expr::MethodCall(m)
                if m.args.is_empty()
                    && matches!(
                        m.method.to_string().as_str(),
                        "clone"
                            | "as_str"
                            | "to_string"
                            | "to_owned"
                            | "as_ref"
                            | "into"
                            | "borrow"
                            | "as_bytes"
                    ) =>
            {
                &m.receiver
            }
            Expr::Call(c) if c.args.len() == 1 && is_string_from(&c.func) => &c.args[0],
            _ => return e,
        };
    }
}

fn is_string_from(func: &Expr) -> bool {
    let Expr::Path(p) = func else { return false };
    let s = p.path.to_token_stream().to_string().replace(' ', "");
    matches!(
        s.as_str(),
        "String::from" | "From::from" | "Into::into" | "std::string::String::from"
    )
}

/// The tokens of an expression, for comparing expressions that are not resolved further.
pub(crate) fn expr_key(e: &Expr) -> String {
    e.to_token_stream().to_string()
}

pub(crate) struct Resolver<'r, 'a, 't> {
    pub ctx: &'r FileCtx<'a, 't>,
    pub info: &'r FnInfo<'a>,
}

impl Resolver<'_, '_, '_> {
    /// Resolve the string value of `e`, evaluated at byte offset `at`.
    pub fn resolve(&self, e: &Expr, at: usize) -> Resolved {
        let mut r = Resolved::default();
        self.parts(e, at, 0, &mut r);
        r.normalized()
    }

    fn parts(&self, e: &Expr, at: usize, depth: u32, out: &mut Resolved) {
        if depth > 8 {
            out.parts.push(opaque());
            return;
        }
        let e = strip(e);
        match e {
            Expr::Lit(l) => match &l.lit {
                Lit::Str(s) => out.parts.push(Part::Lit(s.value())),
                Lit::Char(c) => out.parts.push(Part::Lit(c.value().to_string())),
                _ => out.parts.push(opaque()),
            },
            Expr::Macro(m) => self.macro_parts(&m.mac, at, depth, out),
            Expr::Binary(b) if matches!(b.op, syn::BinOp::Add(_)) => {
                self.parts(&b.left, at, depth + 1, out);
                self.parts(&b.right, at, depth + 1, out);
            }
            Expr::Path(_) => {
                let Some(name) = path_ident(e) else {
                    out.parts.push(Part::Expr(expr_key(e)));
                    return;
                };
                if let Some(i) = self.info.find_let(&name, at) {
                    let l = &self.info.lets[i];
                    match l.init {
                        Some(init) if expandable(init) => {
                            self.parts(init, l.stmt_range.start, depth + 1, out);
                            if l.mutable {
                                self.appended(&name, l.stmt_range.end, at, depth, out);
                            }
                        }
                        _ => out.parts.push(Part::Expr(name)),
                    }
                } else if let Some((_, v)) = self.ctx.consts.iter().find(|(n, _)| *n == name) {
                    out.parts.push(Part::Lit(v.clone()));
                } else {
                    if self.info.params.contains(&name) {
                        out.params.push(name.clone());
                    }
                    out.parts.push(Part::Expr(name));
                }
            }
            _ => out.parts.push(Part::Expr(expr_key(e))),
        }
    }

    /// `name.push_str(x)` / `name.push(c)` / `name += x` between `from` and `to`.
    fn appended(&self, name: &str, from: usize, to: usize, depth: u32, out: &mut Resolved) {
        let mut pushes: Vec<(usize, &Expr)> = Vec::new();
        for c in &self.info.chains {
            if c.range.start < from
                || c.range.start >= to
                || c.root_ident().as_deref() != Some(name)
            {
                continue;
            }
            let m = c.links[0];
            if (m.method == "push_str" || m.method == "push") && m.args.len() == 1 {
                pushes.push((c.range.start, &m.args[0]));
            } else {
                pushes.push((c.range.start, &m.receiver));
                out.parts.push(opaque());
            }
        }
        pushes.sort_by_key(|(at, _)| *at);
        for (at, arg) in pushes {
            self.parts(arg, at, depth + 1, out);
        }
    }

    fn macro_parts(&self, mac: &syn::Macro, at: usize, depth: u32, out: &mut Resolved) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
        let args = match syn::parse::Parser::parse2(parser, mac.tokens.clone()) {
            Ok(a) => a.into_iter().collect::<Vec<_>>(),
            Err(_) => {
                out.parts.push(opaque());
                return;
            }
        };
        match name.as_str() {
            "format" => {
                let Some(Expr::Lit(syn::ExprLit {
                    lit: Lit::Str(fmt), ..
                })) = args.first()
                else {
                    out.parts.push(opaque());
                    return;
                };
                let positional: Vec<&Expr> = args[1..]
                    .iter()
                    .filter(|a| !matches!(a, Expr::Assign(_)))
                    .collect();
                let named: Vec<(String, &Expr)> = args[1..]
                    .iter()
                    .filter_map(|a| match a {
                        Expr::Assign(asg) => path_ident(&asg.left).map(|n| (n, &*asg.right)),
                        _ => None,
                    })
                    .collect();
                let mut next = 0;
                for piece in parse_format(&fmt.value()) {
                    match piece {
                        FmtPiece::Lit(s) => out.parts.push(Part::Lit(s)),
                        FmtPiece::Arg { name, spec } => {
                            if !spec.is_empty() {
                                out.parts.push(opaque());
                                continue;
                            }
                            let arg = if name.is_empty() {
                                next += 1;
                                positional.get(next - 1).copied()
                            } else if let Ok(i) = name.parse::<usize>() {
                                positional.get(i).copied()
                            } else if let Some((_, e)) = named.iter().find(|(n, _)| *n == name) {
                                Some(*e)
                            } else {
                                // Inline argument: resolve the binding of that name.
                                let p: Expr = match syn::parse_str(&name) {
                                    Ok(p) => p,
                                    Err(_) => {
                                        out.parts.push(opaque());
                                        continue;
                                    }
                                };
                                self.parts(&p, at, depth + 1, out);
                                continue;
                            };
                            match arg {
                                Some(a) => self.parts(a, at, depth + 1, out),
                                None => out.parts.push(opaque()),
                            }
                        }
                    }
                }
            }
            "concat" => {
                for a in &args {
                    self.parts(a, at, depth + 1, out);
                }
            }
            _ => out.parts.push(opaque()),
        }
    }
}

/// A `let` initializer that is only string building (safe to look through).
fn expandable(init: &Expr) -> bool {
    match strip(init) {
        Expr::Lit(_) | Expr::Binary(_) | Expr::Path(_) => true,
        Expr::Macro(m) => {
            let n = m
                .mac
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            n == "format" || n == "concat"
        }
        _ => false,
    }
}

enum FmtPiece {
    Lit(String),
    Arg { name: String, spec: String },
}

fn parse_format(s: &str) -> Vec<FmtPiece> {
    let mut out = Vec::new();
    let mut lit = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                lit.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                lit.push('}');
            }
            '{' => {
                let mut inner = String::new();
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                    inner.push(c);
                }
                if !lit.is_empty() {
                    out.push(FmtPiece::Lit(std::mem::take(&mut lit)));
                }
                let (name, spec) = match inner.split_once(':') {
                    Some((n, s)) => (n.trim().to_owned(), s.to_owned()),
                    None => (inner.trim().to_owned(), String::new()),
                };
                out.push(FmtPiece::Arg { name, spec });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(FmtPiece::Lit(lit));
    }
    out
}
