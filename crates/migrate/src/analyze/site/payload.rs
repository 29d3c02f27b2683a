//! The payload: what an upload sends (bytes, or a file path) and whether its size is provably
//! within the inline limit.

use quote::ToTokens;
use syn::{Expr, Lit};

use super::syntax::peel_parens;
use crate::analyze::collect::{path_ident, FnInfo};
use crate::analyze::file::FileCtx;
use crate::analyze::macros::macro_leaf_name;

/// The inline `Body` size limit of `InvokeEndpointAsync`, in bytes.
pub(super) const MAX_INLINE: u64 = bodyline_terms::MAX_INLINE_BODY_BYTES as u64;

/// Where the uploaded bytes come from: an expression of bytes, or a file path.
pub(super) enum Payload<'a> {
    Bytes(&'a Expr),
    Path(&'a Expr),
}

/// The payload of an upload's `body(..)` argument `e` (at byte `at`), through `let`s, with the
/// index of the `let` it came through.
pub(super) fn payload_source<'a>(
    info: &FnInfo<'a>,
    e: &'a Expr,
    at: usize,
) -> Option<(Payload<'a>, Option<usize>)> {
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
            let li = info.find_let(&name, at)?;
            let init = info.lets[li].init?;
            let (p, _) = payload_source(info, init, info.lets[li].stmt_range.start)?;
            Some((p, Some(li)))
        }
        _ => None,
    }
}

/// True when the bytes of `e` are provably at most the inline limit: literals, `include_bytes!`
/// files, and bindings or consts of them.
pub(super) fn provably_small(
    ctx: &FileCtx<'_, '_>,
    info: &FnInfo<'_>,
    e: &Expr,
    at: usize,
    depth: u32,
) -> bool {
    if depth > 4 {
        return false;
    }
    match peel_parens(e) {
        Expr::Reference(r) => provably_small(ctx, info, &r.expr, at, depth + 1),
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
            provably_small(ctx, info, &m.receiver, at, depth + 1)
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
            ) && provably_small(ctx, info, &c.args[0], at, depth + 1)
        }
        Expr::Macro(m) => {
            let name = macro_leaf_name(&m.mac);
            if name != "include_bytes" && name != "include_str" {
                return false;
            }
            let Ok(lit) = syn::parse2::<syn::LitStr>(m.mac.tokens.clone()) else {
                return false;
            };
            let Some(dir) = ctx.path.and_then(|p| p.parent()) else {
                return false;
            };
            std::fs::metadata(dir.join(lit.value())).is_ok_and(|md| md.len() <= MAX_INLINE)
        }
        e @ Expr::Path(_) => {
            let Some(name) = path_ident(e) else {
                return false;
            };
            if let Some(li) = info.find_let(&name, at) {
                let l = &info.lets[li];
                !l.mutable
                    && l.init.is_some_and(|i| {
                        provably_small(ctx, info, i, l.stmt_range.start, depth + 1)
                    })
            } else {
                ctx.consts
                    .iter()
                    .any(|(n, v)| *n == name && v.len() as u64 <= MAX_INLINE)
            }
        }
        _ => false,
    }
}
