// SPDX-License-Identifier: GPL-2.0
//! Host tests of the offline tools: every answer must be the engine's, and
//! the rule named must be one that gives it.

use super::call::{calls_of, decide, parse_call, By, Call};
use super::check::check_one;
use super::show::shown;
use super::*;
use crate::policy::native::PolicyFile;
use crate::policy::target;
use sysfence_abi::proto::{action, Abi, Arch};

const DOCKER: &str = include_str!("../../../../tests/fixtures/docker-default.json");
const DENY_ERRNO: &str =
    include_str!("../../../../tests/differential/profiles/denylist-errno.json");
const DENY_KILL: &str = include_str!("../../../../tests/differential/profiles/denylist-kill.json");
const LOG: &str = include_str!("../../../../tests/differential/profiles/log.json");

const NATIVE: &str = "default: errno
defaultErrno: 13
rules:
  - {syscalls: [getppid, read], action: allow}
  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 40}]}
  - {syscalls: [socket], action: allow}
  - {syscalls: [mount], action: kill-process, abis: [x86_64]}
  - {syscalls: [personality], action: log, args: [{index: 0, op: masked-eq, value: 0xff, valueTwo: 8}]}
";

/// [`NATIVE`] for the target family: its `abis: [x86_64]` rule names the
/// target's 64-bit ABI.
fn native() -> String {
    let abi = target::native_abi().name();
    NATIVE.replace("abis: [x86_64]", &format!("abis: [{abi}]"))
}

const RESOURCE: &str = "apiVersion: sysfence.dev/v1alpha1
kind: SyscallPolicy
metadata: {name: web}
spec:
  mode: audit
  containers: [nginx]
  default: allow
  rules:
    - {syscalls: [mount], action: errno, errno: 1}
";

/// A context as `--caps LIST --kernel 6.12.0` gives it (`None`: no --caps).
fn ctx(caps: Option<&str>) -> Context {
    Context::new(&Conditions {
        caps: caps.map(str::to_string),
        kernel: Some("6.12.0".into()),
    })
    .unwrap()
}

fn loaded(text: &str, caps: Option<&str>) -> Loaded {
    parse("policy", text, &ctx(caps)).unwrap()
}

fn compiled(l: &Loaded) -> Compiled {
    Compiled::of_policy(&l.policy).unwrap().1
}

fn call(abi: Abi, name: &str, args: &[u64]) -> Call {
    let mut words = vec![name.to_string()];
    words.extend(args.iter().map(|a| format!("{a:#x}")));
    parse_call(abi, &words).unwrap()
}

/// Writes `text` to a file of its own, for the tools that read files.
fn file(name: &str, text: &str) -> String {
    let dir = std::env::temp_dir().join(format!("sysfence-offline-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join(name);
    std::fs::write(&f, text).unwrap();
    f.to_str().unwrap().to_string()
}

#[test]
fn docker_caps_are_the_fourteen_docker_grants() {
    let c = docker_caps();
    assert_eq!(c.len(), 14);
    assert!(c.contains("CAP_SYS_CHROOT") && !c.contains("CAP_SYS_ADMIN"));
}

#[test]
fn the_three_formats_are_read_with_the_place_of_each_rule() {
    let n = loaded(NATIVE, None);
    assert_eq!(n.format, Format::Native);
    assert_eq!(
        n.origins,
        ["rules[0]", "rules[1]", "rules[2]", "rules[3]", "rules[4]"]
    );
    let r = loaded(RESOURCE, None);
    assert_eq!(r.format, Format::SyscallPolicy);
    assert_eq!(r.origins, ["spec.rules[0]"]);
    assert_eq!(
        r.policy.rules[0].action,
        crate::policy::native::ActionName::Log,
        "audit"
    );
    let o = loaded(DOCKER, Some(""));
    assert_eq!(o.format, Format::SeccompProfile);
    assert_eq!(o.origins.len(), o.policy.rules.len());
    assert_eq!(o.origins[0], "syscalls[0]");
    // An ia32 multiplexer twin names the entry it comes from.
    let k = loaded(DENY_ERRNO, None);
    assert_eq!(k.origins.len(), k.policy.rules.len());
    assert!(
        k.origins
            .iter()
            .any(|x| x == "syscalls[1] (its ia32 socketcall form, arg0 == 1, for socket)"),
        "{:?}",
        k.origins
    );
}

#[test]
fn without_caps_a_profile_gets_dockers_and_with_them_its_own() {
    let x = Abi::X86_64;
    let chroot = |l: &Loaded| compiled(l).decide(x, 161, &[0; 6]);
    assert_eq!(chroot(&loaded(DOCKER, None)), action::ALLOW);
    assert_eq!(chroot(&loaded(DOCKER, Some(""))), action::ERRNO | 1);
    let mount = |l: &Loaded| compiled(l).decide(x, 165, &[0; 6]);
    assert_eq!(mount(&loaded(DOCKER, Some("sys_admin"))), action::ALLOW);
    // minKernel against --kernel: ptrace needs 4.8 without CAP_SYS_PTRACE.
    let old = Context::new(&Conditions {
        caps: None,
        kernel: Some("4.4.0".into()),
    })
    .unwrap();
    let l = parse("p", DOCKER, &old).unwrap();
    assert_eq!(compiled(&l).decide(x, 101, &[0; 6]), action::ERRNO | 1);
}

#[test]
fn check_accepts_valid_files_of_each_format() {
    for (name, text) in [("n.yaml", NATIVE), ("r.yaml", RESOURCE), ("d.json", DOCKER)] {
        let f = file(name, text);
        let c = check_one(&f, &ctx(Some("")), false);
        assert!(c.ok, "{name}: {:?}", c.error);
        assert!(c.wire_bytes.unwrap() > 0);
    }
}

#[test]
fn check_errors_name_the_file_and_where() {
    let cases = [
        (
            "bad.yaml",
            "default: allow\nrules:\n  - {syscalls: [read], action: deny}\n",
            "rules[0].action: unknown variant `deny`",
        ),
        ("bad2.yaml", "default: allow\nrules:\n  - {syscalls: [read], action: deny}\n", "(line 3)"),
        (
            "bad.json",
            "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"read\"], \"action\": \"SCMP_ACT_NOPE\"}]}",
            "syscalls[0]: unknown action SCMP_ACT_NOPE",
        ),
        (
            "typo.json",
            "{\"defaultAction\": \"SCMP_ACT_ALLOW\",\n \"sycalls\": []}",
            "line 2 column",
        ),
        (
            "bad-r.yaml",
            &RESOURCE.replace("errno: 1}", "errno: 1, priority: 3}"),
            "spec.rules[0].priority: unknown field `priority`",
        ),
        ("names.yaml", "default: allow\nrules: [{syscalls: [frobnicate], action: allow}]\n", "unknown syscall `frobnicate`"),
        ("missing.yaml", "", "missing field `default`"),
    ];
    for (name, text, want) in cases {
        let f = file(name, text);
        let c = check_one(&f, &ctx(None), false);
        let e = c.error.unwrap_or_default();
        assert!(
            !c.ok && e.starts_with(&format!("{f}: ")) && e.contains(want),
            "{name}: {e}"
        );
    }
    let gone = check_one("/nonexistent/p.yaml", &ctx(None), false);
    assert!(gone.error.unwrap().starts_with("/nonexistent/p.yaml: "));
}

#[test]
fn strict_refuses_unknown_names_and_rules_left_out() {
    let unknown = file(
        "unknown.json",
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["getppid","frobnicate"],"action":"SCMP_ACT_ERRNO"}]}"#,
    );
    assert!(check_one(&unknown, &ctx(None), false).ok);
    let c = check_one(&unknown, &ctx(None), true);
    assert!(!c.ok);
    let e = c.error.unwrap();
    assert!(
        e.contains("--strict: 1 syscall name(s) unknown") && e.contains("frobnicate"),
        "{e}"
    );
    let docker = file("docker.json", DOCKER);
    assert!(check_one(&docker, &ctx(None), false).ok);
    let e = check_one(&docker, &ctx(None), true).error.unwrap();
    assert!(
        e.contains("left out by their conditions") && e.contains("needs CAP_SYS_ADMIN"),
        "{e}"
    );
    // A native file has neither.
    assert!(check_one(&file("n.yaml", NATIVE), &ctx(None), true).ok);
}

#[test]
fn test_names_the_deciding_rule() {
    let l = loaded(NATIVE, None);
    let c = compiled(&l);
    let x = Abi::X86_64;
    let v = |abi, name, args: &[u64]| decide(&l, &c, call(abi, name, args));
    let got = v(x, "getppid", &[]);
    assert_eq!((got.action, got.by), (action::ALLOW, By::Rule(0)));
    let got = v(x, "socket", &[40]);
    assert_eq!((got.action, got.by), (action::ERRNO | 97, By::Rule(1)));
    // The argument rule holds at the kernel's width: socket's family is an int.
    let got = v(x, "socket", &[40 | 1 << 32]);
    assert_eq!((got.action, got.by), (action::ERRNO | 97, By::Rule(1)));
    let got = v(x, "socket", &[2]);
    assert_eq!((got.action, got.by), (action::ALLOW, By::Rule(2)));
    let got = v(x, "mount", &[]);
    assert_eq!((got.action, got.by), (action::KILL_PROCESS, By::Rule(3)));
    let got = v(Abi::Ia32, "mount", &[]);
    assert_eq!((got.action, got.by), (action::ERRNO | 13, By::Default));
    let got = v(x, "personality", &[0x108]);
    assert_eq!((got.action, got.by), (action::LOG, By::Rule(4)));
    let got = v(x, "personality", &[0x109]);
    assert_eq!((got.action, got.by), (action::ERRNO | 13, By::Default));
    let got = v(Abi::X32, "read", &[]);
    assert_eq!((got.action, got.by), (action::KILL_PROCESS, By::BadAbi));
    let got = v(x, "uretprobe", &[]);
    assert_eq!((got.action, got.by), (action::ALLOW, By::Uretprobe));
    assert!(super::call::line(&l, &got)
        .ends_with("allow by uretprobe (x86_64 uretprobe is never filtered, as by seccomp)"));
    let line = super::call::line(&l, &v(x, "socket", &[40, 1]));
    assert_eq!(
        line,
        "x86_64 socket(0x28, 0x1) [nr 41]: errno(97) by rules[1] (socket: errno(97) if arg0 == 0x28)"
    );
}

#[test]
fn calls_are_read_as_the_kernel_dispatches_them() {
    let w = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let c = parse_call(Abi::X86_64, &w(&["41", "-1", "0x28", "7"])).unwrap();
    assert_eq!(
        (c.abi, c.nr, c.args, c.given),
        (Abi::X86_64, 41, [u64::MAX, 40, 7, 0, 0, 0], 3)
    );
    // The x32 bit makes a 64-bit call an x32 one; ia32 registers are 32 bits.
    let c = parse_call(Abi::X86_64, &w(&["0x40000001"])).unwrap();
    assert_eq!((c.abi, c.nr), (Abi::X32, 1));
    let c = parse_call(Abi::Ia32, &w(&["mount", "-1"])).unwrap();
    assert_eq!((c.nr, c.args[0]), (21, 0xffff_ffff));
    let c = parse_call(Abi::X86_64, &w(&["0x1_0000_0029"]));
    assert!(c.is_err(), "not an integer");
    let c = parse_call(Abi::X86_64, &w(&["0x100000029"])).unwrap();
    assert_eq!(c.nr, 41, "the low 32 bits");
    assert!(parse_call(Abi::X86_64, &w(&["frobnicate"]))
        .unwrap_err()
        .0
        .contains("no syscall `frobnicate` on x86_64"));
    assert!(parse_call(Abi::X86_64, &w(&["read", "ten"]))
        .unwrap_err()
        .0
        .contains("argument 0: `ten`"));
    assert!(parse_call(
        Abi::X86_64,
        &w(&["read", "1", "2", "3", "4", "5", "6", "7"])
    )
    .is_err());
    assert!(parse_call(Abi::X86_64, &[]).is_err());
}

#[test]
fn a_calls_list_has_one_call_a_line_with_its_abi_if_named() {
    let c = calls_of(
        "# a comment\nmount\n\n  ia32 socket 40 1\nx32 0x40000001\n",
        Abi::X86_64,
    )
    .unwrap();
    let got: Vec<(Abi, u32, u64)> = c.iter().map(|c| (c.abi, c.nr, c.args[0])).collect();
    assert_eq!(
        got,
        [
            (Abi::X86_64, 165, 0),
            (Abi::Ia32, 359, 40),
            (Abi::X32, 1, 0)
        ]
    );
    let e = calls_of("read\nia32 frobnicate\n", Abi::X86_64)
        .unwrap_err()
        .0;
    assert_eq!(
        e,
        "policy test --calls: line 2: no syscall `frobnicate` on ia32"
    );
}

/// Arguments that exercise the profiles' argument rules.
const ARGS: [[u64; 6]; 8] = [
    [0; 6],
    [u64::MAX; 6],
    [40, 1, 0, 0, 0, 0],
    [2, 1, 0, 0, 0, 0],
    [8, 0, 0, 0, 0, 0],
    [0xffff_ffff, 0x5412, 0, 0, 0, 0],
    [0x2001_0000, 0, 0, 0, 0, 0],
    [22, 0, 0, 0, 0, 0],
];

/// For every call of every ABI, with each of [`ARGS`]: `policy test`'s
/// answer is the engine's, and the rule it names matches the call with that very
/// action (or nothing matches and it is the default).
fn agrees_everywhere(text: &str, caps: Option<&str>) {
    let l = loaded(text, caps);
    let c = compiled(&l);
    for abi in target::arch().abis() {
        for nr in 0..1024u32 {
            for args in &ARGS {
                let v = decide(
                    &l,
                    &c,
                    Call {
                        abi: *abi,
                        nr,
                        args: *args,
                        given: 6,
                    },
                );
                if v.by != By::Uretprobe {
                    assert_eq!(v.action, c.tables().decide(*abi, nr, args), "{abi:?} {nr}");
                }
                assert_ne!(v.by, By::Unexplained, "{abi:?} {nr} {args:?}");
                if let By::Rule(i) = v.by {
                    let r = &l.policy.rules[i];
                    let value = crate::policy::native::action_value(r.action, r.errno, "").unwrap();
                    assert_eq!(value, v.action);
                }
            }
        }
    }
}

/// Runs `f` with each architecture family as the target.
fn on_every_family(f: impl Fn()) {
    for arch in Arch::ALL {
        target::with(*arch, &f);
    }
}

#[test]
fn test_agrees_with_the_engine_on_the_differential_profiles() {
    on_every_family(differential_profiles_agree);
}

fn differential_profiles_agree() {
    let d = "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE";
    agrees_everywhere(DOCKER, Some(d));
    agrees_everywhere(DOCKER, Some(&format!("{d},CAP_SYS_ADMIN,CAP_SYS_PTRACE")));
    agrees_everywhere(DOCKER, Some(""));
    agrees_everywhere(DENY_ERRNO, Some(""));
    agrees_everywhere(DENY_KILL, Some(""));
    agrees_everywhere(LOG, Some(""));
    agrees_everywhere(&native(), None);
    // Spot checks through the manager's other path to the engine.
    let l = loaded(DENY_ERRNO, Some(""));
    let c = compiled(&l);
    let spots = match target::arch() {
        Arch::X86 => [
            (Abi::X86_64, 41, 40),
            (Abi::Ia32, 102, 3),
            (Abi::X86_64, 135, 9),
        ],
        Arch::Arm64 => [
            (Abi::Aarch64, 198, 40),
            (Abi::Arm, 281, 3),
            (Abi::Aarch64, 92, 9),
        ],
    };
    for (abi, nr, a0) in spots {
        let args = [a0, 0, 0, 0, 0, 0];
        let v = decide(
            &l,
            &c,
            Call {
                abi,
                nr,
                args,
                given: 1,
            },
        );
        assert_eq!(
            v.action,
            crate::policy::native::decide_with(&l.policy, abi, nr, args)
        );
    }
}

/// The gate's shortcuts (one-comparison "allow" rules it tests in its fast
/// path) allow a call only when the full evaluation allows it, for every
/// call of every ABI with each of [`ARGS`] and with each shortcut's own
/// value, that value with high bits set and the value next to it.
fn shortcuts_agree(text: &str, caps: Option<&str>) -> usize {
    let l = loaded(text, caps);
    let c = compiled(&l);
    let t = c.tables();
    let mut found = 0;
    for abi in target::arch().abis() {
        let at = &t.head.abis[abi.index()];
        let own: Vec<u64> = at.inline[..at.inline_len as usize]
            .iter()
            .map(|s| u64::from(s.value))
            .flat_map(|v| [v, v | 1 << 40, v ^ 1, !v])
            .collect();
        found += at.inline_len as usize;
        for nr in 0..1024u32 {
            for args in ARGS.iter().copied().chain(own.iter().map(|v| [*v; 6])) {
                if t.head.inline_allows(*abi, nr, |i| args[usize::from(i)]) {
                    assert_eq!(
                        t.decide(*abi, nr, &args),
                        action::ALLOW,
                        "{abi:?} {nr} {args:x?}"
                    );
                }
            }
        }
    }
    found
}

#[test]
fn the_shortcuts_keep_a_policy_small() {
    // A compiled policy is the module's `Compiled` (this head, five
    // vectors, a hash and flags) in one allocation: with the shortcuts it
    // must stay in the kernel's 1 KiB class, as it was without them.
    let head = std::mem::size_of::<sysfence_abi::engine::Head>();
    assert!(head + 5 * 24 + 32 <= 1024, "Head is {head} bytes");
}

#[test]
fn the_gates_shortcuts_allow_only_what_the_rules_allow() {
    on_every_family(shortcuts_allow_only_what_the_rules_allow);
}

fn shortcuts_allow_only_what_the_rules_allow() {
    let d = "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE";
    assert!(shortcuts_agree(DOCKER, Some(d)) > 0);
    shortcuts_agree(DOCKER, Some(&format!("{d},CAP_SYS_ADMIN,CAP_SYS_PTRACE")));
    shortcuts_agree(DOCKER, Some(""));
    shortcuts_agree(DENY_ERRNO, Some(""));
    shortcuts_agree(DENY_KILL, Some(""));
    shortcuts_agree(LOG, Some(""));
    shortcuts_agree(&native(), None);
    // Docker's personality values and socket's "not AF_VSOCK" are decided
    // by shortcuts in the fast path; other values are not.
    let l = loaded(DOCKER, Some(d));
    let c = compiled(&l);
    let h = &c.tables().head;
    let fast = |abi, nr, a0: u64| h.inline_allows(abi, nr, |i| if i == 0 { a0 } else { 0 });
    let spots = match target::arch() {
        Arch::X86 => [(Abi::X86_64, 135, 41), (Abi::Ia32, 136, 359)],
        Arch::Arm64 => [(Abi::Aarch64, 92, 198), (Abi::Arm, 136, 281)],
    };
    for (abi, personality, socket) in spots {
        for v in [0, 8, 0x20000, 0x20008, 0xffff_ffff] {
            assert!(fast(abi, personality, v), "{abi:?} personality({v:#x})");
        }
        assert!(!fast(abi, personality, 1));
        assert!(fast(abi, socket, 2));
        assert!(!fast(abi, socket, 40));
    }
}

#[test]
fn show_lists_exactly_the_calls_that_do_not_get_the_default() {
    on_every_family(show_lists_the_calls_without_the_default);
}

fn show_lists_the_calls_without_the_default() {
    for text in [DOCKER, DENY_ERRNO, DENY_KILL, LOG, &native()] {
        let l = loaded(text, Some(""));
        let c = compiled(&l);
        let s = shown(&c, Vec::new());
        let default = c.tables().head.default;
        for (i, abi) in target::arch().abis().iter().enumerate() {
            let a = &s.abis[i];
            assert_eq!(
                a.described,
                l.policy.abis.iter().any(|x| Abi::from(*x) == *abi)
            );
            for nr in 0..1024u32 {
                let listed = a.syscalls.iter().find(|x| x.nr == nr);
                let answers: Vec<u32> = ARGS.iter().map(|g| c.decide(*abi, nr, g)).collect();
                match listed {
                    None if a.described => {
                        assert!(answers.iter().all(|x| *x == default), "{abi:?} {nr}")
                    }
                    None => assert!(answers.iter().all(|x| *x == c.tables().head.bad_abi)),
                    Some(x) if x.rules.is_empty() => {
                        assert!(answers.iter().all(|y| act(*y) == x.action), "{abi:?} {nr}")
                    }
                    Some(x) => {
                        assert!(answers
                            .iter()
                            .all(|y| act(*y) == x.action
                                || x.rules.iter().any(|r| r.action == act(*y))))
                    }
                }
            }
        }
    }
}

#[test]
fn show_table_of_a_small_policy() {
    let l = loaded(NATIVE, None);
    let t = super::show::table(&shown(&compiled(&l), Vec::new()));
    let want = "default: errno(13)
badAbi: kill-process (x32)
ABI       NR  SYSCALL                  ACTION         WHEN
x86_64     0  read                     allow
x86_64    41  socket                   errno(97)      arg0 == 0x28
x86_64    41  socket                   allow          otherwise
x86_64   110  getppid                  allow
x86_64   135  personality              log            arg0 & 0xff == 0x8
x86_64   135  personality              errno(13)      otherwise
x86_64   165  mount                    kill-process
x86_64   335  uretprobe                allow          never filtered, as by seccomp
ia32       3  read                     allow
ia32      64  getppid                  allow
ia32     136  personality              log            arg0 & 0xff == 0x8
ia32     136  personality              errno(13)      otherwise
ia32     359  socket                   errno(97)      arg0 == 0x28
ia32     359  socket                   allow          otherwise
";
    assert_eq!(t, want);
}

#[test]
fn canonical_lines_compare_decisions_not_text() {
    let lines = |t: &str| canonical_lines(&PolicyFile::parse(t).unwrap()).unwrap();
    let a = lines("default: allow\nrules:\n  - {syscalls: [mount], action: errno}\n  - {syscalls: [ptrace], action: kill-process}\n");
    // Other order, a rule equal to the default, the same errno spelled out.
    let b = lines("default: allow\nrules:\n  - {syscalls: [ptrace], action: kill-process}\n  - {syscalls: [read], action: allow}\n  - {syscalls: [mount], action: errno, errno: 1}\n");
    assert_eq!(a, b);
    let c = lines("default: allow\nrules:\n  - {syscalls: [mount], action: errno, errno: 13}\n  - {syscalls: [ptrace], action: kill-process}\n");
    assert_ne!(a, c);
}

/// The canonical lines of a converted text, read back.
fn converted_lines(text: &str) -> Vec<String> {
    canonical_lines(&loaded(text, Some("")).policy).unwrap()
}

#[test]
fn native_to_oci_and_back_decides_alike() {
    // Rules on every ABI the policy lists: what an OCI profile can say.
    let native = "default: errno\nabis: [x86_64, ia32]\nrules:\n  - {syscalls: [read, write, socketcall], action: allow}\n  - {syscalls: [socket], action: allow, args: [{index: 0, op: ne, value: 40}]}\n  - {syscalls: [mount], action: kill-thread}\n";
    let p = PolicyFile::parse(native).unwrap();
    let oci_text = serde_json::to_string(&crate::policy::oci::export(&p)).unwrap();
    assert_eq!(
        crate::policy::input::detect(&oci_text),
        crate::policy::input::Format::SeccompProfile
    );
    assert_eq!(converted_lines(&oci_text), canonical_lines(&p).unwrap());
    let back = loaded(&oci_text, Some(""));
    let native_again = serde_norway::to_string(&back.policy).unwrap();
    assert_eq!(converted_lines(&native_again), canonical_lines(&p).unwrap());
}

#[test]
fn native_to_syscallpolicy_and_back_decides_alike() {
    let p = loaded(NATIVE, None).policy;
    let r = crate::policy::resource::SyscallPolicy::of_policy("web", p.clone());
    let text = r.to_yaml().unwrap();
    let back = loaded(&text, None);
    assert_eq!(back.format, Format::SyscallPolicy);
    assert_eq!(back.policy, p);
    let native_again = serde_norway::to_string(&back.policy).unwrap();
    assert_eq!(converted_lines(&native_again), canonical_lines(&p).unwrap());
}

#[test]
fn a_docker_profile_converts_to_native_unchanged_in_effect() {
    let l = loaded(DOCKER, Some(""));
    let native = serde_norway::to_string(&l.policy).unwrap();
    assert_eq!(
        converted_lines(&native),
        canonical_lines(&l.policy).unwrap()
    );
}
