// SPDX-License-Identifier: GPL-2.0
//! `sysfence oci-hook`: the OCI runtime hook that puts a container under its
//! policy before the container's program runs.
//!
//! The runtime (runc, crun, containerd's shim) runs the hook with the
//! container's state on standard input. At `createRuntime` (state
//! `creating`) the hook finds the container's policy and sets it on the
//! container's cgroup with `ARM_ON_EXEC`: the runtime's
//! own set-up of the container (mounts, pivot_root, capabilities, which a
//! policy may well forbid) runs unfiltered, and the policy starts when that
//! set-up execs the container's program, before its first instruction, as a
//! seccomp filter installed by the runtime would. At `poststop` (state
//! `stopped`) it removes the policy it set. It fails closed: any error is
//! printed and the hook exits 1, so the runtime refuses to start the
//! container.
//!
//! Which policy, in this order:
//! 1. for a Kubernetes pod's container (CRI annotations), the policy the node
//!    agent's SyscallPolicies select for it, from the agent's selection
//!    (`crate::node::selection`); the hook then leaves a claim, so the agent owns
//!    the cgroup from its next pass;
//! 2. the file or policy name the annotation `sysfence.dev/policy` gives
//!    (second, as a pod's author may be able to set it);
//! 3. `--default`;
//!
//! and else none: the container runs unfiltered.

use crate::cli::offline::{load_policy, Caps};
use crate::exit::Code;
use crate::host::target::{Resolved, Target};
use crate::kernel::client::Client;
use crate::node::selection::{self, content_hash, Owned, PodContainer, Selection, Verdict};
use clap::Args;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The annotation naming a container's policy.
pub const ANNOTATION: &str = "sysfence.dev/policy";

#[derive(Args)]
pub struct HookArgs {
    /// Where policy names in the annotation are looked up (NAME.yaml,
    /// NAME.yml, NAME.json or NAME).
    #[arg(long, value_name = "DIR", default_value = "/etc/sysfence/policies")]
    pub policy_dir: PathBuf,
    /// The policy (a file) for containers that get none from the
    /// annotation or the agent's selection. Without it they run unfiltered.
    #[arg(long, value_name = "FILE")]
    pub default: Option<String>,
    /// Where the hook remembers which cgroup it gave a policy, so that
    /// `poststop` can remove it.
    #[arg(long, value_name = "DIR", default_value = "/run/sysfence/oci")]
    pub state_dir: PathBuf,
    /// The node agent's directory (beside its --state-file): a Kubernetes
    /// pod's container gets the policy the agent's SyscallPolicies select
    /// for it, from selection.json there, before the annotation is looked
    /// at. With no selection.json (the agent has not run since the node
    /// booted) this step is skipped, unless --require-agent.
    #[arg(long, value_name = "DIR", default_value = selection::AGENT_DIR)]
    pub agent_dir: PathBuf,
    /// How long to wait for the agent to list a pod it has not seen yet
    /// (it sees a pod when the scheduler binds it, normally well before its
    /// containers are created). Then the hook fails: the container does not
    /// start and the kubelet retries.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(0..=600))]
    pub agent_wait: u64,
    /// Pods of these namespaces never wait for the agent: one it has not
    /// listed runs without the selection's policy (the annotation and
    /// --default still apply), so the agent's own pod and the control
    /// plane's static pods can start while the agent is away. Repeat it for
    /// several; the default is kube-system and sysfence-system.
    #[arg(long, value_name = "NAMESPACE", default_values_t = ["kube-system".to_string(), "sysfence-system".to_string()])]
    pub exempt_namespace: Vec<String>,
    /// Fail pods' containers (outside the exempt namespaces) when there is
    /// no selection.json, after --agent-wait: the agent has not run since
    /// the node booted. Without it such containers run without the
    /// selection's policy. Use it when every node runs the agent.
    #[arg(long)]
    pub require_agent: bool,
}

/// The policy a container gets.
enum Choice {
    /// A policy file.
    File(String),
    /// The agent's selection: policy `key`, encoded, for `pod` (`ns/name`).
    Agent {
        key: String,
        wire: Vec<u8>,
        pod: String,
        container: PodContainer,
    },
}

/// The state a runtime gives its hooks (OCI runtime spec, "State").
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct State {
    id: String,
    status: String,
    #[serde(default)]
    pid: Option<u32>,
    #[serde(default)]
    bundle: Option<PathBuf>,
    #[serde(default)]
    annotations: BTreeMap<String, String>,
}

/// What the hook reads from the bundle's config.json.
#[derive(Deserialize, Default)]
struct Config {
    #[serde(default)]
    annotations: BTreeMap<String, String>,
    #[serde(default)]
    process: Option<Process>,
}

#[derive(Deserialize, Default)]
struct Process {
    #[serde(default)]
    capabilities: Option<Capabilities>,
}

#[derive(Deserialize, Default)]
struct Capabilities {
    #[serde(default)]
    bounding: Vec<String>,
}

pub fn run(args: &HookArgs) -> Result<Code, crate::cli::Error> {
    let text = std::io::read_to_string(std::io::stdin())
        .map_err(|e| format!("oci-hook: reading the container state from stdin: {e}"))?;
    let state: State = serde_json::from_str(&text).map_err(|e| {
        format!("oci-hook: the container state on stdin is not OCI state JSON: {e}")
    })?;
    hook(args, &state).map_err(|e| format!("oci-hook: container {}: {e}", state.id).into())
}

fn hook(args: &HookArgs, state: &State) -> Result<Code, crate::cli::Error> {
    valid_id(&state.id)?;
    let record = args.state_dir.join(&state.id);
    match state.status.as_str() {
        // createRuntime, createContainer (and the older prestart).
        "creating" | "created" => {
            let config = read_config(state.bundle.as_deref())?;
            let mut annotations = config.annotations;
            annotations.extend(state.annotations.clone());
            let Some(choice) = choose(args, &annotations)? else {
                return Ok(Code::Ok);
            };
            let pid = state
                .pid
                .filter(|&p| p > 0)
                .ok_or("the state has no pid: run this hook at createRuntime or createContainer")?;
            let target = Target {
                cgroup: None,
                pid: Some(pid),
                container: None,
            }
            .resolve()?;
            if target.dir.as_deref() == Some(Path::new(crate::host::target::CGROUP_ROOT)) {
                return Err(
                    "the container's process is in the root cgroup: refusing to filter the whole machine"
                        .into(),
                );
            }
            let mut client = Client::connect()?;
            let (wire, claim) = match choice {
                Choice::File(file) => {
                    let caps = config
                        .process
                        .and_then(|p| p.capabilities)
                        .map(|c| c.bounding.join(","));
                    (load_for(&file, &target, caps.as_deref())?.to_wire()?, None)
                }
                Choice::Agent {
                    key,
                    wire,
                    pod,
                    container,
                } => {
                    let owned = Owned {
                        policy: key,
                        desired: content_hash(&wire),
                        kernel: 0,
                        pod,
                        pod_uid: container.pod_uid,
                        container: container.name,
                        container_id: state.id.clone(),
                        path: target.dir.clone().unwrap_or_default(),
                        shadow: false,
                    };
                    (wire, Some(owned))
                }
            };
            client.set_policy_with(target.id, &wire, true)?;
            // The record for poststop, and the agent's claim: both, or the
            // policy goes again (nothing half-done).
            let done = std::fs::create_dir_all(&args.state_dir)
                .and_then(|()| std::fs::write(&record, format!("{}\n", target.id)))
                .map_err(|e| format!("{}: {e}", record.display()))
                .and_then(|()| match claim {
                    None => Ok(()),
                    Some(mut owned) => {
                        let back = client
                            .get_policy(target.id)
                            .map_err(|e| e.to_string())?
                            .ok_or("the policy just set is not there")?;
                        owned.kernel = content_hash(&back);
                        selection::write_claim(&args.agent_dir, target.id, &owned)
                            .map_err(|e| format!("the claim for the agent: {e}"))
                    }
                });
            if let Err(e) = done {
                let _ = client.delete_policy(target.id);
                let _ = std::fs::remove_file(&record);
                return Err(e.into());
            }
            Ok(Code::Ok)
        }
        // poststop: remove the policy this hook set, if any.
        "stopped" => {
            let Ok(text) = std::fs::read_to_string(&record) else {
                return Ok(Code::Ok);
            };
            let id: u64 = text
                .trim()
                .parse()
                .map_err(|_| format!("{}: not a cgroup id", record.display()))?;
            let mut client = Client::connect()?;
            match client.delete_policy(id) {
                Ok(()) => {}
                // Already gone (deleted by hand, or the module reloaded).
                Err(e) if e.to_string().contains("no policy on this cgroup") => {}
                Err(e) => return Err(e.into()),
            }
            let _ = std::fs::remove_file(&record);
            Ok(Code::Ok)
        }
        // poststart, startContainer: nothing to do; the policy is in force.
        "running" => Ok(Code::Ok),
        other => Err(format!("unknown container status `{other}`").into()),
    }
}

/// Loads the policy file for the container; a seccomp profile's capability
/// conditions are decided by the container's bounding set.
fn load_for(
    file: &str,
    target: &Resolved,
    caps: Option<&str>,
) -> Result<crate::policy::native::PolicyFile, crate::cli::Error> {
    // A profile's capability conditions follow the container's bounding
    // set (none when the config gives none), never the runtime's own
    // capabilities, which the task in the cgroup still has at this point.
    load_policy(file, target, Caps::IfProfile(caps.unwrap_or("")), false)
}

/// A container id as runtimes allow them, so that it is safe as a file name.
fn valid_id(id: &str) -> Result<(), String> {
    if id.is_empty()
        || id.len() > 1024
        || id.starts_with('.')
        || !id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(format!("unusable container id `{id}`"));
    }
    Ok(())
}

fn read_config(bundle: Option<&Path>) -> Result<Config, crate::cli::Error> {
    let Some(b) = bundle else {
        return Ok(Config::default());
    };
    let f = b.join("config.json");
    let text = std::fs::read_to_string(&f).map_err(|e| crate::cli::Error::file(f.display(), e))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?)
}

/// The container's policy: for a pod's container the agent's selection
/// selects, the selection's; else the annotation's; else `--default`; else
/// none.
fn choose(
    args: &HookArgs,
    annotations: &BTreeMap<String, String>,
) -> Result<Option<Choice>, String> {
    if let Some(c) = PodContainer::from_annotations(annotations)
        .map_err(|e| e.to_string())?
        .filter(|c| !c.sandbox)
    {
        let exempt = args.exempt_namespace.contains(&c.namespace);
        match agent_verdict(args, &c, exempt)? {
            Lookup::Found(Verdict::Policy { key, wire, pod }) => {
                return Ok(Some(Choice::Agent {
                    key,
                    wire,
                    pod,
                    container: c,
                }))
            }
            Lookup::Found(Verdict::Invalid { key, error }) => {
                return Err(format!(
                    "pod {} container {}: its SyscallPolicy {key} cannot be applied: {error}",
                    c.pod_uid, c.name
                ))
            }
            Lookup::Found(Verdict::UnknownPod) | Lookup::NoSelection if exempt => {}
            Lookup::Found(Verdict::UnknownPod) => {
                return Err(format!(
                    "pod {} (namespace {}) is not in the sysfence agent's selection ({}) after {} s: the agent has not seen this pod (is it running, and watching this node?). The container is not started; the kubelet retries",
                    c.pod_uid,
                    if c.namespace.is_empty() { "unknown" } else { &c.namespace },
                    args.agent_dir.join(selection::SELECTION_FILE).display(),
                    args.agent_wait
                ))
            }
            Lookup::NoSelection if args.require_agent => {
                return Err(format!(
                    "--require-agent: no {} after {} s: the sysfence agent has not run on this node since it booted. The container is not started; the kubelet retries",
                    args.agent_dir.join(selection::SELECTION_FILE).display(),
                    args.agent_wait
                ))
            }
            Lookup::Found(Verdict::NotSelected) | Lookup::NoSelection => {}
        }
    }
    if let Some(file) = annotated_file(args, annotations)? {
        return Ok(Some(Choice::File(file)));
    }
    Ok(args.default.clone().map(Choice::File))
}

/// What the agent's selection says.
enum Lookup {
    Found(Verdict),
    /// There is no selection file.
    NoSelection,
}

/// What the agent's selection says about a pod's container, waiting up to
/// `--agent-wait` for a pod the agent has not listed yet (or, with
/// `--require-agent`, for the selection itself); an exempt namespace's pod
/// does not wait.
fn agent_verdict(args: &HookArgs, c: &PodContainer, exempt: bool) -> Result<Lookup, String> {
    let wait = if exempt { 0 } else { args.agent_wait };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait);
    loop {
        let found = match Selection::load(&args.agent_dir).map_err(|e| e.to_string())? {
            None => Lookup::NoSelection,
            Some(sel) => Lookup::Found(sel.verdict(&c.pod_uid, &c.name)),
        };
        let waiting = match &found {
            Lookup::Found(v) => *v == Verdict::UnknownPod,
            Lookup::NoSelection => args.require_agent,
        };
        if !waiting || std::time::Instant::now() >= deadline {
            return Ok(found);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The policy file the annotation names (a path, or a name under
/// `--policy-dir`), if it names one.
fn annotated_file(
    args: &HookArgs,
    annotations: &BTreeMap<String, String>,
) -> Result<Option<String>, String> {
    let Some(v) = annotations.get(ANNOTATION) else {
        return Ok(None);
    };
    let v = v.trim();
    if v.starts_with('/') {
        return Ok(Some(v.to_string()));
    }
    if v.is_empty()
        || v.starts_with('.')
        || !v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    {
        return Err(format!(
            "annotation {ANNOTATION}=`{v}`: give an absolute path or a policy name (letters, digits, '.', '_', '-')"
        ));
    }
    for ext in [".yaml", ".yml", ".json", ""] {
        let p = args.policy_dir.join(format!("{v}{ext}"));
        if p.is_file() {
            return Ok(Some(p.display().to_string()));
        }
    }
    Err(format!(
        "annotation {ANNOTATION}=`{v}`: no policy {v}.yaml, {v}.yml, {v}.json or {v} in {}",
        args.policy_dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &Path) -> HookArgs {
        HookArgs {
            policy_dir: dir.to_path_buf(),
            default: None,
            state_dir: dir.join("state"),
            agent_dir: dir.join("agent"),
            agent_wait: 0,
            exempt_namespace: vec!["kube-system".into(), "sysfence-system".into()],
            require_agent: false,
        }
    }

    #[test]
    fn policy_names_resolve_in_the_policy_dir_and_bad_ones_are_refused() {
        let dir = std::env::temp_dir().join(format!("sf-hook-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("web.yaml"), "default: allow\n").unwrap();
        let a = args(&dir);
        let ann = |v: &str| BTreeMap::from([(ANNOTATION.to_string(), v.to_string())]);
        assert_eq!(
            annotated_file(&a, &ann("web")).unwrap(),
            Some(dir.join("web.yaml").display().to_string())
        );
        assert_eq!(
            annotated_file(&a, &ann("/x/y.json")).unwrap(),
            Some("/x/y.json".into())
        );
        assert!(annotated_file(&a, &ann("../etc/passwd"))
            .unwrap_err()
            .contains("give an absolute path"));
        assert!(annotated_file(&a, &ann("nope"))
            .unwrap_err()
            .contains("no policy nope.yaml"));
        assert_eq!(annotated_file(&a, &BTreeMap::new()).unwrap(), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn kubernetes_containers_get_the_agents_selection() {
        let dir = std::env::temp_dir().join(format!("sf-hook-sel-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("web.yaml"), "default: allow\n").unwrap();
        let mut a = args(&dir);
        let cri_in = |ns: &str, uid: &str, name: &str, kind: &str| {
            BTreeMap::from([
                ("io.kubernetes.cri.sandbox-uid".to_string(), uid.to_string()),
                (
                    "io.kubernetes.cri.sandbox-namespace".to_string(),
                    ns.to_string(),
                ),
                (
                    "io.kubernetes.cri.container-name".to_string(),
                    name.to_string(),
                ),
                (
                    "io.kubernetes.cri.container-type".to_string(),
                    kind.to_string(),
                ),
            ])
        };
        let cri = |uid: &str, name: &str, kind: &str| cri_in("shop", uid, name, kind);
        let what = |a: &HookArgs, ann: &BTreeMap<String, String>| match choose(a, ann) {
            Ok(Some(Choice::File(f))) => format!("file {f}"),
            Ok(Some(Choice::Agent {
                key,
                wire,
                pod,
                container,
            })) => {
                format!("agent {key} {wire:?} {pod} {}", container.name)
            }
            Ok(None) => "none".into(),
            Err(e) => format!("error {e}"),
        };
        // No agent on the node: as any container; with --require-agent,
        // fail closed (the exempt namespaces excepted).
        assert_eq!(what(&a, &cri("u1", "main", "container")), "none");
        a.require_agent = true;
        assert!(what(&a, &cri("u1", "main", "container")).contains("--require-agent: no "));
        assert_eq!(
            what(&a, &cri_in("kube-system", "u1", "main", "container")),
            "none"
        );
        a.require_agent = false;
        // A pod's container whose annotations do not say which: fail closed.
        let mut partial = cri("u1", "main", "container");
        partial.remove("io.kubernetes.cri.sandbox-uid");
        assert!(what(&a, &partial).contains("lack the pod UID"));
        let sel = crate::node::selection::tests::sample();
        sel.save(&a.agent_dir).unwrap();
        assert_eq!(
            what(&a, &cri("u1", "main", "container")),
            "agent shop/web [1, 2] shop/web-0 main"
        );
        assert!(what(&a, &cri("u1", "side", "container"))
            .contains("shop/bad cannot be applied: unknown syscall `frob`"));
        // Not selected, the sandbox, a container outside Kubernetes: the default.
        a.default = Some("/d.yaml".into());
        assert_eq!(what(&a, &cri("u1", "helper", "container")), "file /d.yaml");
        assert_eq!(what(&a, &cri("u1", "", "sandbox")), "file /d.yaml");
        assert_eq!(what(&a, &BTreeMap::new()), "file /d.yaml");
        // The selection comes before the annotation (which a pod's author
        // may set), and the annotation before the default.
        let mut ann = cri("u1", "main", "container");
        ann.insert(ANNOTATION.into(), "web".into());
        assert_eq!(what(&a, &ann), "agent shop/web [1, 2] shop/web-0 main");
        let mut ann = cri("u1", "helper", "container");
        ann.insert(ANNOTATION.into(), "web".into());
        assert_eq!(
            what(&a, &ann),
            format!("file {}", dir.join("web.yaml").display())
        );
        // A pod the agent has not listed: fail closed, after the wait...
        let t0 = std::time::Instant::now();
        a.agent_wait = 1;
        let e = what(&a, &cri("u9", "main", "container"));
        assert!(
            e.contains("pod u9 (namespace shop) is not in the sysfence agent's selection"),
            "{e}"
        );
        assert!(t0.elapsed() >= std::time::Duration::from_secs(1));
        // ... but not in an exempt namespace, where it does not wait.
        a.agent_wait = 30;
        let t0 = std::time::Instant::now();
        assert_eq!(
            what(&a, &cri_in("sysfence-system", "u9", "agent", "container")),
            "file /d.yaml"
        );
        assert!(t0.elapsed() < std::time::Duration::from_secs(5));
        // One the agent lists during the wait is found.
        a.agent_wait = 10;
        let later = sel.clone();
        let agent_dir = a.agent_dir.clone();
        let writer = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let mut s = later;
            let p = s.pods["u1"].clone();
            s.pods.insert("u2".into(), p);
            s.save(&agent_dir).unwrap();
        });
        assert_eq!(
            what(&a, &cri("u2", "main", "container")),
            "agent shop/web [1, 2] shop/web-0 main"
        );
        writer.join().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn container_ids_must_be_file_names() {
        assert!(valid_id("4f1c2a_web-1.0").is_ok());
        for bad in ["", "..", "a/b", ".hidden", "a b"] {
            assert!(valid_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn state_json_parses_as_runtimes_write_it() {
        let s: State = serde_json::from_str(
            r#"{"ociVersion":"1.0.2","id":"c1","status":"creating","pid":42,"bundle":"/b","annotations":{"sysfence.dev/policy":"web"}}"#,
        )
        .unwrap();
        assert_eq!(
            (s.id.as_str(), s.status.as_str(), s.pid),
            ("c1", "creating", Some(42))
        );
        assert_eq!(
            s.annotations.get(ANNOTATION).map(String::as_str),
            Some("web")
        );
    }
}
