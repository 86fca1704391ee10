// SPDX-License-Identifier: GPL-2.0
//! Events: denials, LOG hits, traps and kills, multicast to subscribers.
//!
//! The gate calls [`report`] in the syscall path: if anyone listens, the
//! event passes the policy's rate limit ([`limits::EVENTS_PER_SEC`] per
//! cgroup policy) and is copied into the C ring, which a work item drains by
//! calling [`sf_rust_emit_event`] in process context. Every eventful
//! decision made while someone listens is counted exactly once, as sent
//! (multicast) or dropped (rate limit, full ring, or the multicast failed),
//! so subscribers can reconcile what they received with the counters.

use crate::event::{Event, COMM_MAX, ENCODED_MAX};
use crate::ffi::{self, RcuReadGuard};
use crate::nla::Writer;
use crate::proto::{limits, Abi};
use crate::store::{self, ShadowRecord, Stats};
use core::sync::atomic::Ordering::Relaxed;

/// Size of a ring slot in `sysfence_shim.c`.
const SLOT_SIZE: usize = 256;
const _: () = assert!(core::mem::size_of::<Event>() <= SLOT_SIZE);

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Whether `stats`' rate limit lets one more event through at `now_ns`: at
/// most [`limits::EVENTS_PER_SEC`] per one-second window. Lock-free; two
/// racing window resets can let a few extra events through, never fewer.
fn admit(stats: &Stats, now_ns: u64) -> bool {
    let window = now_ns / NSEC_PER_SEC;
    let seen = stats.rl_window.load(Relaxed);
    if seen != window
        && stats
            .rl_window
            .compare_exchange(seen, window, Relaxed, Relaxed)
            .is_ok()
    {
        stats.rl_count.store(0, Relaxed);
    }
    stats.rl_count.fetch_add(1, Relaxed) < limits::EVENTS_PER_SEC
}

/// What the gate (or an object hook) knows about an eventful decision.
pub(crate) struct Decision<'a> {
    pub(crate) policy_cgroup: u64,
    pub(crate) task_cgroup: u64,
    pub(crate) abi: Abi,
    pub(crate) nr: u32,
    pub(crate) action: u32,
    /// For an object decision: its class and its text.
    pub(crate) object: Option<(u32, &'a [u8])>,
    /// For a shadow's decision (`action` is then the shadow's answer): its
    /// record's number and the action enforced.
    pub(crate) shadow: Option<(u64, u32)>,
}

/// Records one differing call of a shadow (its record and its events):
/// the record counts every one; an event goes out, as for enforcing
/// policies, if someone listens and the shadow's own rate limit allows.
pub(crate) fn note_shadow(rec: &ShadowRecord, d: &Decision<'_>, args: impl FnOnce() -> [u64; 6]) {
    let mut comm = [0u8; COMM_MAX + 1];
    let (mut pid, mut tid) = (0u32, 0u32);
    // SAFETY: the out-pointers are valid, and `comm` has room for the size
    // passed.
    unsafe { ffi::sf_current_task_info(&mut pid, &mut tid, comm.as_mut_ptr(), comm.len() as u32) };
    // SAFETY: plain clock read.
    let now = unsafe { ffi::sf_ktime_ns() };
    let class = d.object.map_or(0, |(c, _)| c);
    let enforced = d.shadow.map_or(0, |(_, e)| e);
    rec.note(
        crate::shadow::slot_key(d.abi, d.nr, class),
        d.action,
        enforced,
        now,
        &comm,
    );
    report(&rec.events, d, args);
}

/// Reports one decision of the policy whose counters are `stats`; `args`
/// gives the argument registers, called only when an event is made. Called
/// in the syscall path (preemption disabled): allocates nothing, never
/// sleeps.
#[inline(never)]
pub(crate) fn report(stats: &Stats, d: &Decision<'_>, args: impl FnOnce() -> [u64; 6]) {
    // SAFETY: reads the family's listener bitmap; any context.
    if !unsafe { ffi::sf_ev_has_listeners() } {
        return;
    }
    // SAFETY: plain clock read.
    let now = unsafe { ffi::sf_ktime_ns() };
    if !admit(stats, now) {
        stats.events_dropped.fetch_add(1, Relaxed);
        return;
    }
    let mut ev = Event {
        policy_cgroup: d.policy_cgroup,
        task_cgroup: d.task_cgroup,
        abi: d.abi as u32,
        nr: u64::from(d.nr),
        args: args(),
        action: d.action,
        time_ns: now,
        ..Event::default()
    };
    if let Some((class, text)) = d.object {
        ev.obj_class = class;
        crate::event::set_text(&mut ev.object, text);
    }
    if let Some((record, enforced)) = d.shadow {
        ev.shadow = record;
        ev.enforced = enforced;
    }
    // SAFETY: the out-pointers are valid, and `comm` has room for
    // `COMM_MAX + 1` bytes, the size passed.
    unsafe {
        ffi::sf_current_task_info(
            &mut ev.pid,
            &mut ev.tid,
            ev.comm.as_mut_ptr(),
            (COMM_MAX + 1) as u32,
        )
    };
    // SAFETY: `ev` is valid for `size_of::<Event>()` bytes, which the ring
    // copies (bytes and all) before returning.
    let rc = unsafe {
        ffi::sf_ev_push(
            (&ev as *const Event).cast(),
            core::mem::size_of::<Event>() as u32,
        )
    };
    if rc != 0 {
        stats.events_dropped.fetch_add(1, Relaxed);
    }
}

/// Multicasts one queued record; called by the ring's work item.
///
/// # Safety
/// `rec` must point to `size` readable bytes holding a record written by
/// [`report`].
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_emit_event(rec: *const u8, size: u32) {
    if rec.is_null() || (size as usize) < core::mem::size_of::<Event>() {
        return;
    }
    // SAFETY: the record holds an `Event` copied byte for byte by `report`
    // (its padding, if any, is never read as a value); `Event` is plain
    // integers, and the read tolerates any alignment.
    let ev: Event = unsafe { core::ptr::read_unaligned(rec.cast()) };
    let mut buf = [0u8; ENCODED_MAX];
    let mut w = Writer::new(&mut buf);
    let sent = match ev.encode(&mut w) {
        Ok(()) => {
            let n = w.len();
            // SAFETY: `buf` holds `n` bytes of attributes, copied by C.
            unsafe { ffi::sf_nl_event(buf.as_ptr(), n as u32) == 0 }
        }
        Err(_) => false,
    };
    // A work item, not a writer: the snapshot is read under RCU.
    let rcu = RcuReadGuard::lock();
    let Some(e) = store::current(&rcu).and_then(|s| s.find(ev.policy_cgroup)) else {
        return;
    };
    // A shadow event counts in its own record, if that is still the
    // cgroup's (a record replaced meanwhile is gone with its counts).
    let stats = match &e.shadow {
        _ if ev.shadow == 0 => &*e.stats,
        Some(sh) if sh.record.id == ev.shadow => &sh.record.events,
        _ => return,
    };
    let c = if sent {
        &stats.events_sent
    } else {
        &stats.events_dropped
    };
    c.fetch_add(1, Relaxed);
}

/// The event ring, open while this value lives: dropping it sends what the
/// ring still holds and stops it.
///
/// # Invariants
/// At most one exists at a time, between the family's registration and
/// its unregistration, and the probes and hooks that push into the ring
/// are detached before it is dropped (module init and exit order).
pub(crate) struct Ring(());

impl Ring {
    /// Empties and opens the ring (module init, before the gate is
    /// attached).
    pub(crate) fn open() -> Self {
        // SAFETY: nothing pushes yet: the gate is attached after this.
        unsafe { ffi::sf_ev_start() };
        Ring(())
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // SAFETY: the gate and the hooks are detached (the type's
        // invariant), so nothing pushes any more; queued events go out
        // while the family is still registered.
        unsafe { ffi::sf_ev_drain() };
    }
}
