//! Helpers across the files of one crate: the module tree under `src/` (from `mod` items),
//! each module's functions (followed in their own file) and `use` items, and name resolution
//! from a call site to the one function it calls. `crate_load` reads the crate into it.

use std::path::{Path, PathBuf};

use super::types::TypeRef;

/// Bounds that keep a pathological crate (generated modules, `#[path]` loops) cheap.
pub(super) const MAX_FILES: usize = 4096;
pub(super) const MAX_DEPTH: u32 = 16;

/// What following a helper found: it uploads its parameter number `payload_param` (receiver
/// not counted) under the URI it returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HelperUpload {
    pub payload_param: usize,
    /// The upload's literal `content_type`, as written.
    pub content_type: Option<String>,
}

/// A module-level function of the crate with a wanted name, followed in its own file.
#[derive(Clone)]
pub(crate) struct FnEntry {
    /// The file, relative to the package root.
    pub file: PathBuf,
    pub line: usize,
    pub summary: Result<HelperUpload, String>,
    /// The `#[cfg(..)]` attributes of its module and the modules above it, as written.
    pub cfg: Vec<String>,
    pub(super) name: String,
    /// `module::name` from the target's root, for messages.
    pub(super) qualified: String,
}

/// `use PATH as ALIAS;` (alias None: a glob `use PATH::*;`).
#[derive(Clone)]
pub(super) struct UseEntry {
    pub(super) alias: Option<String>,
    pub(super) path: Vec<String>,
}

pub(super) struct Module {
    /// Module path from the target's root (for messages).
    pub(super) path: Vec<String>,
    pub(super) file: PathBuf,
    pub(super) inline: bool,
    pub(super) parent: Option<usize>,
    pub(super) children: Vec<(String, usize)>,
    pub(super) fns: Vec<FnEntry>,
    pub(super) uses: Vec<UseEntry>,
    pub(super) methods: Vec<MethodEntry>,
    pub(super) structs: Vec<StructEntry>,
    /// The `#[cfg(..)]` attributes of its own `mod` item (a `cfg_attr` path alternative as
    /// the `cfg` it stands for).
    pub(super) own_cfg: Vec<String>,
    /// `own_cfg` of this module and every module above it.
    pub(super) cfg: Vec<String>,
}

/// A method with a wanted name, in an `impl` block of the type named `ty` (last segment).
#[derive(Clone)]
pub(super) struct MethodEntry {
    pub(super) ty: String,
    /// `impl Trait for ty`: the trait's name.
    pub(super) trait_name: Option<String>,
    pub(super) entry: FnEntry,
}

/// A struct's named fields and their declared types.
#[derive(Clone)]
pub(super) struct StructEntry {
    pub(super) name: String,
    pub(super) fields: Vec<(String, Option<TypeRef>)>,
}

/// One compilation target: the library or a binary; `modules[0]` is its root.
pub(super) struct Target {
    pub(super) lib: bool,
    pub(super) modules: Vec<Module>,
}

/// The module trees of one package's targets, with the functions named in `wanted`.
pub(crate) struct CrateScope {
    pub(super) targets: Vec<Target>,
    /// The library's name as binaries spell it (`my_app::storage::upload`).
    pub(super) lib_ident: Option<String>,
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

impl CrateScope {
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
