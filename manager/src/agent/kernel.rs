// SPDX-License-Identifier: GPL-2.0
//! The kernel side of the agent: the module (through netlink, or an
//! in-memory stand-in in tests), and carrying a plan's actions out.

use super::reconcile::{content_hash, Action, Placed, Plan};
use super::state::{Live, Owned, State};
use crate::kernel::shadow::Report;
use crate::kernel::stats::Stats;
use crate::kernel::{Client, ClientError, KernelError};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

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
            // None there.
            Err(KernelError::Client(ClientError::Refused {
                errno: libc::ENOENT,
                ..
            })) => Ok(()),
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
