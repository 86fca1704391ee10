// SPDX-License-Identifier: GPL-2.0
//! The agent's loop: watch SyscallPolicies (every namespace) and this
//! node's pods, reconcile when they change and every `--resync`, and report
//! on each policy.
//!
//! Enforcement lives in the kernel, not here: while the API server is
//! unreachable the watchers retry with backoff and keep their last view,
//! and nothing is removed; while the agent is down its policies stay in
//! force. The first pass waits until both watchers have listed once, so a
//! restarted agent never mistakes an empty cache for "no policies".

use super::cgroups::Index;
use super::crd::NodeStatus;
use super::crd::SyscallPolicy;
use super::inputs::{key_of, node_entry, pod_info, policy_input};
use super::kernel::execute;
use super::metrics::Shared;
use super::reconcile::{self, Action, PolicyKey, World};
use super::state::{adopt_claims, agent_dir};
use super::status::{node_status, rfc3339, with_shadow};
use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Patch, PatchParams};
use kube::runtime::reflector::{reflector, Store};
use kube::runtime::watcher::{self, watcher, Event};
use kube::runtime::WatchStreamExt;
use kube::{Api, Client};
use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tracing::info;

/// How the loop runs.
#[derive(Clone, Debug)]
pub struct Config {
    pub node: String,
    pub cgroup_root: PathBuf,
    pub state_file: PathBuf,
    /// A full pass at least this often (catches containers whose cgroup
    /// appeared after their pod's status, and changes made by hand).
    pub resync: Duration,
    /// After a change, wait this long for more before a pass.
    pub debounce: Duration,
}

/// The field manager this node's agent writes status with: one per node,
/// so that each owns its own entry of `status.nodes`.
pub fn field_manager(node: &str) -> String {
    let m = format!("sysfence-agent-{node}");
    if m.len() <= 128 {
        m
    } else {
        format!(
            "sysfence-agent-{:016x}",
            reconcile::content_hash(node.as_bytes())
        )
    }
}

/// Runs until `stop` completes.
pub async fn run(client: Client, cfg: Config, shared: Arc<Shared>, stop: impl Future<Output = ()>) {
    let pol_api: Api<SyscallPolicy> = Api::all(client.clone());
    let pod_api: Api<Pod> = Api::all(client.clone());
    let (pol_store, pol_writer) = kube::runtime::reflector::store();
    let (pod_store, pod_writer) = kube::runtime::reflector::store();
    let pols = reflector(
        pol_writer,
        watcher(pol_api, watcher::Config::default()).default_backoff(),
    )
    .map(|r| (true, r.map(|e| matches!(e, Event::InitDone))))
    .boxed();
    let pods = reflector(
        pod_writer,
        watcher(
            pod_api,
            watcher::Config::default().fields(&format!("spec.nodeName={}", cfg.node)),
        )
        .default_backoff(),
    )
    .map(|r| (false, r.map(|e| matches!(e, Event::InitDone))))
    .boxed();
    let mut events = futures::stream::select(pols, pods);
    let mut tick = tokio::time::interval(cfg.resync);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut pols_synced, mut pods_synced) = (false, false);
    let mut due: Option<tokio::time::Instant> = None;
    // What this agent last wrote for each policy: the watch may not have
    // brought our own patch back yet.
    let mut sent: HashMap<PolicyKey, Option<NodeStatus>> = HashMap::new();
    // When this agent last sent a status whose only news were a shadow's
    // counts.
    let mut counted: HashMap<PolicyKey, tokio::time::Instant> = HashMap::new();
    tokio::pin!(stop);
    loop {
        let wait = async {
            match due {
                Some(d) => tokio::time::sleep_until(d).await,
                None => futures::future::pending().await,
            }
        };
        tokio::select! {
            () = &mut stop => break,
            ev = events.next() => match ev {
                Some((is_pol, Ok(init_done))) => {
                    if init_done {
                        if is_pol { pols_synced = true } else { pods_synced = true }
                        info!(
                            "listed {}",
                            if is_pol { "SyscallPolicies" } else { "pods on this node" }
                        );
                    }
                    if pols_synced && pods_synced && due.is_none() {
                        due = Some(tokio::time::Instant::now() + cfg.debounce);
                    }
                }
                Some((is_pol, Err(e))) => {
                    shared.metrics.lock().expect("metrics lock").watch_errors += 1;
                    info!(
                        "watching {}: {e} (retrying; the kernel's policies stay in force)",
                        if is_pol { "SyscallPolicies" } else { "pods" }
                    );
                }
                None => break,
            },
            _ = tick.tick() => {
                if pols_synced && pods_synced && due.is_none() {
                    due = Some(tokio::time::Instant::now());
                }
            }
            () = wait => {
                due = None;
                pass(&client, &cfg, &shared, &pol_store, &pod_store, &mut sent, &mut counted).await;
            }
        }
        let mut h = shared.health.lock().expect("health lock");
        h.last_tick = std::time::Instant::now();
        h.synced = pols_synced && pods_synced;
    }
}

/// One reconcile pass.
async fn pass(
    client: &Client,
    cfg: &Config,
    shared: &Shared,
    pol_store: &Store<SyscallPolicy>,
    pod_store: &Store<Pod>,
    sent: &mut HashMap<PolicyKey, Option<NodeStatus>>,
    counted: &mut HashMap<PolicyKey, tokio::time::Instant>,
) {
    let policies = pol_store.state();
    let inputs: Vec<_> = policies.iter().map(|p| policy_input(p)).collect();
    let pods: Vec<_> = pod_store.state().iter().map(|p| pod_info(p)).collect();
    let dir = agent_dir(&cfg.state_file);
    {
        // First, what the OCI hook reads to filter new containers of these
        // pods from their first instruction: it may be waiting for it.
        let mut sel = reconcile::selection(Some(&cfg.node), &inputs, &pods);
        sel.updated = rfc3339(std::time::SystemTime::now());
        if let Err(e) = sel.save(&dir) {
            info!(
                "the selection file: {e} (the OCI hook cannot filter new containers from their start)"
            );
            shared
                .metrics
                .lock()
                .expect("metrics lock")
                .reconcile_errors += 1;
        }
    }
    let (plan, ex) = {
        let mut kernel = shared.kernel.lock().expect("kernel lock");
        let mut state = shared.state.lock().expect("state lock");
        // The hook's claims first, then the cgroups, then the kernel: a
        // claim taken here has its cgroup in the scan and its policy in the
        // dump, so it cannot be mistaken for a container gone.
        let adopted = adopt_claims(&dir, &mut state);
        for line in &adopted.log {
            info!("{}", line);
        }
        let index = Index::scan(&cfg.cgroup_root);
        let live = match kernel.policies() {
            Ok(l) => l,
            Err(e) => {
                info!("the module: {e} (nothing changed; retrying)");
                shared.health.lock().expect("health lock").kernel_ok = false;
                shared
                    .metrics
                    .lock()
                    .expect("metrics lock")
                    .reconcile_errors += 1;
                return;
            }
        };
        let plan = reconcile::plan(&World {
            node: Some(&cfg.node),
            policies: &inputs,
            pods: &pods,
            kernel: &live,
            state: &state,
            cgroups: &index,
        });
        let ex = execute(&plan, &mut **kernel, &mut state);
        let saved = state.save(&cfg.state_file);
        if saved.is_ok() {
            adopted.remove_files();
        }
        if let Err(e) = saved {
            info!(
                "the state file: {e} (a restarted agent will not know these policies are its own)"
            );
            shared
                .metrics
                .lock()
                .expect("metrics lock")
                .reconcile_errors += 1;
        }
        (plan, ex)
    };
    shared.health.lock().expect("health lock").kernel_ok = true;
    {
        let mut m = shared.metrics.lock().expect("metrics lock");
        for (a, d) in plan.actions.iter().zip(&ex.done) {
            match a {
                Action::Apply { .. } | Action::Promote { .. } => {
                    m.observe_apply(d.took, d.error.is_none())
                }
                Action::Delete { .. } if d.error.is_none() => m.deletes_ok += 1,
                Action::Delete { .. } => m.deletes_failed += 1,
                Action::Forget { .. } => {}
            }
            info!("{}", reconcile::describe(a, d.error.as_deref()));
        }
        m.policies = policies.len();
        m.matched = plan.outcomes.values().map(|o| o.containers.len()).sum();
        m.applied = plan
            .outcomes
            .values()
            .flat_map(|o| &o.containers)
            .filter(|p| {
                matches!(p.placed, reconcile::Placed::Applied)
                    || (matches!(
                        p.placed,
                        reconcile::Placed::Applying | reconcile::Placed::Promoting
                    ) && p
                        .cgroup
                        .as_ref()
                        .is_some_and(|c| !ex.failed.contains_key(&c.id)))
            })
            .count();
        m.reconciles += 1;
        m.last_reconcile = Some(SystemTime::now());
    }
    // Status: only where it changed, from what the API server shows or
    // from what this agent last wrote.
    let now = rfc3339(SystemTime::now());
    sent.retain(|k, _| plan.outcomes.contains_key(k));
    counted.retain(|k, _| plan.outcomes.contains_key(k));
    for p in &policies {
        let key = key_of(p);
        let Some(outcome) = plan.outcomes.get(&key) else {
            continue;
        };
        let shown = node_entry(p, &cfg.node);
        let before = match sent.get(&key) {
            Some(last) if last.as_ref() != shown => last.as_ref(),
            _ => shown,
        };
        let after = node_status(&cfg.node, outcome, &ex.failed, before, &now)
            .map(|n| with_shadow(n, outcome, &ex.shadows));
        if after.as_ref() == before {
            continue;
        }
        // A shadow's counts change with every call it would decide
        // otherwise, and each patch comes back as a watch event that
        // starts a pass: without a limit, a busy workload would have its
        // status patched every debounce. Counts alone go out once a resync.
        let only_counts = matches!((&after, before), (Some(a), Some(b))
            if a.shadow.is_some() && NodeStatus { shadow: b.shadow.clone(), ..a.clone() } == *b);
        if only_counts && counted.get(&key).is_some_and(|t| t.elapsed() < cfg.resync) {
            continue;
        }
        if only_counts {
            counted.insert(key.clone(), tokio::time::Instant::now());
        }
        let ok = match patch_status(client, &key, &cfg.node, after.clone()).await {
            Ok(()) => true,
            Err(e) => {
                info!("status of SyscallPolicy {key}: {e}");
                false
            }
        };
        let mut m = shared.metrics.lock().expect("metrics lock");
        if ok {
            sent.insert(key, after);
            m.status_patches_ok += 1;
        } else {
            m.status_patches_failed += 1;
        }
    }
}

/// Writes this node's entry of a policy's status (or removes it, with
/// `None`) by server-side apply.
async fn patch_status(
    client: &Client,
    key: &PolicyKey,
    node: &str,
    entry: Option<super::crd::NodeStatus>,
) -> Result<(), kube::Error> {
    let api: Api<SyscallPolicy> = Api::namespaced(client.clone(), &key.namespace);
    let body = serde_json::json!({
        "apiVersion": crate::policy::resource::API_VERSION,
        "kind": crate::policy::resource::KIND,
        "metadata": {"name": key.name, "namespace": key.namespace},
        "status": {"nodes": entry.into_iter().collect::<Vec<_>>()},
    });
    let pp = PatchParams::apply(&field_manager(node)).force();
    match api.patch_status(&key.name, &pp, &Patch::Apply(&body)).await {
        Ok(_) => Ok(()),
        // Deleted meanwhile: nothing to report on.
        Err(kube::Error::Api(e)) if e.code == 404 => Ok(()),
        Err(e) => Err(e),
    }
}
