// SPDX-License-Identifier: GPL-2.0
//! sysfence: live, per-cgroup system call filtering for containers.
//!
//! This is the crate root of `sysfence.ko`. It owns the module's lifetime:
//! [`Sysfence::init`] registers the netlink family and attaches the syscall
//! gate; dropping [`Sysfence`] detaches both, waits for callers in flight and
//! frees every policy, leaving every task unfiltered.
//!
//! Layout: `ffi.rs` (the C boundary, with `sysfence_shim.c`), `store.rs`
//! (the policy table), `gate.rs` (the `sys_enter` probe), `events.rs`
//! (event reports), `hooks.rs` (object decisions for the `security_*`
//! hooks in `sysfence_hooks.c`), `netlink.rs` (request handlers),
//! `release.rs` (policies freed with their cgroup); protocol,
//! policy engine and object rules come from shared-abi.

use kernel::error::to_result;
use kernel::prelude::*;

// The wire protocol and the policy engine are compiled from shared-abi's own
// sources, so module and manager can never disagree. The module uses only
// part of what the manager needs, hence the allowances.
#[allow(dead_code, unreachable_pub)]
#[path = "../shared-abi/src/engine.rs"]
mod engine;
#[allow(dead_code, unreachable_pub)]
#[path = "../shared-abi/src/event.rs"]
mod event;
#[allow(dead_code, unreachable_pub)]
#[path = "../shared-abi/src/nla.rs"]
mod nla;
#[allow(dead_code, unreachable_pub)]
#[path = "../shared-abi/src/objects.rs"]
mod objects;
#[allow(dead_code, unreachable_pub)]
#[path = "../shared-abi/src/proto.rs"]
mod proto;
#[allow(dead_code, unreachable_pub)]
#[path = "../shared-abi/src/shadow.rs"]
mod shadow;

mod contain;
mod events;
mod ffi;
mod gate;
mod hooks;
mod netlink;
mod release;
mod store;

module! {
    type: Sysfence,
    name: "sysfence",
    author: "sysfence developers",
    description: "Live per-cgroup system call filtering for containers",
    license: "GPL",
}

/// The loaded module: the family is registered and the gate attached.
struct Sysfence;

impl kernel::Module for Sysfence {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        // SAFETY: a constant defined in the C glue.
        if unsafe { ffi::sf_family_version } != proto::FAMILY_VERSION {
            pr_err!("the C glue and proto.rs disagree on the family version\n");
            return Err(EINVAL);
        }
        // SAFETY: a module parameter of the C glue, set before init runs and
        // read-only (0444) afterwards.
        let max = unsafe { ffi::sf_max_policies };
        if max == 0 || max > proto::limits::MAX_POLICIES {
            pr_err!(
                "max_policies={max}: it must be 1-{}\n",
                proto::limits::MAX_POLICIES
            );
            return Err(EINVAL);
        }
        store::set_max_policies(max);
        store::scratch_alloc()?;
        // SAFETY: nothing can push yet (the gate is not attached).
        unsafe { ffi::sf_ev_start() };
        // SAFETY: attaches the static probe; undone in `drop` or below. No
        // policy exists, so it decides nothing yet.
        if let Err(e) = to_result(unsafe { ffi::sf_gate_attach() }) {
            store::scratch_free();
            return Err(e);
        }
        // SAFETY: the gate is attached and no policy can exist until the
        // family is registered below; undone in `drop` or below.
        if let Err(e) = to_result(unsafe { ffi::sf_tasks_start() }) {
            // SAFETY: attached just above.
            unsafe { ffi::sf_gate_detach() };
            store::scratch_free();
            return Err(e);
        }
        // SAFETY: registers static kprobes; undone in `drop` or below. No
        // policy exists, so they refuse nothing yet.
        if let Err(e) = to_result(unsafe { ffi::sf_contain_attach() }) {
            // SAFETY: both were set up just above, in this order.
            unsafe {
                ffi::sf_tasks_stop();
                ffi::sf_gate_detach();
            }
            store::scratch_free();
            return Err(e);
        }
        // SAFETY: registers a static probe; undone in `drop` or below. No
        // policy exists, so it frees nothing yet.
        if let Err(e) = to_result(unsafe { ffi::sf_release_attach() }) {
            // SAFETY: the three were set up just above, in this order.
            unsafe {
                ffi::sf_contain_detach();
                ffi::sf_tasks_stop();
                ffi::sf_gate_detach();
            }
            store::scratch_free();
            return Err(e);
        }
        // SAFETY: registers the static family; undone in `drop`.
        if let Err(e) = to_result(unsafe { ffi::sf_nl_register() }) {
            // SAFETY: the four were set up just above, in this order.
            unsafe {
                ffi::sf_release_detach();
                ffi::sf_contain_detach();
                ffi::sf_tasks_stop();
                ffi::sf_gate_detach();
            }
            store::scratch_free();
            return Err(e);
        }
        pr_info!(
            "loaded: version {}, netlink family {} v{}\n",
            proto::RELEASE,
            proto::FAMILY_NAME,
            proto::FAMILY_VERSION
        );
        Ok(Sysfence)
    }
}

impl Drop for Sysfence {
    fn drop(&mut self) {
        // No release probe or its work may run any more (the work takes
        // the genl mutex, which the fence below holds for a moment).
        // SAFETY: attached in `init`; waits for the probe and the work.
        unsafe { ffi::sf_release_detach() };
        // First, no request handler may run any more: one in flight could
        // otherwise re-attach the hooks or publish a table after they are
        // torn down below.
        // SAFETY: the family is registered; waits for running handlers.
        unsafe { ffi::sf_nl_fence() };
        // SAFETY: attached in `init`; returns once no handler runs.
        unsafe { ffi::sf_contain_detach() };
        // SAFETY: started in `init`, while the gate is still attached.
        unsafe { ffi::sf_tasks_stop() };
        // SAFETY: attached in `init`; returns once no probe call runs.
        unsafe { ffi::sf_gate_detach() };
        // SAFETY: idempotent; returns once no hook handler runs, and
        // pending return instances no longer reach module code.
        unsafe { ffi::sf_hooks_detach() };
        // SAFETY: the gate is detached, so nothing pushes any more; queued
        // events go out while the family is still registered.
        unsafe { ffi::sf_ev_drain() };
        // SAFETY: registered in `init`; returns once no handler runs.
        unsafe { ffi::sf_nl_unregister() };
        store::clear();
        store::barrier();
        store::scratch_free();
        pr_info!("unloaded\n");
    }
}
