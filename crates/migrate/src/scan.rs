//! Finding candidate files: walk with `ignore`, prefilter bytes with memchr, analyse in parallel.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::analyze::analyze;
use crate::analyze::crate_scope::{CrateScope, FileScope};
use crate::error::MigrateError;
use crate::manifest::{nearest_manifest_dir, ManifestCache, PackageIndex};
use crate::options::ScanOptions;
use crate::scan_result::{FileMigration, FileReport, ScanReport};
use crate::sdk::{CrateNames, DEFAULT_CRATE};

mod crate_cfg;
mod crate_dead;

/// The bytes a file must contain to be parsed at all.
pub const NEEDLE: &str = "input_location";

const STACK_SIZE: usize = 256 << 20;

/// Migrate one source text. `path` (if any) locates `include_bytes!` files; nothing is read
/// or written otherwise.
///
/// ```
/// use bodyline_migrate::{migrate_source, ScanOptions};
/// let src = "fn f() { client.invoke_endpoint().body(b).send(); }";
/// let m = migrate_source(src, None, &ScanOptions::default()).unwrap();
/// assert!(m.sites.is_empty() && !m.is_changed());
/// ```
pub fn migrate_source(
    src: &str,
    path: Option<&Path>,
    options: &ScanOptions,
) -> Result<FileMigration, MigrateError> {
    let mut m = migrate_in_scope(src, path, options, None, DEFAULT_CRATE)?;
    // A lone text has no crate to search: report what may have been left dead.
    let undecided = std::mem::take(&mut m.dead_candidates);
    m.hints.extend(
        undecided
            .iter()
            .map(crate::analyze::dead::CrateCandidate::undecided_hint),
    );
    Ok(m)
}

/// [`migrate_source`] with the other files of the crate at hand, for helpers defined there, and
/// the name under which the crate uses the SDK (`aws_sdk_sagemakerruntime` or its rename).
pub(crate) fn migrate_in_scope(
    src: &str,
    path: Option<&Path>,
    options: &ScanOptions,
    scope: Option<&FileScope<'_>>,
    sdk_crate: &str,
) -> Result<FileMigration, MigrateError> {
    let result = analyze(src, path, options.strategy, scope, sdk_crate).map_err(|e| {
        let start = e.span().start();
        MigrateError::Parse {
            path: path
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("<input>")),
            line: start.line,
            column: start.column + 1,
            message: e.to_string(),
        }
    });
    // Parsed spans live in a thread-local source map; drop them once per file.
    proc_macro2::extra::invalidate_current_thread_spans();
    let a = result?;
    Ok(FileMigration {
        edits: a.edits,
        sites: a.sites,
        hints: a.hints,
        wanted_helpers: a.wanted_helpers,
        dead_candidates: a.dead_candidates,
        sdk_crate: sdk_crate.to_owned(),
    })
}

/// Walk `paths` (files or directories; `.gitignore` respected, hidden dirs and `target/`
/// skipped) and migrate every candidate `.rs` file in parallel. Reads files, writes nothing.
pub fn scan(paths: &[PathBuf], options: &ScanOptions) -> ScanReport {
    let mut report = ScanReport::default();
    let mut files = Vec::new();
    for root in paths {
        if !root.exists() {
            report.errors.push(MigrateError::Walk {
                path: root.clone(),
                message: "no such file or directory".into(),
            });
            continue;
        }
        let walker = ignore::WalkBuilder::new(root)
            .filter_entry(|e| !is_cargo_target(e))
            .build();
        for entry in walker {
            match entry {
                Ok(e) => {
                    let is_file = e.file_type().is_some_and(|t| t.is_file());
                    let explicit = e.depth() == 0;
                    if is_file && (explicit || e.path().extension().is_some_and(|x| x == "rs")) {
                        files.push(e.into_path());
                    }
                }
                Err(err) => {
                    let path = match &err {
                        ignore::Error::WithPath { path, .. } => path.clone(),
                        _ => root.clone(),
                    };
                    report.errors.push(MigrateError::Walk {
                        path,
                        message: err.to_string(),
                    });
                }
            }
        }
    }
    files.sort();
    files.dedup();
    report.files_walked = files.len();
    let finder = memchr::memmem::Finder::new(NEEDLE);
    let site_finder = memchr::memmem::Finder::new(crate::analyze::SITE_METHOD);
    let crate_names = std::sync::Mutex::new(CrateNames::default());
    let work = || -> Vec<(bool, Result<Option<FileReport>, MigrateError>)> {
        files
            .par_iter()
            .map(|path| {
                let bytes = match std::fs::read(path) {
                    Ok(b) => b,
                    Err(source) => {
                        return (
                            false,
                            Err(MigrateError::Read {
                                path: path.clone(),
                                source,
                            }),
                        )
                    }
                };
                if options.prefilter && finder.find(&bytes).is_none() {
                    return (false, Ok(None));
                }
                let size = bytes.len() as u64;
                if size > options.max_file_bytes {
                    let error = MigrateError::TooLarge {
                        path: path.clone(),
                        size,
                        limit: options.max_file_bytes,
                    };
                    return (false, Err(error));
                }
                let Ok(src) = String::from_utf8(bytes) else {
                    return (true, Err(MigrateError::NotUtf8 { path: path.clone() }));
                };
                // The SDK's name matters only where there is a site: the manifest lookup (under
                // one lock) stays off the hot path, also when every file is parsed.
                let has_site = site_finder.find(src.as_bytes()).is_some();
                let sdk_crate = match has_site.then(|| crate_names.lock()) {
                    Some(Ok(mut names)) => names.for_file(path),
                    _ => DEFAULT_CRATE.to_owned(),
                };
                let m = migrate_in_scope(&src, Some(path), options, None, &sdk_crate);
                (
                    true,
                    m.map(|migration| {
                        (!migration.sites.is_empty()).then(|| FileReport {
                            path: path.clone(),
                            migration,
                        })
                    }),
                )
            })
            .collect()
    };
    // syn recurses once per nesting level; generated sources nest deeply, so the workers get
    // big stacks (reserved address space, not memory).
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(STACK_SIZE)
        .build()
        .ok();
    let results = match &pool {
        Some(pool) => pool.install(work),
        None => work(),
    };
    for (parsed, r) in results {
        report.files_parsed += usize::from(parsed);
        match r {
            Ok(Some(f)) => report.files.push(f),
            Ok(None) => {}
            Err(e) => report.errors.push(e),
        }
    }
    // Helpers defined in another file of the crate: read the crate, then analyse again the
    // files that call them.
    let reports = &mut report.files;
    match &pool {
        Some(pool) => pool.install(|| follow_across_files(reports, options)),
        None => follow_across_files(reports, options),
    }
    crate_dead::remove_dead_helpers(&mut report.files);
    crate_cfg::note_cfg_modules(&mut report.files);
    report.hints = crate_hints(&report.files);
    let changed = report.files.iter().filter(|f| f.migration.is_changed());
    report.sdk = crate::sdk::requirements(changed.map(|f| f.path.as_path()));
    if options.list_packages {
        report.packages = PackageIndex::of_files(&files);
    }
    report.walked = files;
    report
}

/// Analyse again, with their crate's module tree at hand, the files that call functions they
/// do not define for an input URI.
fn follow_across_files(files: &mut [FileReport], options: &ScanOptions) {
    let mut manifests = ManifestCache::default();
    let mut crates: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        if f.migration.wanted_helpers.is_empty() {
            continue;
        }
        let Some(manifest) = manifests.manifest_of(&f.path) else {
            continue;
        };
        let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
        crates.entry(dir).or_default().push(i);
    }
    let redone: Vec<(usize, FileMigration)> = crates
        .par_iter()
        .flat_map_iter(|(dir, indices)| {
            let mut wanted: Vec<String> = indices
                .iter()
                .flat_map(|&i| files[i].migration.wanted_helpers.iter().cloned())
                .collect();
            wanted.sort();
            wanted.dedup();
            let scope = CrateScope::build(dir, &wanted);
            let mut out = Vec::new();
            for &i in indices {
                let f = &files[i];
                if !scope.contains(&f.path) {
                    continue;
                }
                let file_scope = FileScope {
                    scope: &scope,
                    file: &f.path,
                };
                let src = f.migration.edits.original();
                let sdk_crate = &f.migration.sdk_crate;
                if let Ok(m) =
                    migrate_in_scope(src, Some(&f.path), options, Some(&file_scope), sdk_crate)
                {
                    out.push((i, m));
                }
            }
            out
        })
        .collect();
    for (i, m) in redone {
        files[i].migration = m;
    }
}

/// For each crate with rewritten files: dependencies no longer mentioned outside `use` lines
/// once the rewrite is applied.
fn crate_hints(files: &[FileReport]) -> Vec<String> {
    let mut crates: Vec<PathBuf> = files
        .iter()
        .filter(|f| f.migration.is_changed())
        .filter_map(|f| nearest_manifest_dir(&f.path))
        .collect();
    crates.sort();
    crates.dedup();
    let mut hints = Vec::new();
    for root in crates {
        // [aws-sdk-s3, uuid] mentioned outside `use` lines: before and after the rewrite.
        let mut before = [false, false];
        let mut after = [false, false];
        let walker = ignore::WalkBuilder::new(&root)
            .filter_entry(|e| !is_cargo_target(e))
            .build();
        for entry in walker.flatten() {
            if entry.path().extension().is_none_or(|x| x != "rs") {
                continue;
            }
            let original = std::fs::read_to_string(entry.path()).unwrap_or_default();
            let rewritten = match files.iter().find(|f| f.path == entry.path()) {
                Some(f) => f.migration.output(),
                None => original.clone(),
            };
            mentions(&original, &mut before);
            mentions(&rewritten, &mut after);
        }
        let still = [after[0] || !before[0], after[1] || !before[1]];
        let unused: Vec<&str> = [("aws-sdk-s3", still[0]), ("uuid", still[1])]
            .iter()
            .filter(|(_, s)| !s)
            .map(|(n, _)| *n)
            .collect();
        if !unused.is_empty() {
            hints.push(format!(
                "{} no longer used in the crate at {} once rewritten: remove the dependency and its `use` lines",
                unused.join(" / "),
                root.display()
            ));
        }
    }
    hints
}

fn mentions(text: &str, found: &mut [bool; 2]) {
    for line in text.lines().map(str::trim) {
        if line.starts_with("use ") || line.starts_with("pub use ") || line.starts_with("//") {
            continue;
        }
        found[0] |= line.contains("aws_sdk_s3");
        found[1] |= line.contains("uuid::") || line.contains("Uuid");
    }
}

/// A cargo build directory (cargo marks it with `CACHEDIR.TAG`).
fn is_cargo_target(e: &ignore::DirEntry) -> bool {
    e.depth() > 0
        && e.file_name() == "target"
        && e.file_type().is_some_and(|t| t.is_dir())
        && (e.path().join("CACHEDIR.TAG").exists() || e.path().join(".rustc_info.json").exists())
}
