// SPDX-License-Identifier: GPL-2.0
//! The syscall gate: the `sys_enter` probe that decides every call.
//!
//! Runs with preemption disabled for every syscall of every task: it takes
//! no lock, allocates nothing and reads the policy table once per call.

use crate::events::{self, Decision};
use crate::ffi::{self, PtRegs};
use crate::proto::{action, Abi, X32_SYSCALL_BIT};
use crate::store::{self, Entry, Snapshot, MAX_LEVELS};
use core::ffi::{c_int, c_long};
use core::mem::MaybeUninit;
use core::sync::atomic::Ordering::Relaxed;

/// The ABI of the current call and the number the kernel dispatches: the
/// kernel truncates the number register to 32 bits (`int nr`), so high bits
/// can neither dodge a rule nor reach one.
pub(crate) fn classify(ia32: bool, id: c_long) -> (Abi, u32) {
    let nr = id as u32;
    if ia32 {
        (Abi::Ia32, nr)
    } else if u64::from(nr) & X32_SYSCALL_BIT != 0 {
        (Abi::X32, nr & !(X32_SYSCALL_BIT as u32))
    } else {
        (Abi::X86_64, nr)
    }
}

/// Calls `f` for each policy on the current task's cgroup path, deepest
/// first; returns the id of the task's own cgroup. Only the levels at which
/// some policy exists are looked at (`Snapshot::levels`), and the ids come
/// from one call into C.
pub(crate) fn for_each_policy<'s>(snap: &'s Snapshot, mut f: impl FnMut(&'s Entry)) -> u64 {
    let mut ids = [MaybeUninit::<u64>::uninit(); MAX_LEVELS];
    let mut own = 0u64;
    // SAFETY: called with preemption disabled or under rcu_read_lock, as C
    // requires; `ids` has room for `MAX_LEVELS` values and `own` is valid.
    let n = unsafe {
        ffi::sf_current_path_ids(
            snap.levels,
            ids.as_mut_ptr().cast(),
            MAX_LEVELS as c_int,
            &mut own,
        )
    };
    let n = usize::try_from(n).unwrap_or(0).min(MAX_LEVELS);
    for slot in ids.iter().take(n) {
        // SAFETY: C initialized the first `n` values.
        let id = unsafe { slot.assume_init() };
        if let Some(e) = snap.find(id) {
            f(e);
        }
    }
    own
}

/// Keeps the stricter of the verdict so far and policy `e`'s action `a`;
/// among equals the first seen (the deepest cgroup's) stays.
#[inline(always)]
pub(crate) fn keep_stricter<'s>(verdict: &mut Option<(u32, &'s Entry)>, a: u32, e: &'s Entry) {
    match verdict {
        Some((v, _)) if !action::stricter(a, *v) => {}
        _ => *verdict = Some((a, e)),
    }
}

/// Policies on a task's path that the per-CPU cache can hold.
const CACHED: usize = 5;

/// The gate's per-CPU cache (the 64 bytes `sf_gate_cache_ptr` gives): the
/// policies on the path of the cgroup that made this CPU's last filtered
/// call, valid while the table version is `gen`.
#[repr(C)]
struct PathCache {
    gen: u64,
    cgid: u64,
    n: u64,
    entries: [*const Entry; CACHED],
}
const _: () = assert!(core::mem::size_of::<PathCache>() == 64);

/// As [`for_each_policy`], through this CPU's cache: a task of the cgroup
/// that made the last call here, under the same table version, skips the
/// ancestor walk and the lookups. Private to this file and called only by
/// the probe, [`sf_rust_sys_enter`], which runs with preemption disabled.
fn for_each_policy_cached<'s>(snap: &'s Snapshot, mut f: impl FnMut(&'s Entry)) -> u64 {
    // SAFETY: query of the current task; the probe runs with preemption
    // disabled.
    let cgid = unsafe { ffi::sf_current_cgroup_id() };
    // SAFETY: this CPU's 64-byte, 8-aligned cache; preemption stays disabled
    // for the whole probe and only the gate uses it (no syscall, hence no
    // gate, runs in interrupt context), so nothing else touches it now.
    let cache = unsafe { &mut *ffi::sf_gate_cache_ptr().cast::<PathCache>() };
    if cache.gen == snap.gen && cache.cgid == cgid {
        for p in cache.entries.iter().take(cache.n as usize) {
            // SAFETY: stored from the snapshot numbered `gen`; numbers are
            // never reused and that snapshot is the current one, alive for
            // this call.
            f(unsafe { &**p });
        }
        return cgid;
    }
    let mut list = [core::ptr::null::<Entry>(); CACHED];
    let (mut n, mut fits) = (0usize, true);
    let own = for_each_policy(snap, |e| {
        match list.get_mut(n) {
            Some(slot) => {
                *slot = e;
                n += 1;
            }
            None => fits = false,
        }
        f(e)
    });
    if fits && own == cgid {
        *cache = PathCache {
            gen: snap.gen,
            cgid,
            n: n as u64,
            entries: list,
        };
    } else {
        cache.gen = 0; // never a table's number
    }
    own
}

/// The six argument registers of the current call; ia32 arguments are
/// 32-bit registers.
///
/// # Safety
/// `regs` must be the current task's syscall registers.
unsafe fn read_args(regs: *mut PtRegs, ia32: bool) -> [u64; 6] {
    let mut args = [0u64; 6];
    // SAFETY: `regs` is this call's registers; `args` has room for the six
    // values C writes.
    unsafe { ffi::sf_syscall_args(regs, args.as_mut_ptr()) };
    if ia32 {
        for a in args.iter_mut() {
            *a &= 0xffff_ffff;
        }
    }
    args
}

/// The levels at which policies sit (bit N: level N), for the C side's
/// ancestor walks; 0 when there is no policy.
#[no_mangle]
pub(crate) extern "C" fn sf_rust_levels() -> u64 {
    store::with_current(|s| s.levels).unwrap_or(0)
}

/// Whether any of `n` cgroup ids at `ids` has a policy.
///
/// # Safety
/// `ids` must point to `n` readable ids; the caller holds RCU or runs with
/// preemption disabled.
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_ids_filtered(ids: *const u64, n: c_int) -> bool {
    let Ok(n) = usize::try_from(n) else {
        return false;
    };
    if ids.is_null() || n == 0 {
        return false;
    }
    // SAFETY: the caller passes `n` readable ids.
    let ids = unsafe { core::slice::from_raw_parts(ids, n) };
    store::with_current(|s| ids.iter().any(|id| s.find(*id).is_some())).unwrap_or(false)
}

/// Whether the current task is under any policy (its cgroup or an ancestor).
pub(crate) fn current_is_filtered() -> bool {
    // SAFETY: pairs with the unlock below; the cgroup read needs RCU.
    unsafe { ffi::sf_rcu_read_lock() };
    let mut found = false;
    store::with_current(|snap| {
        for_each_policy(snap, |_| found = true);
    });
    // SAFETY: pairs with the lock above.
    unsafe { ffi::sf_rcu_read_unlock() };
    found
}

/// The probe, called by the C glue for every syscall entry.
///
/// # Safety
/// `regs` must be the current task's syscall registers, and the caller must
/// run with preemption disabled (tracepoint probe context).
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_sys_enter(regs: *mut PtRegs, id: c_long) {
    store::with_current(|snap| {
        // The decision: the strictest action of every policy on the path;
        // among equals, the deepest cgroup's (it is seen first).
        let mut verdict: Option<(u32, &Entry)> = None;
        // SAFETY: plain query of the current task.
        let ia32 = unsafe { ffi::sf_in_ia32_syscall() };
        let (abi, nr) = classify(ia32, id);
        let mut args = [0u64; 6];
        let mut have_args = false;
        // The deepest recording policy on the path, if any.
        let mut recorder: Option<&Entry> = None;
        let own = for_each_policy_cached(snap, |e| {
            if recorder.is_none() && e.policy.record {
                recorder = Some(e);
            }
            // Most calls: a fixed answer, no registers read.
            let a = match e.policy.fixed(abi, nr) {
                Some(a) => a,
                None => {
                    if !have_args {
                        // SAFETY: `regs` is this call's registers.
                        args = unsafe { read_args(regs, ia32) };
                        have_args = true;
                    }
                    e.policy.decide(abi, nr, &args)
                }
            };
            keep_stricter(&mut verdict, a, e);
        });
        if let Some((a, e)) = verdict {
            let kind = a & action::ACTION_MASK;
            if let Some(r) = recorder {
                if kind == action::ALLOW || kind == action::LOG {
                    r.stats.seen.mark(abi, nr);
                }
            }
            if kind != action::ALLOW {
                let d = Decision {
                    policy_cgroup: e.cgroup,
                    task_cgroup: own,
                    abi,
                    nr,
                    action: a,
                    object: None,
                };
                // The registers are read only if an event is really made.
                events::report(&e.stats, &d, || {
                    if have_args {
                        args
                    } else {
                        // SAFETY: `regs` is this call's registers.
                        unsafe { read_args(regs, ia32) }
                    }
                });
            }
            // SAFETY: same contract as this function's.
            unsafe { enforce(regs, a, e, nr, ia32) };
        }
    });
}

/// Carries out action `a` for the current call and counts it.
///
/// # Safety
/// As [`sf_rust_sys_enter`].
unsafe fn enforce(regs: *mut PtRegs, a: u32, e: &Entry, nr: u32, ia32: bool) {
    let s = &e.stats;
    let data = (a & action::DATA_MASK) as c_int;
    let nr = nr as c_int;
    match a & action::ACTION_MASK {
        action::ALLOW => {
            s.allowed.fetch_add(1, Relaxed);
        }
        action::LOG => {
            s.allowed.fetch_add(1, Relaxed);
            s.logged.fetch_add(1, Relaxed);
        }
        action::ERRNO => {
            s.denied.fetch_add(1, Relaxed);
            // SAFETY: `regs` is this call's registers.
            unsafe { ffi::sf_skip_syscall(regs, -(data as c_long)) };
        }
        action::TRAP => {
            s.trapped.fetch_add(1, Relaxed);
            // SAFETY: as above; sending a signal is allowed in atomic context.
            unsafe { ffi::sf_trap(regs, nr, ia32, data) };
        }
        action::KILL_THREAD => {
            s.killed.fetch_add(1, Relaxed);
            // SAFETY: as above.
            unsafe { ffi::sf_kill_thread(regs, nr, ia32) };
        }
        _ => {
            // KILL_PROCESS, and fail closed on anything unexpected.
            s.killed.fetch_add(1, Relaxed);
            // SAFETY: as above.
            unsafe { ffi::sf_kill_process(regs, nr, ia32) };
        }
    }
}
