// SPDX-License-Identifier: GPL-2.0
//! The one walk of a cgroup v2 tree, shared by `--container` (finding
//! containers' cgroups, [`super::target`]) and the node agent (finding pods'
//! and their containers', `agent/cgroups.rs`).

use std::path::{Path, PathBuf};

/// What [`walk`] does with a directory it was shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Walk into it too (as long as its depth is below the limit).
    Descend,
    /// Do not walk into it: it was what the caller looked for, or cannot
    /// hold it.
    Skip,
}

/// Shows `visit` every directory under `root` (not `root` itself), by its
/// name, path and depth (0 for `root`'s children), walking into those it
/// answers [`Step::Descend`] for down to depth `max_depth`. Directories that
/// cannot be read are passed over: a cgroup may go while the walk runs.
pub fn walk(root: &Path, max_depth: u32, mut visit: impl FnMut(&str, PathBuf, u32) -> Step) {
    let mut stack = vec![(root.to_path_buf(), 0u32)];
    while let Some((dir, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            let path = e.path();
            if visit(&name, path.clone(), depth) == Step::Descend && depth < max_depth {
                stack.push((path, depth + 1));
            }
        }
    }
}
