//! Edits inside modules compiled only under a `#[cfg]`: the module tree is followed for every
//! configuration (`#[cfg(..)] mod m;`, `#[cfg_attr(.., path = "..")] mod m;`), so such a file
//! is rewritten like any other; each edit made there says which configuration it is in, so
//! the user builds that configuration to check it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::analyze::crate_scope::CrateScope;
use crate::analyze::site::cfg_note_text;
use crate::manifest::ManifestCache;
use crate::scan_result::FileReport;
use crate::verdict::Verdict;

/// Add the `cfg` note to the rewritten and branched sites of files in `#[cfg]` modules, and
/// the `cfg` to the hints of dead helpers removed there.
pub(super) fn note_cfg_modules(files: &mut [FileReport]) {
    let mut manifests = ManifestCache::default();
    let mut crates: BTreeMap<PathBuf, Vec<usize>> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        if !f.migration.is_changed() {
            continue;
        }
        if let Some(manifest) = manifests.manifest_of(&f.path) {
            let dir = manifest.parent().map(Path::to_path_buf).unwrap_or_default();
            crates.entry(dir).or_default().push(i);
        }
    }
    for (dir, indices) in crates {
        let scope = CrateScope::build(&dir, &[]);
        for i in indices {
            let Some((module, cfg)) = scope.file_cfg(&files[i].path) else {
                continue;
            };
            let cfg: Vec<&str> = cfg.iter().map(String::as_str).collect();
            let note = cfg_note_text(&module, &cfg);
            let m = &mut files[i].migration;
            for site in &mut m.sites {
                if matches!(site.verdict, Verdict::Rewritten | Verdict::Branched) {
                    site.notes.push(note.clone());
                }
            }
            for hint in m
                .hints
                .iter_mut()
                .filter(|h| h.starts_with("removed helper"))
            {
                hint.push_str(&format!(" (module `{module}`, under `{}`)", cfg.join(" ")));
            }
        }
    }
}
