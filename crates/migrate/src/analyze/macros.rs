//! Macro invocations in function bodies: the ones whose input is Rust syntax (comma-separated
//! expressions as in `tokio::join!`/`vec![..]`/`assert!`, a block of statements, `matches!`'s
//! scrutinee and guard, `tokio::select!`'s futures, guards and handlers) are parsed so their
//! call sites are analysed like code. The parsed tokens keep their spans, so an edit made inside
//! one lands byte-exactly in the macro's tokens. The rest that mention
//! `invoke_endpoint_async` are named, so the site is reported "inside macro `name!`: not
//! analysed" instead of being skipped silently.

use proc_macro2::{Delimiter, Group, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::visit::Visit;
use syn::{Expr, Item, Pat, Token};

/// How deep macros inside parsed macros are followed.
const MAX_NESTING: usize = 4;

/// A parsed macro input.
pub(crate) enum MacroBody {
    Exprs(Vec<Expr>),
    Block(syn::Block),
}

/// What the macros of one function body hold.
#[derive(Default)]
pub(crate) struct FnMacros {
    /// Parsed inputs (nested macros included), to analyse with the body.
    pub bodies: Vec<MacroBody>,
    /// Macros whose input did not parse: the macro's name and each `invoke_endpoint_async`.
    pub unparsed: Vec<(String, Vec<Span>)>,
}

/// Parse the macros of `block` (and the macros inside those) that mention a call of interest.
pub(crate) fn collect(block: &syn::Block) -> FnMacros {
    let mut finder = MacroFinder { found: Vec::new() };
    finder.visit_block(block);
    let mut found = finder.found;
    let mut out = FnMacros::default();
    for _ in 0..MAX_NESTING {
        if found.is_empty() {
            break;
        }
        let mut next = MacroFinder { found: Vec::new() };
        for m in found {
            match parse_macro(&m) {
                Some(body) => {
                    match &body {
                        MacroBody::Exprs(es) => es.iter().for_each(|e| next.visit_expr(e)),
                        MacroBody::Block(b) => next.visit_block(b),
                    }
                    out.bodies.push(body);
                }
                None => {
                    let mut at = Vec::new();
                    find_ident(m.tokens.clone(), "invoke_endpoint_async", &mut at);
                    if !at.is_empty() {
                        out.unparsed.push((macro_name(&m), at));
                    }
                }
            }
        }
        found = next.found;
    }
    out
}

/// The macro's name as written (`tokio::select`).
pub(crate) fn macro_name(m: &syn::Macro) -> String {
    m.path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// The macro's own name, without its path: `format` for `std::format!`.
pub(crate) fn macro_leaf_name(m: &syn::Macro) -> String {
    m.path
        .segments
        .last()
        .map(|s| s.ident.to_string())
        .unwrap_or_default()
}

/// Every `name` identifier in `tokens`.
pub(crate) fn find_ident(tokens: TokenStream, name: &str, out: &mut Vec<Span>) {
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) if i == name => out.push(i.span()),
            TokenTree::Group(g) => find_ident(g.stream(), name, out),
            _ => {}
        }
    }
}

fn has_interesting_ident(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => {
            i == "invoke_endpoint_async"
                || i == "put_object"
                || i == "delete_object"
                || i == "input_location"
        }
        TokenTree::Group(g) => has_interesting_ident(g.stream()),
        _ => false,
    })
}

struct MacroFinder {
    found: Vec<syn::Macro>,
}

impl<'a> Visit<'a> for MacroFinder {
    fn visit_macro(&mut self, m: &'a syn::Macro) {
        if has_interesting_ident(m.tokens.clone()) {
            self.found.push(m.clone());
        }
    }
    // Nested items are analysed on their own.
    fn visit_item(&mut self, _: &'a Item) {}
}

fn parse_macro(m: &syn::Macro) -> Option<MacroBody> {
    let last = m.path.segments.last()?.ident.to_string();
    match last.as_str() {
        "select" | "select_biased" => return parse_select.parse2(m.tokens.clone()).ok(),
        "matches" | "assert_matches" | "debug_assert_matches" => {
            return parse_matches.parse2(m.tokens.clone()).ok()
        }
        _ => {}
    }
    let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
    if let Ok(p) = parser.parse2(m.tokens.clone()) {
        return Some(MacroBody::Exprs(p.into_iter().collect()));
    }
    let mut g = Group::new(Delimiter::Brace, m.tokens.clone());
    g.set_span(m.delimiter.span().join());
    syn::parse2::<syn::Block>(TokenTree::Group(g).into())
        .ok()
        .map(MacroBody::Block)
}

/// `matches!(scrutinee, pattern if guard)`: the scrutinee and the guard.
fn parse_matches(input: ParseStream) -> syn::Result<MacroBody> {
    let mut exprs = vec![input.parse::<Expr>()?];
    input.parse::<Token![,]>()?;
    Pat::parse_multi_with_leading_vert(input)?;
    if input.parse::<Option<Token![if]>>()?.is_some() {
        exprs.push(input.parse()?);
    }
    input.parse::<Option<Token![,]>>()?;
    Ok(MacroBody::Exprs(exprs))
}

/// `tokio::select! { biased; pat = future (, if guard)? => handler, ... else => handler }`:
/// every future, guard and handler.
fn parse_select(input: ParseStream) -> syn::Result<MacroBody> {
    let mut exprs = Vec::new();
    if input.peek(syn::Ident) && input.peek2(Token![;]) {
        let biased: syn::Ident = input.parse()?;
        if biased != "biased" {
            return Err(syn::Error::new(biased.span(), "expected `biased`"));
        }
        input.parse::<Token![;]>()?;
    }
    while !input.is_empty() {
        if input.parse::<Option<Token![else]>>()?.is_none() {
            Pat::parse_multi_with_leading_vert(input)?;
            input.parse::<Token![=]>()?;
            exprs.push(input.parse()?);
            if input.peek(Token![,]) && input.peek2(Token![if]) {
                input.parse::<Token![,]>()?;
                input.parse::<Token![if]>()?;
                exprs.push(input.parse()?);
            }
        }
        input.parse::<Token![=>]>()?;
        exprs.push(input.parse()?);
        input.parse::<Option<Token![,]>>()?;
    }
    Ok(MacroBody::Exprs(exprs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(src: &str) -> FnMacros {
        let block: syn::Block = syn::parse_str(src).expect("a block");
        collect(&block)
    }

    #[test]
    fn select_join_matches_and_nested_macros_parse() {
        let m = body(
            r#"{
                tokio::select! {
                    biased;
                    Some(v) = rx.recv(), if open => { put_object(v) }
                    _ = stop => vec![input_location(1)].len(),
                    else => 0,
                }
                tokio::join!(a.put_object(), b);
                let ok = matches!(rt.invoke_endpoint_async().send(), Ok(ref o) if o.input_location());
            }"#,
        );
        assert!(m.unparsed.is_empty());
        // select (6 expressions), the vec! inside it, join, matches.
        assert_eq!(m.bodies.len(), 4);
        assert!(matches!(&m.bodies[0], MacroBody::Exprs(e) if e.len() == 6));
        assert!(matches!(&m.bodies[2], MacroBody::Exprs(e) if e.len() == 2));
        assert!(m
            .bodies
            .iter()
            .any(|b| matches!(b, MacroBody::Exprs(e) if e.len() == 1)));
    }

    #[test]
    fn statements_parse_as_a_block() {
        let m = body("{ run! { let x = s3.put_object(); x.send(); } }");
        assert!(matches!(&m.bodies[..], [MacroBody::Block(b)] if b.stmts.len() == 2));
    }

    #[test]
    fn other_syntax_is_named_not_dropped() {
        let m =
            body("{ retry!(3 times rt.invoke_endpoint_async().send()); log!(put_object => x); }");
        assert!(m.bodies.is_empty());
        assert_eq!(m.unparsed.len(), 1);
        assert_eq!(m.unparsed[0].0, "retry");
    }
}
