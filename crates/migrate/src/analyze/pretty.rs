//! Inserted code: built as tokens with `quote`, printed with prettyplease, then indented to the
//! site. Text the user wrote (a payload expression, a content type) goes in through
//! placeholder identifiers and is put back verbatim, so its comments and layout survive.

use proc_macro2::TokenStream;
use quote::quote;

use crate::verdict::SkipReason;

/// Placeholder identifiers, replaced by source text after printing.
pub(crate) const PAYLOAD: &str = "__bodyline_payload";
pub(crate) const CONTENT_TYPE: &str = "__bodyline_content_type";
pub(crate) const THEN: &str = "__bodyline_then";
pub(crate) const ELSE: &str = "__bodyline_else";

/// A placeholder identifier as tokens.
pub(crate) fn placeholder(name: &str) -> proc_macro2::Ident {
    proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
}

fn internal(what: &str) -> SkipReason {
    SkipReason::Unsupported(format!(
        "bodyline could not print the {what} it builds (a bug)"
    ))
}

/// The statements `tokens` pretty-printed as lines, indented 4 spaces per level from 0.
pub(crate) fn stmts(tokens: TokenStream, what: &str) -> Result<Vec<String>, SkipReason> {
    let file: syn::File =
        syn::parse2(quote! { fn __bodyline() { #tokens } }).map_err(|_| internal(what))?;
    let printed = prettyplease::unparse(&file);
    let lines: Vec<&str> = printed.lines().collect();
    // Drop `fn __bodyline() {` and `}`; the body is indented one level.
    let body = lines.get(1..lines.len().saturating_sub(1)).unwrap_or(&[]);
    if body.is_empty() {
        return Err(internal(what));
    }
    Ok(body
        .iter()
        .map(|l| l.strip_prefix("    ").unwrap_or(l).to_owned())
        .collect())
}

/// One method call `name(args)` of a chain, printed on one line (`tokens` is the call
/// without its receiver, as a function call).
pub(crate) fn link(tokens: TokenStream, what: &str) -> Result<String, SkipReason> {
    let lines = stmts(tokens, what)?;
    // A call too wide for one line comes back broken over lines with trailing commas: the
    // chain it joins keeps one call per line, so put it back on one.
    let mut text = String::new();
    for line in lines.iter().map(|l| l.trim()) {
        if text.ends_with(',') {
            if line.starts_with([')', ']', '}']) {
                text.pop();
            } else {
                text.push(' ');
            }
        }
        text.push_str(line);
    }
    Ok(text)
}

/// An item (e.g. a `use`), printed.
pub(crate) fn item(tokens: TokenStream, what: &str) -> Result<String, SkipReason> {
    let file: syn::File = syn::parse2(tokens).map_err(|_| internal(what))?;
    Ok(prettyplease::unparse(&file).trim_end().to_owned())
}

/// Lines printed by [`stmts`] re-indented for the site: each 4-space level becomes `unit`
/// (a tab in tab-indented files) and every line gets `indent` in front; joined with `nl`.
pub(crate) fn indent(lines: &[String], indent: &str, unit: &str, nl: &str) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push_str(nl);
        }
        let trimmed = line.trim_start_matches(' ');
        let levels = (line.len() - trimmed.len()) / 4;
        let extra = (line.len() - trimmed.len()) % 4;
        out.push_str(indent);
        for _ in 0..levels {
            out.push_str(unit);
        }
        out.push_str(&" ".repeat(extra));
        out.push_str(trimmed);
    }
    out
}

/// `text` with each placeholder identifier replaced by its source text (whole identifiers only).
pub(crate) fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = text.to_owned();
    for (name, value) in values {
        out = replace_ident(&out, name, value);
    }
    out
}

fn replace_ident(text: &str, name: &str, value: &str) -> String {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(name) {
        let before_ok = !rest[..i].chars().next_back().is_some_and(ident);
        let after_ok = !rest[i + name.len()..].chars().next().is_some_and(ident);
        out.push_str(&rest[..i]);
        out.push_str(if before_ok && after_ok { value } else { name });
        rest = &rest[i + name.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_conditions_break_and_reindent_with_tabs() {
        let p = placeholder(PAYLOAD);
        let then = placeholder(THEN);
        let lines = stmts(
            quote! {
                if let Some(inline_body) = std::fs::metadata(&#p).ok().filter(|m| m.len() <= 128_000).and_then(|_| std::fs::read(&#p).ok()) {
                    #then();
                }
            },
            "size branch",
        )
        .unwrap();
        assert!(lines.len() > 3, "{lines:#?}");
        assert_eq!(lines.last().unwrap(), "}");
        let text = fill(
            &indent(&lines, "\t", "\t", "\r\n"),
            &[(PAYLOAD, "self.path")],
        );
        assert!(text.starts_with("\tif let Some(inline_body) = std::fs::metadata(&self.path)"));
        assert!(text.contains("\r\n\t\t.ok()"), "{text}");
        assert!(!text.contains("    "), "{text}");
    }

    #[test]
    fn links_and_items_print_on_one_line() {
        let p = placeholder(PAYLOAD);
        let blob: syn::Path = syn::parse_quote!(aws_smithy_types::Blob);
        let text = link(quote!(set_body(Some(#blob::new(#p)))), "body").unwrap();
        assert_eq!(
            text,
            "set_body(Some(aws_smithy_types::Blob::new(__bodyline_payload)))"
        );
        // Too wide for one line when printed: still one line, no trailing commas.
        let long: syn::Path =
            syn::parse_quote!(aws_sdk_sagemakerruntime::primitives::Blob::new::very::long::path);
        let wide = link(quote!(set_body(Some(#long(#p, #p, #p)))), "body").unwrap();
        assert_eq!(
            wide,
            "set_body(Some(aws_sdk_sagemakerruntime::primitives::Blob::new::very::long::path(__bodyline_payload, __bodyline_payload, __bodyline_payload)))"
        );
        assert_eq!(
            fill(&text, &[(PAYLOAD, "bytes /* keep */")]),
            "set_body(Some(aws_smithy_types::Blob::new(bytes /* keep */)))"
        );
        let u = item(
            quote!(
                use aws_sdk_sagemakerruntime::primitives::Blob;
            ),
            "use",
        )
        .unwrap();
        assert_eq!(u, "use aws_sdk_sagemakerruntime::primitives::Blob;");
        assert_eq!(replace_ident("a __x __xy", "__x", "b"), "a b __xy");
    }
}
