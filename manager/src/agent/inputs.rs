// SPDX-License-Identifier: GPL-2.0
//! What the planner reads, from the API server's objects or from files
//! (`sysfence agent plan`): both go through the same conversions, so a dry
//! run decides as the agent does.

use super::crd::{NodeStatus, SyscallPolicy};
use super::reconcile::{ContainerInfo, PodInfo, PolicyInput, PolicyKey};
use crate::policy::resource::{self, Metadata};
use k8s_openapi::api::core::v1::Pod;
use std::path::Path;

/// A SyscallPolicy as the planner needs it.
pub fn policy_input(p: &SyscallPolicy) -> PolicyInput {
    let md = &p.metadata;
    let r = resource::SyscallPolicy {
        metadata: Metadata {
            name: md.name.clone().unwrap_or_default(),
            namespace: md.namespace.clone(),
            ..Metadata::default()
        },
        mode: p.spec.mode,
        selector: p.spec.selector.clone(),
        containers: p.spec.containers.clone(),
        policy: p.spec.policy.clone(),
    };
    PolicyInput {
        key: key_of(p),
        generation: md.generation,
        created: md.creation_timestamp.as_ref().map(|t| t.0.to_string()),
        selector: p.spec.selector.clone(),
        containers: p.spec.containers.clone(),
        wire: r.effective().to_wire().map_err(|e| e.to_string()),
        shadow: p.spec.mode == resource::Mode::Shadow,
    }
}

/// The policy's namespace (`default` when it has none) and name.
pub fn key_of(p: &SyscallPolicy) -> PolicyKey {
    PolicyKey {
        namespace: p
            .metadata
            .namespace
            .clone()
            .unwrap_or_else(|| "default".into()),
        name: p.metadata.name.clone().unwrap_or_default(),
    }
}

/// This node's entry of a policy's status.
pub fn node_entry<'a>(p: &'a SyscallPolicy, node: &str) -> Option<&'a NodeStatus> {
    p.status.as_ref()?.nodes.iter().find(|n| n.node == node)
}

/// A pod as the planner needs it: its regular containers, running or
/// not, with their runtime IDs. Its UID is the one its cgroup and its
/// containers' CRI annotations carry: for a static pod's mirror, the
/// kubelet's (`kubernetes.io/config.mirror`), not the API server's.
pub fn pod_info(p: &Pod) -> PodInfo {
    let md = &p.metadata;
    let containers = p
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| ContainerInfo {
                    name: c.name.clone(),
                    id: c
                        .container_id
                        .as_deref()
                        .filter(|s| !s.is_empty())
                        .map(|s| super::cgroups::strip_runtime(s).to_string()),
                    running: c.state.as_ref().is_some_and(|s| s.running.is_some()),
                    terminated: c.state.as_ref().is_some_and(|s| s.terminated.is_some()),
                })
                .collect()
        })
        .unwrap_or_default();
    PodInfo {
        namespace: md.namespace.clone().unwrap_or_else(|| "default".into()),
        name: md.name.clone().unwrap_or_default(),
        // A static pod's mirror names the UID the kubelet (and so the
        // runtime and the cgroup tree) knows it by in this annotation.
        uid: md
            .annotations
            .as_ref()
            .and_then(|a| a.get("kubernetes.io/config.mirror"))
            .or(md.uid.as_ref())
            .map(|u| u.to_ascii_lowercase())
            .unwrap_or_default(),
        node: p.spec.as_ref().and_then(|s| s.node_name.clone()),
        labels: md.labels.clone().unwrap_or_default(),
        spec_containers: p
            .spec
            .as_ref()
            .map(|s| s.containers.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default(),
        containers,
    }
}

/// The YAML or JSON documents of a text: `---`-separated documents, and
/// the `items` of any `List`.
fn documents(text: &str, file: &str) -> Result<Vec<serde_json::Value>, String> {
    use serde::Deserialize;
    // The YAML parser is slow on deep nesting: refused before it parses.
    crate::policy::input::check_depth(text).map_err(|e| format!("{file}: {e}"))?;
    let mut out = Vec::new();
    for doc in serde_norway::Deserializer::from_str(text) {
        let v = serde_json::Value::deserialize(doc).map_err(|e| format!("{file}: {e}"))?;
        if v.is_null() {
            continue;
        }
        match v.get("items").and_then(|i| i.as_array()) {
            Some(items)
                if v.get("kind")
                    .and_then(|k| k.as_str())
                    .is_some_and(|k| k.ends_with("List")) =>
            {
                out.extend(items.iter().cloned())
            }
            _ => out.push(v),
        }
    }
    Ok(out)
}

/// One SyscallPolicy document, checked as the API server's schema would
/// (kind, apiVersion, every field's type); what the kernel would refuse is
/// left to the planner, as in the agent.
fn policy_of_value(v: serde_json::Value, at: &str) -> Result<SyscallPolicy, String> {
    let api = v.get("apiVersion").and_then(|a| a.as_str()).unwrap_or("");
    let kind = v.get("kind").and_then(|a| a.as_str()).unwrap_or("");
    if kind != resource::KIND || api != resource::API_VERSION {
        return Err(format!(
            "{at}: not a {} {} (kind `{kind}`, apiVersion `{api}`)",
            resource::API_VERSION,
            resource::KIND
        ));
    }
    let p: SyscallPolicy = match serde_path_to_error::deserialize(v.clone()) {
        Ok(p) => p,
        Err(e) => {
            // The flattened policy fields lose serde's path: the manager's
            // own parser names the field.
            let text = serde_norway::to_string(&v).unwrap_or_default();
            return Err(match resource::SyscallPolicy::parse(&text) {
                Err(better) => format!("{at}: {better}"),
                Ok(_) => format!("{at}: {}: {}", e.path().clone(), e.into_inner()),
            });
        }
    };
    if p.metadata.name.as_deref().unwrap_or("").is_empty() {
        return Err(format!("{at}: metadata.name is missing"));
    }
    Ok(p)
}

/// The SyscallPolicies of a file, or of every `.yaml`, `.yml` and `.json`
/// file of a directory (sorted by name; not recursive). A file may hold
/// several `---`-separated documents or a List (as `kubectl get
/// syscallpolicies -A -o yaml` prints).
pub fn load_policies(path: &Path) -> Result<Vec<SyscallPolicy>, String> {
    let files: Vec<std::path::PathBuf> = if path.is_dir() {
        let mut v: Vec<_> = std::fs::read_dir(path)
            .map_err(|e| format!("{}: {e}", path.display()))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && p.extension()
                        .is_some_and(|x| x == "yaml" || x == "yml" || x == "json")
            })
            .collect();
        v.sort();
        v
    } else {
        vec![path.to_path_buf()]
    };
    let mut out = Vec::new();
    for f in files {
        let name = f.display().to_string();
        let text = crate::policy::input::read(&name).map_err(|e| e.to_string())?;
        for (i, v) in documents(&text, &name)?.into_iter().enumerate() {
            let p = policy_of_value(v, &format!("{name} (document {})", i + 1))?;
            let key = key_of(&p);
            if out.iter().any(|q: &SyscallPolicy| key_of(q) == key) {
                return Err(format!("{name}: SyscallPolicy {key} is given twice"));
            }
            out.push(p);
        }
    }
    Ok(out)
}

/// The pods of a file: a PodList (`kubectl get pods -A -o json`), a List,
/// a single Pod, or several documents.
pub fn load_pods(path: &Path) -> Result<Vec<Pod>, String> {
    let name = path.display().to_string();
    let text = if name == "-" {
        std::io::read_to_string(std::io::stdin()).map_err(|e| format!("stdin: {e}"))?
    } else {
        std::fs::read_to_string(path).map_err(|e| format!("{name}: {e}"))?
    };
    documents(&text, &name)?
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let kind = v.get("kind").and_then(|a| a.as_str()).unwrap_or("Pod");
            if kind != "Pod" {
                return Err(format!("{name}: item {}: kind `{kind}` is not Pod", i + 1));
            }
            serde_path_to_error::deserialize(v).map_err(|e| {
                format!(
                    "{name}: item {}: {}: {}",
                    i + 1,
                    e.path().clone(),
                    e.into_inner()
                )
            })
        })
        .collect()
}
