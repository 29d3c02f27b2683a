//! The tidy rule that modules inside a crate form layers: no two sibling modules use each
//! other, directly or around a longer circle.
//!
//! Each `.rs` file of a crate's `src/` is one module. A reference is any `crate::`, `super::`
//! or `self::` path, in `use` items and in code, outside `#[cfg(test)]` items (a test may
//! reach anywhere). A reference between a module and one of its ancestors is how Rust nests
//! modules and is allowed; any other reference is lifted to the two siblings under the
//! modules' closest common ancestor (`analyze/site/branch.rs` using `analyze/value.rs` is
//! `site → value` inside `analyze`). A circle among the siblings of one parent is a cycle.
//! Items re-exported at the crate root are read as the root's, so a cycle through a root
//! re-export is not seen; the crates' own modules import by module path.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// A module by its path from the crate root (`["analyze", "site"]`).
type ModulePath = Vec<String>;

/// One reference from a module to another, as found in a file.
#[derive(Debug, Clone)]
struct Reference {
    to: ModulePath,
    file: PathBuf,
    line: usize,
}

/// Every module file of the crate at `src`, with its module path, without the files of
/// modules declared `#[cfg(test)]`.
fn module_files(src: &Path) -> Vec<(ModulePath, PathBuf)> {
    let mut files = Vec::new();
    collect(src, src, &mut files);
    let test_only: BTreeSet<ModulePath> = files
        .iter()
        .flat_map(|(module, file)| test_only_children(module, file))
        .collect();
    files
        .into_iter()
        .filter(|(module, _)| !test_only.iter().any(|t| module.starts_with(t)))
        .collect()
}

fn collect(src: &Path, dir: &Path, out: &mut Vec<(ModulePath, PathBuf)>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(src, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push((module_path(src, &path), path));
        }
    }
}

fn module_path(src: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: ModulePath = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        a.path().is_ident("cfg")
            && a.parse_args::<syn::Meta>()
                .is_ok_and(|m| m.path().is_ident("test"))
    })
}

fn parse(file: &Path) -> syn::File {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    syn::parse_file(&text).unwrap_or_else(|e| panic!("{} does not parse: {e}", file.display()))
}

/// The children of `module` that its file declares `#[cfg(test)] mod x;`.
fn test_only_children(module: &ModulePath, file: &Path) -> Vec<ModulePath> {
    parse(file)
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Mod(m) if m.content.is_none() && is_cfg_test(&m.attrs) => {
                let mut child = module.clone();
                child.push(m.ident.to_string());
                Some(child)
            }
            _ => None,
        })
        .collect()
}

/// Collects the `crate::`/`super::`/`self::` paths of one file, resolved to absolute paths.
struct PathCollector<'a> {
    module: &'a ModulePath,
    file: &'a Path,
    found: Vec<Reference>,
}

impl PathCollector<'_> {
    /// Resolves a path's leading `crate`/`super`/`self` segments; `None` for any other path
    /// (an extern crate, a local name, a child module used by its bare name).
    fn resolve(&self, segments: &[String]) -> Option<ModulePath> {
        let mut base = match segments.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super") | Some("self") => self.module.clone(),
            _ => return None,
        };
        let mut rest = &segments[1..];
        if segments[0] == "super" {
            base.pop();
        }
        while rest.first().map(String::as_str) == Some("super") {
            base.pop();
            rest = &rest[1..];
        }
        base.extend(rest.iter().cloned());
        Some(base)
    }

    fn add(&mut self, segments: &[String], line: usize) {
        if let Some(to) = self.resolve(segments) {
            self.found.push(Reference {
                to,
                file: self.file.to_path_buf(),
                line,
            });
        }
    }

    fn use_tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.use_tree(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => {
                let line = n.ident.span().start().line;
                let mut full = prefix.clone();
                if n.ident != "self" {
                    full.push(n.ident.to_string());
                }
                self.add(&full, line);
            }
            syn::UseTree::Rename(r) => {
                let line = r.ident.span().start().line;
                let mut full = prefix.clone();
                full.push(r.ident.to_string());
                self.add(&full, line);
            }
            syn::UseTree::Glob(g) => {
                let line = g.star_token.span.start().line;
                self.add(prefix, line);
            }
            syn::UseTree::Group(g) => {
                for item in &g.items {
                    self.use_tree(prefix, item);
                }
            }
        }
    }
}

impl<'ast> Visit<'ast> for PathCollector<'_> {
    fn visit_item(&mut self, item: &'ast syn::Item) {
        let attrs = match item {
            syn::Item::Mod(m) => &m.attrs,
            syn::Item::Fn(f) => &f.attrs,
            syn::Item::Impl(i) => &i.attrs,
            syn::Item::Use(u) => &u.attrs,
            syn::Item::Const(c) => &c.attrs,
            syn::Item::Static(s) => &s.attrs,
            syn::Item::Struct(s) => &s.attrs,
            syn::Item::Enum(e) => &e.attrs,
            syn::Item::Trait(t) => &t.attrs,
            syn::Item::Macro(m) => &m.attrs,
            _ => return syn::visit::visit_item(self, item),
        };
        if !is_cfg_test(attrs) {
            syn::visit::visit_item(self, item);
        }
    }

    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        self.use_tree(&mut Vec::new(), &item.tree);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        if let Some(first) = path.segments.first() {
            self.add(&segments, first.ident.span().start().line);
        }
        syn::visit::visit_path(self, path);
    }
}

/// The deepest module of `modules` that `to` names (an item's path names its module).
fn owning_module<'m>(modules: &'m BTreeSet<ModulePath>, to: &ModulePath) -> Option<&'m ModulePath> {
    (0..=to.len())
        .rev()
        .find_map(|n| modules.get(&to[..n].to_vec()))
}

/// Every circle among sibling modules of the crate at `src`, each as its modules in order and
/// one reference per step.
pub(crate) fn cycles(src: &Path) -> Vec<String> {
    let files = module_files(src);
    let modules: BTreeSet<ModulePath> = files.iter().map(|(m, _)| m.clone()).collect();
    // parent → (sibling → sibling → an example reference)
    let mut edges: BTreeMap<ModulePath, BTreeMap<String, BTreeMap<String, Reference>>> =
        BTreeMap::new();
    for (module, file) in &files {
        let mut collector = PathCollector {
            module,
            file,
            found: Vec::new(),
        };
        collector.visit_file(&parse(file));
        for reference in collector.found {
            let Some(to) = owning_module(&modules, &reference.to) else {
                continue;
            };
            if module.starts_with(to) || to.starts_with(module) {
                continue;
            }
            let common = module.iter().zip(to).take_while(|(a, b)| a == b).count();
            edges
                .entry(module[..common].to_vec())
                .or_default()
                .entry(module[common].clone())
                .or_default()
                .entry(to[common].clone())
                .or_insert(reference);
        }
    }
    let mut found = Vec::new();
    for (parent, graph) in &edges {
        for component in strongly_connected(graph) {
            let steps: Vec<String> = component
                .iter()
                .flat_map(|from| {
                    graph[from]
                        .iter()
                        .filter(|(to, _)| component.contains(*to))
                        .map(move |(to, r)| {
                            format!("{from} → {to} ({}:{})", r.file.display(), r.line)
                        })
                })
                .collect();
            found.push(format!(
                "in `{}`: {}",
                if parent.is_empty() {
                    "crate".to_string()
                } else {
                    parent.join("::")
                },
                steps.join("; ")
            ));
        }
    }
    found
}

/// The strongly connected components of more than one node (Tarjan's algorithm).
fn strongly_connected(
    graph: &BTreeMap<String, BTreeMap<String, Reference>>,
) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeMap<String, Reference>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        out: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, node: &'g str) {
        let i = s.index.len();
        s.index.insert(node, i);
        s.low.insert(node, i);
        s.stack.push(node);
        s.on_stack.insert(node);
        if let Some(next) = s.graph.get(node) {
            for to in next.keys() {
                let to = to.as_str();
                if !s.index.contains_key(to) {
                    visit(s, to);
                    let low = s.low[node].min(s.low[to]);
                    s.low.insert(node, low);
                } else if s.on_stack.contains(to) {
                    let low = s.low[node].min(s.index[to]);
                    s.low.insert(node, low);
                }
            }
        }
        if s.low[node] == s.index[node] {
            let mut component = BTreeSet::new();
            while let Some(top) = s.stack.pop() {
                s.on_stack.remove(top);
                component.insert(top.to_string());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                s.out.push(component);
            }
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, file: &str, text: &str) {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create dir");
        }
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn a_circle_between_siblings_is_found_and_a_parent_child_pair_is_not() {
        let dir = tempfile_dir("module-cycles");
        write(
            &dir,
            "lib.rs",
            "//! x\nmod a;\nmod b;\nmod c;\n#[cfg(test)]\nmod t;\n",
        );
        write(
            &dir,
            "a/mod.rs",
            "//! a\nmod inner;\npub struct A;\nuse crate::b::B;\n",
        );
        write(&dir, "a/inner.rs", "//! a::inner\nuse super::A;\n");
        write(
            &dir,
            "b.rs",
            "//! b\npub struct B;\nfn f() { crate::c::g(); }\n",
        );
        write(&dir, "c.rs", "//! c\npub fn g() {}\nuse crate::a::inner::*;\n#[cfg(test)]\nmod tests { use crate::b::B; }\n");
        write(
            &dir,
            "t.rs",
            "//! test-only\nuse crate::a::A;\nuse crate::b::B;\n",
        );
        let found = cycles(&dir);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("in `crate`: a → b"), "{found:?}");
        assert!(
            found[0].contains("b → c") && found[0].contains("c → a"),
            "{found:?}"
        );

        // Breaking one edge breaks the circle; a test module's reference is no edge.
        write(&dir, "b.rs", "//! b\npub struct B;\n");
        assert_eq!(cycles(&dir), Vec::<String>::new());
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn tempfile_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("bodyline-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    /// The crates where the issue found circles, and every other product crate.
    #[test]
    fn no_crate_has_a_module_cycle() {
        let root = crate::project_root();
        let mut report = Vec::new();
        let Ok(crates) = std::fs::read_dir(root.join("crates")) else {
            panic!("no crates/ under {}", root.display());
        };
        let mut crates: Vec<PathBuf> = crates.flatten().map(|e| e.path()).collect();
        crates.sort();
        for krate in crates {
            let src = krate.join("src");
            if src.is_dir() {
                for cycle in cycles(&src) {
                    report.push(format!("{}: {cycle}", krate.display()));
                }
            }
        }
        assert!(report.is_empty(), "module cycles:\n{}", report.join("\n"));
    }
}
