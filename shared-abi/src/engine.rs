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
//! all its argument comparisons hold; among the matching rules of a syscall
//! the most restrictive action wins (see [`action::stricter`]); when none
//! matches, the policy's default action applies; an ABI without rules in the
//! policy gets the `bad ABI` action.

use crate::nla::{Attr, Iter};
use crate::proto::{action, attr, limits, Abi, Op};

/// Why a policy or request was refused: a fixed message (sent to userspace
/// as the extended-ack text) and the byte offset of the offending attribute
/// within the buffer that was parsed. Messages end with a NUL byte so the
/// module can hand them to netlink's extended ack as they are; use
/// [`Invalid::text`] to display one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// What is wrong, in words.
    pub msg: &'static str,
    /// Offset of the offending attribute in the parsed buffer.
    pub offset: usize,
}

impl Invalid {
    /// The message without its terminating NUL.
    pub fn text(&self) -> &'static str {
        self.msg.trim_end_matches('\0')
    }
}

pub(crate) fn bad<T>(msg: &'static str, at: &Attr<'_>) -> Result<T, Invalid> {
    Err(Invalid {
        msg,
        offset: at.offset,
    })
}

/// Visits the attributes of one nest, refusing malformed, unknown,
/// wrongly flagged and repeated ones. `repeated` lists the kinds that may
/// occur more than once; `visit` sees every accepted attribute.
pub(crate) fn walk<'a>(
    it: Iter<'a>,
    max_kind: u16,
    nested: &[u16],
    repeated: &[u16],
    mut visit: impl FnMut(Attr<'a>) -> Result<(), Invalid>,
) -> Result<(), Invalid> {
    // One bit per kind seen; kinds are small (max_kind <= 63).
    let mut seen: u64 = 0;
    for a in it {
        let a = a.map_err(|(_, offset)| Invalid {
            msg: "truncated attribute\0",
            offset,
        })?;
        if a.kind == 0 || a.kind > max_kind || a.kind > 63 {
            return bad("unknown attribute\0", &a);
        }
        if a.net_byteorder {
            return bad("network byte order is not supported\0", &a);
        }
        if a.nested != nested.contains(&a.kind) {
            return bad("attribute has the wrong nested flag\0", &a);
        }
        let bit = 1u64 << a.kind;
        if seen & bit != 0 && !repeated.contains(&a.kind) {
            return bad("attribute repeated\0", &a);
        }
        seen |= bit;
        visit(a)?;
    }
    Ok(())
}

pub(crate) fn get_u32(a: &Attr<'_>) -> Result<u32, Invalid> {
    match a.u32() {
        Some(v) => Ok(v),
        None => bad("attribute must be a 4-byte u32\0", a),
    }
}

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
}

/// Parses the attributes of a request (the bytes after the generic netlink
/// header). `allow_policy` says whether `POLICY` may appear; `CGROUP_ID` may
/// always appear. Anything else is refused.
pub fn parse_request(payload: &[u8], allow_policy: bool) -> Result<Request<'_>, Invalid> {
    let mut req = Request::default();
    walk(
        Iter::new(payload),
        attr::MAX,
        &[attr::POLICY, attr::STATS, attr::EVENT],
        &[],
        |a| {
            match a.kind {
                attr::CGROUP_ID => req.cgroup_id = Some(get_u64(&a)?),
                attr::POLICY if allow_policy => req.policy = Some(a),
                _ => return bad("attribute not valid in this request\0", &a),
            }
            Ok(())
        },
    )?;
    Ok(req)
}

/// The size of the tables one ABI of a policy needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct AbiShape {
    /// Whether the policy describes this ABI.
    pub present: bool,
    /// Slots: one more than the largest syscall number a rule names.
    pub slots: usize,
    /// Rules.
    pub rules: usize,
    /// Argument comparisons.
    pub cmps: usize,
}

/// The measured shape of a valid policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shape {
    /// Default action.
    pub default: u32,
    /// Action for ABIs the policy does not describe.
    pub bad_abi: u32,
    /// A recording policy ([`attr::POLICY_RECORD`]).
    pub record: bool,
    /// Object rules or object defaults are present (`crate::objects`).
    pub objects: bool,
    /// Per ABI, indexed by [`Abi::index`].
    pub abis: [AbiShape; Abi::COUNT],
}

/// One comparison of a rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgCmp {
    /// Argument register index, 0-5.
    pub index: u8,
    /// Operator.
    pub op: Op,
    /// Value (the mask, for MASKED_EQ).
    pub value: u64,
    /// Masked value for MASKED_EQ; 0 otherwise.
    pub value_two: u64,
}

impl ArgCmp {
    /// An all-zero placeholder for preallocated tables.
    pub const EMPTY: ArgCmp = ArgCmp {
        index: 0,
        op: Op::Eq,
        value: 0,
        value_two: 0,
    };

    /// Whether argument value `arg` satisfies this comparison.
    pub fn holds(&self, arg: u64) -> bool {
        match self.op {
            Op::Ne => arg != self.value,
            Op::Lt => arg < self.value,
            Op::Le => arg <= self.value,
            Op::Eq => arg == self.value,
            Op::Ge => arg >= self.value,
            Op::Gt => arg > self.value,
            Op::MaskedEq => arg & self.value == self.value_two,
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

/// What a syscall number maps to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// The answer does not depend on arguments.
    Fixed(u32),
    /// Evaluate this run of the rule table.
    Rules {
        /// First rule.
        start: u32,
        /// Number of rules.
        len: u32,
    },
}

/// The tables of one ABI, as [`compile`] fills them.
#[derive(Debug)]
pub struct AbiTablesMut<'t> {
    /// `shape.slots` entries.
    pub slots: &'t mut [Slot],
    /// `shape.rules` entries.
    pub rules: &'t mut [Rule],
    /// `shape.cmps` entries.
    pub cmps: &'t mut [ArgCmp],
}

/// The tables of one ABI, read-only, for [`decide`].
#[derive(Clone, Copy, Debug)]
pub struct AbiTables<'t> {
    /// Indexed by syscall number.
    pub slots: &'t [Slot],
    /// Rules, grouped by syscall number.
    pub rules: &'t [Rule],
    /// Comparisons, referenced by rules.
    pub cmps: &'t [ArgCmp],
}

/// Calls `f` for each rule of a `POLICY_ABI` nest, after validating it:
/// `f(nr, action, comparisons, count)`.
fn each_rule<'a>(
    abi: &Attr<'a>,
    mut f: impl FnMut(u32, u32, &[ArgCmp; 6], usize, &Attr<'a>) -> Result<(), Invalid>,
) -> Result<(), Invalid> {
    const NONE: [ArgCmp; 6] = [ArgCmp::EMPTY; 6];
    walk(
        abi.nested_iter(),
        attr::ABI_PACKED,
        &[attr::ABI_RULE],
        &[attr::ABI_RULE, attr::ABI_PACKED],
        |r| {
            if r.kind == attr::ABI_PACKED {
                if r.payload.len() % 8 != 0 {
                    return bad("packed rules must be 8-byte (number, action) pairs\0", &r);
                }
                for pair in r.payload.chunks(8) {
                    let (Some(n), Some(a)) = (pair.get(..4), pair.get(4..8)) else {
                        return bad("packed rules must be 8-byte (number, action) pairs\0", &r);
                    };
                    let nr = u32::from_ne_bytes([n[0], n[1], n[2], n[3]]);
                    let act = u32::from_ne_bytes([a[0], a[1], a[2], a[3]]);
                    if nr > limits::MAX_SYSCALL_NR {
                        return bad("syscall number out of range (0-1023)\0", &r);
                    }
                    if !action::is_valid(act) {
                        return bad("unknown action, or errno above 4095\0", &r);
                    }
                    f(nr, act, &NONE, 0, &r)?;
                }
                return Ok(());
            }
            if r.kind != attr::ABI_RULE {
                return Ok(());
            }
            let (mut nr, mut act) = (None, None);
            let mut cmps = [ArgCmp::EMPTY; 6];
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
            f(nr, act, &cmps, n, &r)
        },
    )
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
        }),
        (Op::MaskedEq, None) => bad("masked-eq needs a second value\0", a),
        (_, Some(_)) => bad("only masked-eq takes a second value\0", a),
        (_, None) => Ok(ArgCmp {
            index,
            op,
            value,
            value_two: 0,
        }),
    }
}

/// Calls `f(abi, nest)` for each `POLICY_ABI` of a policy, after checking the
/// policy's own attributes (object rules included); returns `(default,
/// bad_abi, record, objects)`.
fn each_abi<'a>(
    policy: &Attr<'a>,
    mut f: impl FnMut(Abi, &Attr<'a>) -> Result<(), Invalid>,
) -> Result<(u32, u32, bool, bool), Invalid> {
    let (mut default, mut bad_abi, mut record) = (None, action::KILL_PROCESS, false);
    let mut seen_abis = [false; Abi::COUNT];
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
                }
                attr::POLICY_OBJECT_DEFAULT => {
                    let c = crate::objects::validate_default(&a)?;
                    let bit = 1u32 << c;
                    if default_classes & bit != 0 {
                        return bad("object default given twice for a class\0", &a);
                    }
                    default_classes |= bit;
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
                    let mut id = None;
                    walk(
                        a.nested_iter(),
                        attr::ABI_PACKED,
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
                    let Some(abi) = id else {
                        return bad("ABI section needs an ABI id\0", &a);
                    };
                    let seen = &mut seen_abis[abi.index()];
                    if *seen {
                        return bad("ABI described twice\0", &a);
                    }
                    *seen = true;
                    f(abi, &a)?;
                }
            }
            Ok(())
        },
    )?;
    match default {
        Some(d) => Ok((d, bad_abi, record, object_rules > 0 || default_classes != 0)),
        None => bad("policy needs a default action\0", policy),
    }
}

/// Validates a `POLICY` attribute completely and measures the tables it
/// compiles to. Every check [`compile`] relies on happens here.
pub fn validate(policy: &Attr<'_>) -> Result<Shape, Invalid> {
    if !policy.nested {
        return bad("policy must be a nested attribute\0", policy);
    }
    if policy.payload.len() > limits::MAX_POLICY_BYTES as usize {
        return bad("policy larger than 64 KiB\0", policy);
    }
    let mut abis = [AbiShape::default(); Abi::COUNT];
    let mut total_rules = 0usize;
    let (default, bad_abi, record, objects) = each_abi(policy, |abi, a| {
        let shape = &mut abis[abi.index()];
        shape.present = true;
        each_rule(a, |nr, _, _, n, r| {
            total_rules += 1;
            if total_rules > limits::MAX_RULES as usize {
                return bad("too many rules (the limit is 2048)\0", r);
            }
            shape.rules += 1;
            shape.cmps += n;
            shape.slots = shape.slots.max(nr as usize + 1);
            Ok(())
        })
    })?;
    Ok(Shape {
        default,
        bad_abi,
        record,
        objects,
        abis,
    })
}

/// Fills the tables of a policy that [`validate`] accepted with `shape`.
/// `tables[i]` must be `Some` exactly when `shape.abis[i].present`, with
/// slices of the measured lengths.
pub fn compile(
    policy: &Attr<'_>,
    shape: &Shape,
    tables: &mut [Option<AbiTablesMut<'_>>; Abi::COUNT],
) -> Result<(), Invalid> {
    const MISMATCH: &str = "internal error: tables do not match the policy's shape\0";
    each_abi(policy, |abi, a| {
        let want = &shape.abis[abi.index()];
        let Some(t) = tables[abi.index()].as_mut() else {
            return bad(MISMATCH, a);
        };
        if t.slots.len() != want.slots || t.rules.len() != want.rules || t.cmps.len() != want.cmps {
            return bad(MISMATCH, a);
        }
        // Pass 1: count rules per syscall, in the slots themselves.
        t.slots.fill(Slot::Fixed(shape.default));
        each_rule(a, |nr, _, _, _, r| {
            let Some(slot) = t.slots.get_mut(nr as usize) else {
                return bad(MISMATCH, r);
            };
            *slot = match *slot {
                Slot::Fixed(_) => Slot::Rules { start: 0, len: 1 },
                Slot::Rules { len, .. } => Slot::Rules {
                    start: 0,
                    len: len.saturating_add(1),
                },
            };
            Ok(())
        })?;
        // Prefix sums give each syscall its run; `len` becomes a cursor.
        let mut next = 0u32;
        for slot in t.slots.iter_mut() {
            if let Slot::Rules { len, .. } = *slot {
                *slot = Slot::Rules {
                    start: next,
                    len: 0,
                };
                next = next.saturating_add(len);
            }
        }
        // Pass 2: place rules (by syscall) and comparisons (in wire order).
        let mut cmp_next = 0usize;
        each_rule(a, |nr, act, cmps, n, r| {
            let Some(Slot::Rules { start, len }) = t.slots.get_mut(nr as usize) else {
                return bad(MISMATCH, r);
            };
            let Some(rule) = t.rules.get_mut(start.saturating_add(*len) as usize) else {
                return bad(MISMATCH, r);
            };
            let (Some(dst), Some(src)) = (t.cmps.get_mut(cmp_next..cmp_next + n), cmps.get(..n))
            else {
                return bad(MISMATCH, r);
            };
            // Element by element: equal lengths are known, and this keeps
            // copy_from_slice's length-mismatch panic out of the module.
            for (d, s) in dst.iter_mut().zip(src) {
                *d = *s;
            }
            *rule = Rule {
                action: act,
                cmp_start: cmp_next as u32,
                cmp_len: n as u32,
            };
            cmp_next += n;
            *len += 1;
            Ok(())
        })?;
        // A syscall whose rules all match unconditionally needs no rule walk.
        for slot in t.slots.iter_mut() {
            if let Slot::Rules { start, len } = *slot {
                let run = t
                    .rules
                    .get(start as usize..start.saturating_add(len) as usize)
                    .unwrap_or(&[]);
                if run.iter().all(|r| r.cmp_len == 0) {
                    let strictest = run.iter().fold(None, |best: Option<u32>, r| match best {
                        Some(b) if !action::stricter(r.action, b) => Some(b),
                        _ => Some(r.action),
                    });
                    *slot = Slot::Fixed(strictest.unwrap_or(shape.default));
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// Decides one syscall of an ABI the policy describes: `nr` is the number
/// the kernel dispatches (32 bits, x32 bit cleared), `args` the argument
/// registers (zero-extended 32-bit values for ia32).
pub fn decide(t: &AbiTables<'_>, default: u32, nr: u32, args: &[u64; 6]) -> u32 {
    match t.slots.get(nr as usize) {
        None => default,
        Some(Slot::Fixed(a)) => *a,
        Some(Slot::Rules { start, len }) => {
            let run = t
                .rules
                .get(*start as usize..start.saturating_add(*len) as usize)
                .unwrap_or(&[]);
            let mut best: Option<u32> = None;
            for r in run {
                if best.is_some_and(|b| !action::stricter(r.action, b)) {
                    continue;
                }
                let cmps = t
                    .cmps
                    .get(r.cmp_start as usize..r.cmp_start.saturating_add(r.cmp_len) as usize)
                    .unwrap_or(&[]);
                let all = cmps
                    .iter()
                    .all(|c| c.holds(args.get(c.index as usize).copied().unwrap_or(0)));
                if all {
                    best = Some(r.action);
                }
            }
            best.unwrap_or(default)
        }
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
        validate(&Iter::new(buf).next().unwrap().unwrap())
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
