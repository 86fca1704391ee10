// SPDX-License-Identifier: GPL-2.0
//! The agent's decisions, as one pure function: from the policies, the pods
//! on this node, what the kernel holds and what the agent owns, to the
//! changes to make and what to report. No I/O happens here; `kube.rs` (the
//! watchers) and `plan` (files) feed it, `kernel.rs` carries its actions
//! out.
//!
//! Rules, in the order they are applied:
//!
//! 1. A policy selects the running containers (with a container ID) of the
//!    pods of its own namespace whose labels its `selector` matches,
//!    restricted to `containers` when that is given. A policy without a
//!    selector selects nothing (`selector: {}` selects every pod).
//! 2. A container selected by several policies goes to the oldest
//!    (`metadata.creationTimestamp`, then namespace/name): adding a policy
//!    never takes a container away from the one that protects it now.
//!    The others report it under their `Conflict` condition.
//! 3. A cgroup whose policy the agent did not apply (an operator's `sysfence
//!    policy apply`) is left alone and reported (`Conflict`, reason
//!    `ManualPolicy`); deleting that policy by hand hands it to the agent.
//! 4. A policy whose spec the kernel would refuse (`Invalid`) keeps its
//!    containers' current policies: nothing is applied or removed for it.
//! 5. A cgroup is (re)applied only when what the kernel holds is not what
//!    the agent last applied there for this very policy content (compared
//!    by hashes of the wire encoding sent and of the kernel's canonical
//!    read-back), so a reconcile that finds everything in place sends
//!    nothing but one dump request.
//! 6. An owned cgroup no policy claims any more is deleted if the kernel
//!    still holds what the agent put there, and forgotten (left alone) if
//!    someone replaced it by hand or it is already gone. A container whose
//!    cgroup cannot be found keeps what it has.
//! 7. A cgroup the OCI hook put under a policy from the agent's selection
//!    (`crate::node::selection`; its claim is in the state like the agent's own
//!    applies) keeps it while the container is starting: its pod is here
//!    and has it in its spec, its status does not show it running or ended,
//!    and its cgroup exists. Rules 5 and 6 take over once it runs.
//! 8. A `mode: shadow` policy is set as the shadow of its containers'
//!    cgroups: whatever enforces there (an operator's policy, or none)
//!    stays, and only a shadow the agent did not set is `Manual`. The
//!    OCI hook never applies it (the selection leaves its containers out:
//!    they start unfiltered and get the shadow once running). When a
//!    policy's mode changes:
//!    - shadow → enforce: if the cgroup has no enforcing policy and its
//!      shadow is still the agent's, of this very content, it is promoted
//!      (one atomic step) and the shadow left behind ("no policy") is
//!      discarded. Otherwise the agent's shadow is discarded and rules 3
//!      and 5 apply: an enforcing policy the agent did not set is left
//!      alone (`Manual`), none gets the policy applied.
//!    - enforce (or audit) → shadow: the agent's enforcing policy is
//!      removed and the policy set as the shadow; the containers run
//!      unfiltered (but recorded) until it is enforced again.

use super::state::{Live, Owned, State};
use crate::agent::cgroups::{Cgroup, Lookup};
use crate::node::selection::{hex_encode, SelectedPod, SelectedPolicy, Selection};
use crate::policy::resource::{LabelSelector, SelectorOp};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

/// A policy's namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyKey {
    pub namespace: String,
    pub name: String,
}

impl fmt::Display for PolicyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// One SyscallPolicy, as the planner needs it.
#[derive(Clone, Debug)]
pub struct PolicyInput {
    pub key: PolicyKey,
    pub generation: Option<i64>,
    /// `metadata.creationTimestamp` (RFC 3339, so it sorts as text).
    pub created: Option<String>,
    pub selector: Option<LabelSelector>,
    pub containers: Vec<String>,
    /// The effective policy's wire encoding, or why the kernel would
    /// refuse it.
    pub wire: Result<Vec<u8>, String>,
    /// `mode: shadow`: set as the cgroups' shadow, not enforced (rule 8).
    pub shadow: bool,
}

/// One pod, as the planner needs it.
#[derive(Clone, Debug, Default)]
pub struct PodInfo {
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub node: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// The regular containers of its spec, by name, whether or not they
    /// exist yet.
    pub spec_containers: Vec<String>,
    /// The containers its status lists.
    pub containers: Vec<ContainerInfo>,
}

/// One of a pod's (regular) containers.
#[derive(Clone, Debug, Default)]
pub struct ContainerInfo {
    pub name: String,
    /// The runtime's container ID, without `containerd://`.
    pub id: Option<String>,
    pub running: bool,
    /// It ran and ended (a container created but not started yet is
    /// neither running nor terminated).
    pub terminated: bool,
}

/// A container, named for people and for the state file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ContainerRef {
    pub namespace: String,
    pub pod: String,
    pub pod_uid: String,
    pub container: String,
    pub container_id: String,
}

impl fmt::Display for ContainerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}/{}", self.namespace, self.pod, self.container)
    }
}

/// Whether `labels` satisfy a Kubernetes label selector.
pub fn selects(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    sel.match_labels
        .iter()
        .all(|(k, v)| labels.get(k) == Some(v))
        && sel.match_expressions.iter().all(|r| {
            let have = labels.get(&r.key);
            match r.operator {
                SelectorOp::In => have.is_some_and(|v| r.values.contains(v)),
                SelectorOp::NotIn => !have.is_some_and(|v| r.values.contains(v)),
                SelectorOp::Exists => have.is_some(),
                SelectorOp::DoesNotExist => have.is_none(),
            }
        })
}

pub use crate::node::selection::content_hash;

/// Why a cgroup gets a policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyWhy {
    /// It had none.
    New,
    /// The policy changed, or the container now goes to another policy.
    Changed,
    /// Someone replaced the agent's policy by hand.
    Drifted,
    /// The kernel no longer holds the agent's policy (deleted by hand, or
    /// the module was reloaded).
    Missing,
}

/// Why an owned cgroup loses its policy, or is forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DropWhy {
    /// Its SyscallPolicy was deleted.
    PolicyDeleted,
    /// The container stopped or its pod went away.
    ContainerGone,
    /// The policy no longer selects it.
    NotSelected,
    /// (Forget) the kernel holds no policy there any more.
    GoneFromKernel,
    /// (Forget) someone replaced the agent's policy by hand: theirs now.
    ChangedByHand,
    /// The policy's mode changed between shadow and enforce (rule 8).
    ModeChanged,
}

/// One change to make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Set or replace the policy of a cgroup (its shadow, with `shadow`).
    Apply {
        cgroup: Cgroup,
        policy: PolicyKey,
        container: ContainerRef,
        wire: Vec<u8>,
        why: ApplyWhy,
        shadow: bool,
    },
    /// Promote the agent's shadow of a cgroup to its enforcing policy, then
    /// discard the shadow left behind (rule 8).
    Promote {
        cgroup: u64,
        owned: Owned,
        policy: PolicyKey,
    },
    /// Remove the agent's policy from a cgroup (discard its shadow, when
    /// the agent's was the shadow).
    Delete {
        cgroup: u64,
        owned: Owned,
        why: DropWhy,
    },
    /// Stop owning a cgroup, without touching the kernel.
    Forget {
        cgroup: u64,
        owned: Owned,
        why: DropWhy,
    },
}

/// Where one selected container stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placed {
    /// The kernel holds this version of the policy.
    Applied,
    /// An `Apply` action is planned.
    Applying,
    /// A `Promote` action is planned (shadow → enforce).
    Promoting,
    /// No cgroup found for it (yet): not applied.
    NoCgroup,
    /// Its cgroup has a policy the agent did not apply: left alone.
    Manual,
    /// The policy is invalid: the container keeps what it has.
    Held,
    /// Another (older) policy holds it.
    Conflict(PolicyKey),
}

/// One selected container of a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub container: ContainerRef,
    pub cgroup: Option<Cgroup>,
    pub placed: Placed,
}

/// What the plan says about one policy on this node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub generation: Option<i64>,
    /// `mode: shadow`: the containers' cgroups hold it as their shadow.
    pub shadow: bool,
    /// Why the kernel would refuse the spec.
    pub invalid: Option<String>,
    pub no_selector: bool,
    /// Every container it selects, in order.
    pub containers: Vec<Placement>,
}

/// What to do and what to report.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub actions: Vec<Action>,
    pub outcomes: BTreeMap<PolicyKey, Outcome>,
}

/// Everything the planner looks at.
pub struct World<'a> {
    /// Only pods on this node (all pods given when `None`).
    pub node: Option<&'a str>,
    pub policies: &'a [PolicyInput],
    pub pods: &'a [PodInfo],
    /// What the kernel holds: the enforcing policies and the shadows.
    pub kernel: &'a Live,
    /// The cgroups whose policies the agent applied.
    pub state: &'a State,
    pub cgroups: &'a dyn Lookup,
}

/// The policies, oldest first (rule 2).
fn oldest_first(policies: &[PolicyInput]) -> Vec<&PolicyInput> {
    let mut order: Vec<&PolicyInput> = policies.iter().collect();
    order.sort_by(|a, b| (&a.created, &a.key).cmp(&(&b.created, &b.key)));
    order
}

/// The pods of this node (all of them when `node` is `None`).
fn node_pods<'a>(node: Option<&str>, pods: &'a [PodInfo]) -> Vec<&'a PodInfo> {
    pods.iter()
        .filter(|p| node.is_none() || p.node.as_deref() == node)
        .collect()
}

/// Whether policy `p` selects container `name` of `pod` (rule 1, without
/// the running check).
fn selects_container(p: &PolicyInput, pod: &PodInfo, name: &str) -> bool {
    pod.namespace == p.key.namespace
        && p.selector.as_ref().is_some_and(|s| selects(s, &pod.labels))
        && (p.containers.is_empty() || p.containers.iter().any(|c| c == name))
}

/// What the OCI hook needs to put a container under its policy before it
/// runs (`crate::node::selection`): every pod of the node, with the policy each of
/// its spec's containers gets under rules 1 and 2, whether the container
/// exists yet or not. `updated` is left for the caller.
pub fn selection(node: Option<&str>, policies: &[PolicyInput], pods: &[PodInfo]) -> Selection {
    let order = oldest_first(policies);
    let mut sel = Selection {
        version: 1,
        node: node.map(str::to_string),
        ..Selection::default()
    };
    for pod in node_pods(node, pods) {
        let mut containers = BTreeMap::new();
        for name in &pod.spec_containers {
            // A shadow is set by the agent once the container runs: the
            // hook, which enforces, leaves these containers alone.
            if let Some(p) = order
                .iter()
                .find(|p| selects_container(p, pod, name))
                .filter(|p| !p.shadow)
            {
                let key = p.key.to_string();
                sel.policies
                    .entry(key.clone())
                    .or_insert_with(|| match &p.wire {
                        Ok(wire) => SelectedPolicy {
                            wire: Some(hex_encode(wire)),
                            error: None,
                        },
                        Err(e) => SelectedPolicy {
                            wire: None,
                            error: Some(e.clone()),
                        },
                    });
                containers.insert(name.clone(), key);
            }
        }
        sel.pods.insert(
            pod.uid.to_ascii_lowercase(),
            SelectedPod {
                namespace: pod.namespace.clone(),
                name: pod.name.clone(),
                containers,
            },
        );
    }
    sel
}

/// Whether an owned container is starting (rule 7): its pod's spec has it,
/// the pod's status does not show it running or ended (it may list it
/// created, or not at all yet), and its cgroup exists.
fn starting(pod: &PodInfo, o: &Owned, cgroups: &dyn Lookup) -> bool {
    pod.spec_containers.contains(&o.container)
        && !pod.containers.iter().any(|c| {
            c.id.as_deref() == Some(o.container_id.as_str()) && (c.running || c.terminated)
        })
        && cgroups.find(&o.pod_uid, &o.container_id).is_some()
}

/// Decides.
pub fn plan(w: &World<'_>) -> Plan {
    let order = oldest_first(w.policies);
    let pods = node_pods(w.node, w.pods);

    let mut plan = Plan::default();
    // (pod uid, container id) → the policy that holds it.
    let mut holder: HashMap<(String, String), PolicyKey> = HashMap::new();
    // Owned cgroups something still claims (no delete).
    let mut claimed: HashSet<u64> = HashSet::new();
    // Containers whose cgroup was not found: their owned cgroups are kept.
    let mut unresolved: HashSet<(String, String)> = HashSet::new();

    for p in order {
        let mut out = Outcome {
            generation: p.generation,
            shadow: p.shadow,
            invalid: p.wire.as_ref().err().cloned(),
            no_selector: p.selector.is_none(),
            containers: Vec::new(),
        };
        if p.selector.is_none() {
            plan.outcomes.insert(p.key.clone(), out);
            continue;
        }
        for pod in &pods {
            for c in &pod.containers {
                if !selects_container(p, pod, &c.name) {
                    continue;
                }
                let (Some(id), true) = (&c.id, c.running) else {
                    continue;
                };
                let cref = ContainerRef {
                    namespace: pod.namespace.clone(),
                    pod: pod.name.clone(),
                    pod_uid: pod.uid.clone(),
                    container: c.name.clone(),
                    container_id: id.clone(),
                };
                let cid = (pod.uid.clone(), id.clone());
                let cgroup = w.cgroups.find(&pod.uid, id);
                if let Some(first) = holder.get(&cid) {
                    out.containers.push(Placement {
                        container: cref,
                        cgroup,
                        placed: Placed::Conflict(first.clone()),
                    });
                    continue;
                }
                holder.insert(cid.clone(), p.key.clone());
                let placed = match &cgroup {
                    None => {
                        unresolved.insert(cid);
                        Placed::NoCgroup
                    }
                    Some(cg) => {
                        let mut owned = w.state.cgroups.get(&cg.id);
                        // The slot this policy goes to (rule 8).
                        let slot = if p.shadow {
                            &w.kernel.shadows
                        } else {
                            &w.kernel.enforcing
                        };
                        let live = slot.get(&cg.id);
                        if owned.is_some() {
                            claimed.insert(cg.id);
                        }
                        let mut promote = false;
                        if let Some(o) = owned.filter(|o| o.shadow != p.shadow) {
                            let theirs = if o.shadow {
                                &w.kernel.shadows
                            } else {
                                &w.kernel.enforcing
                            };
                            let here = theirs.get(&cg.id);
                            promote = !p.shadow
                                && live.is_none()
                                && here == Some(&o.kernel)
                                && p.wire.as_ref().is_ok_and(|w| content_hash(w) == o.desired);
                            if !promote && p.wire.is_ok() {
                                // Take the agent's policy out of the other
                                // slot; then this one is as if never owned.
                                plan.actions.push(match here {
                                    Some(k) if *k == o.kernel => Action::Delete {
                                        cgroup: cg.id,
                                        owned: o.clone(),
                                        why: DropWhy::ModeChanged,
                                    },
                                    _ => Action::Forget {
                                        cgroup: cg.id,
                                        owned: o.clone(),
                                        why: DropWhy::ModeChanged,
                                    },
                                });
                                owned = None;
                            }
                        }
                        match (&p.wire, owned, live) {
                            _ if promote => {
                                // `promote` is only set where `owned` is
                                // `Some` and kept so.
                                let o = owned.expect("promote implies owned").clone();
                                plan.actions.push(Action::Promote {
                                    cgroup: cg.id,
                                    owned: o,
                                    policy: p.key.clone(),
                                });
                                Placed::Promoting
                            }
                            (_, None, Some(_)) => Placed::Manual,
                            (Err(_), _, _) => Placed::Held,
                            (Ok(wire), owned, live) => {
                                let want = content_hash(wire);
                                let why = match (owned, live) {
                                    (None, _) => Some(ApplyWhy::New),
                                    (Some(_), None) => Some(ApplyWhy::Missing),
                                    (Some(o), Some(_)) if o.desired != want => {
                                        Some(ApplyWhy::Changed)
                                    }
                                    (Some(o), Some(k)) if o.kernel != *k => Some(ApplyWhy::Drifted),
                                    _ => None,
                                };
                                match why {
                                    None => Placed::Applied,
                                    Some(why) => {
                                        plan.actions.push(Action::Apply {
                                            cgroup: cg.clone(),
                                            policy: p.key.clone(),
                                            container: cref.clone(),
                                            wire: wire.clone(),
                                            why,
                                            shadow: p.shadow,
                                        });
                                        Placed::Applying
                                    }
                                }
                            }
                        }
                    }
                };
                out.containers.push(Placement {
                    container: cref,
                    cgroup,
                    placed,
                });
            }
        }
        plan.outcomes.insert(p.key.clone(), out);
    }

    // Owned cgroups nothing claims.
    let policies: BTreeSet<String> = w.policies.iter().map(|p| p.key.to_string()).collect();
    let running: HashSet<(&str, &str)> = pods
        .iter()
        .flat_map(|p| {
            p.containers
                .iter()
                .filter(|c| c.running)
                .filter_map(move |c| Some((p.uid.as_str(), c.id.as_deref()?)))
        })
        .collect();
    let by_uid: HashMap<&str, &PodInfo> = pods.iter().map(|p| (p.uid.as_str(), *p)).collect();
    for (&cg, o) in &w.state.cgroups {
        if claimed.contains(&cg)
            || unresolved.contains(&(o.pod_uid.clone(), o.container_id.clone()))
        {
            continue;
        }
        if by_uid
            .get(o.pod_uid.as_str())
            .is_some_and(|pod| starting(pod, o, w.cgroups))
        {
            continue;
        }
        let why = if !policies.contains(&o.policy) {
            DropWhy::PolicyDeleted
        } else if !running.contains(&(o.pod_uid.as_str(), o.container_id.as_str())) {
            DropWhy::ContainerGone
        } else {
            DropWhy::NotSelected
        };
        let owned = o.clone();
        let slot = if o.shadow {
            &w.kernel.shadows
        } else {
            &w.kernel.enforcing
        };
        plan.actions.push(match slot.get(&cg) {
            None => Action::Forget {
                cgroup: cg,
                owned,
                why: DropWhy::GoneFromKernel,
            },
            Some(k) if *k == o.kernel => Action::Delete {
                cgroup: cg,
                owned,
                why,
            },
            Some(_) => Action::Forget {
                cgroup: cg,
                owned,
                why: DropWhy::ChangedByHand,
            },
        });
    }
    plan
}

/// One line about an action, for the agent's log and `plan`.
pub fn describe(a: &Action, error: Option<&str>) -> String {
    let what = match a {
        Action::Apply {
            cgroup,
            policy,
            container,
            why,
            shadow,
            ..
        } => format!(
            "{} {policy} to {container} (cgroup {}, {})",
            if *shadow { "shadow" } else { "apply" },
            cgroup.id,
            apply_why(*why)
        ),
        Action::Promote {
            cgroup,
            owned,
            policy,
        } => format!(
            "promote {policy}'s shadow on {}/{} (cgroup {cgroup}, mode shadow to enforce), then discard the shadow left behind",
            owned.pod, owned.container
        ),
        Action::Delete { cgroup, owned, why } => format!(
            "{} {} from {}/{} (cgroup {cgroup}, {})",
            if owned.shadow {
                "discard the shadow"
            } else {
                "delete"
            },
            owned.policy,
            owned.pod,
            owned.container,
            drop_why(*why)
        ),
        Action::Forget { cgroup, owned, why } => format!(
            "forget cgroup {cgroup} of {}/{}, left as it is ({})",
            owned.pod,
            owned.container,
            drop_why(*why)
        ),
    };
    match error {
        Some(e) => format!("{what}: failed: {e}"),
        None => what,
    }
}

/// Why an apply, in words.
pub fn apply_why(w: ApplyWhy) -> &'static str {
    match w {
        ApplyWhy::New => "new",
        ApplyWhy::Changed => "changed",
        ApplyWhy::Drifted => "changed by hand, restored",
        ApplyWhy::Missing => "missing from the kernel",
    }
}

/// Why a delete or forget, in words.
pub fn drop_why(w: DropWhy) -> &'static str {
    match w {
        DropWhy::PolicyDeleted => "policy deleted",
        DropWhy::ContainerGone => "container gone",
        DropWhy::NotSelected => "no longer selected",
        DropWhy::GoneFromKernel => "no longer in the kernel",
        DropWhy::ChangedByHand => "replaced by hand",
        DropWhy::ModeChanged => "mode changed",
    }
}
