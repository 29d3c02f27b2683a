//! House rules checked as a test, so `cargo test` catches drift (after rust-analyzer's tidy).

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use crate::project_root;

    /// Every tracked-looking source file: `.rs` files outside `target/` and `.bodyline/`.
    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    rust_files(&path, out);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }

    /// Migrate fixtures are inputs written as users write code, not house code.
    fn is_fixture(path: &Path) -> bool {
        path.components().any(|c| {
            let c = c.as_os_str();
            c == "fixtures" || c == "bad" || c == "corpus"
        })
    }

    #[test]
    fn every_rust_file_opens_with_a_module_doc() {
        let mut files = Vec::new();
        rust_files(&project_root(), &mut files);
        let missing: Vec<_> = files
            .iter()
            .filter(|p| !is_fixture(p))
            .filter(|p| {
                let text = std::fs::read_to_string(p).unwrap_or_default();
                let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
                !(first.starts_with("//!") || first.starts_with("/*!"))
            })
            .collect();
        assert!(missing.is_empty(), "files without a //! doc: {missing:#?}");
    }

    #[test]
    fn no_trailing_whitespace_ignored_or_should_panic_tests() {
        let mut files = Vec::new();
        rust_files(&project_root(), &mut files);
        let mut offences = Vec::new();
        for path in files.iter().filter(|p| !is_fixture(p)) {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            for (i, line) in text.lines().enumerate() {
                let banned = ["#[ignore", "#[should_panic"]
                    .iter()
                    .any(|b| line.trim_start().starts_with(b));
                if line.ends_with(' ') || line.ends_with('\t') || banned {
                    offences.push(format!("{}:{}", path.display(), i + 1));
                }
            }
        }
        assert!(offences.is_empty(), "house rule broken at: {offences:#?}");
    }

    #[test]
    fn architecture_md_maps_every_crate() {
        let root = project_root();
        let map = std::fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap_or_default();
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(root.join("crates"))
            .into_iter()
            .flatten()
            .flatten()
        {
            let dir = format!("crates/{}", entry.file_name().to_string_lossy());
            if !map.contains(&format!("`{dir}`")) {
                missing.push(dir);
            }
        }
        assert!(
            missing.is_empty(),
            "ARCHITECTURE.md has no section for {missing:?}"
        );
    }
}
