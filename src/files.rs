//! Opening files safely. What a project holds (tasks, modes, configuration)
//! is read only when it is a regular file of a sane size: git stores
//! symlinks, so a clone can hold a task that is a FIFO (a read that never
//! ends) or a link to `/dev/zero` (one that never stops). What we write in
//! the books (records, logs, locks, temporary files) is opened without
//! following symlinks and must be a regular file with one name, so a file
//! planted there cannot send our writes elsewhere.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::Path;

/// The most we read of a task, mode, template or configuration file.
pub const MAX_PROJECT_FILE: u64 = 1024 * 1024;

/// The most we read of a session record.
pub const MAX_RECORD: u64 = 16 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug)]
pub enum Unreadable {
    /// A FIFO, a device, a socket or a folder.
    NotRegular(&'static str),
    /// Larger than the cap (its size, the cap).
    TooLarge(u64, u64),
    /// Not UTF-8 text.
    NotText,
    /// Reading failed (missing, no permission, …).
    Io(io::Error),
}

impl Unreadable {
    /// Whether the file is there but is not one we read (as opposed to an
    /// I/O failure): a listing passes such a file over with a warning.
    pub fn is_refusal(&self) -> bool {
        !matches!(self, Unreadable::Io(_))
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, Unreadable::Io(err) if err.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for Unreadable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Unreadable::NotRegular(kind) => write!(f, "is {kind}, not a regular file"),
            Unreadable::TooLarge(size, cap) => write!(
                f,
                "is {} KiB, more than the {} KiB read of such a file",
                size.div_ceil(1024),
                cap / 1024
            ),
            Unreadable::NotText => f.write_str("is not UTF-8 text"),
            Unreadable::Io(err) => write!(f, "could not be read: {err}"),
        }
    }
}

impl std::error::Error for Unreadable {}

impl From<io::Error> for Unreadable {
    fn from(err: io::Error) -> Self {
        Unreadable::Io(err)
    }
}

/// What a file type is, in words, when it is not a regular file.
fn kind_of(file_type: fs::FileType) -> Option<&'static str> {
    if file_type.is_file() {
        None
    } else if file_type.is_dir() {
        Some("a folder")
    } else if file_type.is_fifo() {
        Some("a FIFO")
    } else if file_type.is_char_device() {
        Some("a character device")
    } else if file_type.is_block_device() {
        Some("a block device")
    } else if file_type.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Opens `path` (through symlinks) for reading when it is a regular file
/// of at most `cap` bytes. A FIFO or a device is refused before it is
/// opened; the open itself does not block (`O_NONBLOCK`) and what was
/// opened is checked again, in case the path changed in between.
pub fn open_regular(path: &Path, cap: u64) -> Result<File, Unreadable> {
    open_sized(path, cap).map(|(file, _)| file)
}

/// [`open_regular`], with the file's size when opened.
fn open_sized(path: &Path, cap: u64) -> Result<(File, u64), Unreadable> {
    if let Some(kind) = kind_of(fs::metadata(path)?.file_type()) {
        return Err(Unreadable::NotRegular(kind));
    }
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let meta = file.metadata()?;
    if let Some(kind) = kind_of(meta.file_type()) {
        return Err(Unreadable::NotRegular(kind));
    }
    if meta.len() > cap {
        return Err(Unreadable::TooLarge(meta.len(), cap));
    }
    Ok((file, meta.len()))
}

/// The bytes of a regular file of at most `cap` bytes (a file that grows
/// past the cap while read is refused too).
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, Unreadable> {
    let (file, len) = open_sized(path, cap)?;
    // Room for the whole file and one byte more, so it is read in one call
    // (1000 records are read on every `list`).
    let mut bytes = Vec::with_capacity(len as usize + 1);
    file.take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(Unreadable::TooLarge(bytes.len() as u64, cap));
    }
    Ok(bytes)
}

/// A project file (task, mode, template, configuration) as text.
pub fn read_project_text(path: &Path) -> Result<String, Unreadable> {
    String::from_utf8(read_capped(path, MAX_PROJECT_FILE)?).map_err(|_| Unreadable::NotText)
}

/// The first bytes of a project file, for a cheap look at its start;
/// empty when it is not a regular file.
pub fn read_start(path: &Path, len: usize) -> Vec<u8> {
    let Ok(file) = open_regular(path, u64::MAX) else {
        return Vec::new();
    };
    let mut start = Vec::with_capacity(len);
    let _ = file.take(len as u64).read_to_end(&mut start);
    start
}

/// Checks that a file we opened in the books (not through a symlink) is a
/// regular file with no other name, so our writes land in it and nowhere
/// else; `path` names it in the error.
fn check_ours(file: &File, path: &Path) -> io::Result<()> {
    let meta = file.metadata()?;
    let problem = match kind_of(meta.file_type()) {
        Some(kind) => Some(format!("is {kind}")),
        None if meta.nlink() > 1 => Some(format!("has {} names (hard links)", meta.nlink())),
        None => None,
    };
    match problem {
        Some(problem) => Err(not_ours(path, &problem)),
        None => Ok(()),
    }
}

/// Refuses what is already at `path` when it is not a regular file (a
/// symlink, a FIFO): before opening it, which for a FIFO could block or fail
/// with a less telling error.
fn check_path_ours(path: &Path) -> io::Result<()> {
    let problem = match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => "is a symlink",
        Ok(meta) => match kind_of(meta.file_type()) {
            Some(kind) => return Err(not_ours(path, &format!("is {kind}"))),
            None => return Ok(()),
        },
        Err(_) => return Ok(()),
    };
    Err(not_ours(path, problem))
}

fn not_ours(path: &Path, problem: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} {problem}, not a file scopecraft-tmux made; move it away",
            path.display()
        ),
    )
}

/// Explains an open that `O_NOFOLLOW` refused.
fn refused_link(err: io::Error, path: &Path) -> io::Error {
    if err.raw_os_error() == Some(libc::ELOOP) {
        not_ours(path, "is a symlink")
    } else {
        err
    }
}

/// Opens (creating it when missing) a file of ours for appending: a log.
/// A symlink, a FIFO or a hard-linked file there is refused.
pub fn open_append(path: &Path) -> io::Result<File> {
    check_path_ours(path)?;
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|err| refused_link(err, path))?;
    check_ours(&file, path)?;
    clear_nonblocking(&file);
    Ok(file)
}

/// Opens (creating it when missing) a lock file of ours for `flock`.
pub fn open_lock(path: &Path) -> io::Result<File> {
    check_path_ours(path)?;
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        .map_err(|err| refused_link(err, path))?;
    check_ours(&file, path)?;
    Ok(file)
}

/// Creates a new file of ours (a temporary file): never one that exists,
/// never through a symlink.
pub fn create_new(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|err| refused_link(err, path))
}

/// Whether an error means the disk (or the user's quota) is full.
pub fn is_disk_full(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .and_then(io::Error::raw_os_error)
            .is_some_and(|code| code == libc::ENOSPC || code == libc::EDQUOT)
    })
}

/// The bytes free for us on the file system holding `path`.
pub fn free_space(path: &Path) -> Option<u64> {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).ok()?;
    // SAFETY: statvfs into a zeroed struct, with a valid C string.
    unsafe {
        let mut stat: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut stat) != 0 {
            return None;
        }
        #[allow(clippy::unnecessary_cast)] // u32 on some systems, u64 on others
        Some(stat.f_bavail as u64 * stat.f_frsize as u64)
    }
}

/// A folder of ours outside the books for what must survive a full disk
/// (a run's outcome): the user's runtime folder (in memory), else
/// `/dev/shm`, else the temporary folder; private to us, made when `make`.
pub fn refuge(make: bool) -> io::Result<std::path::PathBuf> {
    let base = std::env::var_os("XDG_RUNTIME_DIR")
        .map(std::path::PathBuf::from)
        .filter(|dir| dir.is_dir())
        .or_else(|| Some(std::path::PathBuf::from("/dev/shm")).filter(|dir| dir.is_dir()))
        .unwrap_or_else(std::env::temp_dir);
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    let dir = base.join(format!("scopecraft-tmux-{uid}"));
    if make {
        match fs::DirBuilder::new().mode(0o700).create(&dir) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    let meta = fs::symlink_metadata(&dir)?;
    if !meta.is_dir() || meta.uid() != uid || meta.mode() & 0o077 != 0 {
        return Err(not_ours(&dir, "is not a private folder of ours"));
    }
    Ok(dir)
}

/// Appends go to a regular file: blocking or not makes no difference, but
/// the flag is dropped so nothing downstream sees a surprise.
fn clear_nonblocking(file: &File) {
    use std::os::fd::AsRawFd;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags >= 0 {
            libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn fifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: mkfifo with a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
    }

    #[test]
    fn reads_only_regular_files_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("ok.md");
        fs::write(&ok, "# T\n").unwrap();
        assert_eq!(read_project_text(&ok).unwrap(), "# T\n");

        let pipe = dir.path().join("pipe.md");
        fifo(&pipe);
        let err = read_project_text(&pipe).unwrap_err();
        assert!(
            err.is_refusal() && err.to_string().contains("a FIFO"),
            "{err}"
        );

        let zero = dir.path().join("zero.md");
        symlink("/dev/zero", &zero).unwrap();
        let err = read_project_text(&zero).unwrap_err();
        assert!(err.to_string().contains("character device"), "{err}");

        let big = dir.path().join("big.md");
        fs::write(&big, vec![b'x'; MAX_PROJECT_FILE as usize + 1]).unwrap();
        assert!(matches!(
            read_project_text(&big),
            Err(Unreadable::TooLarge(..))
        ));

        let binary = dir.path().join("bin.md");
        fs::write(&binary, [0xff, 0xfe]).unwrap();
        assert!(matches!(
            read_project_text(&binary),
            Err(Unreadable::NotText)
        ));
        assert!(read_start(&pipe, 4).is_empty());
        assert!(
            read_project_text(&dir.path().join("none"))
                .unwrap_err()
                .is_not_found()
        );
    }

    #[test]
    fn what_we_write_is_never_reached_through_a_link() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs::write(&outside, "keep").unwrap();
        let link = dir.path().join("x.log");
        symlink(&outside, &link).unwrap();
        for err in [
            open_append(&link).unwrap_err(),
            open_lock(&link).unwrap_err(),
            create_new(&link).unwrap_err(),
        ] {
            assert!(
                err.to_string().contains("symlink") || err.kind() == io::ErrorKind::AlreadyExists,
                "{err}"
            );
        }
        let hard = dir.path().join("hard.log");
        fs::hard_link(&outside, &hard).unwrap();
        assert!(
            open_append(&hard)
                .unwrap_err()
                .to_string()
                .contains("hard links")
        );
        let pipe = dir.path().join("pipe.log");
        fifo(&pipe);
        assert!(open_append(&pipe).unwrap_err().to_string().contains("FIFO"));
        assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
        open_append(&dir.path().join("new.log")).unwrap();
    }
}
