// SPDX-License-Identifier: GPL-2.0
//! `sysfence oci-hook`: the OCI runtime hook that puts a container under its
//! policy before the container's program runs.
//!
//! The runtime (runc, crun, containerd's shim) runs the hook with the
//! container's state on standard input. At `createRuntime` (state
//! `creating`) the hook finds the policy the container's annotations name
//! and sets it on the container's cgroup with `ARM_ON_EXEC`: the runtime's
//! own set-up of the container (mounts, pivot_root, capabilities, which a
//! policy may well forbid) runs unfiltered, and the policy starts when that
//! set-up execs the container's program, before its first instruction, as a
//! seccomp filter installed by the runtime would. At `poststop` (state
//! `stopped`) it removes the policy it set. It fails closed: any error is
//! printed and the hook exits 1, so the runtime refuses to start the
//! container.

use crate::client::Client;
use crate::commands::{delete_policy, load_policy, set_policy_with};
use crate::exit::Code;
use crate::target::{Resolved, Target};
use clap::Args;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::error::Error;
use std::path::{Path, PathBuf};

/// The annotation naming a container's policy.
pub const ANNOTATION: &str = "sysfence.dev/policy";

#[derive(Args)]
pub struct HookArgs {
    /// Where policy names in the annotation are looked up (NAME.yaml,
    /// NAME.yml, NAME.json or NAME).
    #[arg(long, value_name = "DIR", default_value = "/etc/sysfence/policies")]
    pub policy_dir: PathBuf,
    /// The policy for containers without the annotation (a file). Without
    /// it such containers are left unfiltered.
    #[arg(long, value_name = "FILE")]
    pub default: Option<String>,
    /// Where the hook remembers which cgroup it gave a policy, so that
    /// `poststop` can remove it.
    #[arg(long, value_name = "DIR", default_value = "/run/sysfence/oci")]
    pub state_dir: PathBuf,
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

pub fn run(args: &HookArgs) -> Result<Code, Box<dyn Error>> {
    let text = std::io::read_to_string(std::io::stdin())
        .map_err(|e| format!("oci-hook: reading the container state from stdin: {e}"))?;
    let state: State = serde_json::from_str(&text).map_err(|e| {
        format!("oci-hook: the container state on stdin is not OCI state JSON: {e}")
    })?;
    hook(args, &state).map_err(|e| format!("oci-hook: container {}: {e}", state.id).into())
}

fn hook(args: &HookArgs, state: &State) -> Result<Code, Box<dyn Error>> {
    valid_id(&state.id)?;
    let record = args.state_dir.join(&state.id);
    match state.status.as_str() {
        // createRuntime, createContainer (and the older prestart).
        "creating" | "created" => {
            let config = read_config(state.bundle.as_deref())?;
            let mut annotations = config.annotations;
            annotations.extend(state.annotations.clone());
            let Some(file) = policy_file(args, &annotations)? else {
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
            if target.dir.as_deref() == Some(Path::new(crate::target::CGROUP_ROOT)) {
                return Err(
                    "the container's process is in the root cgroup: refusing to filter the whole machine"
                        .into(),
                );
            }
            let caps = config
                .process
                .and_then(|p| p.capabilities)
                .map(|c| c.bounding.join(","));
            let policy = load_for(&file, &target, caps.as_deref())?;
            let mut client = Client::connect()?;
            set_policy_with(&mut client, target.id, &policy.to_wire()?, true)?;
            std::fs::create_dir_all(&args.state_dir)
                .and_then(|()| std::fs::write(&record, format!("{}\n", target.id)))
                .map_err(|e| format!("{}: {e}", record.display()))?;
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
            match delete_policy(&mut client, id) {
                Ok(()) => {}
                // Already gone (deleted by hand, or the module reloaded).
                Err(e) if e.to_string().contains("no policy on this cgroup") => {}
                Err(e) => return Err(e),
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
) -> Result<crate::policy::PolicyFile, Box<dyn Error>> {
    let text = std::fs::read_to_string(file).map_err(|e| format!("policy {file}: {e}"))?;
    // A profile's capability conditions follow the container's bounding
    // set (none when the config gives none), never the runtime's own
    // capabilities, which the task in the cgroup still has at this point.
    let caps = crate::oci::looks_like_oci(&text).then(|| caps.unwrap_or(""));
    load_policy(file, target, caps, false)
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

fn read_config(bundle: Option<&Path>) -> Result<Config, Box<dyn Error>> {
    let Some(b) = bundle else {
        return Ok(Config::default());
    };
    let f = b.join("config.json");
    let text = std::fs::read_to_string(&f).map_err(|e| format!("{}: {e}", f.display()))?;
    Ok(serde_json::from_str(&text).map_err(|e| format!("{}: {e}", f.display()))?)
}

/// The policy file the annotation names (a path, or a name under
/// `--policy-dir`), else `--default`, else none.
fn policy_file(
    args: &HookArgs,
    annotations: &BTreeMap<String, String>,
) -> Result<Option<String>, String> {
    let Some(v) = annotations.get(ANNOTATION) else {
        return Ok(args.default.clone());
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
            policy_file(&a, &ann("web")).unwrap(),
            Some(dir.join("web.yaml").display().to_string())
        );
        assert_eq!(
            policy_file(&a, &ann("/x/y.json")).unwrap(),
            Some("/x/y.json".into())
        );
        assert!(policy_file(&a, &ann("../etc/passwd"))
            .unwrap_err()
            .contains("give an absolute path"));
        assert!(policy_file(&a, &ann("nope"))
            .unwrap_err()
            .contains("no policy nope.yaml"));
        assert_eq!(policy_file(&a, &BTreeMap::new()).unwrap(), None);
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
