//! Dead helpers across a crate: after the rewrite, a function or inherent method of any file
//! of a rewritten crate that nothing in the crate mentions any more (but something mentioned
//! before) is removed with its doc comment and attributes, and so are the imports only it
//! used. A `pub` helper of a library crate is kept and reported: another crate may call it.
//! The reference search is textual (`analyze::references`): every way of naming the helper
//! counts, in every `.rs` file of the package (not its `target/` or nested packages).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::analyze::references::{count, mention_counts};
use crate::analyze::{dead, dead_imports};
use crate::edit::EditSet;
use crate::manifest::{declares_lib, ManifestCache};
use crate::scan_result::{FileMigration, FileReport};
use crate::text::SourceText;

/// One file of the crate as it is before and after the rewrite.
struct Unit {
    path: PathBuf,
    /// Index into the scan's file reports, when the scan analysed it.
    report: Option<usize>,
    original: String,
    output: String,
}

/// Remove the helpers the rewrite left dead in every crate with a rewritten file; the
/// candidates nobody decided (files outside any package) get a hint instead.
pub(super) fn remove_dead_helpers(files: &mut Vec<FileReport>) {
    let mut manifests = ManifestCache::default();
    let mut crates: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        let Some(manifest) = manifests.manifest_of(&f.path) else {
            continue;
        };
        let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
        crates.entry(dir).or_default().push(i);
    }
    for (dir, indices) in &crates {
        if indices.iter().any(|&i| files[i].migration.is_changed()) {
            // A removed helper may have been the last user of another: a few rounds.
            for _ in 0..MAX_ROUNDS {
                if !one_crate(files, dir, indices) {
                    break;
                }
            }
            for &i in indices {
                files[i].migration.dead_candidates.clear();
            }
        }
    }
    for f in files.iter_mut() {
        f.migration.hints.sort();
        f.migration.hints.dedup();
        let undecided = std::mem::take(&mut f.migration.dead_candidates);
        f.migration
            .hints
            .extend(undecided.iter().map(dead::CrateCandidate::undecided_hint));
    }
}

/// A helper to remove: its name, line and item range.
type Removal = (String, usize, Range<usize>);

/// Rounds of removal per crate (helpers only used by helpers only used by ... a rewritten site).
const MAX_ROUNDS: usize = 4;

/// One round over the crate at `dir`: true when it removed a helper.
fn one_crate(files: &mut Vec<FileReport>, dir: &Path, indices: &[usize]) -> bool {
    let mut any = false;
    let mut paths = Vec::new();
    rs_files(dir, &mut paths, 0);
    paths.extend(indices.iter().map(|&i| files[i].path.clone()));
    paths.sort();
    paths.dedup();
    let units: Vec<Unit> = paths
        .into_iter()
        .filter_map(|path| {
            let report = files.iter().position(|f| f.path == path);
            let (original, output) = match report {
                Some(i) => (
                    files[i].migration.edits.original().to_owned(),
                    files[i].migration.output(),
                ),
                None => {
                    let text = std::fs::read_to_string(&path).ok()?;
                    (text.clone(), text)
                }
            };
            Some(Unit {
                path,
                report,
                original,
                output,
            })
        })
        .collect();
    let before = sum(units.iter().map(|u| mention_counts(&u.original)).collect());
    let after = sum(units.iter().map(|u| mention_counts(&u.output)).collect());
    let library = dir.join("src/lib.rs").is_file() || declares_lib(dir);
    // Every helper of the crate, and its own mentions of its name: a definition (or a
    // recursive call) is not a reference, and two configurations may define one name twice.
    struct Found {
        unit: usize,
        helper: dead::Helper,
        line: usize,
        touched: bool,
    }
    let mut found = Vec::new();
    let mut own_before: HashMap<String, usize> = HashMap::new();
    let mut own_after: HashMap<String, usize> = HashMap::new();
    for (ui, unit) in units.iter().enumerate() {
        let text = SourceText::new(&unit.original);
        let Ok(file) = syn::parse_file(text.code()) else {
            continue;
        };
        let edits = unit.report.map(|i| &files[i].migration.edits);
        for helper in dead::helpers(&text, &file).0 {
            let touched = edits.is_some_and(|e| dead::touches(e, &helper.item));
            let own = count(
                &mention_counts(&unit.original[helper.item.clone()]),
                &helper.name,
            );
            *own_before.entry(helper.name.clone()).or_insert(0) += own;
            if !touched {
                *own_after.entry(helper.name.clone()).or_insert(0) += own;
            }
            let line = text.line_col(helper.item.start).0;
            found.push(Found {
                unit: ui,
                helper,
                line,
                touched,
            });
        }
    }
    // Spans of these parses are not needed any more.
    proc_macro2::extra::invalidate_current_thread_spans();
    let mut per_unit: Vec<(Vec<Removal>, Vec<String>)> =
        units.iter().map(|_| (Vec::new(), Vec::new())).collect();
    for Found {
        unit,
        helper: h,
        line,
        touched,
    } in found
    {
        if touched || h.name == "main" {
            continue;
        }
        let refs_after = count(&after, &h.name).saturating_sub(count(&own_after, &h.name));
        let refs_before = count(&before, &h.name).saturating_sub(count(&own_before, &h.name));
        if refs_after > 0 || refs_before == 0 {
            continue;
        }
        let (removals, hints) = &mut per_unit[unit];
        if h.vis == dead::Vis::Pub && library {
            hints.push(format!(
                "helper `{}` (line {line}) has no caller left in the crate; it is `pub` in a library, so it is kept: remove it if no other crate uses it",
                h.name
            ));
        } else {
            removals.push((h.name, line, h.item));
        }
    }
    for (unit, (removals, hints)) in units.iter().zip(per_unit) {
        if removals.is_empty() && hints.is_empty() {
            continue;
        }
        let i = match unit.report {
            Some(i) => i,
            None => {
                files.push(FileReport {
                    path: unit.path.clone(),
                    migration: FileMigration {
                        edits: EditSet::new(&unit.original),
                        sites: Vec::new(),
                        hints: Vec::new(),
                        wanted_helpers: Vec::new(),
                        dead_candidates: Vec::new(),
                        sdk_crate: crate::sdk::DEFAULT_CRATE.to_owned(),
                    },
                });
                files.len() - 1
            }
        };
        let m = &mut files[i].migration;
        m.hints.extend(hints);
        let mut removed = false;
        let text = SourceText::new(&unit.original);
        for (name, line, item) in removals {
            if dead::delete_item(&text, item, &mut m.edits) {
                m.hints.push(format!(
                    "removed helper `{name}` (line {line}): nothing in the crate references it after the rewrite"
                ));
                removed = true;
            }
        }
        if removed {
            any = true;
            dead_imports::drop_orphan_imports(&unit.original, &mut m.edits, &mut m.hints);
        }
    }
    any
}

/// The sum of per-file mention counts.
fn sum(texts: Vec<HashMap<String, usize>>) -> HashMap<String, usize> {
    let mut total: HashMap<String, usize> = HashMap::new();
    for counts in texts {
        for (k, v) in counts {
            *total.entry(k).or_insert(0) += v;
        }
    }
    total
}

/// `.rs` files of the package at `dir` (all of it: a target may live outside `src/`), without
/// its `target/` directory and nested packages.
fn rs_files(dir: &Path, out: &mut Vec<PathBuf>, depth: u32) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            let skip = entry.file_name() == "target"
                || entry.file_name().to_string_lossy().starts_with('.')
                || path.join("Cargo.toml").is_file();
            if !skip && depth < 16 {
                rs_files(&path, out, depth + 1);
            }
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}
