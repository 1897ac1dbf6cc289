//! Walking the markdown files below a folder (tasks, modes), following
//! symlinked folders but entering each folder once: a link back up the tree
//! (`ln -s .. loop`) would otherwise list everything again, and two such
//! links make the walk exponential.

use std::collections::{HashSet, VecDeque};
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Every `.md` file below `root`, as reached from it; names starting with
/// `.` (files and folders) are passed over. A folder reached again, by
/// (device, inode), is skipped quietly: its files are listed already.
/// Folders are entered before symlinks to folders, so a file is listed
/// under its real path when it has one below `root`. `kind` names the
/// folders in errors (`task`, `mode`).
pub fn markdown_files(root: &Path, kind: &str) -> Result<Vec<PathBuf>> {
    let mut walk = Walk {
        kind,
        seen: HashSet::new(),
        links: VecDeque::new(),
        files: Vec::new(),
    };
    walk.enter(root)?;
    while let Some(link) = walk.links.pop_front() {
        walk.enter(&link)?;
    }
    Ok(walk.files)
}

struct Walk<'a> {
    kind: &'a str,
    /// (device, inode) of every folder entered.
    seen: HashSet<(u64, u64)>,
    /// Symlinks to folders, entered once the real folders are done.
    links: VecDeque<PathBuf>,
    files: Vec<PathBuf>,
}

impl Walk<'_> {
    fn enter(&mut self, dir: &Path) -> Result<()> {
        let kind = self.kind;
        let context = || format!("reading {kind} folder {}", dir.display());
        let meta = fs::metadata(dir).with_context(context)?;
        if !self.seen.insert((meta.dev(), meta.ino())) {
            return Ok(());
        }
        for entry in fs::read_dir(dir).with_context(context)? {
            let entry = entry.with_context(context)?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if name.starts_with('.') {
                continue;
            }
            let path = entry.path();
            let file_type = entry.file_type().with_context(context)?;
            if file_type.is_dir() {
                self.enter(&path)?;
            } else if file_type.is_symlink() && path.is_dir() {
                self.links.push_back(path);
            } else if name.ends_with(".md") {
                self.files.push(path);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    fn relative(root: &Path, files: &[PathBuf]) -> Vec<String> {
        let mut names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn links_back_up_the_tree_are_entered_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::create_dir_all(root.join("current/deep")).unwrap();
        fs::write(root.join("current/a.md"), "").unwrap();
        fs::write(root.join("current/deep/b.md"), "").unwrap();
        fs::write(root.join("current/notes.txt"), "").unwrap();
        fs::write(root.join(".hidden.md"), "").unwrap();
        // Each of these alone made the walk endless (until ELOOP) or
        // exponential with the others.
        symlink("..", root.join("current/loop")).unwrap();
        symlink("../..", root.join("current/deep/up")).unwrap();
        symlink(".", root.join("current/deep/here")).unwrap();
        symlink(root, root.join("current/absolute")).unwrap();
        let files = markdown_files(root, "task").unwrap();
        assert_eq!(
            relative(root, &files),
            ["current/a.md", "current/deep/b.md"]
        );
    }

    #[test]
    fn a_linked_folder_is_listed_once_under_its_real_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        // `alias` sorts and often reads first; the real folder still wins.
        fs::create_dir_all(root.join("current")).unwrap();
        fs::create_dir_all(root.join("zz-backlog")).unwrap();
        fs::write(root.join("zz-backlog/c.md"), "").unwrap();
        symlink("../zz-backlog", root.join("current/alias")).unwrap();
        let files = markdown_files(root, "task").unwrap();
        assert_eq!(relative(root, &files), ["zz-backlog/c.md"]);

        // A folder outside the root is followed.
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("d.md"), "").unwrap();
        symlink(outside.path(), root.join("current/shared")).unwrap();
        let files = markdown_files(root, "task").unwrap();
        assert_eq!(
            relative(root, &files),
            ["current/shared/d.md", "zz-backlog/c.md"]
        );
    }
}
