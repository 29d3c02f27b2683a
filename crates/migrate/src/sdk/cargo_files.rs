//! Reading what cargo reads, without cargo: a package's dependency on the SDK (in
//! `[dependencies]`, a `[target.'cfg(..)'.dependencies]` table, or inherited from the workspace
//! root's `[workspace.dependencies]`), and the version its `Cargo.lock` resolves it to.

use std::ops::Range;
use std::path::{Path, PathBuf};

use toml_edit::{ImDocument, Item};

use super::package::SDK_PACKAGE;

/// A parsed `Cargo.toml` with the spans of its values.
pub(crate) struct Manifest {
    pub path: PathBuf,
    pub doc: ImDocument<String>,
}

impl Manifest {
    pub(crate) fn load(path: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(path).ok()?;
        let doc = ImDocument::parse(text).ok()?;
        Some(Manifest {
            path: path.to_path_buf(),
            doc,
        })
    }

    pub(crate) fn text(&self) -> &str {
        self.doc.raw()
    }

    /// `package.name`.
    pub(crate) fn package_name(&self) -> Option<&str> {
        self.doc.get("package")?.get("name")?.as_str()
    }

    fn is_workspace_root(&self) -> bool {
        self.doc.get("workspace").is_some()
    }
}

/// One dependency entry on the SDK, as written in a manifest.
pub(crate) struct Entry<'a> {
    /// The table it is in, as written in a header: `dependencies`,
    /// `target.'cfg(unix)'.dependencies`, `workspace.dependencies`.
    pub table: String,
    /// The dependency's key: the crate's name in code (with `-` as `_`).
    pub key: String,
    pub item: &'a Item,
}

/// The SDK entry among a package's normal dependencies (`[dependencies]` first, then each
/// `[target.*.dependencies]`), with `workspace` resolving `{ workspace = true }` entries.
pub(crate) fn sdk_entry<'a>(
    package: &'a Manifest,
    workspace: Option<&'a Manifest>,
) -> Option<(Entry<'a>, Option<Entry<'a>>)> {
    let mut tables: Vec<(String, &Item)> = Vec::new();
    if let Some(deps) = package.doc.get("dependencies") {
        tables.push(("dependencies".into(), deps));
    }
    if let Some(targets) = package.doc.get("target").and_then(Item::as_table_like) {
        for (cfg, target) in targets.iter() {
            if let Some(deps) = target.get("dependencies") {
                tables.push((format!("target.{}.dependencies", quoted_key(cfg)), deps));
            }
        }
    }
    let workspace_deps = workspace.and_then(|w| w.doc.get("workspace")?.get("dependencies"));
    for (table, deps) in tables {
        let Some(deps) = deps.as_table_like() else {
            continue;
        };
        for (key, item) in deps.iter() {
            let entry = Entry {
                table: table.clone(),
                key: key.to_owned(),
                item,
            };
            if inherits(item) {
                let Some(inherited) = workspace_deps.and_then(|d| d.get(key)) else {
                    continue;
                };
                if is_sdk(key, inherited) {
                    let root = Entry {
                        table: "workspace.dependencies".into(),
                        key: key.to_owned(),
                        item: inherited,
                    };
                    return Some((entry, Some(root)));
                }
            } else if is_sdk(key, item) {
                return Some((entry, None));
            }
        }
    }
    None
}

/// A table key as it would be written in a header: bare when it can be, else quoted.
fn quoted_key(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if bare {
        key.to_owned()
    } else {
        format!("'{key}'")
    }
}

/// `{ workspace = true }` or `x.workspace = true`.
fn inherits(item: &Item) -> bool {
    item.as_table_like()
        .and_then(|t| t.get("workspace"))
        .and_then(Item::as_bool)
        == Some(true)
}

/// The entry names the SDK package: its `package` key, else its own key.
fn is_sdk(key: &str, item: &Item) -> bool {
    match item
        .as_table_like()
        .and_then(|t| t.get("package"))
        .and_then(Item::as_str)
    {
        Some(package) => package == SDK_PACKAGE,
        None => key == SDK_PACKAGE,
    }
}

/// The version requirement of an entry and the byte range of its string literal (quotes
/// included); None for entries without one (git or path dependencies).
pub(crate) fn requirement(item: &Item) -> Option<(String, Range<usize>)> {
    let value = match item {
        Item::Value(v) if v.is_str() => v,
        _ => item.as_table_like()?.get("version")?.as_value()?,
    };
    Some((value.as_str()?.to_owned(), value.span()?))
}

/// The workspace root manifest of a package: `package.workspace` when set, else the package
/// itself when it has `[workspace]`, else the nearest ancestor with `[workspace]`.
pub(crate) fn workspace_root(package: &Manifest) -> Option<Manifest> {
    let dir = package.path.parent()?;
    if let Some(rel) = package
        .doc
        .get("package")
        .and_then(|p| p.get("workspace"))
        .and_then(Item::as_str)
    {
        return Manifest::load(&dir.join(rel).join("Cargo.toml"));
    }
    if package.is_workspace_root() {
        return None;
    }
    let abs = std::path::absolute(dir).ok()?;
    abs.ancestors()
        .skip(1)
        .filter_map(|d| Manifest::load(&d.join("Cargo.toml")))
        .find(Manifest::is_workspace_root)
}

/// The SDK version `lock` resolves for the path package `package`, when the lock lists it.
pub(crate) fn locked_version(lock: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(lock).ok()?;
    let table: toml::Table = toml::from_str(&text).ok()?;
    let packages = table.get("package")?.as_array()?;
    let field =
        |p: &toml::Value, k: &str| p.get(k).and_then(toml::Value::as_str).map(str::to_owned);
    let own = packages
        .iter()
        .find(|p| field(p, "name").as_deref() == Some(package) && p.get("source").is_none())?;
    let dependency = own
        .get("dependencies")?
        .as_array()?
        .iter()
        .filter_map(toml::Value::as_str)
        .find(|d| d.split_whitespace().next() == Some(SDK_PACKAGE))?;
    // "name", "name version" or "name version (source)": the version only when the lock holds
    // several versions of the package.
    if let Some(version) = dependency.split_whitespace().nth(1) {
        return Some(version.to_owned());
    }
    packages
        .iter()
        .find(|p| field(p, "name").as_deref() == Some(SDK_PACKAGE))
        .and_then(|p| field(p, "version"))
}
