// SPDX-License-Identifier: GPL-2.0
//! `sysfence run` before anything runs: the policy is checked before a
//! cgroup is touched, the cgroup root must be a cgroup v2 mount, errors
//! name the path and what was being done, and nothing is left behind.
//! (What runs under the policy is tested in the guest, t-run.)

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A directory of its own, with a `root` in it that is not cgroup2.
fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("sysfence-run-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("root")).unwrap();
    d
}

fn run(root: &Path, policy: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sysfence"));
    c.arg("run").arg("--cgroup-root").arg(root);
    if let Some(p) = policy {
        c.arg("--policy").arg(p);
    }
    c.args(["--name", "t", "--", "true"]).output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn entries(d: &Path) -> Vec<String> {
    std::fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_bad_policy_is_refused_before_the_cgroup_root_is_looked_at() {
    let d = scratch("bad");
    let bad = d.join("bad.yaml");
    std::fs::write(&bad, "default: alow\n").unwrap();
    let o = run(&d.join("root"), Some(&bad));
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert_eq!(
        stderr(&o),
        format!(
            "sysfence: run: {}: default: unknown variant `alow`, expected one of `allow`, `log`, `errno`, `trap`, `kill-thread`, `kill-process` (line 1)\n",
            bad.display()
        )
    );
    assert!(entries(&d.join("root")).is_empty());
    // A policy the module would refuse (compiled here first).
    std::fs::write(
        &bad,
        "default: allow\nrules: [{syscalls: [read], action: errno, errno: 5000}]\n",
    )
    .unwrap();
    let o = run(&d.join("root"), Some(&bad));
    assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("errno 5000 is above 4095"),
        "{}",
        stderr(&o)
    );
    assert!(entries(&d.join("root")).is_empty());
}

#[test]
fn a_root_that_is_not_cgroup2_is_named_and_nothing_is_created() {
    let d = scratch("notcg2");
    let good = d.join("good.yaml");
    std::fs::write(&good, "default: allow\n").unwrap();
    let root = d.join("root");
    for policy in [Some(good.as_path()), None] {
        let o = run(&root, policy);
        assert_eq!(o.status.code(), Some(125), "{}", stderr(&o));
        assert_eq!(
            stderr(&o),
            format!(
                "sysfence: run: {} is not a cgroup v2 mount (its file system is not cgroup2): give where cgroup2 is mounted with --cgroup-root\n",
                root.display()
            )
        );
        assert!(entries(&root).is_empty(), "{:?}", entries(&root));
    }
    let missing = d.join("missing");
    let o = run(&missing, None);
    assert_eq!(o.status.code(), Some(125));
    assert_eq!(
        stderr(&o),
        format!(
            "sysfence: run: cgroup root {}: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    assert!(!missing.exists());
}
