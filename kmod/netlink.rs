// SPDX-License-Identifier: GPL-2.0
//! The generic netlink control plane: request handlers.
//!
//! The C glue registers the family (admin permission on changing commands,
//! init network namespace only, no attribute parsing in the core) and calls
//! [`sf_rust_doit`] with each request's attributes. Parsing and validation
//! are shared-abi's; errors go back as extended-ack messages.

use crate::engine;
use crate::ffi::{self, GenlInfo};
use crate::gate;
use crate::nla::Writer;
use crate::proto::{attr, features, limits, Cmd, FAMILY_VERSION, RELEASE};
use crate::store::{self, Compiled, Reject};
use core::ffi::{c_int, CStr};
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::sync::atomic::Ordering::Relaxed;
use kernel::alloc::KVVec;
use kernel::prelude::*;
use kernel::sync::Arc;

fn overflow(_: crate::nla::Error) -> Reject {
    Reject::new(store::emsgsize(), c"reply too large")
}

/// The request a handler answers: the `genl_info` the C glue passed to
/// [`sf_rust_doit`], for the duration of that call.
///
/// # Invariants
/// `info` points to the `genl_info` of the request being handled, valid
/// for `'a`, which does not outlive the handler's call.
struct Request<'a> {
    info: NonNull<GenlInfo>,
    _call: PhantomData<&'a mut GenlInfo>,
}

impl Request<'_> {
    /// Wraps the request's `genl_info`; `None` for a null pointer.
    ///
    /// # Safety
    /// `info` must be null or the `genl_info` of the request being handled,
    /// valid for the lifetime chosen, which must not outlive the handler's
    /// call.
    unsafe fn from_raw(info: *mut GenlInfo) -> Option<Self> {
        Some(Request {
            info: NonNull::new(info)?,
            _call: PhantomData,
        })
    }

    /// Replies with `bytes` of attributes as command `cmd`.
    fn reply(&self, cmd: Cmd, bytes: &[u8]) -> Result<(), Reject> {
        let len = u32::try_from(bytes.len())
            .map_err(|_| Reject::new(store::emsgsize(), c"reply too large"))?;
        // SAFETY: `info` is the request being handled (the type's
        // invariant); `bytes` is valid for `len` bytes and copied before the
        // call returns.
        let rc = unsafe { ffi::sf_nl_reply(self.info.as_ptr(), cmd as u8, bytes.as_ptr(), len) };
        if rc < 0 {
            return Err(Reject::new(
                Error::from_errno(rc),
                c"could not send the reply",
            ));
        }
        Ok(())
    }

    /// Sets the extended-ack message and, when given, the offending
    /// attribute's offset.
    fn set_error(&self, msg: &'static CStr, offset: Option<usize>) {
        let offset = offset
            .and_then(|o| u32::try_from(o).ok())
            .unwrap_or(u32::MAX);
        // SAFETY: `info` is the request being handled (the type's
        // invariant); the message is NUL-terminated and static, as the
        // extended ack, read after the handler returns, requires.
        unsafe { ffi::sf_nl_set_err(self.info.as_ptr(), msg.as_ptr(), offset) };
    }
}

fn require_cgroup(id: Option<u64>) -> Result<u64, Reject> {
    id.ok_or_else(|| Reject::new(EINVAL, c"missing cgroup id attribute"))
}

fn refuse_if_filtered() -> Result<(), Reject> {
    if gate::current_is_filtered() {
        return Err(Reject::new(
            EPERM,
            c"the caller is itself under a sysfence policy",
        ));
    }
    Ok(())
}

fn get_info(request: &Request<'_>) -> Result<(), Reject> {
    let mut buf = [0u8; 128];
    let mut w = Writer::new(&mut buf);
    (|| {
        w.put_u32(attr::INFO_VERSION, u32::from(FAMILY_VERSION))?;
        w.put_u64(
            attr::INFO_FEATURES,
            features::SYSCALL_FILTER
                | features::HIERARCHY
                | features::EVENTS
                | features::RECORD
                | features::OBJECTS
                | features::ARM_ON_EXEC
                | features::SHADOW
                | features::FREE_WITH_CGROUP
                | features::POLICY_BATCH,
        )?;
        w.put_u64(attr::INFO_OBJECTS_UNCHECKED, crate::hooks::missed())?;
        w.put_u64(attr::INFO_POLICIES_FREED, crate::release::freed())?;
        w.put_u32(attr::INFO_POLICY_COUNT, store::count() as u32)?;
        w.put_u32(attr::INFO_MAX_POLICIES, store::max_policies())?;
        w.put_u32(attr::INFO_MAX_RULES, limits::MAX_RULES)?;
        w.put_u32(attr::INFO_EVENTS_PER_SEC, limits::EVENTS_PER_SEC)?;
        w.put_str(attr::INFO_RELEASE, RELEASE)
    })()
    .map_err(overflow)?;
    let n = w.len();
    request.reply(Cmd::GetInfo, buf.get(..n).unwrap_or(&[]))
}

fn policy_set(payload: &[u8]) -> Result<(), Reject> {
    refuse_if_filtered()?;
    let req = engine::parse_request(payload, true).map_err(store::invalid)?;
    let cgroup = require_cgroup(req.cgroup_id)?;
    let policy = req
        .policy
        .ok_or_else(|| Reject::new(EINVAL, c"missing policy attribute"))?;
    // The same tables as a policy the module already holds are shared.
    let compiled = store::compile(&policy, store::find_identical)?;
    // Held until the table with the policy is published; then a check that
    // the cgroup was not removed meanwhile (release.rs frees the policies
    // of cgroups removed after that).
    let pin = Pinned::new(cgroup)?;
    let level = pin.level;
    if level == 0 {
        return Err(Reject::new(
            EINVAL,
            c"refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included",
        ));
    }
    // Object rules are in force from the moment the policy is: the hooks
    // go on before it is published.
    if compiled.objects {
        crate::hooks::attach(compiled.classes)?;
    }
    // A cgroup's first policy: its tasks go on the syscall slow path before
    // the policy is published and again after, so none runs unchecked
    // (kmod/sysfence_tasks.c). A replace needs nothing: they already are.
    let first = store::with_current(|s| s.find(cgroup).is_none()).unwrap_or(true);
    if first {
        // SAFETY: plain walk of the task list under RCU; process context.
        unsafe { ffi::sf_flag_subtree(cgroup) };
    }
    // The ancestors are read for a cgroup's first entry only: a replace
    // finds them in the entry (they never change), and skips the
    // allocation.
    let place = if first {
        pin.place()?
    } else {
        store::Place {
            level: pin.level,
            ancestors: KVec::new(),
        }
    };
    let result = if req.shadow {
        store::set_shadow(cgroup, place, compiled)
    } else {
        store::set(cgroup, place, compiled, req.arm_on_exec)
    };
    if first && result.is_ok() {
        // SAFETY: as above.
        unsafe { ffi::sf_flag_subtree(cgroup) };
    }
    let result = result.and_then(|()| {
        if pin.online() {
            return Ok(());
        }
        // Removed while the request ran: the rmdir probe may have missed
        // the policy (kmod/sysfence_release.c), so it goes now.
        let _ = store::delete(cgroup);
        Err(Reject::new(ENOENT, c"the cgroup was removed"))
    });
    // Off again when no policy has object rules any more (or the set
    // failed).
    let _ = crate::hooks::sync();
    result
}

/// One item of a batch, compiled and pinned.
struct Pending {
    pin: Pinned,
    cgroup: u64,
    policy: Arc<Compiled>,
    first: bool,
}

/// `policy-set-batch`: every item validated, compiled and its cgroup
/// pinned before anything changes; then one table with all of them. A
/// refusal anywhere (a bad policy, an unknown or root cgroup, a cgroup
/// named twice, the policy limit) changes nothing.
fn policy_set_batch(payload: &[u8]) -> Result<(), Reject> {
    refuse_if_filtered()?;
    let n = engine::parse_batch(payload, |_, _| Ok(())).map_err(store::invalid)?;
    let mut raw = KVec::with_capacity(n, GFP_KERNEL)?;
    let mut oom = false;
    engine::parse_batch(payload, |cgroup, policy| {
        oom |= raw.push((cgroup, policy), GFP_KERNEL).is_err();
        Ok(())
    })
    .map_err(store::invalid)?;
    if oom {
        return Err(Reject::new(ENOMEM, c"out of memory"));
    }
    let mut items: KVec<Pending> = KVec::with_capacity(n, GFP_KERNEL)?;
    let identical = store::Identical::of_current()?;
    for (cgroup, policy) in raw.iter() {
        if items.iter().any(|p| p.cgroup == *cgroup) {
            return Err(Reject {
                offset: Some(policy.offset),
                ..Reject::new(EINVAL, c"a cgroup is named twice in the batch")
            });
        }
        let policy = store::compile(policy, |built| {
            identical.find(built).or_else(|| {
                items
                    .iter()
                    .find(|p| p.policy.same_as(built))
                    .map(|p| p.policy.clone())
            })
        })?;
        let pin = Pinned::new(*cgroup)?;
        if pin.level == 0 {
            return Err(Reject::new(
                EINVAL,
                c"refusing a policy on the root cgroup: it would apply to every task on the host, the operator's included",
            ));
        }
        let first = store::with_current(|s| s.find(*cgroup).is_none()).unwrap_or(true);
        items.push(
            Pending {
                pin,
                cgroup: *cgroup,
                policy,
                first,
            },
            GFP_KERNEL,
        )?;
    }
    let classes = items.iter().fold(0, |m, p| m | p.policy.classes);
    if classes != 0 {
        crate::hooks::attach(classes)?;
    }
    let mut sets = KVec::with_capacity(items.len(), GFP_KERNEL)?;
    for p in items.iter() {
        // As in `policy_set`: ancestors for a first entry only.
        let place = if p.first {
            p.pin.place()?
        } else {
            store::Place {
                level: p.pin.level,
                ancestors: KVec::new(),
            }
        };
        sets.push((p.cgroup, place, p.policy.clone()), GFP_KERNEL)?;
    }
    // As in `policy_set`: the tasks of a cgroup's first policy go on the
    // slow path before it is published and again after.
    let flag = |items: &KVec<Pending>| {
        for p in items.iter().filter(|p| p.first) {
            // SAFETY: plain walk of the task list under RCU; process context.
            unsafe { ffi::sf_flag_subtree(p.cgroup) };
        }
    };
    flag(&items);
    let result = store::set_many(sets);
    if result.is_ok() {
        flag(&items);
    }
    let result = result.and_then(|()| {
        let mut removed = false;
        for p in items.iter().filter(|p| !p.pin.online()) {
            // Removed while the request ran (see `policy_set`).
            let _ = store::delete(p.cgroup);
            removed = true;
        }
        if removed {
            return Err(Reject::new(
                ENOENT,
                c"a cgroup of the batch was removed meanwhile; the others' policies are set",
            ));
        }
        Ok(())
    });
    let _ = crate::hooks::sync();
    result
}

/// A reference on a cgroup, dropped with this value.
struct Pinned {
    cgrp: *mut ffi::Cgroup,
    level: u32,
}

impl Pinned {
    fn new(id: u64) -> Result<Self, Reject> {
        let mut level = 0;
        // SAFETY: a lookup by id that takes a reference; `drop` puts it.
        let cgrp = unsafe { ffi::sf_cgroup_pin(id, &mut level) };
        if cgrp.is_null() {
            return Err(Reject::new(ENOENT, c"no cgroup with this id"));
        }
        // Owned from here: every path below puts the reference exactly
        // once (by dropping this value).
        let mut pinned = Pinned { cgrp, level: 0 };
        pinned.level =
            u32::try_from(level).map_err(|_| Reject::new(ENOENT, c"no cgroup with this id"))?;
        Ok(pinned)
    }
}

impl Pinned {
    /// Its level and its ancestors' ids, root first.
    fn place(&self) -> Result<store::Place, Reject> {
        let mut ancestors = KVec::with_capacity(self.level as usize, GFP_KERNEL)?;
        for l in 0..self.level {
            // SAFETY: `cgrp` is pinned; `l` is below its level.
            let id = unsafe { ffi::sf_cgroup_ancestor_id(self.cgrp, l as c_int) };
            ancestors.push(id, GFP_KERNEL)?;
        }
        Ok(store::Place {
            level: self.level,
            ancestors,
        })
    }

    /// Whether the cgroup is still online (not removed), ordered after the
    /// table published before the call.
    fn online(&self) -> bool {
        // SAFETY: `cgrp` is pinned (a reference held until `drop`).
        unsafe { ffi::sf_cgroup_online(self.cgrp) }
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        // SAFETY: `cgrp` came from `sf_cgroup_pin` and is put once, here.
        unsafe { ffi::sf_cgroup_unpin(self.cgrp) };
    }
}

fn policy_delete(payload: &[u8]) -> Result<(), Reject> {
    refuse_if_filtered()?;
    let req = engine::parse_request(payload, false).map_err(store::invalid)?;
    let result = store::delete(require_cgroup(req.cgroup_id)?);
    let _ = crate::hooks::sync();
    result
}

/// Promotes the shadow of a cgroup, or discards it.
fn shadow_change(payload: &[u8], promote: bool) -> Result<(), Reject> {
    refuse_if_filtered()?;
    let req = engine::parse_request(payload, false).map_err(store::invalid)?;
    let cgroup = require_cgroup(req.cgroup_id)?;
    let result = if promote {
        store::promote(cgroup)
    } else {
        store::discard_shadow(cgroup)
    };
    let _ = crate::hooks::sync();
    result
}

/// Encodes one cgroup's policies as `CGROUP_ID`, `POLICY` (the enforcing
/// one, if any) and `SHADOW_POLICY` or `SHADOW_NONE` into `w` (read back
/// from their tables: see `engine::Tables::encode`).
fn encode_policy(w: &mut Writer<'_>, e: &store::Entry) -> Result<(), crate::nla::Error> {
    w.put_u64(attr::CGROUP_ID, e.cgroup)?;
    if let Some(p) = &e.policy {
        w.nest(attr::POLICY, |w| p.tables().encode(w))?;
    }
    if e.stats.waiting.load(Relaxed) {
        w.put(attr::WAITING_FOR_EXEC, &[])?;
    }
    match e.shadow.as_ref().map(|s| s.policy.as_ref()) {
        Some(Some(p)) => w.nest(attr::SHADOW_POLICY, |w| p.tables().encode(w))?,
        Some(None) => w.put(attr::SHADOW_NONE, &[])?,
        None => {}
    }
    Ok(())
}

/// Bytes [`encode_policy`] may write for `e`.
fn encoded_size(e: &store::Entry) -> usize {
    let len =
        |p: Option<&Arc<Compiled>>| p.map_or(0, |p| p.tables().encoded_len().saturating_add(8));
    let shadow = e.shadow.as_ref().and_then(|s| s.policy.as_ref());
    len(e.policy.as_ref())
        .saturating_add(len(shadow))
        .saturating_add(32)
}

fn policy_get(request: &Request<'_>, payload: &[u8]) -> Result<(), Reject> {
    let req = engine::parse_request(payload, false).map_err(store::invalid)?;
    let cgroup = require_cgroup(req.cgroup_id)?;
    // Up to 64 KiB: kvmalloc, which falls back to vmalloc rather than
    // failing (and warning) on a fragmented machine.
    let found = store::with_current(|s| -> Result<Option<(KVVec<u8>, usize)>, Reject> {
        let Some(e) = s.find(cgroup) else {
            return Ok(None);
        };
        let size = encoded_size(e);
        let mut buf = KVVec::from_elem(0u8, size, GFP_KERNEL)?;
        let mut w = Writer::new(&mut buf);
        encode_policy(&mut w, e).map_err(overflow)?;
        let n = w.len();
        Ok(Some((buf, n)))
    });
    match found {
        Some(Ok(Some((buf, n)))) => request.reply(Cmd::PolicyGet, buf.get(..n).unwrap_or(&[])),
        Some(Err(e)) => Err(e),
        _ => Err(Reject::new(ENOENT, c"no policy on this cgroup")),
    }
}

fn stats_get(request: &Request<'_>, payload: &[u8]) -> Result<(), Reject> {
    let req = engine::parse_request(payload, false).map_err(store::invalid)?;
    let cgroup = require_cgroup(req.cgroup_id)?;
    // The counters, and up to three bitmaps of recorded calls.
    const CAP: usize = 128 + crate::proto::Abi::COUNT * (4 + attr::SEEN_BYTES);
    let mut buf = KVec::from_elem(0u8, CAP, GFP_KERNEL)?;
    let mut w = Writer::new(&mut buf);
    let found = store::with_current(|s| {
        let Some(e) = s.find(cgroup) else {
            return Ok(false);
        };
        let st = &e.stats;
        let mut seen = [0u8; attr::SEEN_BYTES];
        w.put_u64(attr::CGROUP_ID, cgroup)?;
        w.nest(attr::STATS, |w| {
            w.put_u64(attr::STATS_ALLOWED, st.allowed.load(Relaxed))?;
            w.put_u64(attr::STATS_DENIED, st.denied.load(Relaxed))?;
            w.put_u64(attr::STATS_LOGGED, st.logged.load(Relaxed))?;
            w.put_u64(attr::STATS_KILLED, st.killed.load(Relaxed))?;
            w.put_u64(attr::STATS_TRAPPED, st.trapped.load(Relaxed))?;
            w.put_u64(attr::STATS_EVENTS_SENT, st.events_sent.load(Relaxed))?;
            w.put_u64(attr::STATS_EVENTS_DROPPED, st.events_dropped.load(Relaxed))?;
            for abi in crate::proto::Abi::ALL {
                if st.seen.copy(*abi, &mut seen) {
                    w.put(attr::stats_seen(*abi), &seen)?;
                }
            }
            Ok(())
        })?;
        Ok(true)
    });
    match found {
        Some(Ok(true)) => {
            let n = w.len();
            request.reply(Cmd::StatsGet, buf.get(..n).unwrap_or(&[]))
        }
        Some(Err(e)) => Err(overflow(e)),
        _ => Err(Reject::new(ENOENT, c"no policy on this cgroup")),
    }
}

/// Bytes of one `SR_ENTRY` at most: nest, 5 u32, 3 u64, the names.
const SR_ENTRY_MAX: usize =
    4 + 5 * 8 + 3 * 12 + limits::SHADOW_COMMS as usize * (4 + crate::event::COMM_MAX + 1 + 3);

/// Writes a shadow record as a `SHADOW_RECORD` nest.
fn encode_record(w: &mut Writer<'_>, r: &store::ShadowRecord) -> Result<(), crate::nla::Error> {
    w.nest(attr::SHADOW_RECORD, |w| {
        w.put_u64(attr::SR_SINCE_NS, r.since_ns)?;
        w.put_u64(attr::SR_DIFFERED, r.differed.load(Relaxed))?;
        w.put_u64(attr::SR_EVENTS_SENT, r.events.events_sent.load(Relaxed))?;
        w.put_u64(
            attr::SR_EVENTS_DROPPED,
            r.events.events_dropped.load(Relaxed),
        )?;
        w.put_u64(attr::SR_UNTRACKED, r.untracked.load(Relaxed))?;
        let mut result = Ok(());
        r.for_each(|key, shadow, enforced, count, first, last, names, n| {
            let Some((abi, nr, class)) = crate::shadow::key_parts(key) else {
                return;
            };
            if result.is_err() {
                return;
            }
            result = w.nest(attr::SR_ENTRY, |w| {
                w.put_u32(attr::SRE_ABI, abi as u32)?;
                w.put_u32(attr::SRE_NR, nr)?;
                w.put_u32(attr::SRE_OBJ_CLASS, class)?;
                w.put_u32(attr::SRE_SHADOW_ACTION, shadow)?;
                w.put_u32(attr::SRE_ENFORCED_ACTION, enforced)?;
                w.put_u64(attr::SRE_COUNT, count)?;
                w.put_u64(attr::SRE_FIRST_NS, first)?;
                w.put_u64(attr::SRE_LAST_NS, last)?;
                for name in names.iter().take(n) {
                    let end = name.iter().position(|b| *b == 0).unwrap_or(name.len());
                    let text = core::str::from_utf8(name.get(..end).unwrap_or(&[])).unwrap_or("?");
                    w.put_str(attr::SRE_COMM, text)?;
                }
                Ok(())
            });
        });
        result
    })
}

fn shadow_get(request: &Request<'_>, payload: &[u8]) -> Result<(), Reject> {
    let req = engine::parse_request(payload, false).map_err(store::invalid)?;
    let cgroup = require_cgroup(req.cgroup_id)?;
    const CAP: usize = 96 + limits::SHADOW_SLOTS as usize * SR_ENTRY_MAX;
    let mut buf = KVVec::from_elem(0u8, CAP, GFP_KERNEL)?;
    let found = store::with_current(|s| -> Result<usize, Reject> {
        let e = s
            .find(cgroup)
            .ok_or_else(|| Reject::new(ENOENT, c"no policy on this cgroup"))?;
        let sh = e
            .shadow
            .as_ref()
            .ok_or_else(|| Reject::new(ENOENT, c"this cgroup has no shadow policy"))?;
        let mut w = Writer::new(&mut buf);
        w.put_u64(attr::CGROUP_ID, cgroup).map_err(overflow)?;
        encode_record(&mut w, &sh.record).map_err(overflow)?;
        Ok(w.len())
    });
    match found {
        Some(Ok(n)) => request.reply(Cmd::ShadowGet, buf.get(..n).unwrap_or(&[])),
        Some(Err(e)) => Err(e),
        None => Err(Reject::new(ENOENT, c"no policy on this cgroup")),
    }
}

/// Handles one request (every command but the dump).
///
/// # Safety
/// `payload` must point to `len` readable bytes and `info` be the request's
/// `genl_info`, both valid for the duration of the call.
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_doit(
    cmd: u8,
    payload: *const u8,
    len: u32,
    info: *mut GenlInfo,
) -> c_int {
    let payload: &[u8] = if payload.is_null() || len == 0 {
        &[]
    } else {
        // SAFETY: the caller guarantees `len` readable bytes at `payload`.
        unsafe { core::slice::from_raw_parts(payload, len as usize) }
    };
    // SAFETY: the caller passes the request's `genl_info`, valid for this
    // call, which `req` does not outlive.
    let Some(request) = (unsafe { Request::from_raw(info) }) else {
        return EINVAL.to_errno();
    };
    let result = match Cmd::try_from(cmd) {
        Ok(Cmd::GetInfo) => get_info(&request),
        Ok(Cmd::PolicySet) => policy_set(payload),
        Ok(Cmd::PolicyDelete) => policy_delete(payload),
        Ok(Cmd::PolicyGet) => policy_get(&request, payload),
        Ok(Cmd::StatsGet) => stats_get(&request, payload),
        Ok(Cmd::PolicyPromote) => shadow_change(payload, true),
        Ok(Cmd::ShadowDiscard) => shadow_change(payload, false),
        Ok(Cmd::ShadowGet) => shadow_get(&request, payload),
        Ok(Cmd::PolicySetBatch) => policy_set_batch(payload),
        _ => Err(Reject::new(store::eopnotsupp(), c"unknown command")),
    };
    match result {
        Ok(()) => 0,
        Err(r) => {
            request.set_error(r.msg, r.offset);
            r.errno.to_errno()
        }
    }
}

/// Writes policy number `index` (in cgroup id order) into `buf`.
/// Returns 1 with `*len` set, 0 past the last policy, or -EMSGSIZE when it
/// does not fit in `cap` bytes.
///
/// # Safety
/// `buf` must be writable for `cap` bytes and `len` writable; called under
/// the generic netlink mutex.
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_dump_one(
    index: u64,
    buf: *mut u8,
    cap: u32,
    len: *mut u32,
) -> c_int {
    if buf.is_null() || len.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: the caller guarantees `cap` writable bytes at `buf`.
    let out = unsafe { core::slice::from_raw_parts_mut(buf, cap as usize) };
    let r = store::with_current(|s| {
        let Some(e) = usize::try_from(index).ok().and_then(|i| s.entries.get(i)) else {
            return 0;
        };
        let mut w = Writer::new(out);
        match encode_policy(&mut w, e) {
            Ok(()) => {
                // SAFETY: the caller guarantees `len` is writable.
                unsafe { *len = w.len() as u32 };
                1
            }
            Err(_) => store::emsgsize().to_errno(),
        }
    });
    r.unwrap_or(0)
}

/// The generic netlink family, registered while this value lives: dropping
/// it unregisters the family (waiting for running handlers).
///
/// It is registered closed: every request is answered `ESHUTDOWN` until
/// [`Open`] opens it, last in module init.
pub(crate) struct Family(());

impl Family {
    /// Registers the family, closed (module init).
    pub(crate) fn register() -> Result<Self, kernel::error::Error> {
        // SAFETY: process context; registered once per module instance
        // (this is the only caller), and unregistered by `drop`.
        kernel::error::to_result(unsafe { ffi::sf_nl_register() })?;
        Ok(Family(()))
    }
}

impl Drop for Family {
    fn drop(&mut self) {
        // SAFETY: registered in `register`; nothing sends on the family any
        // more (the event ring is drained before, module exit order);
        // returns once no handler runs.
        unsafe { ffi::sf_nl_unregister() };
    }
}

/// The family open to requests while this value lives: dropping it fences
/// the family (under the genl mutex: no handler runs from then on, and
/// later ones answer `ESHUTDOWN`, so none can re-attach a hook or publish
/// a table while the module tears them down).
pub(crate) struct Open(());

impl Open {
    /// Opens `_family` to requests: the last step of module init, once
    /// everything a handler relies on is in place.
    pub(crate) fn open(_family: &Family) -> Self {
        // SAFETY: the family is registered (borrowed above), and module
        // init calls this last; undone by `drop`.
        unsafe { ffi::sf_nl_open() };
        Open(())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        // SAFETY: process context, without the genl mutex (module exit);
        // waits for running handlers.
        unsafe { ffi::sf_nl_fence() };
    }
}
