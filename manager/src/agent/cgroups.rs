// SPDX-License-Identifier: GPL-2.0
//! From a pod's UID and a container's ID to the container's cgroup.
//!
//! The kubelet makes one cgroup per pod and the runtime one per container
//! inside it. Under the two cgroup drivers, with QoS class `Q` (burstable or
//! besteffort; guaranteed pods sit directly under the top) and pod UID `U`:
//!
//! | driver | pod cgroup | containerd container | CRI-O container |
//! |---|---|---|---|
//! | systemd | `kubepods.slice/kubepods-Q.slice/kubepods-Q-podU'.slice` | `cri-containerd-ID.scope` | `crio-ID.scope` |
//! | cgroupfs | `kubepods/Q/podU` | `ID` | `crio-ID` |
//!
//! where `U'` is the UID with `-` written `_` (systemd reserves `-` for
//! nesting). A kubelet `--cgroup-root` adds levels above (`kubelet.slice/
//! kubelet-kubepods.slice/…`, as kind does), so rather than building the
//! path, [`Index::scan`] walks the cgroup tree once per reconcile, a few
//! levels deep, and records every pod cgroup it sees by UID and the
//! container cgroups inside it by container ID (names parsed by
//! [`crate::host::target::container_id_of`], which knows every runtime's
//! prefixes and leaves conmon's cgroups out). The QoS class, the driver
//! and the kubelet's root therefore need no configuration.

use crate::host::cgroups::{walk, Step};
use crate::host::target::container_id_of;
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A container's cgroup.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cgroup {
    /// The cgroup id: the directory's inode number.
    pub id: u64,
    pub path: PathBuf,
}

/// Where to look a container up.
pub trait Lookup {
    /// The cgroup of container `container_id` (without its `runtime://`)
    /// of the pod with UID `pod_uid`.
    fn find(&self, pod_uid: &str, container_id: &str) -> Option<Cgroup>;
}

/// The pod UID a pod cgroup's directory name carries: `podUID` (cgroupfs)
/// or `…-podUID'.slice` (systemd). UIDs are UUIDs, or 32 hex digits for
/// static pods.
pub fn pod_uid_of(name: &str) -> Option<String> {
    let uid = if let Some(s) = name.strip_suffix(".slice") {
        s.rsplit_once("-pod")?.1.replace('_', "-")
    } else {
        name.strip_prefix("pod")?.to_string()
    };
    let ok = (32..=36).contains(&uid.len())
        && uid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        && uid.bytes().filter(|b| b.is_ascii_hexdigit()).count() == 32;
    ok.then_some(uid.to_ascii_lowercase())
}

/// How deep pod cgroups are looked for: `kubelet.slice/kubelet-kubepods.
/// slice/kubelet-kubepods-besteffort.slice/…-podU.slice` is level 4.
const MAX_DEPTH: u32 = 6;

/// Every pod and container cgroup under a cgroup root.
#[derive(Debug, Default)]
pub struct Index {
    /// pod UID → its cgroup directories (one, unless a stale one lingers).
    pods: HashMap<String, Vec<PathBuf>>,
    /// (pod UID, container ID) → cgroup.
    containers: HashMap<(String, String), Cgroup>,
}

impl Index {
    /// Walks `root` (the cgroup2 mount, or a test's tree).
    pub fn scan(root: &Path) -> Index {
        let mut ix = Index::default();
        walk(root, MAX_DEPTH, |name, path, _| {
            if let Some(uid) = pod_uid_of(name) {
                ix.add_pod(uid, path);
                Step::Skip
            } else if container_id_of(name).is_some() {
                // A container's own cgroups (Docker's, systemd-nspawn's)
                // hold no pods.
                Step::Skip
            } else {
                Step::Descend
            }
        });
        ix
    }

    fn add_pod(&mut self, uid: String, dir: PathBuf) {
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                let Some(id) = container_id_of(&name) else {
                    continue;
                };
                if let Ok(md) = e.metadata() {
                    if md.is_dir() {
                        self.containers.insert(
                            (uid.clone(), id.to_string()),
                            Cgroup {
                                id: md.ino(),
                                path: e.path(),
                            },
                        );
                    }
                }
            }
        }
        self.pods.entry(uid).or_default().push(dir);
    }

    /// Number of pod cgroups seen.
    pub fn pod_count(&self) -> usize {
        self.pods.len()
    }
}

impl Lookup for Index {
    fn find(&self, pod_uid: &str, container_id: &str) -> Option<Cgroup> {
        self.containers
            .get(&(pod_uid.to_ascii_lowercase(), container_id.to_string()))
            .cloned()
    }
}

/// A status's `containerID` (`containerd://ID`, `cri-o://ID`,
/// `docker://ID`) without its runtime.
pub fn strip_runtime(container_id: &str) -> &str {
    container_id
        .split_once("://")
        .map_or(container_id, |(_, id)| id)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    pub const UID: &str = "0f6a4c3e-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
    pub const C1: &str = "1111111111111111111111111111111111111111111111111111111111111111";
    pub const C2: &str = "2222222222222222222222222222222222222222222222222222222222222222";

    /// A throwaway directory.
    pub struct TempDir(pub PathBuf);
    impl TempDir {
        pub fn new(what: &str) -> TempDir {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let p = std::env::temp_dir().join(format!(
                "sysfence-agent-{what}-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            let _ = std::fs::remove_dir_all(&p);
            std::fs::create_dir_all(&p).unwrap();
            TempDir(p)
        }
        pub fn mkdirs(&self, dirs: &[String]) {
            for d in dirs {
                std::fs::create_dir_all(self.0.join(d)).unwrap();
            }
        }
    }
    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[derive(Clone, Copy, Debug)]
    pub enum Runtime {
        Containerd,
        Crio,
    }
    #[derive(Clone, Copy, Debug)]
    pub enum Driver {
        Systemd,
        Cgroupfs,
    }

    /// The kubelet's and the runtime's directories for one container, as
    /// the table in the module's documentation says, under `top`
    /// (`kubepods.slice`/`kubepods`, or deeper with a kubelet root).
    pub fn layout(rt: Runtime, drv: Driver, qos: &str, uid: &str, id: &str) -> (String, String) {
        let pod = match (drv, qos) {
            (Driver::Systemd, "guaranteed") => {
                format!("kubepods.slice/kubepods-pod{}.slice", uid.replace('-', "_"))
            }
            (Driver::Systemd, q) => format!(
                "kubepods.slice/kubepods-{q}.slice/kubepods-{q}-pod{}.slice",
                uid.replace('-', "_")
            ),
            (Driver::Cgroupfs, "guaranteed") => format!("kubepods/pod{uid}"),
            (Driver::Cgroupfs, q) => format!("kubepods/{q}/pod{uid}"),
        };
        let ctr = match (rt, drv) {
            (Runtime::Containerd, Driver::Systemd) => format!("cri-containerd-{id}.scope"),
            (Runtime::Containerd, Driver::Cgroupfs) => id.to_string(),
            (Runtime::Crio, Driver::Systemd) => format!("crio-{id}.scope"),
            (Runtime::Crio, Driver::Cgroupfs) => format!("crio-{id}"),
        };
        (pod.clone(), format!("{pod}/{ctr}"))
    }

    #[test]
    fn pod_uids_from_both_drivers_names() {
        assert_eq!(
            pod_uid_of("kubepods-burstable-pod0f6a4c3e_1b2d_4e5f_8a9b_0c1d2e3f4a5b.slice")
                .as_deref(),
            Some(UID)
        );
        assert_eq!(
            pod_uid_of("kubepods-pod0f6a4c3e_1b2d_4e5f_8a9b_0c1d2e3f4a5b.slice").as_deref(),
            Some(UID)
        );
        assert_eq!(pod_uid_of(&format!("pod{UID}")).as_deref(), Some(UID));
        // Static pods: the config hash.
        assert_eq!(
            pod_uid_of("pod9f86d081884c7d659a2feaa0c55ad015").as_deref(),
            Some("9f86d081884c7d659a2feaa0c55ad015")
        );
        for no in [
            "kubepods.slice",
            "kubepods-burstable.slice",
            "podman",
            "pods",
            "burstable",
            "system.slice",
            "kubepods-podxyz.slice",
        ] {
            assert_eq!(pod_uid_of(no), None, "{no}");
        }
    }

    #[test]
    fn every_runtime_driver_and_qos_class() {
        for rt in [Runtime::Containerd, Runtime::Crio] {
            for drv in [Driver::Systemd, Driver::Cgroupfs] {
                for qos in ["guaranteed", "burstable", "besteffort"] {
                    for prefix in ["", "kubelet.slice/kubelet-kubepods.slice/x/"] {
                        let t = TempDir::new("layout");
                        let (_, c1) = layout(rt, drv, qos, UID, C1);
                        let (pod, c2) = layout(rt, drv, qos, UID, C2);
                        let other = "aaaaaaaa-1b2d-4e5f-8a9b-0c1d2e3f4a5b";
                        let (_, c3) = layout(rt, drv, qos, other, C1);
                        let conmon = format!("{pod}/crio-conmon-{C2}.scope");
                        t.mkdirs(&[
                            format!("{prefix}{c1}/nested"),
                            format!("{prefix}{c2}"),
                            format!("{prefix}{c3}"),
                            format!("{prefix}{conmon}"),
                            format!("{prefix}{pod}/{}", "a".repeat(64)),
                            format!("system.slice/docker-{C2}.scope"),
                        ]);
                        let ix = Index::scan(&t.0);
                        let what = format!("{rt:?} {drv:?} {qos} {prefix:?}");
                        let got = ix.find(UID, C1).unwrap_or_else(|| panic!("{what}"));
                        assert_eq!(got.path, t.0.join(format!("{prefix}{c1}")), "{what}");
                        assert_eq!(
                            got.id,
                            std::fs::metadata(&got.path).unwrap().ino(),
                            "{what}"
                        );
                        assert_eq!(
                            ix.find(UID, C2).unwrap().path,
                            t.0.join(format!("{prefix}{c2}")),
                            "{what}"
                        );
                        // The same container id in another pod is another
                        // cgroup; an unknown id or pod is none.
                        assert_eq!(
                            ix.find(other, C1).unwrap().path,
                            t.0.join(format!("{prefix}{c3}"))
                        );
                        assert_ne!(ix.find(other, C1).unwrap().id, got.id);
                        assert!(ix.find(UID, &"3".repeat(64)).is_none());
                        assert!(ix
                            .find("bbbbbbbb-1b2d-4e5f-8a9b-0c1d2e3f4a5b", C1)
                            .is_none());
                        assert!(ix.find(&UID.to_uppercase(), C1).is_some());
                        assert_eq!(ix.pod_count(), 2, "{what}");
                    }
                }
            }
        }
    }

    #[test]
    fn runtime_prefixes_are_stripped() {
        assert_eq!(strip_runtime(&format!("containerd://{C1}")), C1);
        assert_eq!(strip_runtime(&format!("cri-o://{C1}")), C1);
        assert_eq!(strip_runtime(C1), C1);
    }

    #[test]
    fn a_missing_root_is_an_empty_index() {
        let ix = Index::scan(Path::new("/nonexistent/sysfence"));
        assert_eq!(ix.pod_count(), 0);
    }
}
