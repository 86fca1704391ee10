// SPDX-License-Identifier: GPL-2.0
//! The `SyscallPolicy` custom resource as the API server stores it. Its
//! CustomResourceDefinition (`deploy/crd.yaml`, `sysfence agent crd`) is
//! generated from these types, so the schema the API server validates and
//! what the agent reads cannot drift apart.
//!
//! `spec` is the resource of [`crate::policy::resource`]: `mode`, `selector`,
//! `containers` and every field of the native policy, flattened.
//!
//! `status` is written by every node's agent, each into its own entry of
//! `status.nodes` (a list-map keyed by `node`, written with server-side
//! apply under a field manager of its own), so agents on different nodes
//! never overwrite each other's counts.

use crate::policy::native::PolicyFile;
use crate::policy::resource::{LabelSelector, Mode};
use kube::CustomResource;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Which pods' containers get a syscall policy, and the policy.
#[derive(CustomResource, Serialize, Deserialize, Clone, Debug, PartialEq, Eq, JsonSchema)]
#[kube(
    group = "sysfence.dev",
    version = "v1alpha1",
    kind = "SyscallPolicy",
    plural = "syscallpolicies",
    shortname = "sfp",
    doc = "A syscall policy for the containers of the pods it selects, applied by the sysfence node agent.",
    namespaced,
    status = "SyscallPolicyStatus",
    printcolumn = r#"{"name":"Mode","type":"string","jsonPath":".spec.mode"}"#,
    printcolumn = r#"{"name":"Default","type":"string","jsonPath":".spec.default"}"#,
    printcolumn = r#"{"name":"Age","type":"date","jsonPath":".metadata.creationTimestamp"}"#
)]
#[serde(rename_all = "camelCase")]
pub struct SyscallPolicySpec {
    /// enforce (default): the policy as written; audit: every action that
    /// would refuse, trap or kill is `log` instead; shadow: the policy as
    /// written, set as the shadow of each selected container's cgroup
    /// (evaluated on every call and recorded in `status.nodes[].shadow`,
    /// never enforced; what enforces there stays). Changing shadow to
    /// enforce promotes the shadow in one step.
    #[serde(default)]
    pub mode: Mode,
    /// The pods of this namespace whose containers get the policy.
    /// Required by the agent: `{}` selects every pod of the namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// Only the containers with these names (all of the pod's when empty).
    /// Init and ephemeral containers are never filtered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<String>,
    /// The native policy (docs/ABI.md): default, defaultErrno, abis,
    /// badAbi, rules, objects.
    #[serde(flatten)]
    pub policy: PolicyFile,
}

/// What the agents report.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyscallPolicyStatus {
    /// One entry per node whose agent has something to report: the policy
    /// selects containers there, or it cannot be applied.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["node"]))]
    pub nodes: Vec<NodeStatus>,
}

/// One node agent's report on one policy.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// The node's name.
    pub node: String,
    /// The policy's metadata.generation this report is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// Running containers on this node the policy selects.
    #[serde(default)]
    pub matched_containers: u32,
    /// Of those, the containers whose cgroup holds this version of the
    /// policy in the kernel.
    #[serde(default)]
    pub applied_containers: u32,
    /// Why the policy is not fully applied, when it is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Ready (applied to every container it selects) and Conflict
    /// (containers it selects are held by another policy).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<Condition>,
    /// Shadow mode: what the shadows of this node's selected containers
    /// recorded since they were set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowStatus>,
}

/// The shadow records of one node's containers, summed.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ShadowStatus {
    /// Containers whose shadow record was read.
    pub containers: u32,
    /// Calls the policy would have decided otherwise than what enforces
    /// there (refused, or let through what is refused now).
    pub differed: u64,
    /// Of those, calls the policy would refuse (errno, trap or kill) that
    /// got through.
    pub would_refuse: WouldRefuse,
}

/// Calls a shadow would refuse.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WouldRefuse {
    pub total: u64,
    /// By syscall name (`#NR` when unknown), every ABI and object class
    /// together. Calls the record had no room to itemize are only in
    /// `differed`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub by_syscall: std::collections::BTreeMap<String, u64>,
}

/// A condition, as Kubernetes' API conventions describe them.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// Ready or Conflict.
    #[serde(rename = "type")]
    pub type_: String,
    /// True, False or Unknown.
    pub status: String,
    /// One CamelCase word.
    #[serde(default)]
    pub reason: String,
    /// For people.
    #[serde(default)]
    pub message: String,
    /// When `status` last changed (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_transition_time: Option<String>,
}

/// The CustomResourceDefinition as YAML, as `deploy/crd.yaml` holds it.
pub fn crd_yaml() -> String {
    use kube::CustomResourceExt;
    let crd = SyscallPolicy::crd();
    // serde_norway writes keys in the order the types declare them.
    let body = serde_norway::to_string(&crd).expect("a CRD serializes");
    format!(
        "# Generated by `sysfence agent crd` from manager/src/agent/crd.rs: do not edit.\n{body}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_crd_is_structural_and_names_the_resource() {
        let y = crd_yaml();
        for want in [
            "name: syscallpolicies.sysfence.dev",
            "kind: SyscallPolicy",
            "scope: Namespaced",
            "x-kubernetes-list-map-keys",
            "x-kubernetes-int-or-string: true",
            "status: {}",
            "- sfp",
        ] {
            assert!(y.contains(want), "{want} missing from\n{y}");
        }
        // Kubernetes refuses a schema with anyOf/oneOf of untyped branches
        // or additionalProperties beside properties.
        let v: serde_json::Value = serde_norway::from_str(&y).unwrap();
        fn walk(v: &serde_json::Value, path: &str) {
            if let Some(o) = v.as_object() {
                if o.contains_key("properties") {
                    assert!(!o.contains_key("additionalProperties"), "{path}");
                    assert_eq!(
                        o.get("type").and_then(|t| t.as_str()),
                        Some("object"),
                        "{path}"
                    );
                }
                for k in ["anyOf", "oneOf", "allOf", "$ref"] {
                    assert!(!o.contains_key(k), "{path}: {k}");
                }
                for (k, x) in o {
                    walk(x, &format!("{path}.{k}"));
                }
            } else if let Some(a) = v.as_array() {
                for (i, x) in a.iter().enumerate() {
                    walk(x, &format!("{path}[{i}]"));
                }
            }
        }
        walk(&v, "");
    }

    #[test]
    fn the_committed_crd_is_the_generated_one() {
        let committed =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../deploy/crd.yaml"))
                .expect("deploy/crd.yaml");
        assert!(
            committed == crd_yaml(),
            "deploy/crd.yaml is stale: regenerate it with `cargo run -p sysfence -- agent crd > deploy/crd.yaml`"
        );
    }
}
