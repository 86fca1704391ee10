// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy apply --dry-run` as a user runs it: what it prints on
//! stderr about a policy it accepts, and the targets it refuses. No module
//! is needed: a dry run encodes and checks the policy and stops there.

use std::process::{Command, Output};

/// Writes `text` to a policy file of its own and runs `sysfence ARGS FILE`.
fn apply(name: &str, text: &str, args: &[&str]) -> (Output, String) {
    let dir = std::env::temp_dir().join(format!("sysfence-apply-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(name);
    std::fs::write(&file, text).unwrap();
    let file = file.to_str().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .args(["policy", "apply", "--dry-run"])
        .args(args)
        .arg(&file)
        .output()
        .unwrap();
    (out, file)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn exec_rules_naming_programs_get_one_warning_line() {
    let (out, file) = apply(
        "exec.yaml",
        "default: allow
objects:
  exec:
    - {path: /usr/bin/curl, action: errno}
    - {path: /usr/bin/wget, action: kill-process}
",
        &["--cgroup", "4026531835"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(
        lines,
        [format!(
            "sysfence: {file}: warning: 2 exec rule(s) name programs by path, which does not stop the same program run through the dynamic loader (/lib64/ld-linux-x86-64.so.2 PROGRAM), from a copy or from a memfd: see \"Exec rules: what they cover\" in docs/SECURITY.md"
        )],
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("valid ("));
}

#[test]
fn a_policy_without_exec_rules_applies_quietly() {
    let (out, _) = apply(
        "plain.yaml",
        "default: allow\nrules: [{syscalls: [mount], action: errno}]\nobjects:\n  files: [{path: /etc/shadow, action: errno, errno: 13}]\n",
        &["--cgroup", "4026531835"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
}

#[test]
fn the_root_cgroup_is_refused_even_in_a_dry_run() {
    let (out, _) = apply("root.yaml", "default: allow\n", &["--cgroup", "1"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "sysfence: --cgroup 1: refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_cgroup_id_no_cgroup_has_is_named_before_capabilities_or_the_module() {
    // A profile whose rules depend on capabilities: before, the missing
    // cgroup surfaced as "no task to read them from".
    let profile = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/docker-default.json"
    );
    let id = "18446744073709551000";
    let out = Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .args(["policy", "apply", "--cgroup", id, profile])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!("sysfence: --cgroup {id}: no cgroup has id {id} (no directory under /sys/fs/cgroup has that inode number)\n")
    );
}
