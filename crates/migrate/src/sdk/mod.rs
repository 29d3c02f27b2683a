//! The SDK requirement follows the migration: per package with a call site to rewrite, which
//! `aws-sdk-sagemakerruntime` it requires, where that requirement is declared and which version
//! its `Cargo.lock` resolves. A lock from before `body` (1.123.0) is reported, and
//! [`manifest_edits`] raise the requirement by replacing only its string literal, so comments,
//! order and spacing of the manifest stay as they were. Reads files; writes nothing.

mod cargo_files;
mod package;
mod raise;

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::edit::{Edit, EditSet};
use crate::manifest::ManifestCache;
use cargo_files::Manifest;
use package::body_since;
pub(crate) use package::DEFAULT_CRATE;
pub use package::{BODY_SINCE, SDK_PACKAGE};

/// Where a package's SDK requirement is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SdkDeclaration {
    /// The manifest holding the requirement: the package's, or the workspace root's for an
    /// inherited (`workspace = true`) dependency.
    pub manifest: PathBuf,
    /// The table, as in its header: `dependencies`, `target.'cfg(unix)'.dependencies` or
    /// `workspace.dependencies`.
    pub table: String,
    /// The dependency's key (the crate's name in code, with `-` as `_`).
    pub key: String,
    /// The version requirement; None for a git or path dependency.
    pub requirement: Option<String>,
    /// Byte range of the requirement's string literal in the manifest text.
    #[serde(skip)]
    pub span: Option<Range<usize>>,
    /// The manifest's text as read (the span points into it).
    #[serde(skip)]
    pub(crate) text: String,
}

/// What the SDK requirement of a package means for the rewrite.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SdkStatus {
    /// The lock resolves a version with `body` and the requirement admits none without it.
    Ready,
    /// The lock resolves a version from before `body`: the rewritten code does not compile
    /// until the requirement and the lock are raised.
    LockedBeforeBody,
    /// The lock is fine (or absent) but the requirement admits versions from before `body`.
    RequirementBeforeBody,
    /// The package declares no dependency on the SDK that bodyline could read.
    Undeclared,
}

/// One package with call sites to rewrite and its SDK requirement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SdkRequirement {
    /// The package name.
    pub package: String,
    /// The package's `Cargo.toml`.
    pub manifest: PathBuf,
    /// The SDK's crate name in the package's code (`aws_sdk_sagemakerruntime`, or the rename).
    pub crate_name: String,
    /// Where the requirement is declared.
    pub declared: Option<SdkDeclaration>,
    /// The `Cargo.lock` that holds the package, when there is one.
    pub lock: Option<PathBuf>,
    /// The SDK version that lock resolves for the package.
    pub locked: Option<String>,
    /// The minimum version the rewritten code needs, [`BODY_SINCE`].
    pub minimum: String,
    /// The requirement `--write` sets, when the declared one admits versions without `body`.
    pub raise_to: Option<String>,
    /// What this means for the rewrite.
    pub status: SdkStatus,
}

impl SdkRequirement {
    /// Read the SDK requirement of the package whose manifest is `manifest`: the manifest, its
    /// workspace root and the `Cargo.lock` beside that. Writes nothing.
    pub fn read(manifest: &Path) -> Option<SdkRequirement> {
        let package = Manifest::load(manifest)?;
        let name = package.package_name()?.to_owned();
        let root = cargo_files::workspace_root(&package);
        let entry = cargo_files::sdk_entry(&package, root.as_ref());
        let (crate_name, declared) = match &entry {
            Some((own, inherited)) => {
                let (at, holder) = match (inherited, &root) {
                    (Some(e), Some(r)) => (e, r),
                    _ => (own, &package),
                };
                let req = cargo_files::requirement(at.item);
                (
                    own.key.replace('-', "_"),
                    Some(SdkDeclaration {
                        manifest: holder.path.clone(),
                        table: at.table.clone(),
                        key: at.key.clone(),
                        requirement: req.as_ref().map(|(r, _)| r.clone()),
                        span: req.map(|(_, s)| s),
                        text: holder.text().to_owned(),
                    }),
                )
            }
            None => (DEFAULT_CRATE.to_owned(), None),
        };
        // The lock beside the workspace root when it lists the package, else the package's own.
        let lock_dirs = [
            root.as_ref().and_then(|r| r.path.parent()),
            manifest.parent(),
        ];
        let (lock, locked) = lock_dirs
            .into_iter()
            .flatten()
            .map(|d| d.join("Cargo.lock"))
            .find_map(|l| cargo_files::locked_version(&l, &name).map(|v| (Some(l), Some(v))))
            .unwrap_or((None, None));
        let minimum = body_since();
        let requirement = declared.as_ref().and_then(|d| d.requirement.as_deref());
        let raise_to = requirement
            .filter(|r| raise::lower_bound(r).is_none_or(|low| low < minimum))
            .map(|r| raise::raised(r, &minimum));
        let locked_before = locked
            .as_deref()
            .and_then(|v| semver::Version::parse(v).ok())
            .is_some_and(|v| v < minimum);
        let status = if declared.is_none() {
            SdkStatus::Undeclared
        } else if locked_before {
            SdkStatus::LockedBeforeBody
        } else if raise_to.is_some() {
            SdkStatus::RequirementBeforeBody
        } else {
            SdkStatus::Ready
        };
        Some(SdkRequirement {
            package: name,
            manifest: manifest.to_path_buf(),
            crate_name,
            declared,
            lock,
            locked,
            minimum: BODY_SINCE.to_owned(),
            raise_to,
            status,
        })
    }

    /// True when the rewritten code needs the SDK version, the requirement or both raised.
    pub fn needs_attention(&self) -> bool {
        self.status != SdkStatus::Ready
    }

    /// The diagnostic: the package, the requirement and where it is, the locked version, the
    /// minimum needed and what `--write` does about it.
    pub fn message(&self) -> String {
        let package = format!("package `{}` ({})", self.package, self.manifest.display());
        let Some(d) = &self.declared else {
            return format!(
                "{package} declares no `{SDK_PACKAGE}` dependency bodyline can read; the rewritten code imports `{DEFAULT_CRATE}::primitives::Blob`, which needs {SDK_PACKAGE} >= {BODY_SINCE}: declare it"
            );
        };
        let requirement = match &d.requirement {
            Some(r) => format!("requires {SDK_PACKAGE} \"{r}\""),
            None => format!("depends on {SDK_PACKAGE} without a version requirement"),
        };
        let at = format!("[{}] in {}", d.table, d.manifest.display());
        let locked = match (&self.locked, &self.lock) {
            (Some(v), Some(l)) => format!("{} locks {v}", l.display()),
            _ => "no Cargo.lock lists it".to_owned(),
        };
        let fix = match &self.raise_to {
            Some(to) => format!(
                "`bodyline migrate --write` raises the requirement to \"{to}\"{} before rewriting",
                if self.status == SdkStatus::LockedBeforeBody {
                    " and updates the lock for this package"
                } else {
                    ""
                }
            ),
            None if self.status == SdkStatus::LockedBeforeBody => format!(
                "run `cargo update -p {SDK_PACKAGE}` (the requirement already admits {BODY_SINCE}) or raise it by hand"
            ),
            None => "nothing to do".to_owned(),
        };
        let what = match self.status {
            SdkStatus::LockedBeforeBody => "the rewritten code needs `body`",
            _ => "the requirement admits versions without `body`",
        };
        format!("{package} {requirement} ({at}); {locked}; {what}, so at least {BODY_SINCE}: {fix}")
    }
}

/// One manifest whose SDK requirement `--write` raises: its text before and after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEdit {
    /// The manifest.
    pub path: PathBuf,
    /// Its text as read.
    pub original: String,
    /// Its text with the requirement raised; identical elsewhere.
    pub output: String,
}

/// One requirement literal to replace: its span and the new requirement.
type Raise = (Range<usize>, String);

/// The manifest edits that raise every requirement in `requirements` that needs it, one per
/// manifest (packages inheriting from one workspace root share its edit). Pure: the edits
/// apply to the text each manifest had when its requirement was read.
pub fn manifest_edits(requirements: &[SdkRequirement]) -> Vec<ManifestEdit> {
    let mut by_file: BTreeMap<PathBuf, (&str, Vec<Raise>)> = BTreeMap::new();
    for r in requirements {
        let (Some(d), Some(to)) = (&r.declared, &r.raise_to) else {
            continue;
        };
        let Some(span) = &d.span else {
            continue;
        };
        by_file
            .entry(d.manifest.clone())
            .or_insert_with(|| (d.text.as_str(), Vec::new()))
            .1
            .push((span.clone(), to.clone()));
    }
    by_file
        .into_iter()
        .filter_map(|(path, (original, raises))| {
            let mut edits = EditSet::new(original);
            for (span, to) in raises {
                let literal = original.get(span.clone())?;
                // Two packages inheriting one requirement propose the same edit: added once.
                let text = raise::literal_like(literal, &to);
                edits.transaction(vec![Edit::replace(span, text)]).ok()?;
            }
            let output = edits.apply();
            Some(ManifestEdit {
                path,
                original: original.to_owned(),
                output,
            })
        })
        .collect()
}

/// The SDK requirement of every package holding one of `changed_files` (the files in which
/// the rewrite changes a call site).
pub(crate) fn requirements<'p>(
    changed_files: impl Iterator<Item = &'p Path>,
) -> Vec<SdkRequirement> {
    let mut manifests = ManifestCache::default();
    let mut seen: Vec<PathBuf> = changed_files
        .filter_map(|f| manifests.manifest_of(f))
        .collect();
    seen.sort();
    seen.dedup();
    seen.iter()
        .filter_map(|m| SdkRequirement::read(m))
        .collect()
}

/// The SDK's crate name per package, for the rewrite's inserted paths, cached per manifest.
#[derive(Default)]
pub(crate) struct CrateNames {
    manifests: ManifestCache,
    names: HashMap<PathBuf, String>,
}

impl CrateNames {
    /// The name under which `file`'s package uses the SDK (its dependency key).
    pub(crate) fn for_file(&mut self, file: &Path) -> String {
        let Some(manifest) = self.manifests.manifest_of(file) else {
            return DEFAULT_CRATE.to_owned();
        };
        self.names
            .entry(manifest.clone())
            .or_insert_with(|| {
                let package = Manifest::load(&manifest);
                let root = package.as_ref().and_then(cargo_files::workspace_root);
                package
                    .as_ref()
                    .and_then(|p| cargo_files::sdk_entry(p, root.as_ref()))
                    .map(|(own, _)| own.key.replace('-', "_"))
                    .unwrap_or_else(|| DEFAULT_CRATE.to_owned())
            })
            .clone()
    }
}
