// SPDX-License-Identifier: GPL-2.0
//! Resolving `--cgroup PATH|ID` to a cgroup v2 id.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where cgroup v2 is mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The directory of the cgroup `spec` names: the path itself, or for an id
/// the directory with that inode number under /sys/fs/cgroup.
pub fn dir_of(spec: &str) -> Result<PathBuf, String> {
    let id = resolve(spec)?;
    if spec.parse::<u64>().is_err() {
        let p = Path::new(spec);
        return Ok(if p.is_absolute() {
            p.to_path_buf()
        } else {
            Path::new(CGROUP_ROOT).join(p)
        });
    }
    fn walk(dir: &Path, id: u64) -> Option<PathBuf> {
        let md = std::fs::metadata(dir).ok()?;
        if md.ino() == id {
            return Some(dir.to_path_buf());
        }
        for e in std::fs::read_dir(dir).ok()?.flatten() {
            if e.file_type().ok()?.is_dir() {
                if let Some(p) = walk(&e.path(), id) {
                    return Some(p);
                }
            }
        }
        None
    }
    walk(Path::new(CGROUP_ROOT), id)
        .ok_or_else(|| format!("no cgroup with id {id} under {CGROUP_ROOT}"))
}

/// The first task in the cgroup `spec` names, if any.
pub fn first_task(spec: &str) -> Result<Option<u32>, String> {
    let dir = dir_of(spec)?;
    let procs = dir.join("cgroup.procs");
    let text = std::fs::read_to_string(&procs).map_err(|e| format!("{}: {e}", procs.display()))?;
    Ok(text.lines().find_map(|l| l.trim().parse().ok()))
}

/// A cgroup given on the command line: a number is an id; anything else a
/// path, absolute or relative to /sys/fs/cgroup.
pub fn resolve(spec: &str) -> Result<u64, String> {
    if let Ok(id) = spec.parse::<u64>() {
        return Ok(id);
    }
    let p = Path::new(spec);
    let path: PathBuf = if p.is_absolute() {
        p.to_path_buf()
    } else {
        Path::new(CGROUP_ROOT).join(p)
    };
    let md = std::fs::metadata(&path).map_err(|e| format!("cgroup {}: {e}", path.display()))?;
    if !md.is_dir() || !path.join("cgroup.procs").exists() {
        return Err(format!("{} is not a cgroup v2 directory", path.display()));
    }
    // The cgroup id is the inode number of its directory in cgroupfs.
    Ok(md.ino())
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_are_ids_and_missing_paths_are_errors() {
        assert_eq!(super::resolve("1234"), Ok(1234));
        assert!(super::resolve("/nonexistent/cg")
            .unwrap_err()
            .contains("/nonexistent/cg"));
    }
}
