// SPDX-License-Identifier: GPL-2.0
//! sysfence: live, per-cgroup system call filtering for containers.
//!
//! This is the crate root of `sysfence.ko`. It owns the module's lifetime:
//! [`Sysfence::init`] makes one value per registration (scratch memory,
//! table, netlink family, event ring, hooks, gate, slow path, containment,
//! release probe, the family's opening to requests), each of which undoes
//! itself when dropped; dropping [`Sysfence`] drops them in the reverse
//! order, which waits for callers in flight and frees every policy, leaving
//! every task unfiltered.
//!
//! Layout, each file using only those listed before it: `ffi.rs` (the C
//! boundary, with `sysfence_shim.c`), `store.rs` (the policy table),
//! `events.rs` (event reports), `gate.rs` (the `sys_enter` probe),
//! `hooks.rs` (object decisions for the `security_*` hooks in
//! `sysfence_hooks.c`), `contain.rs` (cgroup moves), `release.rs` (policies
//! freed with their cgroup), `netlink.rs` (request handlers); protocol,
//! policy engine and object rules come from shared-abi, which uses none of
//! them.

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

mod arch;
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

/// The loaded module: every registration, held until unload.
///
/// `None` only while [`Drop`] tears them down, so that "unloaded" is logged
/// after the last step.
struct Sysfence(Option<Registrations>);

/// What module init set up, one value per registration; dropping a value
/// undoes its registration.
///
/// Rust drops a struct's fields in declaration order, so the fields are
/// declared in the reverse of the order [`Sysfence::init`] makes them, and
/// the module's exit is the exact reverse of its init (docs/architecture.md,
/// "Module lifetime"), with one exception, the first two fields: see
/// `release`. Init itself makes them as locals, which a failed step drops
/// in the reverse order too, so each failure undoes exactly what was done.
/// Do not reorder the fields without reordering init.
#[expect(dead_code, reason = "never read: held only to be dropped, in order")]
struct Registrations {
    /// The `cgroup_rmdir` probe, made just before `requests` (no policy
    /// may be set while it is not attached, or a cgroup removed meanwhile
    /// would keep its policy) and dropped just before it: its work item
    /// publishes tables and attaches hooks as request handlers do, but the
    /// fence does not stop it, so it is detached first and no writer of
    /// any kind runs once the fence returns.
    release: release::Probe,
    /// The family open to requests, made last; dropping it fences the
    /// family: no handler runs any more.
    requests: netlink::Open,
    /// The containment kprobes.
    contain: contain::Containment,
    /// Who takes the syscall slow path; stopped while the gate is still
    /// attached.
    slow_path: gate::SlowPath,
    /// The `sys_enter` probe; dropping it waits for every probe call in
    /// flight (`tracepoint_synchronize_unregister`).
    gate: gate::Gate,
    /// The object hooks' final detach (handlers attach them on demand).
    hooks: hooks::ObjectHooks,
    /// The event ring; dropping it sends what the ring holds (the gate and
    /// the hooks are detached by then) while the family is registered.
    ring: events::Ring,
    /// The family's registration (closed until `requests` opens it).
    family: netlink::Family,
    /// The policy table; dropping it retires the table and waits for RCU
    /// to free it (`rcu_barrier`).
    table: store::Table,
    /// The compiler's working memory, freed last.
    scratch: store::ScratchMemory,
}

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
        // In the reverse of `Registrations`' field order (see there).
        let scratch = store::ScratchMemory::alloc()?;
        let table = store::Table::new();
        let family = netlink::Family::register()?;
        let ring = events::Ring::open();
        let hooks = hooks::ObjectHooks::new();
        let gate = gate::Gate::attach()?;
        let slow_path = gate::SlowPath::start(&gate)?;
        let contain = contain::Containment::attach()?;
        let release = release::Probe::attach()?;
        let requests = netlink::Open::open(&family);
        pr_info!(
            "loaded: version {}, netlink family {} v{}\n",
            proto::RELEASE,
            proto::FAMILY_NAME,
            proto::FAMILY_VERSION
        );
        Ok(Sysfence(Some(Registrations {
            release,
            requests,
            contain,
            slow_path,
            gate,
            hooks,
            ring,
            family,
            table,
            scratch,
        })))
    }
}

impl Drop for Sysfence {
    fn drop(&mut self) {
        // Every registration, undone field by field (see `Registrations`).
        drop(self.0.take());
        pr_info!("unloaded\n");
    }
}
