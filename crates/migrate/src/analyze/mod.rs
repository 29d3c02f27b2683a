//! Analysis of one file: text in, edits and verdicts out. Never touches the file system.

// Built strings as values, and macro inputs parsed as code.
mod macros;
mod value;

mod collect;
pub(crate) mod crate_scope;
pub(crate) mod dead;
mod dead_imports;
mod method;
mod pretty;
pub(crate) mod references;
mod resolve;
pub(crate) mod site;

use std::ops::Range;
use std::path::Path;

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Item, UseTree};

use crate::edit::EditSet;
use crate::options::Strategy;
use crate::text::SourceText;
use crate::verdict::{Site, SkipReason, Verdict};

/// The method every call site calls: an identifier, so a file without these bytes has no site.
pub(crate) const SITE_METHOD: &str = "invoke_endpoint_async";

/// The result of analysing one file.
pub(crate) struct Analysis {
    pub edits: EditSet,
    pub sites: Vec<Site>,
    pub hints: Vec<String>,
    /// Functions called for an input URI that are not defined in this file (last path
    /// segment): analysing again with the crate's [`crate_scope::CrateScope`] may follow them.
    pub wanted_helpers: Vec<String>,
    /// Helpers the rewrite left unmentioned in this file that may be visible elsewhere.
    pub dead_candidates: Vec<dead::CrateCandidate>,
}

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
    pub scope: Option<&'t crate_scope::FileScope<'t>>,
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

/// Analyse `src`. `path` is used to resolve `include_bytes!` sizes; `scope` (if any) holds the
/// other files of the crate, for helpers defined there.
pub(crate) fn analyze(
    src: &str,
    path: Option<&Path>,
    strategy: Strategy,
    scope: Option<&crate_scope::FileScope<'_>>,
    sdk_crate: &str,
) -> Result<Analysis, syn::Error> {
    // A file that never names the call has no site, so no edit, hint or wanted helper: its
    // parse (for parse errors) is all the work it needs. Checked before the line table is built.
    if memchr::memmem::find(src.as_bytes(), SITE_METHOD.as_bytes()).is_none() {
        let code = src.strip_prefix(crate::text::BOM).unwrap_or(src);
        syn::parse_file(code)?;
        return Ok(Analysis {
            edits: EditSet::new(src),
            sites: Vec::new(),
            hints: Vec::new(),
            wanted_helpers: Vec::new(),
            dead_candidates: Vec::new(),
        });
    }
    let text = SourceText::new(src);
    let file = syn::parse_file(text.code())?;
    let mut ctx = file_ctx(&text, path, strategy, &file, scope);
    ctx.sdk_crate = sdk_crate;
    let mut edits = EditSet::new(src);
    let mut sites = Vec::new();
    let mut hints = Vec::new();
    let mut finder = FnFinder {
        ctx: &ctx,
        edits: &mut edits,
        sites: &mut sites,
        hints: &mut hints,
    };
    finder.visit_file(&file);
    let dead_candidates = dead::remove_dead_helpers(&text, &file, &mut edits, &mut hints);
    remove_dead_imports(&ctx, &mut edits, &mut hints);
    dead_imports::remove_dead_group_members(&text, &file, &mut edits, &mut hints);
    sites.sort_by_key(|s| s.range.start);
    hints.sort();
    hints.dedup();
    let mut wanted_helpers = ctx.wanted.take();
    wanted_helpers.sort();
    wanted_helpers.dedup();
    Ok(Analysis {
        edits,
        sites,
        hints,
        wanted_helpers,
        dead_candidates,
    })
}

/// The file-wide facts of a parsed file.
pub(crate) fn file_ctx<'a, 't>(
    text: &'t SourceText<'t>,
    path: Option<&'t Path>,
    strategy: Strategy,
    file: &'a syn::File,
    scope: Option<&'t crate_scope::FileScope<'t>>,
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
        sdk_crate: crate::sdk::DEFAULT_CRATE,
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

/// The rewrite removes every mention of some imported names (`ByteStream`, `Uuid`, a helper
/// it no longer calls, a name only a removed dead helper used): drop their now-unused
/// single-name private imports too, so `-D warnings` builds keep passing. An import that was
/// unused before the rewrite stays as it was.
pub(crate) fn remove_dead_imports(
    ctx: &FileCtx<'_, '_>,
    edits: &mut EditSet,
    hints: &mut Vec<String>,
) {
    if edits.is_empty() {
        return;
    }
    let output = edits.apply();
    // `ByteStream`/`Uuid` first: their removal keeps the `Blob` import's insertion point.
    let special = |leaf: &str| leaf == "ByteStream" || leaf == "Uuid";
    let mut uses: Vec<&(String, Range<usize>)> = ctx.single_uses.iter().collect();
    uses.sort_by_key(|(leaf, _)| !special(leaf));
    for (leaf, range) in uses {
        if word_count(ctx.text.original, leaf) > 1 && word_count(&output, leaf) == 1 {
            let line = ctx.text.line_col(range.start).0;
            let text = ctx.text;
            let whole = crate::edit::Edit::delete(text.expand_to_lines(range.clone()));
            // With a blank line around it when that leaves no double blank line.
            if dead::delete_item(text, range.clone(), edits) {
                hints.push(format!("removed the import of `{leaf}` on line {line}: nothing uses it after the rewrite"));
                continue;
            }
            // When the `Blob` import is added right after this item, keep that insertion point:
            // delete from the previous line break to the end of the item instead.
            let nl = text.newline();
            let line_start = text.line_range(range.start).start;
            let from_break = line_start
                .checked_sub(nl.len())
                .filter(|&b| text.original.get(b..line_start) == Some(nl))
                .filter(|_| text.original[line_start..range.start].trim().is_empty())
                .map(|b| crate::edit::Edit::delete(b..range.end));
            let removed = edits.transaction(vec![whole]).is_ok()
                || from_break.is_some_and(|e| edits.transaction(vec![e]).is_ok());
            if removed {
                hints.push(format!("removed the import of `{leaf}` on line {line}: nothing uses it after the rewrite"));
            }
        }
    }
}

/// Occurrences of `word` as a whole identifier in `text`.
pub(crate) fn word_count(text: &str, word: &str) -> usize {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word)
        .filter(|(i, _)| {
            !text[..*i].chars().next_back().is_some_and(ident)
                && !text[i + word.len()..].chars().next().is_some_and(ident)
        })
        .count()
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

/// Finds function bodies and `macro_rules!` definitions.
struct FnFinder<'c, 'a, 't> {
    ctx: &'c FileCtx<'a, 't>,
    edits: &'c mut EditSet,
    sites: &'c mut Vec<Site>,
    hints: &'c mut Vec<String>,
}

impl FnFinder<'_, '_, '_> {
    fn body<'p>(
        &mut self,
        params: impl IntoIterator<Item = &'p syn::Pat>,
        block: &syn::Block,
        self_param: bool,
    ) {
        let text = self.ctx.text;
        let range = text.range(block.span());
        // Macro bodies that parse as expressions or statements are analysed like code.
        let macros = macros::collect(block);
        self.unparsed_macros(&macros.unparsed);
        let arena = macros.bodies;
        let mut c = collect::Collector::new(text, range);
        c.add_params(params);
        if self_param {
            c.info.params.push("self".into());
        }
        c.add_tokens(block.to_token_stream());
        c.visit_block(block);
        for body in &arena {
            match body {
                macros::MacroBody::Exprs(es) => es.iter().for_each(|e| c.visit_expr(e)),
                macros::MacroBody::Block(b) => c.visit_block(b),
            }
        }
        let info = c.info;
        site::analyze_fn(self.ctx, &info, self.edits, self.sites, self.hints);
    }

    /// A macro in item position: its items are analysed when its input is items, else its
    /// sites are reported as not analysed.
    fn item_level_macro(&mut self, mac: &syn::Macro) {
        let mut at = Vec::new();
        macros::find_ident(mac.tokens.clone(), "invoke_endpoint_async", &mut at);
        if at.is_empty() {
            return;
        }
        match syn::parse2::<syn::File>(mac.tokens.clone()) {
            Ok(file) => self.visit_file(&file),
            Err(_) => self.unparsed_macros(&[(macros::macro_name(mac), at)]),
        }
    }

    /// Sites inside macros that could not be parsed: reported, never dropped.
    fn unparsed_macros(&mut self, unparsed: &[(String, Vec<proc_macro2::Span>)]) {
        for (name, spans) in unparsed {
            self.skipped_at(spans, &SkipReason::InsideMacro(name.clone()));
        }
    }

    /// A skipped site at each `invoke_endpoint_async` in `spans`.
    fn skipped_at(&mut self, spans: &[proc_macro2::Span], reason: &SkipReason) {
        for span in spans {
            let range = self.ctx.text.range(*span);
            let (line, column) = self.ctx.text.line_col(range.start);
            self.sites.push(Site {
                line,
                column,
                range,
                verdict: Verdict::Skipped {
                    reason: reason.clone(),
                },
                notes: Vec::new(),
            });
        }
    }
}

impl<'ast> Visit<'ast> for FnFinder<'_, '_, '_> {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        let (pats, has_self) = fn_params(&f.sig);
        self.body(pats, &f.block, has_self);
        syn::visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        let (pats, has_self) = fn_params(&f.sig);
        self.body(pats, &f.block, has_self);
        syn::visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if let Some(b) = &f.default {
            let (pats, has_self) = fn_params(&f.sig);
            self.body(pats, b, has_self);
        }
        syn::visit::visit_trait_item_fn(self, f);
    }

    fn visit_item_macro(&mut self, m: &'ast syn::ItemMacro) {
        if m.mac.path.is_ident("macro_rules") {
            let mut at = Vec::new();
            macros::find_ident(m.mac.tokens.clone(), "invoke_endpoint_async", &mut at);
            self.skipped_at(&at, &SkipReason::MacroRules);
        } else {
            self.item_level_macro(&m.mac);
        }
    }

    fn visit_impl_item_macro(&mut self, m: &'ast syn::ImplItemMacro) {
        self.item_level_macro(&m.mac);
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
