//! Processes we started earlier: are they still alive (the same process, on
//! the same boot), and signalling them. A pid alone proves nothing (pids are
//! reused): a process is ours only when its start time matches the one
//! recorded when it began, and only such a process is signalled.

use std::fs;
use std::path::Path;
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

/// When `pid` started; tells a process from a later one that reused its
/// pid. Clock ticks since boot (Linux `/proc/<pid>/stat` field 22), or
/// where there is no `/proc` (macOS, the BSDs) the start time `ps` gives, to
/// the second, as a number (`20260531T022020` → 20260531022020).
pub fn start_ticks(pid: u32) -> Option<u64> {
    static HAS_PROC: OnceLock<bool> = OnceLock::new();
    if *HAS_PROC.get_or_init(|| Path::new("/proc/self/stat").exists()) {
        proc_start_ticks(pid)
    } else {
        ps_start_time(pid)
    }
}

fn proc_start_ticks(pid: u32) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) is in parentheses and may hold spaces.
    let after_name = &stat[stat.rfind(')')? + 1..];
    after_name.split_whitespace().nth(19)?.parse().ok()
}

/// `ps -o lstart= -p PID` in UTC (`Wed Dec  2 16:30:35 2026`) as
/// 20261202163035.
fn ps_start_time(pid: u32) -> Option<u64> {
    let text = crate::process::cmd("ps")
        .args(["-o", "lstart=", "-p", &pid.to_string()])
        .env("LC_ALL", "C")
        .env("TZ", "UTC")
        .timeout(std::time::Duration::from_secs(5))
        .output()
        .ok()?;
    parse_lstart(&text)
}

fn parse_lstart(text: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [_, month, day, time, year] = fields.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? as u64 + 1;
    let mut clock = time.split(':').map(|part| part.parse::<u64>().ok());
    let (hours, minutes, seconds) = (clock.next()??, clock.next()??, clock.next()??);
    let day: u64 = day.parse().ok()?;
    let year: u64 = year.parse().ok()?;
    Some(((((year * 100 + month) * 100 + day) * 100 + hours) * 100 + minutes) * 100 + seconds)
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
/// same boot, pid present, and the same start time. A record without a
/// start time proves nothing: any process may have that pid by now.
pub fn is_alive(pid: u32, ticks: Option<u64>, boot: Option<&str>) -> bool {
    if let (Some(recorded), Some(current)) = (boot, boot_id())
        && recorded != current
    {
        return false;
    }
    let Some(recorded) = ticks else {
        return false;
    };
    exists(pid) && start_ticks(pid) == Some(recorded)
}

/// A process whose identity was proven (its recorded start time), the one
/// thing we signal besides our own children. On Linux a pidfd taken before
/// the check pins it: once it ends, a signal cannot reach a newcomer with
/// its pid.
#[derive(Debug)]
pub struct Process {
    pid: u32,
    ticks: Option<u64>,
    boot: Option<String>,
    #[cfg(target_os = "linux")]
    pidfd: Option<std::os::fd::OwnedFd>,
}

impl Process {
    /// The process recorded as (`pid`, `ticks`, `boot`), when it still runs.
    pub fn find(pid: u32, ticks: Option<u64>, boot: Option<&str>) -> Option<Process> {
        #[cfg(target_os = "linux")]
        let pidfd = pidfd_open(pid);
        if !is_alive(pid, ticks, boot) {
            return None;
        }
        Some(Process {
            pid,
            ticks,
            boot: boot.map(str::to_string),
            #[cfg(target_os = "linux")]
            pidfd,
        })
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Whether it still runs (a zombie has ended).
    pub fn alive(&self) -> bool {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            return pidfd_signal(fd, 0) && state(self.pid) != Some('Z');
        }
        is_alive(self.pid, self.ticks, self.boot.as_deref())
    }

    /// Sends `signal` to it; false when it has ended.
    pub fn signal(&self, signal: i32) -> bool {
        #[cfg(target_os = "linux")]
        if let Some(fd) = &self.pidfd {
            return pidfd_signal(fd, signal);
        }
        self.alive() && self::signal(self.pid, signal)
    }

    /// Sends `signal` to the process group it leads (one we made), while
    /// it still runs: after that its id may be another group's.
    pub fn signal_group(&self, signal: i32) -> bool {
        self.alive() && signal_group(self.pid, signal)
    }
}

#[cfg(target_os = "linux")]
fn pidfd_open(pid: u32) -> Option<std::os::fd::OwnedFd> {
    use std::os::fd::FromRawFd;
    let pid = libc::pid_t::try_from(pid).ok().filter(|&p| p > 0)?;
    // SAFETY: pidfd_open(2); a descriptor it returns is ours to own.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let fd = i32::try_from(fd).ok().filter(|&fd| fd >= 0)?;
    // SAFETY: a new descriptor, owned by nothing else.
    Some(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) })
}

#[cfg(target_os = "linux")]
fn pidfd_signal(fd: &std::os::fd::OwnedFd, signal: i32) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: pidfd_send_signal(2) on a pidfd we own, no siginfo.
    unsafe {
        libc::syscall(
            libc::SYS_pidfd_send_signal,
            fd.as_raw_fd(),
            signal,
            std::ptr::null::<libc::siginfo_t>(),
            0,
        ) == 0
    }
}

/// One line of the process table: (pid, parent pid, ended but not reaped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub pid: u32,
    pub ppid: u32,
    pub zombie: bool,
}

/// Every process on the machine (that we may see), from `/proc`, or from
/// `ps` where there is none.
pub fn table() -> Vec<Entry> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return ps_table();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = fs::read_to_string(entry.path().join("stat")).ok()?;
            let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
            let zombie = fields.next()? == "Z";
            let ppid = fields.next()?.parse().ok()?;
            Some(Entry { pid, ppid, zombie })
        })
        .collect()
}

fn ps_table() -> Vec<Entry> {
    let Ok(text) = crate::process::cmd("ps")
        .args(["-A", "-o", "pid=,ppid=,stat="])
        .env("LC_ALL", "C")
        .timeout(std::time::Duration::from_secs(5))
        .output()
    else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            Some(Entry {
                pid: fields.next()?.parse().ok()?,
                ppid: fields.next()?.parse().ok()?,
                zombie: fields.next()?.starts_with('Z'),
            })
        })
        .collect()
}

/// The processes below `root` (children, their children, …), not ended:
/// what `root` started, also what left its process group or session.
pub fn descendants(root: u32) -> Vec<u32> {
    let table = table();
    let mut found = Vec::new();
    let mut parents = vec![root];
    while let Some(parent) = parents.pop() {
        for entry in table.iter().filter(|e| e.ppid == parent && e.pid != root) {
            if !found.contains(&entry.pid) {
                found.push(entry.pid);
                parents.push(entry.pid);
            }
        }
    }
    let zombies: Vec<u32> = table.iter().filter(|e| e.zombie).map(|e| e.pid).collect();
    found.retain(|pid| !zombies.contains(pid));
    found
}

/// The command name of `pid`, for messages (`sleep`), when it can be read.
pub fn command_name(pid: u32) -> Option<String> {
    fs::read_to_string(format!("/proc/{pid}/comm"))
        .ok()
        .map(|name| name.trim_end().to_string())
}

/// Makes this process the one that inherits its descendants' orphans
/// (Linux `PR_SET_CHILD_SUBREAPER`), so a process that leaves its group or
/// session is still found below us; false where that is not possible.
pub fn become_subreaper() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: prctl with integer arguments.
        unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Reaps our children that have ended, but those in `spare` (whose
/// statuses others wait for): orphans a subreaper inherited.
pub fn reap_orphans(spare: &[u32]) {
    let me = std::process::id();
    for entry in table() {
        if entry.ppid == me && entry.zombie && !spare.contains(&entry.pid) {
            let Ok(pid) = libc::pid_t::try_from(entry.pid) else {
                continue;
            };
            let mut status = 0;
            // SAFETY: waitpid on a child of ours that has ended.
            unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        }
    }
}

/// Ends the processes `find` lists (each call lists those still there):
/// SIGTERM, then SIGKILL after `grace`. Returns those that outlived both
/// (another user's, or stuck in the kernel), for the caller to report.
pub fn end_all(find: impl Fn() -> Vec<u32>, grace: std::time::Duration) -> Vec<u32> {
    use std::time::{Duration, Instant};
    let wait_gone = |limit: Duration| {
        let deadline = Instant::now() + limit;
        loop {
            let left = find();
            if left.is_empty() || Instant::now() >= deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
    };
    let first = find();
    if first.is_empty() {
        return first;
    }
    for &pid in &first {
        signal(pid, libc::SIGTERM);
        signal(pid, libc::SIGCONT);
    }
    for pid in wait_gone(grace) {
        signal(pid, libc::SIGKILL);
    }
    wait_gone(Duration::from_secs(1))
}

/// "pid 123 (sleep), pid 456": for messages.
pub fn describe(pids: &[u32]) -> String {
    pids.iter()
        .map(|&pid| match command_name(pid) {
            Some(name) => format!("pid {pid} ({name})"),
            None => format!("pid {pid}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
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
    fn a_pid_without_its_start_time_is_not_proven_alive() {
        let me = std::process::id();
        assert!(!is_alive(me, None, None));
        assert!(Process::find(me, None, None).is_none());
        let found = Process::find(me, start_ticks(me), boot_id().as_deref()).unwrap();
        assert!(found.alive());
        assert!(found.signal(0));
    }

    #[test]
    fn an_ended_process_is_not_signalled_through_its_handle() {
        let mut child = crate::process::cmd("sleep").arg("30").spawn().unwrap();
        let pid = child.id();
        let found = Process::find(pid, start_ticks(pid), boot_id().as_deref()).unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(!found.alive());
        assert!(!found.signal(0));
    }

    #[test]
    fn ps_gives_a_start_time_to_the_second() {
        assert_eq!(
            parse_lstart("Wed Dec  2 16:30:35 2026\n"),
            Some(20261202163035)
        );
        assert_eq!(parse_lstart(""), None);
        assert_eq!(parse_lstart("Wed Foo  2 16:30:35 2026"), None);
        if crate::process::find_program("ps").is_none() {
            eprintln!("no ps here: its start time is not checked");
            return;
        }
        let me = std::process::id();
        let first = ps_start_time(me).unwrap();
        assert_eq!(ps_start_time(me), Some(first), "the same process");
        assert!(first > 20_200_101_000_000, "{first}");
        assert_eq!(ps_start_time(u32::MAX / 2), None);
    }

    #[test]
    fn descendants_are_found_and_ended_whatever_their_group() {
        // A shell whose child left its process group and session.
        let mut shell = crate::process::cmd("sh")
            .args(["-c", "setsid sleep 30 & wait"])
            .spawn()
            .unwrap();
        let root = shell.id();
        let found = (0..200)
            .find_map(|_| {
                std::thread::sleep(std::time::Duration::from_millis(10));
                let below = descendants(root);
                // Once `setsid` has made its session and become `sleep`.
                (below.len() == 1 && command_name(below[0]).as_deref() == Some("sleep"))
                    .then_some(below)
            })
            .expect("the sleep below the shell");
        assert_eq!(found.len(), 1);
        let left = end_all(|| descendants(root), std::time::Duration::from_secs(2));
        assert!(left.is_empty(), "{left:?}");
        shell.wait().unwrap();
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
