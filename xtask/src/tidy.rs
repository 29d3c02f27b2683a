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

    /// The workspace's resolved graph for this machine's platform (`cargo metadata`, offline:
    /// the packages of other platforms need not be downloaded).
    fn metadata() -> serde_json::Value {
        let rustc = std::process::Command::new(std::env::var("RUSTC").unwrap_or("rustc".into()))
            .arg("-vV")
            .output()
            .expect("rustc -vV runs");
        let host = String::from_utf8_lossy(&rustc.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("host: ").map(str::to_string))
            .expect("rustc -vV names the host");
        let out = std::process::Command::new(std::env::var("CARGO").unwrap_or("cargo".into()))
            .args(["metadata", "--format-version", "1", "--offline"])
            .args(["--filter-platform", &host])
            .current_dir(project_root())
            .output()
            .expect("cargo metadata runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON")
    }

    /// The names of the packages `package` depends on for its build (normal and build
    /// dependencies, transitively; dev-dependencies are the tests' business).
    fn build_closure(
        meta: &serde_json::Value,
        package: &str,
    ) -> std::collections::BTreeSet<String> {
        let packages = meta["packages"].as_array().expect("packages");
        let name_of = |id: &str| {
            packages
                .iter()
                .find(|p| p["id"] == id)
                .and_then(|p| p["name"].as_str())
                .unwrap_or(id)
                .to_string()
        };
        let nodes = meta["resolve"]["nodes"].as_array().expect("resolve nodes");
        let start = packages
            .iter()
            .find(|p| p["name"] == package)
            .and_then(|p| p["id"].as_str())
            .expect("the package is in the workspace");
        let mut seen = std::collections::BTreeSet::new();
        let mut todo = vec![start.to_string()];
        while let Some(id) = todo.pop() {
            let Some(node) = nodes.iter().find(|n| n["id"] == id.as_str()) else {
                continue;
            };
            for dep in node["deps"].as_array().into_iter().flatten() {
                let for_build = dep["dep_kinds"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|k| k["kind"].is_null() || k["kind"] == "build");
                let dep_id = dep["pkg"].as_str().unwrap_or_default().to_string();
                if for_build && seen.insert(name_of(&dep_id)) {
                    todo.push(dep_id);
                }
            }
        }
        seen
    }

    /// ARCHITECTURE.md: `migrate` depends on no AWS crate (it runs on code, offline).
    #[test]
    fn migrate_builds_without_any_aws_crate() {
        let closure = build_closure(&metadata(), "bodyline-migrate");
        assert!(closure.contains("syn"), "the closure is read: {closure:?}");
        let aws: Vec<String> = closure
            .into_iter()
            .filter(|name| name.starts_with("aws-"))
            .collect();
        assert!(aws.is_empty(), "bodyline-migrate now depends on {aws:?}");
    }

    /// ARCHITECTURE.md: only `cli` knows clap (libraries take plain values).
    #[test]
    fn only_the_cli_knows_clap() {
        let meta = metadata();
        let members: Vec<String> = meta["workspace_members"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|id| {
                meta["packages"]
                    .as_array()?
                    .iter()
                    .find(|p| p["id"] == *id)?["name"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        assert!(
            build_closure(&meta, "bodyline-cli").contains("clap"),
            "the cli's closure is read"
        );
        let with_clap: Vec<&String> = members
            .iter()
            .filter(|m| m.as_str() != "bodyline-cli" && m.starts_with("bodyline"))
            .filter(|m| build_closure(&meta, m).contains("clap"))
            .collect();
        assert!(with_clap.is_empty(), "{with_clap:?} depend on clap");
    }

    /// Every product crate takes the workspace lints (so `unwrap_used` holds everywhere).
    #[test]
    fn every_crate_takes_the_workspace_lints() {
        let root = project_root();
        let mut missing = Vec::new();
        let crates = std::fs::read_dir(root.join("crates"))
            .into_iter()
            .flatten()
            .flatten();
        for manifest in crates
            .map(|e| e.path().join("Cargo.toml"))
            .chain([root.join("xtask/Cargo.toml")])
        {
            let text = std::fs::read_to_string(&manifest).unwrap_or_default();
            if !text.contains("[lints]\nworkspace = true") {
                missing.push(manifest.display().to_string());
            }
        }
        assert!(
            missing.is_empty(),
            "no `[lints] workspace = true` in {missing:?}"
        );
    }
}
