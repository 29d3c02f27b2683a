//! Resolve string expressions (URIs, buckets, keys) to comparable parts through `let`s,
//! `format!`, `+`/`push_str` concatenation, `const`s and literals.

use std::cell::Cell;

use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, Token};

use super::collect::{path_ident, FnInfo, LetInfo};
use super::file::FileCtx;
use super::macros::macro_leaf_name;
pub(crate) use super::value::Part;
use super::value::{self, expr_key, ArgSource, Bound};

thread_local! {
    static OPAQUE: Cell<u32> = const { Cell::new(0) };
}

fn opaque(what: impl Into<String>) -> Part {
    OPAQUE.with(|c| {
        c.set(c.get().wrapping_add(1));
        Part::Opaque(c.get(), what.into())
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
                            // A path's `Display` and its lossy string are the same text.
                            | "display"
                            | "to_string_lossy"
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
            out.parts.push(opaque("a value built too many steps away"));
            return;
        }
        let e = strip(e);
        match e {
            Expr::Lit(l) => match value::lit_text(&l.lit) {
                Some(s) => out.parts.push(Part::Lit(s)),
                None => out.parts.push(opaque("a literal that is not text")),
            },
            Expr::Call(c) if is_empty_string(c) => out.parts.push(Part::Lit(String::new())),
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
                                self.appended(&name, l, at, depth, out);
                            }
                        }
                        // The binding itself: a later `let` of the same name, or a write to
                        // a `let mut` in between, is another value.
                        _ => {
                            let mut since = l.stmt_range.start;
                            if l.mutable {
                                let w = self.writes(&name, l.stmt_range.end..at);
                                let last = w.appends.iter().map(|(at, _)| *at).chain(w.others);
                                since = last.max().unwrap_or(since);
                            }
                            out.parts.push(Part::Expr(value::binding_key(&name, since)));
                        }
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
            // Each evaluation of a call (`Uuid::new_v4()`) may be a new value.
            Expr::Call(_) => out.parts.push(opaque(format!(
                "`{}`, evaluated again",
                value::describe_key(&expr_key(e))
            ))),
            _ => out.parts.push(Part::Expr(expr_key(e))),
        }
    }

    /// `name.push_str(x)` / `name.push(c)` / `name += x` between the `let` and `to`. An
    /// append inside a nested block (a branch, a loop, a closure) or another change of the
    /// string (an assignment, `write!`, `&mut name`) makes the value unknown.
    fn appended(&self, name: &str, l: &LetInfo<'_>, to: usize, depth: u32, out: &mut Resolved) {
        let writes = self.writes(name, l.stmt_range.end..to);
        let innermost = |at: usize| {
            self.info
                .blocks
                .iter()
                .filter(|b| b.range.contains(&at))
                .min_by_key(|b| b.range.len())
                .map(|b| b.range.clone())
        };
        let mut pushes = writes.appends;
        if !writes.others.is_empty()
            || pushes
                .iter()
                .any(|(at, _)| innermost(*at).as_ref() != Some(&l.scope))
        {
            out.parts.push(opaque(format!(
                "what is appended to `{name}` in a branch, a loop or a closure, or changed in place"
            )));
            return;
        }
        pushes.sort_by_key(|(at, _)| *at);
        for (at, arg) in pushes {
            self.parts(arg, at, depth + 1, out);
        }
    }

    /// The writes to a `let mut` binding within `range`.
    fn writes(&self, name: &str, range: std::ops::Range<usize>) -> Writes<'_> {
        let mut w = Writes::default();
        for c in &self.info.chains {
            if !range.contains(&c.range.start) || c.root_ident().as_deref() != Some(name) {
                continue;
            }
            let m = c.links[0];
            let method = m.method.to_string();
            if (method == "push_str" || method == "push") && m.args.len() == 1 {
                w.appends.push((c.range.start, &m.args[0]));
            } else if MUTATING.contains(&method.as_str()) {
                w.others.push(c.range.start);
            }
        }
        // `write!(name, ..)`, `&mut name` passed on: changed where bodyline cannot follow.
        for use_at in self.info.uses(name, range.clone(), &[]) {
            let before = self.ctx.text.original[..use_at].trim_end();
            if ["&mut", "write!(", "writeln!("]
                .iter()
                .any(|w| before.ends_with(w))
            {
                w.others.push(use_at);
            }
        }
        for b in &self.info.blocks {
            for (stmt, at) in &b.stmts {
                if !range.contains(&at.start) {
                    continue;
                }
                match stmt {
                    syn::Stmt::Expr(Expr::Binary(add), _)
                        if matches!(add.op, syn::BinOp::AddAssign(_))
                            && path_ident(&add.left).as_deref() == Some(name) =>
                    {
                        w.appends.push((at.start, &add.right));
                    }
                    syn::Stmt::Expr(Expr::Assign(set), _)
                        if path_ident(&set.left).as_deref() == Some(name) =>
                    {
                        w.others.push(at.start);
                    }
                    _ => {}
                }
            }
        }
        w
    }

    fn macro_parts(&self, mac: &syn::Macro, at: usize, depth: u32, out: &mut Resolved) {
        let name = macro_leaf_name(mac);
        match name.as_str() {
            "format" | "format_args" => self.format_parts(mac, at, depth, out),
            "concat" => {
                let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
                match syn::parse::Parser::parse2(parser, mac.tokens.clone()) {
                    Ok(args) => args.iter().for_each(|a| self.parts(a, at, depth + 1, out)),
                    Err(_) => out
                        .parts
                        .push(opaque("a `concat!` of something other than literals")),
                }
            }
            _ => out
                .parts
                .push(opaque(format!("the value of `{name}!(..)`"))),
        }
    }

    /// A `format!`/`format_args!` through the value model: literal text, and each argument
    /// resolved in turn, wrapped with its spec when the spec can change the text.
    fn format_parts(&self, mac: &syn::Macro, at: usize, depth: u32, out: &mut Resolved) {
        let Some(call) = value::format_call(mac.tokens.clone()) else {
            out.parts
                .push(opaque("a `format!` whose format string is not a literal"));
            return;
        };
        let Some(bound) = call.bind() else {
            out.parts
                .push(opaque("a `format!` with a missing argument"));
            return;
        };
        for b in bound {
            let (source, spec) = match b {
                Bound::Lit(s) => {
                    out.parts.push(Part::Lit(s));
                    continue;
                }
                Bound::Arg { source, spec } => (source, spec),
            };
            let mut sub = Resolved::default();
            match source {
                ArgSource::Expr(e) => self.parts(e, at, depth + 1, &mut sub),
                ArgSource::Inline(name) => match syn::parse_str::<Expr>(&name) {
                    Ok(e) => self.parts(&e, at, depth + 1, &mut sub),
                    Err(_) => sub.parts.push(opaque(format!("`{{{name}}}`"))),
                },
            }
            out.params.append(&mut sub.params);
            if spec.is_empty() {
                out.parts.append(&mut sub.parts);
            } else {
                let sub = sub.normalized();
                out.parts
                    .push(value::with_spec(&sub.parts, &spec).unwrap_or_else(|| {
                        opaque(format!("a value formatted with `{{:{spec}}}`"))
                    }));
            }
        }
    }
}

/// Writes to a `let mut` binding: appends (`push_str`, `push`, `+=`) and other changes.
#[derive(Default)]
struct Writes<'a> {
    appends: Vec<(usize, &'a Expr)>,
    others: Vec<usize>,
}

/// `String` methods that change it other than by appending.
const MUTATING: &[&str] = &[
    "insert",
    "insert_str",
    "clear",
    "truncate",
    "extend",
    "retain",
    "drain",
    "pop",
    "remove",
    "replace_range",
    "make_ascii_lowercase",
    "make_ascii_uppercase",
    "as_mut_str",
    "write_str",
    "write_fmt",
];

/// A field chain rooted at a binding (`self.a.b`).
fn field_of_binding(e: &Expr) -> bool {
    match e {
        Expr::Path(p) => p.path.get_ident().is_some(),
        Expr::Field(f) => field_of_binding(&f.base),
        _ => false,
    }
}

/// `String::new()` / `String::with_capacity(n)`.
fn is_empty_string(c: &syn::ExprCall) -> bool {
    let Expr::Path(p) = &*c.func else {
        return false;
    };
    let s = p.path.to_token_stream().to_string().replace(' ', "");
    matches!(
        s.as_str(),
        "String::new" | "String::with_capacity" | "std::string::String::new"
    )
}

/// A `let` initializer that is only string building (safe to look through).
fn expandable(init: &Expr) -> bool {
    // A call (`Uuid::new_v4()`) in it is evaluated once, here: the binding is the value.
    if value::calls_a_function(init.to_token_stream()) {
        return false;
    }
    match strip(init) {
        Expr::Lit(_) | Expr::Binary(_) | Expr::Path(_) => true,
        Expr::Call(c) => is_empty_string(c),
        // `&self.bucket`, `cfg.input.bucket`: the same field wherever it is named.
        Expr::Field(f) => field_of_binding(&f.base),
        Expr::Macro(m) => {
            let n = macro_leaf_name(&m.mac);
            n == "format" || n == "concat"
        }
        _ => false,
    }
}
