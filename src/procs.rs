//! Processes we started earlier: are they still alive (the same process, on
//! the same boot), and signalling them.

use std::fs;
use std::sync::OnceLock;

/// The kernel's id for this boot, when the system has one (Linux); read
/// once per process (it cannot change while we run).
pub fn boot_id() -> Option<String> {
    static BOOT_ID: OnceLock<Option<String>> = OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .ok()
                .map(|id| id.trim().to_string())
                .filter(|id| !id.is_empty())
        })
        .clone()
}

/// When `pid` started, in clock ticks since boot (Linux `/proc/<pid>/stat`
/// field 22); tells a process from a later one that reused its pid.
pub fn start_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// Whether a process with `pid` exists (ours or another user's) and has
/// not ended: a zombie nobody has reaped yet counts as gone.
pub fn exists(pid: u32) -> bool {
    let Ok(raw) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for the process.
    let result = unsafe { libc::kill(raw, 0) };
    let present =
        result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    present && state(pid) != Some('Z')
}

/// The process state letter from `/proc/<pid>/stat` (`R`, `S`, `Z`, …).
fn state(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Whether the process recorded as (`pid`, `ticks`, `boot`) still runs:
/// same boot, pid present, and the same start time when both are known.
pub fn is_alive(pid: u32, ticks: Option<u64>, boot: Option<&str>) -> bool {
    if let (Some(recorded), Some(current)) = (boot, boot_id())
        && recorded != current
    {
        return false;
    }
    if !exists(pid) {
        return false;
    }
    match (ticks, start_ticks(pid)) {
        (Some(recorded), Some(current)) => recorded == current,
        _ => true,
    }
}

/// Sends `signal` to the process `pid`; false when it does not exist.
pub fn signal(pid: u32, signal: i32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: plain kill(2).
    unsafe { libc::kill(pid, signal) == 0 }
}

/// Sends `signal` to the process group `pgid`.
pub fn signal_group(pgid: u32, signal: i32) -> bool {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else {
        return false;
    };
    // SAFETY: kill(2) with a negative pid signals the group.
    unsafe { libc::kill(-pgid, signal) == 0 }
}

/// "SIGTERM" for 15, and so on; the number for others.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGBUS => "SIGBUS",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_with_its_own_start_time() {
        let pid = std::process::id();
        let ticks = start_ticks(pid);
        assert!(is_alive(pid, ticks, boot_id().as_deref()));
        if let Some(ticks) = ticks {
            assert!(!is_alive(pid, Some(ticks + 1), None), "a reused pid");
        }
        assert!(!is_alive(pid, None, Some("another-boot")));
    }

    #[test]
    fn a_missing_process_is_dead() {
        assert!(!exists(0));
        assert!(!exists(u32::MAX));
    }

    #[test]
    fn names_signals() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(77), "signal 77");
    }
}
