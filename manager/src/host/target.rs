// SPDX-License-Identifier: GPL-2.0
//! Resolving what a command acts on (`--cgroup PATH|ID`, `--pid PID`,
//! `--container ID|NAME`) to a cgroup v2 directory and id.
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
//! (`crio-conmon-ID`, `libpod-conmon-ID`) are never a container's. What
//! matches no id is looked up as a Docker or Podman container name (in
//! their stores, see [`crate::host::stores`]), and that container's full id is
//! then found as above; an id prefix that matches wins over a name.

use crate::host::cgroups::{walk, Step};
use crate::host::stores::Stores;
use clap::Args;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// Where cgroup v2 is mounted.
pub const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// The file system magic of a cgroup v2 mount (`statfs(2)`'s `f_type`).
pub const CGROUP2_SUPER_MAGIC: u64 = 0x6367_7270;

/// Whether `path` is on a cgroup v2 file system.
pub fn is_cgroup2(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: an all-zero statfs is a valid value of this plain C struct.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a NUL-terminated path and `st` a writable statfs.
    if unsafe { libc::statfs(c.as_ptr(), &mut st) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // f_type's integer type differs between C libraries; the magic fits.
    Ok(st.f_type as u64 == CGROUP2_SUPER_MAGIC)
}

/// The id of cgroup v2's root cgroup (the inode number of its directory).
pub const ROOT_ID: u64 = 1;

/// Why no policy goes on the root cgroup (the module refuses it too).
pub const ROOT_REFUSED: &str = "refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included";

/// Which cgroup a command acts on: exactly one of the three. Every command
/// that takes a target takes it with these flags (flattened); one whose
/// target is optional (`policy apply --dry-run`, `policy diff A B`,
/// `events`) flattens an `Option<Target>` and makes the group optional
/// with [`OPTIONAL`].
#[derive(Args, Clone, Debug)]
#[group(id = GROUP, required = true, multiple = false)]
pub struct Target {
    /// The cgroup: a path (absolute, or relative to /sys/fs/cgroup; or as
    /// in /proc/PID/cgroup, `/system.slice/x.scope`) or a cgroup id (the
    /// inode number of its directory).
    #[arg(long, value_name = "PATH|ID")]
    pub cgroup: Option<String>,
    /// The cgroup of this process.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// A container: its id, unique id prefix, or name (Docker, Podman).
    /// Ids of Docker, containerd, CRI-O and Podman containers;
    /// systemd-nspawn machines by machine name.
    #[arg(long, value_name = "ID|NAME")]
    pub container: Option<String>,
}

/// The clap group of [`Target`]'s flags.
pub const GROUP: &str = "target";

/// For `#[command(mut_group(GROUP, OPTIONAL))]`: a command that can do
/// without a target (at most one of the flags, then).
pub const OPTIONAL: fn(clap::ArgGroup) -> clap::ArgGroup = |g| g.required(false);

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

/// Why a target cannot be resolved: each message names the flag given.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    #[error("give --cgroup, --pid or --container")]
    None,
    #[error("{spec}: no cgroup has id {id} (no directory under {root} has that inode number)")]
    NoSuchId { spec: String, id: u64, root: String },
    #[error("{0}: {ROOT_REFUSED}")]
    Root(String),
    #[error("--pid {pid}: {path}: {source}")]
    Pid {
        pid: u32,
        path: String,
        source: std::io::Error,
    },
    #[error("--pid {pid}: the process is in no cgroup v2 (no 0:: line in {path})")]
    NoCgroup2 { pid: u32, path: String },
    #[error("cgroup {path}: {source}")]
    Cgroup {
        path: String,
        source: std::io::Error,
    },
    #[error("{0} is not a cgroup v2 directory")]
    NotCgroup2(String),
    #[error("--container: give an id, an id prefix or a name")]
    EmptyContainer,
    /// Several containers whose id starts with the prefix given (and,
    /// when one store knows a container by that name, which).
    #[error("--container {spec}: {count} containers match; give more of the id:\n{listing}{}",
        .also.as_ref().map_or(String::new(), |(store, id)| format!("\n(it is also the name of {store} container {id}: give that id)")))]
    Ambiguous {
        spec: String,
        count: usize,
        listing: String,
        also: Option<(String, String)>,
    },
    #[error(
        "no container with id prefix or name '{spec}' (searched cgroups under {root}, {searched})"
    )]
    NoContainer {
        spec: String,
        root: String,
        searched: String,
    },
    #[error("--container {spec}: {count} containers are named '{name}'; give the id:\n{listing}")]
    SameName {
        spec: String,
        name: String,
        count: usize,
        listing: String,
    },
    #[error("--container {spec}: {store} container '{name}' (id {id}) is not running: it has no cgroup under {root}")]
    NotRunning {
        spec: String,
        store: String,
        name: String,
        id: String,
        root: String,
    },
    #[error("{path}: {source}")]
    Tasks {
        path: String,
        source: std::io::Error,
    },
}

impl Target {
    /// Resolves under the real cgroup mount.
    pub fn resolve(&self) -> Result<Resolved, TargetError> {
        self.resolve_in(Path::new(CGROUP_ROOT), Path::new("/proc"))
    }

    /// As [`Target::resolve`], for a command that sets a policy: a target
    /// that is the root cgroup (`--cgroup 1`, `--cgroup /sys/fs/cgroup`,
    /// `--cgroup .`, `--pid` of a task in the root cgroup) is refused, and
    /// so is a cgroup id no cgroup has.
    pub fn resolve_for_policy(&self) -> Result<Resolved, TargetError> {
        self.resolve_for_policy_in(Path::new(CGROUP_ROOT), Path::new("/proc"))
    }

    /// As [`Target::resolve_for_policy`], under `root` and `proc`.
    pub fn resolve_for_policy_in(&self, root: &Path, proc: &Path) -> Result<Resolved, TargetError> {
        let r = self.resolve_for_dry_run_in(root, proc)?;
        // Checked here, before anything reads the cgroup's tasks or asks
        // the module: otherwise a mistyped id surfaces as a complaint about
        // capabilities (no task to read them from) or as the module's
        // ENOENT.
        if r.dir.is_none() {
            return Err(TargetError::NoSuchId {
                spec: self.spec(),
                id: r.id,
                root: root.display().to_string(),
            });
        }
        Ok(r)
    }

    /// As [`Target::resolve_for_policy`] for `policy apply --dry-run`,
    /// which sets nothing: the root cgroup is refused, but a cgroup id
    /// need not exist here (the policy may be checked for another host).
    pub fn resolve_for_dry_run(&self) -> Result<Resolved, TargetError> {
        self.resolve_for_dry_run_in(Path::new(CGROUP_ROOT), Path::new("/proc"))
    }

    /// As [`Target::resolve_for_dry_run`], under `root` and `proc`.
    fn resolve_for_dry_run_in(&self, root: &Path, proc: &Path) -> Result<Resolved, TargetError> {
        let r = self.resolve_in(root, proc)?;
        let is_root_dir = || -> Option<bool> {
            let (a, b) = (
                std::fs::metadata(r.dir.as_ref()?).ok()?,
                std::fs::metadata(root).ok()?,
            );
            Some(a.dev() == b.dev() && a.ino() == b.ino())
        };
        if r.is_root() || is_root_dir() == Some(true) {
            return Err(TargetError::Root(self.spec()));
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

    /// Resolves under `root` (cgroup2 mount) and `proc` (for `--pid`),
    /// with container names from the host's stores.
    pub fn resolve_in(&self, root: &Path, proc: &Path) -> Result<Resolved, TargetError> {
        self.resolve_with(root, proc, &Stores::default())
    }

    /// As [`Target::resolve_in`], with container names from `stores`.
    pub fn resolve_with(
        &self,
        root: &Path,
        proc: &Path,
        stores: &Stores,
    ) -> Result<Resolved, TargetError> {
        if let Some(c) = &self.cgroup {
            return cgroup(root, c);
        }
        if let Some(pid) = self.pid {
            return pid_cgroup(root, proc, pid);
        }
        if let Some(c) = &self.container {
            return container(root, c, stores);
        }
        Err(TargetError::None)
    }
}

/// `--pid`: the cgroup v2 line of `/proc/PID/cgroup`.
fn pid_cgroup(root: &Path, proc: &Path, pid: u32) -> Result<Resolved, TargetError> {
    let f = proc.join(pid.to_string()).join("cgroup");
    let text = std::fs::read_to_string(&f).map_err(|source| TargetError::Pid {
        pid,
        path: f.display().to_string(),
        source,
    })?;
    let rel = text
        .lines()
        .find_map(|l| l.strip_prefix("0::"))
        .ok_or_else(|| TargetError::NoCgroup2 {
            pid,
            path: f.display().to_string(),
        })?;
    dir(&root.join(rel.trim_start_matches('/')))
}

fn dir(path: &Path) -> Result<Resolved, TargetError> {
    let md = std::fs::metadata(path).map_err(|source| TargetError::Cgroup {
        path: path.display().to_string(),
        source,
    })?;
    if !md.is_dir() || !path.join("cgroup.procs").exists() {
        return Err(TargetError::NotCgroup2(path.display().to_string()));
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
fn cgroup(root: &Path, spec: &str) -> Result<Resolved, TargetError> {
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

/// The container id of the cgroup directory `dir` under `root`: its own
/// name's, else its nearest ancestor's below `root` (a cgroup nested in a
/// container's is the container's).
pub fn container_id_in(root: &Path, dir: &Path) -> Option<String> {
    dir.ancestors()
        .take_while(|a| *a != root && a.starts_with(root))
        .find_map(|a| container_id_of(a.file_name()?.to_str()?).map(str::to_string))
}

/// `--container`: every container cgroup whose id starts with `spec`;
/// one is the answer, several an error; none makes `spec` a name.
fn container(root: &Path, spec: &str, stores: &Stores) -> Result<Resolved, TargetError> {
    if spec.is_empty() {
        return Err(TargetError::EmptyContainer);
    }
    let found = container_cgroups(root, |id| id.starts_with(spec));
    match found.as_slice() {
        [] => by_name(root, spec, stores),
        [(_, p)] => dir(p),
        several => Err(TargetError::Ambiguous {
            spec: spec.to_string(),
            count: several.len(),
            listing: listing(several.iter().map(|(id, p)| (id, p.display()))),
            also: match stores.named(spec).as_slice() {
                [(store, id)] => Some((store.to_string(), id.to_string())),
                _ => None,
            },
        }),
    }
}

/// The container cgroups under `root` whose id is `wanted`: (id, directory),
/// each id once, sorted. Nested cgroups inside a container's are the
/// container's own business and are not searched.
fn container_cgroups(root: &Path, wanted: impl Fn(&str) -> bool) -> Vec<(String, PathBuf)> {
    let mut found: Vec<(String, PathBuf)> = Vec::new();
    walk(root, 8, |name, path, _| match container_id_of(name) {
        Some(id) => {
            if wanted(id) && !found.iter().any(|(f, _)| f == id) {
                found.push((id.to_string(), path));
            }
            Step::Skip
        }
        None => Step::Descend,
    });
    found.sort();
    found
}

/// `--container NAME` (or `/NAME`): the cgroup of the one container the
/// stores know by that name.
fn by_name(root: &Path, spec: &str, stores: &Stores) -> Result<Resolved, TargetError> {
    let name = spec.strip_prefix('/').unwrap_or(spec);
    let (store, id) = match stores.named(name).as_slice() {
        [] => {
            return Err(TargetError::NoContainer {
                spec: spec.to_string(),
                root: root.display().to_string(),
                searched: stores.searched(),
            })
        }
        [one] => one.clone(),
        several => {
            return Err(TargetError::SameName {
                spec: spec.to_string(),
                name: name.to_string(),
                count: several.len(),
                listing: listing(several.iter().map(|(store, id)| (id, store))),
            })
        }
    };
    match container_cgroups(root, |c| c == id).first() {
        Some((_, p)) => dir(p),
        None => Err(TargetError::NotRunning {
            spec: spec.to_string(),
            store: store.to_string(),
            name: name.to_string(),
            id: id.to_string(),
            root: root.display().to_string(),
        }),
    }
}

/// Lines of `  ID  WHAT`, for messages.
fn listing<A: std::fmt::Display, B: std::fmt::Display>(
    rows: impl Iterator<Item = (A, B)>,
) -> String {
    rows.map(|(a, b)| format!("  {a}  {b}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The first task in a resolved cgroup, if any.
pub fn first_task(r: &Resolved) -> Result<Option<u32>, TargetError> {
    let Some(d) = &r.dir else {
        return Ok(None);
    };
    let procs = d.join("cgroup.procs");
    let text = std::fs::read_to_string(&procs).map_err(|source| TargetError::Tasks {
        path: procs.display().to_string(),
        source,
    })?;
    Ok(text.lines().find_map(|l| l.trim().parse().ok()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::host::stores::tests::{docker, podman, stores};

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

    /// A cgroup tree of `dirs` (and their parents) in a new directory.
    pub fn tree(dirs: &[&str]) -> tempdir::Dir {
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
    pub mod tempdir {
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
        // Empty stores, whatever the host has.
        by_name_in(root, &stores(&root.join("no-stores")), c)
    }

    fn by_name_in(root: &Path, s: &Stores, c: &str) -> Result<Resolved, String> {
        Target {
            cgroup: None,
            pid: None,
            container: Some(c.into()),
        }
        .resolve_with(root, Path::new("/proc"), s)
        .map_err(|e| e.to_string())
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
        assert!(
            e.starts_with(
                "no container with id prefix or name 'deadbeef' (searched cgroups under "
            ),
            "{e}"
        );
    }

    #[test]
    fn nested_cgroups_are_their_containers() {
        let t = tree(&[&format!("system.slice/docker-{A}.scope/init/x")]);
        let scope = t.path().join(format!("system.slice/docker-{A}.scope"));
        for d in [scope.clone(), scope.join("init/x")] {
            assert_eq!(container_id_in(t.path(), &d).as_deref(), Some(A));
        }
        assert_eq!(
            container_id_in(t.path(), &t.path().join("system.slice")),
            None
        );
        assert_eq!(container_id_in(t.path(), t.path()), None);
        // Only names below the root count.
        let root = scope.join("init");
        assert_eq!(container_id_in(&root, &root.join("x")), None);
    }

    const B: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
    const C: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";

    /// Cgroups of A (Docker, systemd driver) and B (Podman, cgroupfs), and
    /// empty stores (in a directory of their own: the cgroup search would
    /// take Docker's ID directories for cgroupfs containers).
    fn named_tree() -> (tempdir::Dir, Stores, tempdir::Dir) {
        let t = tree(&[
            &format!("system.slice/docker-{A}.scope"),
            &format!("libpod_parent/libpod-{B}"),
        ]);
        let var = tempdir::Dir::new();
        (t, stores(var.path()), var)
    }

    #[test]
    fn container_by_docker_name() {
        let (t, s, _var) = named_tree();
        docker(&s, A, "web");
        let r = by_name_in(t.path(), &s, "web").unwrap();
        let want = t.path().join(format!("system.slice/docker-{A}.scope"));
        assert_eq!(r.dir.as_deref(), Some(want.as_path()));
    }

    #[test]
    fn container_by_podman_name() {
        let (t, s, _var) = named_tree();
        podman(
            &s,
            "overlay",
            &format!(r#"[{{"id":"{B}","names":["db"]}}]"#),
        );
        let r = by_name_in(t.path(), &s, "db").unwrap();
        let want = t.path().join(format!("libpod_parent/libpod-{B}"));
        assert_eq!(r.dir.as_deref(), Some(want.as_path()));
    }

    #[test]
    fn container_by_docker_style_slash_name() {
        let (t, s, _var) = named_tree();
        docker(&s, A, "web");
        let r = by_name_in(t.path(), &s, "/web").unwrap();
        assert_eq!(r, by_name_in(t.path(), &s, "web").unwrap());
    }

    #[test]
    fn unknown_container_name_says_what_was_searched() {
        let (t, s, _var) = named_tree();
        docker(&s, A, "web");
        let e = by_name_in(t.path(), &s, "nope").unwrap_err();
        assert_eq!(
            e,
            format!(
                "no container with id prefix or name 'nope' (searched cgroups under {}, Docker's {}, Podman's {})",
                t.path().display(),
                s.docker.display(),
                s.podman.display()
            )
        );
        let e = by_container(t.path(), "").unwrap_err();
        assert!(e.contains("give an id, an id prefix or a name"), "{e}");
    }

    #[test]
    fn id_prefix_wins_over_name() {
        let (t, s, _var) = named_tree();
        // A's id starts with "4f1c"; B is named "4f1c".
        podman(
            &s,
            "overlay",
            &format!(r#"[{{"id":"{B}","names":["4f1c"]}}]"#),
        );
        let r = by_name_in(t.path(), &s, "4f1c").unwrap();
        assert!(r.dir.unwrap().ends_with(format!("docker-{A}.scope")));
    }

    #[test]
    fn ambiguous_prefix_mentions_a_name_it_also_is() {
        let a2 = format!("{}0", &A[..63]);
        let t = tree(&[
            &format!("system.slice/docker-{A}.scope"),
            &format!("system.slice/docker-{a2}.scope"),
            &format!("libpod_parent/libpod-{B}"),
        ]);
        let var = tempdir::Dir::new();
        let s = stores(var.path());
        podman(
            &s,
            "overlay",
            &format!(r#"[{{"id":"{B}","names":["4f1c"]}}]"#),
        );
        let e = by_name_in(t.path(), &s, "4f1c").unwrap_err();
        assert!(e.contains("2 containers match"), "{e}");
        assert!(
            e.contains(&format!("also the name of Podman container {B}")),
            "{e}"
        );
    }

    #[test]
    fn stopped_container_by_name_is_not_running() {
        let (t, s, _var) = named_tree();
        docker(&s, C, "old");
        let e = by_name_in(t.path(), &s, "old").unwrap_err();
        assert_eq!(
            e,
            format!(
                "--container old: Docker container 'old' (id {C}) is not running: it has no cgroup under {}",
                t.path().display()
            )
        );
    }

    #[test]
    fn a_name_in_both_stores_with_different_ids_is_ambiguous() {
        let (t, s, _var) = named_tree();
        docker(&s, A, "web");
        podman(&s, "vfs", &format!(r#"[{{"id":"{B}","names":["web"]}}]"#));
        let e = by_name_in(t.path(), &s, "web").unwrap_err();
        assert!(e.contains("2 containers are named 'web'"), "{e}");
        assert!(e.contains(&format!("  {A}  Docker")), "{e}");
        assert!(e.contains(&format!("  {B}  Podman")), "{e}");
    }

    #[test]
    fn malformed_store_files_do_not_hide_other_containers() {
        let (t, s, _var) = named_tree();
        docker(&s, A, "web");
        let bad = s.docker.join(C);
        std::fs::create_dir_all(&bad).unwrap();
        std::fs::write(bad.join("config.v2.json"), b"{\"Name\": [\xff").unwrap();
        podman(&s, "overlay", "{garbled");
        podman(&s, "vfs", &format!(r#"[1, {{"id":"{B}","names":["db"]}}]"#));
        assert!(by_name_in(t.path(), &s, "web").is_ok());
        assert!(by_name_in(t.path(), &s, "db").is_ok());
        let e = by_name_in(t.path(), &s, "x").unwrap_err();
        assert!(
            e.starts_with("no container with id prefix or name 'x'"),
            "{e}"
        );
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
            assert_eq!(e.to_string(), format!("{shown}: {ROOT_REFUSED}"));
            // Reading about the root cgroup is still fine.
            assert!(tg.resolve_in(t.path(), proc.path()).is_ok(), "{shown}");
        }
        // An id no cgroup has: named as such, for a policy; a dry run
        // (for another host, perhaps) takes it.
        let e = target(Some("999999"), None)
            .resolve_for_policy_in(t.path(), proc.path())
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "--cgroup 999999: no cgroup has id 999999 (no directory under {} has that inode number)",
                t.path().display()
            )
        );
        let r = target(Some("999999"), None)
            .resolve_for_dry_run_in(t.path(), proc.path())
            .unwrap();
        assert_eq!((r.id, r.dir), (999999, None));
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
        assert!(by("a/nope").unwrap_err().to_string().contains("a/nope"));
        assert_eq!(by("1234").unwrap().dir, None);
        // Cgroup paths as /proc/PID/cgroup writes them.
        assert_eq!(by("/a/b").unwrap().dir.as_deref(), r.dir.as_deref());
        assert!(by("/a/nope").unwrap_err().to_string().contains("/a/nope"));
    }
}
