// SPDX-License-Identifier: GPL-2.0
//! The kernel side of the agent: the module (through netlink, or an
//! in-memory stand-in in tests), the state file that says which cgroups'
//! policies the agent applied, and carrying a plan's actions out.

use super::reconcile::{content_hash, Action, Placed, Plan};
use crate::kernel::shadow::Report;
use crate::kernel::stats::Stats;
use crate::kernel::{Client, KernelError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What the kernel holds, from one dump: cgroup id → hash of the canonical
/// read-back, of the enforcing policies and of the shadows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Live {
    pub enforcing: BTreeMap<u64, u64>,
    /// A shadow that is "no policy" (`SHADOW_NONE`, left by promoting over
    /// a cgroup without one) is not listed: the agent never sets one.
    pub shadows: BTreeMap<u64, u64>,
}

/// What the agent needs from the module.
pub trait Kernel {
    /// Every cgroup with a policy or a shadow, from one dump.
    fn policies(&mut self) -> Result<Live, String>;
    /// Sets or replaces a cgroup's policy; returns the hash of its read-back.
    fn set(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String>;
    /// Removes a cgroup's policy (none there is no error).
    fn delete(&mut self, cgroup: u64) -> Result<(), String>;
    /// The counters of a cgroup's policy.
    fn stats(&mut self, cgroup: u64) -> Result<Stats, String>;
    /// Sets or replaces a cgroup's shadow (the enforcing policy stays);
    /// returns the hash of its read-back.
    fn set_shadow(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String>;
    /// Swaps a cgroup's shadow and its enforcing policy in one step;
    /// returns the hash of the read-back of the (new) enforcing policy.
    fn promote(&mut self, cgroup: u64) -> Result<u64, String>;
    /// Drops a cgroup's shadow and its record (none there is no error).
    fn discard_shadow(&mut self, cgroup: u64) -> Result<(), String>;
    /// A cgroup's shadow record.
    fn shadow_report(&mut self, cgroup: u64) -> Result<Report, String>;
}

/// The module, through generic netlink. Reconnects after an error (the
/// family's id changes when the module is reloaded).
#[derive(Default)]
pub struct Netlink {
    client: Option<Client>,
}

impl Netlink {
    fn with<T>(
        &mut self,
        f: impl FnOnce(&mut Client) -> Result<T, Box<dyn std::error::Error>>,
    ) -> Result<T, String> {
        if self.client.is_none() {
            self.client = Some(Client::connect().map_err(|e| e.to_string())?);
        }
        let c = self.client.as_mut().expect("connected above");
        let r = f(c).map_err(|e| e.to_string());
        if r.is_err() {
            self.client = None;
        }
        r
    }
}

impl Kernel for Netlink {
    fn policies(&mut self) -> Result<Live, String> {
        self.with(|c| {
            let mut out = Live::default();
            for e in c.dump_policies()? {
                // A cgroup with only a shadow has no enforcing policy.
                if let Some(p) = &e.policy {
                    out.enforcing.insert(e.cgroup_id, content_hash(p));
                }
                if let Some(p) = &e.shadow {
                    out.shadows.insert(e.cgroup_id, content_hash(p));
                }
            }
            Ok(out)
        })
    }

    fn set(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String> {
        self.with(|c| {
            c.set_policy(cgroup, wire)?;
            let back = c
                .get_policy(cgroup)?
                .ok_or("the policy just set is not there")?;
            Ok(content_hash(&back))
        })
    }

    fn delete(&mut self, cgroup: u64) -> Result<(), String> {
        self.with(|c| match c.delete_policy(cgroup) {
            Err(e) if e.is_enoent() => Ok(()),
            r => Ok(r?),
        })
    }

    fn stats(&mut self, cgroup: u64) -> Result<Stats, String> {
        self.with(|c| Ok(c.stats(cgroup)?))
    }

    fn set_shadow(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String> {
        self.with(|c| {
            c.set_shadow(cgroup, wire)?;
            let back = c
                .get_shadow(cgroup)?
                .ok_or("the shadow just set is not there")?;
            Ok(content_hash(&back))
        })
    }

    fn promote(&mut self, cgroup: u64) -> Result<u64, String> {
        self.with(|c| {
            c.promote(cgroup)?;
            let back = c
                .get_policy(cgroup)?
                .ok_or("the policy just promoted is not there")?;
            Ok(content_hash(&back))
        })
    }

    fn discard_shadow(&mut self, cgroup: u64) -> Result<(), String> {
        // None there is no error here.
        self.with(|c| match c.discard_shadow(cgroup) {
            Err(KernelError::NoShadow(_)) => Ok(()),
            r => Ok(r?),
        })
    }

    fn shadow_report(&mut self, cgroup: u64) -> Result<Report, String> {
        self.with(|c| Ok(c.shadow_report(cgroup)?))
    }
}

pub use crate::node::selection::Owned;

/// The cgroups whose policies the agent applied: `/run/sysfence/agent/
/// state.json`. It lives on tmpfs, like the kernel's policies, so both are
/// gone after a reboot and survive an agent restart.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    pub version: u32,
    pub cgroups: BTreeMap<u64, Owned>,
}

/// Where the state file is by default.
pub const STATE_FILE: &str = "/run/sysfence/agent/state.json";

impl State {
    /// Reads the state file; a missing one is an empty state.
    pub fn load(path: &Path) -> Result<State, String> {
        match std::fs::read_to_string(path) {
            Ok(text) => serde_json::from_str(&text).map_err(|e| {
                format!(
                    "{}: {e} (delete it to start over: the agent then owns no policy)",
                    path.display()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(State {
                version: 1,
                ..State::default()
            }),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }

    /// Writes the state file atomically (a temporary file renamed over it).
    pub fn save(&self, path: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        crate::node::selection::write_atomic(path, &(text + "\n"))
    }
}

/// The agent's directory: where its state file is, beside the selection
/// and the hook's claims (`crate::node::selection`).
pub fn agent_dir(state_file: &Path) -> PathBuf {
    state_file
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The OCI hook's claims taken into the state, to remove once it is saved.
#[derive(Debug, Default)]
pub struct Adopted {
    /// A line for each claim, and for each file that is not one, to log.
    pub log: Vec<String>,
    files: Vec<PathBuf>,
}

impl Adopted {
    /// Removes the claim files (call after the state is saved).
    pub fn remove_files(&self) {
        for f in &self.files {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Takes the OCI hook's claims into the state: each cgroup the hook put
/// under a policy from the selection is owned from now on, as if the agent
/// had applied it (the hook's record is the newer, so it replaces one the
/// agent had).
pub fn adopt_claims(agent_dir: &Path, state: &mut State) -> Adopted {
    let (claims, bad) = crate::node::selection::read_claims(agent_dir);
    let mut a = Adopted::default();
    for (file, why) in bad {
        a.log
            .push(format!("{}: not a claim, removed: {why}", file.display()));
        a.files.push(file);
    }
    for c in claims {
        a.log.push(format!(
            "cgroup {} of {}/{}: the OCI hook applied {}; the agent owns it now",
            c.cgroup, c.owned.pod, c.owned.container, c.owned.policy
        ));
        state.cgroups.insert(c.cgroup, c.owned);
        a.files.push(c.file);
    }
    a
}

/// How one action went.
#[derive(Clone, Debug)]
pub struct Done {
    pub error: Option<String>,
    pub took: Duration,
}

/// What carrying out a plan did.
#[derive(Clone, Debug, Default)]
pub struct Executed {
    /// One per action, in order.
    pub done: Vec<Done>,
    /// cgroup → error, for the applies that failed.
    pub failed: HashMap<u64, String>,
    /// cgroup → its shadow's record (or why it could not be read), for
    /// the containers of `mode: shadow` policies whose shadow is in place.
    pub shadows: BTreeMap<u64, Result<Report, String>>,
}

/// Carries out a plan's actions and brings the state up to date: applied
/// cgroups are owned, deleted and forgotten ones are not, and containers
/// whose policy is already in place get their names refreshed.
pub fn execute(plan: &Plan, kernel: &mut dyn Kernel, state: &mut State) -> Executed {
    let mut ex = Executed::default();
    for a in &plan.actions {
        let t0 = Instant::now();
        let error = match a {
            Action::Apply {
                cgroup,
                policy,
                container,
                wire,
                shadow,
                ..
            } => match if *shadow {
                kernel.set_shadow(cgroup.id, wire)
            } else {
                kernel.set(cgroup.id, wire)
            } {
                Ok(back) => {
                    state.cgroups.insert(
                        cgroup.id,
                        Owned {
                            policy: policy.to_string(),
                            desired: content_hash(wire),
                            kernel: back,
                            pod: format!("{}/{}", container.namespace, container.pod),
                            pod_uid: container.pod_uid.clone(),
                            container: container.container.clone(),
                            container_id: container.container_id.clone(),
                            path: cgroup.path.clone(),
                            shadow: *shadow,
                        },
                    );
                    None
                }
                Err(e) => {
                    ex.failed.insert(cgroup.id, e.clone());
                    Some(e)
                }
            },
            // The shadow left behind is what enforced before: "no policy"
            // (the planner promotes only where nothing enforced). Kept, it
            // would go on recording every call that policy refuses against
            // nothing, and nobody owns it; so it goes.
            Action::Promote { cgroup, owned, .. } => match kernel.promote(*cgroup) {
                Ok(back) => {
                    state.cgroups.insert(
                        *cgroup,
                        Owned {
                            kernel: back,
                            shadow: false,
                            ..owned.clone()
                        },
                    );
                    kernel
                        .discard_shadow(*cgroup)
                        .err()
                        .map(|e| format!("promoted; discarding the shadow left behind: {e}"))
                }
                Err(e) => {
                    ex.failed.insert(*cgroup, e.clone());
                    Some(e)
                }
            },
            Action::Delete { cgroup, owned, .. } => match if owned.shadow {
                kernel.discard_shadow(*cgroup)
            } else {
                kernel.delete(*cgroup)
            } {
                Ok(()) => {
                    state.cgroups.remove(cgroup);
                    None
                }
                Err(e) => Some(e),
            },
            Action::Forget { cgroup, .. } => {
                state.cgroups.remove(cgroup);
                None
            }
        };
        ex.done.push(Done {
            error,
            took: t0.elapsed(),
        });
    }
    for (key, o) in &plan.outcomes {
        for p in o.containers.iter().filter(|p| p.placed == Placed::Applied) {
            if let Some(owned) = p.cgroup.as_ref().and_then(|c| state.cgroups.get_mut(&c.id)) {
                owned.policy = key.to_string();
                owned.pod = format!("{}/{}", p.container.namespace, p.container.pod);
                owned.container = p.container.container.clone();
            }
        }
    }
    // The records, after the actions: a shadow set just now has one too.
    for o in plan.outcomes.values().filter(|o| o.shadow) {
        for p in &o.containers {
            let Some(cg) = &p.cgroup else { continue };
            let placed = match p.placed {
                Placed::Applied => true,
                Placed::Applying => !ex.failed.contains_key(&cg.id),
                _ => false,
            };
            if placed {
                ex.shadows.insert(cg.id, kernel.shadow_report(cg.id));
            }
        }
    }
    ex
}

/// An in-memory module for tests: its read-back differs from what was
/// sent (as the real one's canonical form does), and it can be told to
/// fail. A shadow's record is what the test puts in `reports`.
#[cfg(test)]
#[derive(Debug, Default)]
pub struct Fake {
    pub policies: BTreeMap<u64, Vec<u8>>,
    pub shadows: BTreeMap<u64, Vec<u8>>,
    /// cgroup → its shadow's record (dropped with the shadow).
    pub reports: BTreeMap<u64, Report>,
    pub fail_set: Option<String>,
    pub sets: u32,
    pub deletes: u32,
    pub shadow_sets: u32,
    pub promotes: u32,
    pub discards: u32,
}

#[cfg(test)]
impl Fake {
    /// The "canonical read-back" of a wire encoding.
    pub fn canonical(wire: &[u8]) -> Vec<u8> {
        let mut v = b"canon:".to_vec();
        v.extend(wire.iter().rev());
        v
    }
}

#[cfg(test)]
impl Kernel for Fake {
    fn policies(&mut self) -> Result<Live, String> {
        // An empty shadow is "no policy" (`SHADOW_NONE`): not listed.
        let hashes = |m: &BTreeMap<u64, Vec<u8>>| {
            m.iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (*k, content_hash(v)))
                .collect::<BTreeMap<_, _>>()
        };
        Ok(Live {
            enforcing: hashes(&self.policies),
            shadows: hashes(&self.shadows),
        })
    }
    fn set(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String> {
        if let Some(e) = &self.fail_set {
            return Err(e.clone());
        }
        self.sets += 1;
        let back = Fake::canonical(wire);
        let h = content_hash(&back);
        self.policies.insert(cgroup, back);
        Ok(h)
    }
    fn delete(&mut self, cgroup: u64) -> Result<(), String> {
        self.deletes += 1;
        self.policies.remove(&cgroup);
        Ok(())
    }
    fn stats(&mut self, cgroup: u64) -> Result<Stats, String> {
        if !self.policies.contains_key(&cgroup) {
            return Err(format!("cgroup {cgroup} has no policy"));
        }
        Ok(Stats {
            cgroup_id: cgroup,
            allowed: 100 + cgroup,
            denied: 3,
            logged: 2,
            ..Stats::default()
        })
    }
    fn set_shadow(&mut self, cgroup: u64, wire: &[u8]) -> Result<u64, String> {
        if let Some(e) = &self.fail_set {
            return Err(e.clone());
        }
        self.shadow_sets += 1;
        let back = Fake::canonical(wire);
        let h = content_hash(&back);
        self.shadows.insert(cgroup, back);
        self.reports.entry(cgroup).or_insert_with(|| Report {
            cgroup_id: cgroup,
            clean: true,
            ..Report::default()
        });
        Ok(h)
    }
    fn promote(&mut self, cgroup: u64) -> Result<u64, String> {
        // As the module: the shadow becomes the policy, the policy (or "no
        // policy", here an empty entry) the shadow.
        let shadow = self
            .shadows
            .remove(&cgroup)
            .ok_or(format!("cgroup {cgroup} has no shadow policy"))?;
        self.promotes += 1;
        let old = self.policies.insert(cgroup, shadow.clone());
        self.shadows.insert(cgroup, old.unwrap_or_default());
        Ok(content_hash(&shadow))
    }
    fn discard_shadow(&mut self, cgroup: u64) -> Result<(), String> {
        self.discards += 1;
        self.shadows.remove(&cgroup);
        self.reports.remove(&cgroup);
        Ok(())
    }
    fn shadow_report(&mut self, cgroup: u64) -> Result<Report, String> {
        self.reports
            .get(&cgroup)
            .cloned()
            .ok_or(format!("cgroup {cgroup} has no shadow policy"))
    }
}
