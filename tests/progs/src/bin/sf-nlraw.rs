// SPDX-License-Identifier: GPL-2.0
//! `sf-nlraw CGROUP_ID`: sends the sysfence family one malformed request of
//! each class the module must refuse, hand-built byte by byte (the manager
//! would never send them), and prints one line per class:
//! `CLASS errno=N msg=TEXT` (TEXT: the extended-ack message, or `-`).
//! The guest test compares the lines with what each class must get and
//! checks that the module's state did not change.

use sysfence_abi::nla::{Writer, F_NESTED, F_NET_BYTEORDER};
use sysfence_abi::proto::{action, attr, Abi, Cmd, Op};
use sysfence_testprogs::nl::Sock;

/// Builds attributes with a closure over a 64 KiB scratch buffer.
fn build(f: impl FnOnce(&mut Writer<'_>)) -> Vec<u8> {
    let mut b = vec![0u8; 1 << 16];
    let mut w = Writer::new(&mut b);
    f(&mut w);
    let n = w.len();
    b.truncate(n);
    b
}

fn rule(w: &mut Writer<'_>, nr: u32, act: u32) {
    w.nest(attr::ABI_RULE, |w| {
        w.put_u32(attr::RULE_NR, nr)?;
        w.put_u32(attr::RULE_ACTION, act)
    })
    .unwrap();
}

/// A request: `CGROUP_ID` and a `POLICY` nest whose body `body` writes.
fn set_with(cg: u64, body: impl FnOnce(&mut Writer<'_>)) -> Vec<u8> {
    build(|w| {
        w.put_u64(attr::CGROUP_ID, cg).unwrap();
        w.nest(attr::POLICY, |w| {
            body(w);
            Ok(())
        })
        .unwrap();
    })
}

/// A valid policy body plus whatever `extra` adds inside the native
/// family's first ABI (x86_64 or aarch64).
fn abi_with(extra: impl FnOnce(&mut Writer<'_>)) -> impl FnOnce(&mut Writer<'_>) {
    move |w| {
        w.put_u32(attr::POLICY_DEFAULT, action::ALLOW).unwrap();
        w.nest(attr::POLICY_ABI, |w| {
            w.put_u32(attr::ABI_ID, Abi::ALL[0] as u32)?;
            extra(w);
            Ok(())
        })
        .unwrap();
    }
}

fn main() {
    let cg: u64 = match std::env::args().nth(1).and_then(|s| s.parse().ok()) {
        Some(v) => v,
        None => {
            eprintln!("usage: sf-nlraw CGROUP_ID");
            std::process::exit(2);
        }
    };
    let (mut s, fam) = Sock::open_family_or_exit("sf-nlraw");
    let set = Cmd::PolicySet as u8;
    let mut classes: Vec<(&str, u8, Vec<u8>)> = Vec::new();

    // Framing.
    classes.push(("empty-set", set, vec![]));
    let mut t = set_with(cg, abi_with(|_| {}));
    let whole = t.len();
    t.truncate(whole - 6); // the policy nest now runs past the message
    classes.push(("truncated-attribute", set, t));
    classes.push(("short-header", set, vec![8, 0, 1, 0, 0, 0]));
    classes.push(("length-below-header", set, vec![2, 0, 1, 0, 0, 0, 0, 0]));
    // Top-level attributes.
    classes.push((
        "unknown-attribute",
        set,
        build(|w| w.put_u64(63, 1).unwrap()),
    ));
    classes.push((
        "repeated-cgroup",
        set,
        build(|w| {
            w.put_u64(attr::CGROUP_ID, cg).unwrap();
            w.put_u64(attr::CGROUP_ID, cg).unwrap();
        }),
    ));
    classes.push((
        "cgroup-wrong-size",
        set,
        build(|w| w.put_u32(attr::CGROUP_ID, 1).unwrap()),
    ));
    classes.push((
        "net-byteorder",
        set,
        build(|w| w.put_u64(attr::CGROUP_ID | F_NET_BYTEORDER, cg).unwrap()),
    ));
    classes.push((
        "cgroup-flagged-nested",
        set,
        build(|w| w.put_u64(attr::CGROUP_ID | F_NESTED, cg).unwrap()),
    ));
    classes.push((
        "missing-policy",
        set,
        build(|w| w.put_u64(attr::CGROUP_ID, cg).unwrap()),
    ));
    classes.push((
        "missing-cgroup",
        set,
        build(|w| {
            w.nest(attr::POLICY, |w| {
                w.put_u32(attr::POLICY_DEFAULT, action::ALLOW)
            })
            .unwrap();
        }),
    ));
    classes.push((
        "policy-not-nested",
        set,
        build(|w| {
            w.put_u64(attr::CGROUP_ID, cg).unwrap();
            w.put_u32(attr::POLICY, 0).unwrap();
        }),
    ));
    classes.push((
        "stats-in-a-set",
        set,
        build(|w| {
            w.put_u64(attr::CGROUP_ID, cg).unwrap();
            w.nest(attr::STATS, |_| Ok(())).unwrap();
        }),
    ));
    // Policy contents.
    classes.push(("no-default", set, set_with(cg, |_| {})));
    classes.push((
        "bad-default-action",
        set,
        set_with(cg, |w| {
            w.put_u32(attr::POLICY_DEFAULT, 0x1234_0000).unwrap()
        }),
    ));
    classes.push((
        "errno-out-of-range",
        set,
        set_with(cg, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ERRNO | 5000)
                .unwrap()
        }),
    ));
    classes.push((
        "repeated-default",
        set,
        set_with(cg, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW).unwrap();
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW).unwrap();
        }),
    ));
    classes.push((
        "unknown-policy-attribute",
        set,
        set_with(cg, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW).unwrap();
            w.put_u32(40, 0).unwrap();
        }),
    ));
    classes.push((
        "unknown-abi",
        set,
        set_with(cg, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW).unwrap();
            w.nest(attr::POLICY_ABI, |w| w.put_u32(attr::ABI_ID, 9))
                .unwrap();
        }),
    ));
    classes.push((
        "abi-twice",
        set,
        set_with(cg, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW).unwrap();
            for _ in 0..2 {
                w.nest(attr::POLICY_ABI, |w| {
                    w.put_u32(attr::ABI_ID, Abi::ALL[0] as u32)
                })
                .unwrap();
            }
        }),
    ));
    classes.push((
        "abi-without-id",
        set,
        set_with(cg, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW).unwrap();
            w.nest(attr::POLICY_ABI, |_| Ok(())).unwrap();
        }),
    ));
    classes.push((
        "syscall-out-of-range",
        set,
        set_with(cg, abi_with(|w| rule(w, 1024, action::ALLOW))),
    ));
    classes.push((
        "syscall-huge",
        set,
        set_with(cg, abi_with(|w| rule(w, u32::MAX, action::ALLOW))),
    ));
    classes.push((
        "rule-without-action",
        set,
        set_with(
            cg,
            abi_with(|w| {
                w.nest(attr::ABI_RULE, |w| w.put_u32(attr::RULE_NR, 1))
                    .unwrap();
            }),
        ),
    ));
    classes.push((
        "rule-bad-action",
        set,
        set_with(cg, abi_with(|w| rule(w, 1, 0x0001_0000))),
    ));
    let cmp = |idx: u32, op: u32, v2: Option<u64>| {
        move |w: &mut Writer<'_>| {
            w.nest(attr::ABI_RULE, |w| {
                w.put_u32(attr::RULE_NR, 41)?;
                w.put_u32(attr::RULE_ACTION, action::ERRNO | 1)?;
                w.nest(attr::RULE_ARG, |w| {
                    w.put_u32(attr::ARG_INDEX, idx)?;
                    w.put_u32(attr::ARG_OP, op)?;
                    w.put_u64(attr::ARG_VALUE, 1)?;
                    if let Some(v) = v2 {
                        w.put_u64(attr::ARG_VALUE_TWO, v)?;
                    }
                    Ok(())
                })
            })
            .unwrap();
        }
    };
    classes.push((
        "arg-index-6",
        set,
        set_with(cg, abi_with(cmp(6, Op::Eq as u32, None))),
    ));
    classes.push(("arg-op-0", set, set_with(cg, abi_with(cmp(0, 0, None)))));
    classes.push(("arg-op-99", set, set_with(cg, abi_with(cmp(0, 99, None)))));
    classes.push((
        "masked-eq-without-mask",
        set,
        set_with(cg, abi_with(cmp(0, Op::MaskedEq as u32, None))),
    ));
    classes.push((
        "second-value-on-eq",
        set,
        set_with(cg, abi_with(cmp(0, Op::Eq as u32, Some(1)))),
    ));
    classes.push((
        "seven-comparisons",
        set,
        set_with(
            cg,
            abi_with(|w| {
                w.nest(attr::ABI_RULE, |w| {
                    w.put_u32(attr::RULE_NR, 41)?;
                    w.put_u32(attr::RULE_ACTION, action::ERRNO | 1)?;
                    for i in 0..7 {
                        w.nest(attr::RULE_ARG, |w| {
                            w.put_u32(attr::ARG_INDEX, i % 6)?;
                            w.put_u32(attr::ARG_OP, Op::Eq as u32)?;
                            w.put_u64(attr::ARG_VALUE, 1)
                        })?;
                    }
                    Ok(())
                })
                .unwrap();
            }),
        ),
    ));
    classes.push((
        "deep-nesting",
        set,
        set_with(
            cg,
            abi_with(|w| {
                w.nest(attr::ABI_RULE, |w| {
                    w.put_u32(attr::RULE_NR, 1)?;
                    w.put_u32(attr::RULE_ACTION, action::ALLOW)?;
                    w.nest(attr::RULE_ARG, |w| {
                        w.nest(attr::RULE_ARG, |w| w.nest(attr::RULE_ARG, |_| Ok(())))
                    })
                })
                .unwrap();
            }),
        ),
    ));
    classes.push((
        "too-many-rules",
        set,
        set_with(
            cg,
            abi_with(|w| {
                for i in 0..2049u32 {
                    rule(w, i % 400, action::ERRNO | 1);
                }
            }),
        ),
    ));
    classes.push((
        "no-such-cgroup",
        set,
        set_with(u64::MAX - 1, abi_with(|_| {})),
    ));
    // The root cgroup (id 1): a policy there would hold the operator too.
    classes.push(("root-cgroup", set, set_with(1, abi_with(|_| {}))));
    // Other commands.
    classes.push((
        "delete-with-policy",
        Cmd::PolicyDelete as u8,
        set_with(cg, abi_with(|_| {})),
    ));
    classes.push(("get-without-cgroup", Cmd::PolicyGet as u8, vec![]));
    classes.push(("stats-truncated", Cmd::StatsGet as u8, vec![12, 0, 1, 0, 0]));
    // Batches: refused whole, the valid item before the bad one included
    // (it would allow getppid, which the test's policy refuses).
    let batch = Cmd::PolicySetBatch as u8;
    let item = |w: &mut Writer<'_>, id: u64, body: &dyn Fn(&mut Writer<'_>)| {
        w.nest(attr::BATCH_ITEM, |w| {
            w.put_u64(attr::CGROUP_ID, id)?;
            w.nest(attr::POLICY, |w| {
                body(w);
                Ok(())
            })
        })
        .unwrap();
    };
    let allow_all = |w: &mut Writer<'_>| abi_with(|_| {})(w);
    classes.push(("batch-empty", batch, vec![]));
    classes.push((
        "batch-not-items",
        batch,
        build(|w| w.put_u64(attr::CGROUP_ID, cg).unwrap()),
    ));
    classes.push((
        "batch-item-without-policy",
        batch,
        build(|w| {
            w.nest(attr::BATCH_ITEM, |w| w.put_u64(attr::CGROUP_ID, cg))
                .unwrap();
        }),
    ));
    classes.push((
        "batch-bad-second-policy",
        batch,
        build(|w| {
            item(w, cg, &allow_all);
            item(w, cg.wrapping_add(1), &|w| {
                w.put_u32(attr::POLICY_ABI, 1).unwrap();
            });
        }),
    ));
    classes.push((
        "batch-cgroup-twice",
        batch,
        build(|w| {
            item(w, cg, &allow_all);
            item(w, cg, &allow_all);
        }),
    ));
    classes.push((
        "batch-no-such-cgroup",
        batch,
        build(|w| {
            item(w, cg, &allow_all);
            item(w, u64::MAX - 1, &allow_all);
        }),
    ));
    classes.push((
        "batch-root-cgroup",
        batch,
        build(|w| {
            item(w, cg, &allow_all);
            item(w, 1, &allow_all);
        }),
    ));
    classes.push(("unknown-command", 99, vec![]));
    classes.push(("event-command", Cmd::Event as u8, vec![]));

    for (name, cmd, payload) in classes {
        match s.request(fam, cmd, &payload) {
            Ok((err, msg, _)) => println!("{name} errno={err} msg={msg}"),
            Err(e) => println!("{name} failed={e}"),
        }
    }
}
