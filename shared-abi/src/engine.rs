// SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note OR MIT
//! Policy validation, compilation and the syscall decision.
//!
//! The kernel module and the manager run this same code: the module to turn
//! a `POLICY` attribute into the tables its syscall gate reads, and to decide
//! each call; the manager and the host tests to check policies and to predict
//! decisions. It allocates nothing: [`validate`] measures a policy, the
//! caller allocates tables of that [`Shape`], and [`compile`] fills them.
//!
//! Semantics, as seccomp's: each ABI has its own rules; a rule matches when
//! all its argument comparisons hold (each made at the width the kernel
//! reads the argument, see [`arg_bits`], where seccomp compares all 64
//! bits); among the matching rules of a syscall
//! the most restrictive action wins (see [`action::stricter`]); when none
//! matches, the policy's default action applies; an ABI without rules in the
//! policy gets the `bad ABI` action.

use crate::nla::{Attr, Iter, Writer, F_NESTED};
use crate::proto::{action, attr, limits, Abi, Arch, Op};

// The syscall tables (generated from the kernel) live beside this file and
// are a child of the engine, so that the module, which compiles shared-abi's
// files one by one, gets the argument widths with the engine; the crate
// re-exports them as `sysfence_abi::syscalls`.
#[path = "syscalls.rs"]
pub mod syscalls;

/// The width in bits at which the kernel reads argument `index` (0-5) of
/// call `nr` of `abi`: the declared type of the call's parameter, as the
/// x86 and arm64 syscall wrappers cast each register to it (`int` 32,
/// `umode_t` 16, pointers and `long` 64; never more than 32 for ia32 and
/// arm). Arguments of calls the tables do not list, and arguments beyond
/// a call's own, are read whole (64 bits; 32 for ia32 and arm).
pub fn arg_bits(abi: Abi, nr: u32, index: u8) -> u8 {
    bits_in(abi, &arg_row(abi, nr), index)
}

/// The width of a register of `abi`: 64 bits, 32 for ia32 and arm.
fn reg_bits(abi: Abi) -> u8 {
    match abi {
        Abi::X86_64 | Abi::X32 | Abi::Aarch64 => 64,
        Abi::Ia32 | Abi::Arm => 32,
    }
}

/// Where each number's row is in an ABI's table of argument widths
/// (`u16::MAX`: not there), built when the module is compiled: a lookup
/// is one load, where a binary search of the x86_64 table takes nine
/// steps.
struct RowIndex([u16; NRS]);

impl RowIndex {
    const fn of(table: &[(u32, [u8; 6])]) -> RowIndex {
        let mut at = [u16::MAX; NRS];
        let mut i = 0;
        while i < table.len() {
            let nr = table[i].0 as usize;
            if nr < NRS {
                at[nr] = i as u16;
            }
            i += 1;
        }
        RowIndex(at)
    }
}

static X86_64_ROWS: RowIndex = RowIndex::of(syscalls::X86_64_ARG_BITS);
static X32_ROWS: RowIndex = RowIndex::of(syscalls::X32_ARG_BITS);
static IA32_ROWS: RowIndex = RowIndex::of(syscalls::IA32_ARG_BITS);
static AARCH64_ROWS: RowIndex = RowIndex::of(syscalls::AARCH64_ARG_BITS);
static ARM_ROWS: RowIndex = RowIndex::of(syscalls::ARM_ARG_BITS);

/// [`arg_bits`] of each of the six arguments of call `nr` of `abi`: one
/// lookup for all six.
fn arg_row(abi: Abi, nr: u32) -> [u8; 6] {
    let (table, rows) = match abi {
        Abi::X86_64 => (syscalls::X86_64_ARG_BITS, &X86_64_ROWS),
        Abi::X32 => (syscalls::X32_ARG_BITS, &X32_ROWS),
        Abi::Ia32 => (syscalls::IA32_ARG_BITS, &IA32_ROWS),
        Abi::Aarch64 => (syscalls::AARCH64_ARG_BITS, &AARCH64_ROWS),
        Abi::Arm => (syscalls::ARM_ARG_BITS, &ARM_ROWS),
    };
    let reg = reg_bits(abi);
    let at = match rows.0.get(nr as usize) {
        Some(&i) => (i != u16::MAX).then_some(usize::from(i)),
        // Beyond the index (no rule names such a number): searched.
        None => table.binary_search_by_key(&nr, |(n, _)| *n).ok(),
    };
    let mut row = match at.and_then(|i| table.get(i)) {
        Some((_, w)) => *w,
        None => [reg; 6],
    };
    for b in row.iter_mut() {
        if *b > reg {
            *b = reg;
        }
    }
    row
}

/// Argument `index`'s width in a row of [`arg_row`] (a register's beyond
/// the sixth).
fn bits_in(abi: Abi, row: &[u8; 6], index: u8) -> u8 {
    row.get(usize::from(index))
        .copied()
        .unwrap_or_else(|| reg_bits(abi))
}

/// The mask of the low `bits` bits (all 64 from 64 on).
pub const fn width_mask(bits: u8) -> u64 {
    if bits >= 64 {
        u64::MAX
    } else {
        (1u64 << bits) - 1
    }
}

/// Why a policy or request was refused (defined with the attribute codec,
/// which the object rules' validation shares).
pub use crate::nla::Invalid;
use crate::nla::{bad, get_u32, walk};

fn get_u64(a: &Attr<'_>) -> Result<u64, Invalid> {
    match a.u64() {
        Some(v) => Ok(v),
        None => bad("attribute must be an 8-byte u64\0", a),
    }
}

fn get_action(a: &Attr<'_>) -> Result<u32, Invalid> {
    let v = get_u32(a)?;
    if action::is_valid(v) {
        Ok(v)
    } else {
        bad("unknown action, or errno above 4095\0", a)
    }
}

/// The top-level attributes of a request.
#[derive(Clone, Copy, Debug, Default)]
pub struct Request<'a> {
    /// `CGROUP_ID`, when present.
    pub cgroup_id: Option<u64>,
    /// `POLICY`, when present (not yet validated: see [`validate`]).
    pub policy: Option<Attr<'a>>,
    /// `ARM_ON_EXEC` (only with a policy).
    pub arm_on_exec: bool,
    /// `SHADOW` (only with a policy): set the policy as the shadow.
    pub shadow: bool,
}

/// Parses the attributes of a request (the bytes after the generic netlink
/// header). `allow_policy` says whether `POLICY` may appear; `CGROUP_ID` may
/// always appear. Anything else is refused.
pub fn parse_request(payload: &[u8], allow_policy: bool) -> Result<Request<'_>, Invalid> {
    let mut req = Request::default();
    walk(
        Iter::new(payload),
        attr::MAX,
        &[attr::POLICY, attr::STATS, attr::EVENT, attr::BATCH_ITEM],
        &[],
        |a| {
            match a.kind {
                attr::CGROUP_ID => req.cgroup_id = Some(get_u64(&a)?),
                attr::POLICY if allow_policy => req.policy = Some(a),
                attr::ARM_ON_EXEC if allow_policy => {
                    if !a.payload.is_empty() {
                        return bad("arm-on-exec is a flag: it takes no value\0", &a);
                    }
                    if req.shadow {
                        return bad(
                            "a shadow does not wait for an exec: it changes nothing a task sees\0",
                            &a,
                        );
                    }
                    req.arm_on_exec = true;
                }
                attr::SHADOW if allow_policy => {
                    if !a.payload.is_empty() {
                        return bad("shadow is a flag: it takes no value\0", &a);
                    }
                    if req.arm_on_exec {
                        return bad(
                            "a shadow does not wait for an exec: it changes nothing a task sees\0",
                            &a,
                        );
                    }
                    req.shadow = true;
                }
                _ => return bad("attribute not valid in this request\0", &a),
            }
            Ok(())
        },
    )?;
    Ok(req)
}

/// Parses a `policy-set-batch` request: gives `f` each `BATCH_ITEM`'s
/// cgroup id and `POLICY` (not yet validated: see [`validate`]), in order,
/// and returns how many there were. The request holds only `BATCH_ITEM`s,
/// one to [`limits::MAX_BATCH`]; each holds exactly one `CGROUP_ID` and
/// one `POLICY`. Refusals name the offending attribute; an error `f`
/// returns stops the walk and is returned.
pub fn parse_batch<'a>(
    payload: &'a [u8],
    mut f: impl FnMut(u64, Attr<'a>) -> Result<(), Invalid>,
) -> Result<usize, Invalid> {
    let mut n = 0usize;
    walk(
        Iter::new(payload),
        attr::MAX,
        &[attr::POLICY, attr::STATS, attr::EVENT, attr::BATCH_ITEM],
        &[attr::BATCH_ITEM],
        |item| {
            if item.kind != attr::BATCH_ITEM {
                return bad("a batch holds only batch items\0", &item);
            }
            if n >= limits::MAX_BATCH as usize {
                return bad("too many items in one batch\0", &item);
            }
            let (mut cgroup, mut policy) = (None, None);
            walk(item.nested_iter(), attr::MAX, &[attr::POLICY], &[], |a| {
                match a.kind {
                    attr::CGROUP_ID => cgroup = Some(get_u64(&a)?),
                    attr::POLICY => policy = Some(a),
                    _ => return bad("a batch item holds a cgroup id and a policy only\0", &a),
                }
                Ok(())
            })?;
            let (Some(cgroup), Some(policy)) = (cgroup, policy) else {
                return bad("a batch item needs a cgroup id and a policy\0", &item);
            };
            n = n.saturating_add(1);
            f(cgroup, policy)
        },
    )?;
    if n == 0 {
        return Err(Invalid {
            msg: "an empty batch\0",
            offset: 0,
        });
    }
    Ok(n)
}

/// Syscall numbers a table covers: 0 to [`limits::MAX_SYSCALL_NR`].
pub const NRS: usize = limits::MAX_SYSCALL_NR as usize + 1;
/// 64-bit words in a bitmap over [`NRS`] numbers.
pub const WORDS: usize = NRS / 64;
/// One bit per syscall number (bit N: word N/64, bit N%64).
pub type Bits = [u64; WORDS];

#[inline(always)]
fn bit(b: &Bits, nr: u32) -> bool {
    match b.get((nr / 64) as usize) {
        Some(w) => (w >> (nr % 64)) & 1 != 0,
        None => false,
    }
}

fn set_bit(b: &mut Bits, nr: u32, on: bool) {
    if let Some(w) = b.get_mut((nr / 64) as usize) {
        let m = 1u64 << (nr % 64);
        if on {
            *w |= m;
        } else {
            *w &= !m;
        }
    }
}

/// Calls `f` for each number set in `b`, in increasing order.
fn each_bit(b: &Bits, mut f: impl FnMut(u32)) {
    for (i, &w) in b.iter().enumerate() {
        let mut w = w;
        while w != 0 {
            let low = w.trailing_zeros();
            f(i as u32 * 64 + low);
            w &= w - 1;
        }
    }
}

/// Working memory for compiling one policy (about 57 KiB, no
/// initialization needed: [`validate`] sets up what [`compile`] reads).
/// The caller allocates it, so the engine itself never allocates.
pub struct Scratch {
    /// What [`validate`] learned of each ABI's rules, by `Abi::index`.
    abis: [AbiScratch; Abi::COUNT],
    /// Room to reorder one syscall's rules (see [`compile`]).
    sort: [Rule; limits::MAX_RULES as usize],
    /// The rules with comparisons [`validate`] read, so that [`compile`]
    /// need not read them again.
    staged: Staged,
}

/// Rules with comparisons as [`validate`] parsed them, in the order of the
/// policy, while they fit (a container profile has a few dozen); beyond
/// that, [`compile`] reads them again from the policy. Integers only, so
/// that all-zero memory is a valid (empty) value.
struct Staged {
    /// Rules staged; `STAGED_RULES + 1` once one did not fit.
    rules_len: usize,
    /// Comparisons staged.
    cmps_len: usize,
    rules: [StagedRule; STAGED_RULES],
    cmps: [StagedCmp; STAGED_CMPS],
}

/// Rules with comparisons [`Staged`] holds at most.
const STAGED_RULES: usize = 256;
/// Comparisons [`Staged`] holds at most.
const STAGED_CMPS: usize = 512;

/// One staged rule: its ABI (`Abi::index`), number, action and how many
/// comparisons it has (its own, the next ones in [`Staged::cmps`]).
#[derive(Clone, Copy)]
struct StagedRule {
    abi: u8,
    n: u8,
    nr: u16,
    action: u32,
}

/// One staged comparison ([`ArgCmp`] without its mask, the operator as
/// its wire value).
#[derive(Clone, Copy)]
struct StagedCmp {
    index: u8,
    op: u32,
    value: u64,
    value_two: u64,
}

impl Staged {
    const ZERO: Staged = Staged {
        rules_len: 0,
        cmps_len: 0,
        rules: [StagedRule {
            abi: 0,
            n: 0,
            nr: 0,
            action: 0,
        }; STAGED_RULES],
        cmps: [StagedCmp {
            index: 0,
            op: 0,
            value: 0,
            value_two: 0,
        }; STAGED_CMPS],
    };

    /// Whether every rule with comparisons of the policy is staged.
    fn complete(&self) -> bool {
        self.rules_len <= STAGED_RULES
    }

    /// Stages one rule, or marks the stage incomplete when it is full.
    fn push(&mut self, abi: Abi, nr: u32, action: u32, cmps: &[ArgCmp]) {
        if !self.complete() {
            return;
        }
        let (r, c) = (self.rules_len, self.cmps_len);
        let (Some(rule), Some(dst), Ok(nr), Ok(n)) = (
            self.rules.get_mut(r),
            self.cmps.get_mut(c..c + cmps.len()),
            u16::try_from(nr),
            u8::try_from(cmps.len()),
        ) else {
            self.rules_len = STAGED_RULES + 1;
            return;
        };
        *rule = StagedRule {
            abi: abi.index() as u8,
            n,
            nr,
            action,
        };
        for (d, s) in dst.iter_mut().zip(cmps) {
            *d = StagedCmp {
                index: s.index,
                op: s.op as u32,
                value: s.value,
                value_two: s.value_two,
            };
        }
        self.rules_len = r + 1;
        self.cmps_len = c + cmps.len();
    }
}

/// One ABI's part of [`Scratch`]: per syscall number, its unconditional
/// answer and its rules with comparisons.
struct AbiScratch {
    /// Per number: the strictest unconditional rule's action (meaningful
    /// where `has_fixed` is set).
    fixed: [u32; NRS],
    has_fixed: Bits,
    /// Numbers whose unconditional answer is not "allow": with the numbers
    /// that have conditional rules, the only candidates for exceptions.
    odd: Bits,
    /// Per number: rules with argument comparisons (meaningful where
    /// `has_cond` is set); during [`compile`], the number's exception index.
    conds: [u16; NRS],
    has_cond: Bits,
}

impl AbiScratch {
    const ZERO: AbiScratch = AbiScratch {
        fixed: [0; NRS],
        has_fixed: [0; WORDS],
        odd: [0; WORDS],
        conds: [0; NRS],
        has_cond: [0; WORDS],
    };

    /// Forgets the rules of a previous policy (`fixed` and `conds` are
    /// read only where their bits are set).
    fn clear(&mut self) {
        self.has_fixed = [0; WORDS];
        self.odd = [0; WORDS];
        self.has_cond = [0; WORDS];
    }

    /// The unconditional answer for `nr`, if it has one.
    fn base(&self, nr: u32) -> Option<u32> {
        if !bit(&self.has_fixed, nr) {
            None
        } else if bit(&self.odd, nr) {
            self.fixed.get(nr as usize).copied()
        } else {
            Some(action::ALLOW)
        }
    }
}

impl Scratch {
    /// An all-zero scratch (for callers that can build one in place).
    pub const ZERO: Scratch = Scratch {
        abis: [AbiScratch::ZERO; Abi::COUNT],
        sort: [Rule {
            action: 0,
            cmp_start: 0,
            cmp_len: 0,
        }; limits::MAX_RULES as usize],
        staged: Staged::ZERO,
    };
}

/// The measured shape of a valid policy: what [`compile`] needs room for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Default action.
    pub default: u32,
    /// Action for ABIs the policy does not describe.
    pub bad_abi: u32,
    /// A recording policy ([`attr::POLICY_RECORD`]).
    pub record: bool,
    /// The family of its ABIs (the kernel's).
    pub arch: Arch,
    /// Which ABIs the policy describes, indexed by [`Abi::index`].
    pub present: [bool; Abi::COUNT],
    /// Syscalls whose answer is neither "allow" nor the default, or
    /// depends on arguments.
    pub exceptions: usize,
    /// Rules with argument comparisons.
    pub rules: usize,
    /// Their comparisons.
    pub cmps: usize,
    /// Bytes of object rules and object defaults (`crate::objects`), kept
    /// as attributes for the object hooks and for reading the policy back.
    pub object_bytes: usize,
}

/// One comparison of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgCmp {
    /// Argument register index, 0-5.
    pub index: u8,
    /// Operator.
    pub op: Op,
    /// Value (the mask, for MASKED_EQ), as the policy gave it.
    pub value: u64,
    /// Masked value for MASKED_EQ; 0 otherwise.
    pub value_two: u64,
    /// The bits of the argument the kernel reads ([`width_mask`] of
    /// [`arg_bits`]; [`compile`] sets it): the argument, the value and the
    /// masked value are all cut to these bits before they are compared.
    pub arg_mask: u64,
}

impl ArgCmp {
    /// A placeholder for preallocated tables.
    pub const EMPTY: ArgCmp = ArgCmp {
        index: 0,
        op: Op::Eq,
        value: 0,
        value_two: 0,
        arg_mask: u64::MAX,
    };

    /// Whether argument register value `arg` satisfies this comparison, at
    /// the width the kernel reads the argument: unsigned, on the low bits
    /// of [`ArgCmp::arg_mask`] of the register and of the rule's values (so
    /// `socket(AF_UNIX | 1 << 32)` is `socket(AF_UNIX)`, as to the kernel,
    /// and an `int` rule value of -1 given as 64 bits is the 32-bit -1).
    #[inline(always)]
    pub fn holds(&self, arg: u64) -> bool {
        let m = self.arg_mask;
        let (arg, value) = (arg & m, self.value & m);
        match self.op {
            Op::Ne => arg != value,
            Op::Lt => arg < value,
            Op::Le => arg <= value,
            Op::Eq => arg == value,
            Op::Ge => arg >= value,
            Op::Gt => arg > value,
            Op::MaskedEq => arg & value == self.value_two & m,
        }
    }
}

/// One rule: an action and a run of comparisons in the comparison table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// The action when every comparison holds.
    pub action: u32,
    /// First comparison.
    pub cmp_start: u32,
    /// Number of comparisons (0: the rule always matches).
    pub cmp_len: u32,
}

impl Rule {
    /// A placeholder for preallocated tables.
    pub const EMPTY: Rule = Rule {
        action: action::KILL_PROCESS,
        cmp_start: 0,
        cmp_len: 0,
    };
}

/// A syscall whose answer is not simply "allow" or the default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exception {
    /// Syscall number.
    pub nr: u16,
    /// Rules with comparisons: `rules[start..start + len]` (0: none).
    pub len: u16,
    /// First rule.
    pub start: u32,
    /// The strictest unconditional rule's action, if any. With no rules
    /// (`len` 0) this is the answer.
    pub base: Option<u32>,
}

impl Exception {
    /// A placeholder for preallocated tables.
    pub const EMPTY: Exception = Exception {
        nr: 0,
        len: 0,
        start: 0,
        base: None,
    };
}

/// Room for [`InlineAllow`] shortcuts in each ABI's table: Docker's
/// default profile uses seven (`personality`'s five values, `clone`'s
/// flags and `socket`'s "not AF_VSOCK") in each of its ABIs.
pub const INLINE: usize = 8;

/// A one-comparison "allow" rule the gate's fast path tests itself, right
/// after the allow bit (see [`Head::inline_allows`]): the call is allowed
/// when `(argument & mask) == value` (`!=` with `negate`). Only rules that
/// decide "allow" whenever they match are copied here, so a shortcut that
/// holds never answers other than the full evaluation would; one that
/// does not hold proves nothing, and the full evaluation decides.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InlineAllow {
    /// Syscall number.
    pub nr: u16,
    /// Argument register index, 0-5.
    pub index: u8,
    /// Allowed when the masked argument differs from `value`.
    pub negate: bool,
    /// The argument's bits compared: the low 32 (a rule that compares
    /// higher bits gets no shortcut, which keeps a compiled policy in the
    /// kernel's 1 KiB allocation class).
    pub mask: u32,
    /// What they are compared with (already masked).
    pub value: u32,
}

impl InlineAllow {
    /// An unused slot.
    pub const EMPTY: InlineAllow = InlineAllow {
        nr: u16::MAX,
        index: 0,
        negate: false,
        mask: 0,
        value: 0,
    };

    /// The shortcut of comparison `c`, when it has one: `==`, `!=` and
    /// masked `==`, at the width the kernel reads the argument (as
    /// [`ArgCmp::holds`]).
    fn of(nr: u32, c: &ArgCmp) -> Option<InlineAllow> {
        let m = c.arg_mask;
        let (mask, value, negate) = match c.op {
            Op::Eq => (m, c.value & m, false),
            Op::Ne => (m, c.value & m, true),
            Op::MaskedEq => (c.value & m, c.value_two & m, false),
            _ => return None,
        };
        Some(InlineAllow {
            nr: u16::try_from(nr).ok().filter(|n| *n != u16::MAX)?,
            index: c.index,
            negate,
            mask: u32::try_from(mask).ok()?,
            value: u32::try_from(value).ok()?,
        })
    }

    /// Whether argument register value `arg` satisfies it.
    #[inline(always)]
    pub fn holds(&self, arg: u64) -> bool {
        (arg & u64::from(self.mask) == u64::from(self.value)) != self.negate
    }
}

/// The per-ABI part of a compiled policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AbiTable {
    /// Whether the policy describes this ABI (else `bad_abi` applies).
    pub present: bool,
    /// The family of the policy (every table of a [`Head`] has the same):
    /// the table is for its ABI in this slot. Kept here, in the tables'
    /// padding, so that a head's size and layout do not change.
    pub arch: Arch,
    /// Numbers the policy always allows: the syscall gate's fast path.
    pub allow: Bits,
    /// This ABI's run of the exception table, sorted by number.
    pub exc_start: u32,
    /// Its length.
    pub exc_len: u32,
    /// Bit `nr % 64` set for the number of each exception: a call whose
    /// bit is clear has none, without a search.
    pub exc_hint: u64,
    /// Shortcuts in `inline`.
    pub inline_len: u8,
    /// Where the shortcuts of numbers `nr % INLINE_BUCKETS == h` start in
    /// `inline` (sorted by that), [`NO_INLINE`] for none: a call with none
    /// (most refused calls) looks at no shortcut.
    pub inline_at: [u8; INLINE_BUCKETS],
    /// One-comparison "allow" rules the fast path decides itself.
    pub inline: [InlineAllow; INLINE],
}

/// [`AbiTable::inline_at`]'s "no shortcut".
pub const NO_INLINE: u8 = u8::MAX;
/// Groups of shortcuts in [`AbiTable::inline_at`], by syscall number.
pub const INLINE_BUCKETS: usize = 8;

impl AbiTable {
    /// An absent ABI.
    pub const EMPTY: AbiTable = AbiTable {
        present: false,
        arch: Arch::NATIVE,
        allow: [0; WORDS],
        exc_start: 0,
        exc_len: 0,
        exc_hint: 0,
        inline_len: 0,
        inline_at: [NO_INLINE; INLINE_BUCKETS],
        inline: [InlineAllow::EMPTY; INLINE],
    };

    /// Forgets its shortcuts (a policy merged with others, whose rules the
    /// shortcuts do not know).
    pub fn drop_inline(&mut self) {
        self.inline_len = 0;
        self.inline_at = [NO_INLINE; INLINE_BUCKETS];
        self.inline = [InlineAllow::EMPTY; INLINE];
    }

    /// Whether call `nr` may have shortcuts (one byte: most refused calls
    /// stop here).
    #[inline(always)]
    pub fn inline_maybe(&self, nr: u32) -> bool {
        self.inline_at.get(nr as usize % INLINE_BUCKETS) != Some(&NO_INLINE)
    }

    /// Whether a shortcut allows call `nr` with the argument registers
    /// `arg(i)` reads (only those a shortcut of `nr` names).
    #[inline(always)]
    pub fn inline_allows(&self, nr: u32, arg: impl Fn(u8) -> u64) -> bool {
        let h = nr as usize % INLINE_BUCKETS;
        let len = usize::from(self.inline_len);
        let mut k = usize::from(self.inline_at.get(h).copied().unwrap_or(NO_INLINE));
        while k < len {
            let Some(s) = self.inline.get(k) else {
                break;
            };
            if usize::from(s.nr) % INLINE_BUCKETS != h {
                break; // the next group's
            }
            if u32::from(s.nr) == nr && s.holds(arg(s.index)) {
                return true;
            }
            k += 1;
        }
        false
    }
}

/// The fixed-size part of a compiled policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// Default action.
    pub default: u32,
    /// Action for ABIs the policy does not describe.
    pub bad_abi: u32,
    /// A recording policy.
    pub record: bool,
    /// Per ABI, indexed by [`Abi::index`].
    pub abis: [AbiTable; Abi::COUNT],
}

impl Head {
    /// A placeholder for preallocated tables.
    pub const EMPTY: Head = Head {
        default: action::KILL_PROCESS,
        bad_abi: action::KILL_PROCESS,
        record: false,
        abis: [AbiTable::EMPTY; Abi::COUNT],
    };

    /// Whether the policy allows `nr` of `abi` whatever its arguments (the
    /// gate's fast path: one bit).
    #[inline(always)]
    pub fn allows(&self, abi: Abi, nr: u32) -> bool {
        match self.abis.get(abi.index()) {
            Some(t) => bit(&t.allow, nr),
            None => false,
        }
    }

    /// Whether call `nr` of `abi` may have shortcuts ([`AbiTable::inline_maybe`]).
    #[inline(always)]
    pub fn inline_maybe(&self, abi: Abi, nr: u32) -> bool {
        self.abis
            .get(abi.index())
            .is_some_and(|t| t.inline_maybe(nr))
    }

    /// Whether a shortcut of the policy allows call `nr` of `abi` whose
    /// allow bit is clear (the fast path, right after [`Head::allows`]),
    /// reading argument `i` with `arg(i)` only when a shortcut needs it.
    #[inline(always)]
    pub fn inline_allows(&self, abi: Abi, nr: u32, arg: impl Fn(u8) -> u64) -> bool {
        match self.abis.get(abi.index()) {
            Some(t) => t.inline_allows(nr, arg),
            None => false,
        }
    }

    /// The family of the policy's ABIs.
    pub fn arch(&self) -> Arch {
        self.abis.first().map_or(Arch::NATIVE, |t| t.arch)
    }

    /// The table of `abi`, when the policy describes it (an ABI of another
    /// family: none).
    #[inline(always)]
    pub fn table(&self, abi: Abi) -> Option<&AbiTable> {
        self.abis
            .get(abi.index())
            .filter(|t| t.present && t.arch == abi.arch())
    }

    /// Whether `other` allows exactly the same calls outright in every ABI:
    /// the same allow bitmaps, whatever else differs.
    pub fn same_allow(&self, other: &Head) -> bool {
        self.abis
            .iter()
            .zip(other.abis.iter())
            .all(|(a, b)| a.allow == b.allow)
    }
}

/// Where a call's answer comes from (see [`Tables::lookup`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup<'t> {
    /// This action, whatever the arguments.
    Fixed(u32),
    /// The rules of this exception decide, on the arguments.
    Rules(&'t Exception),
}

/// A compiled policy, as [`compile`] fills it.
#[derive(Debug)]
pub struct TablesMut<'t> {
    /// The fixed-size part.
    pub head: &'t mut Head,
    /// `shape.exceptions` entries.
    pub exceptions: &'t mut [Exception],
    /// `shape.rules` entries.
    pub rules: &'t mut [Rule],
    /// `shape.cmps` entries.
    pub cmps: &'t mut [ArgCmp],
    /// `shape.object_bytes` bytes.
    pub objects: &'t mut [u8],
}

/// A compiled policy, read-only: decisions and reading it back.
#[derive(Clone, Copy, Debug)]
pub struct Tables<'t> {
    /// The fixed-size part.
    pub head: &'t Head,
    /// Exceptions, each ABI's run sorted by number.
    pub exceptions: &'t [Exception],
    /// Rules with comparisons, grouped by syscall.
    pub rules: &'t [Rule],
    /// Comparisons, referenced by rules.
    pub cmps: &'t [ArgCmp],
    /// Object rules and defaults, as attributes.
    pub objects: &'t [u8],
}

/// What [`each_rule`] reports.
enum Item<'x> {
    /// An allow bitmap: each number set is allowed without comparisons.
    Allow(&'x Bits),
    /// One rule: number, action and comparisons (none: unconditional).
    Rule(u32, u32, &'x [ArgCmp]),
}

/// Calls `f` for each rule of a `POLICY_ABI` nest, after validating it.
/// With `packed` false, packed rules and allow bitmaps (which never have
/// comparisons) are skipped unread.
fn each_rule<'a>(
    abi: &Attr<'a>,
    packed: bool,
    mut f: impl FnMut(Item<'_>, &Attr<'a>) -> Result<(), Invalid>,
) -> Result<(), Invalid> {
    // Each rule's comparisons, reused from rule to rule.
    let mut cmps = [ArgCmp::EMPTY; 6];
    walk(
        abi.nested_iter(),
        attr::ABI_ALLOW,
        &[attr::ABI_RULE],
        &[attr::ABI_RULE, attr::ABI_PACKED],
        |r| {
            if r.kind == attr::ABI_ALLOW {
                let Some(bytes) = r.payload.first_chunk::<{ attr::ALLOW_BYTES }>() else {
                    return bad("an allow bitmap is 128 bytes\0", &r);
                };
                if r.payload.len() != attr::ALLOW_BYTES {
                    return bad("an allow bitmap is 128 bytes\0", &r);
                }
                if packed {
                    let mut bits: Bits = [0; WORDS];
                    let mut rest: &[u8] = bytes;
                    for w in bits.iter_mut() {
                        if let Some((b, tail)) = rest.split_first_chunk::<8>() {
                            *w = u64::from_le_bytes(*b);
                            rest = tail;
                        }
                    }
                    f(Item::Allow(&bits), &r)?;
                }
                return Ok(());
            }
            if r.kind == attr::ABI_PACKED {
                if !packed {
                    return Ok(());
                }
                const PAIRS: &str = "packed rules must be 8-byte (number, action) pairs\0";
                if r.payload.len() % 8 != 0 {
                    return bad(PAIRS, &r);
                }
                let mut rest = r.payload;
                while let Some((pair, tail)) = rest.split_first_chunk::<8>() {
                    rest = tail;
                    let nr = u32::from_ne_bytes([pair[0], pair[1], pair[2], pair[3]]);
                    let act = u32::from_ne_bytes([pair[4], pair[5], pair[6], pair[7]]);
                    if nr > limits::MAX_SYSCALL_NR {
                        return bad("syscall number out of range (0-1023)\0", &r);
                    }
                    if !action::is_valid(act) {
                        return bad("unknown action, or errno above 4095\0", &r);
                    }
                    f(Item::Rule(nr, act, &[]), &r)?;
                }
                return Ok(());
            }
            if r.kind != attr::ABI_RULE {
                return Ok(());
            }
            if let Some((nr, act, n)) = canonical_rule(r.payload, &mut cmps) {
                return f(Item::Rule(nr, act, cmps.get(..n).unwrap_or(&[])), &r);
            }
            let (mut nr, mut act) = (None, None);
            let mut n = 0usize;
            walk(
                r.nested_iter(),
                attr::RULE_ARG,
                &[attr::RULE_ARG],
                &[attr::RULE_ARG],
                |x| {
                    match x.kind {
                        attr::RULE_NR => {
                            let v = get_u32(&x)?;
                            if v > limits::MAX_SYSCALL_NR {
                                return bad("syscall number out of range (0-1023)\0", &x);
                            }
                            nr = Some(v);
                        }
                        attr::RULE_ACTION => act = Some(get_action(&x)?),
                        _ => {
                            let Some(slot) = cmps.get_mut(n) else {
                                return bad("more than 6 argument comparisons in a rule\0", &x);
                            };
                            *slot = parse_arg(&x)?;
                            n += 1;
                        }
                    }
                    Ok(())
                },
            )?;
            let (Some(nr), Some(act)) = (nr, act) else {
                return bad("rule needs a syscall number and an action\0", &r);
            };
            f(Item::Rule(nr, act, cmps.get(..n).unwrap_or(&[])), &r)
        },
    )
}

/// An attribute header as its bytes: total length (header included) and
/// type, flags included.
const fn header(len: u16, kind: u16) -> [u8; 4] {
    let (l, k) = (len.to_ne_bytes(), kind.to_ne_bytes());
    [l[0], l[1], k[0], k[1]]
}

/// The payload of a 4- or 8-byte attribute of exactly `hdr` at the start
/// of `buf`, and what follows it.
fn fixed<const N: usize>(buf: &[u8], hdr: [u8; 4]) -> Option<([u8; N], &[u8])> {
    let (h, rest) = buf.split_first_chunk::<4>()?;
    let (v, rest) = rest.split_first_chunk::<N>()?;
    if *h != hdr {
        return None;
    }
    Some((*v, rest))
}

/// The 4 bytes at `at` of `b` (an attribute header, or a u32 value).
#[inline(always)]
fn word<const N: usize>(b: &[u8; N], at: usize) -> [u8; 4] {
    match b.get(at..at + 4) {
        Some(&[x, y, z, w]) => [x, y, z, w],
        _ => [0; 4],
    }
}

/// The 8 bytes at `at` of `b`, as a u64.
#[inline(always)]
fn word64<const N: usize>(b: &[u8; N], at: usize) -> u64 {
    let (l, h) = (word(b, at), word(b, at + 4));
    u64::from_ne_bytes([l[0], l[1], l[2], l[3], h[0], h[1], h[2], h[3]])
}

/// The rule in `payload` (an `ABI_RULE` nest's), when it has the layout
/// the manager writes: `RULE_NR`, `RULE_ACTION`, then up to six `RULE_ARG`
/// nests, each `ARG_INDEX`, `ARG_OP`, `ARG_VALUE` and, for masked-eq only,
/// `ARG_VALUE_TWO`, every one of them well formed and valid, and nothing
/// else. Such a rule is what the general reading in [`each_rule`] would
/// read, with the same values, at a fraction of the cost: its attributes
/// are recognised by their headers' bytes. Anything else (another order,
/// another encoding, bytes left over, a value the general reading refuses)
/// gives `None`, and the general reading decides, with its own refusals.
/// Returns the number, the action and how many comparisons it wrote at the
/// start of `cmps`.
fn canonical_rule(payload: &[u8], cmps: &mut [ArgCmp; 6]) -> Option<(u32, u32, usize)> {
    const NR: [u8; 4] = header(8, attr::RULE_NR);
    const ACTION: [u8; 4] = header(8, attr::RULE_ACTION);
    const ARG: [u8; 4] = header(4 + 8 + 8 + 12, attr::RULE_ARG | F_NESTED);
    const ARG_TWO: [u8; 4] = header(4 + 8 + 8 + 12 + 12, attr::RULE_ARG | F_NESTED);
    const INDEX: [u8; 4] = header(8, attr::ARG_INDEX);
    const OP: [u8; 4] = header(8, attr::ARG_OP);
    const VALUE: [u8; 4] = header(12, attr::ARG_VALUE);
    const VALUE_TWO: [u8; 4] = header(12, attr::ARG_VALUE_TWO);
    let (head, mut rest) = payload.split_first_chunk::<16>()?;
    if word(head, 0) != NR || word(head, 8) != ACTION {
        return None;
    }
    let nr = u32::from_ne_bytes(word(head, 4));
    let act = u32::from_ne_bytes(word(head, 12));
    if nr > limits::MAX_SYSCALL_NR || !action::is_valid(act) {
        return None;
    }
    let mut n = 0usize;
    while !rest.is_empty() {
        // A comparison without its second value: 4 + 28 bytes.
        let (a, body) = rest.split_first_chunk::<32>()?;
        let two = match word(a, 0) {
            ARG => false,
            ARG_TWO => true,
            _ => return None,
        };
        if word(a, 4) != INDEX || word(a, 12) != OP || word(a, 20) != VALUE {
            return None;
        }
        let (value_two, body) = if two {
            let (t, body) = body.split_first_chunk::<12>()?;
            if word(t, 0) != VALUE_TWO {
                return None;
            }
            (word64(t, 4), body)
        } else {
            (0, body)
        };
        let index = u32::from_ne_bytes(word(a, 8));
        let op = Op::try_from(u32::from_ne_bytes(word(a, 16))).ok()?;
        if index > 5 || two != (op == Op::MaskedEq) {
            return None;
        }
        *cmps.get_mut(n)? = ArgCmp {
            index: index as u8,
            op,
            value: word64(a, 24),
            value_two,
            arg_mask: u64::MAX,
        };
        n += 1;
        rest = body;
    }
    Some((nr, act, n))
}

fn parse_arg(a: &Attr<'_>) -> Result<ArgCmp, Invalid> {
    let (mut index, mut op, mut value, mut two) = (None, None, None, None);
    walk(a.nested_iter(), attr::ARG_VALUE_TWO, &[], &[], |x| {
        match x.kind {
            attr::ARG_INDEX => {
                let v = get_u32(&x)?;
                if v > 5 {
                    return bad("argument index out of range (0-5)\0", &x);
                }
                index = Some(v as u8);
            }
            attr::ARG_OP => match Op::try_from(get_u32(&x)?) {
                Ok(o) => op = Some(o),
                Err(_) => return bad("unknown comparison operator\0", &x),
            },
            attr::ARG_VALUE => value = Some(get_u64(&x)?),
            _ => two = Some(get_u64(&x)?),
        }
        Ok(())
    })?;
    let (Some(index), Some(op), Some(value)) = (index, op, value) else {
        return bad("comparison needs an index, an operator and a value\0", a);
    };
    match (op, two) {
        (Op::MaskedEq, Some(value_two)) => Ok(ArgCmp {
            index,
            op,
            value,
            value_two,
            arg_mask: u64::MAX,
        }),
        (Op::MaskedEq, None) => bad("masked-eq needs a second value\0", a),
        (_, Some(_)) => bad("only masked-eq takes a second value\0", a),
        (_, None) => Ok(ArgCmp {
            index,
            op,
            value,
            value_two: 0,
            arg_mask: u64::MAX,
        }),
    }
}

/// Calls `f(abi, nest)` for each `POLICY_ABI` of a policy, after checking the
/// policy's own attributes (object rules included), and `obj(attr)` for
/// each valid object rule or default; returns `(default, bad_abi, record)`.
fn each_abi<'a>(
    policy: &Attr<'a>,
    arch: Arch,
    mut f: impl FnMut(Abi, &Attr<'a>) -> Result<(), Invalid>,
    mut obj: impl FnMut(&Attr<'a>) -> Result<(), Invalid>,
) -> Result<(u32, u32, bool), Invalid> {
    let (mut default, mut bad_abi, mut record) = (None, action::KILL_PROCESS, false);
    let mut seen_abis = [false; Abi::COUNT];
    let mut family = None;
    let mut object_rules = 0u32;
    let mut default_classes = 0u32;
    const NESTS: &[u16] = &[
        attr::POLICY_ABI,
        attr::POLICY_OBJECT,
        attr::POLICY_OBJECT_DEFAULT,
    ];
    walk(
        policy.nested_iter(),
        attr::POLICY_OBJECT_DEFAULT,
        NESTS,
        NESTS,
        |a| {
            match a.kind {
                attr::POLICY_OBJECT => {
                    object_rules += 1;
                    if object_rules > limits::MAX_OBJECT_RULES {
                        return bad("too many object rules (the limit is 256)\0", &a);
                    }
                    crate::objects::validate_rule(&a)?;
                    obj(&a)?;
                }
                attr::POLICY_OBJECT_DEFAULT => {
                    let c = crate::objects::validate_default(&a)?;
                    let bit = 1u32 << c;
                    if default_classes & bit != 0 {
                        return bad("object default given twice for a class\0", &a);
                    }
                    default_classes |= bit;
                    obj(&a)?;
                }
                attr::POLICY_DEFAULT => default = Some(get_action(&a)?),
                attr::POLICY_BAD_ABI => bad_abi = get_action(&a)?,
                attr::POLICY_RECORD => {
                    if !a.payload.is_empty() {
                        return bad("record is a flag: it takes no value\0", &a);
                    }
                    record = true;
                }
                _ => {
                    // The manager writes the ABI's id first. Then the nest's
                    // own checks (`abi_id`) cannot refuse it unless `f`,
                    // whose walk of the nest makes the same checks, refuses
                    // it too: the nest is walked once, and again only
                    // after a refusal, to report what `abi_id` would have
                    // found first.
                    let fresh = |x: &Abi| seen_abis.get(x.index()) == Some(&false);
                    if let Some(abi) = leading_abi(&a).filter(|x| fresh(x) && x.arch() == arch) {
                        check_family(&mut family, arch, abi, &a)?;
                        set_seen(&mut seen_abis, abi);
                        return f(abi, &a).or_else(|e| abi_id(&a).and(Err(e)));
                    }
                    let Some(abi) = abi_id(&a)? else {
                        return bad("ABI section needs an ABI id\0", &a);
                    };
                    check_family(&mut family, arch, abi, &a)?;
                    if !fresh(&abi) {
                        return bad("ABI described twice\0", &a);
                    }
                    set_seen(&mut seen_abis, abi);
                    f(abi, &a)?;
                }
            }
            Ok(())
        },
    )?;
    match default {
        Some(d) => Ok((d, bad_abi, record)),
        None => bad("policy needs a default action\0", policy),
    }
}

/// Refuses `abi` when the policy's earlier ABIs are of another family
/// ([`Arch::MIXED`]) or its family is not the kernel's `arch`
/// ([`Arch::foreign`]); else remembers its family.
fn check_family(
    family: &mut Option<Arch>,
    arch: Arch,
    abi: Abi,
    a: &Attr<'_>,
) -> Result<(), Invalid> {
    let mine = abi.arch();
    if family.is_some_and(|f| f != mine) {
        return bad(Arch::MIXED, a);
    }
    *family = Some(mine);
    if mine != arch {
        return bad(mine.foreign(), a);
    }
    Ok(())
}

/// Marks `abi` described.
fn set_seen(seen: &mut [bool; Abi::COUNT], abi: Abi) {
    if let Some(s) = seen.get_mut(abi.index()) {
        *s = true;
    }
}

/// The rules of a policy, counted against [`limits::MAX_RULES`]: an allow
/// bitmap counts one per bit set. Without a popcount instruction (the
/// module's target has none) counting a bitmap's bits costs more than
/// reading it, so each is counted only when a check needs its exact
/// figure: until then an upper bound (64 per non-zero word) stands in, and
/// a check the bounds pass would pass with the exact counts too.
#[derive(Default)]
struct RuleCount<'a> {
    /// Rules other than bitmaps, and the bits of the bitmaps counted.
    exact: usize,
    /// The bitmaps not counted yet (their payloads, at most one per ABI).
    pending: [&'a [u8]; Abi::COUNT],
    pending_len: usize,
    /// The sum of their bounds.
    bound: usize,
}

impl<'a> RuleCount<'a> {
    /// Adds an allow bitmap: `bits`, read from `payload`.
    fn add_bitmap(&mut self, bits: &Bits, payload: &'a [u8]) {
        match self.pending.get_mut(self.pending_len) {
            Some(slot) => {
                *slot = payload;
                self.pending_len += 1;
                self.bound += 64 * bits.iter().filter(|w| **w != 0).count();
            }
            None => self.exact += count_bits(payload),
        }
    }

    /// Whether there are more rules than [`limits::MAX_RULES`]. Inline:
    /// asked once per rule, and nearly always answered by the bound.
    #[inline(always)]
    fn over(&mut self) -> bool {
        if self.exact.saturating_add(self.bound) <= limits::MAX_RULES as usize {
            return false;
        }
        self.count_pending()
    }

    /// [`RuleCount::over`] once the bound no longer settles it: the
    /// pending bitmaps counted exactly.
    #[inline(never)]
    fn count_pending(&mut self) -> bool {
        const MAX: usize = limits::MAX_RULES as usize;
        for p in self.pending.get(..self.pending_len).unwrap_or(&[]) {
            self.exact += count_bits(p);
        }
        (self.pending_len, self.bound) = (0, 0);
        self.exact > MAX
    }
}

/// The bits set in `bytes`.
fn count_bits(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut n = 0usize;
    for c in chunks.by_ref() {
        if let Ok(w) = <[u8; 8]>::try_from(c) {
            n += u64::from_ne_bytes(w).count_ones() as usize;
        }
    }
    n + chunks
        .remainder()
        .iter()
        .map(|b| b.count_ones() as usize)
        .sum::<usize>()
}

/// Checks the attributes of a `POLICY_ABI` nest (as [`each_rule`] walks
/// them, not what they hold) and returns its `ABI_ID`, if it has one.
fn abi_id(a: &Attr<'_>) -> Result<Option<Abi>, Invalid> {
    let mut id = None;
    walk(
        a.nested_iter(),
        attr::ABI_ALLOW,
        &[attr::ABI_RULE],
        &[attr::ABI_RULE, attr::ABI_PACKED],
        |x| {
            if x.kind == attr::ABI_ID {
                match Abi::try_from(get_u32(&x)?) {
                    Ok(abi) => id = Some(abi),
                    Err(_) => return bad("unknown ABI\0", &x),
                }
            }
            Ok(())
        },
    )?;
    Ok(id)
}

/// The ABI of a `POLICY_ABI` nest whose first attribute is a well-formed
/// `ABI_ID` of a known ABI (as the manager writes it).
fn leading_abi(a: &Attr<'_>) -> Option<Abi> {
    let (id, _) = fixed::<4>(a.payload, header(8, attr::ABI_ID))?;
    Abi::try_from(u32::from_ne_bytes(id)).ok()
}

/// The bytes an attribute with a payload of `n` bytes takes (header and
/// padding included).
const fn attr_size(n: usize) -> usize {
    (4 + n + 3) & !3
}

/// Validates a `POLICY` attribute completely for a kernel of this
/// build's family ([`Arch::NATIVE`], the module's); see [`validate_for`].
pub fn validate(policy: &Attr<'_>, scratch: &mut Scratch) -> Result<Shape, Invalid> {
    validate_for(Arch::NATIVE, policy, scratch)
}

/// Validates a `POLICY` attribute completely for a kernel of family
/// `arch` and measures the tables it compiles to, reading every rule once.
/// Every check [`compile`] relies on happens here; `scratch` is left ready
/// for [`compile`]. A policy describing ABIs of two families, or of
/// another family than `arch`, is refused.
pub fn validate_for(
    arch: Arch,
    policy: &Attr<'_>,
    scratch: &mut Scratch,
) -> Result<Shape, Invalid> {
    if !policy.nested {
        return bad("policy must be a nested attribute\0", policy);
    }
    if policy.payload.len() > limits::MAX_POLICY_BYTES as usize {
        return bad("policy larger than 64 KiB\0", policy);
    }
    for a in scratch.abis.iter_mut() {
        a.clear();
    }
    let Scratch { abis, staged, .. } = scratch;
    (staged.rules_len, staged.cmps_len) = (0, 0);
    let mut present = [false; Abi::COUNT];
    let mut total_rules = RuleCount::default();
    let (mut rules, mut cmps, mut object_bytes) = (0usize, 0usize, 0usize);
    let (default, bad_abi, record) = each_abi(
        policy,
        arch,
        |abi, a| {
            let i = abi.index();
            present[i] = true;
            let Some(AbiScratch {
                fixed,
                has_fixed,
                odd,
                conds,
                has_cond,
            }) = abis.get_mut(i)
            else {
                return bad("unknown ABI\0", a);
            };
            each_rule(a, true, |item, r| {
                let (nr, act, n) = match item {
                    Item::Allow(bits) => {
                        // "Allow" is the weakest action: it never changes an
                        // answer already there, and is the answer elsewhere.
                        for (h, b) in has_fixed.iter_mut().zip(bits) {
                            *h |= b;
                        }
                        total_rules.add_bitmap(bits, r.payload);
                        if total_rules.over() {
                            return bad("too many rules (the limit is 2048)\0", r);
                        }
                        return Ok(());
                    }
                    Item::Rule(nr, act, args) => {
                        if !args.is_empty() {
                            staged.push(abi, nr, act, args);
                        }
                        (nr, act, args.len())
                    }
                };
                total_rules.exact += 1;
                if total_rules.over() {
                    return bad("too many rules (the limit is 2048)\0", r);
                }
                let k = nr as usize;
                if n == 0 {
                    // Unconditional rules of one syscall merge into one
                    // answer, the strictest: `fixed` where `odd` is set,
                    // else "allow".
                    if let Some(slot) = fixed.get_mut(k) {
                        let cur = if !bit(has_fixed, nr) {
                            None
                        } else if bit(odd, nr) {
                            Some(*slot)
                        } else {
                            Some(action::ALLOW)
                        };
                        if cur.is_none_or(|c| action::stricter(act, c)) {
                            set_bit(has_fixed, nr, true);
                            *slot = act;
                            set_bit(odd, nr, act != action::ALLOW);
                        }
                    }
                } else if let Some(slot) = conds.get_mut(k) {
                    if bit(has_cond, nr) {
                        *slot = slot.saturating_add(1);
                    } else {
                        set_bit(has_cond, nr, true);
                        *slot = 1;
                    }
                    rules += 1;
                    cmps += n;
                }
                Ok(())
            })
        },
        |o| {
            object_bytes += attr_size(o.payload.len());
            Ok(())
        },
    )?;
    let mut exceptions = 0usize;
    for (p, s) in present.iter().zip(abis.iter()) {
        if *p {
            exceptions += abi_exceptions(s, default, |_, _, _| {});
        }
    }
    Ok(Shape {
        default,
        bad_abi,
        record,
        arch,
        present,
        exceptions,
        rules,
        cmps,
        object_bytes,
    })
}

/// Walks the numbers of one ABI that have rules, in increasing order, and
/// calls `f(nr, base, conds)` for each that needs an exception: `base` the
/// unconditional answer if any, `conds` the number of rules with
/// comparisons. Returns how many there are.
fn abi_exceptions(s: &AbiScratch, default: u32, mut f: impl FnMut(u32, Option<u32>, u16)) -> usize {
    let mut n = 0usize;
    each_bit(&candidates(s), |nr| {
        if let Some((base, c)) = exception_of(s, default, nr) {
            n += 1;
            f(nr, base, c);
        }
    });
    n
}

/// The numbers of one ABI that may need an exception: an unconditional
/// "allow" never does.
fn candidates(s: &AbiScratch) -> Bits {
    let mut any: Bits = [0; WORDS];
    for (w, (a, b)) in any.iter_mut().zip(s.odd.iter().zip(&s.has_cond)) {
        *w = a | b;
    }
    any
}

/// Whether `nr`, one of the [`candidates`], needs an exception: its
/// unconditional answer if any and its number of rules with comparisons
/// when it does.
#[inline(always)]
fn exception_of(s: &AbiScratch, default: u32, nr: u32) -> Option<(Option<u32>, u16)> {
    let base = s.base(nr);
    let c = if bit(&s.has_cond, nr) {
        s.conds.get(nr as usize).copied().unwrap_or(0)
    } else {
        0
    };
    let plain = c == 0 && matches!(base, Some(a) if a == action::ALLOW || a == default);
    (!plain).then_some((base, c))
}

/// The one error of [`compile`]: tables that do not fit what [`validate`]
/// measured (a caller's bug, never the policy's).
const MISMATCH: &str = "internal error: tables do not match the policy's shape\0";

/// Fills the tables of a policy that [`validate`] accepted with `shape`,
/// using the `scratch` it left. The slices of `tables` must have the
/// measured lengths. In three phases: each ABI's head and exceptions
/// ([`place_abi`]), the rules with comparisons and the object rules read
/// again from the policy ([`fill_rules`]), each syscall's rules ordered
/// strictest first ([`sort_runs`]).
pub fn compile(
    policy: &Attr<'_>,
    shape: &Shape,
    scratch: &mut Scratch,
    tables: TablesMut<'_>,
) -> Result<(), Invalid> {
    let TablesMut {
        head,
        exceptions,
        rules,
        cmps,
        objects,
    } = tables;
    if exceptions.len() != shape.exceptions
        || rules.len() != shape.rules
        || cmps.len() != shape.cmps
        || objects.len() != shape.object_bytes
    {
        return bad(MISMATCH, policy);
    }
    *head = Head {
        default: shape.default,
        bad_abi: shape.bad_abi,
        record: shape.record,
        abis: [AbiTable {
            arch: shape.arch,
            ..AbiTable::EMPTY
        }; Abi::COUNT],
    };
    // The exceptions of each ABI, in number order; each rule run starts
    // empty and its length is the placing cursor of `fill_rules`.
    let mut next = Cursor { exc: 0, rule: 0 };
    for (i, (s, t)) in scratch
        .abis
        .iter_mut()
        .zip(head.abis.iter_mut())
        .enumerate()
    {
        if shape.present.get(i).copied().unwrap_or(false) {
            place_abi(policy, shape.default, s, exceptions, &mut next, t)?;
        }
    }
    if next.exc != exceptions.len() || next.rule as usize != rules.len() {
        return bad(MISMATCH, policy);
    }
    if shape.rules == 0 && shape.object_bytes == 0 {
        return Ok(());
    }
    if shape.object_bytes == 0 && scratch.staged.complete() {
        fill_staged(
            policy,
            shape.arch,
            &scratch.abis,
            &scratch.staged,
            exceptions,
            rules,
            cmps,
        )?;
    } else {
        fill_rules(
            policy,
            shape.arch,
            &scratch.abis,
            exceptions,
            rules,
            cmps,
            objects,
        )?;
    }
    sort_runs(policy, exceptions, rules, &mut scratch.sort)?;
    if !head.record {
        for t in head.abis.iter_mut().filter(|t| t.present) {
            fill_inline(t, exceptions, rules, cmps);
        }
    }
    Ok(())
}

/// Copies into `t` the shortcuts its exceptions allow (while there is
/// room): each one-comparison rule of a syscall whose rules all decide
/// "allow" and that has no unconditional answer. Any of its rules that
/// matches then makes the call allowed, whatever the others say, and when
/// none does the full evaluation decides as before.
fn fill_inline(t: &mut AbiTable, exceptions: &[Exception], rules: &[Rule], cmps: &[ArgCmp]) {
    let start = t.exc_start as usize;
    let run = exceptions
        .get(start..start.saturating_add(t.exc_len as usize))
        .unwrap_or(&[]);
    let mut n = 0usize;
    for e in run {
        if e.base.is_some() || e.len == 0 {
            continue;
        }
        let Some(rs) = rules.get(e.start as usize..e.start as usize + usize::from(e.len)) else {
            continue;
        };
        if rs.iter().any(|r| r.action != action::ALLOW) {
            continue;
        }
        for r in rs {
            if r.cmp_len != 1 {
                continue;
            }
            let Some(c) = cmps.get(r.cmp_start as usize) else {
                continue;
            };
            let (Some(s), Some(slot)) = (InlineAllow::of(u32::from(e.nr), c), t.inline.get_mut(n))
            else {
                continue;
            };
            *slot = s;
            n += 1;
        }
    }
    t.inline_len = n as u8;
    // Grouped by number modulo INLINE_BUCKETS, in the rules' order within
    // a group (a counting sort: each group's size, then where it starts,
    // then each shortcut at its group's next place), each group found by
    // `inline_at`.
    let found = t.inline;
    let mut next = [0usize; INLINE_BUCKETS];
    for s in found.iter().take(n) {
        if let Some(c) = next.get_mut(usize::from(s.nr) % INLINE_BUCKETS) {
            *c += 1;
        }
    }
    let mut k = 0usize;
    for (c, at) in next.iter_mut().zip(t.inline_at.iter_mut()) {
        let size = *c;
        *c = k;
        if size > 0 {
            *at = k as u8;
        }
        k += size;
    }
    for s in found.iter().take(n) {
        if let Some(c) = next.get_mut(usize::from(s.nr) % INLINE_BUCKETS) {
            if let Some(slot) = t.inline.get_mut(*c) {
                *slot = *s;
            }
            *c += 1;
        }
    }
}

/// Where [`place_abi`] puts the next exception, and where that exception's
/// run of rules starts.
struct Cursor {
    exc: usize,
    rule: u32,
}

/// Places one ABI's exceptions at `next` (each with an empty run of its
/// rules), makes each number with conditional rules remember its exception
/// (in `s.conds`), and fills the ABI's table `t` (an absent ABI's before):
/// its allow bitmap and its run of exceptions.
fn place_abi(
    policy: &Attr<'_>,
    default: u32,
    s: &mut AbiScratch,
    exceptions: &mut [Exception],
    next: &mut Cursor,
    t: &mut AbiTable,
) -> Result<(), Invalid> {
    let start = next.exc;
    let mut overflow = false;
    let mut exc_hint = 0u64;
    // The exceptions in number order (as `abi_exceptions` gives them to
    // `validate`), each number with conditional rules remembering its own.
    each_bit(&candidates(s), |nr| {
        let Some((base, c)) = exception_of(s, default, nr) else {
            return;
        };
        exc_hint |= 1 << (nr % 64);
        if bit(&s.has_cond, nr) {
            if let Some(slot) = s.conds.get_mut(nr as usize) {
                *slot = next.exc as u16;
            }
        }
        match exceptions.get_mut(next.exc) {
            Some(e) => {
                *e = Exception {
                    nr: nr as u16,
                    len: 0,
                    start: next.rule,
                    base,
                };
                next.rule = next.rule.saturating_add(u32::from(c));
            }
            None => overflow = true,
        }
        next.exc += 1;
    });
    if overflow {
        return bad(MISMATCH, policy);
    }
    t.present = true;
    t.allow = allow_bitmap(s, default);
    t.exc_start = start as u32;
    t.exc_len = (next.exc - start) as u32;
    t.exc_hint = exc_hint;
    Ok(())
}

/// The calls of one ABI allowed without condition: an unconditional
/// "allow" and no rule with comparisons, or no rule at all under a default
/// "allow".
fn allow_bitmap(s: &AbiScratch, default: u32) -> Bits {
    let mut allow: Bits = [0; WORDS];
    for (k, w) in allow.iter_mut().enumerate() {
        let (f, o, c) = (
            s.has_fixed.get(k).copied().unwrap_or(0),
            s.odd.get(k).copied().unwrap_or(0),
            s.has_cond.get(k).copied().unwrap_or(0),
        );
        *w = if default == action::ALLOW {
            !(o | c)
        } else {
            f & !o & !c
        };
    }
    allow
}

/// As [`fill_rules`] for a policy without object rules whose rules with
/// comparisons [`validate`] staged: the same tables, from the stage
/// instead of a second reading of the policy.
fn fill_staged(
    policy: &Attr<'_>,
    arch: Arch,
    abis: &[AbiScratch; Abi::COUNT],
    staged: &Staged,
    exceptions: &mut [Exception],
    rules: &mut [Rule],
    cmps: &mut [ArgCmp],
) -> Result<(), Invalid> {
    let mut cmp_next = 0usize;
    let Some(staged_rules) = staged.rules.get(..staged.rules_len) else {
        return bad(MISMATCH, policy);
    };
    // The argument widths of the last call looked up (rules of one call
    // come together: Docker's profile has five for personality).
    let mut last: Option<(u8, u16, [u8; 6])> = None;
    for r in staged_rules {
        let n = usize::from(r.n);
        // (A staged rule's ABI is its slot in the policy's family.)
        let (Some(abi), Some(s)) = (arch.abi(usize::from(r.abi)), abis.get(usize::from(r.abi)))
        else {
            return bad(MISMATCH, policy);
        };
        let Some(e) = s
            .conds
            .get(usize::from(r.nr))
            .and_then(|&k| exceptions.get_mut(usize::from(k)))
        else {
            return bad(MISMATCH, policy);
        };
        let Some(rule) = rules.get_mut(e.start.saturating_add(u32::from(e.len)) as usize) else {
            return bad(MISMATCH, policy);
        };
        let (Some(dst), Some(src)) = (
            cmps.get_mut(cmp_next..cmp_next + n),
            staged.cmps.get(cmp_next..cmp_next + n),
        ) else {
            return bad(MISMATCH, policy);
        };
        let row = match last {
            Some((a, nr, row)) if a == r.abi && nr == r.nr => row,
            _ => {
                let row = arg_row(abi, u32::from(r.nr));
                last = Some((r.abi, r.nr, row));
                row
            }
        };
        for (d, s) in dst.iter_mut().zip(src) {
            let Ok(op) = Op::try_from(s.op) else {
                return bad(MISMATCH, policy);
            };
            *d = ArgCmp {
                index: s.index,
                op,
                value: s.value,
                value_two: s.value_two,
                arg_mask: width_mask(bits_in(abi, &row, s.index)),
            };
        }
        *rule = Rule {
            action: r.action,
            cmp_start: cmp_next as u32,
            cmp_len: n as u32,
        };
        cmp_next += n;
        e.len = e.len.saturating_add(1);
    }
    if cmp_next != cmps.len() || cmp_next != staged.cmps_len {
        return bad(MISMATCH, policy);
    }
    Ok(())
}

/// Reads the policy again: rules with comparisons (packed rules are
/// skipped unread) go to their syscall's run, comparisons in wire order;
/// object rules are copied as they are.
fn fill_rules(
    policy: &Attr<'_>,
    arch: Arch,
    abis: &[AbiScratch; Abi::COUNT],
    exceptions: &mut [Exception],
    rules: &mut [Rule],
    cmps: &mut [ArgCmp],
    objects: &mut [u8],
) -> Result<(), Invalid> {
    let mut cmp_next = 0usize;
    let mut obj_next = 0usize;
    each_abi(
        policy,
        arch,
        |abi, a| {
            let conds = abis.get(abi.index()).map(|s| &s.conds);
            each_rule(a, false, |item, r| {
                let Item::Rule(nr, act, src) = item else {
                    return Ok(());
                };
                let n = src.len();
                if n == 0 {
                    return Ok(());
                }
                let Some(e) = conds
                    .and_then(|c| c.get(nr as usize))
                    .and_then(|&k| exceptions.get_mut(k as usize))
                else {
                    return bad(MISMATCH, r);
                };
                let Some(rule) = rules.get_mut(e.start.saturating_add(u32::from(e.len)) as usize)
                else {
                    return bad(MISMATCH, r);
                };
                let Some(dst) = cmps.get_mut(cmp_next..cmp_next + n) else {
                    return bad(MISMATCH, r);
                };
                // Element by element: equal lengths are known, and this keeps
                // copy_from_slice's length-mismatch panic out of the module.
                // Each comparison is made at the width the kernel reads its
                // argument.
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = ArgCmp {
                        arg_mask: width_mask(arg_bits(abi, nr, s.index)),
                        ..*s
                    };
                }
                *rule = Rule {
                    action: act,
                    cmp_start: cmp_next as u32,
                    cmp_len: n as u32,
                };
                cmp_next += n;
                e.len = e.len.saturating_add(1);
                Ok(())
            })
        },
        |o| {
            let Some(dst) = objects.get_mut(obj_next..) else {
                return bad(MISMATCH, o);
            };
            let mut w = Writer::new(dst);
            if w.put(o.kind | F_NESTED, o.payload).is_err() {
                return bad(MISMATCH, o);
            }
            obj_next += w.len();
            Ok(())
        },
    )?;
    if cmp_next != cmps.len() || obj_next != objects.len() {
        return bad(MISMATCH, policy);
    }
    Ok(())
}

/// Each syscall's rules, strictest action first (stable: among equals
/// the order received). The first rule that matches is then the answer
/// among the rules, and evaluation stops there.
fn sort_runs(
    policy: &Attr<'_>,
    exceptions: &[Exception],
    rules: &mut [Rule],
    sort: &mut [Rule; limits::MAX_RULES as usize],
) -> Result<(), Invalid> {
    for e in exceptions.iter() {
        let range = e.start as usize..e.start as usize + usize::from(e.len);
        let (Some(run), Some(tmp)) = (rules.get_mut(range), sort.get_mut(..usize::from(e.len)))
        else {
            return bad(MISMATCH, policy);
        };
        if run.len() < 2 {
            continue;
        }
        // One class (Docker's personality: five "allow" rules): already in
        // order, as the stable sort below would leave it.
        let class = |r: &Rule| r.action & action::ACTION_MASK;
        if let Some(first) = run.first().map(class) {
            if action::BY_STRICTNESS.contains(&first) && run.iter().all(|r| class(r) == first) {
                continue;
            }
        }
        let mut k = 0usize;
        for class in action::BY_STRICTNESS {
            for r in run
                .iter()
                .filter(|r| r.action & action::ACTION_MASK == class)
            {
                if let Some(t) = tmp.get_mut(k) {
                    *t = *r;
                }
                k += 1;
            }
        }
        if k != run.len() {
            return bad(MISMATCH, policy);
        }
        for (d, s) in run.iter_mut().zip(tmp.iter()) {
            *d = *s;
        }
    }
    Ok(())
}

impl<'t> Tables<'t> {
    /// The exception for `nr` in ABI table `t`, if any.
    #[inline]
    fn exception(&self, t: &AbiTable, nr: u32) -> Option<&'t Exception> {
        let run = self
            .exceptions
            .get(t.exc_start as usize..t.exc_start.saturating_add(t.exc_len) as usize)?;
        // A container profile has a handful per ABI: a scan is cheaper.
        if run.len() <= 8 {
            return run.iter().find(|e| u32::from(e.nr) == nr);
        }
        let i = run.binary_search_by_key(&nr, |e| u32::from(e.nr)).ok()?;
        run.get(i)
    }

    /// Where the answer for `nr` of `abi` comes from: a fixed action, or
    /// rules with comparisons ([`Tables::eval`]).
    #[inline]
    pub fn lookup(&self, abi: Abi, nr: u32) -> Lookup<'t> {
        let Some(t) = self.head.table(abi) else {
            return Lookup::Fixed(self.head.bad_abi);
        };
        if bit(&t.allow, nr) {
            return Lookup::Fixed(action::ALLOW);
        }
        match self.exception(t, nr) {
            None => Lookup::Fixed(self.head.default),
            Some(e) if e.len == 0 => Lookup::Fixed(e.base.unwrap_or(self.head.default)),
            Some(e) => Lookup::Rules(e),
        }
    }

    /// As [`Tables::lookup`], for a call whose bit in the allow bitmap the
    /// caller has just found clear (the gate's fast path): the same answer
    /// without testing the bit again.
    #[inline]
    pub fn lookup_unallowed(&self, abi: Abi, nr: u32) -> Lookup<'t> {
        let Some(t) = self.head.table(abi) else {
            return Lookup::Fixed(self.head.bad_abi);
        };
        if (t.exc_hint >> (nr % 64)) & 1 == 0 {
            // No exception (the gate's refused calls mostly stop here).
            return Lookup::Fixed(self.head.default);
        }
        match self.exception(t, nr) {
            None => Lookup::Fixed(self.head.default),
            Some(e) if e.len == 0 => Lookup::Fixed(e.base.unwrap_or(self.head.default)),
            Some(e) => Lookup::Rules(e),
        }
    }

    /// The answer for a call of `abi` whose decision needs no argument
    /// registers; `None` when its syscall has rules with comparisons.
    #[inline]
    pub fn fixed(&self, abi: Abi, nr: u32) -> Option<u32> {
        match self.lookup(abi, nr) {
            Lookup::Fixed(a) => Some(a),
            Lookup::Rules(_) => None,
        }
    }

    /// Decides one call: `nr` is the number the kernel dispatches (32 bits,
    /// x32 bit cleared), `args` the argument registers (zero-extended
    /// 32-bit values for ia32).
    pub fn decide(&self, abi: Abi, nr: u32, args: &[u64; 6]) -> u32 {
        match self.lookup(abi, nr) {
            Lookup::Fixed(a) => a,
            Lookup::Rules(e) => self.eval(e, args),
        }
    }

    /// Evaluates the rules of exception `e` (from [`Tables::lookup`]).
    pub fn eval(&self, e: &Exception, args: &[u64; 6]) -> u32 {
        self.eval_with(e, |i| args.get(usize::from(i)).copied().unwrap_or(0))
    }

    /// As [`Tables::eval`], reading argument `i` (0-5) with `arg(i)` only
    /// when a comparison needs it.
    #[inline]
    pub fn eval_with(&self, e: &Exception, arg: impl Fn(u8) -> u64) -> u32 {
        let run = self
            .rules
            .get(e.start as usize..e.start.saturating_add(u32::from(e.len)) as usize)
            .unwrap_or(&[]);
        // Rules are sorted strictest first (see `compile`): the first that
        // matches is the strictest matching rule.
        for r in run {
            if let Some(b) = e.base {
                if !action::stricter(r.action, b) {
                    return b; // no rule from here on can beat the base
                }
            }
            let cmps = self
                .cmps
                .get(r.cmp_start as usize..r.cmp_start.saturating_add(r.cmp_len) as usize)
                .unwrap_or(&[]);
            if cmps.iter().all(|c| c.holds(arg(c.index))) {
                return r.action;
            }
        }
        e.base.unwrap_or(self.head.default)
    }

    /// Calls `f(nr, action)` for the unconditional answers of ABI table
    /// `t` that are not "allow" (those are the allow bitmap) and differ from
    /// the default or come with conditional rules, in number order: the
    /// packed rules of the policy read back.
    fn each_pair(&self, t: &AbiTable, mut f: impl FnMut(u32, u32)) {
        let run = self
            .exceptions
            .get(t.exc_start as usize..t.exc_start.saturating_add(t.exc_len) as usize)
            .unwrap_or(&[]);
        for e in run {
            if let Some(b) = e.base {
                f(u32::from(e.nr), b);
            }
        }
    }

    /// Whether ABI table `t` reads back with an allow bitmap: some call is
    /// always allowed and the default is not "allow" (else the bitmap says
    /// nothing the default does not).
    fn has_allow_bitmap(&self, t: &AbiTable) -> bool {
        self.head.default != action::ALLOW && t.allow.iter().any(|w| *w != 0)
    }

    /// The exact size of [`Tables::encode`]'s output.
    pub fn encoded_len(&self) -> usize {
        let mut n = 2 * attr_size(4) + if self.head.record { attr_size(0) } else { 0 };
        for t in self.head.abis.iter().filter(|t| t.present) {
            n += attr_size(0) + attr_size(4);
            if self.has_allow_bitmap(t) {
                n += attr_size(attr::ALLOW_BYTES);
            }
            let mut pairs = 0usize;
            self.each_pair(t, |_, _| pairs += 1);
            if pairs > 0 {
                n += attr_size(8 * pairs);
            }
            self.each_rule(t, |_, _, cmps| {
                n += attr_size(0) + 2 * attr_size(4);
                for c in cmps {
                    n += attr_size(0) + 2 * attr_size(4) + attr_size(8);
                    if c.op == Op::MaskedEq {
                        n += attr_size(8);
                    }
                }
            });
        }
        n + self.objects.len()
    }

    /// Calls `f(nr, rule, comparisons)` for each rule with comparisons of
    /// ABI table `t`.
    fn each_rule(&self, t: &AbiTable, mut f: impl FnMut(u32, &Rule, &[ArgCmp])) {
        let run = self
            .exceptions
            .get(t.exc_start as usize..t.exc_start.saturating_add(t.exc_len) as usize)
            .unwrap_or(&[]);
        for e in run {
            let rules = self
                .rules
                .get(e.start as usize..e.start.saturating_add(u32::from(e.len)) as usize)
                .unwrap_or(&[]);
            for r in rules {
                let cmps = self
                    .cmps
                    .get(r.cmp_start as usize..r.cmp_start.saturating_add(r.cmp_len) as usize)
                    .unwrap_or(&[]);
                f(u32::from(e.nr), r, cmps);
            }
        }
    }

    /// Writes the policy back as the contents of a `POLICY` attribute, in
    /// canonical form: the same decisions as the policy received, with the
    /// unconditional rules of each syscall merged into one packed pair and
    /// rules that change nothing left out. [`encoded_len`](Self::encoded_len)
    /// bytes.
    pub fn encode(&self, w: &mut Writer<'_>) -> Result<(), crate::nla::Error> {
        w.put_u32(attr::POLICY_DEFAULT, self.head.default)?;
        w.put_u32(attr::POLICY_BAD_ABI, self.head.bad_abi)?;
        if self.head.record {
            w.put(attr::POLICY_RECORD, &[])?;
        }
        for abi in self.head.arch().abis() {
            let Some(t) = self.head.table(*abi) else {
                continue;
            };
            w.nest(attr::POLICY_ABI, |w| {
                w.put_u32(attr::ABI_ID, *abi as u32)?;
                if self.has_allow_bitmap(t) {
                    w.put_with(attr::ABI_ALLOW, attr::ALLOW_BYTES, |buf| {
                        let bytes = t.allow.iter().flat_map(|w| w.to_le_bytes());
                        for (d, s) in buf.iter_mut().zip(bytes) {
                            *d = s;
                        }
                    })?;
                }
                let mut pairs = 0usize;
                self.each_pair(t, |_, _| pairs += 1);
                if pairs > 0 {
                    w.put_with(attr::ABI_PACKED, 8 * pairs, |buf| {
                        let mut at = 0usize;
                        self.each_pair(t, |nr, a| {
                            if let Some(d) = buf.get_mut(at..at + 8) {
                                for (d, s) in d
                                    .iter_mut()
                                    .zip(nr.to_ne_bytes().iter().chain(&a.to_ne_bytes()))
                                {
                                    *d = *s;
                                }
                            }
                            at += 8;
                        });
                    })?;
                }
                let mut result = Ok(());
                self.each_rule(t, |nr, r, cmps| {
                    if result.is_err() {
                        return;
                    }
                    result = w.nest(attr::ABI_RULE, |w| {
                        w.put_u32(attr::RULE_NR, nr)?;
                        w.put_u32(attr::RULE_ACTION, r.action)?;
                        for c in cmps {
                            w.nest(attr::RULE_ARG, |w| {
                                w.put_u32(attr::ARG_INDEX, u32::from(c.index))?;
                                w.put_u32(attr::ARG_OP, c.op as u32)?;
                                w.put_u64(attr::ARG_VALUE, c.value)?;
                                if c.op == Op::MaskedEq {
                                    w.put_u64(attr::ARG_VALUE_TWO, c.value_two)?;
                                }
                                Ok(())
                            })?;
                        }
                        Ok(())
                    });
                });
                result
            })?;
        }
        w.put_raw(self.objects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nla::Writer;

    /// A policy (default errno 1) with one x86_64 ABI nest built by `f`.
    fn policy(f: impl Fn(&mut Writer<'_>) -> Result<(), crate::nla::Error>) -> Vec<u8> {
        let mut buf = vec![0u8; 1024];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::POLICY, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ERRNO | 1)?;
            w.nest(attr::POLICY_ABI, |w| {
                w.put_u32(attr::ABI_ID, Abi::X86_64 as u32)?;
                f(w)
            })
        })
        .unwrap();
        let n = w.len();
        buf.truncate(n);
        buf
    }

    fn pairs(p: &[(u32, u32)]) -> Vec<u8> {
        p.iter()
            .flat_map(|(n, a)| n.to_ne_bytes().into_iter().chain(a.to_ne_bytes()))
            .collect()
    }

    fn shape_of(buf: &[u8]) -> Result<Shape, Invalid> {
        validate(
            &Iter::new(buf).next().unwrap().unwrap(),
            &mut Box::new(Scratch::ZERO),
        )
    }

    use crate::owned::Compiled as Owned;

    fn compiled(buf: &[u8]) -> Owned {
        let a = Iter::new(buf).next().unwrap().unwrap();
        Owned::new(&a, &mut Box::new(Scratch::ZERO)).unwrap()
    }

    /// The policy read back, as a whole `POLICY` attribute.
    fn read_back(o: &Owned) -> Vec<u8> {
        let t = o.tables();
        let mut inner = vec![0u8; t.encoded_len()];
        let mut w = Writer::new(&mut inner);
        t.encode(&mut w).unwrap();
        assert_eq!(w.len(), inner.len(), "encoded_len is exact");
        let mut buf = vec![0u8; inner.len() + 4];
        Writer::new(&mut buf)
            .put(attr::POLICY | F_NESTED, &inner)
            .unwrap();
        buf
    }

    fn cmp_rule(
        w: &mut Writer<'_>,
        nr: u32,
        act: u32,
        op: Op,
        v: u64,
    ) -> Result<(), crate::nla::Error> {
        w.nest(attr::ABI_RULE, |w| {
            w.put_u32(attr::RULE_NR, nr)?;
            w.put_u32(attr::RULE_ACTION, act)?;
            w.nest(attr::RULE_ARG, |w| {
                w.put_u32(attr::ARG_INDEX, 0)?;
                w.put_u32(attr::ARG_OP, op as u32)?;
                w.put_u64(attr::ARG_VALUE, v)
            })
        })
    }

    #[test]
    fn same_allow_compares_the_allow_bitmaps_only() {
        let of = |p: &[(u32, u32)]| {
            let p = pairs(p);
            compiled(&policy(|w| w.put(attr::ABI_PACKED, &p)))
        };
        let base = of(&[(0, action::ALLOW), (5, action::ERRNO | 1)]);
        // Another errno for a refused call: the same calls allowed.
        let errno = of(&[(0, action::ALLOW), (5, action::ERRNO | 2)]);
        assert!(base.tables().head.same_allow(errno.tables().head));
        // One more call allowed, or one fewer.
        let more = of(&[
            (0, action::ALLOW),
            (1, action::ALLOW),
            (5, action::ERRNO | 1),
        ]);
        assert!(!base.tables().head.same_allow(more.tables().head));
        let fewer = of(&[(5, action::ERRNO | 1)]);
        assert!(!base.tables().head.same_allow(fewer.tables().head));
        // An argument rule takes the call out of the allow bitmap.
        let cond = compiled(&policy(|w| {
            w.put(attr::ABI_PACKED, &pairs(&[(0, action::ALLOW)]))?;
            cmp_rule(w, 0, action::ERRNO | 1, Op::Eq, 7)
        }));
        assert!(!base.tables().head.same_allow(cond.tables().head));
    }

    /// The tables of `buf`, its rules with comparisons taken from
    /// [`validate`]'s stage, or read again from the policy (`reread`).
    fn tables_via(buf: &[u8], reread: bool) -> (Head, Vec<Exception>, Vec<Rule>, Vec<ArgCmp>) {
        let a = Iter::new(buf).next().unwrap().unwrap();
        let mut s = Box::new(Scratch::ZERO);
        let shape = validate(&a, &mut s).unwrap();
        if reread {
            s.staged.rules_len = STAGED_RULES + 1;
        }
        let mut head = Head::EMPTY;
        let mut exceptions = vec![Exception::EMPTY; shape.exceptions];
        let mut rules = vec![Rule::EMPTY; shape.rules];
        let mut cmps = vec![ArgCmp::EMPTY; shape.cmps];
        let mut objects = vec![0u8; shape.object_bytes];
        compile(
            &a,
            &shape,
            &mut s,
            TablesMut {
                head: &mut head,
                exceptions: &mut exceptions,
                rules: &mut rules,
                cmps: &mut cmps,
                objects: &mut objects,
            },
        )
        .unwrap();
        (head, exceptions, rules, cmps)
    }

    /// A policy of `n` rules with `k` comparisons each over two ABIs, in
    /// a buffer large enough for it.
    fn many_rules(n: u32, k: u32) -> Vec<u8> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::POLICY, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ERRNO | 1)?;
            for abi in [Abi::X86_64, Abi::Ia32] {
                w.nest(attr::POLICY_ABI, |w| {
                    w.put_u32(attr::ABI_ID, abi as u32)?;
                    for i in 0..n / 2 {
                        w.nest(attr::ABI_RULE, |w| {
                            w.put_u32(attr::RULE_NR, i % 97)?;
                            w.put_u32(attr::RULE_ACTION, action::ERRNO | (1 + i % 3))?;
                            for j in 0..k {
                                w.nest(attr::RULE_ARG, |w| {
                                    w.put_u32(attr::ARG_INDEX, j % 6)?;
                                    w.put_u32(attr::ARG_OP, Op::Eq as u32)?;
                                    w.put_u64(attr::ARG_VALUE, u64::from(i * 7 + j))
                                })?;
                            }
                            Ok(())
                        })?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })
        .unwrap();
        let n = w.len();
        buf.truncate(n);
        buf
    }

    #[test]
    fn staged_rules_compile_as_rules_read_again() {
        // Within the stage, past its rules, past its comparisons.
        let cases = [
            mixed(),
            many_rules(40, 2),
            many_rules(STAGED_RULES as u32 + 2, 1),
            many_rules(200, 3),
        ];
        for (i, buf) in cases.iter().enumerate() {
            let staged = tables_via(buf, false);
            assert_eq!(staged, tables_via(buf, true), "case {i}");
            assert!(!staged.3.is_empty(), "case {i} has comparisons");
        }
        // The stage was used for the first two and not for the others.
        let a = Iter::new(&cases[1]).next().unwrap().unwrap();
        let mut s = Box::new(Scratch::ZERO);
        validate(&a, &mut s).unwrap();
        assert!(s.staged.complete());
        for buf in &cases[2..] {
            let a = Iter::new(buf).next().unwrap().unwrap();
            validate(&a, &mut s).unwrap();
            assert!(!s.staged.complete());
        }
    }

    /// The ABI_RULE nests of an x86_64-only policy, in order.
    fn rule_nests(buf: &[u8]) -> Vec<Vec<u8>> {
        let p = Iter::new(buf).next().unwrap().unwrap();
        let abi = p
            .nested_iter()
            .find(|a| a.unwrap().kind == attr::POLICY_ABI);
        abi.unwrap()
            .unwrap()
            .nested_iter()
            .map(Result::unwrap)
            .filter(|r| r.kind == attr::ABI_RULE)
            .map(|r| r.payload.to_vec())
            .collect()
    }

    #[test]
    fn canonical_rules_read_as_the_general_reading_does() {
        type Cmp = (u32, Op, u64, u64);
        let sets: [&[Cmp]; 5] = [
            &[],
            &[(0, Op::Ne, 40, 0)],
            &[(5, Op::MaskedEq, 0xff, 8)],
            &[
                (1, Op::Ge, 1 << 40, 0),
                (2, Op::MaskedEq, 3, 1),
                (0, Op::Lt, 9, 0),
            ],
            &[
                (0, Op::Eq, 1, 0),
                (1, Op::Le, 2, 0),
                (2, Op::Gt, 3, 0),
                (3, Op::MaskedEq, u64::MAX, 5),
                (4, Op::Ne, 0, 0),
                (5, Op::Eq, u64::MAX, 0),
            ],
        ];
        for (i, cmps) in sets.iter().enumerate() {
            let act = action::ERRNO | 7;
            // As the manager writes it: read by the canonical path.
            let canon = policy(|w| arg_rule(w, MMAP, act, cmps));
            let nests = rule_nests(&canon);
            let mut got = [ArgCmp::EMPTY; 6];
            let (nr, a, n) = canonical_rule(&nests[0], &mut got).expect("canonical");
            assert_eq!((nr, a, n), (MMAP, act, cmps.len()), "set {i}");
            for (g, &(index, op, value, two)) in got.iter().zip(cmps.iter()) {
                let two = if op == Op::MaskedEq { two } else { 0 };
                assert_eq!(
                    (g.index as u32, g.op, g.value, g.value_two),
                    (index, op, value, two)
                );
            }
            // The same rule in another order: read by the general path,
            // to the same tables.
            let other = policy(|w| {
                w.nest(attr::ABI_RULE, |w| {
                    w.put_u32(attr::RULE_ACTION, act)?;
                    for &(index, op, v, two) in cmps.iter() {
                        w.nest(attr::RULE_ARG, |w| {
                            if op == Op::MaskedEq {
                                w.put_u64(attr::ARG_VALUE_TWO, two)?;
                            }
                            w.put_u64(attr::ARG_VALUE, v)?;
                            w.put_u32(attr::ARG_OP, op as u32)?;
                            w.put_u32(attr::ARG_INDEX, index)
                        })?;
                    }
                    w.put_u32(attr::RULE_NR, MMAP)
                })
            });
            assert!(canonical_rule(&rule_nests(&other)[0], &mut got).is_none());
            assert_eq!(
                tables_via(&canon, false),
                tables_via(&other, false),
                "set {i}"
            );
        }
        // Canonical in layout, refused in value: the general reading's
        // refusals.
        let refused: [(&[Cmp], u32, u32, &str); 6] = [
            (
                &[(6, Op::Eq, 0, 0)],
                MMAP,
                action::ALLOW,
                "argument index out of range",
            ),
            (
                &[(0, Op::Eq, 0, 0)],
                1024,
                action::ALLOW,
                "syscall number out of range",
            ),
            (
                &[(0, Op::Eq, 0, 0)],
                MMAP,
                action::ERRNO | 4096,
                "unknown action",
            ),
            (
                &[(0, Op::Eq, 0, 0); 7],
                MMAP,
                action::ALLOW,
                "more than 6 argument",
            ),
            (&[(0, Op::MaskedEq, 1, 1)], MMAP, action::ALLOW, ""),
            (&[(0, Op::Eq, 1, 1)], MMAP, action::ALLOW, ""),
        ];
        for (i, (cmps, nr, act, msg)) in refused.iter().enumerate() {
            let buf = policy(|w| arg_rule(w, *nr, *act, cmps));
            let r = shape_of(&buf);
            if msg.is_empty() {
                assert!(r.is_ok(), "case {i}: {r:?}");
            } else {
                assert!(r.unwrap_err().text().starts_with(msg), "case {i}");
            }
        }
        // Bytes left over after the comparisons (1 to 3: too short for an
        // attribute): refused, as the general reading does.
        for extra in [&[0u8][..], &[0, 0], &[0, 0, 0]] {
            let buf = policy(|w| {
                w.nest(attr::ABI_RULE, |w| {
                    arg_rule_body(w, MMAP, action::ALLOW, &[(0, Op::Eq, 1, 0)])?;
                    w.put_raw(extra)
                })
            });
            let mut got = [ArgCmp::EMPTY; 6];
            assert!(canonical_rule(&rule_nests(&buf)[0], &mut got).is_none());
            assert_eq!(shape_of(&buf).unwrap_err().text(), "truncated attribute");
        }
        // An unknown operator and a masked-eq without its second value, in
        // the canonical layout.
        for (op, two, msg) in [
            (99u32, None, "unknown comparison operator"),
            (Op::MaskedEq as u32, None, "masked-eq needs a second value"),
            (
                Op::Eq as u32,
                Some(1u64),
                "only masked-eq takes a second value",
            ),
        ] {
            let buf = policy(|w| {
                w.nest(attr::ABI_RULE, |w| {
                    w.put_u32(attr::RULE_NR, MMAP)?;
                    w.put_u32(attr::RULE_ACTION, action::ALLOW)?;
                    w.nest(attr::RULE_ARG, |w| {
                        w.put_u32(attr::ARG_INDEX, 0)?;
                        w.put_u32(attr::ARG_OP, op)?;
                        w.put_u64(attr::ARG_VALUE, 1)?;
                        match two {
                            Some(t) => w.put_u64(attr::ARG_VALUE_TWO, t),
                            None => Ok(()),
                        }
                    })
                })
            });
            let mut got = [ArgCmp::EMPTY; 6];
            assert!(canonical_rule(&rule_nests(&buf)[0], &mut got).is_none());
            assert!(shape_of(&buf).unwrap_err().text().starts_with(msg), "{msg}");
        }
    }

    /// A policy over every ABI, each with an allow bitmap of `bits[i]`
    /// (one bit per word set first, then the rest) and `packed[i]`
    /// packed rules after it; with the offset of each ABI's bitmap and
    /// packed rules.
    fn bitmaps(bits: [usize; 3], packed: [u32; 3]) -> (Vec<u8>, Vec<(usize, usize)>) {
        let mut buf = vec![0u8; 60 * 1024];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::POLICY, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ERRNO | 1)?;
            for (i, a) in Abi::ALL.iter().enumerate() {
                w.nest(attr::POLICY_ABI, |w| {
                    w.put_u32(attr::ABI_ID, *a as u32)?;
                    let mut words: Bits = [0; WORDS];
                    let order = (0..WORDS as u32)
                        .map(|k| k * 64)
                        .chain((0..1024u32).filter(|n| n % 64 != 0));
                    for nr in order.take(bits[i]) {
                        set_bit(&mut words, nr, true);
                    }
                    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
                    w.put(attr::ABI_ALLOW, &bytes)?;
                    if packed[i] > 0 {
                        let p: Vec<(u32, u32)> =
                            (0..packed[i]).map(|n| (n % 1024, action::ALLOW)).collect();
                        w.put(attr::ABI_PACKED, &pairs(&p))?;
                    }
                    Ok(())
                })?;
            }
            Ok(())
        })
        .unwrap();
        let n = w.len();
        buf.truncate(n);
        let p = Iter::new(&buf).next().unwrap().unwrap();
        let offsets = p
            .nested_iter()
            .map(Result::unwrap)
            .filter(|a| a.kind == attr::POLICY_ABI)
            .map(|a| {
                let kids: Vec<_> = a.nested_iter().map(Result::unwrap).collect();
                let at = |k| kids.iter().find(|x| x.kind == k).map_or(0, |x| x.offset);
                (at(attr::ABI_ALLOW), at(attr::ABI_PACKED))
            })
            .collect();
        (buf, offsets)
    }

    #[test]
    fn the_rule_limit_counts_every_bit_of_every_bitmap() {
        let count = |bits: [usize; 3]| -> usize {
            let (buf, _) = bitmaps(bits, [0; 3]);
            let a = Iter::new(&buf).next().unwrap().unwrap();
            let mut s = Box::new(Scratch::ZERO);
            validate(&a, &mut s).unwrap();
            s.abis
                .iter()
                .map(|x| {
                    x.has_fixed
                        .iter()
                        .map(|w| w.count_ones() as usize)
                        .sum::<usize>()
                })
                .sum()
        };
        assert_eq!(count([16, 16, 16]), 48, "one bit in every word");
        assert_eq!(count([1024, 1024, 0]), 2048);
        let too_many = |bits, packed| {
            let r = shape_of(&bitmaps(bits, packed).0);
            r.map(|_| ()).map_err(|e| {
                assert!(e.text().starts_with("too many rules"), "{e:?}");
                e.offset
            })
        };
        let at = |bits, packed| bitmaps(bits, packed).1;
        // Full bitmaps: 2048 is the limit, the third is past it.
        assert_eq!(too_many([1024, 1024, 0], [0; 3]), Ok(()));
        assert_eq!(
            too_many([1024, 1024, 1], [0; 3]),
            Err(at([1024, 1024, 1], [0; 3])[2].0)
        );
        assert_eq!(
            too_many([1024, 1024, 0], [0, 1, 0]),
            Err(at([1024, 1024, 0], [0, 1, 0])[1].1)
        );
        // Sparse bitmaps (a bit in every word: their bound is 1024 each,
        // their count 16): the exact count decides.
        // Where the count passes 2048: (ABI, 0 its bitmap or 1 its packed
        // rules).
        let cases = [
            ([2000, 0, 0], None),
            ([0, 0, 2000], None),
            ([1000, 1001, 0], Some((2, 0))),
            ([1000, 1017, 0], Some((1, 1))),
            ([0, 0, 2001], Some((2, 1))),
        ];
        for (packed, over) in cases {
            let o = at([16, 16, 16], packed);
            let want = over.map_or(Ok(()), |(abi, which): (usize, usize)| {
                Err(if which == 0 { o[abi].0 } else { o[abi].1 })
            });
            assert_eq!(too_many([16, 16, 16], packed), want, "{packed:?}");
        }
    }

    #[test]
    fn an_abi_nest_is_refused_for_its_first_fault_in_the_nest() {
        let bad_rule = |w: &mut Writer<'_>| cmp_rule(w, 2000, action::ALLOW, Op::Eq, 1);
        // A rule refused for its number, then an attribute the nest may
        // not hold: the nest's own fault is reported, as when the nest was
        // checked before its rules were read.
        let buf = policy(|w| {
            bad_rule(w)?;
            w.put_u32(9, 0)
        });
        let e = shape_of(&buf).unwrap_err();
        assert_eq!(e.text(), "unknown attribute");
        // Alone, the rule's fault.
        let e = shape_of(&policy(bad_rule)).unwrap_err();
        assert!(e.text().starts_with("syscall number out of range"), "{e:?}");
        // A second ABI_ID after a bad rule: repeated.
        let buf = policy(|w| {
            bad_rule(w)?;
            w.put_u32(attr::ABI_ID, Abi::Ia32 as u32)
        });
        assert_eq!(shape_of(&buf).unwrap_err().text(), "attribute repeated");
        // The same ABI twice, each nest valid.
        let mut buf = vec![0u8; 256];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::POLICY, |w| {
            w.put_u32(attr::POLICY_DEFAULT, action::ALLOW)?;
            for _ in 0..2 {
                w.nest(attr::POLICY_ABI, |w| {
                    w.put_u32(attr::ABI_ID, Abi::X32 as u32)?;
                    cmp_rule(w, 1, action::ALLOW, Op::Eq, 1)
                })?;
            }
            Ok(())
        })
        .unwrap();
        let n = w.len();
        let e = shape_of(&buf[..n]).unwrap_err();
        assert_eq!(e.text(), "ABI described twice");
        // The id after a bad rule: the rule's fault, as before.
        let buf = {
            let mut buf = vec![0u8; 256];
            let mut w = Writer::new(&mut buf);
            w.nest(attr::POLICY, |w| {
                w.put_u32(attr::POLICY_DEFAULT, action::ALLOW)?;
                w.nest(attr::POLICY_ABI, |w| {
                    bad_rule(w)?;
                    w.put_u32(attr::ABI_ID, Abi::X32 as u32)
                })
            })
            .unwrap();
            let n = w.len();
            buf.truncate(n);
            buf
        };
        let e = shape_of(&buf).unwrap_err();
        assert!(e.text().starts_with("syscall number out of range"), "{e:?}");
    }

    /// A mixed policy: allowed, default-equal, stricter fixed answers,
    /// conditional rules with and without an unconditional rule beside.
    fn mixed() -> Vec<u8> {
        policy(|w| {
            w.put(
                attr::ABI_PACKED,
                &pairs(&[
                    (0, action::ALLOW),
                    (1, action::ALLOW),
                    (1, action::ERRNO | 13), // stricter: wins
                    (2, action::ERRNO | 1),  // the default
                    (3, action::LOG),
                    (5, action::ERRNO | 1), // default, beside a conditional rule
                    (1023, action::ALLOW),
                ]),
            )?;
            cmp_rule(w, 4, action::ALLOW, Op::Eq, 7)?;
            cmp_rule(w, 4, action::KILL_PROCESS, Op::Eq, 9)?;
            cmp_rule(w, 5, action::ALLOW, Op::Eq, 7)
        })
    }

    #[test]
    fn the_strictest_matching_rule_wins_and_ties_keep_the_order_received() {
        let buf = policy(|w| {
            cmp_rule(w, 9, action::ALLOW, Op::Ge, 0)?;
            cmp_rule(w, 9, action::ERRNO | 2, Op::Eq, 5)?;
            cmp_rule(w, 9, action::ERRNO | 3, Op::Ge, 5)?;
            cmp_rule(w, 9, action::KILL_THREAD, Op::Eq, 7)
        });
        let o = compiled(&buf);
        let t = o.tables();
        let d = |a0| t.decide(Abi::X86_64, 9, &[a0, 0, 0, 0, 0, 0]);
        assert_eq!(d(1), action::ALLOW);
        assert_eq!(d(5), action::ERRNO | 2, "equal actions: the first received");
        assert_eq!(d(6), action::ERRNO | 3);
        assert_eq!(d(7), action::KILL_THREAD);
        // Stored strictest first.
        let order: Vec<_> = o.tables().rules.iter().map(|r| r.action).collect();
        assert_eq!(
            order,
            [
                action::KILL_THREAD,
                action::ERRNO | 2,
                action::ERRNO | 3,
                action::ALLOW
            ]
        );
    }

    #[test]
    fn decisions_of_a_mixed_policy() {
        let o = compiled(&mixed());
        let t = o.tables();
        let x = Abi::X86_64;
        let args = |a0: u64| [a0, 0, 0, 0, 0, 0];
        assert!(t.head.allows(x, 0) && t.head.allows(x, 1023));
        assert!(!t.head.allows(x, 1) && !t.head.allows(x, 4));
        assert_eq!(t.fixed(x, 0), Some(action::ALLOW));
        assert_eq!(t.fixed(x, 1), Some(action::ERRNO | 13));
        assert_eq!(t.fixed(x, 2), Some(action::ERRNO | 1));
        assert_eq!(t.fixed(x, 3), Some(action::LOG));
        assert_eq!(t.fixed(x, 4), None);
        assert_eq!(t.fixed(x, 600), Some(action::ERRNO | 1));
        assert_eq!(t.fixed(x, 5000), Some(action::ERRNO | 1));
        assert_eq!(t.decide(x, 4, &args(7)), action::ALLOW);
        assert_eq!(t.decide(x, 4, &args(9)), action::KILL_PROCESS);
        assert_eq!(t.decide(x, 4, &args(8)), action::ERRNO | 1);
        // The unconditional errno rule beside the conditional allow is the
        // stricter, so it wins even when the comparison holds.
        assert_eq!(t.decide(x, 5, &args(7)), action::ERRNO | 1);
        // ABIs the policy does not describe get the bad-ABI action.
        assert_eq!(t.fixed(Abi::Ia32, 0), Some(action::KILL_PROCESS));
        assert!(!t.head.allows(Abi::Ia32, 0));
        // Only what differs from "allow" or the default is an exception.
        assert_eq!(
            o.tables()
                .exceptions
                .iter()
                .map(|e| e.nr)
                .collect::<Vec<_>>(),
            [1, 3, 4, 5]
        );
    }

    #[test]
    fn read_back_decides_the_same_and_is_a_fixed_point() {
        for buf in [
            mixed(),
            policy(|w| w.put(attr::ABI_PACKED, &pairs(&[(7, action::ERRNO | 1)]))),
        ] {
            let o = compiled(&buf);
            let back = read_back(&o);
            let o2 = compiled(&back);
            assert_eq!(o.tables().head, o2.tables().head);
            assert_eq!(o.tables().exceptions, o2.tables().exceptions);
            assert_eq!(o.tables().rules.len(), o2.tables().rules.len());
            assert_eq!(read_back(&o2), back);
            for nr in 0..1030 {
                for a0 in [0, 7, 8, 9] {
                    let args = [a0, 0, 0, 0, 0, 0];
                    for abi in Abi::ALL {
                        assert_eq!(
                            o.tables().decide(*abi, nr, &args),
                            o2.tables().decide(*abi, nr, &args)
                        );
                    }
                }
            }
        }
    }

    fn bitmap(nrs: &[u32]) -> Vec<u8> {
        let mut b = vec![0u8; attr::ALLOW_BYTES];
        for &n in nrs {
            b[n as usize / 8] |= 1 << (n % 8);
        }
        b
    }

    #[test]
    fn an_allow_bitmap_is_the_same_as_allow_pairs() {
        let nrs = [0u32, 1, 63, 64, 500, 1023];
        let with_pairs = policy(|w| {
            let p: Vec<_> = nrs.iter().map(|&n| (n, action::ALLOW)).collect();
            w.put(attr::ABI_PACKED, &pairs(&p))?;
            w.put(attr::ABI_PACKED, &pairs(&[(500, action::ERRNO | 9)]))
        });
        // The bitmap after the stricter pair: "allow" still loses.
        let with_bitmap = policy(|w| {
            w.put(attr::ABI_PACKED, &pairs(&[(500, action::ERRNO | 9)]))?;
            w.put(attr::ABI_ALLOW, &bitmap(&nrs))
        });
        let (a, b) = (compiled(&with_pairs), compiled(&with_bitmap));
        assert_eq!(a.tables().head, b.tables().head);
        assert_eq!(a.tables().exceptions, b.tables().exceptions);
        assert_eq!(b.tables().fixed(Abi::X86_64, 500), Some(action::ERRNO | 9));
        assert!(b.tables().head.allows(Abi::X86_64, 1023));
        assert_eq!(
            shape_of(&with_pairs).unwrap(),
            shape_of(&with_bitmap).unwrap()
        );
        // Read back (the allowed calls as a bitmap), it compiles the same.
        assert_eq!(compiled(&read_back(&a)).tables().head, a.tables().head);
    }

    #[test]
    fn malformed_allow_bitmaps_are_refused() {
        let short = policy(|w| w.put(attr::ABI_ALLOW, &[0u8; 127]));
        assert!(shape_of(&short).unwrap_err().text().contains("128 bytes"));
        let twice = policy(|w| {
            w.put(attr::ABI_ALLOW, &bitmap(&[1]))?;
            w.put(attr::ABI_ALLOW, &bitmap(&[2]))
        });
        assert!(shape_of(&twice).unwrap_err().text().contains("repeated"));
    }

    #[test]
    fn default_allow_policies_allow_everything_else() {
        let buf = {
            let mut buf = vec![0u8; 256];
            let mut w = Writer::new(&mut buf);
            w.nest(attr::POLICY, |w| {
                w.put_u32(attr::POLICY_DEFAULT, action::ALLOW)?;
                w.nest(attr::POLICY_ABI, |w| {
                    w.put_u32(attr::ABI_ID, Abi::X86_64 as u32)?;
                    w.put(attr::ABI_PACKED, &pairs(&[(165, action::ERRNO | 1)]))?;
                    cmp_rule(w, 135, action::ERRNO | 1, Op::Ne, 0)
                })
            })
            .unwrap();
            let n = w.len();
            buf.truncate(n);
            buf
        };
        let o = compiled(&buf);
        let t = o.tables();
        assert!(t.head.allows(Abi::X86_64, 0) && t.head.allows(Abi::X86_64, 1023));
        assert!(!t.head.allows(Abi::X86_64, 165) && !t.head.allows(Abi::X86_64, 135));
        assert_eq!(t.decide(Abi::X86_64, 135, &[0; 6]), action::ALLOW);
        assert_eq!(
            t.decide(Abi::X86_64, 135, &[1, 0, 0, 0, 0, 0]),
            action::ERRNO | 1
        );
        // Read back: only the exceptions, not 1,022 allowed numbers.
        assert!(read_back(&o).len() < 100);
    }

    #[test]
    fn packed_rules_count_like_rule_nests() {
        let packed = policy(|w| {
            w.put(
                attr::ABI_PACKED,
                &pairs(&[(110, action::ALLOW), (39, action::ALLOW)]),
            )
        });
        let nests = policy(|w| {
            for nr in [110, 39] {
                w.nest(attr::ABI_RULE, |w| {
                    w.put_u32(attr::RULE_NR, nr)?;
                    w.put_u32(attr::RULE_ACTION, action::ALLOW)
                })?;
            }
            Ok(())
        });
        assert_eq!(shape_of(&packed).unwrap(), shape_of(&nests).unwrap());
        assert!(packed.len() < nests.len());
    }

    /// A rule on `nr` of `abi` with comparisons (index, op, value, value-two).
    fn arg_rule(
        w: &mut Writer<'_>,
        nr: u32,
        act: u32,
        cmps: &[(u32, Op, u64, u64)],
    ) -> Result<(), crate::nla::Error> {
        w.nest(attr::ABI_RULE, |w| arg_rule_body(w, nr, act, cmps))
    }

    /// The attributes of a rule nest, as the manager writes them.
    fn arg_rule_body(
        w: &mut Writer<'_>,
        nr: u32,
        act: u32,
        cmps: &[(u32, Op, u64, u64)],
    ) -> Result<(), crate::nla::Error> {
        w.put_u32(attr::RULE_NR, nr)?;
        w.put_u32(attr::RULE_ACTION, act)?;
        for &(index, op, v, two) in cmps {
            w.nest(attr::RULE_ARG, |w| {
                w.put_u32(attr::ARG_INDEX, index)?;
                w.put_u32(attr::ARG_OP, op as u32)?;
                w.put_u64(attr::ARG_VALUE, v)?;
                if op == Op::MaskedEq {
                    w.put_u64(attr::ARG_VALUE_TWO, two)?;
                }
                Ok(())
            })?;
        }
        Ok(())
    }

    /// A default-allow policy describing every ABI, with the rules `f` writes
    /// into the nest of ABI `abi`.
    fn on_abi(abi: Abi, f: impl Fn(&mut Writer<'_>) -> Result<(), crate::nla::Error>) -> Vec<u8> {
        on_abis(action::ALLOW, Abi::ALL, |a, w| {
            if a == abi {
                f(w)
            } else {
                Ok(())
            }
        })
    }

    /// A policy with `default` describing `abis`, each with `f`'s rules.
    fn on_abis(
        default: u32,
        abis: &[Abi],
        f: impl Fn(Abi, &mut Writer<'_>) -> Result<(), crate::nla::Error>,
    ) -> Vec<u8> {
        let mut buf = vec![0u8; 2048];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::POLICY, |w| {
            w.put_u32(attr::POLICY_DEFAULT, default)?;
            for a in abis {
                w.nest(attr::POLICY_ABI, |w| {
                    w.put_u32(attr::ABI_ID, *a as u32)?;
                    f(*a, w)
                })?;
            }
            Ok(())
        })
        .unwrap();
        let n = w.len();
        buf.truncate(n);
        buf
    }

    fn validated(arch: Arch, buf: &[u8]) -> Result<Shape, Invalid> {
        let a = Iter::new(buf).next().unwrap().unwrap();
        validate_for(arch, &a, &mut Box::new(Scratch::ZERO))
    }

    /// Any socket but AF_VSOCK allowed (Docker's rule), getppid allowed.
    fn socket_rules(
        socket: u32,
        getppid: u32,
    ) -> impl Fn(&mut Writer<'_>) -> Result<(), crate::nla::Error> {
        move |w| {
            cmp_rule(w, socket, action::ALLOW, Op::Ne, 40)?;
            w.nest(attr::ABI_RULE, |w| {
                w.put_u32(attr::RULE_NR, getppid)?;
                w.put_u32(attr::RULE_ACTION, action::ALLOW)
            })
        }
    }

    #[test]
    fn a_policy_is_for_one_architecture_family() {
        let arm64 = on_abis(DENY, &[Abi::Aarch64, Abi::Arm], |_, _| Ok(()));
        let x86 = on_abis(DENY, &[Abi::X86_64, Abi::Ia32], |_, _| Ok(()));
        let mixed = on_abis(DENY, &[Abi::X86_64, Abi::Aarch64], |_, _| Ok(()));
        let mixed2 = on_abis(DENY, &[Abi::Arm, Abi::X32], |_, _| Ok(()));
        assert_eq!(validated(Arch::Arm64, &arm64).unwrap().arch, Arch::Arm64);
        assert_eq!(validated(Arch::X86, &x86).unwrap().arch, Arch::X86);
        // A kernel of one family refuses the other's policy, cleanly.
        let e = validated(Arch::X86, &arm64).unwrap_err();
        assert_eq!(
            e.text(),
            "policy describes arm64 ABIs (aarch64, arm); this kernel is not arm64"
        );
        let e = validated(Arch::Arm64, &x86).unwrap_err();
        assert_eq!(
            e.text(),
            "policy describes x86 ABIs (x86_64, ia32, x32); this kernel is not x86"
        );
        // Two families: refused as such once an ABI of the kernel's came
        // first (else the first ABI is the foreign one).
        let two = "policy describes ABIs of two architecture families (x86 and arm64)";
        assert_eq!(validated(Arch::X86, &mixed).unwrap_err().text(), two);
        assert_eq!(validated(Arch::Arm64, &mixed2).unwrap_err().text(), two);
        assert!(validated(Arch::Arm64, &mixed).is_err());
        assert!(validated(Arch::X86, &mixed2).is_err());
        // This build's module is x86's on this host: `validate` is x86's.
        let a = Iter::new(&arm64).next().unwrap().unwrap();
        assert_eq!(
            validate(&a, &mut Box::new(Scratch::ZERO)).is_ok(),
            Arch::NATIVE == Arch::Arm64
        );
        assert!(
            Owned::new(&a, &mut Box::new(Scratch::ZERO)).is_err() || Arch::NATIVE == Arch::Arm64
        );
        // Each ABI once, within the family too.
        let twice = on_abis(DENY, &[Abi::Aarch64, Abi::Aarch64], |_, _| Ok(()));
        assert_eq!(
            validated(Arch::Arm64, &twice).unwrap_err().text(),
            "ABI described twice"
        );
    }

    #[test]
    fn shortcuts_are_grouped_by_bucket_and_agree_with_the_full_evaluation() {
        // One-comparison "allow" rules on calls whose first argument is 32
        // bits wide (a shortcut compares 32 bits): three in bucket 1, two
        // in bucket 7, none in others, given out of number order. Nine:
        // the eight lowest numbers are kept (exceptions come in number
        // order), 135 does not fit.
        let nrs = [41u32, 3, 135, 105, 32, 95, 106, 81, 37];
        let buf = policy(|w| {
            for nr in nrs {
                cmp_rule(w, nr, action::ALLOW, Op::Eq, u64::from(nr) + 100)?;
            }
            Ok(())
        });
        let o = compiled(&buf);
        let t = o.tables();
        let abi = Abi::X86_64;
        let mut sorted = nrs;
        sorted.sort_unstable();
        for nr in 0..140u32 {
            for v in [u64::from(nr) + 100, 7] {
                let short = t.head.inline_allows(abi, nr, |_| v);
                let full = t.decide(abi, nr, &[v, 0, 0, 0, 0, 0]) == action::ALLOW;
                // A shortcut never allows what the rules refuse, and each
                // kept rule is found in its bucket.
                assert!(!short || full, "nr {nr}, value {v}");
                let kept = sorted.iter().take(INLINE).any(|n| *n == nr);
                assert_eq!(
                    short,
                    kept && v == u64::from(nr) + 100,
                    "nr {nr}, value {v}"
                );
            }
        }
        assert_eq!(t.decide(abi, 135, &[235, 0, 0, 0, 0, 0]), action::ALLOW);
    }

    #[test]
    fn arm64_policies_decide_by_their_own_tables_and_widths() {
        // aarch64: socket 198, getppid 173; arm: socket 281, getppid 64.
        let calls = [(Abi::Aarch64, 198, 173), (Abi::Arm, 281, 64)];
        let buf = on_abis(DENY, Arch::Arm64.abis(), |abi, w| match abi {
            Abi::Arm => socket_rules(281, 64)(w),
            _ => socket_rules(198, 173)(w),
        });
        let a = Iter::new(&buf).next().unwrap().unwrap();
        let o = Owned::new_for(Arch::Arm64, &a, &mut Box::new(Scratch::ZERO)).unwrap();
        let t = o.tables();
        assert_eq!(t.head.arch(), Arch::Arm64);
        let a0 = |v| [v, 0, 0, 0, 0, 0];
        for (abi, socket, getppid) in calls {
            assert_eq!(t.decide(abi, getppid, &[0; 6]), action::ALLOW, "{abi:?}");
            assert_eq!(t.decide(abi, socket, &a0(2)), action::ALLOW);
            assert_eq!(t.decide(abi, socket, &a0(40)), DENY, "{abi:?} AF_VSOCK");
            // An int (and AArch32's registers) are 32 bits: high bits ignored.
            assert_eq!(t.decide(abi, socket, &a0(40 | 1 << 32)), DENY);
            assert_eq!(t.decide(abi, 1023, &[0; 6]), DENY);
            // The shortcuts hold the "not AF_VSOCK" rule, at 32 bits.
            assert!(t.head.inline_allows(abi, socket, |_| 2));
            assert!(!t.head.inline_allows(abi, socket, |_| 40));
        }
        // x86 calls reach no table of an arm64 policy: the bad-ABI answer.
        for abi in Arch::X86.abis() {
            assert_eq!(
                t.decide(*abi, 173, &[0; 6]),
                action::KILL_PROCESS,
                "{abi:?}"
            );
        }
        // Read back, it names the arm64 ABIs and compiles the same.
        let back = read_back(&o);
        let b = Iter::new(&back).next().unwrap().unwrap();
        let o2 = Owned::new_for(Arch::Arm64, &b, &mut Box::new(Scratch::ZERO)).unwrap();
        assert_eq!(read_back(&o2), back);
        assert_eq!(o2.tables().decide(Abi::Arm, 281, &a0(40)), DENY);
    }

    #[test]
    fn a_head_keeps_its_size_with_the_family() {
        // The family sits in each ABI table's padding: a compiled policy
        // stays in the module's 1 KiB allocation class (kmod/store.rs).
        assert_eq!(core::mem::size_of::<AbiTable>(), 256);
        assert!(core::mem::size_of::<Head>() <= 784);
    }

    const SOCKET: u32 = 41;
    const MMAP: u32 = 9;
    const PERSONALITY: u32 = 135;
    const DENY: u32 = action::ERRNO | 1;

    #[test]
    fn argument_widths_come_from_the_kernels_declarations() {
        let x = Abi::X86_64;
        // socket(int, int, int): 32 bits each; the unused registers whole.
        assert_eq!(
            (0..6).map(|i| arg_bits(x, SOCKET, i)).collect::<Vec<_>>(),
            [32, 32, 32, 64, 64, 64]
        );
        assert_eq!(arg_bits(x, PERSONALITY, 0), 32); // unsigned int
        assert!((0..6).all(|i| arg_bits(x, MMAP, i) == 64)); // unsigned long
        assert_eq!(arg_bits(x, 56, 0), 64, "clone's flags are unsigned long");
        assert_eq!(arg_bits(x, 16, 1), 32, "ioctl's cmd is unsigned int");
        assert_eq!(arg_bits(x, 257, 3), 16, "openat's mode is umode_t");
        assert_eq!(arg_bits(x, 1023, 0), 64, "a number without a call: whole");
        // x32's own entry points: compat_ulong_t is 32 bits.
        assert_eq!(arg_bits(Abi::X32, 514, 2), 32, "x32 ioctl's arg");
        assert_eq!(arg_bits(Abi::X32, MMAP, 1), 64);
        // ia32: never more than the 32-bit registers; old uids are 16.
        for nr in 0..1024 {
            assert!((0..6).all(|i| arg_bits(Abi::Ia32, nr, i) <= 32));
        }
        assert_eq!(arg_bits(Abi::Ia32, 23, 0), 16, "setuid16's old_uid_t");
        assert_eq!(arg_bits(Abi::Ia32, 213, 0), 32, "setuid32's uid_t");
        // arm64: its wrappers cast as x86's; AArch32 registers are 32 bits.
        let (a, arm) = (Abi::Aarch64, Abi::Arm);
        assert_eq!(arg_bits(a, 198, 0), 32, "aarch64 socket's family is int");
        assert_eq!(arg_bits(a, 92, 0), 32, "aarch64 personality: unsigned int");
        assert_eq!(arg_bits(a, 220, 0), 64, "aarch64 clone's flags");
        assert_eq!(arg_bits(a, 56, 3), 16, "aarch64 openat's mode is umode_t");
        assert_eq!(arg_bits(arm, 120, 0), 32, "arm clone's flags");
        assert_eq!(arg_bits(arm, 16, 1), 16, "arm lchown16's old_uid_t");
        for nr in 0..1024 {
            assert!((0..6).all(|i| arg_bits(arm, nr, i) <= 32));
        }
        assert_eq!(width_mask(64), u64::MAX);
        assert_eq!(width_mask(32), 0xffff_ffff);
        assert_eq!(width_mask(16), 0xffff);
        // The tables are sorted, as the lookup needs.
        for t in [
            syscalls::X86_64_ARG_BITS,
            syscalls::X32_ARG_BITS,
            syscalls::IA32_ARG_BITS,
            syscalls::AARCH64_ARG_BITS,
            syscalls::ARM_ARG_BITS,
        ] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0));
        }
        // The index finds what a search of the tables finds.
        for abi in Abi::EVERY {
            let (table, reg) = match abi {
                Abi::X86_64 => (syscalls::X86_64_ARG_BITS, 64),
                Abi::X32 => (syscalls::X32_ARG_BITS, 64),
                Abi::Ia32 => (syscalls::IA32_ARG_BITS, 32),
                Abi::Aarch64 => (syscalls::AARCH64_ARG_BITS, 64),
                Abi::Arm => (syscalls::ARM_ARG_BITS, 32),
            };
            for nr in (0..1100).chain([u32::MAX]) {
                let row = table.iter().find(|(n, _)| *n == nr).map(|(_, w)| *w);
                for i in 0..8u8 {
                    let want = row
                        .and_then(|w| w.get(usize::from(i)).copied())
                        .unwrap_or(reg);
                    assert_eq!(arg_bits(*abi, nr, i), want.min(reg), "{abi:?} {nr} {i}");
                }
            }
        }
    }

    #[test]
    fn int_arguments_are_compared_at_32_bits() {
        let x = Abi::X86_64;
        let buf = on_abi(x, |w| {
            arg_rule(w, SOCKET, action::ERRNO | 97, &[(0, Op::Eq, 1, 0)])?;
            arg_rule(w, PERSONALITY, DENY, &[(0, Op::Eq, 8, 0)])?;
            // A signed int rule value of -1, written as 64 bits.
            arg_rule(w, 62, DENY, &[(1, Op::Eq, u64::MAX, 0)])?; // kill(_, -1)
            arg_rule(w, MMAP, DENY, &[(1, Op::Eq, 0x1000, 0)])?;
            arg_rule(w, MMAP, DENY, &[(0, Op::Eq, 0x1_0000_0000, 0)])?;
            // ioctl(_, TIOCSTI), as CVE-2019-10063's profile meant it.
            arg_rule(w, 16, DENY, &[(1, Op::MaskedEq, 0xffff, 0x5412)])
        });
        let o = compiled(&buf);
        let t = o.tables();
        let d = |nr, a: [u64; 6]| t.decide(x, nr, &a);
        let a0 = |v| [v, 0, 0, 0, 0, 0];
        let a1 = |v| [0, v, 0, 0, 0, 0];
        // socket(AF_UNIX | 1 << 32) is socket(AF_UNIX) to the kernel.
        assert_eq!(d(SOCKET, a0(1)), action::ERRNO | 97);
        assert_eq!(d(SOCKET, a0(1 | 1 << 32)), action::ERRNO | 97);
        assert_eq!(d(SOCKET, a0(0xffff_ffff_0000_0001)), action::ERRNO | 97);
        assert_eq!(d(SOCKET, a0(2 | 1 << 32)), action::ALLOW);
        // personality(0x1_0000_0008) is personality(8).
        assert_eq!(d(PERSONALITY, a0(0x1_0000_0008)), DENY);
        assert_eq!(d(PERSONALITY, a0(0x1_0000_0009)), action::ALLOW);
        // -1 as an int, zero- or sign-extended, is the rule's -1.
        assert_eq!(d(62, a1(0xffff_ffff)), DENY);
        assert_eq!(d(62, a1(u64::MAX)), DENY);
        assert_eq!(d(62, a1(0xffff_fffe)), action::ALLOW);
        // 64-bit arguments (mmap's length, its address) compare all 64 bits.
        assert_eq!(d(MMAP, a1(0x1000)), DENY);
        assert_eq!(d(MMAP, a1(0x1_0000_1000)), action::ALLOW);
        assert_eq!(d(MMAP, a0(0x1_0000_0000)), DENY);
        assert_eq!(d(MMAP, a0(0)), action::ALLOW);
        // Masked-eq at the width: high bits in cmd do not dodge it.
        assert_eq!(d(16, a1(0x5412)), DENY);
        assert_eq!(d(16, a1(0x1_0000_5412)), DENY);
        assert_eq!(d(16, a1(0x5413)), action::ALLOW);
    }

    #[test]
    fn ordering_and_masks_at_the_width() {
        let x = Abi::X86_64;
        let buf = on_abi(x, |w| {
            // personality(p) with p > 8 and p != 0xffffffff (as a profile
            // of the differential suite has it).
            arg_rule(
                w,
                PERSONALITY,
                DENY,
                &[(0, Op::Gt, 8, 0), (0, Op::Ne, 0xffff_ffff, 0)],
            )?;
            // The rule's mask and masked value are cut to the width too.
            arg_rule(
                w,
                SOCKET,
                DENY,
                &[(
                    1,
                    Op::MaskedEq,
                    0xffff_ffff_0000_00ff,
                    0xffff_ffff_0000_0005,
                )],
            )
        });
        let o = compiled(&buf);
        let t = o.tables();
        let d = |nr, a: [u64; 6]| t.decide(x, nr, &a);
        assert_eq!(d(PERSONALITY, [9, 0, 0, 0, 0, 0]), DENY);
        assert_eq!(d(PERSONALITY, [1 << 32, 0, 0, 0, 0, 0]), action::ALLOW);
        assert_eq!(d(PERSONALITY, [u64::MAX, 0, 0, 0, 0, 0]), action::ALLOW);
        assert_eq!(d(SOCKET, [0, 5, 0, 0, 0, 0]), DENY);
        assert_eq!(d(SOCKET, [0, 0x7_0000_0105, 0, 0, 0, 0]), DENY);
        assert_eq!(d(SOCKET, [0, 6, 0, 0, 0, 0]), action::ALLOW);
    }

    #[test]
    fn ia32_and_16_bit_arguments_at_their_width() {
        let i = Abi::Ia32;
        // ia32 chmod (15): mode is umode_t, 16 bits; ia32 personality
        // (136): the rule's 64-bit -1 is the 32-bit register's -1.
        let buf = on_abi(i, |w| {
            arg_rule(w, 15, DENY, &[(1, Op::Eq, 0o4755, 0)])?;
            arg_rule(w, 136, DENY, &[(0, Op::Eq, u64::MAX, 0)])
        });
        let o = compiled(&buf);
        let t = o.tables();
        assert_eq!(t.decide(i, 15, &[0, 0o4755, 0, 0, 0, 0]), DENY);
        assert_eq!(t.decide(i, 15, &[0, 0x1_0000 | 0o4755, 0, 0, 0, 0]), DENY);
        assert_eq!(t.decide(i, 15, &[0, 0o755, 0, 0, 0, 0]), action::ALLOW);
        assert_eq!(t.decide(i, 136, &[0xffff_ffff, 0, 0, 0, 0, 0]), DENY);
        // The same numbers on x86_64 are other calls, with no rules.
        assert_eq!(
            t.decide(Abi::X86_64, 15, &[0, 0o4755, 0, 0, 0, 0]),
            action::ALLOW
        );
    }

    #[test]
    fn read_back_keeps_the_values_given_and_decides_the_same() {
        let buf = on_abi(Abi::X86_64, |w| {
            arg_rule(w, SOCKET, DENY, &[(0, Op::Eq, 0x1_0000_0001, 0)])
        });
        let o = compiled(&buf);
        let back = read_back(&o);
        let o2 = compiled(&back);
        assert_eq!(o.tables().cmps, o2.tables().cmps);
        assert_eq!(o.tables().cmps[0].value, 0x1_0000_0001);
        assert_eq!(o.tables().cmps[0].arg_mask, 0xffff_ffff);
        assert_eq!(read_back(&o2), back);
        let args = [1, 0, 0, 0, 0, 0];
        assert_eq!(o2.tables().decide(Abi::X86_64, SOCKET, &args), DENY);
    }

    #[test]
    fn malformed_packed_rules_are_refused() {
        let cases: [(Vec<u8>, &str); 3] = [
            (vec![0u8; 7], "8-byte (number, action) pairs"),
            (
                pairs(&[(1024, action::ALLOW)]),
                "syscall number out of range",
            ),
            (pairs(&[(1, 0x1234_0000)]), "unknown action"),
        ];
        for (payload, want) in cases {
            let p = policy(|w| w.put(attr::ABI_PACKED, &payload));
            let e = shape_of(&p).unwrap_err();
            assert!(e.text().contains(want), "{} vs {want}", e.text());
        }
    }
}

#[cfg(test)]
mod batch_tests {
    use super::parse_batch;
    use crate::nla::Writer;
    use crate::proto::{attr, limits};
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    /// A batch of items, each a cgroup id and a small policy payload;
    /// `extra` adds one more attribute inside each item.
    fn batch(ids: &[u64], extra: Option<u16>) -> Vec<u8> {
        let mut buf = vec![0u8; 64 + ids.len() * 48];
        let mut w = Writer::new(&mut buf);
        for id in ids {
            w.nest(attr::BATCH_ITEM, |w| {
                w.put_u64(attr::CGROUP_ID, *id)?;
                w.nest(attr::POLICY, |w| w.put_u32(attr::POLICY_DEFAULT, 0))?;
                if let Some(k) = extra {
                    w.put_u64(k, 1)?;
                }
                Ok(())
            })
            .unwrap();
        }
        let n = w.len();
        buf.truncate(n);
        buf
    }

    #[test]
    fn every_item_is_given_in_order_with_its_policy() {
        let b = batch(&[7, 9, 8], None);
        let mut seen = Vec::new();
        let n = parse_batch(&b, |id, p| {
            assert_eq!(p.kind, attr::POLICY);
            seen.push(id);
            Ok(())
        })
        .unwrap();
        assert_eq!((n, seen), (3, vec![7, 9, 8]));
    }

    #[test]
    fn an_empty_batch_and_anything_but_items_are_refused() {
        let e = parse_batch(&[], |_, _| Ok(())).unwrap_err();
        assert!(e.text().contains("empty batch"), "{}", e.text());
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf);
        w.put_u64(attr::CGROUP_ID, 7).unwrap();
        let n = w.len();
        let e = parse_batch(&buf[..n], |_, _| Ok(())).unwrap_err();
        assert!(e.text().contains("only batch items"), "{}", e.text());
    }

    #[test]
    fn an_item_needs_its_cgroup_and_policy_and_nothing_else() {
        let e = parse_batch(&batch(&[7], Some(attr::CGROUP_ID)), |_, _| Ok(())).unwrap_err();
        assert!(e.text().contains("repeated"), "{}", e.text());
        let e = parse_batch(&batch(&[7], Some(attr::INFO_VERSION)), |_, _| Ok(())).unwrap_err();
        assert!(
            e.text().contains("cgroup id and a policy only"),
            "{}",
            e.text()
        );
        let mut buf = [0u8; 32];
        let mut w = Writer::new(&mut buf);
        w.nest(attr::BATCH_ITEM, |w| w.put_u64(attr::CGROUP_ID, 7))
            .unwrap();
        let n = w.len();
        let e = parse_batch(&buf[..n], |_, _| Ok(())).unwrap_err();
        assert!(
            e.text().contains("needs a cgroup id and a policy"),
            "{}",
            e.text()
        );
        assert_eq!(e.offset, 0, "the offending item is named");
    }

    #[test]
    fn a_batch_holds_at_most_max_batch_items() {
        let ids: Vec<u64> = (1..=u64::from(limits::MAX_BATCH)).collect();
        assert_eq!(
            parse_batch(&batch(&ids, None), |_, _| Ok(())).unwrap(),
            ids.len()
        );
        let ids: Vec<u64> = (1..=u64::from(limits::MAX_BATCH) + 1).collect();
        let e = parse_batch(&batch(&ids, None), |_, _| Ok(())).unwrap_err();
        assert!(e.text().contains("too many items"), "{}", e.text());
    }

    #[test]
    fn the_callers_refusal_stops_the_walk() {
        let b = batch(&[1, 2, 3], None);
        let mut calls = 0;
        let e = parse_batch(&b, |id, p| {
            calls += 1;
            if id == 2 {
                return super::bad("no\0", &p);
            }
            Ok(())
        })
        .unwrap_err();
        assert_eq!((calls, e.text()), (2, "no"));
    }
}
