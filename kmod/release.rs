// SPDX-License-Identifier: GPL-2.0
//! Policies follow their cgroup's life: a removed cgroup's policy is
//! deleted (kmod/sysfence_release.c has the kernel side and why none can be
//! left behind).
//!
//! The `cgroup_rmdir` probe runs with interrupts off: it only puts the id
//! in a fixed queue of [`QUEUE`] slots when a policy sits on that cgroup.
//! The work item, under the generic netlink mutex, deletes every queued
//! policy in one new table. When the queue is full the probe sets
//! [`OVERFLOW`] and the work sweeps every policy, keeping those whose
//! cgroup still exists, so a burst of removals loses nothing.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use kernel::prelude::*;

use crate::ffi;
use crate::store;

/// Slots for removed cgroups' ids waiting for the work item (0: free).
const QUEUE: usize = 256;

static PENDING: [AtomicU64; QUEUE] = [const { AtomicU64::new(0) }; QUEUE];

/// A removed cgroup's id found no free slot: the work sweeps every policy.
static OVERFLOW: AtomicBool = AtomicBool::new(false);

/// Policies deleted because their cgroup was removed, since load.
static FREED: AtomicU64 = AtomicU64::new(0);

/// Policies freed with their cgroup since the module loaded.
pub(crate) fn freed() -> u64 {
    FREED.load(Ordering::Relaxed)
}

/// The cgroup with this id was removed (the `cgroup_rmdir` probe;
/// interrupts off). Queues the id if a policy sits there; returns whether
/// the work item must run.
#[no_mangle]
pub(crate) extern "C" fn sf_rust_cgroup_removed(cgroup: u64) -> bool {
    if cgroup == 0 || store::with_current(|s| s.find(cgroup).is_none()).unwrap_or(true) {
        return false;
    }
    let queued = PENDING.iter().any(|slot| {
        slot.compare_exchange(0, cgroup, Ordering::AcqRel, Ordering::Relaxed)
            .is_ok()
    });
    if !queued {
        OVERFLOW.store(true, Ordering::Release);
    }
    true
}

/// The work item (process context, generic netlink mutex held, as every
/// policy change): deletes the policies of the queued cgroups, or of every
/// cgroup that no longer exists after an overflow.
#[no_mangle]
pub(crate) extern "C" fn sf_rust_release_pending() {
    let mut ids = [0u64; QUEUE];
    let mut n = 0;
    for slot in PENDING.iter() {
        let id = slot.swap(0, Ordering::AcqRel);
        if id != 0 {
            if let Some(dst) = ids.get_mut(n) {
                *dst = id;
                n += 1;
            }
        }
    }
    let ids = ids.get(..n).unwrap_or(&[]);
    let removed = if OVERFLOW.swap(false, Ordering::AcqRel) {
        // SAFETY: a lookup by id; process context, may sleep.
        store::retain(|id| !ids.contains(&id) && unsafe { ffi::sf_cgroup_exists(id) })
    } else {
        store::retain(|id| !ids.contains(&id))
    };
    match removed {
        Ok(k) => {
            FREED.fetch_add(k as u64, Ordering::Relaxed);
        }
        Err(_) => {
            // Out of memory for the new table: try again on the next
            // release, with a sweep so nothing queued now is forgotten.
            OVERFLOW.store(true, Ordering::Release);
            pr_warn!("could not free the policies of removed cgroups (out of memory); retrying on the next removal\n");
        }
    }
    let _ = crate::hooks::sync();
}

/// The `cgroup_rmdir` probe, attached while this value lives: dropping it
/// detaches the probe and waits for it and for the deleting work.
pub(crate) struct Probe(());

impl Probe {
    /// Attaches it (module init, before the family is open to requests:
    /// no policy exists yet, so it frees nothing until one is set).
    pub(crate) fn attach() -> Result<Self, kernel::error::Error> {
        // SAFETY: process context; attached once per module instance (this
        // is the only caller), and detached by `drop`.
        kernel::error::to_result(unsafe { ffi::sf_release_attach() })?;
        Ok(Probe(()))
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        // SAFETY: attached in `attach`; process context, without the genl
        // mutex (module exit); waits for the probe and the work.
        unsafe { ffi::sf_release_detach() };
    }
}
