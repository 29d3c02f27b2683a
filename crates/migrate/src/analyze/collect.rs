//! One pass over a function body: blocks, statements, `let` bindings, method-call chains, parameters.

use std::ops::Range;

use proc_macro2::{TokenStream, TokenTree};
use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, ExprMethodCall, Pat, Stmt};

use crate::text::SourceText;

/// A block and its statements.
pub(crate) struct BlockInfo<'a> {
    pub range: Range<usize>,
    pub stmts: Vec<(&'a Stmt, Range<usize>)>,
}

/// `let NAME = INIT;`
pub(crate) struct LetInfo<'a> {
    pub name: String,
    pub mutable: bool,
    pub init: Option<&'a Expr>,
    pub stmt_range: Range<usize>,
    /// Range of the block the binding lives in.
    pub scope: Range<usize>,
}

/// An outermost method-call chain `root.a(..).b(..)`; `links[0]` is the innermost call.
pub(crate) struct Chain<'a> {
    pub links: Vec<&'a ExprMethodCall>,
    pub root: &'a Expr,
    pub range: Range<usize>,
}

impl<'a> Chain<'a> {
    pub fn top(&self) -> &'a ExprMethodCall {
        self.links[self.links.len() - 1]
    }

    pub fn position(&self, name: &str) -> Option<usize> {
        self.links
            .iter()
            .position(|m| m.method == name && m.args.is_empty())
    }

    pub fn root_ident(&self) -> Option<String> {
        path_ident(self.root)
    }
}

/// The single identifier of a path expression.
pub(crate) fn path_ident(e: &Expr) -> Option<String> {
    match e {
        Expr::Path(p) if p.qself.is_none() => p.path.get_ident().map(|i| i.to_string()),
        Expr::Paren(p) => path_ident(&p.expr),
        _ => None,
    }
}

/// Everything the analysis needs to know about one function body.
#[derive(Default)]
pub(crate) struct FnInfo<'a> {
    pub blocks: Vec<BlockInfo<'a>>,
    pub lets: Vec<LetInfo<'a>>,
    pub chains: Vec<Chain<'a>>,
    /// Parameter names (function and closure parameters).
    pub params: Vec<String>,
    /// Every identifier token (and `{name}` inside string literals) with its byte offset.
    pub idents: Vec<(String, usize)>,
    pub range: Range<usize>,
    /// `else` blocks of `if` expressions that already branch on the inline size limit.
    pub size_else: Vec<Range<usize>>,
}

impl<'a> FnInfo<'a> {
    /// The binding `name` visible at byte offset `at`.
    pub fn find_let(&self, name: &str, at: usize) -> Option<usize> {
        self.lets
            .iter()
            .enumerate()
            .filter(|(_, l)| {
                l.name == name && l.stmt_range.end <= at && l.scope.start <= at && at < l.scope.end
            })
            .max_by_key(|(_, l)| l.stmt_range.start)
            .map(|(i, _)| i)
    }

    /// The innermost statement containing `range`: (block index, statement index).
    pub fn stmt_containing(&self, range: &Range<usize>) -> Option<(usize, usize)> {
        let mut best: Option<(usize, usize, usize)> = None;
        for (bi, b) in self.blocks.iter().enumerate() {
            for (si, (_, r)) in b.stmts.iter().enumerate() {
                if r.start <= range.start && range.end <= r.end {
                    let len = r.end - r.start;
                    if best.is_none_or(|(_, _, l)| len < l) {
                        best = Some((bi, si, len));
                    }
                }
            }
        }
        best.map(|(b, s, _)| (b, s))
    }

    /// Uses of `name` at offsets in `within`, outside every range in `skip`.
    pub fn uses(&self, name: &str, within: Range<usize>, skip: &[Range<usize>]) -> Vec<usize> {
        self.idents
            .iter()
            .filter(|(n, at)| {
                n == name && within.contains(at) && !skip.iter().any(|r| r.contains(at))
            })
            .map(|(_, at)| *at)
            .collect()
    }

    /// Identifiers within `range`.
    pub fn idents_in(&self, range: &Range<usize>) -> Vec<(String, usize)> {
        self.idents
            .iter()
            .filter(|(_, at)| range.contains(at))
            .cloned()
            .collect()
    }
}

/// Collects [`FnInfo`] for a body; nested items are skipped (they are analysed on their own).
pub(crate) struct Collector<'a, 't> {
    pub text: &'t SourceText<'t>,
    pub info: FnInfo<'a>,
    scopes: Vec<Range<usize>>,
}

impl<'a, 't> Collector<'a, 't> {
    pub fn new(text: &'t SourceText<'t>, range: Range<usize>) -> Self {
        let info = FnInfo {
            range: range.clone(),
            ..FnInfo::default()
        };
        Collector {
            text,
            info,
            scopes: vec![range],
        }
    }

    pub fn add_params<'p>(&mut self, pats: impl IntoIterator<Item = &'p Pat>) {
        for p in pats {
            pat_idents(p, &mut self.info.params);
        }
    }

    pub fn add_tokens(&mut self, tokens: TokenStream) {
        collect_idents(self.text, tokens, &mut self.info.idents);
    }
}

/// Identifier names bound by a pattern.
pub(crate) fn pat_idents(p: &Pat, out: &mut Vec<String>) {
    match p {
        Pat::Ident(i) => out.push(i.ident.to_string()),
        Pat::Type(t) => pat_idents(&t.pat, out),
        Pat::Reference(r) => pat_idents(&r.pat, out),
        Pat::Tuple(t) => t.elems.iter().for_each(|p| pat_idents(p, out)),
        Pat::TupleStruct(t) => t.elems.iter().for_each(|p| pat_idents(p, out)),
        Pat::Struct(s) => s.fields.iter().for_each(|f| pat_idents(&f.pat, out)),
        Pat::Slice(s) => s.elems.iter().for_each(|p| pat_idents(p, out)),
        _ => {}
    }
}

fn collect_idents(text: &SourceText<'_>, tokens: TokenStream, out: &mut Vec<(String, usize)>) {
    for tt in tokens {
        match tt {
            TokenTree::Ident(i) => out.push((i.to_string(), text.offset(i.span().start()))),
            TokenTree::Group(g) => collect_idents(text, g.stream(), out),
            TokenTree::Literal(l) => {
                // Inline format arguments (`"{key}"`) use a binding from inside a string.
                let s = l.to_string();
                if s.contains('{') && (s.starts_with('"') || s.starts_with('r')) {
                    let at = text.offset(l.span().start());
                    for name in inline_format_names(&s) {
                        out.push((name, at));
                    }
                }
            }
            TokenTree::Punct(_) => {}
        }
    }
}

/// Names in `{name}` / `{name:spec}` placeholders of a string literal's source.
pub(crate) fn inline_format_names(s: &str) -> Vec<String> {
    let mut names = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'{' {
            if b.get(i + 1) == Some(&b'{') {
                i += 2;
                continue;
            }
            let rest = &s[i + 1..];
            let end = rest.find(['}', ':']).unwrap_or(rest.len());
            let name = rest[..end].trim();
            if !name.is_empty()
                && name.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit())
            {
                names.push(name.to_owned());
            }
        }
        i += 1;
    }
    names
}

impl<'a> Visit<'a> for Collector<'a, '_> {
    fn visit_block(&mut self, b: &'a syn::Block) {
        let range = self.text.range(b.span());
        let stmts = b
            .stmts
            .iter()
            .map(|s| (s, self.text.range(s.span())))
            .collect();
        self.info.blocks.push(BlockInfo {
            range: range.clone(),
            stmts,
        });
        self.scopes.push(range);
        syn::visit::visit_block(self, b);
        self.scopes.pop();
    }

    fn visit_local(&mut self, l: &'a syn::Local) {
        let mut names = Vec::new();
        pat_idents(&l.pat, &mut names);
        let mutable = match &l.pat {
            Pat::Ident(i) => i.mutability.is_some(),
            Pat::Type(t) => matches!(&*t.pat, Pat::Ident(i) if i.mutability.is_some()),
            _ => false,
        };
        let single = matches!(&l.pat, Pat::Ident(_))
            || matches!(&l.pat, Pat::Type(t) if matches!(&*t.pat, Pat::Ident(_)));
        let scope = self.scopes.last().cloned().unwrap_or(0..0);
        let stmt_range = self.text.range(l.span());
        for name in names {
            let init = if single && l.init.as_ref().is_some_and(|i| i.diverge.is_none()) {
                l.init.as_ref().map(|i| &*i.expr)
            } else {
                None
            };
            self.info.lets.push(LetInfo {
                name,
                mutable,
                init,
                stmt_range: stmt_range.clone(),
                scope: scope.clone(),
            });
        }
        syn::visit::visit_local(self, l);
    }

    fn visit_expr_if(&mut self, i: &'a syn::ExprIf) {
        if let Some((_, els)) = &i.else_branch {
            let cond = i.cond.to_token_stream().to_string().replace(' ', "");
            // The size branch migrate writes names the limit (`terms`), with or without `_`.
            let limit = bodyline_terms::MAX_INLINE_BODY_BYTES.to_string();
            if cond.contains(bodyline_terms::MAX_INLINE_BODY_LITERAL) || cond.contains(&limit) {
                self.info.size_else.push(self.text.range(els.span()));
            }
        }
        syn::visit::visit_expr_if(self, i);
    }

    fn visit_expr_closure(&mut self, c: &'a syn::ExprClosure) {
        for p in &c.inputs {
            pat_idents(p, &mut self.info.params);
        }
        syn::visit::visit_expr_closure(self, c);
    }

    fn visit_expr_method_call(&mut self, m: &'a ExprMethodCall) {
        let mut links = vec![m];
        let mut root: &'a Expr = &m.receiver;
        while let Expr::MethodCall(inner) = root {
            links.push(inner);
            root = &inner.receiver;
        }
        links.reverse();
        let range = self.text.range(m.span());
        for link in &links {
            for arg in &link.args {
                self.visit_expr(arg);
            }
        }
        self.visit_expr(root);
        self.info.chains.push(Chain { links, root, range });
    }

    // Nested items are separate functions; macros are handled by the caller.
    fn visit_item(&mut self, _: &'a syn::Item) {}
    fn visit_macro(&mut self, _: &'a syn::Macro) {}
}
