//! The value model of built strings: `format!`/`format_args!` strings parsed completely
//! (positional, explicit, named and inline arguments, fill/alignment/sign/`#`/`0`/width/precision/
//! type specs, `{{`/`}}` escapes, a `concat!` of literals as the format string), bound to their
//! arguments, and the comparison of two resolved values (an uploaded object's `bucket/key` and
//! an `s3://` URI) that names the first part that differs.
//!
//! A spec that can change the text (width, precision, sign, `#`, a type such as `?` or `x`) is
//! part of the value: `{i:05}` equals `{i:05}` and differs from `{i}`. Fill, alignment and `0`
//! without a width change nothing and are dropped, so `{i:<}` equals `{i}`.

use quote::ToTokens;
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Token};

use super::collect::path_ident;

/// A piece of a string value: known text, or an expression named by its tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Lit(String),
    Expr(String),
    /// Something that cannot be compared (what it is, for messages); never equal.
    Opaque(u32, String),
}

/// The tokens of an expression, for comparing expressions that are not resolved further.
pub(crate) fn expr_key(e: &Expr) -> String {
    e.to_token_stream().to_string()
}

/// Which argument a placeholder (or a `width$`/`.prec$` count) uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArgRef {
    /// `{}`: the next positional argument.
    Next,
    /// `{0}`.
    Index(usize),
    /// `{name}`: a named argument, else a binding in scope (inline argument).
    Name(String),
}

/// A width or precision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Count {
    Lit(usize),
    Arg(ArgRef),
    /// `.*`: the next positional argument is the precision.
    Star,
}

/// A placeholder's format spec (`{:<fill><align><sign>#0<width>.<precision><type>}`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Spec {
    pub fill: Option<char>,
    pub align: Option<char>,
    pub sign: Option<char>,
    pub alternate: bool,
    pub zero: bool,
    pub width: Option<Count>,
    pub precision: Option<Count>,
    pub ty: String,
}

/// One piece of a parsed format string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Lit(String),
    Arg { arg: ArgRef, spec: Spec },
}

/// Parse a format string; `None` when it is malformed (rustc would reject it).
pub(crate) fn parse_format(s: &str) -> Option<Vec<Piece>> {
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
            '}' => return None,
            '{' => {
                let mut inner = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    inner.push(c);
                }
                if !closed {
                    return None;
                }
                if !lit.is_empty() {
                    out.push(Piece::Lit(std::mem::take(&mut lit)));
                }
                let (name, spec) = match inner.split_once(':') {
                    Some((n, s)) => (n.trim(), parse_spec(s)?),
                    None => (inner.trim(), Spec::default()),
                };
                out.push(Piece::Arg {
                    arg: arg_ref(name)?,
                    spec,
                });
            }
            c => lit.push(c),
        }
    }
    if !lit.is_empty() {
        out.push(Piece::Lit(lit));
    }
    Some(out)
}

fn arg_ref(name: &str) -> Option<ArgRef> {
    if name.is_empty() {
        return Some(ArgRef::Next);
    }
    if name.chars().all(|c| c.is_ascii_digit()) {
        return name.parse().ok().map(ArgRef::Index);
    }
    let ident = name.strip_prefix("r#").unwrap_or(name);
    let valid = ident.starts_with(|c: char| c.is_alphabetic() || c == '_')
        && ident.chars().all(|c| c.is_alphanumeric() || c == '_');
    valid.then(|| ArgRef::Name(name.to_owned()))
}

/// Parse the text after `:` in a placeholder.
fn parse_spec(s: &str) -> Option<Spec> {
    let mut spec = Spec::default();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    let is_align = |c: char| matches!(c, '<' | '^' | '>');
    if chars.len() >= 2 && is_align(chars[1]) {
        spec.fill = Some(chars[0]);
        spec.align = Some(chars[1]);
        i = 2;
    } else if chars.first().copied().is_some_and(is_align) {
        spec.align = Some(chars[0]);
        i = 1;
    }
    if let Some(&c @ ('+' | '-')) = chars.get(i) {
        spec.sign = Some(c);
        i += 1;
    }
    if chars.get(i) == Some(&'#') {
        spec.alternate = true;
        i += 1;
    }
    // `0` is the zero flag unless it is a `0$` width argument.
    if chars.get(i) == Some(&'0') && chars.get(i + 1) != Some(&'$') {
        spec.zero = true;
        i += 1;
    }
    let rest: String = chars[i..].iter().collect();
    let (width, rest) = parse_count(&rest);
    spec.width = width;
    let mut rest = rest;
    if let Some(after) = rest.strip_prefix('.') {
        if let Some(after) = after.strip_prefix('*') {
            spec.precision = Some(Count::Star);
            rest = after;
        } else {
            let (p, after) = parse_count(after);
            spec.precision = Some(p?);
            rest = after;
        }
    }
    let ty = rest.trim();
    let known = matches!(
        ty,
        "" | "?" | "x?" | "X?" | "x" | "X" | "o" | "b" | "e" | "E" | "p"
    );
    if !known {
        return None;
    }
    spec.ty = ty.to_owned();
    Some(spec)
}

/// `5`, `name$` or `0$` at the start of `s`, and the rest.
fn parse_count(s: &str) -> (Option<Count>, &str) {
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits > 0 {
        let (word, rest) = s.split_at(digits);
        let Ok(n) = word.parse() else {
            return (None, s);
        };
        return match rest.strip_prefix('$') {
            Some(after) => (Some(Count::Arg(ArgRef::Index(n))), after),
            None => (Some(Count::Lit(n)), rest),
        };
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    let (word, rest) = s.split_at(end);
    // A word not followed by `$` is the type (`x`, `e`, ...).
    match (rest.strip_prefix('$'), arg_ref(word)) {
        (Some(after), Some(r)) if !word.is_empty() => (Some(Count::Arg(r)), after),
        _ => (None, s),
    }
}

impl Spec {
    /// True when the spec cannot change the text of the argument's `Display`.
    pub(crate) fn is_plain(&self) -> bool {
        self.width.is_none()
            && self.precision.is_none()
            && self.sign.is_none()
            && !self.alternate
            && self.ty.is_empty()
    }

    /// The spec in canonical form (what changes the text only), with count arguments named by
    /// `count_key`, so that equal specs compare equal however they were written.
    pub(crate) fn canonical(&self, count_key: &mut dyn FnMut(&Count) -> String) -> String {
        let mut s = String::new();
        if self.width.is_some() {
            if let Some(a) = self.align {
                s.push(self.fill.unwrap_or(' '));
                s.push(a);
            }
        }
        s.extend(self.sign);
        if self.alternate {
            s.push('#');
        }
        if let Some(w) = &self.width {
            if self.zero {
                s.push('0');
            }
            s.push_str(&count_key(w));
        }
        if let Some(p) = &self.precision {
            s.push('.');
            s.push_str(&count_key(p));
        }
        s.push_str(&self.ty);
        s
    }
}

/// One bound piece of a `format!`: literal text, or an argument with its canonical spec.
pub(crate) enum Bound<'e> {
    Lit(String),
    Arg {
        source: ArgSource<'e>,
        /// Empty when the spec cannot change the text.
        spec: String,
    },
}

/// Where a placeholder's value comes from.
pub(crate) enum ArgSource<'e> {
    Expr(&'e Expr),
    /// An inline argument: a binding of that name in scope.
    Inline(String),
}

/// The arguments of a `format!`-like macro: the format string and its arguments.
pub(crate) struct FormatCall {
    pub pieces: Vec<Piece>,
    pub args: Vec<Expr>,
}

/// Parse `format!`/`format_args!`/`write!`-style tokens (`"fmt", args..`). `None` when the
/// format string is not a literal (or a `concat!` of literals) or does not parse.
pub(crate) fn format_call(tokens: proc_macro2::TokenStream) -> Option<FormatCall> {
    let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
    let args: Vec<Expr> = syn::parse::Parser::parse2(parser, tokens)
        .ok()?
        .into_iter()
        .collect();
    let fmt = literal_text(args.first()?)?;
    Some(FormatCall {
        pieces: parse_format(&fmt)?,
        args: args[1..].to_vec(),
    })
}

/// The text of a string literal or of a `concat!` of literals.
fn literal_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(l) => lit_text(&l.lit),
        Expr::Macro(m) if m.mac.path.segments.last()?.ident == "concat" => {
            let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
            let parts = syn::parse::Parser::parse2(parser, m.mac.tokens.clone()).ok()?;
            parts.iter().map(literal_text).collect()
        }
        Expr::Group(g) => literal_text(&g.expr),
        _ => None,
    }
}

/// The text a literal contributes to `concat!` or to a plain `{}`.
pub(crate) fn lit_text(l: &Lit) -> Option<String> {
    match l {
        Lit::Str(s) => Some(s.value()),
        Lit::Char(c) => Some(c.value().to_string()),
        Lit::Int(i) => Some(i.base10_digits().to_owned()),
        Lit::Bool(b) => Some(b.value.to_string()),
        _ => None,
    }
}

impl FormatCall {
    /// Bind every placeholder to its argument. `None` when a placeholder names an argument
    /// that does not exist (rustc would reject it).
    pub(crate) fn bind(&self) -> Option<Vec<Bound<'_>>> {
        let positional: Vec<&Expr> = self
            .args
            .iter()
            .filter(|a| !matches!(a, Expr::Assign(_)))
            .collect();
        let named: Vec<(String, &Expr)> = self
            .args
            .iter()
            .filter_map(|a| match a {
                Expr::Assign(asg) => path_ident(&asg.left).map(|n| (n, &*asg.right)),
                _ => None,
            })
            .collect();
        let mut next = 0;
        let mut take_next = || {
            next += 1;
            positional.get(next - 1).copied().map(ArgSource::Expr)
        };
        let lookup = |r: &ArgRef| -> Option<ArgSource<'_>> {
            match r {
                ArgRef::Index(i) => positional.get(*i).copied().map(ArgSource::Expr),
                ArgRef::Name(n) => Some(match named.iter().find(|(m, _)| m == n) {
                    Some((_, e)) => ArgSource::Expr(e),
                    None => ArgSource::Inline(n.clone()),
                }),
                ArgRef::Next => None,
            }
        };
        let mut out = Vec::new();
        for piece in &self.pieces {
            match piece {
                Piece::Lit(s) => out.push(Bound::Lit(s.clone())),
                Piece::Arg { arg, spec } => {
                    // `.*` takes the precision before the value.
                    let mut star = None;
                    if spec.precision == Some(Count::Star) {
                        star = Some(take_next()?);
                    }
                    let source = match arg {
                        ArgRef::Next => take_next()?,
                        r => lookup(r)?,
                    };
                    let text = if spec.is_plain() {
                        String::new()
                    } else {
                        let mut missing = false;
                        let canonical = spec.canonical(&mut |c| match c {
                            Count::Lit(n) => n.to_string(),
                            Count::Star => star.as_ref().map_or_else(
                                || {
                                    missing = true;
                                    String::new()
                                },
                                source_key,
                            ),
                            Count::Arg(r) => lookup(r).as_ref().map_or_else(
                                || {
                                    missing = true;
                                    String::new()
                                },
                                source_key,
                            ),
                        });
                        if missing {
                            return None;
                        }
                        canonical
                    };
                    out.push(Bound::Arg { source, spec: text });
                }
            }
        }
        Some(out)
    }
}

/// A width/precision argument, named for comparison.
fn source_key(s: &ArgSource<'_>) -> String {
    match s {
        ArgSource::Expr(e) => format!("({})", expr_key(e)),
        ArgSource::Inline(n) => format!("({n})"),
    }
}

/// A value formatted with a spec that changes its text: one comparable part, or `None` when
/// the value cannot be compared.
pub(crate) fn with_spec(parts: &[Part], spec: &str) -> Option<Part> {
    match parts {
        _ if parts.iter().any(|p| matches!(p, Part::Opaque(..))) => None,
        [Part::Expr(e)] => Some(Part::Expr(format!("{e}:{spec}"))),
        _ => Some(Part::Expr(format!("\"{}\":{spec}", describe(parts)))),
    }
}

/// Whether tokens call a function (`f(..)`, `a::f(..)`; not a method, a macro, a tuple
/// struct or `String::from`/`String::new`): each evaluation may give a new value.
pub(crate) fn calls_a_function(tokens: proc_macro2::TokenStream) -> bool {
    use proc_macro2::{Delimiter, TokenTree};
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    for (i, tt) in tokens.iter().enumerate() {
        match tt {
            TokenTree::Group(g) => {
                if calls_a_function(g.stream()) {
                    return true;
                }
                let callee = match i.checked_sub(1).map(|j| &tokens[j]) {
                    Some(TokenTree::Ident(f)) if g.delimiter() == Delimiter::Parenthesis => f,
                    _ => continue,
                };
                let name = callee.to_string();
                let before = |k: usize| i.checked_sub(k).map(|j| tokens[j].to_string());
                let method = before(2).as_deref() == Some(".");
                let keyword = matches!(name.as_str(), "if" | "match" | "while" | "in" | "return");
                let constructor = name.starts_with(|c: char| c.is_uppercase());
                let string = matches!(name.as_str(), "from" | "new" | "with_capacity")
                    && before(3).as_deref() == Some(":")
                    && before(4).as_deref() == Some("String");
                if !(method || keyword || constructor || string) {
                    return true;
                }
            }
            _ => continue,
        }
    }
    false
}

/// The comparison key of a `let` binding: its name and where it is bound, so a shadowing
/// `let` of the same name is another value.
pub(crate) fn binding_key(name: &str, at: usize) -> String {
    format!("{name}\u{0}{at}")
}

/// A comparison key as written: without binding positions and token spacing.
pub(crate) fn describe_key(key: &str) -> String {
    let mut out = String::new();
    let mut chars = key.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{0}' => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
            }
            ' ' => {}
            c => out.push(c),
        }
    }
    out
}

/// A resolved value for a message: literal text as written, bound values as `{name}`.
pub(crate) fn describe(parts: &[Part]) -> String {
    let mut s = String::new();
    for p in parts {
        match p {
            Part::Lit(l) => s.push_str(l),
            Part::Expr(e) => {
                s.push('{');
                s.push_str(&describe_key(e));
                s.push('}');
            }
            Part::Opaque(..) => s.push_str("{?}"),
        }
    }
    s
}

/// Split `bucket/key` parts at the first `/` of a literal part.
pub(crate) fn split_bucket(parts: &[Part]) -> (Vec<Part>, Vec<Part>) {
    for (i, p) in parts.iter().enumerate() {
        if let Part::Lit(s) = p {
            if let Some(at) = s.find('/') {
                let mut bucket = parts[..i].to_vec();
                if at > 0 {
                    bucket.push(Part::Lit(s[..at].to_owned()));
                }
                let mut key = Vec::new();
                if at + 1 < s.len() {
                    key.push(Part::Lit(s[at + 1..].to_owned()));
                }
                key.extend_from_slice(&parts[i + 1..]);
                return (bucket, key);
            }
        }
    }
    (parts.to_vec(), Vec::new())
}

/// Why the URI's `bucket/key` is not the upload's (completing "the upload ..."), naming the
/// first part that differs (or the
/// bucket, when only the bucket differs); `None` when they are equal or both differ (then the
/// upload is of another object).
pub(crate) fn key_mismatch(uri: &[Part], upload: &[Part]) -> Option<String> {
    let (ub, uk) = split_bucket(uri);
    let (pb, pk) = split_bucket(upload);
    if ub != pb && uk == pk && !uk.is_empty() {
        return Some(format!(
            "has the same key `{}`, but the URI's bucket `{}` is not its bucket `{}`",
            describe(&uk),
            describe(&ub),
            describe(&pb)
        ));
    }
    if ub != pb || uk == pk {
        return None;
    }
    if ub.iter().any(|p| matches!(p, Part::Opaque(..))) {
        return None;
    }
    // Compare as text where both sides are literal, part by part where they are values.
    let mut i = 0;
    while i < uk.len() && i < pk.len() && uk[i] == pk[i] {
        i += 1;
    }
    let mut prefix_len = 0;
    if let (Some(Part::Lit(a)), Some(Part::Lit(b))) = (uk.get(i), pk.get(i)) {
        prefix_len = a
            .chars()
            .zip(b.chars())
            .take_while(|(x, y)| x == y)
            .map(|(x, _)| x.len_utf8())
            .sum();
    }
    let rest = |parts: &[Part]| -> String {
        let mut tail = parts[i.min(parts.len())..].to_vec();
        if let Some(Part::Lit(s)) = tail.first_mut() {
            s.replace_range(..prefix_len.min(s.len()), "");
        }
        let d = describe(&tail);
        if d.is_empty() {
            "nothing".to_owned()
        } else {
            format!("`{d}`")
        }
    };
    let what = |p: Option<&Part>| match p {
        Some(Part::Opaque(_, w)) => format!(" ({w}: bodyline cannot compare it)"),
        _ => String::new(),
    };
    let same_text = match (uk.get(i), pk.get(i)) {
        (Some(Part::Expr(a)), Some(Part::Expr(b))) if describe_key(a) == describe_key(b) => {
            format!(
                ", the same name (`{}`) bound or assigned again in between",
                describe_key(a)
            )
        }
        _ => String::new(),
    };
    let common = describe(&common_prefix(&uk, i, prefix_len));
    let from = if common.is_empty() {
        "from its start".to_owned()
    } else {
        format!("after `{common}`")
    };
    Some(format!(
        "is to the same bucket, but the URI's key `{}` is not the uploaded key `{}`: {} the URI has {}{} where the upload has {}{}{}",
        describe(&uk),
        describe(&pk),
        from,
        rest(&uk),
        what(uk.get(i)),
        rest(&pk),
        what(pk.get(i)),
        same_text,
    ))
}

fn common_prefix(parts: &[Part], i: usize, lit_len: usize) -> Vec<Part> {
    let mut out = parts[..i.min(parts.len())].to_vec();
    if let Some(Part::Lit(s)) = parts.get(i) {
        out.push(Part::Lit(s[..lit_len.min(s.len())].to_owned()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arg(name: &str, spec: Spec) -> Piece {
        Piece::Arg {
            arg: arg_ref(name).unwrap(),
            spec,
        }
    }

    #[test]
    fn escapes_and_plain_arguments() {
        let p = parse_format("{{s3}}://{}/{0}/{key}/{r#type}").unwrap();
        assert_eq!(
            p,
            vec![
                Piece::Lit("{s3}://".into()),
                arg("", Spec::default()),
                Piece::Lit("/".into()),
                arg("0", Spec::default()),
                Piece::Lit("/".into()),
                arg("key", Spec::default()),
                Piece::Lit("/".into()),
                arg("r#type", Spec::default()),
            ]
        );
    }

    #[test]
    fn specs_parse_completely() {
        let Some(v) = parse_format("{i:*^+#010.3x?}") else {
            panic!("parses")
        };
        let Piece::Arg { spec, .. } = &v[0] else {
            panic!("an argument")
        };
        assert_eq!(spec.fill, Some('*'));
        assert_eq!(spec.align, Some('^'));
        assert_eq!(spec.sign, Some('+'));
        assert!(spec.alternate && spec.zero);
        assert_eq!(spec.width, Some(Count::Lit(10)));
        assert_eq!(spec.precision, Some(Count::Lit(3)));
        assert_eq!(spec.ty, "x?");
        let v = parse_format("{:5x}").unwrap();
        assert!(
            matches!(&v[0], Piece::Arg { spec, .. } if spec.width == Some(Count::Lit(5)) && spec.ty == "x")
        );
        let v = parse_format("{:w$.p$}{:.*}{:1$}{:0$}").unwrap();
        let specs: Vec<&Spec> = v
            .iter()
            .filter_map(|p| match p {
                Piece::Arg { spec, .. } => Some(spec),
                Piece::Lit(_) => None,
            })
            .collect();
        assert_eq!(specs[0].width, Some(Count::Arg(ArgRef::Name("w".into()))));
        assert_eq!(
            specs[0].precision,
            Some(Count::Arg(ArgRef::Name("p".into())))
        );
        assert_eq!(specs[1].precision, Some(Count::Star));
        assert_eq!(specs[2].width, Some(Count::Arg(ArgRef::Index(1))));
        assert_eq!(specs[3].width, Some(Count::Arg(ArgRef::Index(0))));
        assert!(!specs[3].zero);
    }

    #[test]
    fn malformed_strings_are_refused() {
        for s in ["{", "}", "a}b", "{:Q}", "{a b}", "{:.}"] {
            assert!(parse_format(s).is_none(), "{s}");
        }
    }

    fn canonical(s: &str) -> String {
        let v = parse_format(s).unwrap();
        let Piece::Arg { spec, .. } = &v[0] else {
            panic!("an argument")
        };
        spec.canonical(&mut |c| format!("{c:?}"))
    }

    #[test]
    fn only_text_changing_specs_count() {
        assert!(parse_format("{i:}").is_some());
        for plain in ["{i}", "{i:}", "{i:<}", "{i:*>}", "{i:0}"] {
            let v = parse_format(plain).unwrap();
            assert!(
                matches!(&v[0], Piece::Arg { spec, .. } if spec.is_plain()),
                "{plain}"
            );
        }
        assert_eq!(canonical("{i:05}"), canonical("{i:05}"));
        assert_ne!(canonical("{i:05}"), canonical("{i:5}"));
        assert_ne!(canonical("{i:>5}"), canonical("{i:<5}"));
        assert_eq!(canonical("{i:>5}"), canonical("{i: >5}"));
        for changing in ["{i:05}", "{i:?}", "{i:#}", "{i:+}", "{i:.2}", "{i:x}"] {
            let v = parse_format(changing).unwrap();
            assert!(
                matches!(&v[0], Piece::Arg { spec, .. } if !spec.is_plain()),
                "{changing}"
            );
        }
    }

    fn bound(src: &str) -> Vec<String> {
        let call = format_call(src.parse().unwrap()).unwrap();
        call.bind()
            .unwrap()
            .iter()
            .map(|b| match b {
                Bound::Lit(s) => format!("lit {s}"),
                Bound::Arg { source, spec } => format!("{}:{spec}", source_key(source)),
            })
            .collect()
    }

    #[test]
    fn arguments_bind_by_position_name_and_inline() {
        assert_eq!(
            bound(r#""{}-{1}-{}-{n}-{x}", a, b, n = c"#),
            vec!["(a):", "lit -", "(b):", "lit -", "(b):", "lit -", "(c):", "lit -", "(x):"]
        );
        assert_eq!(bound(r#""{:.*}", 3, v"#), vec!["(v):.(3)"]);
        assert_eq!(bound(r#""{:w$}", v, w = 4"#), vec!["(v):(4)"]);
        assert_eq!(
            bound(r#"concat!("a/", "{i:05}", ".json"), i = 1"#),
            vec!["lit a/", "(1):05", "lit .json"]
        );
        assert!(format_call(r#""{}{}", a"#.parse().unwrap())
            .unwrap()
            .bind()
            .is_none());
        assert!(format_call(r#"FMT, a"#.parse().unwrap()).is_none());
    }

    #[test]
    fn calls_are_told_from_methods_macros_and_constructors() {
        let calls = |s: &str| calls_a_function(s.parse().unwrap());
        assert!(calls("format!(\"in/{}\", Uuid::new_v4())"));
        assert!(calls("now()"));
        assert!(!calls("format!(\"in/{}\", req.id())"));
        assert!(!calls("String::from(\"a\") + &Some(x).unwrap()"));
        assert!(!calls("String::new()"));
        assert!(!calls("if (a) { b } else { c }"));
        assert_eq!(describe_key(&binding_key("id", 42)), "id");
        assert_eq!(describe_key("self . bucket"), "self.bucket");
        assert_ne!(binding_key("id", 1), binding_key("id", 2));
    }

    #[test]
    fn a_key_mismatch_names_the_differing_part() {
        let uri = vec![
            Part::Expr("bucket".into()),
            Part::Lit("/batch/".into()),
            Part::Expr("i".into()),
            Part::Lit(".json".into()),
        ];
        let put = vec![
            Part::Expr("bucket".into()),
            Part::Lit("/batch/".into()),
            Part::Expr("i:05".into()),
            Part::Lit(".json".into()),
        ];
        let why = key_mismatch(&uri, &put).unwrap();
        assert!(why.contains("after `batch/`"), "{why}");
        assert!(
            why.contains("`{i}.json`") && why.contains("`{i:05}.json`"),
            "{why}"
        );
        assert_eq!(key_mismatch(&uri, &uri), None);
        let other_bucket = vec![Part::Lit("other/batch/".into()), Part::Expr("i".into())];
        assert_eq!(key_mismatch(&uri, &other_bucket), None);
        let same_key = vec![
            Part::Expr("self.bucket".into()),
            Part::Lit("/batch/".into()),
            Part::Expr("i".into()),
            Part::Lit(".json".into()),
        ];
        let why = key_mismatch(&uri, &same_key).unwrap();
        assert!(
            why.contains("bucket `{bucket}` is not its bucket `{self.bucket}`"),
            "{why}"
        );
        let lit_uri = vec![Part::Lit("b/x/request.json".into())];
        let lit_put = vec![Part::Lit("b/x/req.json".into())];
        let why = key_mismatch(&lit_uri, &lit_put).unwrap();
        assert!(why.contains("after `x/req`"), "{why}");
    }
}
