//! The project directory and the `.bodyline/` directory in it: the one rule for where
//! bodyline keeps what it writes.
//!
//! **The rule.** The project directory is `--root` (default: the current directory) for every
//! command. Everything bodyline writes or reads back lives in `<project>/.bodyline/`: the local
//! stack's `local.env`, its records and venv, the state files, the stack locks, and the
//! migration report — `bodyline migrate` writes `<project>/.bodyline/migrate-report.json` (its
//! `--root` too, unless `--report-file` says otherwise) and `setup`, `plan` and `verify` read it
//! from there. A relative `bucket.migration_report` in the stack file is
//! resolved against the project directory too, not against the stack file's directory: a
//! stack file kept elsewhere (`--stack-file templates/bodyline.toml`) does not move the
//! report, so what `migrate` wrote is what `setup` reads.

use std::path::{Path, PathBuf};

use bodyline_terms::DEFAULT_MIGRATION_REPORT;

/// A project directory; every path under `.bodyline/` is derived here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectDir {
    root: PathBuf,
}

impl Default for ProjectDir {
    /// The current directory, as `--root` defaults to.
    fn default() -> Self {
        ProjectDir::new(".")
    }
}

impl ProjectDir {
    /// The name of the directory bodyline keeps its files in.
    pub const DOT_DIR: &'static str = ".bodyline";

    /// The project at `root`.
    pub fn new(root: impl Into<PathBuf>) -> ProjectDir {
        ProjectDir { root: root.into() }
    }

    /// The project directory itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/.bodyline`.
    pub fn dot_dir(&self) -> PathBuf {
        self.root.join(Self::DOT_DIR)
    }

    /// `<root>/.bodyline/<relative>`.
    pub fn file(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.dot_dir().join(relative)
    }

    /// `<root>/.bodyline/migrate-report.json`, where `bodyline migrate` writes its report.
    pub fn migration_report(&self) -> PathBuf {
        self.resolve(Path::new(DEFAULT_MIGRATION_REPORT))
    }

    /// `path` as the project sees it: an absolute path as it is, a relative one under the
    /// project directory.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_lives_under_the_one_dot_dir() {
        let project = ProjectDir::new("/work/app");
        assert_eq!(project.dot_dir(), Path::new("/work/app/.bodyline"));
        assert_eq!(
            project.migration_report(),
            Path::new("/work/app/.bodyline/migrate-report.json")
        );
        assert_eq!(
            project.file("state/s.json"),
            Path::new("/work/app/.bodyline/state/s.json")
        );
        assert_eq!(
            project.resolve(Path::new("reports/r.json")),
            Path::new("/work/app/reports/r.json")
        );
        assert_eq!(
            project.resolve(Path::new("/abs/r.json")),
            Path::new("/abs/r.json")
        );
        assert_eq!(ProjectDir::default().root(), Path::new("."));
    }
}
