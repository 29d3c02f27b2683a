//! Reading one crate for [`CrateScope`]: its targets' module trees under `src/` (through `mod`
//! items and `#[path]`, `#[cfg]` modules in every configuration), each module's functions with
//! a wanted name (followed in their own file with `summarize_helper`), its methods, structs and
//! `use` items. Each file is parsed once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::{Item, UseTree};

use super::crate_scope::{
    CrateScope, FnEntry, MethodEntry, Module, StructEntry, Target, UseEntry, MAX_DEPTH, MAX_FILES,
};
use super::file::{file_ctx, FileCtx};
use super::site::summarize_helper;
use super::types::{impl_type_name, type_ref};
use crate::options::Strategy;
use crate::text::SourceText;

/// The items of one file or inline module that matter here, without spans.
#[derive(Default, Clone)]
struct Items {
    fns: Vec<FnEntry>,
    uses: Vec<UseEntry>,
    mods: Vec<ModDecl>,
    methods: Vec<MethodEntry>,
    structs: Vec<StructEntry>,
}

#[derive(Clone)]
struct ModDecl {
    name: String,
    path_attr: Option<String>,
    inline: Option<Items>,
    /// Its `#[cfg(..)]` attributes, as written.
    cfg: Vec<String>,
}

impl CrateScope {
    /// Read the targets of the package at `manifest_dir` (`src/lib.rs`, `src/main.rs`,
    /// `src/bin/*.rs`) and follow their `mod` items, keeping functions named in `wanted`.
    pub fn build(manifest_dir: &Path, wanted: &[String]) -> CrateScope {
        let src = manifest_dir.join("src");
        let mut roots = vec![(src.join("lib.rs"), true), (src.join("main.rs"), false)];
        if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
            let mut bins: Vec<PathBuf> = entries
                .flatten()
                .map(|e| e.path())
                .filter_map(|p| {
                    if p.extension().is_some_and(|x| x == "rs") {
                        Some(p)
                    } else {
                        Some(p.join("main.rs")).filter(|m| m.is_file())
                    }
                })
                .collect();
            bins.sort();
            roots.extend(bins.into_iter().map(|p| (p, false)));
        }
        let mut loader = Loader {
            wanted,
            parsed: HashMap::new(),
        };
        let mut targets = Vec::new();
        for (root, lib) in roots.into_iter().filter(|(r, _)| r.is_file()) {
            let mut target = Target {
                lib,
                modules: Vec::new(),
            };
            let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
            loader.file_module(&mut target, &root, dir, Vec::new(), None, 0);
            targets.push(target);
        }
        for t in &mut targets {
            // Parents come before their children: each module's chain extends its parent's.
            for i in 0..t.modules.len() {
                let mut cfg = t.modules[i]
                    .parent
                    .map(|p| t.modules[p].cfg.clone())
                    .unwrap_or_default();
                cfg.extend(t.modules[i].own_cfg.iter().cloned());
                t.modules[i].cfg = cfg;
            }
            for m in &mut t.modules {
                let methods = m.methods.iter_mut().map(|e| &mut e.entry);
                for f in m.fns.iter_mut().chain(methods) {
                    f.cfg = m.cfg.clone();
                    // Messages name the file from the package root, like cargo does.
                    if let Ok(rel) = f.file.strip_prefix(manifest_dir) {
                        f.file = rel.to_path_buf();
                    }
                }
            }
        }
        let lib_ident = crate::manifest::library_ident(manifest_dir);
        CrateScope { targets, lib_ident }
    }
}

struct Loader<'w> {
    wanted: &'w [String],
    /// Files read so far (each file is parsed once even when two targets declare it).
    parsed: HashMap<PathBuf, Option<Items>>,
}

impl Loader<'_> {
    /// Add the module in `file` (and its descendants) to `target`.
    fn file_module(
        &mut self,
        target: &mut Target,
        file: &Path,
        child_dir: PathBuf,
        path: Vec<String>,
        parent: Option<usize>,
        depth: u32,
    ) -> Option<usize> {
        if depth > MAX_DEPTH || target.modules.len() >= MAX_FILES {
            return None;
        }
        // A `#[path]` loop would declare a file inside itself.
        let mut up = parent;
        while let Some(p) = up {
            if !target.modules[p].inline && target.modules[p].file == file {
                return None;
            }
            up = target.modules[p].parent;
        }
        let items = self.items(file)?;
        let index = target.modules.len();
        target.modules.push(empty_module(path, file, false, parent));
        let file_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
        self.fill(target, index, items, file, &file_dir, child_dir, depth);
        Some(index)
    }

    /// Move `items` into module `index` and load the modules it declares.
    #[allow(clippy::too_many_arguments)]
    fn fill(
        &mut self,
        target: &mut Target,
        index: usize,
        items: Items,
        file: &Path,
        file_dir: &Path,
        child_dir: PathBuf,
        depth: u32,
    ) {
        let Items {
            mut fns,
            uses,
            mods,
            mut methods,
            structs,
        } = items;
        let module_path = &target.modules[index].path;
        let qualify = |last: &[&String]| {
            module_path
                .iter()
                .chain(last.iter().copied())
                .cloned()
                .collect::<Vec<_>>()
                .join("::")
        };
        for f in &mut fns {
            f.qualified = qualify(&[&f.name]);
        }
        for m in &mut methods {
            m.entry.qualified = qualify(&[&m.ty, &m.entry.name]);
        }
        target.modules[index].fns = fns;
        target.modules[index].uses = uses;
        target.modules[index].methods = methods;
        target.modules[index].structs = structs;
        let base = target.modules[index].path.clone();
        for decl in mods {
            let mut path = base.clone();
            path.push(decl.name.clone());
            let child = match decl.inline {
                Some(inner) => {
                    let c = target.modules.len();
                    target
                        .modules
                        .push(empty_module(path, file, true, Some(index)));
                    let dir = child_dir.join(&decl.name);
                    self.fill(target, c, inner, file, file_dir, dir, depth + 1);
                    Some(c)
                }
                None => {
                    let (found, dir) = match &decl.path_attr {
                        Some(p) => {
                            let f = if target.modules[index].inline {
                                child_dir.join(p)
                            } else {
                                file_dir.join(p)
                            };
                            let d = f.parent().map(Path::to_path_buf).unwrap_or_default();
                            (f.is_file().then_some(f), d)
                        }
                        None => {
                            let flat = child_dir.join(format!("{}.rs", decl.name));
                            let nested = child_dir.join(&decl.name).join("mod.rs");
                            match (flat.is_file(), nested.is_file()) {
                                (true, false) => (Some(flat), child_dir.join(&decl.name)),
                                (false, true) => (Some(nested), child_dir.join(&decl.name)),
                                // Neither, or both (rustc rejects that): not a module here.
                                _ => (None, PathBuf::new()),
                            }
                        }
                    };
                    found.and_then(|f| {
                        self.file_module(target, &f, dir, path, Some(index), depth + 1)
                    })
                }
            };
            if let Some(c) = child {
                target.modules[c].own_cfg = decl.cfg;
                target.modules[index].children.push((decl.name, c));
            }
        }
    }

    /// The items of `file` (None when it cannot be read or parsed), parsed once even when
    /// two targets declare the file.
    fn items(&mut self, file: &Path) -> Option<Items> {
        if let Some(cached) = self.parsed.get(file) {
            return cached.clone();
        }
        let items = std::fs::read_to_string(file)
            .ok()
            .and_then(|text| summarize_file(&text, file, self.wanted));
        self.parsed.insert(file.to_path_buf(), items.clone());
        items
    }
}

/// A module with nothing in it yet (its items are filled in next).
fn empty_module(path: Vec<String>, file: &Path, inline: bool, parent: Option<usize>) -> Module {
    Module {
        path,
        file: file.to_path_buf(),
        inline,
        parent,
        children: Vec::new(),
        fns: Vec::new(),
        uses: Vec::new(),
        methods: Vec::new(),
        structs: Vec::new(),
        own_cfg: Vec::new(),
        cfg: Vec::new(),
    }
}

/// Parse one file: its module-level functions named in `wanted` (followed here), its `use`
/// items and its `mod` declarations, recursively through inline modules.
fn summarize_file(src: &str, path: &Path, wanted: &[String]) -> Option<Items> {
    let text = SourceText::new(src);
    let parsed = syn::parse_file(text.code()).ok();
    let items = parsed.as_ref().map(|file| {
        let ctx = file_ctx(&text, Some(path), Strategy::Auto, file, None);
        collect_items(&ctx, &file.items, wanted)
    });
    // The spans of this parse are not needed any more (the summaries own their data).
    proc_macro2::extra::invalidate_current_thread_spans();
    items
}

fn collect_items<'a>(ctx: &FileCtx<'a, '_>, items: &'a [Item], wanted: &[String]) -> Items {
    let mut out = Items::default();
    for item in items {
        match item {
            Item::Fn(f) if wanted.iter().any(|w| f.sig.ident == w) => {
                out.fns.push(fn_entry(ctx, &f.sig, &f.block));
            }
            Item::Impl(i) => {
                let Some(ty) = impl_type_name(i) else {
                    continue;
                };
                let trait_name = i
                    .trait_
                    .as_ref()
                    .and_then(|(_, p, _)| p.segments.last())
                    .map(|s| s.ident.to_string());
                for it in &i.items {
                    let syn::ImplItem::Fn(f) = it else { continue };
                    if !wanted.iter().any(|w| f.sig.ident == w) {
                        continue;
                    }
                    out.methods.push(MethodEntry {
                        ty: ty.clone(),
                        trait_name: trait_name.clone(),
                        entry: fn_entry(ctx, &f.sig, &f.block),
                    });
                }
            }
            Item::Struct(st) => {
                let generics: Vec<String> = st
                    .generics
                    .type_params()
                    .map(|p| p.ident.to_string())
                    .collect();
                let name = st.ident.to_string();
                let fields = st
                    .fields
                    .iter()
                    .filter_map(|f| {
                        let ty = type_ref(&f.ty, Some(&name), &generics);
                        Some((f.ident.as_ref()?.to_string(), ty))
                    })
                    .collect();
                out.structs.push(StructEntry { name, fields });
            }
            Item::Use(u) => flatten_use(&u.tree, &mut Vec::new(), &mut out.uses),
            Item::Mod(m) => {
                let path_attr = m.attrs.iter().find_map(|a| {
                    if !a.path().is_ident("path") {
                        return None;
                    }
                    match &a.meta {
                        syn::Meta::NameValue(nv) => match &nv.value {
                            syn::Expr::Lit(syn::ExprLit {
                                lit: syn::Lit::Str(s),
                                ..
                            }) => Some(s.value()),
                            _ => None,
                        },
                        _ => None,
                    }
                });
                let inline = m
                    .content
                    .as_ref()
                    .map(|(_, inner)| collect_items(ctx, inner, wanted));
                let cfg: Vec<String> = m
                    .attrs
                    .iter()
                    .filter(|a| a.path().is_ident("cfg"))
                    .map(|a| ctx.text.original[ctx.text.range(a.span())].to_owned())
                    .collect();
                let name = m.ident.to_string();
                // `#[cfg_attr(PRED, path = "..")]`: that file under PRED, the usual one otherwise.
                if let Some((pred, alt)) = cfg_attr_path(ctx, m) {
                    let mut with = cfg.clone();
                    with.push(format!("#[cfg({pred})]"));
                    out.mods.push(ModDecl {
                        name: name.clone(),
                        path_attr: Some(alt),
                        inline: None,
                        cfg: with,
                    });
                    let mut without = cfg;
                    without.push(format!("#[cfg(not({pred}))]"));
                    out.mods.push(ModDecl {
                        name,
                        path_attr,
                        inline,
                        cfg: without,
                    });
                } else {
                    out.mods.push(ModDecl {
                        name,
                        path_attr,
                        inline,
                        cfg,
                    });
                }
            }
            _ => {}
        }
    }
    out
}

/// `#[cfg_attr(PRED, path = "FILE")]` on a `mod` item: PRED as written and FILE.
fn cfg_attr_path(ctx: &FileCtx<'_, '_>, m: &syn::ItemMod) -> Option<(String, String)> {
    use syn::punctuated::Punctuated;
    m.attrs.iter().find_map(|a| {
        if !a.path().is_ident("cfg_attr") {
            return None;
        }
        let metas = a
            .parse_args_with(Punctuated::<syn::Meta, syn::Token![,]>::parse_terminated)
            .ok()?;
        let mut metas = metas.iter();
        let pred = metas.next()?;
        let file = metas.find_map(|meta| match meta {
            syn::Meta::NameValue(nv) if nv.path.is_ident("path") => match &nv.value {
                syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })?;
        let pred = ctx.text.original[ctx.text.range(pred.span())].to_owned();
        Some((pred, file))
    })
}

/// A function or method with a wanted name, followed in its own file.
fn fn_entry<'a>(ctx: &FileCtx<'a, '_>, sig: &'a syn::Signature, block: &'a syn::Block) -> FnEntry {
    let line = ctx.text.line_col(ctx.text.range(sig.ident.span()).start).0;
    FnEntry {
        file: ctx.path.map(Path::to_path_buf).unwrap_or_default(),
        line,
        summary: summarize_helper(ctx, sig, block),
        cfg: Vec::new(),
        name: sig.ident.to_string(),
        qualified: String::new(),
    }
}

fn flatten_use(tree: &UseTree, prefix: &mut Vec<String>, out: &mut Vec<UseEntry>) {
    match tree {
        UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, out);
            prefix.pop();
        }
        UseTree::Name(n) if n.ident == "self" => {
            if let Some(last) = prefix.last() {
                out.push(UseEntry {
                    alias: Some(last.clone()),
                    path: prefix.clone(),
                });
            }
        }
        UseTree::Name(n) => {
            let mut path = prefix.clone();
            path.push(n.ident.to_string());
            out.push(UseEntry {
                alias: Some(n.ident.to_string()),
                path,
            });
        }
        UseTree::Rename(r) => {
            let mut path = prefix.clone();
            if r.ident != "self" {
                path.push(r.ident.to_string());
            }
            out.push(UseEntry {
                alias: Some(r.rename.to_string()),
                path,
            });
        }
        UseTree::Glob(_) => out.push(UseEntry {
            alias: None,
            path: prefix.clone(),
        }),
        UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, out);
            }
        }
    }
}
