//! The few POSIX calls process supervision needs (signals, liveness, file locks, parent-death
//! signal), each behind a safe function.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::process::Command;

/// A signal the supervisor sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Signal {
    /// Ask to stop.
    Term,
    /// Stop now.
    Kill,
}

impl Signal {
    fn raw(self) -> libc::c_int {
        match self {
            Signal::Term => libc::SIGTERM,
            Signal::Kill => libc::SIGKILL,
        }
    }
}

/// Sends `signal` to process `pid`; a process that is already gone is not an error.
pub(crate) fn kill(pid: u32, signal: Signal) -> io::Result<()> {
    let pid = to_pid(pid)?;
    // SAFETY: kill(2) takes plain integers and has no memory effects.
    let rc = unsafe { libc::kill(pid, signal.raw()) };
    gone_is_ok(rc)
}

/// Sends `signal` to every process of the process group `pgid`.
pub(crate) fn kill_group(pgid: u32, signal: Signal) -> io::Result<()> {
    let pgid = to_pid(pgid)?;
    // SAFETY: killpg(2) takes plain integers and has no memory effects.
    let rc = unsafe { libc::killpg(pgid, signal.raw()) };
    gone_is_ok(rc)
}

/// Whether `pid` is a live process. A zombie (exited, not yet reaped by its parent) counts as
/// gone: `up` and `down` may run in the process that spawned the background stack.
pub(crate) fn is_alive(pid: u32) -> bool {
    let Ok(raw) = to_pid(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks that the process exists.
    let rc = unsafe { libc::kill(raw, 0) };
    if rc != 0 && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH) {
        return false;
    }
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => rc == 0,
    }
}

/// Whether `pid`'s command line has the argument `arg`. A pid file can outlive its process and
/// the number be reused: never signal a process that is not ours. Without `/proc`, trusts the
/// pid.
pub(crate) fn has_argument(pid: u32, arg: &str) -> bool {
    match std::fs::read(format!("/proc/{pid}/cmdline")) {
        Ok(cmdline) => cmdline.split(|b| *b == 0).any(|a| a == arg.as_bytes()),
        Err(_) => !std::path::Path::new("/proc/self").exists(),
    }
}

/// Takes an exclusive advisory lock on `file`, blocking until it is free. The lock is released
/// when the file is closed.
pub(crate) fn lock_exclusive(file: &File) -> io::Result<()> {
    loop {
        // SAFETY: the descriptor is valid for the lifetime of `file`.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
        if rc == 0 {
            return Ok(());
        }
        let err = io::Error::last_os_error();
        if err.kind() != io::ErrorKind::Interrupted {
            return Err(err);
        }
    }
}

/// Makes the child get SIGTERM when the thread that spawned it dies, so a crashed or killed
/// supervisor leaves no moto behind. Linux only; elsewhere `stop`/drop remain the only way.
pub(crate) fn die_with_parent(command: &mut Command) {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::process::CommandExt;
        // SAFETY: the closure runs between fork and exec and only calls prctl(2), which is
        // async-signal-safe, and reads errno.
        unsafe {
            command.pre_exec(|| {
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = command;
}

/// The descriptor on which a child finds the listening socket its supervisor passes it.
pub(crate) const INHERITED_FD: libc::c_int = 3;

/// Makes the child find `fd` (a listening socket the supervisor keeps) as [`INHERITED_FD`], so a
/// restarted child serves on the same port and connections made meanwhile wait in the backlog.
pub(crate) fn pass_listener(command: &mut Command, fd: libc::c_int) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs between fork and exec and only calls dup2(2) and fcntl(2), which
    // are async-signal-safe, and reads errno.
    unsafe {
        command.pre_exec(move || {
            if fd == INHERITED_FD {
                // dup2 onto itself keeps close-on-exec: clear it instead.
                let flags = libc::fcntl(fd, libc::F_GETFD);
                if flags == -1 || libc::fcntl(fd, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == -1 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(fd, INHERITED_FD) == -1 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// The listening socket a supervisor passed with [`pass_listener`].
pub(crate) fn inherited_listener() -> io::Result<std::net::TcpListener> {
    use std::os::fd::FromRawFd;
    // SAFETY: fcntl(2) on a plain descriptor number has no memory effects. Close-on-exec again:
    // the model servers this process starts must not hold the front door's port open.
    let flags = unsafe { libc::fcntl(INHERITED_FD, libc::F_GETFD) };
    if flags == -1
        // SAFETY: as above.
        || unsafe { libc::fcntl(INHERITED_FD, libc::F_SETFD, flags | libc::FD_CLOEXEC) } == -1
    {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the supervisor put a listening TCP socket on this descriptor for this process.
    let listener = unsafe { std::net::TcpListener::from_raw_fd(INHERITED_FD) };
    listener.local_addr()?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

fn to_pid(pid: u32) -> io::Result<libc::pid_t> {
    match libc::pid_t::try_from(pid) {
        // 0 and negative values address process groups; never send those by accident.
        Ok(raw) if raw > 0 => Ok(raw),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{pid} is not a process id"),
        )),
    }
}

fn gone_is_ok(rc: libc::c_int) -> io::Result<()> {
    if rc == 0 {
        return Ok(());
    }
    let err = io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::ESRCH) {
        Ok(())
    } else {
        Err(err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_reaped_child_is_not() {
        assert!(is_alive(std::process::id()));
        let mut child = match Command::new("true").spawn() {
            Ok(child) => child,
            Err(err) => panic!("cannot run `true`: {err}"),
        };
        let pid = child.id();
        let _ = child.wait();
        assert!(!is_alive(pid));
    }

    #[test]
    fn an_exited_unreaped_child_counts_as_gone() {
        let mut child = match Command::new("true").spawn() {
            Ok(child) => child,
            Err(err) => panic!("cannot run `true`: {err}"),
        };
        let pid = child.id();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while is_alive(pid) && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(!is_alive(pid), "zombie {pid} still counts as alive");
        let _ = child.wait();
    }

    #[test]
    fn the_command_line_is_read_from_proc() {
        let mut child = Command::new("sleep").arg("5").spawn().expect("spawn sleep");
        // The kernel fills in the new command line a moment after `spawn` returns.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while !has_argument(child.id(), "5") && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(has_argument(child.id(), "5"));
        assert!(!has_argument(child.id(), "serve"));
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn pid_zero_is_refused() {
        assert!(kill(0, Signal::Term).is_err());
        assert!(!is_alive(0));
    }
}
