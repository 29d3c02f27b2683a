//! Which package a file belongs to: the nearest `Cargo.toml` with a `[package]` above it, that
//! package's name and its library's name. The one place migrate looks for manifests (the scan,
//! the SDK requirement, the S3-input report, `--verify-build` and the crate-wide passes all ask
//! here). Reads manifests; writes nothing; knows nothing of the analysis.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The nearest `Cargo.toml` with a `[package]` above a file, cached per directory.
#[derive(Default)]
pub(crate) struct ManifestCache {
    dirs: HashMap<PathBuf, Option<PathBuf>>,
}

impl ManifestCache {
    /// The manifest of the package holding `file`, if any.
    pub(crate) fn manifest_of(&mut self, file: &Path) -> Option<PathBuf> {
        let dir = file.parent()?;
        self.in_dir(dir)
    }

    fn in_dir(&mut self, dir: &Path) -> Option<PathBuf> {
        if let Some(m) = self.dirs.get(dir) {
            return m.clone();
        }
        let candidate = if dir.as_os_str().is_empty() {
            Path::new("Cargo.toml").to_path_buf()
        } else {
            dir.join("Cargo.toml")
        };
        let found = if is_package_manifest(&candidate) {
            Some(candidate)
        } else {
            // A relative path ends at "" (the current directory, looked at above), so
            // `src/x.rs` still finds `./Cargo.toml`.
            dir.parent().and_then(|parent| self.in_dir(parent))
        };
        self.dirs.insert(dir.to_path_buf(), found.clone());
        found
    }
}

/// The package manifest of `file` looked up from its absolute path, so that a relative path
/// with no `Cargo.toml` under the working directory still finds its package.
pub(crate) fn package_manifest(file: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(file).ok()?;
    ManifestCache::default().manifest_of(&abs)
}

/// The directory of the nearest `Cargo.toml` of any kind (a package or a workspace) above `file`.
pub(crate) fn nearest_manifest_dir(file: &Path) -> Option<PathBuf> {
    file.ancestors()
        .skip(1)
        .find(|d| d.join("Cargo.toml").is_file())
        .map(Path::to_path_buf)
}

/// True when `path` is a `Cargo.toml` with a `[package]` table (not a virtual workspace).
fn is_package_manifest(path: &Path) -> bool {
    // A cheap look first: this runs for every directory of a large tree.
    std::fs::read_to_string(path).is_ok_and(|text| {
        text.contains("package")
            && toml::from_str::<toml::Table>(&text).is_ok_and(|t| t.contains_key("package"))
    })
}

/// A `Cargo.toml` as a table; None when it cannot be read or parsed.
fn manifest_table(manifest: &Path) -> Option<toml::Table> {
    let text = std::fs::read_to_string(manifest).ok()?;
    toml::from_str(&text).ok()
}

/// `package.name` of a manifest; empty when it cannot be read.
pub(crate) fn package_name(manifest: &Path) -> String {
    manifest_table(manifest)
        .and_then(|t| {
            t.get("package")?
                .get("name")?
                .as_str()
                .map(ToOwned::to_owned)
        })
        .unwrap_or_default()
}

/// The library's crate name as an identifier (`[lib] name`, else the package name) of the
/// package at `manifest_dir`.
pub(crate) fn library_ident(manifest_dir: &Path) -> Option<String> {
    let table = manifest_table(&manifest_dir.join("Cargo.toml"))?;
    let name = table
        .get("lib")
        .and_then(|l| l.get("name"))
        .or_else(|| table.get("package").and_then(|p| p.get("name")))?
        .as_str()?;
    Some(name.replace('-', "_"))
}

/// True when the package at `manifest_dir` declares a `[lib]` table.
pub(crate) fn declares_lib(manifest_dir: &Path) -> bool {
    manifest_table(&manifest_dir.join("Cargo.toml")).is_some_and(|t| t.get("lib").is_some())
}

/// A package: its manifest and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// The package's `Cargo.toml`, as found from the walked path.
    pub manifest: PathBuf,
    /// `package.name`; empty when it cannot be read.
    pub name: String,
}

/// The package of every walked file, by directory: what the S3-input report groups by.
#[derive(Debug, Clone, Default)]
pub struct PackageIndex {
    by_dir: HashMap<PathBuf, Option<usize>>,
    by_manifest: HashMap<PathBuf, usize>,
    packages: Vec<Package>,
}

impl PackageIndex {
    /// Look up the package of each of `files` (one lookup per directory).
    pub(crate) fn of_files<'p>(files: impl IntoIterator<Item = &'p PathBuf>) -> PackageIndex {
        let mut cache = ManifestCache::default();
        let mut index = PackageIndex::default();
        for file in files {
            let Some(dir) = file.parent() else { continue };
            if index.by_dir.contains_key(dir) {
                continue;
            }
            let package = cache.manifest_of(file).map(|manifest| {
                let packages = &mut index.packages;
                *index
                    .by_manifest
                    .entry(manifest.clone())
                    .or_insert_with(|| {
                        let name = package_name(&manifest);
                        packages.push(Package { manifest, name });
                        packages.len() - 1
                    })
            });
            index.by_dir.insert(dir.to_path_buf(), package);
        }
        index
    }

    /// The package of `file`, when it was looked up and has one.
    pub fn package_of(&self, file: &Path) -> Option<&Package> {
        let i = (*self.by_dir.get(file.parent()?)?)?;
        self.packages.get(i)
    }
}
