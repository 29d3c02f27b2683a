//! Running cargo from bodyline: the cargo that started us, without the variables cargo sets for
//! the crate it runs. Build scripts such as ring's declare `rerun-if-env-changed` on those
//! variables and cargo compares them against its own environment, so a nested cargo that
//! inherits them sees such a crate as changed and recompiles it and every crate above it.

use std::process::Command;

/// Variables cargo sets for the crate it builds, runs or tests, by exact name.
const SET_BY_CARGO: [&str; 5] = [
    "CARGO_CRATE_NAME",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Variables cargo sets for the crate it builds, runs or tests, by prefix (`CARGO_PKG_NAME`,
/// `CARGO_MANIFEST_DIR`, `CARGO_BIN_NAME`, `CARGO_BIN_EXE_<name>`, ...).
const SET_BY_CARGO_PREFIXES: [&str; 3] = ["CARGO_PKG_", "CARGO_BIN_", "CARGO_MANIFEST_"];

/// True when cargo sets `key` for the crate it runs (not for itself: `CARGO`, `CARGO_HOME`,
/// `CARGO_TARGET_DIR` and the user's own settings are kept).
pub fn is_set_by_cargo(key: &str) -> bool {
    SET_BY_CARGO.contains(&key) || SET_BY_CARGO_PREFIXES.iter().any(|p| key.starts_with(p))
}

/// Remove from `cmd` the variables of this process that cargo set for the crate being run, so
/// the cargo `cmd` starts builds what a plain `cargo build` would.
pub fn without_cargo_vars(cmd: &mut Command) -> &mut Command {
    for (key, _) in std::env::vars_os() {
        if is_set_by_cargo(&key.to_string_lossy()) {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// The cargo that runs bodyline's checks (the one that started us, else `cargo` on the path),
/// without the variables cargo set for this process.
pub fn cargo_command() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    without_cargo_vars(&mut cmd);
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_cargo_sets_for_the_crate_is_removed() {
        for key in [
            "CARGO_PKG_NAME",
            "CARGO_MANIFEST_DIR",
            "CARGO_BIN_EXE_bodyline",
            "CARGO_CRATE_NAME",
            "OUT_DIR",
        ] {
            assert!(is_set_by_cargo(key), "{key}");
        }
        for key in [
            "CARGO",
            "CARGO_HOME",
            "CARGO_TARGET_DIR",
            "RUSTFLAGS",
            "PATH",
        ] {
            assert!(!is_set_by_cargo(key), "{key}");
        }
    }
}
