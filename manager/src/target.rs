// SPDX-License-Identifier: GPL-2.0
//! Resolving what a command acts on (`--cgroup PATH|ID`, `--pid PID`,
//! `--container ID`) to a cgroup v2 directory and id.
//!
//! Containers are found by the cgroup directory names their runtimes give
//! them, under either cgroup driver:
//!
//! | runtime | systemd driver | cgroupfs driver |
//! |---|---|---|
//! | Docker | `system.slice/docker-ID.scope` | `docker/ID` |
//! | containerd (Kubernetes) | `kubepods.slice/…/cri-containerd-ID.scope` | `kubepods/…/podUID/ID` |
//! | containerd (`ctr`) | `…/NAMESPACE-ID.scope` | `NAMESPACE/ID` |
//! | CRI-O | `kubepods.slice/…/crio-ID.scope` | `kubepods/…/podUID/crio-ID` |
//! | Podman | `machine.slice/libpod-ID.scope` (and under `user.slice`) | `libpod_parent/libpod-ID` |
//! | systemd-nspawn | `machine.slice/machine-NAME.scope` | – |
//!
//! An ID is matched by unique prefix, as `docker` does; conmon's own cgroups
//! (`crio-conmon-ID`, `libpod-conmon-ID`) are never a container's.

use clap::Args;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where cgroup v2 is mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The id of cgroup v2's root cgroup (the inode number of its directory).
pub const ROOT_ID: u64 = 1;

/// Why no policy goes on the root cgroup (the module refuses it too).
pub const ROOT_REFUSED: &str = "refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included";

/// Which cgroup a command acts on: exactly one of the three.
#[derive(Args, Clone, Debug)]
#[group(required = true, multiple = false)]
pub struct Target {
    /// The cgroup: a path (absolute, or relative to /sys/fs/cgroup; or as
    /// in /proc/PID/cgroup, `/system.slice/x.scope`) or a cgroup id (the
    /// inode number of its directory).
    #[arg(long, value_name = "PATH|ID")]
    pub cgroup: Option<String>,
    /// The cgroup of this process.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// A container, by id or unique id prefix (Docker, containerd, CRI-O,
    /// Podman; systemd-nspawn by machine name).
    #[arg(long, value_name = "ID")]
    pub container: Option<String>,
}

/// A resolved target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resolved {
    /// The cgroup id (inode number of the directory).
    pub id: u64,
    /// The cgroup directory, when known (not for a bare id that is gone).
    pub dir: Option<PathBuf>,
}

impl Resolved {
    /// Whether this is the root cgroup (by id: a bare id has no directory).
    pub fn is_root(&self) -> bool {
        self.id == ROOT_ID
    }
}

impl Target {
    /// Resolves under the real cgroup mount.
    pub fn resolve(&self) -> Result<Resolved, String> {
        self.resolve_in(Path::new(CGROUP_ROOT), Path::new("/proc"))
    }

    /// As [`Target::resolve`], for a command that sets a policy: a target
    /// that is the root cgroup (`--cgroup 1`, `--cgroup /sys/fs/cgroup`,
    /// `--cgroup .`, `--pid` of a task in the root cgroup) is refused.
    pub fn resolve_for_policy(&self) -> Result<Resolved, String> {
        self.resolve_for_policy_in(Path::new(CGROUP_ROOT), Path::new("/proc"))
    }

    /// As [`Target::resolve_for_policy`], under `root` and `proc`.
    pub fn resolve_for_policy_in(&self, root: &Path, proc: &Path) -> Result<Resolved, String> {
        let r = self.resolve_in(root, proc)?;
        let is_root_dir = || -> Option<bool> {
            let (a, b) = (
                std::fs::metadata(r.dir.as_ref()?).ok()?,
                std::fs::metadata(root).ok()?,
            );
            Some(a.dev() == b.dev() && a.ino() == b.ino())
        };
        if r.is_root() || is_root_dir() == Some(true) {
            return Err(format!("{}: {ROOT_REFUSED}", self.spec()));
        }
        Ok(r)
    }

    /// The target as given on the command line, for messages.
    fn spec(&self) -> String {
        match (&self.cgroup, self.pid, &self.container) {
            (Some(c), _, _) => format!("--cgroup {c}"),
            (_, Some(p), _) => format!("--pid {p}"),
            (_, _, Some(c)) => format!("--container {c}"),
            _ => "the target".into(),
        }
    }

    /// Resolves under `root` (cgroup2 mount) and `proc` (for `--pid`).
    pub fn resolve_in(&self, root: &Path, proc: &Path) -> Result<Resolved, String> {
        if let Some(c) = &self.cgroup {
            return cgroup(root, c);
        }
        if let Some(pid) = self.pid {
            let f = proc.join(pid.to_string()).join("cgroup");
            let text = std::fs::read_to_string(&f)
                .map_err(|e| format!("--pid {pid}: {}: {e}", f.display()))?;
            let rel = text
                .lines()
                .find_map(|l| l.strip_prefix("0::"))
                .ok_or_else(|| {
                    format!(
                        "--pid {pid}: the process is in no cgroup v2 (no 0:: line in {})",
                        f.display()
                    )
                })?;
            return dir(&root.join(rel.trim_start_matches('/')));
        }
        if let Some(c) = &self.container {
            return container(root, c);
        }
        Err("give --cgroup, --pid or --container".into())
    }
}

fn dir(path: &Path) -> Result<Resolved, String> {
    let md = std::fs::metadata(path).map_err(|e| format!("cgroup {}: {e}", path.display()))?;
    if !md.is_dir() || !path.join("cgroup.procs").exists() {
        return Err(format!("{} is not a cgroup v2 directory", path.display()));
    }
    Ok(Resolved {
        id: md.ino(),
        dir: Some(path.to_path_buf()),
    })
}

/// `--cgroup`: a number is an id; anything else a path, absolute or
/// relative to the cgroup root. An absolute path that is no cgroup
/// directory is a cgroup path as the kernel writes them (`/proc/PID/cgroup`:
/// `/` is the root cgroup, `/system.slice` one below it), when there is
/// such a cgroup.
fn cgroup(root: &Path, spec: &str) -> Result<Resolved, String> {
    if let Ok(id) = spec.parse::<u64>() {
        return Ok(Resolved {
            id,
            dir: find_by_id(root, id),
        });
    }
    let p = Path::new(spec);
    if !p.is_absolute() {
        return dir(&root.join(p));
    }
    dir(p).or_else(|e| {
        let rel = spec.trim_start_matches('/');
        match dir(&root.join(rel)) {
            Ok(r) if !p.starts_with(root) => Ok(r),
            _ => Err(e),
        }
    })
}

/// The cgroup directory under `dir` whose id (inode number) is `id`.
pub fn find_by_id(dir: &Path, id: u64) -> Option<PathBuf> {
    if std::fs::metadata(dir).ok()?.ino() == id {
        return Some(dir.to_path_buf());
    }
    for e in std::fs::read_dir(dir).ok()?.flatten() {
        if e.file_type().ok()?.is_dir() {
            if let Some(p) = find_by_id(&e.path(), id) {
                return Some(p);
            }
        }
    }
    None
}

/// The container id a cgroup directory name carries, if it is a
/// container's, per the table above.
pub fn container_id_of(name: &str) -> Option<&str> {
    let base = name.strip_suffix(".scope").unwrap_or(name);
    if base.contains("conmon-") {
        return None;
    }
    for prefix in ["docker-", "cri-containerd-", "crio-", "libpod-", "machine-"] {
        if let Some(id) = base.strip_prefix(prefix) {
            return (!id.is_empty()).then_some(id);
        }
    }
    // cgroupfs layouts (and `ctr`'s NAMESPACE-ID.scope): a bare id, 64 hex
    // digits as every runtime makes them, or NAMESPACE-ID.
    let hex = |s: &str| s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit());
    if hex(base) {
        return Some(base);
    }
    match base.rsplit_once('-') {
        Some((_, id)) if name.ends_with(".scope") && hex(id) => Some(id),
        _ => None,
    }
}

/// `--container`: every container cgroup whose id starts with `prefix`;
/// one is the answer, none or several are errors. Nested cgroups inside a
/// container's are the container's own business and are not searched.
fn container(root: &Path, prefix: &str) -> Result<Resolved, String> {
    if prefix.is_empty() {
        return Err("--container: give an id or an id prefix".into());
    }
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    let mut stack = vec![(root.to_path_buf(), 0u32)];
    while let Some((d, depth)) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            let name = e.file_name().to_string_lossy().into_owned();
            match container_id_of(&name) {
                Some(id) if id.starts_with(prefix) && !found.iter().any(|(f, _)| f == id) => {
                    found.push((id.to_string(), e.path()));
                }
                Some(_) => {}
                None if depth < 8 => stack.push((e.path(), depth + 1)),
                None => {}
            }
        }
    }
    match found.len() {
        0 => Err(format!(
            "--container {prefix}: no container cgroup with this id or prefix under {} (looked for Docker, containerd, CRI-O, Podman and systemd-nspawn layouts, either cgroup driver)",
            root.display()
        )),
        1 => dir(&found[0].1),
        n => {
            found.sort();
            Err(format!(
                "--container {prefix}: {n} containers match; give more of the id:\n{}",
                found
                    .iter()
                    .map(|(id, p)| format!("  {id}  {}", p.display()))
                    .collect::<Vec<_>>()
                    .join("\n")
            ))
        }
    }
}

/// The first task in a resolved cgroup, if any.
pub fn first_task(r: &Resolved) -> Result<Option<u32>, String> {
    let Some(d) = &r.dir else {
        return Ok(None);
    };
    let procs = d.join("cgroup.procs");
    let text = std::fs::read_to_string(&procs).map_err(|e| format!("{}: {e}", procs.display()))?;
    Ok(text.lines().find_map(|l| l.trim().parse().ok()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9e";

    #[test]
    fn names_of_every_layout() {
        assert_eq!(container_id_of(&format!("docker-{A}.scope")), Some(A));
        assert_eq!(
            container_id_of(&format!("cri-containerd-{A}.scope")),
            Some(A)
        );
        assert_eq!(container_id_of(&format!("crio-{A}.scope")), Some(A));
        assert_eq!(container_id_of(&format!("crio-{A}")), Some(A));
        assert_eq!(container_id_of(&format!("libpod-{A}.scope")), Some(A));
        assert_eq!(container_id_of(&format!("libpod-{A}")), Some(A));
        assert_eq!(container_id_of("machine-web.scope"), Some("web"));
        assert_eq!(container_id_of(A), Some(A));
        assert_eq!(container_id_of(&format!("default-{A}.scope")), Some(A));
        assert_eq!(container_id_of(&format!("crio-conmon-{A}.scope")), None);
        assert_eq!(container_id_of(&format!("libpod-conmon-{A}.scope")), None);
        assert_eq!(container_id_of("system.slice"), None);
        assert_eq!(container_id_of("kubepods-burstable-pod1234.slice"), None);
        assert_eq!(container_id_of("docker"), None);
    }

    fn tree(dirs: &[&str]) -> tempdir::Dir {
        let t = tempdir::Dir::new();
        for d in dirs {
            let p = t.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            // Every directory of a cgroup tree is a cgroup.
            for a in p.ancestors().take_while(|a| a.starts_with(t.path())) {
                std::fs::write(a.join("cgroup.procs"), "").unwrap();
            }
        }
        std::fs::write(t.path().join("cgroup.procs"), "").unwrap();
        t
    }

    /// A throwaway directory (no extra crate for one test helper).
    mod tempdir {
        pub struct Dir(std::path::PathBuf);
        impl Dir {
            pub fn new() -> Dir {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "sysfence-target-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::Relaxed)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
            pub fn path(&self) -> &std::path::Path {
                &self.0
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    fn by_container(root: &Path, c: &str) -> Result<Resolved, String> {
        Target {
            cgroup: None,
            pid: None,
            container: Some(c.into()),
        }
        .resolve_in(root, Path::new("/proc"))
    }

    #[test]
    fn containers_by_prefix_ambiguity_and_absence() {
        let b = "4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9f";
        let t = tree(&[
            &format!("system.slice/docker-{A}.scope/init"),
            &format!("kubepods/burstable/pod11/{b}"),
            &format!("kubepods/burstable/pod11/crio-conmon-{b}"),
            "machine.slice/machine-web.scope",
        ]);
        let r = by_container(
            t.path(),
            "4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9e8d7c6b5a4f1c2a0b9e",
        )
        .unwrap();
        assert_eq!(
            r.dir.unwrap(),
            t.path().join(format!("system.slice/docker-{A}.scope"))
        );
        let r = by_container(t.path(), &b[..63]).unwrap_err();
        assert!(r.contains("2 containers match"), "{r}");
        let r = by_container(t.path(), b).unwrap();
        assert!(r.dir.unwrap().ends_with(b));
        assert!(by_container(t.path(), "web").is_ok());
        let e = by_container(t.path(), "deadbeef").unwrap_err();
        assert!(e.contains("no container cgroup"), "{e}");
    }

    #[test]
    fn the_root_cgroup_is_refused_for_a_policy_however_it_is_named() {
        let t = tree(&["a/b"]);
        let proc = tempdir::Dir::new();
        for (pid, line) in [(10u32, "0::/\n"), (11, "0::/a/b\n")] {
            let d = proc.path().join(pid.to_string());
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("cgroup"), line).unwrap();
        }
        let target = |cgroup: Option<&str>, pid: Option<u32>| Target {
            cgroup: cgroup.map(str::to_string),
            pid,
            container: None,
        };
        let root = t.path().to_str().unwrap().to_string();
        for (tg, shown) in [
            (target(Some("1"), None), "--cgroup 1".to_string()),
            (target(Some(""), None), "--cgroup ".to_string()),
            (target(Some("."), None), "--cgroup .".to_string()),
            (target(Some("a/.."), None), "--cgroup a/..".to_string()),
            (target(Some(&root), None), format!("--cgroup {root}")),
            (target(Some("/"), None), "--cgroup /".to_string()),
            (target(None, Some(10)), "--pid 10".to_string()),
        ] {
            let e = tg.resolve_for_policy_in(t.path(), proc.path()).unwrap_err();
            assert_eq!(e, format!("{shown}: {ROOT_REFUSED}"));
            // Reading about the root cgroup is still fine.
            assert!(tg.resolve_in(t.path(), proc.path()).is_ok(), "{shown}");
        }
        for tg in [target(Some("a/b"), None), target(None, Some(11))] {
            let r = tg.resolve_for_policy_in(t.path(), proc.path()).unwrap();
            assert_eq!(r.dir.unwrap(), t.path().join("a/b"));
        }
        assert_eq!(
            ROOT_REFUSED,
            "refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included"
        );
    }

    #[test]
    fn cgroups_by_path_and_id() {
        let t = tree(&["a/b"]);
        let by = |s: &str| {
            Target {
                cgroup: Some(s.into()),
                pid: None,
                container: None,
            }
            .resolve_in(t.path(), Path::new("/proc"))
        };
        let r = by("a/b").unwrap();
        let r2 = by(&r.id.to_string()).unwrap();
        assert_eq!(r2.dir.as_deref(), r.dir.as_deref());
        assert!(by("a/nope").unwrap_err().contains("a/nope"));
        assert_eq!(by("1234").unwrap().dir, None);
        // Cgroup paths as /proc/PID/cgroup writes them.
        assert_eq!(by("/a/b").unwrap().dir.as_deref(), r.dir.as_deref());
        assert!(by("/a/nope").unwrap_err().contains("/a/nope"));
    }
}
