//! The reference search behind dead-helper removal: how often each name is mentioned in
//! source text, counted over its tokens so that every way of naming an item counts (a call, a
//! path, a `use`, a function pointer, a macro body, a string literal such as a `format!`
//! argument) but comments and doc comments do not. A text that does not tokenize is counted
//! word by word, comments included: that can only keep an item that is in fact dead, never
//! remove a live one.

use std::collections::HashMap;
use std::str::FromStr;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

/// Mentions of every identifier in `text`.
pub(crate) fn mention_counts(text: &str) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    let code = text.strip_prefix('\u{feff}').unwrap_or(text);
    match TokenStream::from_str(code) {
        Ok(tokens) => count_tokens(tokens, &mut counts),
        Err(_) => count_words(code, &mut counts),
    }
    counts
}

/// Mentions of `name` in `counts`.
pub(crate) fn count(counts: &HashMap<String, usize>, name: &str) -> usize {
    counts.get(name).copied().unwrap_or(0)
}

fn count_tokens(tokens: TokenStream, counts: &mut HashMap<String, usize>) {
    let mut iter = tokens.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match tt {
            TokenTree::Ident(i) => {
                let s = i.to_string();
                let s = s.strip_prefix("r#").map(str::to_owned).unwrap_or(s);
                *counts.entry(s).or_insert(0) += 1;
            }
            TokenTree::Literal(l) => count_words(&l.to_string(), counts),
            TokenTree::Group(g) => count_tokens(g.stream(), counts),
            TokenTree::Punct(p) if p.as_char() == '#' => {
                // `#[doc = ".."]` / `#![doc = ".."]`: what comments turn into.
                if matches!(iter.peek(), Some(TokenTree::Punct(q)) if q.as_char() == '!') {
                    iter.next();
                }
                if let Some(TokenTree::Group(g)) = iter.peek() {
                    let doc = g.delimiter() == Delimiter::Bracket
                        && matches!(g.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc");
                    if doc {
                        iter.next();
                    }
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

fn count_words(text: &str, counts: &mut HashMap<String, usize>) {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    for word in text.split(|c: char| !ident(c)).filter(|w| !w.is_empty()) {
        *counts.entry(word.to_owned()).or_insert(0) += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_mentions_count_and_comments_do_not() {
        let text = "//! `upload` in a doc comment\n/// and `upload` here\n// and upload here\n\
            fn upload() {} fn upload_all() { upload(); let f = upload; r#upload; m!(upload); \
            println!(\"{upload:?}\"); /* upload */ }";
        let counts = mention_counts(text);
        assert_eq!(count(&counts, "upload"), 6);
        assert_eq!(count(&counts, "upload_all"), 1);
        assert_eq!(count(&counts, "load"), 0);
    }

    #[test]
    fn text_that_does_not_tokenize_is_counted_word_by_word() {
        let counts = mention_counts("fn upload() { // upload\n");
        assert_eq!(count(&counts, "upload"), 2);
    }
}
