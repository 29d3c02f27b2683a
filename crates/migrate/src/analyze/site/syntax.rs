//! Expression shapes the site modules share: parentheses and error adapters peeled, `Some(x)`,
//! the `bucket/key` of an S3 request chain, token purity, a one-line rendering for messages.

use proc_macro2::{TokenStream, TokenTree};
use syn::{Expr, ExprMethodCall};

use crate::analyze::resolve::{Part, Resolved, Resolver};

pub(super) fn peel_parens(mut e: &Expr) -> &Expr {
    while let Expr::Paren(p) = e {
        e = &p.expr;
    }
    e
}

/// Peel `?`, `.await` and error adapters down to the request's `send()` call.
pub(super) fn peel(mut e: &Expr) -> &Expr {
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

pub(super) fn matches_or_if_let(e: &Expr, is_it: &dyn Fn(&Expr) -> bool) -> bool {
    match e {
        Expr::Match(m) => is_it(&m.expr),
        Expr::If(i) => matches!(&*i.cond, Expr::Let(l) if is_it(&l.expr)),
        _ => false,
    }
}

pub(super) fn some_arg(e: &Expr) -> Option<&Expr> {
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

pub(super) fn key_arg<'a>(links: &[&'a ExprMethodCall]) -> Option<&'a Expr> {
    links
        .iter()
        .find_map(|m| match m.method.to_string().as_str() {
            "key" if m.args.len() == 1 => Some(&m.args[0]),
            "set_key" if m.args.len() == 1 => some_arg(&m.args[0]),
            _ => None,
        })
}

/// `bucket/key` of an S3 request chain, as parts.
pub(super) fn object_path(
    r: &Resolver<'_, '_, '_>,
    links: &[&ExprMethodCall],
    at: usize,
) -> Option<Vec<Part>> {
    let bucket = links
        .iter()
        .find_map(|m| match m.method.to_string().as_str() {
            "bucket" if m.args.len() == 1 => Some(&m.args[0]),
            "set_bucket" if m.args.len() == 1 => some_arg(&m.args[0]),
            _ => None,
        })?;
    let key = key_arg(links)?;
    let mut parts = r.resolve(bucket, at).parts;
    parts.push(Part::Lit("/".into()));
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
pub(super) fn pure(ts: TokenStream) -> bool {
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

pub(super) fn one_line(s: &str) -> String {
    let s: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() > 60 {
        let cut: String = s.chars().take(57).collect();
        format!("{cut}...")
    } else {
        s
    }
}
