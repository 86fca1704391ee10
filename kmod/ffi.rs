// SPDX-License-Identifier: GPL-2.0
//! Declarations of the C glue in `sysfence_shim.c` (and the other
//! `sysfence_*.c` files), and the few types that make them safe to use.
//!
//! This file and the `extern "C"` entry points that C calls (`gate.rs`,
//! `netlink.rs`, `events.rs`, `hooks.rs`, `contain.rs`, `release.rs`) are the
//! module's whole C boundary. Kernel structs stay opaque on the Rust side:
//! every field access happens in C (see the layout hazard in
//! `docs/testing.md`).
//!
//! This is the bottom layer: it uses no other file of the module.
//!
//! Every function below is `unsafe` to call because it crosses into C; its
//! `# Safety` section says what the caller must guarantee. Where it says
//! "any context", there is nothing beyond the types: the call is sound from
//! process, probe (preemption disabled) and kprobe (int3) context alike.

use core::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
use core::marker::PhantomData;

/// `struct pt_regs`, opaque.
#[repr(C)]
pub(crate) struct PtRegs {
    _opaque: [u8; 0],
}

/// `struct cgroup`, opaque.
#[repr(C)]
pub(crate) struct Cgroup {
    _opaque: [u8; 0],
}

/// `struct genl_info`, opaque.
#[repr(C)]
pub(crate) struct GenlInfo {
    _opaque: [u8; 0],
}

/// `struct rcu_head` (`callback_head`: two pointers; the C glue checks the
/// size at build time). Written only by `call_rcu`.
#[repr(C)]
pub(crate) struct RcuHead {
    _next: *mut c_void,
    _func: *mut c_void,
}

impl RcuHead {
    /// A head not yet handed to `call_rcu`.
    pub(crate) const fn new() -> Self {
        RcuHead {
            _next: core::ptr::null_mut(),
            _func: core::ptr::null_mut(),
        }
    }
}

/// An RCU read-side critical section (`rcu_read_lock()`), ended when this
/// value is dropped (`rcu_read_unlock()`).
///
/// For process context (request handlers, work items), where nothing else
/// keeps RCU readers out of a grace period. The syscall gate and the other
/// probes run with preemption disabled, which is already a read-side
/// section, and take no guard.
///
/// # Invariants
/// While the value lives, the current CPU is in an RCU read-side critical
/// section that this value began. It is neither `Send` nor `Sync`: the
/// section must end on the task that began it.
pub(crate) struct RcuReadGuard {
    _not_send: PhantomData<*mut ()>,
}

impl RcuReadGuard {
    /// Begins a read-side critical section.
    pub(crate) fn lock() -> Self {
        // SAFETY: `rcu_read_lock()` may be called in any context; the
        // section is ended by `drop`, on this task (the guard is not `Send`).
        unsafe { sf_rcu_read_lock() };
        RcuReadGuard {
            _not_send: PhantomData,
        }
    }
}

impl Drop for RcuReadGuard {
    fn drop(&mut self) {
        // SAFETY: pairs with the `rcu_read_lock()` in `lock` (the type's
        // invariant).
        unsafe { sf_rcu_read_unlock() };
    }
}

extern "C" {
    /// The version the C glue registers the family with.
    ///
    /// # Safety
    /// A constant: reading it is always sound.
    pub(crate) static sf_family_version: u8;

    /// The `max_policies` module parameter (read-only after load).
    ///
    /// # Safety
    /// Written only by the module loader before init runs (mode 0444):
    /// reading it is sound from init on.
    pub(crate) static sf_max_policies: c_uint;

    // ---- the syscall gate (sysfence_shim.c) ----

    /// Attaches the probe to the `sys_enter` tracepoint (and to
    /// `emulate_vsyscall` where the kernel has it); on failure nothing stays
    /// attached.
    ///
    /// # Safety
    /// Process context (may sleep); not attached already. Undone by
    /// [`sf_gate_detach`] before the module's text goes.
    pub(crate) fn sf_gate_attach() -> c_int;

    /// Detaches the probes and waits until no probe call runs
    /// (`tracepoint_synchronize_unregister`).
    ///
    /// # Safety
    /// Process context (may sleep); after a successful [`sf_gate_attach`].
    pub(crate) fn sf_gate_detach();

    /// This CPU's gate cache (128 bytes, 8-aligned).
    ///
    /// # Safety
    /// Preemption disabled, and it stays disabled while the pointer is used.
    pub(crate) fn sf_gate_cache_this_cpu() -> *mut c_void;

    /// This CPU's gate cache, as [`sf_gate_cache_this_cpu`], and the
    /// current task's cgroup id in `*cgid`.
    ///
    /// # Safety
    /// Task context with preemption disabled, as long as the pointer is
    /// used; `cgid` must be valid for a write.
    pub(crate) fn sf_gate_cache_for_current(cgid: *mut u64) -> *mut c_void;

    /// Skips the syscall; userspace sees `ret` as its result.
    ///
    /// # Safety
    /// `regs` must be the current task's syscall registers, in the
    /// `sys_enter` probe.
    pub(crate) fn sf_skip_syscall(regs: *mut PtRegs, ret: c_long);

    /// Skips the syscall and sends SIGSYS (TRAP).
    ///
    /// # Safety
    /// As [`sf_skip_syscall`].
    pub(crate) fn sf_trap(regs: *mut PtRegs, nr: c_int, compat: bool, data: c_int);

    /// Skips the syscall and kills the process with SIGSYS.
    ///
    /// # Safety
    /// As [`sf_skip_syscall`].
    pub(crate) fn sf_kill_process(regs: *mut PtRegs, nr: c_int, compat: bool);

    /// Replaces the syscall with the thread's exit.
    ///
    /// # Safety
    /// As [`sf_skip_syscall`].
    pub(crate) fn sf_kill_thread(regs: *mut PtRegs, nr: c_int, compat: bool);

    /// The syscall number the current task is in; `compat` says whether
    /// its ABI is the compat one (ia32, AArch32).
    ///
    /// # Safety
    /// `compat` must be valid for a write; any context of the current task.
    pub(crate) fn sf_current_syscall(compat: *mut bool) -> c_long;

    // ---- RCU (sysfence_shim.c) ----

    /// `call_rcu(head, func)`.
    ///
    /// # Safety
    /// `head` must stay valid and untouched by anyone else until `func`
    /// runs, after a grace period; `func` must stay callable until then
    /// ([`sf_rcu_barrier`] before the module's text goes).
    pub(crate) fn sf_call_rcu(head: *mut RcuHead, func: unsafe extern "C" fn(*mut RcuHead));

    /// `rcu_barrier()`: waits for every pending `call_rcu` callback.
    ///
    /// # Safety
    /// Process context (may sleep).
    pub(crate) fn sf_rcu_barrier();

    /// The kernel's `start_poll_synchronize_rcu()`: a cookie for a grace
    /// period that starts now or has started, one being started if need be.
    ///
    /// # Safety
    /// Process context.
    pub(crate) fn start_poll_synchronize_rcu() -> c_ulong;

    /// The kernel's `poll_state_synchronize_rcu(cookie)`: whether the
    /// grace period of `cookie` (from [`start_poll_synchronize_rcu`]) has
    /// ended, so that no reader from before it remains.
    ///
    /// # Safety
    /// Any context.
    pub(crate) fn poll_state_synchronize_rcu(cookie: c_ulong) -> bool;

    /// `rcu_read_lock()`.
    ///
    /// # Safety
    /// Must be paired with [`sf_rcu_read_unlock`] on the same task; use
    /// [`RcuReadGuard`], which does.
    pub(crate) fn sf_rcu_read_lock();

    /// `rcu_read_unlock()`.
    ///
    /// # Safety
    /// Ends a section [`sf_rcu_read_lock`] began on this task.
    pub(crate) fn sf_rcu_read_unlock();

    // ---- cgroups (sysfence_shim.c, sysfence_release.c, sysfence_contain.c) ----

    /// The ids of the current task's cgroup and ancestors at the levels
    /// set in `levels` (bit N: level N), deepest first, into `out` (room for
    /// `cap`); returns how many, and the task's own cgroup id in `own`.
    ///
    /// # Safety
    /// Preemption disabled or an RCU read-side section; `out` writable for
    /// `cap` ids and `own` for one.
    pub(crate) fn sf_current_path_ids(
        levels: u64,
        out: *mut u64,
        cap: c_int,
        own: *mut u64,
    ) -> c_int;

    /// Takes a reference on the cgroup with this id and writes its level
    /// (root: 0), or returns null (no such cgroup, or removed).
    ///
    /// # Safety
    /// Process context; `level` writable. A non-null result must be put
    /// once with [`sf_cgroup_unpin`].
    pub(crate) fn sf_cgroup_pin(id: u64, level: *mut c_int) -> *mut Cgroup;

    /// Whether a pinned cgroup is still online (not removed), after a
    /// full barrier (kmod/sysfence_release.c says why).
    ///
    /// # Safety
    /// `cgrp` must be pinned by [`sf_cgroup_pin`] and not yet unpinned.
    pub(crate) fn sf_cgroup_online(cgrp: *mut Cgroup) -> bool;

    /// Drops the reference [`sf_cgroup_pin`] took.
    ///
    /// # Safety
    /// `cgrp` must come from [`sf_cgroup_pin`], and is not used afterwards.
    pub(crate) fn sf_cgroup_unpin(cgrp: *mut Cgroup);

    /// Whether a cgroup v2 cgroup with this id exists (not removed).
    ///
    /// # Safety
    /// Process context (takes and puts a reference).
    pub(crate) fn sf_cgroup_exists(id: u64) -> bool;

    /// A cgroup's level (root: 0).
    ///
    /// # Safety
    /// `cgrp` must stay alive for the call (a reference, RCU, or the
    /// kernel's cgroup locks held by the caller).
    pub(crate) fn sf_cgroup_level(cgrp: *const Cgroup) -> c_int;

    /// The id of `cgrp`'s ancestor at `level` (itself at its own level), or
    /// 0 when `level` is not on its path.
    ///
    /// # Safety
    /// As [`sf_cgroup_level`].
    pub(crate) fn sf_cgroup_ancestor_id(cgrp: *const Cgroup, level: c_int) -> u64;

    // ---- freeing a removed cgroup's policy (sysfence_release.c) ----

    /// Attaches the `cgroup_rmdir` probe.
    ///
    /// # Safety
    /// Process context; not attached already. Undone by
    /// [`sf_release_detach`].
    pub(crate) fn sf_release_attach() -> c_int;

    /// Detaches it, and waits for the probe and the deleting work.
    ///
    /// # Safety
    /// Process context, without the generic netlink mutex (the work takes
    /// it); after a successful [`sf_release_attach`].
    pub(crate) fn sf_release_detach();

    // ---- generic netlink (sysfence_shim.c) ----

    /// Registers the generic netlink family, closed: every request is
    /// answered `ESHUTDOWN` until [`sf_nl_open`].
    ///
    /// # Safety
    /// Process context; not registered already. Undone by
    /// [`sf_nl_unregister`].
    pub(crate) fn sf_nl_register() -> c_int;

    /// Lets requests reach the handlers.
    ///
    /// # Safety
    /// The family is registered, and everything a handler relies on
    /// (scratch memory, gate, task gating, probes) is in place. Undone by
    /// [`sf_nl_fence`].
    pub(crate) fn sf_nl_open();

    /// Blocks new requests and waits for the running ones (module exit,
    /// first step): once the generic netlink mutex is taken, no handler of
    /// the family runs, and every later one is answered `ESHUTDOWN`.
    ///
    /// # Safety
    /// Process context (may sleep), without the generic netlink mutex.
    pub(crate) fn sf_nl_fence();

    /// Unregisters the family (waits for running handlers).
    ///
    /// # Safety
    /// Process context; after a successful [`sf_nl_register`], once nothing
    /// sends on the family any more ([`sf_ev_drain`]).
    pub(crate) fn sf_nl_unregister();

    /// Replies to a request with `len` bytes of attributes.
    ///
    /// # Safety
    /// `info` must be the `genl_info` of the request being handled (in its
    /// handler), and `buf` readable for `len` bytes.
    pub(crate) fn sf_nl_reply(info: *mut GenlInfo, cmd: u8, buf: *const u8, len: u32) -> c_int;

    /// Sets the extended-ack message and the offending attribute (`offset`
    /// into the request's attributes, `u32::MAX` for none).
    ///
    /// # Safety
    /// `info` as for [`sf_nl_reply`]; `msg` a NUL-terminated string that
    /// lives for the module's lifetime (the core reads it after the handler
    /// returned).
    pub(crate) fn sf_nl_set_err(info: *mut GenlInfo, msg: *const c_char, offset: u32);

    /// Multicasts `len` bytes of attributes as an event message.
    ///
    /// # Safety
    /// Process context (allocates with `GFP_KERNEL`); `buf` readable for
    /// `len` bytes; the family registered.
    pub(crate) fn sf_nl_event(buf: *const u8, len: u32) -> c_int;

    // ---- events (sysfence_shim.c) ----

    /// Whether anyone subscribes to the events group.
    ///
    /// # Safety
    /// Any context.
    pub(crate) fn sf_ev_has_listeners() -> bool;

    /// Queues an event record of `size` bytes (at most 256); `-ENOSPC` when
    /// the ring is full or stopped.
    ///
    /// # Safety
    /// `rec` readable for `size` bytes; any context but NMI.
    pub(crate) fn sf_ev_push(rec: *const u8, size: u32) -> c_int;

    /// Empties and opens the ring (module init).
    ///
    /// # Safety
    /// Nothing pushes yet (the gate is not attached). Undone by
    /// [`sf_ev_drain`].
    pub(crate) fn sf_ev_start();

    /// Sends what is queued and stops the ring (module exit).
    ///
    /// # Safety
    /// Process context (may sleep); nothing pushes any more (the gate and
    /// the hooks are detached), and the family is still registered.
    pub(crate) fn sf_ev_drain();

    /// The current task's pid, tid and comm (`comm_size` bytes, NUL-padded).
    ///
    /// # Safety
    /// `pid` and `tid` writable, `comm` writable for `comm_size` bytes; any
    /// context of the current task.
    pub(crate) fn sf_current_task_info(pid: *mut u32, tid: *mut u32, comm: *mut u8, comm_size: u32);

    /// `ktime_get_ns()`.
    ///
    /// # Safety
    /// Any context.
    pub(crate) fn sf_ktime_ns() -> u64;

    // ---- object hooks (sysfence_hooks.c) ----

    /// Registers the object hooks (the module's ftrace_ops on `security_*`)
    /// of the classes in `classes` (bit `class - 1`) not on yet, all or
    /// none. `-EOPNOTSUPP` without `CONFIG_DYNAMIC_FTRACE_WITH_ARGS`,
    /// `-EBUSY` when another IPMODIFY ftrace user holds a hooked function.
    ///
    /// # Safety
    /// Process context (may sleep), writers serialized. Undone by
    /// [`sf_hooks_detach`] before the module's text goes.
    pub(crate) fn sf_hooks_attach(classes: u32) -> c_int;

    /// Removes the object hooks of every class not in `keep`; once none is
    /// left, unregisters the ftrace_ops, waiting for running handlers;
    /// idempotent.
    ///
    /// # Safety
    /// Process context (may sleep), writers serialized.
    pub(crate) fn sf_hooks_detach(keep: u32);

    /// After a change of the table: the hooks of classes not in `want` are
    /// removed after a delay unless named again meanwhile
    /// (`sf_rust_hooks_settle`, from a work item under the genl mutex).
    ///
    /// # Safety
    /// Process context, writers serialized.
    pub(crate) fn sf_hooks_settle_later(want: u32);

    /// Module exit: disables the delayed removal (waiting for a running
    /// one), removes every hook, waiting for their handlers and until no
    /// task can still return into the module's text from a trampoline.
    ///
    /// # Safety
    /// Process context (may sleep); module exit, the family fenced.
    pub(crate) fn sf_hooks_exit();

    /// Hits of the hooked functions the handler skipped (already running
    /// in that context on the CPU).
    ///
    /// # Safety
    /// Any context.
    pub(crate) fn sf_hooks_missed() -> u64;

    /// Kills the current process (SIGKILL).
    ///
    /// # Safety
    /// In a hook's handler, for the task being decided.
    pub(crate) fn sf_obj_kill();

    // ---- who takes the syscall slow path (sysfence_tasks.c) ----

    /// After the gate is attached: keeps the syscall slow path to tasks
    /// under a policy, and attaches the fork, attach and exec probes.
    ///
    /// # Safety
    /// Process context (may sleep); the gate attached and no policy yet.
    /// Undone by [`sf_tasks_stop`].
    pub(crate) fn sf_tasks_start() -> c_int;

    /// Before the gate is detached: undoes [`sf_tasks_start`].
    ///
    /// # Safety
    /// Process context (may sleep); after a successful [`sf_tasks_start`].
    pub(crate) fn sf_tasks_stop();

    /// Puts every thread in the subtree of cgroup `id` on the slow path.
    ///
    /// # Safety
    /// Process context (walks the task list under RCU).
    pub(crate) fn sf_flag_subtree(id: u64);

    // ---- containment (sysfence_contain.c) ----

    /// Registers the containment kprobes.
    ///
    /// # Safety
    /// Process context (may sleep); not registered already. Undone by
    /// [`sf_contain_detach`].
    pub(crate) fn sf_contain_attach() -> c_int;

    /// Unregisters them and waits for running handlers.
    ///
    /// # Safety
    /// Process context (may sleep); after a successful
    /// [`sf_contain_attach`].
    pub(crate) fn sf_contain_detach();
}
