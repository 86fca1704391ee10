// SPDX-License-Identifier: GPL-2.0
//! The wire encodings of a few policies, pinned byte for byte in
//! `tests/fixtures/wire/*.bin`: Docker's default profile (with Docker's
//! capabilities, with none, with CAP_SYS_ADMIN too, and with `bench load --distinct`'s extra
//! rule), the differential profiles, and native policies with every kind
//! of rule and an `objects` section. A change to the encoder that keeps the
//! encoding keeps these; one that changes the wire on purpose rewrites
//! them with `SYSFENCE_BLESS_WIRE=1 cargo test -p sysfence wire_pinned`
//! (and says why in its commit).
//!
//! The files were first written by the encoder as it was before issue 20's
//! rewrite (the commit that added this test). Host byte order: the module
//! runs on x86_64 only.

use crate::policy::native::PolicyFile;
use crate::policy::oci::{self, Context};

const DOCKER: &str = include_str!("../../../tests/fixtures/docker-default.json");

/// Docker's default capability set (bench/guest/suite.sh's `$D`).
const DOCKER_CAPS: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

const NATIVE: &str = "default: errno
defaultErrno: 13
abis: [x86_64, ia32, x32]
badAbi: kill-thread
record: true
rules:
  - {syscalls: [getppid, read, write, socketcall, read], action: allow}
  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 40}]}
  - {syscalls: [socket], action: allow}
  - {syscalls: [mount, umount2], action: kill-process, abis: [x86_64]}
  - {syscalls: [personality], action: log, args: [{index: 0, op: masked-eq, value: 0xff, valueTwo: 8}]}
  - {syscalls: [clone, clone3], action: errno, errno: 0, abis: [ia32, x32]}
  - {syscalls: [ioctl], action: allow, args: [{index: 1, op: ne, value: 0x5412}, {index: 2, op: lt, value: 7}]}
  - {syscalls: [kill, tkill], action: trap}
  - {syscalls: [mmap], action: errno, errno: 1, args: [{index: 1, op: ge, value: 0x100000000}, {index: 2, op: le, value: 3}, {index: 3, op: gt, value: 1}]}
  - {syscalls: [ptrace], action: kill-thread}
  - {syscalls: [read], action: log}
";

const OBJECTS: &str = "default: allow
abis: [x86_64]
rules:
  - {syscalls: [mount], action: errno, errno: 1}
objects:
  defaults: {exec: allow, bind: log}
  files:
    - {path: /etc/shadow, access: [read, write], action: errno, errno: 13}
    - {prefix: /secret, action: kill-process}
  exec:
    - {path: /usr/bin/curl, action: errno}
  sockets:
    - {family: vsock, type: stream, action: errno, errno: 97}
  connect:
    - {address: 127.0.0.0/8, ports: 1-1023, action: errno, errno: 111}
    - {address: '::1', ports: 22, action: errno}
    - {unix: /run/docker.sock, action: kill-process}
  bind:
    - {unixPrefix: /run/x, action: log}
";

fn import(text: &str, caps: &[&str]) -> PolicyFile {
    let ctx = Context {
        caps: caps.iter().map(|c| c.to_string()).collect(),
        kernel: "6.12.117".into(),
    };
    oci::import(text, &ctx).expect("the profile imports").policy
}

/// The policies pinned, by file name.
fn cases() -> Vec<(&'static str, PolicyFile)> {
    let docker = import(DOCKER, DOCKER_CAPS);
    // `bench load --distinct`'s policy number 12345.
    let mut distinct = docker.clone();
    distinct.rules.push(crate::cli::bench::distinct_rule(12345));
    let profile = |name: &str| match name {
        "denylist-errno" => {
            include_str!("../../../tests/differential/profiles/denylist-errno.json")
        }
        "denylist-kill" => include_str!("../../../tests/differential/profiles/denylist-kill.json"),
        _ => include_str!("../../../tests/differential/profiles/log.json"),
    };
    vec![
        ("docker-default", docker),
        ("docker-default-nocaps", import(DOCKER, &[])),
        (
            "docker-default-sysadmin",
            import(
                DOCKER,
                &[DOCKER_CAPS, &["CAP_SYS_ADMIN", "CAP_DAC_READ_SEARCH"]].concat(),
            ),
        ),
        ("docker-default-distinct", distinct),
        ("denylist-errno", import(profile("denylist-errno"), &[])),
        ("denylist-kill", import(profile("denylist-kill"), &[])),
        ("log", import(profile("log"), &[])),
        ("native", PolicyFile::parse(NATIVE).unwrap()),
        ("objects", PolicyFile::parse(OBJECTS).unwrap()),
    ]
}

#[cfg(target_endian = "little")]
#[test]
fn encodings_are_byte_identical_to_the_pinned_ones() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wire");
    let bless = std::env::var_os("SYSFENCE_BLESS_WIRE").is_some();
    let mut wrong = Vec::new();
    for (name, p) in cases() {
        let got = p.to_wire().unwrap_or_else(|e| panic!("{name}: {e}"));
        let path = dir.join(format!("{name}.bin"));
        if bless {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if got != want {
            let at = got.iter().zip(&want).take_while(|(a, b)| a == b).count();
            wrong.push(format!(
                "{name}: {} bytes, pinned {}; first difference at byte {at}",
                got.len(),
                want.len()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The tables shared-abi's engine compiles from each pinned encoding, as
/// an FNV-1a hash of every field of every table, pinned: a change to the
/// engine's validation or compilation that is meant to be invisible (a
/// faster parse, fewer passes) must keep every one. A change to the
/// tables on purpose updates the list (the failure prints the new one)
/// and says why in its commit.
#[cfg(target_endian = "little")]
#[test]
fn compiled_tables_are_the_pinned_ones() {
    use crate::policy::compiled::Compiled;
    const PINNED: &[(&str, u64)] = &[
        ("docker-default", 0xe0749ba4d31b8c89),
        ("docker-default-nocaps", 0xb2793c88e6ec1709),
        ("docker-default-sysadmin", 0xd412a7f507d2add7),
        ("docker-default-distinct", 0xae34955358a7d100),
        ("denylist-errno", 0x983deeb959fe2360),
        ("denylist-kill", 0x02e544b7e7779f59),
        ("log", 0x47ff42050f1818cf),
        ("native", 0x683c12b04c48531e),
        ("objects", 0x39411d7bfe455c64),
    ];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/wire");
    let mut got = Vec::new();
    for (name, _) in cases() {
        let path = dir.join(format!("{name}.bin"));
        let wire = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let c = Compiled::of_wire(&wire).unwrap_or_else(|e| panic!("{name}: {e}"));
        let t = c.tables();
        let mut b: Vec<u64> = vec![
            t.head.default.into(),
            t.head.bad_abi.into(),
            t.head.record.into(),
        ];
        for a in &t.head.abis {
            b.extend_from_slice(&[
                a.present.into(),
                a.exc_start.into(),
                a.exc_len.into(),
                a.exc_hint,
                a.inline_len.into(),
            ]);
            b.extend_from_slice(&a.allow);
            b.extend(a.inline_at.iter().map(|x| u64::from(*x)));
            for s in &a.inline {
                b.extend_from_slice(&[
                    s.nr.into(),
                    s.index.into(),
                    s.negate.into(),
                    s.mask.into(),
                    s.value.into(),
                ]);
            }
        }
        for e in t.exceptions {
            b.extend_from_slice(&[
                e.nr.into(),
                e.len.into(),
                e.start.into(),
                e.base.map_or(u64::MAX, u64::from),
            ]);
        }
        for r in t.rules {
            b.extend_from_slice(&[r.action.into(), r.cmp_start.into(), r.cmp_len.into()]);
        }
        for c in t.cmps {
            b.extend_from_slice(&[
                c.index.into(),
                c.op as u64,
                c.value,
                c.value_two,
                c.arg_mask,
            ]);
        }
        b.extend(t.objects.iter().map(|x| u64::from(*x)));
        let h = b
            .iter()
            .flat_map(|w| w.to_le_bytes())
            .fold(0xcbf2_9ce4_8422_2325u64, |h, x| {
                (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3)
            });
        got.push((name, h));
    }
    let list: String = got
        .iter()
        .map(|(n, h)| format!("        (\"{n}\", {h:#018x}),\n"))
        .collect();
    assert_eq!(got.as_slice(), PINNED, "the tables now:\n{list}");
}
