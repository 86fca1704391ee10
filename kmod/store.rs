// SPDX-License-Identifier: GPL-2.0
//! The policy table: compiled policies keyed by cgroup id.
//!
//! Readers (the syscall gate) see an immutable [`Snapshot`] through one
//! atomic pointer, read once per syscall, so each call is decided wholly by
//! one version of the table. Writers build a new snapshot, publish it, and
//! retire the old one, which a later writer frees once an RCU grace period
//! has passed ([`Retired`]; the gate runs with preemption disabled, an RCU
//! read-side critical section), or `call_rcu` when too many wait. A writer
//! never waits for the grace period, so replaces are cheap; module exit
//! hands what is left to `call_rcu` and waits with `rcu_barrier`.
//!
//! Writers are serialized by the generic netlink mutex: the family is not
//! `parallel_ops`, so every handler (and dump) runs under `genl_mutex`, and
//! module init/exit publish or retire the table only while the family is not
//! registered.

use crate::engine::{
    self, ArgCmp, Exception, Head, Invalid, Lookup, Rule, Scratch, Tables, TablesMut,
};
use crate::ffi::{self, RcuHead, RcuReadGuard};
use crate::nla::Attr;
use crate::objects::ReadRule;
use crate::proto::{action, limits, Abi, X86_64_URETPROBE};
use core::cell::UnsafeCell;
use core::ffi::{c_ulong, CStr};
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicU64, Ordering};
use kernel::alloc::flags::__GFP_ZERO;
use kernel::alloc::{AllocError, KVBox, KVVec};
use kernel::prelude::*;
use kernel::sync::Arc;

/// `EMSGSIZE`, which 6.12's `kernel::error::code` lacks.
pub(crate) fn emsgsize() -> Error {
    Error::from_errno(-90)
}

/// `EOPNOTSUPP`, which 6.12's `kernel::error::code` lacks.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-95)
}

// A compiled policy and its reference count in one allocation of the
// kernel's 1 KiB class (the gate's shortcuts were sized for it).
const _: () = assert!(core::mem::size_of::<Compiled>() + 16 <= 1024);

/// A validated, compiled policy (`engine::Tables`, owned). Immutable once
/// built; identical policies share one.
pub(crate) struct Compiled {
    pub(crate) head: Head,
    exceptions: KVec<Exception>,
    rules: KVec<Rule>,
    cmps: KVec<ArgCmp>,
    /// Object rules and defaults, as attributes.
    object_attrs: KVec<u8>,
    /// The same, read once (`objects::read_rules`): what the object hooks
    /// decide with, their strings in `object_attrs`.
    object_rules: KVec<ReadRule>,
    /// A hash of the tables, to find identical policies quickly.
    hash: u64,
    /// A recording policy: calls it lets run are marked in
    /// [`Stats::seen`].
    pub(crate) record: bool,
    /// Has object rules or object defaults (the object hooks consult it).
    pub(crate) objects: bool,
    /// The object classes those name (bit `class - 1`): the hooks it needs.
    pub(crate) classes: u32,
}

/// Why a request failed: an errno and an extended-ack message.
pub(crate) struct Reject {
    pub(crate) errno: Error,
    pub(crate) msg: &'static CStr,
    pub(crate) offset: Option<usize>,
}

impl Reject {
    pub(crate) fn new(errno: Error, msg: &'static CStr) -> Self {
        Reject {
            errno,
            msg,
            offset: None,
        }
    }
}

impl From<AllocError> for Reject {
    fn from(_: AllocError) -> Self {
        Reject::new(ENOMEM, c"out of memory")
    }
}

/// Maps a validation failure to an extended-ack message. The engine's
/// messages are NUL-terminated `&str` literals (shared-abi has no C
/// strings); this is the one place they become `&CStr`.
pub(crate) fn invalid(e: Invalid) -> Reject {
    Reject {
        errno: EINVAL,
        msg: CStr::from_bytes_with_nul(e.msg.as_bytes()).unwrap_or(c"invalid policy"),
        offset: Some(e.offset),
    }
}

/// The compiler's working memory (`engine::Scratch`, about 57 KiB), one
/// for the module's lifetime: writers, its only users, are serialized.
static SCRATCH: AtomicPtr<Scratch> = AtomicPtr::new(ptr::null_mut());

/// The compiler's working memory, allocated for the module's lifetime:
/// dropping this value frees it.
///
/// # Invariants
/// While the value lives, [`SCRATCH`] points to memory it allocated; at
/// most one exists at a time.
pub(crate) struct ScratchMemory(());

impl ScratchMemory {
    /// Allocates it (module init, before the family is open to requests).
    pub(crate) fn alloc() -> Result<Self, AllocError> {
        let recent = KBox::new(Recent::EMPTY, GFP_KERNEL)?;
        let b = KVBox::<Scratch>::new_uninit(GFP_KERNEL | __GFP_ZERO)?;
        // SAFETY: the memory is zeroed (__GFP_ZERO), and `Scratch` holds
        // only integer arrays, for which all-zero is a valid value.
        let b = unsafe { b.assume_init() };
        SCRATCH.store(KVBox::into_raw(b), Ordering::Release);
        RECENT.store(KBox::into_raw(recent), Ordering::Release);
        Ok(ScratchMemory(()))
    }
}

impl Drop for ScratchMemory {
    /// Frees it (module exit, after the family is unregistered, or a
    /// failed init).
    fn drop(&mut self) {
        let p = SCRATCH.swap(ptr::null_mut(), Ordering::AcqRel);
        if !p.is_null() {
            // SAFETY: `p` came from `KVBox::into_raw` in `alloc`, and no
            // handler that could use it runs any more.
            drop(unsafe { KVBox::from_raw(p) });
        }
        let r = RECENT.swap(ptr::null_mut(), Ordering::AcqRel);
        if !r.is_null() {
            // SAFETY: as above, from `KBox::into_raw` in `alloc`; dropping
            // it drops the policies it holds.
            drop(unsafe { KBox::from_raw(r) });
        }
    }
}

/// Policies the writers compiled lately, by their wire bytes
/// ([`compile`]): a policy sent again as the same bytes (the same profile
/// for many containers, or a live change back and forth) skips validation
/// and compilation, which are most of a replace's work. Validation and
/// compilation depend on nothing but those bytes, so the result is the
/// one a compile would give. Writer-only, like [`SCRATCH`].
struct Recent {
    slots: [Option<(KVec<u8>, Arc<Compiled>)>; RECENT_SLOTS],
    /// The slot the next new policy takes (round robin).
    next: usize,
}

/// Policies [`Recent`] remembers: a few, enough for a change and its
/// undo or a handful of profiles in turn.
const RECENT_SLOTS: usize = 4;

/// Larger policies are not remembered (they hold their bytes and tables
/// in memory while remembered; Docker's default profile is 1.6 KB).
const RECENT_MAX_BYTES: usize = 16 * 1024;

impl Recent {
    const EMPTY: Recent = Recent {
        slots: [const { None }; RECENT_SLOTS],
        next: 0,
    };
}

/// [`Recent`], allocated with the scratch memory.
static RECENT: AtomicPtr<Recent> = AtomicPtr::new(ptr::null_mut());

/// Runs `f` on [`Recent`], if it is allocated.
fn with_recent<R>(f: impl FnOnce(&mut Recent) -> R) -> Option<R> {
    let p = RECENT.load(Ordering::Acquire);
    if p.is_null() {
        return None;
    }
    // SAFETY: allocated by `ScratchMemory::alloc` before the family was
    // opened and freed only after it is unregistered; only netlink handlers
    // call this, and the generic netlink mutex serializes them, so no other
    // reference to it exists now.
    Some(f(unsafe { &mut *p }))
}

/// The compiled form of a `POLICY` attribute: a policy compiled lately
/// from the same bytes, or else a new compile, shared with an installed
/// policy that compiled to the same tables when there is one
/// (`identical`).
pub(crate) fn compile(
    policy: &Attr<'_>,
    identical: impl FnOnce(&Compiled) -> Option<Arc<Compiled>>,
) -> Result<Arc<Compiled>, Reject> {
    let bytes = policy.payload;
    let remembered = policy.nested && bytes.len() <= RECENT_MAX_BYTES;
    if remembered {
        let hit = with_recent(|r| {
            r.slots
                .iter()
                .flatten()
                .find(|(b, _)| b.as_slice() == bytes)
                .map(|(_, c)| c.clone())
        })
        .flatten();
        if let Some(c) = hit {
            return Ok(c);
        }
    }
    let built = Compiled::build(policy)?;
    let compiled = match identical(&built) {
        Some(shared) => shared,
        None => Arc::new(built, GFP_KERNEL)?,
    };
    if remembered {
        with_recent(|r| {
            let i = r.next % RECENT_SLOTS;
            r.next = (i + 1) % RECENT_SLOTS;
            let Some(slot) = r.slots.get_mut(i) else {
                return;
            };
            // The oldest goes; its buffer takes the copy (no allocation
            // when it is large enough). Best effort: without memory for
            // the copy, nothing is remembered.
            let mut buf = slot.take().map_or_else(KVec::new, |(b, _)| b);
            // SAFETY: a shorter length over initialized `u8`s, which need
            // no drop.
            unsafe { buf.set_len(0) };
            if buf.extend_from_slice(bytes, GFP_KERNEL).is_ok() {
                *slot = Some((buf, compiled.clone()));
            }
        });
    }
    Ok(compiled)
}

fn zeroed_vec<T: Copy>(value: T, n: usize) -> Result<KVec<T>, AllocError> {
    KVec::from_elem(value, n, GFP_KERNEL)
}

impl Compiled {
    /// Validates and compiles a `POLICY` attribute. The policy is read
    /// twice (rules without comparisons once), into tables of exactly the
    /// measured size.
    pub(crate) fn build(policy: &Attr<'_>) -> Result<Self, Reject> {
        let scratch = SCRATCH.load(Ordering::Acquire);
        if scratch.is_null() {
            return Err(Reject::new(ENOMEM, c"out of memory"));
        }
        // SAFETY: allocated by `ScratchMemory::alloc` before the family was
        // opened and freed only after it is unregistered; builds run only
        // in netlink handlers, which the generic netlink mutex serializes, so
        // no other reference to it exists now.
        let scratch = unsafe { &mut *scratch };
        let shape = engine::validate(policy, scratch).map_err(invalid)?;
        let mut c = Compiled {
            head: Head::EMPTY,
            exceptions: zeroed_vec(Exception::EMPTY, shape.exceptions)?,
            rules: zeroed_vec(Rule::EMPTY, shape.rules)?,
            cmps: zeroed_vec(ArgCmp::EMPTY, shape.cmps)?,
            object_attrs: zeroed_vec(0u8, shape.object_bytes)?,
            object_rules: KVec::new(),
            hash: 0,
            record: shape.record,
            objects: shape.object_bytes > 0,
            classes: 0,
        };
        engine::compile(
            policy,
            &shape,
            scratch,
            TablesMut {
                head: &mut c.head,
                exceptions: &mut c.exceptions,
                rules: &mut c.rules,
                cmps: &mut c.cmps,
                objects: &mut c.object_attrs,
            },
        )
        .map_err(invalid)?;
        c.hash = c.content_hash();
        let n = crate::objects::count_rules(&c.object_attrs);
        c.object_rules = zeroed_vec(ReadRule::EMPTY, n)?;
        crate::objects::read_rules(&c.object_attrs, &mut c.object_rules);
        c.classes = crate::objects::classes(&c.object_rules);
        Ok(c)
    }

    /// The tables, for deciding and reading the policy back.
    pub(crate) fn tables(&self) -> Tables<'_> {
        Tables {
            head: &self.head,
            exceptions: &self.exceptions,
            rules: &self.rules,
            cmps: &self.cmps,
            objects: &self.object_attrs,
        }
    }

    /// A hash of everything [`same_as`](Self::same_as) compares, a word at
    /// a time.
    fn content_hash(&self) -> u64 {
        let mix = |h: u64, w: u64| (h ^ w).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        let h = self.head.abis.iter().fold(FNV_BASIS, |h, t| {
            let h = mix(h, u64::from(t.present) | u64::from(t.exc_len) << 8);
            t.allow.iter().fold(h, |h, w| mix(h, *w))
        });
        let h = mix(
            h,
            u64::from(self.head.default) | u64::from(self.head.bad_abi) << 32,
        );
        let h = self.exceptions.iter().fold(h, |h, e| {
            let base = e.base.map_or(u64::MAX, u64::from);
            mix(mix(h, u64::from(e.nr) | u64::from(e.len) << 16), base)
        });
        let h = self.rules.iter().fold(h, |h, r| {
            mix(h, u64::from(r.action) | u64::from(r.cmp_len) << 32)
        });
        let h = self.cmps.iter().fold(h, |h, c| {
            mix(
                mix(mix(h, c.value), c.value_two),
                u64::from(c.index) | (c.op as u64) << 8,
            )
        });
        self.object_attrs
            .iter()
            .fold(mix(h, u64::from(self.head.record)), |h, b| {
                mix(h, u64::from(*b))
            })
    }

    /// Whether `other` decides everything as this policy does, read back
    /// the same, and may be shared with it.
    pub(crate) fn same_as(&self, other: &Compiled) -> bool {
        self.hash == other.hash
            && self.head == other.head
            && self.exceptions.as_slice() == other.exceptions.as_slice()
            && self.rules.as_slice() == other.rules.as_slice()
            && self.cmps.as_slice() == other.cmps.as_slice()
            && self.object_attrs.as_slice() == other.object_attrs.as_slice()
    }

    /// The action for one object, from the rules read when the policy was
    /// set.
    pub(crate) fn decide_object(&self, obj: &crate::objects::Object<'_>) -> u32 {
        crate::objects::decide_read(&self.object_rules, &self.object_attrs, obj)
    }

    /// Whether the policy allows this call whatever its arguments: the
    /// gate's fast path, one bit (uretprobe takes the other path).
    #[inline(always)]
    pub(crate) fn allows(&self, abi: Abi, nr: u32) -> bool {
        self.head.allows(abi, nr)
    }

    /// Where the answer for one call comes from: a fixed action, or rules
    /// to [`eval`](Self::eval) on the argument registers.
    #[inline(always)]
    pub(crate) fn lookup(&self, abi: Abi, nr: u32) -> Lookup<'_> {
        if abi == Abi::X86_64 && nr == X86_64_URETPROBE {
            return Lookup::Fixed(action::ALLOW); // as seccomp does: see the constant
        }
        self.tables().lookup(abi, nr)
    }

    /// As [`lookup`](Self::lookup), for a call whose allow bit the gate's
    /// fast path found clear: an x86_64 or ia32 call's bit is not tested
    /// again (an x32 call, beyond the fast path's bitmap, is).
    #[inline(always)]
    pub(crate) fn lookup_missed(&self, abi: Abi, nr: u32) -> Lookup<'_> {
        if abi == Abi::X32 {
            return self.lookup(abi, nr);
        }
        if abi == Abi::X86_64 && nr == X86_64_URETPROBE {
            return Lookup::Fixed(action::ALLOW); // as in `lookup`
        }
        self.tables().lookup_unallowed(abi, nr)
    }

    /// The answer of rules found by [`lookup`](Self::lookup).
    pub(crate) fn eval(&self, e: &Exception, args: &[u64; 6]) -> u32 {
        self.tables().eval(e, args)
    }

    /// As [`eval`](Self::eval), reading argument `i` with `arg(i)` only
    /// when a comparison needs it.
    #[inline(always)]
    pub(crate) fn eval_with(&self, e: &Exception, arg: impl Fn(u8) -> u64) -> u32 {
        self.tables().eval_with(e, arg)
    }
}

/// Words of one ABI's bitmap in [`Stats::seen`].
const SEEN_WORDS: usize = crate::proto::attr::SEEN_BYTES / 8;

/// Counters of one cgroup's policy; they survive replacement of the policy.
#[derive(Default)]
pub(crate) struct Stats {
    pub(crate) allowed: AtomicU64,
    pub(crate) denied: AtomicU64,
    pub(crate) logged: AtomicU64,
    pub(crate) killed: AtomicU64,
    pub(crate) trapped: AtomicU64,
    pub(crate) events_sent: AtomicU64,
    pub(crate) events_dropped: AtomicU64,
    /// Event rate limit: the current one-second window and events in it.
    pub(crate) rl_window: AtomicU64,
    pub(crate) rl_count: AtomicU32,
    /// Calls run under a recording policy, one bitmap per ABI.
    pub(crate) seen: Seen,
    /// The policy waits for the cgroup's next exec (`ARM_ON_EXEC`): the gate
    /// and the object hooks pass it over until the cgroup's next exec clears
    /// this ([`start_waiting`]).
    /// Here rather than in the entry because the counters outlive table
    /// versions, as the waiting state must.
    pub(crate) waiting: AtomicBool,
    /// The ids of the cgroup's ancestors, the root's first (index: level),
    /// itself not included. A cgroup v2 directory cannot move to another
    /// parent, so this never changes; [`Snapshot::new`] reads it to find
    /// the policies above an entry. Empty for a shadow record's counters.
    pub(crate) ancestors: KVec<u64>,
}

/// One bit per (ABI, syscall number): 3 x 1024 bits.
struct SeenBits([[AtomicU64; SEEN_WORDS]; Abi::COUNT]);

/// The calls run under a recording policy: bitmaps allocated the first time
/// a recording policy is set on the cgroup (most cgroups never record, and
/// save the 384 bytes), freed with the counters.
pub(crate) struct Seen(AtomicPtr<SeenBits>);

impl Default for Seen {
    fn default() -> Self {
        Seen(AtomicPtr::new(ptr::null_mut()))
    }
}

impl Drop for Seen {
    fn drop(&mut self) {
        let p = *self.0.get_mut();
        if !p.is_null() {
            // SAFETY: `p` came from `KBox::into_raw` in `ensure`, and the
            // counters (hence this) are dropped only when no table holds
            // them any more.
            drop(unsafe { KBox::from_raw(p) });
        }
    }
}

impl Seen {
    fn bits(&self) -> Option<&SeenBits> {
        let p = self.0.load(Ordering::Acquire);
        // SAFETY: once set, the bitmaps live as long as `self` (see `Drop`).
        (!p.is_null()).then(|| unsafe { &*p })
    }

    /// Allocates the bitmaps if they are not yet (a writer, before it
    /// publishes a recording policy for this cgroup).
    fn ensure(&self) -> Result<(), AllocError> {
        if self.bits().is_some() {
            return Ok(());
        }
        const ZERO: AtomicU64 = AtomicU64::new(0);
        const ROW: [AtomicU64; SEEN_WORDS] = [ZERO; SEEN_WORDS];
        let b = KBox::new(SeenBits([ROW; Abi::COUNT]), GFP_KERNEL)?;
        // Writers are serialized, so nobody else sets it meanwhile.
        self.0.store(KBox::into_raw(b), Ordering::Release);
        Ok(())
    }

    /// Marks a call. The word is read first, so once a call is known the
    /// gate only reads the shared cache line and never writes it.
    pub(crate) fn mark(&self, abi: Abi, nr: u32) {
        let (word, bit) = ((nr / 64) as usize, 1u64 << (nr % 64));
        let Some(bits) = self.bits() else {
            return;
        };
        if let Some(w) = bits.0.get(abi.index()).and_then(|row| row.get(word)) {
            if w.load(Ordering::Relaxed) & bit == 0 {
                w.fetch_or(bit, Ordering::Relaxed);
            }
        }
    }

    /// Forgets every call (a new recording starts).
    fn clear(&self) {
        if let Some(bits) = self.bits() {
            for w in bits.0.iter().flatten() {
                w.store(0, Ordering::Relaxed);
            }
        }
    }

    /// Writes one ABI's bitmap (little-endian words) into `out`; returns
    /// whether any bit is set.
    pub(crate) fn copy(&self, abi: Abi, out: &mut [u8; crate::proto::attr::SEEN_BYTES]) -> bool {
        let mut any = false;
        if let Some(row) = self.bits().and_then(|b| b.0.get(abi.index())) {
            let mut at = 0usize;
            for w in row.iter() {
                let v = w.load(Ordering::Relaxed);
                any |= v != 0;
                for b in v.to_le_bytes() {
                    if let Some(slot) = out.get_mut(at) {
                        *slot = b;
                    }
                    at = at.saturating_add(1);
                }
            }
        }
        any
    }
}

/// One cgroup's policies: the enforcing one, a shadow, or both.
#[derive(Clone)]
pub(crate) struct Entry {
    pub(crate) cgroup: u64,
    /// The cgroup's level (root: 0), below [`MAX_LEVELS`].
    pub(crate) level: u32,
    /// The enforcing policy; `None` when the cgroup has only a shadow.
    pub(crate) policy: Option<Arc<Compiled>>,
    /// The shadow: evaluated, recorded, never enforced.
    pub(crate) shadow: Option<Shadow>,
    pub(crate) stats: Arc<Stats>,
    /// When enforcing policies sit above this one too: the calls all of
    /// them allow outright (see [`Flat`]). `None` otherwise, or when the
    /// memory for it could not be had (the gate then walks the path).
    pub(crate) flat: Option<Arc<Flat>>,
}

/// A flat policy's answer to every call its bitmaps do not allow: not an
/// action (the engine refuses this value in any policy; were it carried
/// out, it would kill, failing closed), but the gate's sign that the
/// path's policies must decide.
pub(crate) const PATH_WALK: u32 = u32::MAX;

/// The fast path of a cgroup path with several enforcing policies (a
/// Kubernetes pod's and its container's): the allow bitmaps of every
/// policy on the path, ANDed, so that the gate lets a call all of them
/// allow outright go with one bit test, as for a single policy. Made by
/// the writer ([`Snapshot::new`]), never by the gate.
///
/// Policies waiting for an exec are ANDed in too: the bitmap can only be
/// stricter than the policies in force, never looser, and a stricter bit
/// only sends a call to the full decision.
pub(crate) struct Flat {
    /// A policy with the ANDed bitmaps and no other rule: every call they
    /// do not allow gets [`PATH_WALK`], the gate's sign to walk the path.
    pub(crate) policy: Compiled,
}

impl Entry {
    /// The enforcing policy, if it is in force (set, and not waiting for an
    /// exec).
    #[inline(always)]
    pub(crate) fn in_force(&self) -> Option<&Compiled> {
        match &self.policy {
            Some(p) if !self.stats.waiting.load(Ordering::Relaxed) => Some(p),
            _ => None,
        }
    }

    /// Whether the gate has anything to do for this entry: a policy in
    /// force or a shadow.
    pub(crate) fn active(&self) -> bool {
        self.shadow.is_some() || self.in_force().is_some()
    }

    /// Whether either policy has object rules.
    fn has_objects(&self) -> bool {
        self.policy.as_ref().is_some_and(|p| p.objects)
            || self
                .shadow
                .as_ref()
                .and_then(|s| s.policy.as_ref())
                .is_some_and(|p| p.objects)
    }
}

/// A cgroup's shadow policy and its record.
#[derive(Clone)]
pub(crate) struct Shadow {
    /// The candidate; `None` is "no policy" (left by a promote of a shadow
    /// set on a cgroup that had none).
    pub(crate) policy: Option<Arc<Compiled>>,
    pub(crate) record: Arc<ShadowRecord>,
}

/// One (ABI, syscall, object class) the shadow decided differently.
/// All-zero is a free slot (`key` 0).
struct Slot {
    key: AtomicU32,
    shadow_action: AtomicU32,
    enforced_action: AtomicU32,
    count: AtomicU64,
    first_ns: AtomicU64,
    last_ns: AtomicU64,
    comms: [CommSlot; limits::SHADOW_COMMS as usize],
}

/// A program's name in a slot: claimed by its hash, then its text (16
/// bytes, two words) written once by the claimant.
struct CommSlot {
    hash: AtomicU64,
    text: [AtomicU64; 2],
}

/// Source of [`ShadowRecord::id`].
static NEXT_RECORD: AtomicU64 = AtomicU64::new(1);

/// What a shadow would have changed since it was set: counters, and a
/// fixed, lock-free table of the differing calls (shared-abi's `shadow`
/// module says where each goes). Written by the gate and the object hooks
/// with preemption disabled; read by `shadow-get`.
pub(crate) struct ShadowRecord {
    /// Unique for the module's lifetime, never 0 (events name it).
    pub(crate) id: u64,
    pub(crate) since_ns: u64,
    /// The shadow's own event counters and rate limit.
    pub(crate) events: Stats,
    pub(crate) differed: AtomicU64,
    pub(crate) untracked: AtomicU64,
    slots: KVBox<[Slot; limits::SHADOW_SLOTS as usize]>,
}

impl ShadowRecord {
    /// An empty record (a writer, before it publishes the shadow).
    pub(crate) fn new() -> Result<Self, AllocError> {
        let b =
            KVBox::<[Slot; limits::SHADOW_SLOTS as usize]>::new_uninit(GFP_KERNEL | __GFP_ZERO)?;
        // SAFETY: the memory is zeroed (__GFP_ZERO), and a `Slot` is only
        // atomic integers, for which all-zero is a valid value (a free slot).
        let slots = unsafe { b.assume_init() };
        Ok(ShadowRecord {
            id: NEXT_RECORD.fetch_add(1, Ordering::Relaxed),
            // SAFETY: plain clock read.
            since_ns: unsafe { ffi::sf_ktime_ns() },
            events: Stats::default(),
            differed: AtomicU64::new(0),
            untracked: AtomicU64::new(0),
            slots,
        })
    }

    /// Counts one differing call of program `comm`, at `now`. Lock-free:
    /// a slot is claimed by a compare-and-swap of its key.
    pub(crate) fn note(&self, key: u32, shadow: u32, enforced: u32, now: u64, comm: &[u8; 16]) {
        self.differed.fetch_add(1, Ordering::Relaxed);
        let slot = crate::shadow::probe(key).find_map(|i| {
            let s = self.slots.get(i)?;
            match s
                .key
                .compare_exchange(0, key, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => Some(s),
                Err(k) if k == key => Some(s),
                Err(_) => None,
            }
        });
        let Some(s) = slot else {
            self.untracked.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let _ = s
            .first_ns
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
        s.last_ns.fetch_max(now, Ordering::Relaxed);
        s.shadow_action.store(shadow, Ordering::Relaxed);
        s.enforced_action.store(enforced, Ordering::Relaxed);
        s.count.fetch_add(1, Ordering::Release);
        let h = crate::shadow::comm_hash(comm);
        for c in s.comms.iter() {
            match c
                .hash
                .compare_exchange(0, h, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    let (lo, hi) = comm.split_at(8);
                    let word = |b: &[u8]| b.try_into().map(u64::from_ne_bytes).unwrap_or(0);
                    c.text[0].store(word(lo), Ordering::Relaxed);
                    c.text[1].store(word(hi), Ordering::Release);
                    return;
                }
                Err(x) if x == h => return,
                Err(_) => {}
            }
        }
    }

    /// Calls `f` for each entry in use: key, shadow action, enforced
    /// action, count, first and last time, and the programs' names.
    pub(crate) fn for_each(
        &self,
        mut f: impl FnMut(u32, u32, u32, u64, u64, u64, &[[u8; 16]], usize),
    ) {
        for s in self.slots.iter() {
            let key = s.key.load(Ordering::Acquire);
            let count = s.count.load(Ordering::Acquire);
            if key == 0 || count == 0 {
                continue;
            }
            let mut names = [[0u8; 16]; limits::SHADOW_COMMS as usize];
            let mut n = 0usize;
            for c in s.comms.iter() {
                if c.hash.load(Ordering::Acquire) == 0 {
                    break;
                }
                let hi = c.text[1].load(Ordering::Acquire).to_ne_bytes();
                let lo = c.text[0].load(Ordering::Relaxed).to_ne_bytes();
                if let Some(slot) = names.get_mut(n) {
                    slot[..8].copy_from_slice(&lo);
                    slot[8..].copy_from_slice(&hi);
                    slot[15] = 0;
                    n += 1;
                }
            }
            f(
                key,
                s.shadow_action.load(Ordering::Relaxed),
                s.enforced_action.load(Ordering::Relaxed),
                count,
                s.first_ns.load(Ordering::Relaxed),
                s.last_ns.load(Ordering::Relaxed),
                &names,
                n,
            );
        }
    }
}

/// Cgroup levels a policy may sit at: 0 (the root) to 63, one bit each in
/// [`Snapshot::levels`].
pub(crate) const MAX_LEVELS: usize = 64;

/// An immutable version of the whole table, sorted by cgroup id.
#[repr(C)]
pub(crate) struct Snapshot {
    /// First, so that the RCU callback can get back to the snapshot.
    rcu: UnsafeCell<RcuHead>,
    pub(crate) entries: KVVec<Entry>,
    /// Bit N set: some policy sits on a cgroup at level N. The gate looks
    /// up only the task's ancestors at these levels.
    pub(crate) levels: u64,
    /// Some policy has object rules (the object hooks are attached).
    pub(crate) objects: bool,
    /// Some cgroup has a shadow (the gate takes its shadow path for them).
    pub(crate) shadows: bool,
    /// This version's number: unique for the module's lifetime (a freed
    /// snapshot's address may be reused; its number is not), so the gate's
    /// per-CPU cache can tell versions apart.
    /// Moved on (to a fresh number) when a waiting policy starts, which
    /// changes what the path of its cgroup holds without a new table.
    gen: AtomicU64,
}

/// Source of [`Snapshot::gen`].
static NEXT_GEN: AtomicU64 = AtomicU64::new(1);

/// Which entries' [`Flat`]s a new table must recompute: a flat depends
/// only on the allow bitmaps of the enforcing policies on its entry's
/// path, so a change to one cgroup's policy can change only the flats of
/// that cgroup and its descendants.
enum Reflat {
    /// Every entry's (entries came or went, or several changed).
    All,
    /// Only entry `at`'s policy changed (it may be new), and it replaced
    /// `old`: the flats of that entry and of those below it, and none when
    /// `old` allowed exactly the same calls outright (the flats' only
    /// input from a policy is its allow bitmaps).
    One {
        at: usize,
        old: Option<Arc<Compiled>>,
    },
}

impl Snapshot {
    fn new(entries: KVVec<Entry>) -> Self {
        Self::with_flats(entries, Reflat::All)
    }

    /// A table of `entries` whose flats outside `reflat` are those of the
    /// previous table, unchanged.
    fn with_flats(mut entries: KVVec<Entry>, reflat: Reflat) -> Self {
        let levels = entries
            .iter()
            .fold(0, |m, e| m | 1u64.checked_shl(e.level).unwrap_or(0));
        flatten(&mut entries, levels, reflat);
        Snapshot {
            rcu: UnsafeCell::new(RcuHead::new()),
            levels,
            objects: entries.iter().any(Entry::has_objects),
            shadows: entries.iter().any(|e| e.shadow.is_some()),
            gen: AtomicU64::new(NEXT_GEN.fetch_add(1, Ordering::Relaxed)),
            entries,
        }
    }

    /// This version's number (see [`Snapshot::gen`]'s field).
    #[inline(always)]
    pub(crate) fn gen(&self) -> u64 {
        self.gen.load(Ordering::Acquire)
    }

    /// The entry for a cgroup id.
    pub(crate) fn find(&self, cgroup: u64) -> Option<&Entry> {
        self.entries
            .binary_search_by_key(&cgroup, |e| e.cgroup)
            .ok()
            .and_then(|i| self.entries.get(i))
    }
}

/// Gives each entry with enforcing policies above it its [`Flat`], kept
/// from the previous table when its bitmaps come out the same. An entry
/// with no policy above (the common case: one policy per container) costs
/// one mask test, so a table of thousands of sibling containers is not
/// slowed.
///
/// Only the entries `reflat` covers are recomputed: the others keep the
/// flat of the table they were copied from, which the change cannot have
/// touched (their paths hold the same policies as before).
fn flatten(entries: &mut [Entry], levels: u64, reflat: Reflat) {
    if levels.count_ones() <= 1 {
        // All at one level: none has a policy above it. Flats from an
        // earlier table go (they could only be stricter than needed).
        for e in entries.iter_mut().filter(|e| e.flat.is_some()) {
            e.flat = None;
        }
        return;
    }
    // The changed cgroup, when only one changed: its subtree's flats
    // (all of them if the entry cannot be found, which cannot happen).
    let mut below = None;
    if let Reflat::One { at, old } = &reflat {
        if let Some(e) = entries.get(*at) {
            if let (Some(new), Some(old)) = (&e.policy, old) {
                if new.head.same_allow(&old.head) {
                    return;
                }
            }
            below = Some((e.cgroup, e.level as usize));
        }
    }
    for i in 0..entries.len() {
        let covered = |e: &&Entry| match below {
            None => true,
            Some((c, l)) => e.cgroup == c || e.stats.ancestors.get(l) == Some(&c),
        };
        let Some(e) = entries.get(i).filter(covered) else {
            continue;
        };
        let flat = flat_for(entries, e, levels);
        if let Some(e) = entries.get_mut(i) {
            e.flat = flat;
        }
    }
}

/// The [`Flat`] entry `e` should have in a table of `entries`, or `None`
/// (no enforcing policy above it, or no memory).
fn flat_for(entries: &[Entry], e: &Entry, levels: u64) -> Option<Arc<Flat>> {
    let own = e.policy.as_ref()?;
    let mut above = levels & 1u64.checked_shl(e.level).map_or(u64::MAX, |b| b - 1);
    if above == 0 {
        return None;
    }
    let mut head = Head {
        default: PATH_WALK,
        bad_abi: PATH_WALK,
        record: false,
        abis: own.head.abis,
    };
    for t in head.abis.iter_mut() {
        (t.present, t.exc_start, t.exc_len, t.exc_hint) = (true, 0, 0, 0);
        // Its own rules' shortcuts know nothing of the policies above.
        t.drop_inline();
    }
    let mut others = 0usize;
    while above != 0 {
        let l = 63 - above.leading_zeros();
        above &= !(1u64 << l);
        let id = e.stats.ancestors.get(l as usize).copied()?;
        let Ok(j) = entries.binary_search_by_key(&id, |x| x.cgroup) else {
            continue;
        };
        let Some(p) = entries.get(j).and_then(|x| x.policy.as_ref()) else {
            continue;
        };
        for (t, o) in head.abis.iter_mut().zip(p.head.abis.iter()) {
            for (w, x) in t.allow.iter_mut().zip(o.allow.iter()) {
                *w &= *x;
            }
        }
        others += 1;
    }
    if others == 0 {
        return None;
    }
    // The same bitmaps as the previous table's flat (a replace above that
    // changed no allow bit, as a new errno or argument rule): kept, with
    // no allocation. Compared by content, so no stale flat can pass.
    if let Some(f) = e.flat.as_ref().filter(|f| f.policy.head == head) {
        return Some(f.clone());
    }
    let policy = Compiled {
        head,
        exceptions: KVec::new(),
        rules: KVec::new(),
        cmps: KVec::new(),
        object_attrs: KVec::new(),
        object_rules: KVec::new(),
        hash: 0,
        record: false,
        objects: false,
        classes: 0,
    };
    Arc::new(Flat { policy }, GFP_KERNEL).ok()
}

/// The published table; null while no policy exists.
static CURRENT: AtomicPtr<Snapshot> = AtomicPtr::new(ptr::null_mut());

/// The published table, or null; for the gate's fast path, which may only
/// dereference it as [`with_current`] explains.
#[inline(always)]
pub(crate) fn current_ptr() -> *const Snapshot {
    CURRENT.load(Ordering::Acquire)
}

/// The current snapshot, if any, for as long as the RCU read-side
/// section `_rcu` lasts: process context other than the writers (an event
/// work item, a request handler reading the caller's path).
pub(crate) fn current(_rcu: &RcuReadGuard) -> Option<&Snapshot> {
    let p = CURRENT.load(Ordering::Acquire);
    // SAFETY: a published snapshot is freed only after `publish`
    // unpublished it and a grace period passed (`call_rcu`), and the
    // guard's read-side section, which outlives the reference, holds that
    // grace period off.
    unsafe { p.as_ref() }
}

/// Runs `f` on the current snapshot, if any. For the syscall gate and the
/// other probes, which run with preemption disabled, and for writers
/// (serialized, see above); other callers take [`current`].
pub(crate) fn with_current<R>(f: impl FnOnce(&Snapshot) -> R) -> Option<R> {
    let p = CURRENT.load(Ordering::Acquire);
    if p.is_null() {
        return None;
    }
    // A published snapshot is freed only after `publish` unpublished it and
    // an RCU grace period passed (`call_rcu`); callers are in an RCU
    // read-side section (preemption disabled or `rcu_read_lock`) or are
    // writers, serialized with `publish`.
    // SAFETY: so `p` stays valid for the whole of `f`, as argued above.
    let snap = unsafe { &*p };
    Some(f(snap))
}

/// Frees a retired snapshot; called by RCU after a grace period.
///
/// # Safety
/// `head` must be the `rcu` field of a snapshot retired by [`publish`].
unsafe extern "C" fn free_snapshot(head: *mut RcuHead) {
    // SAFETY: `rcu` is the first field of the `repr(C)` snapshot, so the
    // pointers are equal; the snapshot came from `KBox::into_raw`, was
    // unpublished, and after the grace period no reader holds it.
    drop(unsafe { KBox::from_raw(head.cast::<Snapshot>()) });
}

/// Tables unpublished and not yet freed, oldest first, each with the RCU
/// grace period (`start_poll_synchronize_rcu`'s cookie) after which no
/// reader can hold it. Writers free at most [`REAP_PER_PUBLISH`] of them
/// each time they publish, so a burst of replaces frees its old tables a
/// few at a time in the writer, instead of all at once in the RCU softirq
/// of whichever syscall is running when the grace period ends (that batch
/// was most of a replace's p99). Writer-only (see the top of this file).
struct Retired {
    slots: [(*mut Snapshot, c_ulong); RETIRED_SLOTS],
    /// Index of the oldest.
    head: usize,
    len: usize,
}

/// Tables [`Retired`] holds; past that the oldest goes to `call_rcu`. At
/// tens of microseconds a replace, a grace period of a few milliseconds
/// retires a few hundred.
const RETIRED_SLOTS: usize = 512;

/// Retired tables a writer frees at most when it publishes (more than the
/// one it retires, so that the backlog drains).
const REAP_PER_PUBLISH: usize = 2;

struct WriterOnly(UnsafeCell<Retired>);

// SAFETY: only writers touch it, and they are serialized (the generic
// netlink mutex; module init and exit run alone).
unsafe impl Sync for WriterOnly {}

static RETIRED: WriterOnly = WriterOnly(UnsafeCell::new(Retired {
    slots: [(ptr::null_mut(), 0); RETIRED_SLOTS],
    head: 0,
    len: 0,
}));

impl Retired {
    /// The oldest retired table and its cookie, taken out.
    fn pop(&mut self) -> Option<(*mut Snapshot, c_ulong)> {
        if self.len == 0 {
            return None;
        }
        let s = self.slots.get(self.head).copied();
        self.head = (self.head + 1) % RETIRED_SLOTS;
        self.len -= 1;
        s
    }

    /// Frees up to `max` of the oldest tables whose grace period has ended.
    fn reap(&mut self, max: usize) {
        for _ in 0..max {
            let Some(&(p, cookie)) = self.slots.get(self.head).filter(|_| self.len > 0) else {
                return;
            };
            // SAFETY: plain query of the RCU state.
            if !unsafe { ffi::poll_state_synchronize_rcu(cookie) } {
                return; // the later ones are younger
            }
            self.pop();
            // SAFETY: `p` came from `KBox::into_raw`, was unpublished
            // before its cookie was taken, and that grace period has ended:
            // no reader holds it.
            drop(unsafe { KBox::from_raw(p) });
        }
    }

    /// Hands every table left to `call_rcu` (module exit, before its
    /// `rcu_barrier`).
    fn flush(&mut self) {
        while let Some((p, _)) = self.pop() {
            // SAFETY: as in `retire`'s fallback.
            unsafe { ffi::sf_call_rcu((*p).rcu.get(), free_snapshot) };
        }
    }
}

/// Runs `f` on [`RETIRED`].
fn with_retired<R>(f: impl FnOnce(&mut Retired) -> R) -> R {
    // SAFETY: writers are serialized (see `WriterOnly`), and no reference
    // to it outlives this call.
    f(unsafe { &mut *RETIRED.0.get() })
}

/// Retires `old`, just unpublished: freed by a later writer once no reader
/// can still see it (or by RCU, when too many wait).
fn retire(old: *mut Snapshot) {
    with_retired(|r| {
        r.reap(REAP_PER_PUBLISH);
        if r.len == RETIRED_SLOTS {
            if let Some((p, _)) = r.pop() {
                // SAFETY: `p` is unpublished, so only readers that loaded
                // it before can hold it, and none of them touches `rcu`;
                // `free_snapshot` runs after they are done.
                unsafe { ffi::sf_call_rcu((*p).rcu.get(), free_snapshot) };
            }
        }
        // SAFETY: process context (a writer).
        let cookie = unsafe { ffi::start_poll_synchronize_rcu() };
        let tail = (r.head + r.len) % RETIRED_SLOTS;
        if let Some(slot) = r.slots.get_mut(tail) {
            *slot = (old, cookie);
            r.len += 1;
        } else {
            // SAFETY: as above.
            unsafe { ffi::sf_call_rcu((*old).rcu.get(), free_snapshot) };
        }
    });
}

/// Publishes `next` (or nothing) and retires the previous table, which is
/// freed once no reader can still see it.
fn publish(next: Option<KBox<Snapshot>>) {
    let raw = next.map_or(ptr::null_mut(), KBox::into_raw);
    let old = CURRENT.swap(raw, Ordering::AcqRel);
    if !old.is_null() {
        retire(old);
    }
}

/// The policy limit: the `max_policies` module parameter, checked at init.
static MAX_POLICIES: AtomicU32 = AtomicU32::new(limits::MAX_POLICIES);

/// Sets the policy limit (module init, before any request).
pub(crate) fn set_max_policies(n: u32) {
    MAX_POLICIES.store(n, Ordering::Relaxed);
}

/// The policy limit.
pub(crate) fn max_policies() -> u32 {
    MAX_POLICIES.load(Ordering::Relaxed)
}

/// Number of policies installed.
pub(crate) fn count() -> usize {
    with_current(|s| s.entries.len()).unwrap_or(0)
}

fn copy_entries(extra: usize) -> Result<KVVec<Entry>, AllocError> {
    let mut v = KVVec::with_capacity(count().saturating_add(extra), GFP_KERNEL)?;
    if let Some(Err(e)) = with_current(|s| -> Result<(), AllocError> {
        for e in s.entries.iter() {
            v.push(e.clone(), GFP_KERNEL)?;
        }
        Ok(())
    }) {
        return Err(e);
    }
    Ok(v)
}

/// The FNV-1a offset basis, the seed of [`Compiled::content_hash`].
const FNV_BASIS: u64 = 0xcbf2_9ce4_8422_2325;

/// An installed policy that compiled to the same tables as `c`, if any:
/// cgroups with the same policy share one compiled object (10,000
/// containers with the runtime's default profile cost one copy of its
/// tables).
pub(crate) fn find_identical(c: &Compiled) -> Option<Arc<Compiled>> {
    with_current(|s| {
        s.entries.iter().find_map(|e| {
            let shadow = e.shadow.as_ref().and_then(|x| x.policy.as_ref());
            [e.policy.as_ref(), shadow]
                .into_iter()
                .flatten()
                .find(|p| p.same_as(c))
                .cloned()
        })
    })
    .flatten()
}

/// The current table's policies ordered by their hash, to find identical
/// ones for many new policies (a batch) by binary search: built once per
/// request, where [`find_identical`] scans every entry for each policy
/// (at 10,000 entries, a scan per item was most of a batch's time).
pub(crate) struct Identical(KVec<(u64, Arc<Compiled>)>);

impl Identical {
    pub(crate) fn of_current() -> Result<Self, AllocError> {
        let mut v = KVec::with_capacity(count(), GFP_KERNEL)?;
        if let Some(Err(e)) = with_current(|s| -> Result<(), AllocError> {
            for e in s.entries.iter() {
                let shadow = e.shadow.as_ref().and_then(|x| x.policy.as_ref());
                for p in [e.policy.as_ref(), shadow].into_iter().flatten() {
                    v.push((p.hash, p.clone()), GFP_KERNEL)?;
                }
            }
            Ok(())
        }) {
            return Err(e);
        }
        v.sort_unstable_by_key(|(h, _)| *h);
        Ok(Identical(v))
    }

    /// A policy of the table that compiled to the same tables as `c`.
    pub(crate) fn find(&self, c: &Compiled) -> Option<Arc<Compiled>> {
        let i = self.0.partition_point(|(h, _)| *h < c.hash);
        self.0
            .get(i..)?
            .iter()
            .take_while(|(h, _)| *h == c.hash)
            .find(|(_, p)| p.same_as(c))
            .map(|(_, p)| p.clone())
    }
}

/// Policies waiting for an exec, so that the exec probe returns at once
/// when there are none.
static WAITING: AtomicU32 = AtomicU32::new(0);

/// Puts a cgroup's policy in (`on`) or out of the waiting state.
fn set_waiting(stats: &Stats, on: bool) {
    if stats.waiting.swap(on, Ordering::SeqCst) != on {
        if on {
            WAITING.fetch_add(1, Ordering::SeqCst);
        } else {
            WAITING.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// Whether some policy waits for an exec: the exec probe (`gate.rs`)
/// returns at once when none does.
pub(crate) fn any_waiting() -> bool {
    WAITING.load(Ordering::SeqCst) != 0
}

/// Starts `stats`' policy if it waits for an exec; returns whether it did.
/// Lock-free (the exec probe runs with preemption disabled).
pub(crate) fn start_waiting(stats: &Stats) -> bool {
    if stats.waiting.swap(false, Ordering::SeqCst) {
        WAITING.fetch_sub(1, Ordering::SeqCst);
        return true;
    }
    false
}

/// Gives the table current *now* a fresh number, after a waiting policy
/// started: every CPU's path cache may hold the path without the policy,
/// and a fresh number makes each rebuild it and reread the flag (a writer
/// may have published another table since the one the caller read).
/// Lock-free.
pub(crate) fn renumber_current() {
    with_current(|s| {
        s.gen
            .store(NEXT_GEN.fetch_add(1, Ordering::Relaxed), Ordering::SeqCst)
    });
}

/// Where a cgroup sits: its level and its ancestors' ids, root first
/// (read from the pinned cgroup by the request handler).
pub(crate) struct Place {
    pub(crate) level: u32,
    /// Read only when the cgroup gets its first entry; empty for a
    /// cgroup that has one (its entry keeps them).
    pub(crate) ancestors: KVec<u64>,
}

fn check_level(level: u32) -> Result<(), Reject> {
    if level as usize >= MAX_LEVELS {
        return Err(Reject::new(
            EINVAL,
            c"cgroup nested too deep (policies can sit at levels 0-63)",
        ));
    }
    Ok(())
}

/// A cgroup's first entry (no policy, no shadow, fresh counters), for a
/// table that holds `count` entries: refused at the policy limit.
fn new_entry(cgroup: u64, place: Place, count: usize) -> Result<Entry, Reject> {
    if count >= max_policies() as usize {
        return Err(Reject::new(
            ENOSPC,
            c"policy limit reached (the module's max_policies; see sysfence status)",
        ));
    }
    let stats = Stats {
        ancestors: place.ancestors,
        ..Stats::default()
    };
    Ok(Entry {
        cgroup,
        level: place.level,
        policy: None,
        shadow: None,
        stats: Arc::new(stats, GFP_KERNEL)?,
        flat: None,
    })
}

/// The entries of the current table, with `cgroup`'s found or inserted
/// (new: no policy, no shadow, fresh counters, at `level`); returns its
/// index and whether it existed.
fn entries_with(cgroup: u64, place: Place) -> Result<(KVVec<Entry>, usize, bool), Reject> {
    let mut entries = copy_entries(1)?;
    match entries.binary_search_by_key(&cgroup, |e| e.cgroup) {
        Ok(i) => Ok((entries, i, true)),
        Err(i) => {
            let entry = new_entry(cgroup, place, entries.len())?;
            // Insert at `i`: push, then rotate into place.
            entries.push(entry, GFP_KERNEL)?;
            if let Some(tail) = entries.get_mut(i..) {
                tail.rotate_right(1);
            }
            Ok((entries, i, false))
        }
    }
}

/// Publishes `entries` (none left: no table).
fn publish_entries(entries: KVVec<Entry>) -> Result<(), Reject> {
    if entries.is_empty() {
        publish(None);
    } else {
        publish(Some(KBox::new(Snapshot::new(entries), GFP_KERNEL)?));
    }
    Ok(())
}

/// Creates or atomically replaces the enforcing policy of `cgroup` (its
/// shadow, if any, stays); with `arm_on_exec` it waits for the cgroup's
/// next exec, without it it applies at once.
pub(crate) fn set(
    cgroup: u64,
    place: Place,
    policy: Arc<Compiled>,
    arm_on_exec: bool,
) -> Result<(), Reject> {
    check_level(place.level)?;
    let (mut entries, i, _) = entries_with(cgroup, place)?;
    let Some(e) = entries.get_mut(i) else {
        return Err(Reject::new(EINVAL, c"internal error"));
    };
    let had_policy = e.policy.is_some();
    // A new recording starts with an empty record.
    if policy.record && !e.policy.as_ref().is_some_and(|p| p.record) {
        e.stats.seen.ensure()?;
        e.stats.seen.clear();
    }
    // The flats this change can touch: this cgroup's and those below it,
    // and none when the replaced policy allowed the same calls outright
    // (a new errno or argument rule: the common live change).
    let old = e.policy.replace(policy);
    let stats = e.stats.clone();
    let reflat = Reflat::One { at: i, old };
    let next = KBox::new(Snapshot::with_flats(entries, reflat), GFP_KERNEL)?;
    // Nothing can fail from here: only now may the policy (new, or the one
    // replaced, whose counters it keeps) enter or leave the waiting state.
    // A policy in force stays in force (arm-on-exec on a replace would
    // take it out of force at once, for tasks that may never exec); a new
    // or waiting one waits if asked. The gate reads the flag on every path
    // rebuild, and the new table's number forces one.
    let waits = !had_policy || stats.waiting.load(Ordering::SeqCst);
    set_waiting(&stats, arm_on_exec && waits);
    publish(Some(next));
    Ok(())
}

/// Creates or replaces the enforcing policies of many cgroups (distinct,
/// as the request handler checks) in one new table, as [`set`] without
/// `arm_on_exec` does for one: shadows stay, a policy waiting for an exec
/// starts now. Nothing is published unless every item fits.
pub(crate) fn set_many(items: KVec<(u64, Place, Arc<Compiled>)>) -> Result<(), Reject> {
    for (_, place, _) in items.iter() {
        check_level(place.level)?;
    }
    let mut entries = copy_entries(items.len())?;
    let mut touched = KVec::with_capacity(items.len(), GFP_KERNEL)?;
    let old = entries.len();
    let mut added = 0usize;
    for (cgroup, place, policy) in items.into_iter() {
        // The new entries are appended and the whole sorted once below; a
        // lookup sees only the entries from before (the cgroups are
        // distinct).
        let found = entries
            .get(..old)
            .and_then(|s| s.binary_search_by_key(&cgroup, |e| e.cgroup).ok());
        let i = match found {
            Some(i) => i,
            None => {
                let entry = new_entry(cgroup, place, entries.len())?;
                entries.push(entry, GFP_KERNEL)?;
                added += 1;
                entries.len() - 1
            }
        };
        let Some(e) = entries.get_mut(i) else {
            return Err(Reject::new(EINVAL, c"internal error"));
        };
        if policy.record && !e.policy.as_ref().is_some_and(|p| p.record) {
            e.stats.seen.ensure()?;
            e.stats.seen.clear();
        }
        e.policy = Some(policy);
        touched.push(e.stats.clone(), GFP_KERNEL)?;
    }
    if added > 0 {
        entries.sort_unstable_by_key(|e| e.cgroup);
    }
    let next = KBox::new(Snapshot::new(entries), GFP_KERNEL)?;
    // Nothing can fail from here (see `set`).
    for stats in touched.iter() {
        set_waiting(stats, false);
    }
    publish(Some(next));
    Ok(())
}

/// Sets or replaces the shadow of `cgroup`, with an empty record; the
/// enforcing policy, if any, stays.
pub(crate) fn set_shadow(cgroup: u64, place: Place, policy: Arc<Compiled>) -> Result<(), Reject> {
    check_level(place.level)?;
    if policy.record {
        return Err(Reject::new(EINVAL, c"a shadow policy cannot record"));
    }
    let record = Arc::new(ShadowRecord::new()?, GFP_KERNEL)?;
    let (mut entries, i, _) = entries_with(cgroup, place)?;
    if let Some(e) = entries.get_mut(i) {
        e.shadow = Some(Shadow {
            policy: Some(policy),
            record,
        });
    }
    publish_entries(entries)
}

/// Swaps the enforcing policy of `cgroup` with its shadow in one new
/// table, with an empty record: the gate reads one table per call, so each
/// call is decided wholly by the old policies or wholly by the new ones.
pub(crate) fn promote(cgroup: u64) -> Result<(), Reject> {
    let mut entries = copy_entries(0)?;
    let e = entries
        .binary_search_by_key(&cgroup, |e| e.cgroup)
        .ok()
        .and_then(|i| entries.get_mut(i))
        .ok_or_else(|| Reject::new(ENOENT, c"no policy on this cgroup"))?;
    let Some(shadow) = e.shadow.take() else {
        return Err(Reject::new(ENOENT, c"this cgroup has no shadow policy"));
    };
    if e.stats.waiting.load(Ordering::SeqCst) {
        return Err(Reject::new(
            EBUSY,
            c"the policy waits for the cgroup's next exec: promote once it is in force",
        ));
    }
    let record = Arc::new(ShadowRecord::new()?, GFP_KERNEL)?;
    // A recording policy that becomes the shadow records nothing there
    // (only enforcing policies mark calls).
    let old = core::mem::replace(&mut e.policy, shadow.policy);
    e.shadow = Some(Shadow {
        policy: old,
        record,
    });
    publish_entries(entries)
}

/// Drops the shadow of `cgroup` and its record; the entry goes too when it
/// has no enforcing policy.
pub(crate) fn discard_shadow(cgroup: u64) -> Result<(), Reject> {
    let mut entries = copy_entries(0)?;
    let Ok(i) = entries.binary_search_by_key(&cgroup, |e| e.cgroup) else {
        return Err(Reject::new(ENOENT, c"no policy on this cgroup"));
    };
    let Some(e) = entries.get_mut(i) else {
        return Err(Reject::new(ENOENT, c"no policy on this cgroup"));
    };
    if e.shadow.take().is_none() {
        return Err(Reject::new(ENOENT, c"this cgroup has no shadow policy"));
    }
    if e.policy.is_none() {
        remove_at(&mut entries, i);
    }
    publish_entries(entries)
}

/// Takes entry `i` out of `entries` (its waiting state with it).
fn remove_at(entries: &mut KVVec<Entry>, i: usize) {
    if let Some(e) = entries.get(i) {
        set_waiting(&e.stats, false);
    }
    if let Some(tail) = entries.get_mut(i..) {
        tail.rotate_left(1);
    }
    entries.truncate_to(entries.len().saturating_sub(1));
}

/// Removes the policy of `cgroup`, its shadow included.
pub(crate) fn delete(cgroup: u64) -> Result<(), Reject> {
    let mut entries = copy_entries(0)?;
    let Ok(i) = entries.binary_search_by_key(&cgroup, |e| e.cgroup) else {
        return Err(Reject::new(ENOENT, c"no policy on this cgroup"));
    };
    remove_at(&mut entries, i);
    publish_entries(entries)
}

/// Keeps the entries whose cgroup id `keep` accepts and drops the others
/// (shadows included) in one new table; returns how many went. Publishes
/// nothing when none goes.
pub(crate) fn retain(mut keep: impl FnMut(u64) -> bool) -> Result<usize, Reject> {
    let mut kept = KVVec::with_capacity(count(), GFP_KERNEL)?;
    let mut gone = KVVec::with_capacity(0, GFP_KERNEL)?;
    if let Some(Err(e)) = with_current(|s| -> Result<(), AllocError> {
        for e in s.entries.iter() {
            if keep(e.cgroup) {
                kept.push(e.clone(), GFP_KERNEL)?;
            } else {
                gone.push(e.stats.clone(), GFP_KERNEL)?;
            }
        }
        Ok(())
    }) {
        return Err(e.into());
    }
    if gone.is_empty() {
        return Ok(0);
    }
    publish_entries(kept)?;
    for stats in gone.iter() {
        set_waiting(stats, false);
    }
    Ok(gone.len())
}

/// The policy table's lifetime: it holds nothing at init (the first
/// request publishes the first table), and dropping it retires the
/// current table and waits until RCU freed every retired one
/// (`rcu_barrier`), so no callback runs into unloaded code.
pub(crate) struct Table(());

impl Table {
    /// The (empty) table, at module init.
    pub(crate) fn new() -> Self {
        Table(())
    }
}

impl Drop for Table {
    /// Module exit, once no handler, probe or hook can read or change the
    /// table any more: drops every policy and waits for the frees.
    fn drop(&mut self) {
        publish(None);
        with_retired(Retired::flush);
        WAITING.store(0, Ordering::SeqCst);
        // SAFETY: plain call into the RCU core; module exit may sleep.
        unsafe { ffi::sf_rcu_barrier() };
    }
}

/// Truncation for the kernel's `Vec`, which 6.12 lacks.
trait TruncateTo {
    fn truncate_to(&mut self, len: usize);
}

impl<T> TruncateTo for KVVec<T> {
    fn truncate_to(&mut self, len: usize) {
        while self.len() > len {
            let last = self.len() - 1;
            // SAFETY: `last < len()`, so the element is initialized; it is
            // read out once and the length shrinks past it at once.
            let item = unsafe { ptr::read(self.as_ptr().add(last)) };
            // SAFETY: the element at `last` has been moved out above.
            unsafe { self.set_len(last) };
            drop(item);
        }
    }
}
