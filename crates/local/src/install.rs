//! Installing moto: a virtualenv made with the machine's `python3`, `moto[server]` pinned, safe
//! when several processes ask at once.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::{sys, LocalError};

/// The pip requirement the local stack runs: the version whose behaviour
/// `docs/local-stack.md` measured.
pub const MOTO_REQUIREMENT: &str = "moto[server]==5.2.1";

/// moto's botocore, pinned too: its service models are what the workspace's contract test holds
/// every request to, so they must not change under it. 1.43.11 is the version moto 5.2.1
/// resolved to when the pin was set.
pub const BOTOCORE_REQUIREMENT: &str = "botocore==1.43.11";

/// The file inside the virtualenv that records a finished installation. Written last, so a
/// virtualenv without it (an interrupted install) is rebuilt.
const MARKER: &str = "bodyline-moto.txt";

/// The virtualenv to use: `BODYLINE_VENV` if set, else `<root>/.bodyline/venv`.
pub fn default_venv(root: &Path) -> PathBuf {
    match std::env::var_os("BODYLINE_VENV") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => bodyline_stack::ProjectDir::new(root).file("venv"),
    }
}

/// Installs [`MOTO_REQUIREMENT`] into the virtualenv `venv` unless it is already there, and
/// returns the path of its `moto_server` script.
///
/// The virtualenv is made with `BODYLINE_PYTHON` or `python3`. Concurrent callers (two test
/// binaries, `up` beside `cargo xtask test`) serialise on the lock file `<venv>.lock`; the
/// second finds the finished installation and returns at once. Blocks: call it from a
/// blocking context.
pub fn install(venv: &Path) -> Result<PathBuf, LocalError> {
    let moto_server = venv.join("bin").join("moto_server");
    if is_installed(venv) {
        return Ok(moto_server);
    }
    let parent = venv.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(|e| LocalError::io(parent, e))?;
    let lock_path = lock_path(venv);
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| LocalError::io(&lock_path, e))?;
    sys::lock_exclusive(&lock).map_err(|e| LocalError::io(&lock_path, e))?;
    // Another process may have finished while this one waited for the lock.
    if is_installed(venv) {
        return Ok(moto_server);
    }
    let python = std::env::var("BODYLINE_PYTHON")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "python3".to_string());
    check_python(&python)?;
    if venv.exists() {
        // A half-made virtualenv (interrupted install, other moto version): start over.
        std::fs::remove_dir_all(venv).map_err(|e| LocalError::io(venv, e))?;
    }
    tracing::info!(venv = %venv.display(), requirement = MOTO_REQUIREMENT, "installing moto");
    run_step(
        venv,
        Command::new(&python).arg("-m").arg("venv").arg(venv),
        &format!("{python} -m venv {}", venv.display()),
    )?;
    let venv_python = venv.join("bin").join("python");
    run_step(
        venv,
        Command::new(&venv_python)
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-q"])
            .arg(MOTO_REQUIREMENT)
            .arg(BOTOCORE_REQUIREMENT),
        &format!("pip install {MOTO_REQUIREMENT} {BOTOCORE_REQUIREMENT}"),
    )?;
    if !moto_server.is_file() {
        return Err(LocalError::Install {
            venv: venv.to_path_buf(),
            requirement: MOTO_REQUIREMENT.to_string(),
            step: "pip install".to_string(),
            output: format!("{} is missing after the install", moto_server.display()),
        });
    }
    let marker = venv.join(MARKER);
    std::fs::write(&marker, installed_requirements()).map_err(|e| LocalError::io(&marker, e))?;
    Ok(moto_server)
}

/// What the marker records: both pins, so a virtualenv made before a pin changed is rebuilt.
fn installed_requirements() -> String {
    format!("{MOTO_REQUIREMENT} {BOTOCORE_REQUIREMENT}")
}

/// Whether `venv` holds a finished installation of [`MOTO_REQUIREMENT`] and
/// [`BOTOCORE_REQUIREMENT`].
pub(crate) fn is_installed(venv: &Path) -> bool {
    std::fs::read_to_string(venv.join(MARKER)).is_ok_and(|m| m.trim() == installed_requirements())
        && venv.join("bin").join("moto_server").is_file()
}

fn lock_path(venv: &Path) -> PathBuf {
    let mut name = venv.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    venv.with_file_name(name)
}

fn check_python(python: &str) -> Result<(), LocalError> {
    let not_found = |source| LocalError::PythonNotFound {
        python: python.to_string(),
        source,
    };
    let output = Command::new(python)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(not_found)?;
    if output.status.success() {
        Ok(())
    } else {
        Err(not_found(std::io::Error::other(format!(
            "`{python} --version` exited with {}",
            output.status
        ))))
    }
}

fn run_step(venv: &Path, command: &mut Command, step: &str) -> Result<(), LocalError> {
    let failed = |output: String| LocalError::Install {
        venv: venv.to_path_buf(),
        requirement: MOTO_REQUIREMENT.to_string(),
        step: step.to_string(),
        output,
    };
    let output: Output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| failed(e.to_string()))?;
    if output.status.success() {
        return Ok(());
    }
    let mut text = String::from_utf8_lossy(&output.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stdout));
    Err(failed(format!("{}: {}", output.status, tail(&text, 1500))))
}

/// The last `max` bytes of `text` (on a character boundary), where the error usually is.
pub(crate) fn tail(text: &str, max: usize) -> &str {
    let text = text.trim();
    if text.len() <= max {
        return text;
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_file_sits_beside_the_venv() {
        assert_eq!(
            lock_path(Path::new("/p/.bodyline/venv")),
            Path::new("/p/.bodyline/venv.lock")
        );
    }

    #[test]
    fn a_missing_python_is_named_with_the_fix() {
        let err = match check_python("bodyline-no-such-python3") {
            Err(err) => err,
            Ok(()) => panic!("a missing interpreter was accepted"),
        };
        let text = err.to_string();
        assert!(text.contains("bodyline-no-such-python3"), "{text}");
        assert!(text.contains("BODYLINE_PYTHON"), "{text}");
    }

    #[test]
    fn a_venv_without_the_marker_is_not_installed() {
        let dir = match tempfile::tempdir() {
            Ok(dir) => dir,
            Err(err) => panic!("tempdir: {err}"),
        };
        assert!(!is_installed(dir.path()));
    }

    #[test]
    fn tail_keeps_the_end_on_a_char_boundary() {
        assert_eq!(tail("abcdef", 3), "def");
        assert_eq!(tail("ééé", 3), "é");
    }
}
