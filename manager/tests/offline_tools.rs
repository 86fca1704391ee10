// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy check|show|test|diff|convert` and `apply --dry-run`
//! as a user runs them, with no kernel module: output, stderr and exit
//! status.

use std::process::{Command, Output};

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/docker-default.json"
);

const NATIVE: &str = "default: allow
rules:
  - {syscalls: [mount, umount2], action: errno, errno: 1}
  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 40}]}
  - {syscalls: [ptrace], action: kill-process}
";

/// Writes `text` to a file of its own; returns its path.
fn file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("sysfence-tools-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

fn sysfence(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .args(args)
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn check_prints_ok_per_file_and_fails_on_any_bad_one() {
    let good = file("good.yaml", NATIVE);
    let o = sysfence(&["policy", "check", &good, DOCKER]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with(&format!(
            "{good}: ok (native policy, x86_64 ia32, 3 rule(s), "
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!("{DOCKER}: ok (seccomp profile, x86_64 ia32 x32, ")),
        "{out}"
    );
    // No --caps: Docker's set, said once.
    assert_eq!(
        stderr(&o).matches("Docker's default set").count(),
        1,
        "{}",
        stderr(&o)
    );
    let bad = file(
        "bad.yaml",
        "default: allow\nrules:\n  - {syscalls: [read], action: deny}\n",
    );
    let o = sysfence(&["policy", "check", &good, &bad]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains(&format!(
            "sysfence: {bad}: rules[0].action: unknown variant `deny`"
        )) && err.contains("(line 3)"),
        "{err}"
    );
    assert!(err.ends_with("sysfence: 1 of 2 file(s) failed\n"), "{err}");
    assert!(stdout(&o).contains(&format!("{good}: ok")));
}

#[test]
fn check_strict_and_json() {
    let o = sysfence(&["policy", "check", "--strict", "--caps", "", DOCKER]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("--strict: 19 rule(s) left out by their conditions"),
        "{}",
        stderr(&o)
    );
    let o = sysfence(&["policy", "check", "--json", "--caps", "", DOCKER]);
    assert!(o.status.success());
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v[0]["ok"], true);
    assert_eq!(v[0]["format"], "seccomp-profile");
    assert_eq!(v[0]["skipped"].as_array().unwrap().len(), 19);
    assert!(v[0]["wire_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn test_decides_calls_and_exits_zero_whatever_the_decision() {
    let p = file("t.yaml", NATIVE);
    let run = |args: &[&str]| {
        let mut a = vec!["policy", "test"];
        a.extend_from_slice(args);
        let o = sysfence(&a);
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    assert_eq!(
        run(&[&p, "--", "getppid"]),
        "x86_64 getppid() [nr 110]: allow by default\n"
    );
    assert_eq!(
        run(&[&p, "--", "mount"]),
        "x86_64 mount() [nr 165]: errno(1) by rules[0] (mount, umount2: errno(1))\n"
    );
    assert_eq!(
        run(&[&p, "--", "41", "40", "1"]),
        "x86_64 socket(0x28, 0x1) [nr 41]: errno(97) by rules[1] (socket: errno(97) if arg0 == 0x28)\n"
    );
    assert_eq!(
        run(&[&p, "--", "socket", "2"]),
        "x86_64 socket(0x2) [nr 41]: allow by default\n"
    );
    assert_eq!(
        run(&["--abi", "x32", &p, "--", "read"]),
        "x32 read() [nr 0]: kill-process by badAbi (the policy does not describe x32)\n"
    );
    assert_eq!(
        run(&["--abi", "ia32", &p, "--", "ptrace"]),
        "ia32 ptrace() [nr 26]: kill-process by rules[2] (ptrace: kill-process)\n"
    );
    let v: serde_json::Value =
        serde_json::from_str(&run(&["--json", DOCKER, "--", "personality", "0xffffffff"])).unwrap();
    assert_eq!(v["action"], "allow");
    assert_eq!(v["decided_by"], "syscalls[7]");
    assert_eq!(v["rule"], "personality: allow if arg0 == 0xffffffff");
    let v: serde_json::Value =
        serde_json::from_str(&run(&["--json", "--caps", "", DOCKER, "--", "chroot"])).unwrap();
    assert_eq!(
        (&v["action"], &v["decided_by"]),
        (&"errno(1)".into(), &"default".into())
    );
}

#[test]
fn test_decides_a_list_of_calls() {
    let p = file("l.yaml", NATIVE);
    let list = file(
        "calls.txt",
        "# the battery's way\nmount\nia32 ptrace\nsocket 40\n",
    );
    let o = sysfence(&["policy", "test", &p, "--calls", &list]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = stdout(&o).lines().map(str::to_string).collect();
    assert_eq!(lines.len(), 3);
    assert!(
        lines[1].starts_with("ia32 ptrace() [nr 26]: kill-process"),
        "{lines:?}"
    );
    let o = sysfence(&["policy", "test", "--json", &p, "--calls", &list]);
    let actions: Vec<String> = stdout(&o)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(actions, ["errno(1)", "kill-process", "errno(97)"]);
    let o = sysfence(&["policy", "test", &p, "--calls", &list, "--", "read"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn test_usage_errors_exit_2() {
    let p = file("u.yaml", NATIVE);
    for args in [
        vec!["policy", "test", &p, "--", "frobnicate"],
        vec!["policy", "test", &p, "--", "read", "ten"],
        vec!["policy", "test", &p],
        vec!["policy", "test", "--abi", "arm", &p, "--", "read"],
    ] {
        let o = sysfence(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn show_prints_the_table_and_json() {
    let p = file("s.yaml", NATIVE);
    let o = sysfence(&["policy", "show", &p]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.starts_with("default: allow\nbadAbi: kill-process (x32)\n"),
        "{out}"
    );
    assert!(
        out.contains("x86_64    41  socket                   errno(97)      arg0 == 0x28\n"),
        "{out}"
    );
    assert!(
        out.contains("ia32      26  ptrace                   kill-process\n"),
        "{out}"
    );
    let o = sysfence(&["policy", "show", "--json", &p]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["default"], "allow");
    assert_eq!(v["abis"][2]["described"], false);
    let socket = v["abis"][0]["syscalls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "socket")
        .unwrap();
    assert_eq!(socket["rules"][0]["args"][0], "arg0 == 0x28");
    assert_eq!(socket["action"], "allow");
}

#[test]
fn diff_of_two_files_exits_0_when_alike_and_4_when_not() {
    let a = file("a.yaml", NATIVE);
    // The same decisions written otherwise: a rule equal to the default,
    // the errno spelled out, another order.
    let same = file(
        "same.yaml",
        "default: allow\nrules:\n  - {syscalls: [ptrace], action: kill-process}\n  - {syscalls: [read], action: allow}\n  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 40}]}\n  - {syscalls: [umount2, mount], action: errno}\n",
    );
    let o = sysfence(&["policy", "diff", &a, &same]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    assert_eq!(stdout(&o), "");
    assert!(stderr(&o).contains("decide every call alike"));
    let other = file("other.yaml", &NATIVE.replace("errno: 97", "errno: 13"));
    let o = sysfence(&["policy", "diff", &a, &other]);
    assert_eq!(o.status.code(), Some(4));
    assert_eq!(
        stdout(&o),
        "- x86_64 socket if arg0 Eq 0x28: errno(97)\n- ia32 socket if arg0 Eq 0x28: errno(97)\n+ x86_64 socket if arg0 Eq 0x28: errno(13)\n+ ia32 socket if arg0 Eq 0x28: errno(13)\n"
    );
    let o = sysfence(&["policy", "diff", "--json", &a, &other]);
    assert_eq!(o.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["only_a"].as_array().unwrap().len(), 2);
    assert_eq!(v["only_b"].as_array().unwrap().len(), 2);
}

#[test]
fn diff_needs_two_files_or_a_target_and_one() {
    let a = file("d.yaml", NATIVE);
    for args in [
        vec!["policy", "diff", &a],
        vec!["policy", "diff", "--cgroup", "5", &a, &a],
        vec!["policy", "diff", "--cgroup", "5", "--kernel", "6.1", &a],
    ] {
        let o = sysfence(&args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
    }
    let o = sysfence(&["policy", "diff", &a, &a, &a]);
    assert_eq!(o.status.code(), Some(2), "three files");
}

#[test]
fn convert_round_trips_decide_alike() {
    let native = file(
        "c.yaml",
        "default: errno\nrules:\n  - {syscalls: [read, write, socketcall], action: allow}\n  - {syscalls: [socket], action: allow, args: [{index: 0, op: ne, value: 40}]}\n  - {syscalls: [mount], action: kill-thread}\n",
    );
    let to = |from: &str, format: &str, name: &str| {
        let o = sysfence(&["policy", "convert", from, "--to", format]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(!stderr(&o).contains("warning"), "{}", stderr(&o));
        file(name, &stdout(&o))
    };
    let oci = to(&native, "oci", "c.json");
    assert!(std::fs::read_to_string(&oci)
        .unwrap()
        .contains("\"defaultAction\": \"SCMP_ACT_ERRNO\""));
    let back = to(&oci, "native", "c-back.yaml");
    let res = to(&native, "syscallpolicy", "c-res.yaml");
    assert!(std::fs::read_to_string(&res).unwrap().contains("name: c\n"));
    let res_back = to(&res, "native", "c-res-back.yaml");
    for f in [&oci, &back, &res, &res_back] {
        let o = sysfence(&["policy", "diff", &native, f]);
        assert_eq!(o.status.code(), Some(0), "{f}: {}", stdout(&o));
    }
    let o = sysfence(&[
        "policy",
        "convert",
        &native,
        "--to",
        "syscallpolicy",
        "--name",
        "web",
    ]);
    assert!(stdout(&o).contains("name: web\n"));
    let o = sysfence(&["policy", "convert", &native, "--to", "oci", "--name", "web"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn convert_warns_about_what_oci_cannot_say() {
    let p = file(
        "w.yaml",
        "default: allow\nrules:\n  - {syscalls: [ptrace], action: kill-process, abis: [x86_64]}\nobjects:\n  files: [{prefix: /etc/ssl/private, action: errno, errno: 13}]\n",
    );
    let o = sysfence(&["policy", "convert", &p, "--to", "oci"]);
    assert!(o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("object rules (files, exec, sockets) have no OCI form"),
        "{err}"
    );
    assert!(
        err.contains("does not decide every call as the original")
            && err.contains("  + ia32 ptrace: kill-process"),
        "{err}"
    );
    // The resource keeps them.
    let o = sysfence(&["policy", "convert", &p, "--to", "syscallpolicy"]);
    assert_eq!(stderr(&o), "");
    assert!(stdout(&o).contains("prefix: /etc/ssl/private"));
}

#[test]
fn apply_dry_run_needs_no_target_and_apply_does() {
    let p = file("a.yaml", NATIVE);
    let o = sysfence(&["policy", "apply", "--dry-run", &p]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).starts_with(&format!("{p}: valid (")));
    let o = sysfence(&["policy", "apply", "--dry-run", DOCKER]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("Docker's default set"));
    let o = sysfence(&["policy", "apply", &p]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("give the target"), "{}", stderr(&o));
}

#[test]
fn arch_chooses_the_target_kernels_abis() {
    let docker = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/docker-default.json"
    );
    let test = |arch: &str, call: &[&str]| {
        let mut args = vec![
            "--arch",
            arch,
            "policy",
            "test",
            docker,
            "--caps",
            "CAP_CHOWN",
            "--json",
            "--",
        ];
        args.extend_from_slice(call);
        let o = sysfence(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        stdout(&o)
    };
    // aarch64's personality is 92, socket 198; arm's socket 281.
    assert!(test("aarch64", &["personality", "8"]).contains("\"allow\""));
    assert!(test("aarch64", &["socket", "40"]).contains("errno"));
    assert!(test("aarch64", &["92", "1"]).contains("errno"));
    let o = sysfence(&[
        "--arch", "aarch64", "policy", "test", docker, "--caps", "", "--abi", "arm", "--",
        "socket", "2",
    ]);
    assert!(stdout(&o).contains("allow"), "{}", stderr(&o));
    // The environment says it too; an ABI of another family is a usage error.
    let o = Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .env("SYSFENCE_ARCH", "aarch64")
        .args([
            "policy", "test", docker, "--caps", "", "--abi", "x86_64", "--", "read",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("not of the target arm64"),
        "{}",
        stderr(&o)
    );
    // Names of no arm64 ABI are reported as for any kernel.
    let o = sysfence(&["--arch", "aarch64", "policy", "check", docker]);
    assert!(
        stderr(&o).contains("unknown on every ABI of this kernel"),
        "{}",
        stderr(&o)
    );
    assert!(stderr(&o).contains("socketcall"), "{}", stderr(&o));
    // ARM's private calls are the arm ABI's (folded), not unknown.
    assert!(!stderr(&o).contains("set_tls"), "{}", stderr(&o));
    let help = stdout(&sysfence(&["--help"]));
    assert!(
        help.contains("--arch") && help.contains("aarch64"),
        "{help}"
    );
}
