//! A real container engine for `--exec docker`: Podman with `runc`, its
//! storage, state and configuration in the test's temporary folder, and an
//! image made here from this machine's busybox and bash (no registry is
//! reachable), holding what the fake agent runs.
//!
//! Without `podman` and `runc` on PATH the tests say so and pass, unless
//! `CI` or `SCOPECRAFT_REQUIRE_PODMAN` is set (`.ci/run` installs them):
//! then they fail.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::Run;

/// The image the agent runs in.
pub const IMAGE: &str = "localhost/scopecraft-test-agent:1";

/// The programs the image holds besides busybox, with their libraries.
const PROGRAMS: &[&str] = &["bash"];

pub struct Podman {
    pub program: PathBuf,
    /// Where `CONTAINERS_CONF` and `CONTAINERS_STORAGE_CONF` point.
    pub conf: PathBuf,
    pub storage_conf: PathBuf,
}

impl Podman {
    /// An engine with the image imported, under `dir`; `None` (with a note)
    /// when there is none on this machine and none is required.
    pub fn start(dir: &Path) -> Option<Podman> {
        let required = std::env::var_os("CI").is_some_and(|v| !v.is_empty())
            || std::env::var_os("SCOPECRAFT_REQUIRE_PODMAN").is_some_and(|v| !v.is_empty());
        let missing: Vec<&str> = ["podman", "runc", "busybox", "tar"]
            .into_iter()
            .filter(|program| which(program).is_none())
            .collect();
        if !missing.is_empty() {
            assert!(
                !required,
                "the container tests need {} (apt-get install podman runc busybox-static)",
                missing.join(", ")
            );
            eprintln!(
                "note: no {} on this machine; the container test is not run",
                missing.join(", ")
            );
            return None;
        }
        let root = dir.join("podman");
        fs::create_dir_all(root.join("tmp")).unwrap();
        let conf = root.join("containers.conf");
        let storage_conf = root.join("storage.conf");
        // No network but loopback: the container gets none at all.
        fs::write(
            &conf,
            format!(
                "[containers]\ndefault_ulimits = []\nnetns = \"none\"\n\n\
                 [engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\n\
                 events_logger = \"file\"\ntmp_dir = \"{tmp}\"\nvolume_path = \"{root}/volumes\"\n",
                tmp = root.join("tmp").display(),
                root = root.display()
            ),
        )
        .unwrap();
        fs::write(
            &storage_conf,
            format!(
                "[storage]\ndriver = \"vfs\"\ngraphroot = \"{root}/graph\"\nrunroot = \"{root}/run\"\n",
                root = root.display()
            ),
        )
        .unwrap();
        let podman = Podman {
            program: which("podman").unwrap(),
            conf,
            storage_conf,
        };
        let tar = make_rootfs(&root);
        podman
            .run(&["import".as_ref(), tar.as_os_str(), IMAGE.as_ref()])
            .success("podman import");
        Some(podman)
    }

    /// Runs podman with this engine's configuration.
    pub fn run<S: AsRef<std::ffi::OsStr>>(&self, args: &[S]) -> Run {
        let output = Command::new(&self.program)
            .args(args)
            .env("CONTAINERS_CONF", &self.conf)
            .env("CONTAINERS_STORAGE_CONF", &self.storage_conf)
            .output()
            .expect("running podman");
        Run::from(output)
    }

    /// The names of the containers that exist (running or not).
    pub fn containers(&self) -> Vec<String> {
        self.run(&["ps", "-a", "--format", "{{.Names}}"])
            .success("podman ps")
            .stdout
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Podman {
    /// Nothing of ours outlives the test: containers removed at once, the
    /// storage (whose layers podman made read-only in places) emptied.
    fn drop(&mut self) {
        let _ = self.run(&["rm", "-a", "-f", "-t", "0"]);
        let _ = self.run(&["system", "reset", "-f"]);
    }
}

impl Run {
    fn success(self, what: &str) -> Run {
        assert_eq!(self.code, Some(0), "{what}: {}", self.stderr);
        self
    }
}

fn which(program: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|full| full.is_file())
}

/// A root filesystem of busybox (its applets in /bin), bash and their
/// libraries at their paths, tarred for `podman import`.
fn make_rootfs(root: &Path) -> PathBuf {
    let rootfs = root.join("rootfs");
    for dir in ["bin", "usr/bin", "tmp", "proc", "dev", "sys", "etc"] {
        fs::create_dir_all(rootfs.join(dir)).unwrap();
    }
    let busybox = which("busybox").unwrap();
    let mut files = vec![busybox.clone()];
    for program in PROGRAMS {
        let path = which(program).unwrap_or_else(|| panic!("no {program} on PATH"));
        files.push(path);
    }
    let mut libraries = Vec::new();
    for file in &files {
        libraries.extend(libraries_of(file));
    }
    for file in files.iter().chain(&libraries) {
        let target = rootfs.join(file.strip_prefix("/").unwrap());
        fs::create_dir_all(target.parent().unwrap()).unwrap();
        fs::copy(file, &target).unwrap();
    }
    // The programs also in /bin, where the container's PATH finds them.
    for program in PROGRAMS {
        let target = rootfs.join("bin").join(program);
        if !target.exists() {
            fs::copy(which(program).unwrap(), target).unwrap();
        }
    }
    let in_image = Path::new("/").join(busybox.strip_prefix("/").unwrap());
    let applets = Command::new(&busybox).arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&applets.stdout).lines() {
        let link = rootfs.join("bin").join(applet);
        if !link.exists() {
            std::os::unix::fs::symlink(&in_image, link).unwrap();
        }
    }
    std::os::unix::fs::symlink(&in_image, rootfs.join("usr/bin/env")).ok();
    fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    let tar = root.join("rootfs.tar");
    let status = Command::new("tar")
        .arg("-C")
        .arg(&rootfs)
        .arg("-cf")
        .arg(&tar)
        .arg(".")
        .status()
        .unwrap();
    assert!(status.success(), "tar of the root filesystem");
    tar
}

/// The shared libraries `file` loads, as `ldd` lists them (none for a
/// static program).
fn libraries_of(file: &Path) -> Vec<PathBuf> {
    let output = Command::new("ldd").arg(file).output().unwrap();
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| {
            let path = match line.split_once("=>") {
                Some((_, right)) => right.split_whitespace().next()?,
                None => line.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}
