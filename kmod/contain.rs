// SPDX-License-Identifier: GPL-2.0
//! Containment: the decision behind the cgroup kprobes of
//! `sysfence_contain.c` (see there for the mechanism and the routes).
//!
//! A move (of a task into cgroup `dst`, asked by the current task) is
//! refused when the mover is under a policy in force and either the mover's
//! or the moved task's policies would not all apply at `dst`. Policies
//! apply to a cgroup's whole subtree, so "all apply" means: the deepest
//! cgroup on the path holding a policy in force is `dst` or an ancestor of
//! it. Moves inside the filtered subtree, into deeper cgroups or into a
//! cgroup that is under the same policies, keep working; an operator's
//! task, under no policy, moves anything.

use crate::ffi::{self, Cgroup};
use crate::store::{self, Entry, Snapshot, MAX_LEVELS};
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::Ordering::Relaxed;

/// A cgroup the kernel keeps alive for `'a`: the kprobe handler's cgroups,
/// for the handler's call.
///
/// # Invariants
/// `cgrp` points to a live `struct cgroup` for the whole of `'a`.
#[derive(Clone, Copy)]
struct CgroupRef<'a> {
    cgrp: NonNull<Cgroup>,
    _alive: PhantomData<&'a Cgroup>,
}

impl CgroupRef<'_> {
    /// Wraps a cgroup pointer; `None` for a null one.
    ///
    /// # Safety
    /// `cgrp` must be null or point to a cgroup that stays alive for the
    /// lifetime chosen.
    unsafe fn from_raw(cgrp: *const Cgroup) -> Option<Self> {
        Some(CgroupRef {
            cgrp: NonNull::new(cgrp.cast_mut())?,
            _alive: PhantomData,
        })
    }

    /// Its level (root: 0).
    fn level(self) -> i32 {
        // SAFETY: the cgroup is alive (the type's invariant).
        unsafe { ffi::sf_cgroup_level(self.cgrp.as_ptr()) }
    }

    /// The id of its ancestor at `level` (itself at its own level), or 0
    /// when `level` is not on its path.
    fn ancestor_id(self, level: i32) -> u64 {
        // SAFETY: the cgroup is alive (the type's invariant); C checks
        // `level` against the cgroup's.
        unsafe { ffi::sf_cgroup_ancestor_id(self.cgrp.as_ptr(), level) }
    }
}

/// The level of the deepest cgroup on `cgrp`'s path (itself included)
/// that holds a policy in force, and that policy.
fn deepest_in_force<'s>(snap: &'s Snapshot, cgrp: CgroupRef<'_>) -> Option<(i32, &'s Entry)> {
    let top = cgrp.level().min(MAX_LEVELS as i32 - 1);
    (0..=top).rev().find_map(|l| {
        if snap.levels & (1u64 << l) == 0 {
            return None;
        }
        match snap.find(cgrp.ancestor_id(l)) {
            Some(e) if e.in_force().is_some() => Some((l, e)),
            _ => None,
        }
    })
}

/// Whether every policy in force on `from`'s path also applies at `dst`.
fn keeps(snap: &Snapshot, from: CgroupRef<'_>, dst: CgroupRef<'_>) -> bool {
    match deepest_in_force(snap, from) {
        None => true,
        Some((level, e)) => dst.ancestor_id(level) == e.cgroup,
    }
}

/// Whether the current task (in cgroup `mover`) may not move a task of
/// cgroup `moved` to cgroup `dst`. A refusal counts as a denied call of the
/// mover's deepest policy (`sysfence stats`); the C side logs it.
///
/// # Safety
/// The three cgroups must be null or stay alive for the call (RCU held by
/// the caller, which runs in a kprobe on the kernel's cgroup functions).
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_move_refused(
    mover: *const Cgroup,
    moved: *const Cgroup,
    dst: *const Cgroup,
) -> bool {
    // SAFETY: the caller keeps the three alive for this call, which the
    // references do not outlive.
    let (Some(mover), Some(moved), Some(dst)) = (unsafe {
        (
            CgroupRef::from_raw(mover),
            CgroupRef::from_raw(moved),
            CgroupRef::from_raw(dst),
        )
    }) else {
        return false;
    };
    store::with_current(|snap| {
        let Some((_, e)) = deepest_in_force(snap, mover) else {
            return false;
        };
        if keeps(snap, mover, dst) && keeps(snap, moved, dst) {
            return false;
        }
        e.stats.denied.fetch_add(1, Relaxed);
        true
    })
    .unwrap_or(false)
}

/// The containment kprobes, registered while this value lives: dropping
/// it unregisters them and waits for running handlers.
pub(crate) struct Containment(());

impl Containment {
    /// Registers them (module init). No policy exists yet, so they refuse
    /// nothing until one is published.
    pub(crate) fn attach() -> Result<Self, kernel::error::Error> {
        // SAFETY: process context; registered once per module instance
        // (this is the only caller), and unregistered by `drop`.
        kernel::error::to_result(unsafe { ffi::sf_contain_attach() })?;
        Ok(Containment(()))
    }
}

impl Drop for Containment {
    fn drop(&mut self) {
        // SAFETY: registered in `attach`; returns once no handler runs.
        unsafe { ffi::sf_contain_detach() };
    }
}
