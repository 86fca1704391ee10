// SPDX-License-Identifier: GPL-2.0
//! `sysfence agent plan` as a CI job runs it: files in, no module, no API
//! server; its exit status gates on invalid policies.
#![cfg(feature = "agent")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/agent");

/// A directory of its own for one test's policy, cgroup root and state.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sysfence-plan-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("cg")).unwrap();
    d
}

fn plan(dir: &Path, policy: &str) -> Output {
    let file = dir.join("policy.yaml");
    std::fs::write(&file, policy).unwrap();
    Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .args(["agent", "plan", "--node-name", "node-1", "--policies"])
        .arg(&file)
        .arg("--pods")
        .arg(Path::new(FIXTURES).join("pods.json"))
        .arg("--cgroup-root")
        .arg(dir.join("cg"))
        .arg("--state-file")
        .arg(dir.join("state.json"))
        .output()
        .unwrap()
}

#[test]
fn an_invalid_policy_fails_the_plan_after_printing_it() {
    let web = std::fs::read_to_string(Path::new(FIXTURES).join("policies/web.yaml")).unwrap();
    let dir = scratch("valid");
    let o = plan(&dir, &web);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{err}");

    let dir = scratch("invalid");
    let o = plan(&dir, &web.replace("kexec_load", "no_such_call"));
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    // The plan is still printed, with the policy's status.
    assert!(out.contains("shop/web:"), "{out}");
    assert!(
        err.lines().any(
            |l| l.starts_with("sysfence: SyscallPolicy shop/web is invalid: ")
                && l.contains("no_such_call")
        ),
        "{err}"
    );
}
