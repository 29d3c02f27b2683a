//! The facts of one parsed file that every site needs: its `const` strings, functions and
//! methods (for helper following), structs, inline modules with the `Blob` name in scope there
//! and where a `use` goes, and single-name imports. Built once per file; read-only after.

use std::ops::Range;
use std::path::Path;

use syn::spanned::Spanned;
use syn::{Expr, Item, UseTree};

use super::crate_scope::FileScope;
use crate::options::Strategy;
use crate::sdk::DEFAULT_CRATE;
use crate::text::SourceText;

/// A same-file function that may upload and return the URI (shape 2).
pub(crate) struct HelperFn<'a> {
    pub name: String,
    pub sig: &'a syn::Signature,
    pub block: &'a syn::Block,
    /// A method (`self.name(..)`) rather than a free function.
    pub method: bool,
    /// The `impl` block of a method or associated function.
    pub owner: Option<&'a syn::ItemImpl>,
}

/// Facts about the whole file that sites need.
pub(crate) struct FileCtx<'a, 't> {
    pub text: &'t SourceText<'t>,
    pub path: Option<&'t Path>,
    pub strategy: Strategy,
    /// `const NAME: &str = "literal";` anywhere in the file.
    pub consts: Vec<(String, String)>,
    /// Free functions of the file, for helper following.
    pub helpers: Vec<HelperFn<'a>>,
    /// Modules (file root = `0..len`) with the `Blob` name in scope there and where to add a `use`.
    pub modules: Vec<ModuleInfo>,
    /// Structs of the file (declared field types of `self.field.method(..)` receivers).
    pub structs: Vec<&'a syn::ItemStruct>,
    /// The file defines its own type named `Blob`.
    pub local_blob_type: bool,
    /// `use a::b::Leaf;` items importing one name: (leaf, item range).
    pub single_uses: Vec<(String, Range<usize>)>,
    /// The other files of the crate, when the scan resolved them (helpers across files).
    pub scope: Option<&'t FileScope<'t>>,
    /// Names of functions called for an input URI that this file does not define.
    pub wanted: std::cell::RefCell<Vec<String>>,
    /// The SDK's crate name in this package (`aws_sdk_sagemakerruntime`, or its rename).
    pub sdk_crate: &'t str,
}

/// One module's import facts.
pub(crate) struct ModuleInfo {
    /// The inline module's name (None for the file itself).
    pub name: Option<String>,
    pub range: Range<usize>,
    /// The name under which `Blob` is usable here, if any.
    pub blob_name: Option<String>,
    /// Where a new `use` goes and the text before it (line break + indentation).
    pub use_at: usize,
    pub use_prefix: String,
    pub use_suffix: String,
    /// The inline module's own `#[cfg(..)]` attributes, as written.
    pub cfg: Vec<String>,
}

/// The file-wide facts of a parsed file.
pub(crate) fn file_ctx<'a, 't>(
    text: &'t SourceText<'t>,
    path: Option<&'t Path>,
    strategy: Strategy,
    file: &'a syn::File,
    scope: Option<&'t FileScope<'t>>,
) -> FileCtx<'a, 't> {
    let mut ctx = FileCtx {
        text,
        path,
        strategy,
        consts: Vec::new(),
        helpers: Vec::new(),
        modules: Vec::new(),
        structs: Vec::new(),
        local_blob_type: false,
        single_uses: Vec::new(),
        scope,
        wanted: std::cell::RefCell::new(Vec::new()),
        sdk_crate: DEFAULT_CRATE,
    };
    scan_items(
        &mut ctx,
        &file.items,
        0..text.original.len(),
        None,
        None,
        Vec::new(),
    );
    ctx
}

fn scan_items<'a>(
    ctx: &mut FileCtx<'a, '_>,
    items: &'a [Item],
    range: Range<usize>,
    brace_open: Option<usize>,
    name: Option<String>,
    cfg: Vec<String>,
) {
    let text = ctx.text;
    let mut blob_name = None;
    let mut last_use: Option<Range<usize>> = None;
    for item in items {
        match item {
            Item::Use(u) => {
                // A `pub use` is part of the module's interface: never removed.
                let private = matches!(u.vis, syn::Visibility::Inherited);
                if let Some(leaf) = single_leaf(&u.tree).filter(|_| private) {
                    ctx.single_uses.push((leaf, text.range(u.span())));
                }
                if let Some(name) = blob_in_use_tree(&u.tree, &mut Vec::new()) {
                    blob_name = Some(name);
                }
                last_use = Some(text.range(u.span()));
            }
            Item::Const(c) => {
                if let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &*c.expr
                {
                    ctx.consts.push((c.ident.to_string(), s.value()));
                }
            }
            Item::Fn(f) => ctx.helpers.push(HelperFn {
                name: f.sig.ident.to_string(),
                sig: &f.sig,
                block: &f.block,
                method: false,
                owner: None,
            }),
            Item::Impl(i) => {
                for it in &i.items {
                    if let syn::ImplItem::Fn(f) = it {
                        ctx.helpers.push(HelperFn {
                            name: f.sig.ident.to_string(),
                            sig: &f.sig,
                            block: &f.block,
                            method: f.sig.receiver().is_some(),
                            owner: Some(i),
                        });
                    }
                }
            }
            Item::Struct(s) => {
                ctx.local_blob_type |= s.ident == "Blob";
                ctx.structs.push(s);
            }
            Item::Enum(s) if s.ident == "Blob" => ctx.local_blob_type = true,
            Item::Type(s) if s.ident == "Blob" => ctx.local_blob_type = true,
            Item::Mod(m) => {
                if let Some((brace, items)) = &m.content {
                    let r = text.range(m.span());
                    let open = text.range(brace.span.open()).end;
                    let cfg = m
                        .attrs
                        .iter()
                        .filter(|a| a.path().is_ident("cfg"))
                        .map(|a| text.original[text.range(a.span())].to_owned())
                        .collect();
                    let name = Some(m.ident.to_string());
                    scan_items(ctx, items, r, Some(open), name, cfg);
                }
            }
            _ => {}
        }
    }
    let nl = text.newline();
    let (use_at, use_prefix, use_suffix) = if let Some(u) = last_use {
        (
            u.end,
            format!("{nl}{}", text.indent_at(u.start)),
            String::new(),
        )
    } else if let Some(first) = items.first() {
        let r = text.range(first.span());
        let line = text.line_range(r.start);
        let indent = text.indent_at(r.start).to_owned();
        if text.original[line.start..r.start].trim().is_empty() {
            (line.start, indent.clone(), format!("{nl}{nl}"))
        } else {
            (r.start, String::new(), format!("{nl}{indent}"))
        }
    } else {
        (brace_open.unwrap_or(0), String::new(), nl.to_owned())
    };
    ctx.modules.push(ModuleInfo {
        name,
        range,
        blob_name,
        use_at,
        use_prefix,
        use_suffix,
        cfg,
    });
}

/// The imported name of `use a::b::Leaf;` (no groups, globs or renames).
fn single_leaf(tree: &UseTree) -> Option<String> {
    match tree {
        UseTree::Path(p) => single_leaf(&p.tree),
        UseTree::Name(n) => Some(n.ident.to_string()),
        _ => None,
    }
}

/// The name `Blob` is reachable under in this use tree, if it imports one.
fn blob_in_use_tree(tree: &UseTree, path: &mut Vec<String>) -> Option<String> {
    match tree {
        UseTree::Path(p) => {
            path.push(p.ident.to_string());
            let r = blob_in_use_tree(&p.tree, path);
            path.pop();
            r
        }
        UseTree::Name(n) if n.ident == "Blob" => Some("Blob".into()),
        UseTree::Rename(r) if r.ident == "Blob" && r.rename != "_" => Some(r.rename.to_string()),
        UseTree::Glob(_) => {
            let last = path.last().map(String::as_str);
            let first = path.first().map(String::as_str).unwrap_or("");
            let aws = first.starts_with("aws_") || path.len() >= 2;
            if last == Some("aws_smithy_types") || (last == Some("primitives") && aws) {
                Some("Blob".into())
            } else {
                None
            }
        }
        UseTree::Group(g) => g.items.iter().find_map(|t| blob_in_use_tree(t, path)),
        _ => None,
    }
}

pub(crate) fn fn_params(sig: &syn::Signature) -> (Vec<&syn::Pat>, bool) {
    let mut pats = Vec::new();
    let mut has_self = false;
    for input in &sig.inputs {
        match input {
            syn::FnArg::Typed(t) => pats.push(&*t.pat),
            syn::FnArg::Receiver(_) => has_self = true,
        }
    }
    (pats, has_self)
}
