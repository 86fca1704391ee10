// SPDX-License-Identifier: GPL-2.0
//! Object decisions: the Rust side of the `security_*` hooks in
//! `sysfence_hooks.c` (see there for the mechanism).
//!
//! The C side resolves the object (path, socket address) and calls
//! [`sf_rust_obj_decide`]; the decision is shared-abi's
//! [`objects::decide`](crate::objects::decide_payload) over every policy
//! on the task's cgroup path, the strictest winning as for syscalls.
//! Hooks are attached while some policy has object rules ([`sync`]).

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

/// Attaches the hooks when some policy has object rules, detaches them
/// when none has. Called by the (serialized) netlink writers after each
/// change of the table; may sleep.
pub(crate) fn sync() -> Result<(), kernel::error::Error> {
    let want = store::with_current(|s| s.objects).unwrap_or(false);
    if want {
        // SAFETY: idempotent registration of static kretprobes; process
        // context.
        kernel::error::to_result(unsafe { ffi::sf_hooks_attach() })
    } else {
        // SAFETY: idempotent; waits for running handlers; process context.
        unsafe { ffi::sf_hooks_detach() };
        Ok(())
    }
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
        // SAFETY: idempotent; returns once no hook handler runs, and
        // pending return instances no longer reach module code. No handler
        // can attach them again (the family is fenced by then).
        unsafe { ffi::sf_hooks_detach() };
    }
}

/// Whether the current task is under a policy with object rules: the hook
/// entry handlers (int3 context) skip every other task. Lock-free.
#[no_mangle]
pub(crate) extern "C" fn sf_rust_obj_wanted() -> bool {
    store::with_current(|snap| {
        if !snap.objects {
            return false;
        }
        let mut found = false;
        gate::for_each_active(snap, |e| found |= objects_of(e).is_some());
        found
    })
    .unwrap_or(false)
}

/// Decides one object for the current task; returns 0 to let the hooked
/// function's result stand, or a negative errno to return instead.
///
/// # Safety
/// `data` must be null or point to `len` readable bytes; the caller runs
/// with preemption disabled (a kretprobe return handler).
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
    let mut scratch = [0u8; UNIX_NAME_MAX];
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
        class::CONNECT => Object::Connect(parse_sockaddr(bytes, &mut scratch)),
        class::BIND => Object::Bind(parse_sockaddr(bytes, &mut scratch)),
        _ => return 0,
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
    let mut ia32 = false;
    // SAFETY: `ia32` is a valid out-pointer; reads the current task.
    let nr = unsafe { ffi::sf_current_syscall(&mut ia32) };
    gate::classify(ia32, nr)
}

fn decide(snap: &store::Snapshot, obj: &Object<'_>) -> c_int {
    if !snap.objects {
        return 0;
    }
    let mut verdict: Option<(u32, &Entry)> = None;
    let mut path = gate::PathAnswers::new();
    let own = gate::for_each_active(snap, |e| {
        let Some(enforcing) = objects_of(e) else {
            return;
        };
        let a = enforcing.map_or(NO_POLICY, |p| p.decide_object(obj));
        if a != NO_POLICY {
            gate::keep_stricter(&mut verdict, a, e);
        }
        path.push(a, e);
    });
    // The object's text, made only for an event or a record.
    let mut buf = [0u8; crate::event::OBJECT_MAX];
    let mut text_len = None;
    let mut text = |buf: &mut [u8; crate::event::OBJECT_MAX]| -> usize {
        *text_len.get_or_insert_with(|| describe(obj, buf))
    };
    if snap.shadows {
        let enforced = verdict.map_or(action::ALLOW, |(a, _)| a);
        let (abi, nr) = current_call();
        path.each_difference(
            enforced,
            |p| object_answer(p, obj),
            |e, rec, would| {
                let n = text(&mut buf);
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
    let n = text(&mut buf);
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

/// Calls the hooks could not check because all their return instances
/// were in use (reported by `get-info`).
pub(crate) fn missed() -> u64 {
    // SAFETY: reads counters; any context.
    unsafe { ffi::sf_hooks_missed() }
}
