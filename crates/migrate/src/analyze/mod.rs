//! Analysis of one file: text in, edits and verdicts out. Never touches the file system.

// Built strings as values, and macro inputs parsed as code.
mod macros;
mod value;

mod collect;
mod crate_load;
pub(crate) mod crate_scope;
pub(crate) mod dead;
pub(crate) mod dead_imports;
mod file;
mod method;
mod pretty;
pub(crate) mod references;
mod resolve;
pub(crate) mod site;
mod types;

use std::path::Path;

use quote::ToTokens;
use syn::spanned::Spanned;
use syn::visit::Visit;

use file::{file_ctx, fn_params, FileCtx};

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
    dead_imports::remove_dead_imports(&ctx, &mut edits, &mut hints);
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
