// SPDX-License-Identifier: GPL-2.0
//! The syscall gate: the `sys_enter` probe that decides every call.
//!
//! Runs with preemption disabled for every syscall of every task: it takes
//! no lock, allocates nothing and reads the policy table once per call.

use crate::arch::{arg, classify, fast_abi, fast_nr};
use crate::engine::Lookup;
use crate::events::{self, Decision};
use crate::ffi::{self, PtRegs, RcuReadGuard};
use crate::proto::{action, Abi};
use crate::shadow::{self, NO_POLICY};
use crate::store::{self, Compiled, Entry, Snapshot, MAX_LEVELS};
use core::ffi::{c_int, c_long, c_void};
use core::mem::MaybeUninit;
use core::sync::atomic::Ordering::Relaxed;

/// The `sys_enter` (and `emulate_vsyscall`) probe, attached while this
/// value lives: dropping it detaches the probes and waits for every probe
/// call in flight (`tracepoint_synchronize_unregister`).
pub(crate) struct Gate(());

impl Gate {
    /// Attaches the probes (module init). No policy exists yet, so they
    /// decide nothing until one is published.
    pub(crate) fn attach() -> Result<Self, kernel::error::Error> {
        // SAFETY: process context; attached once per module instance (this
        // is the only caller), and detached by `drop`.
        kernel::error::to_result(unsafe { ffi::sf_gate_attach() })?;
        Ok(Gate(()))
    }
}

impl Drop for Gate {
    fn drop(&mut self) {
        // SAFETY: attached in `attach`; returns once no probe call runs.
        unsafe { ffi::sf_gate_detach() };
    }
}

/// Who takes the syscall slow path (`sysfence_tasks.c`), managed while
/// this value lives: only tasks under a policy, unless another tracer of
/// `sys_enter` needs every task. Dropping it restores the flags for any
/// tracer that remains and detaches the fork, attach and exec probes.
pub(crate) struct SlowPath(());

impl SlowPath {
    /// Starts it (module init), while `_gate` is attached and before any
    /// policy can exist.
    pub(crate) fn start(_gate: &Gate) -> Result<Self, kernel::error::Error> {
        // SAFETY: process context; the gate is attached (borrowed above)
        // and the family is not open to requests yet, so no policy exists;
        // undone by `drop`.
        kernel::error::to_result(unsafe { ffi::sf_tasks_start() })?;
        Ok(SlowPath(()))
    }
}

impl Drop for SlowPath {
    fn drop(&mut self) {
        // SAFETY: started in `start`, and dropped before the gate is
        // detached (module exit order).
        unsafe { ffi::sf_tasks_stop() };
    }
}

/// Calls `f` for each policy on the current task's cgroup path, deepest
/// first, those waiting for an exec included; returns the id of the task's
/// own cgroup. Only the levels at which some policy exists are looked at
/// (`Snapshot::levels`), and the ids come from one call into C.
pub(crate) fn for_each_entry<'s>(snap: &'s Snapshot, mut f: impl FnMut(&'s Entry)) -> u64 {
    let mut ids = [MaybeUninit::<u64>::uninit(); MAX_LEVELS];
    let mut own = 0u64;
    // SAFETY: called with preemption disabled or under rcu_read_lock, as C
    // requires; `ids` has room for `MAX_LEVELS` values and `own` is valid.
    let n = unsafe {
        ffi::sf_current_path_ids(
            snap.levels,
            ids.as_mut_ptr().cast(),
            MAX_LEVELS as c_int,
            &mut own,
        )
    };
    let n = usize::try_from(n).unwrap_or(0).min(MAX_LEVELS);
    for slot in ids.iter().take(n) {
        // SAFETY: C initialized the first `n` values.
        let id = unsafe { slot.assume_init() };
        if let Some(e) = snap.find(id) {
            f(e);
        }
    }
    own
}

/// As [`for_each_entry`], for the policies in force: a policy waiting for
/// an exec (`ARM_ON_EXEC`) is not, nor a cgroup that has only a shadow.
pub(crate) fn for_each_policy<'s>(snap: &'s Snapshot, mut f: impl FnMut(&'s Entry)) -> u64 {
    for_each_entry(snap, |e| {
        if e.in_force().is_some() {
            f(e)
        }
    })
}

/// As [`for_each_entry`], for the entries the gate decides with: a policy
/// in force, or a shadow.
pub(crate) fn for_each_active<'s>(snap: &'s Snapshot, mut f: impl FnMut(&'s Entry)) -> u64 {
    for_each_entry(snap, |e| {
        if e.active() {
            f(e)
        }
    })
}

/// Keeps the stricter of the verdict so far and policy `e`'s action `a`;
/// among equals the first seen (the deepest cgroup's) stays.
#[inline(always)]
pub(crate) fn keep_stricter<'s>(verdict: &mut Option<(u32, &'s Entry)>, a: u32, e: &'s Entry) {
    match verdict {
        Some((v, _)) if !action::stricter(a, *v) => {}
        _ => *verdict = Some((a, e)),
    }
}

/// Policies on a task's path that the per-CPU cache can hold.
const CACHED: usize = 5;

/// The gate's per-CPU cache (the 128 bytes `sf_gate_cache` in C): the
/// entries on the path of the cgroup that made this CPU's last filtered
/// call (policies in force and shadows), valid while the table version is
/// `gen`.
#[repr(C)]
struct PathCache {
    gen: u64,
    cgid: u64,
    n: u64,
    /// The path's deepest entry, when every entry on the path is in
    /// force, not recording and without a shadow, and there is one, or
    /// the deepest has a [`store::Flat`]: the fast path needs nothing
    /// else. Null otherwise.
    single: *const Entry,
    /// What the fast path tests: `single`'s enforcing policy when it is
    /// the path's only one; else the deepest entry's flat policy (every
    /// policy on the path ANDed), whose every other answer is
    /// [`store::PATH_WALK`].
    single_policy: *const Compiled,
    /// The path's only entry when it is as `single` would be but for a
    /// shadow (the usual rollout: a container's policy and a candidate);
    /// null otherwise.
    shadowed: *const Entry,
    /// `shadowed`'s enforcing policy.
    shadowed_policy: *const Compiled,
    /// `shadowed`'s shadow policy; null when the shadow is "no policy".
    shadowed_shadow: *const Compiled,
    entries: [*const Entry; CACHED],
}
const _: () = assert!(core::mem::size_of::<PathCache>() <= 128);

impl PathCache {
    /// The path's deepest entry and the policy the fast path tests (see
    /// the fields), if this cache holds the path of `cgid` under table
    /// version `gen` and every entry on it is in force, not recording and
    /// unshadowed.
    #[inline(always)]
    fn single(&self, gen: u64, cgid: u64) -> Option<(&Entry, &Compiled)> {
        if self.gen != gen || self.cgid != cgid || self.single.is_null() {
            return None;
        }
        // SAFETY: both stored from the snapshot numbered `gen` (the policy
        // and the flat are held by the entry's `Arc`s); numbers are never
        // reused and that snapshot is the current one, alive for this call.
        Some(unsafe { (&*self.single, &*self.single_policy) })
    }

    /// As [`PathCache::single`], for a path whose only entry also has a
    /// shadow: the entry, its enforcing policy and its shadow's policy
    /// (`None`: the shadow is "no policy").
    #[inline(always)]
    fn shadowed(&self, gen: u64, cgid: u64) -> Option<(&Entry, &Compiled, Option<&Compiled>)> {
        if self.gen != gen || self.cgid != cgid || self.shadowed.is_null() {
            return None;
        }
        // SAFETY: as in `single`; the shadow policy is held by the entry's
        // shadow, part of the same snapshot.
        Some(unsafe {
            (
                &*self.shadowed,
                &*self.shadowed_policy,
                self.shadowed_shadow.as_ref(),
            )
        })
    }
}

/// As [`for_each_active`], through this CPU's cache: a task of the cgroup
/// that made the last call here, under the same table version, skips the
/// ancestor walk and the lookups. Returns the task's cgroup id.
fn for_each_active_cached<'s>(
    snap: &'s Snapshot,
    cache: &mut PathCache,
    cgid: u64,
    mut f: impl FnMut(&'s Entry),
) -> u64 {
    let gen = snap.gen();
    if cache.gen == gen && cache.cgid == cgid {
        for p in cache.entries.iter().take(cache.n as usize) {
            // SAFETY: as in `PathCache::single`.
            f(unsafe { &**p });
        }
        return cgid;
    }
    let mut list = [core::ptr::null::<Entry>(); CACHED];
    let (mut n, mut fits) = (0usize, true);
    // The path's deepest entry, while it may take the fast path: every
    // entry so far in force, not recording, unshadowed.
    let mut single: Option<(&Entry, &Compiled)> = None;
    let mut plain = true;
    let mut shadowed: Option<(&Entry, &Compiled, *const Compiled)> = None;
    let own = for_each_active(snap, |e| {
        match list.get_mut(n) {
            Some(slot) => {
                *slot = e;
                n += 1;
            }
            None => fits = false,
        }
        shadowed = None;
        match (e.in_force(), &e.shadow) {
            (Some(p), None) if n == 1 && !p.record => single = Some((e, p)),
            (Some(p), None) if !p.record => {}
            (Some(p), Some(sh)) if n == 1 && !p.record => {
                plain = false;
                let sp = sh
                    .policy
                    .as_deref()
                    .map_or(core::ptr::null(), |x| x as *const Compiled);
                shadowed = Some((e, p, sp));
            }
            _ => plain = false,
        }
        f(e)
    });
    if fits && own == cgid {
        use core::ptr::null;
        let (single, single_policy) = match single {
            Some((e, p)) if plain && n == 1 => (e as *const Entry, p as *const Compiled),
            Some((e, _)) if plain => match &e.flat {
                Some(f) => (e as *const Entry, &f.policy as *const Compiled),
                None => (null(), null()),
            },
            _ => (null(), null()),
        };
        let (shadowed, shadowed_policy, shadowed_shadow) = match shadowed {
            Some((e, p, sp)) if n == 1 => (e as *const Entry, p as *const Compiled, sp),
            _ => (null(), null(), null()),
        };
        *cache = PathCache {
            gen,
            cgid,
            n: n as u64,
            single,
            single_policy,
            shadowed,
            shadowed_policy,
            shadowed_shadow,
            entries: list,
        };
    } else {
        cache.gen = 0; // never a table's number
    }
    own
}

/// As [`for_each_active`], through this CPU's gate cache: for the object
/// hooks, whose call the gate has just decided on this CPU. On a miss the
/// path is walked and remembered, as the gate does: a task under no
/// policy then keeps its own (empty) path there between its file
/// operations, and the next call of a filtered task on this CPU walks its
/// path again. Measured (bench/run.sh, bench kernel): with it an open+close
/// under a path rule costs 4,986 instructions and an unfiltered one while
/// a path rule is in force elsewhere 4,123; reading the cache without
/// writing it, 4,996 and 4,203; writing it only when it holds no filtered
/// task's path, 5,014 and 4,212. Returns the task's cgroup id.
///
/// # Safety
/// Task context with preemption disabled for the whole call (the cache
/// stays this CPU's; the gate never runs in an interrupt), and never
/// while the gate holds the cache: the gate reaches none of the hooked
/// functions (it only edits registers, signals the task and queues work),
/// and a hook added on a function it does reach (`security_task_kill`,
/// say) would break this.
pub(crate) unsafe fn for_each_active_here<'s>(snap: &'s Snapshot, f: impl FnMut(&'s Entry)) -> u64 {
    let mut cgid = 0u64;
    // SAFETY: this function's contract is the C function's; `cgid` is a
    // valid out-pointer.
    let cache = unsafe { ffi::sf_gate_cache_for_current(&mut cgid) };
    // SAFETY: this CPU's 128-byte, 8-aligned cache; nothing else uses it
    // while this reference lives (the contract).
    let cache = unsafe { &mut *cache.cast::<PathCache>() };
    for_each_active_cached(snap, cache, cgid, f)
}

/// The six argument registers of the current call.
///
/// # Safety
/// `regs` must be the current task's syscall registers.
unsafe fn read_args(regs: *mut PtRegs, compat: bool) -> [u64; 6] {
    // SAFETY: as this function's contract.
    core::array::from_fn(|i| unsafe { arg(regs, compat, i as u8) })
}

/// The current task, of cgroup `cgid`, completed an exec (the
/// `sched_process_exec` probe): every policy waiting for it on the task's
/// cgroup path (its own cgroup's, or an ancestor's: an exec in a
/// sub-cgroup of the armed cgroup counts) starts now, before the new
/// program's first instruction. Runs with preemption disabled: no lock,
/// no sleep.
#[no_mangle]
pub(crate) extern "C" fn sf_rust_exec_done(_cgid: u64) {
    if !store::any_waiting() {
        return;
    }
    let mut started = false;
    store::with_current(|s| {
        for_each_entry(s, |e| started |= store::start_waiting(&e.stats));
    });
    if started {
        store::renumber_current();
    }
}

/// The levels at which policies sit (bit N: level N), for the C side's
/// ancestor walks; 0 when there is no policy.
#[no_mangle]
pub(crate) extern "C" fn sf_rust_levels() -> u64 {
    store::with_current(|s| s.levels).unwrap_or(0)
}

/// Whether any of `n` cgroup ids at `ids` has a policy.
///
/// # Safety
/// `ids` must point to `n` readable ids; the caller holds RCU or runs with
/// preemption disabled.
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_ids_filtered(ids: *const u64, n: c_int) -> bool {
    let Ok(n) = usize::try_from(n) else {
        return false;
    };
    if ids.is_null() || n == 0 {
        return false;
    }
    // SAFETY: the caller passes `n` readable ids.
    let ids = unsafe { core::slice::from_raw_parts(ids, n) };
    store::with_current(|s| ids.iter().any(|id| s.find(*id).is_some())).unwrap_or(false)
}

/// Whether the current task is under any policy (its cgroup or an
/// ancestor). Process context (request handlers).
pub(crate) fn current_is_filtered() -> bool {
    // The snapshot and the task's cgroup are read under RCU.
    let rcu = RcuReadGuard::lock();
    let mut found = false;
    if let Some(snap) = store::current(&rcu) {
        for_each_policy(snap, |_| found = true);
    }
    found
}

/// The probe, called by the C glue for every syscall entry with the
/// task's cgroup id, this CPU's gate cache and the call's ABI.
///
/// Its first part is the fast path, kept small: a task whose path has a
/// single policy, remembered by this CPU's cache, making a call that
/// policy always allows (one bit) is counted and let go. The same policy's
/// other calls are decided by [`decide_single`]; everything else goes to
/// [`decide_call`].
///
/// # Safety
/// `regs` must be the current task's syscall registers, `cache` this CPU's
/// 128-byte, 8-aligned gate cache, and the caller must run with preemption
/// disabled (tracepoint probe context).
#[no_mangle]
pub(crate) unsafe extern "C" fn sf_rust_sys_enter(
    regs: *mut PtRegs,
    id: c_long,
    cgid: u64,
    cache: *mut c_void,
    compat: bool,
) {
    let snap = store::current_ptr();
    if snap.is_null() {
        return;
    }
    // SAFETY: a published snapshot stays valid while preemption is disabled
    // (an RCU read-side section), as `store::with_current` explains.
    let snap = unsafe { &*snap };
    // SAFETY: this CPU's cache, as the caller guarantees; preemption stays
    // disabled for the whole probe and only the gate uses it (no syscall,
    // hence no gate, runs in interrupt context), so nothing else touches it.
    let cache = unsafe { &mut *cache.cast::<PathCache>() };
    if let Some((e, p)) = cache.single(snap.gen(), cgid) {
        // An x32 number has bit 30 set, beyond any bitmap: never fast.
        let abi = fast_abi(compat);
        if p.allows(abi, fast_nr(compat, id)) {
            // Every policy on the path allows it: the deepest counts it,
            // as `decide_call` would.
            e.stats.allowed.fetch_add(1, Relaxed);
            return;
        }
        // SAFETY: same contract as this function's; `e` is the path's
        // deepest entry and `p` its policy or flat policy.
        unsafe { decide_inline(e, p, regs, id, cgid, compat) };
        return;
    }
    // SAFETY: same contract as this function's.
    unsafe { decide_other(snap, cache, regs, id, cgid, compat) };
}

/// A call the fast path's allow bit did not let go: allowed and counted
/// when one of `p`'s shortcuts (one-comparison "allow" rules,
/// [`crate::engine::Head::inline_allows`]) holds, as the full evaluation
/// would allow it too; else decided by [`decide_single`]. Out of line, so
/// that the fast path's code stays as small as it was without shortcuts.
///
/// # Safety
/// As [`decide_single`].
#[inline(never)]
unsafe fn decide_inline(
    e: &Entry,
    p: &Compiled,
    regs: *mut PtRegs,
    id: c_long,
    cgid: u64,
    compat: bool,
) {
    let abi = fast_abi(compat);
    // SAFETY: `regs` is this call's registers (the caller's contract).
    let nr = fast_nr(compat, id);
    if p.head.inline_maybe(abi, nr)
        && p.head
            .inline_allows(abi, nr, |i| unsafe { arg(regs, compat, i) })
    {
        e.stats.allowed.fetch_add(1, Relaxed);
        return;
    }
    // SAFETY: same contract as this function's.
    unsafe { decide_single(e, p, regs, id, cgid, compat) };
}

/// The calls the fast path leaves: first a path whose only entry has a
/// shadow (a call both policies allow outright is counted and let go),
/// then [`decide_call`]. Out of line, so that the fast path's code stays
/// as small as it was without shadows.
///
/// # Safety
/// As [`sf_rust_sys_enter`]; `snap` is the current snapshot.
#[inline(never)]
unsafe fn decide_other(
    snap: &Snapshot,
    cache: &mut PathCache,
    regs: *mut PtRegs,
    id: c_long,
    cgid: u64,
    compat: bool,
) {
    if let Some((e, p, sp)) = cache.shadowed(snap.gen(), cgid) {
        let abi = fast_abi(compat);
        let nr = fast_nr(compat, id);
        if p.allows(abi, nr) && sp.is_none_or(|sp| sp.allows(abi, nr)) {
            e.stats.allowed.fetch_add(1, Relaxed);
            return;
        }
        // SAFETY: same contract as this function's; `e` is the path's only
        // entry, `p` its enforcing policy and `sp` its shadow's.
        unsafe { decide_single_shadowed(e, p, sp, regs, id, cgid, compat) };
        return;
    }
    // SAFETY: same contract as this function's.
    unsafe { decide_call(snap, cache, regs, id, cgid, compat) };
}

/// Decides a call the fast path did not let go, of a task whose path
/// has the single policy `e` (`p`): a fixed answer, or its argument rules
/// (only the registers they name are read). When `p` is the flat policy
/// of a path with several, its answer is [`store::PATH_WALK`] and the
/// path's policies decide ([`decide_call`]).
///
/// # Safety
/// As [`sf_rust_sys_enter`]; the fast path tested `p`'s allow bit of this
/// call and found it clear.
#[inline(never)]
unsafe fn decide_single(
    e: &Entry,
    p: &Compiled,
    regs: *mut PtRegs,
    id: c_long,
    cgid: u64,
    compat: bool,
) {
    let (abi, nr) = classify(compat, id);
    let a = match p.lookup_missed(abi, nr) {
        Lookup::Fixed(a) => a,
        // SAFETY: `regs` is this call's registers.
        Lookup::Rules(x) => p.eval_with(x, |i| unsafe { arg(regs, compat, i) }),
    };
    if a == action::ALLOW {
        e.stats.allowed.fetch_add(1, Relaxed);
        return;
    }
    if a == store::PATH_WALK {
        // SAFETY: same contract as this function's.
        return unsafe { walk_path(regs, id, cgid, compat) };
    }
    // SAFETY: same contract as this function's.
    unsafe { conclude(regs, a, e, cgid, id, compat) };
}

/// The full decision for a path with several policies whose flat policy
/// did not allow the call: [`decide_call`] on the current table (the one
/// the fast path read, or a newer one: either is one whole version) and
/// this CPU's cache.
///
/// # Safety
/// As [`sf_rust_sys_enter`].
#[inline(never)]
#[cold]
unsafe fn walk_path(regs: *mut PtRegs, id: c_long, cgid: u64, compat: bool) {
    let snap = store::current_ptr();
    if snap.is_null() {
        return;
    }
    // SAFETY: as in `sf_rust_sys_enter`: published, and preemption is
    // disabled.
    let snap = unsafe { &*snap };
    // SAFETY: this CPU's gate cache, which only the gate uses, with
    // preemption disabled (see `sf_rust_sys_enter`).
    let cache = unsafe { &mut *ffi::sf_gate_cache_this_cpu().cast::<PathCache>() };
    // SAFETY: same contract as this function's.
    unsafe { decide_call(snap, cache, regs, id, cgid, compat) };
}

/// As [`decide_single`] for a path whose only entry `e` also has a shadow
/// (`sp`, or "no policy"): the enforcing answer is carried out, the
/// shadow's is compared with it and a difference recorded, as
/// [`decide_shadowed`] does for any path.
///
/// # Safety
/// As [`sf_rust_sys_enter`].
#[inline(never)]
unsafe fn decide_single_shadowed(
    e: &Entry,
    p: &Compiled,
    sp: Option<&Compiled>,
    regs: *mut PtRegs,
    id: c_long,
    cgid: u64,
    compat: bool,
) {
    let (abi, nr) = classify(compat, id);
    let mut args = None;
    // SAFETY: `regs` is this call's registers.
    let a = unsafe { answer(p, abi, nr, &mut args, regs, compat) };
    // SAFETY: as above.
    let sa = sp.map_or(NO_POLICY, |sp| unsafe {
        answer(sp, abi, nr, &mut args, regs, compat)
    });
    let would = shadow::with_shadow(&[a], 0, sa);
    if let (true, Some(sh)) = (shadow::differs(a, would), &e.shadow) {
        let d = Decision {
            policy_cgroup: e.cgroup,
            task_cgroup: cgid,
            abi,
            nr,
            action: would,
            object: None,
            shadow: Some((sh.record.id, a)),
        };
        // SAFETY: `regs` is this call's registers.
        events::note_shadow(&sh.record, &d, || unsafe { read_args(regs, compat) });
    }
    if a == action::ALLOW {
        e.stats.allowed.fetch_add(1, Relaxed);
        return;
    }
    // SAFETY: same contract as this function's.
    unsafe { conclude(regs, a, e, cgid, id, compat) };
}

/// Decides a call of a task with several policies on its path, or one the
/// cache does not hold yet.
///
/// # Safety
/// As [`sf_rust_sys_enter`]; `snap` is the current snapshot.
#[inline(never)]
#[cold]
unsafe fn decide_call(
    snap: &Snapshot,
    cache: &mut PathCache,
    regs: *mut PtRegs,
    id: c_long,
    cgid: u64,
    compat: bool,
) {
    if snap.shadows {
        // SAFETY: same contract as this function's.
        return unsafe { decide_shadowed(snap, cache, regs, id, cgid, compat) };
    }
    let (abi, nr) = classify(compat, id);
    // The decision: the strictest action of every policy on the path;
    // among equals, the deepest cgroup's (it is seen first).
    let mut verdict: Option<(u32, &Entry)> = None;
    let mut args = None;
    // The deepest recording policy on the path, if any.
    let mut recorder: Option<&Entry> = None;
    let own = for_each_active_cached(snap, cache, cgid, |e| {
        // Without shadows every active entry is in force.
        let Some(p) = e.in_force() else {
            return;
        };
        if recorder.is_none() && p.record {
            recorder = Some(e);
        }
        // SAFETY: `regs` is this call's registers.
        let a = unsafe { answer(p, abi, nr, &mut args, regs, compat) };
        keep_stricter(&mut verdict, a, e);
    });
    // SAFETY: same contract as this function's.
    unsafe { finish(verdict, recorder, abi, nr, own, regs, id, compat) };
}

/// Policy `p`'s answer for the current call: most calls have a fixed one,
/// and no register is read; rules read them once into `args`.
///
/// # Safety
/// `regs` must be the current task's syscall registers.
#[inline(always)]
unsafe fn answer(
    p: &Compiled,
    abi: Abi,
    nr: u32,
    args: &mut Option<[u64; 6]>,
    regs: *mut PtRegs,
    compat: bool,
) -> u32 {
    match p.lookup(abi, nr) {
        Lookup::Fixed(a) => a,
        Lookup::Rules(x) => {
            // SAFETY: as this function's contract.
            let v = *args.get_or_insert_with(|| unsafe { read_args(regs, compat) });
            p.eval(x, &v)
        }
    }
}

/// Carries out the verdict of the path's policies (none: the call runs
/// uncounted), marking it for the deepest recording policy.
///
/// # Safety
/// As [`sf_rust_sys_enter`].
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn finish(
    verdict: Option<(u32, &Entry)>,
    recorder: Option<&Entry>,
    abi: Abi,
    nr: u32,
    own: u64,
    regs: *mut PtRegs,
    id: c_long,
    compat: bool,
) {
    if let Some((a, e)) = verdict {
        if let Some(r) = recorder {
            let kind = a & action::ACTION_MASK;
            if kind == action::ALLOW || kind == action::LOG {
                r.stats.seen.mark(abi, nr);
            }
        }
        // SAFETY: same contract as this function's.
        unsafe { conclude(regs, a, e, own, id, compat) };
    }
}

/// The enforcing answers on a task's path (deepest first; `NO_POLICY`
/// where an entry has none in force) and their entries, to predict each
/// shadow's answer from: only the shadow's own policy is consulted anew.
pub(crate) struct PathAnswers<'s> {
    acts: [u32; MAX_LEVELS],
    ents: [Option<&'s Entry>; MAX_LEVELS],
    n: usize,
}

impl<'s> PathAnswers<'s> {
    pub(crate) fn new() -> Self {
        PathAnswers {
            acts: [NO_POLICY; MAX_LEVELS],
            ents: [None; MAX_LEVELS],
            n: 0,
        }
    }

    /// Adds the next (less deep) entry and its enforcing answer.
    pub(crate) fn push(&mut self, a: u32, e: &'s Entry) {
        if let (Some(slot), Some(ent)) = (self.acts.get_mut(self.n), self.ents.get_mut(self.n)) {
            *slot = a;
            *ent = Some(e);
            self.n += 1;
        }
    }

    /// For each shadow on the path whose promotion would change the
    /// answer `enforced`, calls `f` with its entry, record and that answer;
    /// `ask` gives a shadow policy's own answer.
    pub(crate) fn each_difference(
        &self,
        enforced: u32,
        mut ask: impl FnMut(&Compiled) -> u32,
        mut f: impl FnMut(&'s Entry, &'s store::ShadowRecord, u32),
    ) {
        let acts = self.acts.get(..self.n).unwrap_or(&[]);
        for (i, e) in self.ents.iter().take(self.n).enumerate() {
            let Some(e) = *e else {
                continue;
            };
            let Some(sh) = &e.shadow else {
                continue;
            };
            let sa = sh.policy.as_deref().map_or(NO_POLICY, &mut ask);
            let would = shadow::with_shadow(acts, i, sa);
            if shadow::differs(enforced, would) {
                f(e, &sh.record, would);
            }
        }
    }
}

/// Decides a call of a task with a shadow somewhere on its path: as
/// [`decide_call`], and then, for each shadow, the answer the path would
/// give were it promoted (shared-abi's `shadow` module); a difference is
/// recorded in the shadow's record. Only the shadow's policy is looked up
/// anew: the other answers are kept from the first pass. Nothing here
/// changes what the task gets.
///
/// # Safety
/// As [`sf_rust_sys_enter`]; `snap` is the current snapshot.
#[inline(never)]
#[cold]
unsafe fn decide_shadowed(
    snap: &Snapshot,
    cache: &mut PathCache,
    regs: *mut PtRegs,
    id: c_long,
    cgid: u64,
    compat: bool,
) {
    let (abi, nr) = classify(compat, id);
    let mut verdict: Option<(u32, &Entry)> = None;
    let mut args = None;
    let mut recorder: Option<&Entry> = None;
    let mut path = PathAnswers::new();
    let own = for_each_active_cached(snap, cache, cgid, |e| {
        let mut a = NO_POLICY;
        if let Some(p) = e.in_force() {
            if recorder.is_none() && p.record {
                recorder = Some(e);
            }
            // SAFETY: `regs` is this call's registers.
            a = unsafe { answer(p, abi, nr, &mut args, regs, compat) };
            keep_stricter(&mut verdict, a, e);
        }
        path.push(a, e);
    });
    let enforced = verdict.map_or(action::ALLOW, |(a, _)| a);
    path.each_difference(
        enforced,
        // SAFETY: `regs` is this call's registers.
        |p| unsafe { answer(p, abi, nr, &mut args, regs, compat) },
        |e, rec, would| {
            let d = Decision {
                policy_cgroup: e.cgroup,
                task_cgroup: own,
                abi,
                nr,
                action: would,
                object: None,
                shadow: Some((rec.id, enforced)),
            };
            // SAFETY: `regs` is this call's registers.
            events::note_shadow(rec, &d, || unsafe { read_args(regs, compat) });
        },
    );
    // SAFETY: same contract as this function's.
    unsafe { finish(verdict, recorder, abi, nr, own, regs, id, compat) };
}

/// Reports (when it is not a plain allow) and carries out action `a` of
/// policy `e` for the current call, syscall `id` of a task in cgroup `own`.
/// Six arguments, all in registers, so that callers can jump here.
///
/// # Safety
/// As [`sf_rust_sys_enter`].
#[inline(never)]
unsafe fn conclude(regs: *mut PtRegs, a: u32, e: &Entry, own: u64, id: c_long, compat: bool) {
    let (abi, nr) = classify(compat, id);
    if a & action::ACTION_MASK != action::ALLOW {
        let d = Decision {
            policy_cgroup: e.cgroup,
            task_cgroup: own,
            abi,
            nr,
            action: a,
            object: None,
            shadow: None,
        };
        // The registers are read only if an event is really made.
        // SAFETY: `regs` is this call's registers.
        events::report(&e.stats, &d, || unsafe { read_args(regs, compat) });
    }
    // SAFETY: same contract as this function's.
    unsafe { enforce(regs, a, e, nr, compat) };
}

/// Carries out action `a` for the current call and counts it.
///
/// # Safety
/// As [`sf_rust_sys_enter`].
unsafe fn enforce(regs: *mut PtRegs, a: u32, e: &Entry, nr: u32, compat: bool) {
    let s = &e.stats;
    let data = (a & action::DATA_MASK) as c_int;
    let nr = nr as c_int;
    match a & action::ACTION_MASK {
        action::ALLOW => {
            s.allowed.fetch_add(1, Relaxed);
        }
        action::LOG => {
            s.allowed.fetch_add(1, Relaxed);
            s.logged.fetch_add(1, Relaxed);
        }
        action::ERRNO => {
            s.denied.fetch_add(1, Relaxed);
            // SAFETY: `regs` is this call's registers.
            unsafe { ffi::sf_skip_syscall(regs, -(data as c_long)) };
        }
        action::TRAP => {
            s.trapped.fetch_add(1, Relaxed);
            // SAFETY: as above; sending a signal is allowed in atomic context.
            unsafe { ffi::sf_trap(regs, nr, compat, data) };
        }
        action::KILL_THREAD => {
            s.killed.fetch_add(1, Relaxed);
            // SAFETY: as above.
            unsafe { ffi::sf_kill_thread(regs, nr, compat) };
        }
        _ => {
            // KILL_PROCESS, and fail closed on anything unexpected.
            s.killed.fetch_add(1, Relaxed);
            // SAFETY: as above.
            unsafe { ffi::sf_kill_process(regs, nr, compat) };
        }
    }
}
