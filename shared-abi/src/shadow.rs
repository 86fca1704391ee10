// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! Shadow policies: what a candidate policy would have answered, next to
//! what the enforcing policies answered.
//!
//! A cgroup may hold a shadow beside its enforcing policy. For a call, the
//! module collects the enforcing answer of every policy on the task's
//! cgroup path, deepest first (`None` where a cgroup has only a shadow),
//! and the answer actually given is [`combine`] of them. For each shadow
//! on the path, the answer the path *would* give were that shadow promoted
//! is the same combination with the shadow's answer in its cgroup's place
//! ([`with_shadow`]); when the two differ, the shadow's record counts the
//! call. Both run the same precedence as the gate: the strictest action
//! (seccomp's order), and among equals the deepest cgroup's, so a promote
//! makes the shadow's answer exactly the one predicted here.
//!
//! The record is a fixed table of [`limits::SHADOW_SLOTS`] entries keyed by
//! (ABI, syscall, object class): [`slot_key`] and [`probe`] say where an
//! entry goes, so the module's lock-free table and the tests agree.

use crate::proto::{action, limits, Abi, Arch};

/// In an answer list: no enforcing policy at this level (not an action
/// value: its action part, 0xffff, is none of `action::*`).
pub const NO_POLICY: u32 = u32::MAX;

/// The answer of a path whose policies answered `acts` (deepest first;
/// [`NO_POLICY`]: none at that level): the strictest, the first among
/// equals; allow when none answered.
pub fn combine(acts: impl IntoIterator<Item = u32>) -> u32 {
    let mut best: Option<u32> = None;
    for a in acts.into_iter().filter(|a| *a != NO_POLICY) {
        if best.is_none_or(|b| action::stricter(a, b)) {
            best = Some(a);
        }
    }
    best.unwrap_or(action::ALLOW)
}

/// The answer the path would give if level `at`'s enforcing answer were
/// `shadow` ([`NO_POLICY`]: the shadow is "no policy").
pub fn with_shadow(acts: &[u32], at: usize, shadow: u32) -> u32 {
    combine(
        acts.iter()
            .enumerate()
            .map(|(i, a)| if i == at { shadow } else { *a }),
    )
}

/// Whether a shadow's answer counts as a difference: any other action, or
/// the same action with other data (another errno), including log where
/// the call was allowed and allow where it was refused.
pub const fn differs(enforced: u32, shadow: u32) -> bool {
    enforced != shadow
}

/// The record key of a differing call: never 0 (0 marks a free slot).
/// `class` is 0 for a syscall decision, else the object's `class::*`.
/// The ABI is its slot (bits 12-13) and its family (bit 14, 0 for x86).
pub const fn slot_key(abi: Abi, nr: u32, class: u32) -> u32 {
    let abi = (abi.arch() as u32 & 1) << 2 | (abi.index() as u32 & 0x3);
    1 << 31 | (class & 0xff) << 16 | abi << 12 | (nr & 0xfff)
}

/// The (ABI, number, class) a key stands for, or `None` for a key
/// [`slot_key`] does not make.
pub fn key_parts(key: u32) -> Option<(Abi, u32, u32)> {
    if key & 1 << 31 == 0 {
        return None;
    }
    let arch = Arch::ALL.get(((key >> 14) & 1) as usize)?;
    let abi = arch.abi(((key >> 12) & 0x3) as usize)?;
    Some((abi, key & 0xfff, (key >> 16) & 0xff))
}

/// Slots tried for a key, in order, before a call counts as untracked.
pub const PROBES: usize = 16;

/// The slots (indexes below [`limits::SHADOW_SLOTS`]) to try for `key`,
/// in order: a multiplicative hash, then linear probing.
pub fn probe(key: u32) -> impl Iterator<Item = usize> {
    let n = limits::SHADOW_SLOTS as usize;
    let start = (key.wrapping_mul(0x9e37_79b1) >> 24) as usize % n;
    (0..PROBES).map(move |i| (start + i) % n)
}

/// A 64-bit hash of a task name (FNV-1a), never 0 (0 marks a free name
/// slot in a record entry).
pub fn comm_hash(comm: &[u8]) -> u64 {
    let h = comm
        .iter()
        .take_while(|b| **b != 0)
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        });
    h | 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::action::{ALLOW, ERRNO, KILL_PROCESS, LOG, TRAP};

    #[test]
    fn the_strictest_answer_wins_and_the_deepest_among_equals() {
        assert_eq!(combine([]), ALLOW);
        assert_eq!(combine([NO_POLICY, NO_POLICY]), ALLOW);
        assert_eq!(combine([LOG, ERRNO | 1]), ERRNO | 1);
        // Equal strictness: the first (deepest) keeps its errno.
        assert_eq!(combine([ERRNO | 13, ERRNO | 1]), ERRNO | 13);
        assert_eq!(combine([ERRNO | 1, KILL_PROCESS]), KILL_PROCESS);
        assert!(!action::is_valid(NO_POLICY));
    }

    #[test]
    fn a_shadow_takes_its_cgroups_place_only() {
        // Container policy allows, pod policy logs; the container's shadow
        // refuses: the path would refuse.
        let acts = [ALLOW, LOG];
        assert_eq!(with_shadow(&acts, 0, ERRNO | 1), ERRNO | 1);
        // A looser shadow cannot loosen what the pod policy enforces.
        let acts = [ERRNO | 1, TRAP];
        assert_eq!(with_shadow(&acts, 0, ALLOW), TRAP);
        assert!(!differs(combine(acts), with_shadow(&acts, 0, ALLOW)));
        // A shadow on a cgroup with no enforcing policy.
        let acts = [NO_POLICY, ALLOW];
        assert_eq!(with_shadow(&acts, 0, KILL_PROCESS), KILL_PROCESS);
        // The "no policy" shadow left by a promote: what removing it does.
        let acts = [ERRNO | 1];
        assert_eq!(with_shadow(&acts, 0, NO_POLICY), ALLOW);
        // Out of range: no shadow in place, the plain answer.
        assert_eq!(with_shadow(&acts, 5, NO_POLICY), ERRNO | 1);
    }

    #[test]
    fn another_errno_or_log_is_a_difference() {
        assert!(differs(ERRNO | 1, ERRNO | 13));
        assert!(differs(ALLOW, LOG));
        assert!(!differs(ERRNO | 1, ERRNO | 1));
    }

    #[test]
    fn keys_round_trip_and_probes_stay_in_the_table() {
        for abi in Abi::EVERY {
            for (nr, class) in [(0, 0), (1023, 0), (257, 1), (42, 5)] {
                let k = slot_key(*abi, nr, class);
                assert_ne!(k, 0);
                assert_eq!(key_parts(k), Some((*abi, nr, class)));
                let slots: Vec<usize> = probe(k).collect();
                assert_eq!(slots.len(), PROBES);
                assert!(slots.iter().all(|s| *s < limits::SHADOW_SLOTS as usize));
            }
        }
        assert_eq!(key_parts(0), None);
        assert_eq!(key_parts(1 << 31 | 3 << 12), None);
        assert_eq!(key_parts(1 << 31 | 6 << 12), None, "arm64 has no third ABI");
        // x86 keys are those from before the families.
        assert_eq!(slot_key(Abi::X32, 7, 0), 1 << 31 | 2 << 12 | 7);
        assert_eq!(slot_key(Abi::Arm, 7, 0), 1 << 31 | 5 << 12 | 7);
        assert_ne!(comm_hash(b""), 0);
        assert_eq!(comm_hash(b"nginx\0\0\0"), comm_hash(b"nginx"));
        assert_ne!(comm_hash(b"nginx"), comm_hash(b"redis"));
    }
}

#[cfg(test)]
mod request_tests {
    use crate::engine::parse_request;
    use crate::nla::Writer;
    use crate::proto::attr;

    fn flags(kinds: &[u16]) -> ([u8; 32], usize) {
        let mut buf = [0u8; 32];
        let mut w = Writer::new(&mut buf);
        w.put_u64(attr::CGROUP_ID, 7).unwrap();
        for k in kinds {
            w.put(*k, &[]).unwrap();
        }
        let n = w.len();
        (buf, n)
    }

    #[test]
    fn a_shadow_is_a_flag_of_policy_set_and_never_waits_for_an_exec() {
        let (b, n) = flags(&[attr::SHADOW]);
        let r = parse_request(&b[..n], true).unwrap();
        assert!(r.shadow && !r.arm_on_exec);
        assert!(
            parse_request(&b[..n], false).is_err(),
            "only policy-set takes it"
        );
        for order in [
            [attr::SHADOW, attr::ARM_ON_EXEC],
            [attr::ARM_ON_EXEC, attr::SHADOW],
        ] {
            let (b, n) = flags(&order);
            let e = parse_request(&b[..n], true).unwrap_err();
            assert!(e.text().contains("shadow does not wait"), "{}", e.text());
        }
    }
}
