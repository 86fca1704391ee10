// SPDX-License-Identifier: GPL-2.0
//! Resolving `--cgroup PATH|ID` to a cgroup v2 id.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where cgroup v2 is mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

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
