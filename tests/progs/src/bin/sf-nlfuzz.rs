// SPDX-License-Identifier: GPL-2.0
//! `sf-nlfuzz CGROUP_ID COUNT [SEED]`: sends the sysfence family COUNT
//! generated and mutated requests and checks every answer.
//!
//! Requests: valid policies (small, Docker-sized and at the 64 KiB limit)
//! then mutated (bytes flipped, cut, spliced, attributes repeated, lengths
//! rewritten); random attribute trees up to 10 levels deep with unknown
//! kinds, wrong sizes and flags; empty messages; every command and unknown
//! ones. Every policy-set names CGROUP_ID first (a task-less cgroup: a
//! mutation cannot reach another cgroup, a second id is refused as
//! repeated).
//!
//! Checks, per request: the module answers (an ACK, within the socket's
//! timeout), and a policy-set gets exactly what the shared engine predicts
//! on the host side: accepted, or refused with EINVAL and the engine's own
//! message. Prints `sent N accepted A refused R` and exits 1 on the first
//! broken check.

use sysfence_abi::engine::{self, Scratch};
use sysfence_abi::nla::{Iter, Writer, F_NESTED};
use sysfence_abi::proto::{action, attr, Abi, Cmd, Op};
use sysfence_testprogs::nl::Sock;

/// xorshift64*: deterministic from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next() % n
        }
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

fn build(f: impl FnOnce(&mut Writer<'_>)) -> Vec<u8> {
    thread_local! {
        // One 128 KiB work area for every message: the writer zeroes what
        // it writes (padding included), and a fresh one per message cost
        // more page faults than the module's answer under TCG.
        static AREA: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 1 << 17]);
    }
    AREA.with(|a| {
        let mut a = a.borrow_mut();
        let mut w = Writer::new(&mut a);
        f(&mut w);
        let n = w.len();
        a[..n].to_vec()
    })
}

const ACTIONS: [u32; 6] = [
    action::ALLOW,
    action::LOG,
    action::ERRNO | 1,
    action::TRAP | 7,
    action::KILL_THREAD,
    action::KILL_PROCESS,
];

/// A valid policy body with `rules` rules spread over the ABIs.
fn valid_policy(r: &mut Rng, rules: usize, w: &mut Writer<'_>) {
    let _ = w.put_u32(attr::POLICY_DEFAULT, ACTIONS[r.below(6) as usize]);
    if r.chance(3) {
        let _ = w.put_u32(attr::POLICY_BAD_ABI, ACTIONS[r.below(6) as usize]);
    }
    for abi in Abi::ALL {
        if r.chance(3) && *abi != Abi::X86_64 {
            continue;
        }
        let _ = w.nest(attr::POLICY_ABI, |w| {
            w.put_u32(attr::ABI_ID, *abi as u32)?;
            if r.chance(2) {
                let mut bm = [0u8; attr::ALLOW_BYTES];
                for b in bm.iter_mut() {
                    *b = r.next() as u8;
                }
                w.put(attr::ABI_ALLOW, &bm)?;
            }
            let mut packed = Vec::new();
            for _ in 0..rules / 3 {
                if r.chance(4) {
                    w.nest(attr::ABI_RULE, |w| {
                        w.put_u32(attr::RULE_NR, r.below(1024) as u32)?;
                        w.put_u32(attr::RULE_ACTION, ACTIONS[r.below(6) as usize])?;
                        for _ in 0..r.below(4) {
                            w.nest(attr::RULE_ARG, |w| {
                                let op = 1 + r.below(7) as u32;
                                w.put_u32(attr::ARG_INDEX, r.below(6) as u32)?;
                                w.put_u32(attr::ARG_OP, op)?;
                                w.put_u64(attr::ARG_VALUE, r.next())?;
                                if op == Op::MaskedEq as u32 {
                                    w.put_u64(attr::ARG_VALUE_TWO, r.next())?;
                                }
                                Ok(())
                            })?;
                        }
                        Ok(())
                    })?;
                } else {
                    packed.extend_from_slice(&(r.below(1024) as u32).to_ne_bytes());
                    packed.extend_from_slice(&ACTIONS[r.below(6) as usize].to_ne_bytes());
                }
            }
            if !packed.is_empty() {
                w.put(attr::ABI_PACKED, &packed)?;
            }
            Ok(())
        });
    }
}

/// A random attribute tree: kinds from 0 to 70, random flags and sizes.
fn random_attrs(r: &mut Rng, depth: u32, w: &mut Writer<'_>) {
    for _ in 0..r.below(6) {
        let kind = r.below(71) as u16;
        if depth < 10 && r.chance(3) {
            let _ = w.nest(kind, |w| {
                random_attrs(r, depth + 1, w);
                Ok(())
            });
        } else {
            let len = [0, 1, 3, 4, 7, 8, 9, 16, 128, 300][r.below(10) as usize];
            let body: Vec<u8> = (0..len).map(|_| r.next() as u8).collect();
            let flags = [0, F_NESTED, 1 << 14][r.below(3) as usize];
            let _ = w.put(kind | flags, &body);
        }
    }
}

/// Mutates `b` in place a few times.
fn mutate(r: &mut Rng, b: &mut Vec<u8>) {
    for _ in 0..1 + r.below(4) {
        if b.is_empty() {
            return;
        }
        let at = r.below(b.len() as u64) as usize;
        match r.below(6) {
            0 => b[at] ^= 1 << r.below(8),
            1 => b[at] = r.next() as u8,
            2 => b.truncate(at),
            3 => {
                // A length field rewritten (attribute headers are 4-aligned).
                let at = at & !3;
                if at + 2 <= b.len() {
                    let v = (r.next() as u16).to_ne_bytes();
                    b[at] = v[0];
                    b[at + 1] = v[1];
                }
            }
            4 => {
                // A slice repeated (attributes duplicated, nests spliced).
                let end = (at + 4 + r.below(64) as usize).min(b.len());
                let piece = b[at..end].to_vec();
                let to = r.below(b.len() as u64 + 1) as usize;
                b.splice(to..to, piece);
            }
            _ => {
                let n = r.below(16) as usize;
                let junk: Vec<u8> = (0..n).map(|_| r.next() as u8).collect();
                b.splice(at..at, junk);
            }
        }
    }
}

/// What the engine says of a policy-set payload: `None` accepted, or the
/// message.
fn predict(payload: &[u8], scratch: &mut Scratch) -> Option<&'static str> {
    let req = match engine::parse_request(payload, true) {
        Ok(r) => r,
        Err(e) => return Some(e.text()),
    };
    if req.cgroup_id.is_none() {
        return Some("missing cgroup id attribute");
    }
    let Some(p) = req.policy else {
        return Some("missing policy attribute");
    };
    match engine::validate(&p, scratch) {
        Ok(shape) if req.shadow && shape.record => Some("a shadow policy cannot record"),
        Ok(_) => None,
        Err(e) => Some(e.text()),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(cg), Some(count)) = (
        args.first().and_then(|s| s.parse::<u64>().ok()),
        args.get(1).and_then(|s| s.parse::<u64>().ok()),
    ) else {
        eprintln!("usage: sf-nlfuzz CGROUP_ID COUNT [SEED]");
        std::process::exit(2);
    };
    let seed = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f00d_u64)
        | 1;
    let (mut s, fam) = Sock::open_family_or_exit("sf-nlfuzz");
    s.cap_acks();
    let mut r = Rng(seed);
    let mut scratch = Box::new(Scratch::ZERO);
    let (mut accepted, mut refused) = (0u64, 0u64);
    let cg_attr = build(|w| {
        let _ = w.put_u64(attr::CGROUP_ID, cg);
    });
    for i in 0..count {
        let kind = r.below(100);
        let (cmd, body): (u8, Vec<u8>) = if kind < 70 {
            // A policy-set: valid, then usually mutated.
            let rules = [3, 30, 400, 2000, 6000][r.below(5) as usize];
            let mut p = build(|w| {
                let _ = w.nest(attr::POLICY, |w| {
                    valid_policy(&mut r, rules, w);
                    Ok(())
                });
            });
            if !r.chance(5) {
                mutate(&mut r, &mut p);
            }
            (Cmd::PolicySet as u8, p)
        } else if kind < 85 {
            let mut body = build(|w| random_attrs(&mut r, 0, w));
            if r.chance(2) {
                mutate(&mut r, &mut body);
            }
            (Cmd::PolicySet as u8, body)
        } else if kind < 90 {
            (Cmd::PolicySet as u8, Vec::new())
        } else {
            // Every other command, and unknown ones, with random attributes.
            let cmd = r.below(12) as u8;
            let body = build(|w| random_attrs(&mut r, 0, w));
            (if cmd == Cmd::PolicySet as u8 { 99 } else { cmd }, body)
        };
        let mut payload = if cmd == Cmd::PolicySet as u8 && !body.is_empty() {
            cg_attr.clone()
        } else {
            Vec::new()
        };
        payload.extend_from_slice(&body);
        let (err, msg, _) = match s.request(fam, cmd, &payload) {
            Ok(x) => x,
            Err(e) => {
                eprintln!(
                    "sf-nlfuzz: request {i} (command {cmd}, {} bytes): no answer: {e}",
                    payload.len()
                );
                std::process::exit(1);
            }
        };
        if err == 0 {
            accepted += 1;
        } else {
            refused += 1;
        }
        if cmd == Cmd::PolicySet as u8 {
            let want = predict(&payload, &mut scratch);
            let ok = match want {
                None => err == 0,
                Some(m) => err == 22 && msg == m,
            };
            if !ok {
                eprintln!(
                    "sf-nlfuzz: request {i} ({} bytes): the module said errno={err} msg={msg}, the engine predicts {want:?}",
                    payload.len()
                );
                std::process::exit(1);
            }
        }
        // Attributes the module echoes back must parse.
        let _ = Iter::new(&payload).count();
    }
    println!("sent {count} accepted {accepted} refused {refused}");
}
