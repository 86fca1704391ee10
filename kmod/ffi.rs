// SPDX-License-Identifier: GPL-2.0
//! Declarations of the C glue in `sysfence_shim.c`.
//!
//! This file and the `extern "C"` entry points in `gate.rs` and `netlink.rs`
//! are the module's whole C boundary. Kernel structs stay opaque on the Rust
//! side: every field access happens in C (see the layout hazard in
//! `docs/testing.md`).

use core::ffi::{c_int, c_long, c_void};

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

extern "C" {
    /// The version the C glue registers the family with.
    pub(crate) static sf_family_version: u8;
    /// The `max_policies` module parameter (read-only after load).
    pub(crate) static sf_max_policies: core::ffi::c_uint;
    /// Attaches the probe to the `sys_enter` tracepoint.
    pub(crate) fn sf_gate_attach() -> c_int;
    /// Detaches the probe and waits until no probe call runs.
    pub(crate) fn sf_gate_detach();
    /// `call_rcu(head, func)`.
    pub(crate) fn sf_call_rcu(
        head: *mut crate::store::RcuHead,
        func: unsafe extern "C" fn(*mut crate::store::RcuHead),
    );
    /// `rcu_barrier()`: waits for every pending `call_rcu` callback.
    pub(crate) fn sf_rcu_barrier();
    /// The ids of the current task's cgroup and ancestors at the levels
    /// set in `levels` (bit N: level N), deepest first, into `out` (room for
    /// `cap`); returns how many, and the task's own cgroup id in `own`.
    /// Caller: preemption off or RCU held.
    pub(crate) fn sf_current_path_ids(levels: u64, out: *mut u64, cap: c_int, own: *mut u64) -> c_int;
    /// This CPU's gate cache (128 bytes, 8-aligned); valid while
    /// preemption stays disabled.
    pub(crate) fn sf_gate_cache_this_cpu() -> *mut c_void;
    /// Takes a reference on the cgroup with this id and writes its level
    /// (root: 0), or returns null (no such cgroup, or removed); undone by
    /// [`sf_cgroup_unpin`].
    pub(crate) fn sf_cgroup_pin(id: u64, level: *mut c_int) -> *mut Cgroup;
    /// Whether a pinned cgroup is still online (not removed), after a
    /// full barrier (kmod/sysfence_release.c says why).
    pub(crate) fn sf_cgroup_online(cgrp: *mut Cgroup) -> bool;
    /// Drops the reference [`sf_cgroup_pin`] took.
    pub(crate) fn sf_cgroup_unpin(cgrp: *mut Cgroup);
    /// Whether a cgroup v2 cgroup with this id exists (not removed).
    pub(crate) fn sf_cgroup_exists(id: u64) -> bool;
    /// Attaches the `cgroup_rmdir` probe (kmod/sysfence_release.c).
    pub(crate) fn sf_release_attach() -> c_int;
    /// Detaches it, and waits for the probe and the deleting work.
    pub(crate) fn sf_release_detach();
    /// `rcu_read_lock()`.
    pub(crate) fn sf_rcu_read_lock();
    /// `rcu_read_unlock()`.
    pub(crate) fn sf_rcu_read_unlock();
    /// Skips the syscall; userspace sees `ret` as its result.
    pub(crate) fn sf_skip_syscall(regs: *mut PtRegs, ret: c_long);
    /// Skips the syscall and sends SIGSYS (TRAP).
    pub(crate) fn sf_trap(regs: *mut PtRegs, nr: c_int, ia32: bool, data: c_int);
    /// Skips the syscall and kills the process with SIGSYS.
    pub(crate) fn sf_kill_process(regs: *mut PtRegs, nr: c_int, ia32: bool);
    /// Replaces the syscall with the thread's exit.
    pub(crate) fn sf_kill_thread(regs: *mut PtRegs, nr: c_int, ia32: bool);
    /// Registers the generic netlink family.
    pub(crate) fn sf_nl_register() -> c_int;
    /// Unregisters the family (waits for running handlers).
    pub(crate) fn sf_nl_unregister();
    /// Replies to a request with `len` bytes of attributes.
    pub(crate) fn sf_nl_reply(info: *mut GenlInfo, cmd: u8, buf: *const u8, len: u32) -> c_int;
    /// Whether anyone subscribes to the events group.
    pub(crate) fn sf_ev_has_listeners() -> bool;
    /// Queues an event record of `size` bytes (at most 256); `-ENOSPC` when
    /// the ring is full.
    pub(crate) fn sf_ev_push(rec: *const u8, size: u32) -> c_int;
    /// Sends what is queued and stops the ring (module exit).
    pub(crate) fn sf_ev_drain();
    /// Empties and opens the ring (module init).
    pub(crate) fn sf_ev_start();
    /// The current task's pid, tid and comm (`comm_size` bytes, NUL-padded).
    pub(crate) fn sf_current_task_info(pid: *mut u32, tid: *mut u32, comm: *mut u8, comm_size: u32);
    /// `ktime_get_ns()`.
    pub(crate) fn sf_ktime_ns() -> u64;
    /// Multicasts `len` bytes of attributes as an event message.
    pub(crate) fn sf_nl_event(buf: *const u8, len: u32) -> c_int;
    /// Sets the extended-ack message (static) and the offending attribute.
    pub(crate) fn sf_nl_set_err(info: *mut GenlInfo, msg: *const u8, offset: u32);
    /// Registers the object hooks (kretprobes on `security_*`); idempotent.
    /// May sleep.
    pub(crate) fn sf_hooks_attach() -> c_int;
    /// Unregisters the object hooks and waits for running handlers;
    /// idempotent. May sleep.
    pub(crate) fn sf_hooks_detach();
    /// Calls of filtered tasks the hooks refused because all return
    /// instances were in use.
    pub(crate) fn sf_hooks_missed() -> u64;
    /// Kills the current process (SIGKILL).
    pub(crate) fn sf_obj_kill();
    /// The syscall number the current task is in; `ia32` says its ABI.
    pub(crate) fn sf_current_syscall(ia32: *mut bool) -> c_long;
    /// After the gate is attached: keeps the syscall slow path to tasks
    /// under a policy (see `sysfence_tasks.c`). May sleep.
    pub(crate) fn sf_tasks_start() -> c_int;
    /// Before the gate is detached: undoes `sf_tasks_start`. May sleep.
    pub(crate) fn sf_tasks_stop();
    /// Puts every thread in the subtree of cgroup `id` on the slow path.
    pub(crate) fn sf_flag_subtree(id: u64);
    /// Registers the containment kprobes (`sysfence_contain.c`). May sleep.
    pub(crate) fn sf_contain_attach() -> c_int;
    /// Unregisters them and waits for running handlers. May sleep.
    pub(crate) fn sf_contain_detach();
    /// A cgroup's level (root: 0).
    pub(crate) fn sf_cgroup_level(cgrp: *const Cgroup) -> c_int;
    /// The id of `cgrp`'s ancestor at `level` (itself at its own level), or
    /// 0 when `level` is not on its path.
    pub(crate) fn sf_cgroup_ancestor_id(cgrp: *const Cgroup, level: c_int) -> u64;
    /// Blocks new netlink requests and waits for the running ones (module
    /// exit, first step). May sleep.
    pub(crate) fn sf_nl_fence();
}
