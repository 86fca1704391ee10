// SPDX-License-Identifier: GPL-2.0
//! `sysfence agent`: the Kubernetes node agent.
//!
//! One agent per node (a DaemonSet, `deploy/`) watches `SyscallPolicy`
//! resources and the pods on its node, finds each selected container's
//! cgroup from its pod UID and container ID, and applies, replaces and
//! removes policies in the kernel as resources and pods change. See
//! `deploy/README.md` for operators and docs/architecture.md for the
//! design.
//!
//! - `crd.rs`: the resource's Rust types, from which the CRD is generated;
//! - `cgroups.rs`: pod UID + container ID → cgroup, for containerd and
//!   CRI-O under both cgroup drivers;
//! - `reconcile.rs`: the decisions, a pure function (unit-tested);
//! - `status.rs`: the per-node status entry, pure as well;
//! - `kernel.rs`: the module behind a trait, the state file, executing a plan;
//! - `inputs.rs`: API objects and files → the planner's inputs;
//! - `kube.rs`: watchers, the loop, status patches;
//! - `metrics.rs`: Prometheus metrics and health endpoints.

pub mod cgroups;
pub mod crd;
pub mod inputs;
pub mod kernel;
pub mod kube;
mod log;
pub mod metrics;
pub mod reconcile;
pub mod state;
pub mod status;

#[cfg(test)]
mod api_tests;
#[cfg(test)]
mod plan_tests;

use crate::exit::Code;
use crate::out::out;
use clap::{Args, Subcommand};
use kernel::Kernel;
use reconcile::{apply_why, describe, drop_why, Action, World};
use serde::Serialize;
use state::State;
use std::error::Error;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Res = Result<Code, Box<dyn Error>>;

#[derive(Subcommand)]
pub enum AgentCmd {
    /// Run the node agent (in the DaemonSet of deploy/daemonset.yaml).
    ///
    /// Watches SyscallPolicy resources in every namespace and the pods of
    /// this node, and keeps each selected container's cgroup under its
    /// policy: applied when a container starts running, replaced when the
    /// policy changes, removed when the policy or the container goes.
    /// Reports on each policy in status.nodes[] (matched and applied
    /// containers, conditions Ready and Conflict, lastError). Needs the
    /// sysfence module loaded, the host's network namespace (the module's
    /// netlink family lives there), the host's cgroup2 mount and
    /// CAP_SYS_ADMIN; runs in the cluster with its service account.
    ///
    /// Policies stay in the kernel when the agent stops or loses the API
    /// server; on its return it lists everything and converges. It only
    /// ever removes policies it applied itself (recorded in --state-file),
    /// never one applied by hand with `sysfence policy apply`.
    ///
    /// Example:
    ///   sysfence agent run --node-name "$NODE_NAME" --metrics-addr 0.0.0.0:9479
    #[command(verbatim_doc_comment)]
    Run(RunArgs),
    /// Print the SyscallPolicy CustomResourceDefinition (YAML), generated
    /// from the agent's types.
    ///
    /// Example: sysfence agent crd | kubectl apply -f -
    Crd,
    /// Plan, and with --apply carry out, what the agent would do, from
    /// files instead of the API server.
    ///
    /// Reads SyscallPolicies (--policies: a YAML/JSON file, possibly with
    /// several `---` documents or a List, or a directory of such files)
    /// and pods (--pods: a PodList as `kubectl get pods -A -o json` prints
    /// it, or a Pod), finds the containers' cgroups under --cgroup-root,
    /// compares with the kernel (when the module is loaded) and the agent's
    /// state file, and prints the actions (apply, delete, forget; for
    /// `mode: shadow`, apply-shadow, promote, discard-shadow) and each
    /// policy's status as the agent would report it (a shadow's record
    /// only with --apply, which reads it). The same code decides as in
    /// `sysfence agent run`.
    ///
    /// With --apply the actions are carried out and the state file
    /// updated, so a later `plan --apply` (or the agent) removes what this
    /// one applied once it is no longer wanted; the OCI hook's claims are
    /// taken, and the selection the hook reads (selection.json, beside the
    /// state file) is written, as the agent does. Do not run it beside a
    /// running agent on the same node.
    ///
    /// Exit status 1, after the plan is printed, when a policy is invalid
    /// (the kernel would refuse its spec) or an action failed: a CI job
    /// can gate on it.
    ///
    /// Examples:
    ///   kubectl get pods -A -o json > pods.json
    ///   sysfence agent plan --policies policies/ --pods pods.json \
    ///       --node-name "$(hostname)"
    ///   sysfence agent plan --policies web.yaml --pods pods.json --apply --json
    #[command(verbatim_doc_comment)]
    Plan(PlanArgs),
}

#[derive(Args)]
pub struct RunArgs {
    /// This node's name, as the API server knows it (the pods watched are
    /// those with spec.nodeName equal to it).
    #[arg(long, env = "NODE_NAME", value_name = "NAME")]
    node_name: String,
    /// Where cgroup v2 is mounted.
    #[arg(long, default_value = crate::host::target::CGROUP_ROOT, value_name = "DIR")]
    cgroup_root: PathBuf,
    /// Which cgroups' policies the agent applied (keep it on the host's
    /// /run, so it lives exactly as long as the kernel's policies).
    #[arg(long, default_value = state::STATE_FILE, value_name = "FILE")]
    state_file: PathBuf,
    /// Address of /metrics, /healthz and /readyz.
    #[arg(long, default_value = "0.0.0.0:9479", value_name = "ADDR:PORT")]
    metrics_addr: String,
    /// A full reconcile at least this often, in seconds.
    #[arg(long, default_value_t = 30, value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    resync: u64,
}

#[derive(Args)]
pub struct PlanArgs {
    /// SyscallPolicy file or directory of .yaml/.yml/.json files.
    #[arg(long, value_name = "FILE|DIR")]
    policies: PathBuf,
    /// Pods: a PodList/List/Pod in JSON or YAML ('-' for standard input).
    #[arg(long, value_name = "FILE")]
    pods: PathBuf,
    /// Only the pods with this spec.nodeName (default: every pod given);
    /// also the node named in the statuses printed.
    #[arg(long, value_name = "NAME")]
    node_name: Option<String>,
    /// Where cgroup v2 is mounted.
    #[arg(long, default_value = crate::host::target::CGROUP_ROOT, value_name = "DIR")]
    cgroup_root: PathBuf,
    /// The agent's state file (which cgroups' policies it applied).
    #[arg(long, default_value = state::STATE_FILE, value_name = "FILE")]
    state_file: PathBuf,
    /// Carry the actions out (needs the module) and update the state file.
    #[arg(long)]
    apply: bool,
    /// Print one JSON object: {"applied", "actions": [...], "policies": [...]}.
    #[arg(long)]
    json: bool,
}

pub fn run(cmd: AgentCmd) -> Res {
    match cmd {
        AgentCmd::Crd => {
            out!("{}", crd::crd_yaml())?;
            Ok(Code::Ok)
        }
        AgentCmd::Plan(args) => plan(&args),
        AgentCmd::Run(args) => run_agent(args),
    }
}

fn run_agent(args: RunArgs) -> Res {
    if args.node_name.is_empty() {
        return Err("--node-name (or NODE_NAME) is empty: give the node's name, in a pod from the downward API (fieldRef spec.nodeName)".into());
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    log::init();
    rt.block_on(async move {
        let state = State::load(&args.state_file)?;
        let resync = Duration::from_secs(args.resync);
        let shared = Arc::new(metrics::Shared {
            metrics: Mutex::new(metrics::Metrics::default()),
            health: Mutex::new(metrics::Health::new(resync * 3 + Duration::from_secs(60))),
            state: Mutex::new(state),
            kernel: Mutex::new(Box::new(kernel::Netlink::default())),
        });
        let listener = tokio::net::TcpListener::bind(&args.metrics_addr)
            .await
            .map_err(|e| format!("--metrics-addr {}: {e}", args.metrics_addr))?;
        tokio::spawn(metrics::serve(listener, shared.clone()));
        let client = ::kube::Client::try_default().await.map_err(|e| {
            format!("no Kubernetes API configuration ({e}): run in a pod with a service account, or with KUBECONFIG set")
        })?;
        let cfg = kube::Config {
            node: args.node_name.clone(),
            cgroup_root: args.cgroup_root.clone(),
            state_file: args.state_file.clone(),
            resync,
            debounce: Duration::from_millis(200),
        };
        tracing::info!(
            "node {}, cgroups under {}, state in {}, metrics on {}",
            cfg.node,
            cfg.cgroup_root.display(),
            cfg.state_file.display(),
            args.metrics_addr
        );
        let stop = async {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("SIGTERM handler");
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            tracing::info!("stopping; the kernel keeps every policy");
        };
        kube::run(client, cfg, shared, stop).await;
        Ok::<Code, Box<dyn Error>>(Code::Ok)
    })
}

/// `plan --json`: one action.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ActionOut {
    action: &'static str,
    cgroup: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<PathBuf>,
    policy: String,
    /// namespace/pod/container
    container: String,
    container_id: String,
    why: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

fn action_out(a: &Action, error: Option<String>) -> ActionOut {
    match a {
        Action::Apply {
            cgroup,
            policy,
            container,
            why,
            shadow,
            ..
        } => ActionOut {
            action: if *shadow { "apply-shadow" } else { "apply" },
            cgroup: cgroup.id,
            path: Some(cgroup.path.clone()),
            policy: policy.to_string(),
            container: container.to_string(),
            container_id: container.container_id.clone(),
            why: apply_why(*why),
            error,
        },
        Action::Promote {
            cgroup,
            owned,
            policy,
        } => ActionOut {
            action: "promote",
            cgroup: *cgroup,
            path: Some(owned.path.clone()),
            policy: policy.to_string(),
            container: format!("{}/{}", owned.pod, owned.container),
            container_id: owned.container_id.clone(),
            why: "mode changed",
            error,
        },
        Action::Delete { cgroup, owned, why } | Action::Forget { cgroup, owned, why } => {
            ActionOut {
                action: match a {
                    Action::Delete { .. } if owned.shadow => "discard-shadow",
                    Action::Delete { .. } => "delete",
                    _ => "forget",
                },
                cgroup: *cgroup,
                path: Some(owned.path.clone()),
                policy: owned.policy.clone(),
                container: format!("{}/{}", owned.pod, owned.container),
                container_id: owned.container_id.clone(),
                why: drop_why(*why),
                error,
            }
        }
    }
}

fn plan(args: &PlanArgs) -> Res {
    let policies = inputs::load_policies(&args.policies)?;
    let pods = inputs::load_pods(&args.pods)?;
    let mut state = State::load(&args.state_file)?;
    // The OCI hook's claims before the kernel's dump, as in the agent.
    let adopted = state::adopt_claims(&state::agent_dir(&args.state_file), &mut state);
    for line in &adopted.log {
        if args.apply {
            eprintln!("sysfence: {line}");
        } else {
            eprintln!("sysfence: (not carried out without --apply) {line}");
        }
    }
    let mut kernel = kernel::Netlink::default();
    let live = match kernel.policies() {
        Ok(l) => l,
        Err(e) if args.apply => return Err(format!("--apply: {e}").into()),
        Err(e) => {
            eprintln!("sysfence: {e}\nsysfence: planning as if the kernel held no policy");
            state::Live::default()
        }
    };
    let out = plan_with(
        args,
        &policies,
        &pods,
        &live,
        &mut state,
        &mut kernel,
        &adopted,
    )?;
    out!("{}", out.text)?;
    if out.problems.is_empty() {
        Ok(Code::Ok)
    } else {
        // A CI gate runs `agent plan`: a policy the agent would refuse, or
        // an action that failed, fails the command, after the plan itself
        // is printed.
        Err(out.problems.join("; ").into())
    }
}

/// What `agent plan` prints, and what makes it fail.
struct Planned {
    /// The plan as text or JSON.
    text: String,
    /// Each SyscallPolicy whose spec the kernel would refuse, and the
    /// count of failed actions, one sentence each; none when all is well.
    problems: Vec<String>,
}

/// The plan (and with --apply its execution) as text or JSON, with what
/// in it is an error (invalid policies, failed actions).
fn plan_with(
    args: &PlanArgs,
    policies: &[crd::SyscallPolicy],
    pods: &[k8s_openapi::api::core::v1::Pod],
    live: &state::Live,
    state: &mut State,
    kernel: &mut dyn Kernel,
    adopted: &state::Adopted,
) -> Result<Planned, Box<dyn Error>> {
    use std::fmt::Write as _;
    let inputs: Vec<_> = policies.iter().map(inputs::policy_input).collect();
    let pods: Vec<_> = pods.iter().map(inputs::pod_info).collect();
    let index = cgroups::Index::scan(&args.cgroup_root);
    if index.pod_count() == 0 && !pods.is_empty() {
        eprintln!(
            "sysfence: no pod cgroup under {} (kubepods.slice/…/kubepods-…-podUID.slice or kubepods/…/podUID): is --cgroup-root right?",
            args.cgroup_root.display()
        );
    }
    let dir = state::agent_dir(&args.state_file);
    let world = World {
        node: args.node_name.as_deref(),
        policies: &inputs,
        pods: &pods,
        kernel: live,
        state,
        cgroups: &index,
    };
    let plan = reconcile::plan(&world);
    let ex = if args.apply {
        // What the OCI hook reads to filter containers of these pods from
        // their first instruction.
        let mut sel = reconcile::selection(world.node, world.policies, world.pods);
        sel.updated = status::rfc3339(std::time::SystemTime::now());
        sel.save(&dir)?;
        let ex = kernel::execute(&plan, kernel, state);
        state.save(&args.state_file)?;
        adopted.remove_files();
        ex
    } else {
        kernel::Executed::default()
    };
    let node = args.node_name.as_deref().unwrap_or("this-node");
    let now = status::rfc3339(std::time::SystemTime::now());
    let statuses: Vec<(String, Option<crd::NodeStatus>)> = policies
        .iter()
        .map(|p| {
            let key = inputs::key_of(p);
            let st = plan.outcomes.get(&key).and_then(|o| {
                status::node_status(node, o, &ex.failed, None, &now)
                    .map(|n| status::with_shadow(n, o, &ex.shadows))
            });
            (key.to_string(), st)
        })
        .collect();
    let errors: Vec<String> = ex.done.iter().filter_map(|d| d.error.clone()).collect();
    let mut o = String::new();
    if args.json {
        #[derive(Serialize)]
        struct PolicyOut {
            policy: String,
            status: Option<crd::NodeStatus>,
        }
        let actions: Vec<ActionOut> = plan
            .actions
            .iter()
            .enumerate()
            .map(|(i, a)| action_out(a, ex.done.get(i).and_then(|d| d.error.clone())))
            .collect();
        let v = serde_json::json!({
            "applied": args.apply,
            "actions": actions,
            "policies": statuses.into_iter().map(|(policy, status)| PolicyOut { policy, status }).collect::<Vec<_>>(),
        });
        // One line, as every `--json` (see out::json_line).
        writeln!(o, "{}", serde_json::to_string(&v)?)?;
    } else {
        if plan.actions.is_empty() {
            writeln!(o, "no change to make")?;
        }
        for (i, a) in plan.actions.iter().enumerate() {
            let err = ex.done.get(i).and_then(|d| d.error.as_deref());
            let done = if args.apply && err.is_none() {
                "done: "
            } else {
                ""
            };
            writeln!(o, "{done}{}", describe(a, err))?;
        }
        for (key, st) in &statuses {
            match st {
                None => writeln!(o, "{key}: selects no running container here")?,
                Some(s) => {
                    let ready = s.conditions.iter().find(|c| c.type_ == "Ready");
                    writeln!(
                        o,
                        "{key}: {} of {} selected containers {}; Ready={} ({})",
                        s.applied_containers,
                        s.matched_containers,
                        if args.apply {
                            "applied"
                        } else {
                            "applied after this plan"
                        },
                        ready.map_or("?", |c| &c.status),
                        ready.map_or("", |c| &c.reason),
                    )?;
                    for c in s
                        .conditions
                        .iter()
                        .filter(|c| c.type_ == "Conflict" && c.status == "True")
                    {
                        writeln!(o, "  conflict: {}", c.message)?;
                    }
                    if let Some(e) = &s.last_error {
                        writeln!(o, "  error: {e}")?;
                    }
                }
            }
        }
    }
    let mut problems: Vec<String> = plan
        .outcomes
        .iter()
        .filter_map(|(key, o)| {
            let e = o.invalid.as_ref()?;
            Some(format!("SyscallPolicy {key} is invalid: {e}"))
        })
        .collect();
    if !errors.is_empty() {
        problems.push(format!("{} action(s) failed", errors.len()));
    }
    Ok(Planned { text: o, problems })
}
