// SPDX-License-Identifier: GPL-2.0
//! Object decisions: the Rust side of the `security_*` hooks in
//! `sysfence_hooks.c` (see there for the mechanism).
//!
//! The C side resolves the object (path, socket address) and calls
//! [`sf_rust_obj_decide`]; the decision is shared-abi's
//! [`objects::decide_read`](crate::objects::decide_read) over every policy
//! on the task's cgroup path, the strictest winning as for syscalls.
//! Hooks are attached per object class while some policy names it
//! ([`attach`], [`sync`]).

use crate::events::{self, Decision};
use crate::ffi;
use crate::gate;
use crate::objects::{describe, parse_sockaddr, Addr, Object, UNIX_NAME_MAX};
use crate::proto::{action, class};
use crate::shadow::NO_POLICY;
use crate::store::{self, Entry};
use core::ffi::c_int;
use core::sync::atomic::Ordering::Relaxed;

/// `EPERM`, the errno of a kill-process object decision.
const EPERM: c_int = 1;
/// `EOPNOTSUPP`: ftrace cannot give the hooks the functions' arguments.
const EOPNOTSUPP: c_int = 95;
/// `EBUSY`: another ftrace user changes where a hooked function returns.
const EBUSY: c_int = 16;

/// Why object rules are refused on a kernel whose ftrace cannot run them.
const NO_FTRACE_ARGS: &core::ffi::CStr = c"object rules need ftrace with function arguments, and this kernel has none (CONFIG_DYNAMIC_FTRACE_WITH_ARGS is off; scripts/check-host.sh)";
/// Why they are refused when ftrace is off or another IPMODIFY ftrace user
/// holds a hooked function.
const HOOK_TAKEN: &core::ffi::CStr = c"object rules cannot be enforced: ftrace is switched off (sysctl kernel.ftrace_enabled=0), or a hooked security_* function is already modified by another ftrace user (a livepatch, or a kprobe with a post-handler; /sys/kernel/tracing/enabled_functions shows it)";

/// Attaches the hooks of the object classes in `classes` (bit `class -
/// 1`, as `Compiled::classes`) that are not on yet, before a policy naming them
/// is published. Called by the (serialized) netlink writers; may sleep.
pub(crate) fn attach(classes: u32) -> Result<(), store::Reject> {
    // SAFETY: idempotent registration of the static ftrace_ops; process
    // context.
    let rc = unsafe { ffi::sf_hooks_attach(classes) };
    match rc {
        0 => Ok(()),
        rc if rc == -EOPNOTSUPP => Err(store::Reject::new(
            kernel::error::Error::from_errno(rc),
            NO_FTRACE_ARGS,
        )),
        rc if rc == -EBUSY => Err(store::Reject::new(
            kernel::error::Error::from_errno(rc),
            HOOK_TAKEN,
        )),
        rc => Err(store::Reject::new(
            kernel::error::Error::from_errno(rc),
            c"could not attach the object hooks",
        )),
    }
}

/// The classes entry `e`'s policies name, waiting or shadow ones included
/// (their hooks must be on when they start or are promoted).
fn entry_classes(e: &Entry) -> u32 {
    let shadow = e.shadow.as_ref().and_then(|s| s.policy.as_deref());
    e.policy.as_deref().map_or(0, |p| p.classes) | shadow.map_or(0, |p| p.classes)
}

/// The classes some policy names now (in force, waiting or shadow).
fn wanted_classes() -> u32 {
    store::with_current(|s| {
        if !s.objects {
            return 0;
        }
        s.entries.iter().fold(0, |m, e| m | entry_classes(e))
    })
    .unwrap_or(0)
}

/// After a change of the table: the hooks of every class some policy names
/// are on, and those of classes none names go after a delay
/// (`sf_hooks_settle_later`). Called by the (serialized) writers; may
/// sleep.
pub(crate) fn sync() -> Result<(), kernel::error::Error> {
    let want = wanted_classes();
    // SAFETY: idempotent; process context. Normally nothing to attach:
    // the writer attached them before publishing.
    let rc = unsafe { ffi::sf_hooks_attach(want) };
    // SAFETY: process context, writers serialized.
    unsafe { ffi::sf_hooks_settle_later(want) };
    kernel::error::to_result(rc)
}

/// The delayed removal: the hooks of classes no policy names now go
/// (waiting for their running handlers). Runs from a work item under the
/// genl mutex, serialized with the writers, never after the fence.
#[no_mangle]
pub(crate) extern "C" fn sf_rust_hooks_settle() {
    let want = wanted_classes();
    // SAFETY: process context, serialized with the writers.
    unsafe { ffi::sf_hooks_detach(want) };
}

/// The object hooks' final teardown. The hooks are attached on demand, by
/// request handlers, while some policy has object rules ([`sync`]); this
/// value, made at module init, owns their detach at exit, after the gate
/// is detached and before the event ring stops.
pub(crate) struct ObjectHooks(());

impl ObjectHooks {
    /// At module init: nothing is attached yet.
    pub(crate) fn new() -> Self {
        ObjectHooks(())
    }
}

impl Drop for ObjectHooks {
    fn drop(&mut self) {
        // SAFETY: module exit, process context, the family fenced: no
        // writer attaches or queues anything again; returns once no hook
        // handler runs and no refused call can return into module text.
        unsafe { ffi::sf_hooks_exit() };
    }
}

/// Whether the current task is under a policy (in force or shadow) with
/// rules of object class `class`: the hook handlers let every other task's
/// call run untouched. Lock-free.
///
/// # Safety
/// Task context with preemption disabled, outside the gate (the hook
/// handler, under its recursion guard).
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_obj_wanted(class: u32) -> bool {
    let bit = crate::proto::class::bit(class);
    store::with_current(|snap| {
        if !snap.objects {
            return false;
        }
        let mut found = false;
        // SAFETY: as this function's contract.
        unsafe { gate::for_each_active_here(snap, |e| found |= names_class(e, bit)) };
        found
    })
    .unwrap_or(false)
}

/// Whether entry `e`'s policy in force or its shadow names a class of
/// `bits`.
fn names_class(e: &Entry, bits: u32) -> bool {
    let shadow = e.shadow.as_ref().and_then(|s| s.policy.as_deref());
    e.in_force().is_some_and(|p| p.classes & bits != 0)
        || shadow.is_some_and(|p| p.classes & bits != 0)
}

/// Decides one object for the current task; returns 0 to let the hooked
/// function's result stand, or a negative errno to return instead.
///
/// # Safety
/// `data` must be null or point to `len` readable bytes; the caller runs
/// in the task's context with preemption disabled (a hook's handler, at
/// the hooked function's ftrace entry).
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_obj_decide(
    class: u32,
    a: u32,
    b: u32,
    c: u32,
    data: *const u8,
    len: u32,
) -> c_int {
    let bytes: &[u8] = if data.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller passes `len` readable bytes at `data`, valid
        // for this call.
        unsafe { core::slice::from_raw_parts(data, len as usize) }
    };
    let obj = match class {
        class::FILE => Object::File {
            path: bytes,
            access: a,
        },
        class::EXEC => Object::Exec { path: bytes },
        class::SOCKET => Object::Socket {
            family: a,
            kind: b,
            protocol: c,
        },
        class::CONNECT | class::BIND => return decide_address(class, bytes),
        _ => return 0,
    };
    store::with_current(|snap| decide(snap, &obj)).unwrap_or(0)
}

/// As [`sf_rust_obj_decide`], for a socket address (`class` connect or
/// bind).
fn decide_address(class: u32, bytes: &[u8]) -> c_int {
    let mut scratch = [0u8; UNIX_NAME_MAX];
    let addr = parse_sockaddr(bytes, &mut scratch);
    let obj = if class == class::BIND {
        Object::Bind(addr)
    } else {
        Object::Connect(addr)
    };
    // AF_UNSPEC on connect dissolves an association: nothing to decide.
    if matches!(obj, Object::Connect(Addr::Other(0))) {
        return 0;
    }
    store::with_current(|snap| decide(snap, &obj)).unwrap_or(0)
}

/// Whether entry `e` has object rules in its policy in force or its
/// shadow: `Some(in force's, if any)`.
fn objects_of(e: &Entry) -> Option<Option<&store::Compiled>> {
    let enforcing = e.in_force().filter(|p| p.objects);
    let shadow = e
        .shadow
        .as_ref()
        .and_then(|s| s.policy.as_deref())
        .is_some_and(|p| p.objects);
    (enforcing.is_some() || shadow).then_some(enforcing)
}

/// A policy's answer for an object: its object rules' (allow without any).
fn object_answer(p: &store::Compiled, obj: &Object<'_>) -> u32 {
    if p.objects {
        p.decide_object(obj)
    } else {
        action::ALLOW
    }
}

/// The call that reached the hook, for events and shadow records.
fn current_call() -> (crate::proto::Abi, u32) {
    let mut compat = false;
    // SAFETY: `compat` is a valid out-pointer; reads the current task.
    let nr = unsafe { ffi::sf_current_syscall(&mut compat) };
    crate::arch::classify(compat, nr)
}

fn decide(snap: &store::Snapshot, obj: &Object<'_>) -> c_int {
    if !snap.objects {
        return 0;
    }
    let mut verdict: Option<(u32, &Entry)> = None;
    // SAFETY: reached only from `sf_rust_obj_decide`, whose callers are the
    // hook handlers: task context, preemption disabled, outside the gate.
    let own = unsafe {
        gate::for_each_active_here(snap, |e| {
            if let Some(Some(p)) = objects_of(e) {
                gate::keep_stricter(&mut verdict, p.decide_object(obj), e);
            }
        })
    };
    if snap.shadows {
        note_shadows(snap, obj, verdict.map_or(action::ALLOW, |(a, _)| a));
    }
    carry_out(verdict, own, obj)
}

/// Records, for each shadow on the task's path whose promotion would
/// change the answer `enforced`, what it would answer. Out of line: the
/// path's answers are kept in a 64-level array only here.
#[inline(never)]
fn note_shadows(snap: &store::Snapshot, obj: &Object<'_>, enforced: u32) {
    let mut path = gate::PathAnswers::new();
    let own = gate::for_each_active(snap, |e| {
        if let Some(enforcing) = objects_of(e) {
            path.push(enforcing.map_or(NO_POLICY, |p| p.decide_object(obj)), e);
        }
    });
    // The object's text, made once, for the first record only.
    let mut buf = [0u8; crate::event::OBJECT_MAX];
    let mut text_len = None;
    let (abi, nr) = current_call();
    path.each_difference(
        enforced,
        |p| object_answer(p, obj),
        |e, rec, would| {
            let n = *text_len.get_or_insert_with(|| describe(obj, &mut buf));
            let d = Decision {
                policy_cgroup: e.cgroup,
                task_cgroup: own,
                abi,
                nr,
                action: would,
                object: Some((obj.class(), buf.get(..n).unwrap_or(&[]))),
                shadow: Some((rec.id, enforced)),
            };
            events::note_shadow(rec, &d, || [0; 6]);
        },
    );
}

/// Carries out the verdict of the task's policies for an object (none:
/// the call runs uncounted): counters, the event, and the answer to
/// return.
fn carry_out(verdict: Option<(u32, &Entry)>, own: u64, obj: &Object<'_>) -> c_int {
    let Some((a, e)) = verdict else {
        return 0;
    };
    let s = &e.stats;
    let kind = a & action::ACTION_MASK;
    if kind == action::ALLOW {
        s.allowed.fetch_add(1, Relaxed);
        return 0;
    }
    let (abi, nr) = current_call();
    let mut buf = [0u8; crate::event::OBJECT_MAX];
    let n = describe(obj, &mut buf);
    let d = Decision {
        policy_cgroup: e.cgroup,
        task_cgroup: own,
        abi,
        nr,
        action: a,
        object: Some((obj.class(), buf.get(..n).unwrap_or(&[]))),
        shadow: None,
    };
    events::report(s, &d, || [0; 6]);
    match kind {
        action::LOG => {
            s.allowed.fetch_add(1, Relaxed);
            s.logged.fetch_add(1, Relaxed);
            0
        }
        action::ERRNO => {
            s.denied.fetch_add(1, Relaxed);
            -((a & action::DATA_MASK) as c_int)
        }
        _ => {
            // kill-process, and fail closed on anything unexpected.
            s.killed.fetch_add(1, Relaxed);
            // SAFETY: signals the current task; allowed with preemption
            // disabled.
            unsafe { ffi::sf_obj_kill() };
            -EPERM
        }
    }
}

/// Hits of a hooked function the handler skipped because it was already
/// running in the same context on that CPU (reported by `get-info`).
pub(crate) fn missed() -> u64 {
    // SAFETY: reads counters; any context.
    unsafe { ffi::sf_hooks_missed() }
}
