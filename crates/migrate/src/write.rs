//! The only place files are written: atomic replace (temp file in the same directory + rename).

use std::io::Write;
use std::path::{Path, PathBuf};

use bodyline_terms::MigrationReport;

use crate::error::MigrateError;
use crate::scan_result::ScanReport;
use crate::sdk::ManifestEdit;

/// The original text of a written file, to put it back.
#[derive(Debug, Clone)]
pub struct Backup {
    /// The file.
    pub path: PathBuf,
    /// Its text before the write.
    pub original: String,
}

/// Write every changed file of `report`. Each file is checked to be unchanged since it was
/// read, then replaced atomically; a failure leaves that file as it was and the error names
/// it. Returns backups of the files written (even when a later file failed).
pub fn write_files(report: &ScanReport) -> (Vec<Backup>, Vec<MigrateError>) {
    let files = report.files.iter().filter(|f| f.migration.is_changed());
    write_all(files.map(|f| {
        (
            f.path.as_path(),
            f.migration.edits.original(),
            f.migration.output(),
        )
    }))
}

/// Write the manifests whose SDK requirement is raised, like [`write_files`]: each checked to
/// be unchanged since it was read, then replaced atomically.
pub fn write_manifests(edits: &[ManifestEdit]) -> (Vec<Backup>, Vec<MigrateError>) {
    write_all(
        edits
            .iter()
            .map(|e| (e.path.as_path(), e.original.as_str(), e.output.clone())),
    )
}

fn write_all<'a>(
    files: impl Iterator<Item = (&'a Path, &'a str, String)>,
) -> (Vec<Backup>, Vec<MigrateError>) {
    let mut backups = Vec::new();
    let mut errors = Vec::new();
    for (path, original, output) in files {
        match std::fs::read(path) {
            Ok(now) if now == original.as_bytes() => {}
            Ok(_) => {
                errors.push(MigrateError::Changed {
                    path: path.to_path_buf(),
                });
                continue;
            }
            Err(source) => {
                errors.push(MigrateError::Read {
                    path: path.to_path_buf(),
                    source,
                });
                continue;
            }
        }
        match replace_atomically(path, &output) {
            Ok(()) => backups.push(Backup {
                path: path.to_path_buf(),
                original: original.to_owned(),
            }),
            Err(source) => errors.push(MigrateError::Write {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
    (backups, errors)
}

/// The files of `paths` that the caller may not write: no write bit in their mode at all
/// (`chmod a-w`, e.g. 0444), or opening them for writing is refused (`access(2)`'s answer,
/// without its exception for root). The mode rule is what makes a 0444 file read-only for
/// root too: root could write it, but someone marked it so on purpose. Opening for writing
/// neither truncates nor changes the file. A file that cannot be inspected is listed too.
pub fn read_only_files(paths: &[&Path]) -> Vec<PathBuf> {
    use std::os::unix::fs::PermissionsExt as _;
    paths
        .iter()
        .filter(|p| {
            let no_write_bit = std::fs::metadata(p)
                .map(|m| m.permissions().mode() & 0o222 == 0)
                .unwrap_or(true);
            no_write_bit || std::fs::OpenOptions::new().write(true).open(p).is_err()
        })
        .map(|p| p.to_path_buf())
        .collect()
}

/// Save the report as pretty JSON to `path`, creating its directory, atomically (temp file
/// and rename).
pub fn save_report(report: &MigrationReport, path: &Path) -> Result<(), MigrateError> {
    let write_err = |source| MigrateError::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(write_err)?;
    }
    let mut text = serde_json::to_string_pretty(report).unwrap_or_default();
    text.push('\n');
    replace_atomically(path, &text).map_err(write_err)
}

/// Put back the original text of every file in `backups` (atomically, one by one).
pub fn restore(backups: &[Backup]) -> Vec<MigrateError> {
    backups
        .iter()
        .filter_map(|b| {
            replace_atomically(&b.path, &b.original)
                .err()
                .map(|source| MigrateError::Write {
                    path: b.path.clone(),
                    source,
                })
        })
        .collect()
}

fn replace_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.bodyline-{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(path) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
