//! Helpers across the files of one crate: the module tree under `src/` (from `mod` items),
//! each module's functions (followed in their own file) and `use` items, and name resolution
//! from a call site to the one function it calls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use syn::spanned::Spanned;
use syn::{Item, UseTree};

use super::method::{impl_type_name, type_ref, TypeRef};
use super::site::{summarize_helper, HelperUpload};
use crate::options::Strategy;
use crate::text::SourceText;

/// Bounds that keep a pathological crate (generated modules, `#[path]` loops) cheap.
const MAX_FILES: usize = 4096;
const MAX_DEPTH: u32 = 16;

/// A module-level function of the crate with a wanted name, followed in its own file.
#[derive(Clone)]
pub(crate) struct FnEntry {
    /// The file, relative to the package root.
    pub file: PathBuf,
    pub line: usize,
    pub summary: Result<HelperUpload, String>,
    /// The `#[cfg(..)]` attributes of its module and the modules above it, as written.
    pub cfg: Vec<String>,
    name: String,
    /// `module::name` from the target's root, for messages.
    qualified: String,
}

/// `use PATH as ALIAS;` (alias None: a glob `use PATH::*;`).
#[derive(Clone)]
struct UseEntry {
    alias: Option<String>,
    path: Vec<String>,
}

struct Module {
    /// Module path from the target's root (for messages).
    path: Vec<String>,
    file: PathBuf,
    inline: bool,
    parent: Option<usize>,
    children: Vec<(String, usize)>,
    fns: Vec<FnEntry>,
    uses: Vec<UseEntry>,
    methods: Vec<MethodEntry>,
    structs: Vec<StructEntry>,
    /// The `#[cfg(..)]` attributes of its own `mod` item (a `cfg_attr` path alternative as
    /// the `cfg` it stands for).
    own_cfg: Vec<String>,
    /// `own_cfg` of this module and every module above it.
    cfg: Vec<String>,
}

/// A method with a wanted name, in an `impl` block of the type named `ty` (last segment).
#[derive(Clone)]
struct MethodEntry {
    ty: String,
    /// `impl Trait for ty`: the trait's name.
    trait_name: Option<String>,
    entry: FnEntry,
}

/// A struct's named fields and their declared types.
#[derive(Clone)]
struct StructEntry {
    name: String,
    fields: Vec<(String, Option<TypeRef>)>,
}

/// One compilation target: the library or a binary; `modules[0]` is its root.
struct Target {
    lib: bool,
    modules: Vec<Module>,
}

/// The module trees of one package's targets, with the functions named in `wanted`.
pub(crate) struct CrateScope {
    targets: Vec<Target>,
    /// The library's name as binaries spell it (`my_app::storage::upload`).
    lib_ident: Option<String>,
}

/// The crate as seen from one of its files.
pub(crate) struct FileScope<'s> {
    pub scope: &'s CrateScope,
    pub file: &'s Path,
}

/// What a called path names in the crate.
pub(crate) enum Resolution<'s> {
    /// No function of the crate (an external crate, a local closure, unknown).
    NotInCrate,
    /// Exactly one function.
    Found(&'s FnEntry),
    /// Several functions may be meant (described).
    Ambiguous(Vec<String>),
}

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

    /// The inherent method `method` of the types named `ty` anywhere in the crate's module
    /// trees. Err: no inherent method, but `impl Trait for ty` has one (the trait's name).
    pub fn method(&self, ty: &str, method: &str) -> Result<Resolution<'_>, String> {
        let mut found: Vec<&FnEntry> = Vec::new();
        let mut trait_name = None;
        let all = self.targets.iter().flat_map(|t| &t.modules);
        for m in all.flat_map(|m| &m.methods) {
            if m.ty != ty || m.entry.name != method {
                continue;
            }
            match &m.trait_name {
                Some(tr) => trait_name = Some(tr.clone()),
                // Two targets may include the same file: one method.
                None if found
                    .iter()
                    .any(|f| f.file == m.entry.file && f.line == m.entry.line) => {}
                None => found.push(&m.entry),
            }
        }
        match (found.len(), trait_name) {
            (0, Some(tr)) => Err(tr),
            (0, None) => Ok(Resolution::NotInCrate),
            (1, _) => Ok(Resolution::Found(found[0])),
            _ if cfg_alternatives(&found) => Ok(Resolution::Found(found[0])),
            _ => Ok(Resolution::Ambiguous(
                found.iter().map(|f| describe(f)).collect(),
            )),
        }
    }

    /// The declared type of `field` of the struct named `owner` (None when no struct or
    /// several structs of that name declare it differently).
    pub fn field_type(&self, owner: &str, field: &str) -> Option<TypeRef> {
        let mut types = self
            .targets
            .iter()
            .flat_map(|t| &t.modules)
            .flat_map(|m| &m.structs)
            .filter(|s| s.name == owner)
            .filter_map(|s| s.fields.iter().find(|(f, _)| f == field))
            .map(|(_, ty)| ty.clone());
        let first = types.next()??;
        types.all(|t| t.as_ref() == Some(&first)).then_some(first)
    }

    /// When `file` is a module compiled only under some `#[cfg]` (its own `mod` item's or an
    /// enclosing one's): its module path and those attributes.
    pub fn file_cfg(&self, file: &Path) -> Option<(String, Vec<String>)> {
        self.targets
            .iter()
            .flat_map(|t| &t.modules)
            .find(|m| !m.inline && m.file == file && !m.cfg.is_empty())
            .map(|m| (m.path.join("::"), m.cfg.clone()))
    }

    /// True when `file` is a module of some target.
    pub fn contains(&self, file: &Path) -> bool {
        self.targets
            .iter()
            .any(|t| t.modules.iter().any(|m| m.file == file))
    }
}

impl<'s> FileScope<'s> {
    /// Resolve the called path `segments`, written inside the inline modules `inline` (outer
    /// first) of this file.
    pub fn resolve(&self, inline: &[String], segments: &[String]) -> Resolution<'s> {
        let scope = self.scope;
        let mut found: Vec<&'s FnEntry> = Vec::new();
        for (ti, t) in scope.targets.iter().enumerate() {
            for (mi, m) in t.modules.iter().enumerate() {
                if m.inline || m.file != self.file {
                    continue;
                }
                let Some(cur) = descend(t, mi, inline) else {
                    continue;
                };
                for item in scope.path(ti, cur, segments, 0) {
                    if let Named::Fn(f) = item {
                        if !found.iter().any(|g| std::ptr::eq(*g, f)) {
                            found.push(f);
                        }
                    }
                }
            }
        }
        match found.len() {
            0 => Resolution::NotInCrate,
            1 => Resolution::Found(found[0]),
            _ if cfg_alternatives(&found) => Resolution::Found(found[0]),
            _ => Resolution::Ambiguous(found.iter().map(|f| describe(f)).collect()),
        }
    }
}

/// Several definitions, each in a module under its own `#[cfg]` (one per configuration),
/// that all upload the same parameter the same way: following any of them is following all.
fn cfg_alternatives(found: &[&FnEntry]) -> bool {
    let distinct = found
        .iter()
        .enumerate()
        .all(|(i, f)| !f.cfg.is_empty() && found[..i].iter().all(|g| g.cfg != f.cfg));
    let first = found[0].summary.as_ref().ok();
    distinct && first.is_some() && found.iter().all(|f| f.summary.as_ref().ok() == first)
}

/// A candidate for messages: its path, place and configuration.
fn describe(f: &FnEntry) -> String {
    let place = format!("`{}` at {}:{}", f.qualified, f.file.display(), f.line);
    if f.cfg.is_empty() {
        place
    } else {
        format!("{place} (under `{}`)", f.cfg.join(" "))
    }
}

/// What a name means in a module.
enum Named<'s> {
    Module(usize, usize),
    Fn(&'s FnEntry),
}

fn descend(t: &Target, mut m: usize, inline: &[String]) -> Option<usize> {
    for name in inline {
        m = t.modules[m]
            .children
            .iter()
            .find(|(n, c)| n == name && t.modules[*c].inline)?
            .1;
    }
    Some(m)
}

impl CrateScope {
    /// What `segments` names, seen from module `m` of target `t`.
    fn path(&self, t: usize, m: usize, segments: &[String], depth: u32) -> Vec<Named<'_>> {
        let Some((first, rest)) = segments.split_first() else {
            return Vec::new();
        };
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let mut at: Vec<Named<'_>> = match first.as_str() {
            "crate" => vec![Named::Module(t, 0)],
            seg => self.step(t, m, seg, depth),
        };
        for seg in rest {
            let mut next = Vec::new();
            for item in at {
                if let Named::Module(t2, m2) = item {
                    next.extend(self.step(t2, m2, seg, depth));
                }
            }
            at = next;
        }
        at
    }

    /// What the path segment `seg` names inside module `m` of target `t`.
    fn step(&self, t: usize, m: usize, seg: &str, depth: u32) -> Vec<Named<'_>> {
        match seg {
            "self" => vec![Named::Module(t, m)],
            "super" => self.targets[t].modules[m]
                .parent
                .map(|p| Named::Module(t, p))
                .into_iter()
                .collect(),
            name => self.lookup(t, m, name, depth + 1),
        }
    }

    /// What `name` means in module `m` of target `t`: its own modules, functions and imports,
    /// else what glob imports bring (explicit names shadow globs, as in Rust).
    fn lookup(&self, t: usize, m: usize, name: &str, depth: u32) -> Vec<Named<'_>> {
        if depth > MAX_DEPTH {
            return Vec::new();
        }
        let module = &self.targets[t].modules[m];
        let mut out: Vec<Named<'_>> = Vec::new();
        out.extend(
            module
                .children
                .iter()
                .filter(|(n, _)| n == name)
                .map(|(_, c)| Named::Module(t, *c)),
        );
        out.extend(module.fns.iter().filter(|f| f.name == name).map(Named::Fn));
        for u in &module.uses {
            if u.alias.as_deref() == Some(name) {
                out.extend(self.path(t, m, &u.path, depth + 1));
            }
        }
        if out.is_empty() {
            for u in module.uses.iter().filter(|u| u.alias.is_none()) {
                for item in self.path(t, m, &u.path, depth + 1) {
                    if let Named::Module(t2, m2) = item {
                        out.extend(self.lookup(t2, m2, name, depth + 1));
                    }
                }
            }
        }
        if out.is_empty() && self.lib_ident.as_deref() == Some(name) && !self.targets[t].lib {
            if let Some(lib) = self.targets.iter().position(|t| t.lib) {
                out.push(Named::Module(lib, 0));
            }
        }
        out
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
        target.modules.push(Module {
            path,
            file: file.to_path_buf(),
            inline: false,
            parent,
            children: Vec::new(),
            fns: Vec::new(),
            uses: Vec::new(),
            methods: Vec::new(),
            structs: Vec::new(),
            own_cfg: Vec::new(),
            cfg: Vec::new(),
        });
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
                    target.modules.push(Module {
                        path,
                        file: file.to_path_buf(),
                        inline: true,
                        parent: Some(index),
                        children: Vec::new(),
                        fns: Vec::new(),
                        uses: Vec::new(),
                        methods: Vec::new(),
                        structs: Vec::new(),
                        own_cfg: Vec::new(),
                        cfg: Vec::new(),
                    });
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

/// Parse one file: its module-level functions named in `wanted` (followed here), its `use`
/// items and its `mod` declarations, recursively through inline modules.
fn summarize_file(src: &str, path: &Path, wanted: &[String]) -> Option<Items> {
    let text = SourceText::new(src);
    let parsed = syn::parse_file(text.code()).ok();
    let items = parsed.as_ref().map(|file| {
        let ctx = super::file_ctx(&text, Some(path), Strategy::Auto, file, None);
        collect_items(&ctx, &file.items, wanted)
    });
    // The spans of this parse are not needed any more (the summaries own their data).
    proc_macro2::extra::invalidate_current_thread_spans();
    items
}

fn collect_items<'a>(ctx: &super::FileCtx<'a, '_>, items: &'a [Item], wanted: &[String]) -> Items {
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
fn cfg_attr_path(ctx: &super::FileCtx<'_, '_>, m: &syn::ItemMod) -> Option<(String, String)> {
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
fn fn_entry<'a>(
    ctx: &super::FileCtx<'a, '_>,
    sig: &'a syn::Signature,
    block: &'a syn::Block,
) -> FnEntry {
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
