//! One run per stack and root at a time: an exclusive `flock(2)` on `.bodyline/locks/<stack>.lock`.
//!
//! The kernel releases the lock when the holder's process ends, however it ends (SIGKILL
//! included), so a crashed run never leaves a stale lock behind. The holder writes who it is
//! into the file, so the refused run can name it.

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::os::fd::AsRawFd as _;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::StackError;

/// The held lock of one stack; dropping it releases the lock.
#[derive(Debug)]
pub struct StackLock {
    path: PathBuf,
    _file: File,
}

impl StackLock {
    /// `<root>/.bodyline/locks/<stack>.lock`.
    pub fn path(root: &Path, stack: &str) -> PathBuf {
        crate::ProjectDir::new(root).file(format!("locks/{stack}.lock"))
    }

    /// Takes the lock of `stack` under `root` for `command` (e.g. `setup`), or refuses at once
    /// with [`StackError::Locked`] naming the run that holds it. It does not wait: a second
    /// run of the same stack from the same root is a mistake (two terminals, a retried job),
    /// and after the first run it would have nothing left to do.
    pub fn acquire(root: &Path, stack: &str, command: &str) -> Result<StackLock, StackError> {
        let path = Self::path(root, stack);
        let io = |source| StackError::Io {
            path: path.clone(),
            source,
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        // Not truncated on open: the holder's record must survive a refused run's open.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        // SAFETY: flock(2) on a descriptor that `file` keeps open; no memory is touched.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(io(err));
            }
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(StackError::Locked {
                stack: stack.to_string(),
                holder: if holder.is_empty() {
                    "a run that has not said who it is yet".to_string()
                } else {
                    holder.to_string()
                },
                path,
            });
        }
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let record = format!(
            "`bodyline {command}`, pid {}, since {since} (Unix seconds)",
            std::process::id()
        );
        file.set_len(0).map_err(io)?;
        file.seek(SeekFrom::Start(0)).map_err(io)?;
        file.write_all(record.as_bytes()).map_err(io)?;
        Ok(StackLock { path, _file: file })
    }

    /// The lock file.
    pub fn file(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_first_named_and_a_dropped_lock_is_free() {
        let dir = tempfile::tempdir().unwrap();
        let first = StackLock::acquire(dir.path(), "s", "setup").unwrap();
        // flock locks belong to the open file description: a second open conflicts even in
        // the same process, as another process's would.
        let err = StackLock::acquire(dir.path(), "s", "setup")
            .unwrap_err()
            .to_string();
        let pid = std::process::id().to_string();
        assert!(
            err.contains("stack s is being changed by another run")
                && err.contains("`bodyline setup`")
                && err.contains(&pid),
            "{err}"
        );
        // Another stack under the same root is independent.
        let other = StackLock::acquire(dir.path(), "t", "setup").unwrap();
        drop(first);
        let again = StackLock::acquire(dir.path(), "s", "teardown").unwrap();
        assert_eq!(again.file(), StackLock::path(dir.path(), "s"));
        drop((other, again));
    }
}
