// SPDX-License-Identifier: GPL-2.0
//! What the node agent and the OCI hook share on a node, so that a
//! Kubernetes container a `SyscallPolicy` selects is filtered from its first
//! instruction, not from the agent's next pass.
//!
//! Both live in the agent's directory (`/run/sysfence/agent`, on the host's
//! tmpfs like the kernel's policies):
//!
//! - `selection.json`, written by the agent on every pass (atomically): each
//!   pod of the node it knows, by UID, with the policy each of its regular
//!   containers gets, by container name, whether or not the container exists
//!   yet; and each such policy's wire encoding, or why the kernel would
//!   refuse it. The agent sees a pod as soon as the scheduler binds it, before
//!   the kubelet creates its containers.
//! - `claims/CGROUP.json`, written by the hook after it set a policy from the
//!   selection: the same record the agent keeps in its state file for a
//!   cgroup it applied itself. The agent takes each claim into its state at
//!   the start of its next pass (and removes the file), so it owns that
//!   cgroup as if it had applied the policy: it replaces it when the policy
//!   changes and removes it when the container goes, and does not mistake it
//!   for a policy applied by hand.
//!
//! The hook (`crate::cli::hook`) finds the pod UID and container name in the
//! annotations containerd's CRI plugin and CRI-O put in the container's
//! config; see [`PodContainer::from_annotations`].

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The agent's directory, for its state file, the selection and the claims.
pub const AGENT_DIR: &str = "/run/sysfence/agent";
/// The selection's file name in the agent's directory.
pub const SELECTION_FILE: &str = "selection.json";
/// The claims' directory name in the agent's directory.
pub const CLAIMS_DIR: &str = "claims";

/// 64-bit FNV-1a: a hash that stays the same across Rust releases, for
/// the state file and the claims.
pub fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// One cgroup whose policy the agent owns: applied by the agent, or by the
/// hook from the agent's selection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owned {
    /// The SyscallPolicy, `namespace/name`.
    pub policy: String,
    /// Hash of the wire encoding sent.
    pub desired: u64,
    /// Hash of the kernel's read-back right after.
    pub kernel: u64,
    /// `namespace/pod`.
    pub pod: String,
    pub pod_uid: String,
    pub container: String,
    pub container_id: String,
    pub path: PathBuf,
    /// The agent's policy there is the cgroup's shadow, not its enforcing
    /// policy (a `mode: shadow` SyscallPolicy).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shadow: bool,
}

/// `selection.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Selection {
    pub version: u32,
    /// The node the agent runs on (absent for `agent plan` without
    /// `--node-name`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// When the agent wrote it (RFC 3339).
    #[serde(default)]
    pub updated: String,
    /// `namespace/name` → the policy, for every policy some pod here gets.
    #[serde(default)]
    pub policies: BTreeMap<String, SelectedPolicy>,
    /// Pod UID → the pod, for every pod of the node the agent knows.
    #[serde(default)]
    pub pods: BTreeMap<String, SelectedPod>,
}

/// A policy in the selection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectedPolicy {
    /// The effective policy's wire encoding (docs/ABI.md), in hex.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wire: Option<String>,
    /// Why the kernel would refuse it (then there is no `wire`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A pod in the selection.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectedPod {
    pub namespace: String,
    pub name: String,
    /// Container name → `namespace/name` of its policy; a container of the
    /// pod that no policy selects is not listed.
    #[serde(default)]
    pub containers: BTreeMap<String, String>,
}

/// What the selection says about one container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The agent does not know the pod (yet).
    UnknownPod,
    /// The agent knows the pod, and no policy selects this container.
    NotSelected,
    /// This policy; `pod` is the pod's `namespace/name`.
    Policy {
        key: String,
        wire: Vec<u8>,
        pod: String,
    },
    /// The policy that selects it is one the kernel would refuse.
    Invalid { key: String, error: String },
}

/// Why the selection, a claim or the annotations cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Json {
        path: String,
        source: serde_json::Error,
    },
    #[error("{0}")]
    Encode(serde_json::Error),
    #[error("annotation io.kubernetes.cri-o.Labels is not a JSON object of strings: {0}")]
    Labels(serde_json::Error),
    #[error("a pod's container whose CRI annotations lack the pod UID or the container name: cannot tell which policy it gets")]
    Unnamed,
}

/// An I/O error on `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SelectionError + '_ {
    move |source| SelectionError::Io {
        path: path.display().to_string(),
        source,
    }
}

impl Selection {
    /// Reads `selection.json` from the agent's directory; `None` when there
    /// is none (no agent on this node, or it has not finished a pass yet).
    pub fn load(dir: &Path) -> Result<Option<Selection>, SelectionError> {
        let path = dir.join(SELECTION_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                serde_json::from_str(&text)
                    .map(Some)
                    .map_err(|source| SelectionError::Json {
                        path: path.display().to_string(),
                        source,
                    })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(&path)(e)),
        }
    }

    /// Writes `selection.json` atomically (a temporary file renamed over
    /// it), so the hook never reads half of one.
    #[cfg(feature = "agent")]
    pub fn save(&self, dir: &Path) -> Result<(), SelectionError> {
        let text = serde_json::to_string_pretty(self).map_err(SelectionError::Encode)?;
        write_atomic(&dir.join(SELECTION_FILE), &(text + "\n"))
    }

    /// What the selection says about container `name` of pod `uid`.
    pub fn verdict(&self, uid: &str, name: &str) -> Verdict {
        let Some(pod) = self.pods.get(&uid.to_ascii_lowercase()) else {
            return Verdict::UnknownPod;
        };
        let Some(key) = pod.containers.get(name) else {
            return Verdict::NotSelected;
        };
        let p = self.policies.get(key);
        match (
            p.and_then(|p| p.wire.as_deref()).map(hex_decode),
            p.and_then(|p| p.error.clone()),
        ) {
            (Some(Some(wire)), _) => Verdict::Policy {
                key: key.clone(),
                wire,
                pod: format!("{}/{}", pod.namespace, pod.name),
            },
            (_, Some(error)) => Verdict::Invalid {
                key: key.clone(),
                error,
            },
            _ => Verdict::Invalid {
                key: key.clone(),
                error: "the selection has no usable encoding of it".into(),
            },
        }
    }
}

/// A Kubernetes container, as its runtime config names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PodContainer {
    pub pod_uid: String,
    /// The pod's namespace (empty when the annotations do not say).
    pub namespace: String,
    /// The container's name in the pod spec.
    pub name: String,
    /// The pod's sandbox ("pause") container, which no policy selects.
    pub sandbox: bool,
}

impl PodContainer {
    /// The pod and container a container's annotations name:
    /// containerd's CRI plugin writes `io.kubernetes.cri.container-type`,
    /// `io.kubernetes.cri.sandbox-uid`, `io.kubernetes.cri.sandbox-namespace`
    /// and `io.kubernetes.cri.container-name`; CRI-O writes
    /// `io.kubernetes.cri-o.ContainerType` and the kubelet's labels
    /// (`io.kubernetes.pod.uid`, `io.kubernetes.pod.namespace`,
    /// `io.kubernetes.container.name`) as JSON in `io.kubernetes.cri-o.Labels`.
    /// `Ok(None)` for a container that is not a pod's; an error for a pod's
    /// container whose annotations do not say which pod or container it is
    /// (the hook then fails closed rather than let it run unfiltered).
    pub fn from_annotations(
        a: &BTreeMap<String, String>,
    ) -> Result<Option<PodContainer>, SelectionError> {
        let get = |k: &str| a.get(k).filter(|v| !v.is_empty()).cloned();
        let containerd = get("io.kubernetes.cri.container-type");
        let crio = get("io.kubernetes.cri-o.ContainerType");
        let labels: BTreeMap<String, String> = match get("io.kubernetes.cri-o.Labels") {
            None => BTreeMap::new(),
            Some(j) => serde_json::from_str(&j).map_err(SelectionError::Labels)?,
        };
        let label = |k: &str| labels.get(k).filter(|v| !v.is_empty()).cloned();
        let (kind, uid, ns, name) =
            if containerd.is_some() || get("io.kubernetes.cri.sandbox-uid").is_some() {
                (
                    containerd,
                    get("io.kubernetes.cri.sandbox-uid"),
                    get("io.kubernetes.cri.sandbox-namespace"),
                    get("io.kubernetes.cri.container-name"),
                )
            } else if crio.is_some() || label("io.kubernetes.pod.uid").is_some() {
                (
                    crio,
                    label("io.kubernetes.pod.uid"),
                    label("io.kubernetes.pod.namespace"),
                    label("io.kubernetes.container.name"),
                )
            } else {
                return Ok(None);
            };
        let sandbox = kind.as_deref() == Some("sandbox");
        let (Some(uid), Some(name)) = (uid, name.or_else(|| sandbox.then(String::new))) else {
            return Err(SelectionError::Unnamed);
        };
        Ok(Some(PodContainer {
            pod_uid: uid.to_ascii_lowercase(),
            namespace: ns.unwrap_or_default(),
            name,
            sandbox,
        }))
    }
}

/// Where the claims are, in the agent's directory.
pub fn claims_dir(agent_dir: &Path) -> PathBuf {
    agent_dir.join(CLAIMS_DIR)
}

/// Writes the hook's claim on a cgroup.
pub fn write_claim(agent_dir: &Path, cgroup: u64, owned: &Owned) -> Result<(), SelectionError> {
    let dir = claims_dir(agent_dir);
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let text = serde_json::to_string_pretty(owned).map_err(SelectionError::Encode)?;
    write_atomic(&dir.join(format!("{cgroup}.json")), &(text + "\n"))
}

/// A claim file read from the claims' directory.
#[cfg(feature = "agent")]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub file: PathBuf,
    pub cgroup: u64,
    pub owned: Owned,
}

/// Reads every claim, and describes each file that is not one. Nothing is
/// removed: the agent removes the files once its state, with the claims in
/// it, is saved.
#[cfg(feature = "agent")]
pub fn read_claims(agent_dir: &Path) -> (Vec<Claim>, Vec<(PathBuf, String)>) {
    let dir = claims_dir(agent_dir);
    let (mut claims, mut bad) = (Vec::new(), Vec::new());
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return (claims, bad);
    };
    let mut paths: Vec<PathBuf> = rd.flatten().map(|e| e.path()).collect();
    paths.sort();
    for p in paths {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        // A claim being written (write_atomic's temporary file).
        if name.ends_with(".tmp") {
            continue;
        }
        let cgroup = name
            .strip_suffix(".json")
            .and_then(|n| n.parse::<u64>().ok());
        let owned = std::fs::read_to_string(&p)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Owned>(&t).map_err(|e| e.to_string()));
        match (cgroup, owned) {
            (Some(cgroup), Ok(owned)) => claims.push(Claim {
                file: p,
                cgroup,
                owned,
            }),
            (None, _) => bad.push((p, "not named CGROUP-ID.json".into())),
            (_, Err(e)) => bad.push((p, e)),
        }
    }
    (claims, bad)
}

/// Writes a file through a temporary one renamed over it.
pub fn write_atomic(path: &Path, text: &str) -> Result<(), SelectionError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, text).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
}

/// Lower-case hex (the agent's selection; the hook only decodes).
#[cfg(any(feature = "agent", test))]
pub fn hex_encode(bytes: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(D[usize::from(b >> 4)]));
        s.push(char::from(D[usize::from(b & 15)]));
    }
    s
}

/// Hex to bytes; `None` for anything else.
pub fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    s.as_bytes()
        .chunks(2)
        .map(|c| {
            let d = |x: u8| char::from(x).to_digit(16);
            u8::try_from(d(c[0])? * 16 + d(c[1])?).ok()
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn ann(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn hex_round_trips_and_refuses_garbage() {
        let b: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_decode(&hex_encode(&b)).unwrap(), b);
        for bad in ["0", "zz", "0g", "+1"] {
            assert_eq!(hex_decode(bad), None, "{bad}");
        }
    }

    #[test]
    fn containerd_and_crio_annotations_name_the_pod_and_container() {
        let uid = "6b1f0d2e-7a41-4c55-9d7e-0a1b2c3d4e5f";
        let c = PodContainer::from_annotations(&ann(&[
            ("io.kubernetes.cri.container-type", "container"),
            ("io.kubernetes.cri.sandbox-uid", uid),
            ("io.kubernetes.cri.sandbox-namespace", "shop"),
            ("io.kubernetes.cri.container-name", "main"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                c.pod_uid.as_str(),
                c.namespace.as_str(),
                c.name.as_str(),
                c.sandbox
            ),
            (uid, "shop", "main", false)
        );
        let s = PodContainer::from_annotations(&ann(&[
            ("io.kubernetes.cri.container-type", "sandbox"),
            ("io.kubernetes.cri.sandbox-uid", uid),
        ]))
        .unwrap()
        .unwrap();
        assert!(s.sandbox);
        let labels = format!(
            r#"{{"io.kubernetes.pod.uid":"{}","io.kubernetes.container.name":"main","io.kubernetes.pod.namespace":"shop"}}"#,
            uid.to_uppercase()
        );
        let o = PodContainer::from_annotations(&ann(&[
            ("io.kubernetes.cri-o.ContainerType", "container"),
            ("io.kubernetes.cri-o.Labels", &labels),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(
            (
                o.pod_uid.as_str(),
                o.namespace.as_str(),
                o.name.as_str(),
                o.sandbox
            ),
            (uid, "shop", "main", false)
        );
        assert_eq!(
            PodContainer::from_annotations(&ann(&[("x", "y")])).unwrap(),
            None
        );
        // A pod's container that does not say which: fail closed.
        for bad in [
            vec![("io.kubernetes.cri.container-type", "container")],
            vec![
                ("io.kubernetes.cri.container-type", "container"),
                ("io.kubernetes.cri.sandbox-uid", uid),
            ],
            vec![("io.kubernetes.cri-o.ContainerType", "container")],
            vec![("io.kubernetes.cri-o.Labels", "[1]")],
        ] {
            assert!(
                PodContainer::from_annotations(&ann(&bad)).is_err(),
                "{bad:?}"
            );
        }
    }

    /// A selection: pod u1 (shop/web-0) with container main under shop/web
    /// (wire 01 02) and side under shop/bad (invalid).
    pub(crate) fn sample() -> Selection {
        let mut s = Selection::default();
        let pol = |wire: Option<&str>, error: Option<&str>| SelectedPolicy {
            wire: wire.map(str::to_string),
            error: error.map(str::to_string),
        };
        s.policies
            .insert("shop/web".into(), pol(Some("0102"), None));
        s.policies
            .insert("shop/bad".into(), pol(None, Some("unknown syscall `frob`")));
        s.pods.insert(
            "u1".into(),
            SelectedPod {
                namespace: "shop".into(),
                name: "web-0".into(),
                containers: BTreeMap::from([
                    ("main".into(), "shop/web".into()),
                    ("side".into(), "shop/bad".into()),
                ]),
            },
        );
        s.updated = "2026-11-23T10:00:00Z".into();
        s
    }

    #[test]
    fn verdicts() {
        let mut s = sample();
        s.pods
            .get_mut("u1")
            .unwrap()
            .containers
            .insert("lost".into(), "shop/gone".into());
        assert_eq!(s.verdict("u2", "main"), Verdict::UnknownPod);
        assert_eq!(s.verdict("u1", "other"), Verdict::NotSelected);
        assert_eq!(
            s.verdict("U1", "main"),
            Verdict::Policy {
                key: "shop/web".into(),
                wire: vec![1, 2],
                pod: "shop/web-0".into(),
            }
        );
        assert!(
            matches!(s.verdict("u1", "side"), Verdict::Invalid { error, .. } if error.contains("frob"))
        );
        assert!(matches!(s.verdict("u1", "lost"), Verdict::Invalid { .. }));
    }

    #[test]
    fn claims_are_read_and_bad_files_reported() {
        let dir = std::env::temp_dir().join(format!("sf-claims-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let o = Owned {
            policy: "shop/web".into(),
            desired: 1,
            kernel: 2,
            pod: "shop/web-0".into(),
            pod_uid: "u1".into(),
            container: "main".into(),
            container_id: "c1".into(),
            path: "/sys/fs/cgroup/x".into(),
            shadow: false,
        };
        write_claim(&dir, 42, &o).unwrap();
        std::fs::write(claims_dir(&dir).join("junk.json"), "{").unwrap();
        std::fs::write(claims_dir(&dir).join("7.json"), "not json").unwrap();
        let (claims, bad) = read_claims(&dir);
        assert_eq!(claims.len(), 1);
        assert_eq!((claims[0].cgroup, &claims[0].owned), (42, &o));
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(bad.iter().any(|(_, e)| e.contains("CGROUP-ID")), "{bad:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
