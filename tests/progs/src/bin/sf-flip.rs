// SPDX-License-Identifier: GPL-2.0
//! `sf-flip CGROUP_ID[,CGROUP_ID...] SECONDS [MIN_REPLACES]`: sets version
//! A of a policy (errno 13) on each cgroup, then replaces them round-robin
//! as fast as one process can, alternating with version B (errno 14), for
//! SECONDS and until at least MIN_REPLACES were made (at most 10 minutes),
//! ending on A everywhere; prints `replaces N` (not counting the first
//! sets).
//!
//! Each version: default allow; getppid -> errno; socket(AF_VSOCK) ->
//! errno (an argument rule); both ABIs. One process sends the requests so
//! the rate is the module's, not process start-up's (see
//! `t-atomic-replace.sh`, which runs `sf-hammer` against it).
//!
//! `sf-flip --promote ...`: the same, but version B is set once as each
//! cgroup's shadow and every later request is a `policy-promote`, which
//! swaps the two (`t-shadow.sh`). Either way, the latency of each request
//! after the first sets goes to standard error as `latency_us p50 X p99 Y
//! max Z`.
//!
//! `sf-flip --gone-ok ...`: the same, but a request refused with ENOENT
//! (the cgroup was removed, `t-lifecycle.sh` removes them meanwhile) drops
//! that cgroup from the rounds instead of failing; prints `gone N
//! removed-during-set M` too (M: refusals by the module's check after
//! publishing, "the cgroup was removed").
//!
//! `sf-flip --delete CGROUP_ID[,CGROUP_ID...]`: deletes each cgroup's
//! policy, from one process (`t-soak.sh`: fifty `sysfence policy delete`
//! processes took over a minute on the debug kernel); prints `deleted N`.

use std::time::{Duration, Instant};
use sysfence_abi::nla::Writer;
use sysfence_abi::proto::{action, attr, Abi, Cmd, Op};
use sysfence_testprogs::nl::Sock;

fn policy(cg: u64, errno: u32) -> Vec<u8> {
    let mut b = vec![0u8; 1024];
    let mut w = Writer::new(&mut b);
    let deny = action::ERRNO | errno;
    w.put_u64(attr::CGROUP_ID, cg).unwrap();
    w.nest(attr::POLICY, |w| {
        w.put_u32(attr::POLICY_DEFAULT, action::ALLOW)?;
        // The native family's ABIs but x32 (x86_64 and ia32, or aarch64
        // and arm), by their own numbers.
        for &abi in Abi::ALL.iter().filter(|a| **a != Abi::X32) {
            let nr = |name| sysfence_abi::names::number(abi, name).unwrap_or(u32::MAX);
            let (getppid, socket) = (nr("getppid"), nr("socket"));
            w.nest(attr::POLICY_ABI, |w| {
                w.put_u32(attr::ABI_ID, abi as u32)?;
                w.nest(attr::ABI_RULE, |w| {
                    w.put_u32(attr::RULE_NR, getppid)?;
                    w.put_u32(attr::RULE_ACTION, deny)
                })?;
                w.nest(attr::ABI_RULE, |w| {
                    w.put_u32(attr::RULE_NR, socket)?;
                    w.put_u32(attr::RULE_ACTION, deny)?;
                    w.nest(attr::RULE_ARG, |w| {
                        w.put_u32(attr::ARG_INDEX, 0)?;
                        w.put_u32(attr::ARG_OP, Op::Eq as u32)?;
                        w.put_u64(attr::ARG_VALUE, 40)
                    })
                })
            })?;
        }
        Ok(())
    })
    .unwrap();
    let n = w.len();
    b.truncate(n);
    b
}

fn request(s: &mut Sock, fam: u16, msg: &[u8]) -> std::io::Result<()> {
    send(s, fam, Cmd::PolicySet, msg)
}

fn send(s: &mut Sock, fam: u16, cmd: Cmd, msg: &[u8]) -> std::io::Result<()> {
    match s.request(fam, cmd as u8, msg)? {
        (0, _, _) => Ok(()),
        (e, m, _) => Err(std::io::Error::other(format!("errno {e} {m}"))),
    }
}

/// `msg` (a `policy-set`) with the `SHADOW` flag.
fn as_shadow(msg: &[u8]) -> Vec<u8> {
    let mut m = msg.to_vec();
    let mut flag = [0u8; 4];
    Writer::new(&mut flag).put(attr::SHADOW, &[]).unwrap();
    m.extend_from_slice(&flag);
    m
}

/// A request naming only cgroup `cg` (policy-promote, policy-delete).
fn promote_msg(cg: u64) -> Vec<u8> {
    let mut b = vec![0u8; 12];
    Writer::new(&mut b).put_u64(attr::CGROUP_ID, cg).unwrap();
    b
}

/// A refused request for cgroup `i`: with `--gone-ok` and ENOENT, the
/// cgroup is marked gone (and a refusal by the module's check after
/// publishing counted in `during`); otherwise the run fails.
fn refused(
    gone_ok: bool,
    gone: &mut [bool],
    during: &mut u64,
    i: usize,
    e: &std::io::Error,
    what: &str,
) {
    let msg = e.to_string();
    if !(gone_ok && msg.starts_with("errno 2 ")) {
        eprintln!("sf-flip: {what} refused: {e}");
        std::process::exit(1);
    }
    gone[i] = true;
    *during += u64::from(msg.contains("was removed"));
}

fn percentile(sorted: &[u64], p: usize) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) * p / 100).min(sorted.len() - 1)]
}

/// `--delete IDS`: one policy-delete per cgroup; exits 1 on a refusal.
fn delete_all(cgs: &[u64]) -> ! {
    let (mut s, fam) = Sock::open_family_or_exit("sf-flip");
    for &cg in cgs {
        if let Err(e) = send(&mut s, fam, Cmd::PolicyDelete, &promote_msg(cg)) {
            eprintln!("sf-flip: delete of cgroup {cg} refused: {e}");
            std::process::exit(1);
        }
    }
    println!("deleted {}", cgs.len());
    std::process::exit(0)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let delete = args.first().map(String::as_str) == Some("--delete");
    if delete {
        args.remove(0);
    }
    let gone_ok = args.first().map(String::as_str) == Some("--gone-ok");
    if gone_ok {
        args.remove(0);
    }
    let promote = args.first().map(String::as_str) == Some("--promote");
    if promote {
        args.remove(0);
    }
    let min: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let cgs: Option<Vec<u64>> = args
        .first()
        .map(|l| {
            l.split(',')
                .map(|x| x.parse::<u64>().ok())
                .collect::<Option<Vec<_>>>()
        })
        .unwrap_or(None);
    if let (true, Some(cgs)) = (delete, &cgs) {
        delete_all(cgs);
    }
    let (Some(cgs), Some(secs)) = (cgs, args.get(1).and_then(|s| s.parse::<f64>().ok())) else {
        eprintln!("usage: sf-flip [--gone-ok] [--promote] CGROUP_ID[,CGROUP_ID...] SECONDS [MIN_REPLACES] | sf-flip --delete CGROUP_ID[,CGROUP_ID...]");
        std::process::exit(2);
    };
    let (mut s, fam) = Sock::open_family_or_exit("sf-flip");
    let versions: Vec<[Vec<u8>; 2]> = cgs
        .iter()
        .map(|&cg| [policy(cg, 13), policy(cg, 14)])
        .collect();
    let start = Instant::now();
    let end = start + Duration::from_secs_f64(secs);
    let cap = start + Duration::from_secs(600);
    // Cgroups found removed (--gone-ok), and refusals by the module's
    // check after publishing.
    let mut gone = vec![false; cgs.len()];
    let mut during = 0u64;
    // Version A first (not counted), then B, A, B, ... ending on A.
    for (i, v) in versions.iter().enumerate() {
        let first = request(&mut s, fam, &v[0]).and_then(|()| {
            if promote {
                request(&mut s, fam, &as_shadow(&v[1]))
            } else {
                Ok(())
            }
        });
        if let Err(e) = first {
            refused(gone_ok, &mut gone, &mut during, i, &e, "first version");
        }
    }
    let promotes: Vec<Vec<u8>> = cgs.iter().map(|&cg| promote_msg(cg)).collect();
    // Version `which` of cgroup `i`: a set, or (promote mode) a swap.
    let step = |s: &mut Sock, i: usize, which: usize| -> std::io::Result<()> {
        if promote {
            send(s, fam, Cmd::PolicyPromote, &promotes[i])
        } else {
            request(s, fam, &versions[i][which])
        }
    };
    let mut n = 0u64;
    let mut round = 0u64;
    let mut lat = Vec::new();
    while (Instant::now() < end || n < min) && Instant::now() < cap {
        round += 1;
        for i in 0..cgs.len() {
            if gone[i] {
                continue;
            }
            let t = Instant::now();
            if let Err(e) = step(&mut s, i, (round % 2) as usize) {
                refused(
                    gone_ok,
                    &mut gone,
                    &mut during,
                    i,
                    &e,
                    &format!("replace {n}"),
                );
                continue;
            }
            lat.push(t.elapsed().as_micros() as u64);
            n += 1;
        }
        if gone.iter().all(|&g| g) {
            break;
        }
    }
    // End on version A everywhere, as the test started.
    if round % 2 == 1 {
        for i in 0..cgs.len() {
            if !gone[i] && step(&mut s, i, 0).is_ok() {
                n += 1;
            }
        }
    }
    lat.sort_unstable();
    eprintln!(
        "latency_us p50 {} p99 {} max {}",
        percentile(&lat, 50),
        percentile(&lat, 99),
        lat.last().copied().unwrap_or(0)
    );
    println!("replaces {n}");
    if gone_ok {
        let g = gone.iter().filter(|&&g| g).count();
        println!("gone {g} removed-during-set {during}");
    }
}
