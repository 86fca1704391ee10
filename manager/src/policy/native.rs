// SPDX-License-Identifier: GPL-2.0
//! The native policy file (JSON or YAML) and its translation to the wire.
//!
//! ```yaml
//! default: errno          # allow | log | errno | trap | kill-thread | kill-process
//! defaultErrno: 1         # errno for `errno` (EPERM when omitted)
//! abis: [x86_64, ia32]    # ABIs the policy describes (default: both);
//!                         # every other ABI gets `badAbi`
//! badAbi: kill-process    # optional, same values as `default`
//! record: false           # optional: mark the calls the policy lets run,
//!                         # for `sysfence record` (no events, one bit each)
//! rules:
//!   - syscalls: [getppid, read]
//!     action: allow
//!   - syscalls: [socket]
//!     action: errno
//!     errno: 97
//!     args: [{index: 0, op: eq, value: 40}]   # ne lt le eq ge gt masked-eq
//!     abis: [x86_64]      # optional: only these of the policy's ABIs
//! ```
//! Names resolve per ABI through the kernel's own syscall tables; a name
//! that exists in none of a rule's ABIs is an error, never dropped.

pub use crate::policy::action::{action_name, action_text, action_value, ActionName, PolicyError};
use crate::policy::objects::Objects;
use crate::policy::syscall_names::Numbers;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::ops::Range;
use std::sync::Arc;
use sysfence_abi::engine::{self, ArgCmp};
use sysfence_abi::names;
use sysfence_abi::nla::{Attr, Error as NlaError, Iter, Writer};
use sysfence_abi::proto::{action, attr, limits, Abi, Op};

/// An ABI name in a policy file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
pub enum AbiName {
    #[serde(rename = "x86_64")]
    X86_64,
    #[serde(rename = "ia32")]
    Ia32,
    #[serde(rename = "x32")]
    X32,
    #[serde(rename = "aarch64")]
    Aarch64,
    #[serde(rename = "arm")]
    Arm,
}

impl From<AbiName> for Abi {
    fn from(a: AbiName) -> Abi {
        match a {
            AbiName::X86_64 => Abi::X86_64,
            AbiName::Ia32 => Abi::Ia32,
            AbiName::X32 => Abi::X32,
            AbiName::Aarch64 => Abi::Aarch64,
            AbiName::Arm => Abi::Arm,
        }
    }
}

impl From<Abi> for AbiName {
    fn from(a: Abi) -> AbiName {
        match a {
            Abi::X86_64 => AbiName::X86_64,
            Abi::Ia32 => AbiName::Ia32,
            Abi::X32 => AbiName::X32,
            Abi::Aarch64 => AbiName::Aarch64,
            Abi::Arm => AbiName::Arm,
        }
    }
}

/// A comparison operator name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(rename_all = "kebab-case")]
pub enum OpName {
    Ne,
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
    MaskedEq,
}

/// One argument comparison.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ArgSpec {
    pub index: u8,
    pub op: OpName,
    pub value: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value_two: Option<u64>,
}

/// One rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RuleSpec {
    // Shared, not copied, when the rule is: a clone of Docker's profile
    // copied its 361 names one `String` at a time, a fifth of making and
    // encoding one of `bench load --distinct`'s policies (callgrind). (Not
    // a doc comment: those go into the CRD's schema.)
    pub syscalls: Arc<[String]>,
    pub action: ActionName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno: Option<u16>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<ArgSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abis: Option<Vec<AbiName>>,
}

/// A policy file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "agent", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyFile {
    pub default: ActionName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno: Option<u16>,
    #[serde(default = "default_abis")]
    pub abis: Vec<AbiName>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_abi: Option<ActionName>,
    /// A recording policy: the kernel marks each call it lets run.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub record: bool,
    #[serde(default)]
    pub rules: Vec<RuleSpec>,
    /// Rules on files, programs and sockets (docs/ABI.md, objects).
    #[serde(default, skip_serializing_if = "Objects::is_empty")]
    pub objects: Objects,
}

/// The target family's native and 32-bit ABIs ([`crate::policy::target`]).
fn default_abis() -> Vec<AbiName> {
    crate::policy::target::default_abis()
        .into_iter()
        .map(AbiName::from)
        .collect()
}

/// ` (line N)`: where in `text` reading a `T` fails. The document is read
/// once more, from the text (the first reading, from the parsed document,
/// gives the field's path but no position), and fails at the same field.
pub fn line_of_error<T: serde::de::DeserializeOwned>(text: &str) -> String {
    match serde_norway::from_str::<T>(text)
        .err()
        .and_then(|e| e.location())
    {
        Some(l) => format!(" (line {})", l.line()),
        None => String::new(),
    }
}

fn err<T>(e: PolicyError) -> Result<T, PolicyError> {
    Err(e)
}

pub(crate) fn op_value(o: OpName) -> Op {
    match o {
        OpName::Ne => Op::Ne,
        OpName::Lt => Op::Lt,
        OpName::Le => Op::Le,
        OpName::Eq => Op::Eq,
        OpName::Ge => Op::Ge,
        OpName::Gt => Op::Gt,
        OpName::MaskedEq => Op::MaskedEq,
    }
}

/// A policy's syscall rules resolved to numbers (each name looked up
/// once, for all ABIs) and sorted out per ABI as [`encode_abi`] writes
/// them.
struct Resolved {
    /// The policy's ABIs, in its order.
    abis: Vec<Abi>,
    /// Per ABI (`Abi::index`), its rules.
    per_abi: [AbiRules; Abi::COUNT],
    /// Each rule's action and where its comparisons are in `args`.
    rules: Vec<(u32, Range<usize>)>,
    /// Each rule's comparisons in turn.
    args: Vec<ArgCmp>,
}

/// One ABI's rules, one per name of a rule that the ABI has.
struct AbiRules {
    /// Calls allowed without comparisons, as the `ABI_ALLOW` bitmap ("allow"
    /// is the weakest action, so where it sits among the rules changes
    /// nothing), and whether it has any.
    allow: [u8; attr::ALLOW_BYTES],
    any_allow: bool,
    /// The other rules in order: number, and rule (in `Resolved::rules`).
    others: Vec<(u32, usize)>,
    /// Rules, and the bytes [`PolicyFile::wire_size`] allows them.
    count: usize,
    bytes: usize,
}

impl AbiRules {
    const EMPTY: AbiRules = AbiRules {
        allow: [0; attr::ALLOW_BYTES],
        any_allow: false,
        others: Vec::new(),
        count: 0,
        bytes: 0,
    };
}

impl Resolved {
    /// Rules over all ABIs.
    fn len(&self) -> usize {
        self.per_abi.iter().map(|a| a.count).sum()
    }
}

impl PolicyFile {
    /// Parses a policy from JSON or YAML text (YAML is a superset of JSON).
    pub fn parse(text: &str) -> Result<Self, PolicyError> {
        crate::policy::input::check_depth(text)?;
        let doc: serde_norway::Value =
            serde_norway::from_str(text).map_err(|e| PolicyError::Syntax(e.to_string()))?;
        serde_path_to_error::deserialize(doc).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." {
                "policy".to_string()
            } else {
                path
            };
            PolicyError::Field {
                at,
                message: e.into_inner().to_string(),
                line: line_of_error::<Self>(text),
            }
        })
    }

    fn resolve(&self) -> Result<Resolved, PolicyError> {
        let mut out = Resolved {
            abis: Vec::with_capacity(self.abis.len()),
            per_abi: [AbiRules::EMPTY; Abi::COUNT],
            rules: Vec::with_capacity(self.rules.len()),
            args: Vec::new(),
        };
        for a in &self.abis {
            let abi = Abi::from(*a);
            if out.abis.contains(&abi) {
                return err(PolicyError::invalid(
                    "abis",
                    format!("{} listed twice", abi.name()),
                ));
            }
            if let Some(first) = out.abis.first().filter(|f| f.arch() != abi.arch()) {
                return err(PolicyError::invalid(
                    "abis",
                    format!(
                        "{} ({}) and {} ({}) are ABIs of two architectures: a policy is for one kernel",
                        first.name(),
                        first.arch().name(),
                        abi.name(),
                        abi.arch().name()
                    ),
                ));
            }
            out.abis.push(abi);
        }
        for (i, r) in self.rules.iter().enumerate() {
            // Made only for an error: a format per rule was a good part of
            // encoding a profile's few dozen rules.
            let what = || format!("rules[{i}]");
            // (Once more with the rule's name for the error, if it fails.)
            let act = action_value(r.action, r.errno, "")
                .or_else(|_| action_value(r.action, r.errno, &what()))?;
            if r.syscalls.is_empty() {
                return err(PolicyError::invalid(what(), "`syscalls` is empty"));
            }
            if r.args.len() > 6 {
                return err(PolicyError::TooManyArgs { what: what() });
            }
            let first_arg = out.args.len();
            for (j, a) in r.args.iter().enumerate() {
                if a.index > 5 {
                    return err(PolicyError::ArgIndex {
                        what: what(),
                        arg: j,
                        index: a.index.into(),
                    });
                }
                let op = op_value(a.op);
                let value_two = match (op, a.value_two) {
                    (Op::MaskedEq, Some(v)) => v,
                    (Op::MaskedEq, None) => {
                        return err(PolicyError::ValueTwoMissing {
                            what: what(),
                            arg: j,
                        })
                    }
                    (_, Some(_)) => {
                        return err(PolicyError::ValueTwoStray {
                            what: what(),
                            arg: j,
                        })
                    }
                    (_, None) => 0,
                };
                out.args.push(ArgCmp {
                    index: a.index,
                    op,
                    value: a.value,
                    value_two,
                    ..ArgCmp::EMPTY
                });
            }
            // The ABIs the rule is for, each once: `targets[..n]`.
            let (mut targets, mut n) = ([Abi::X86_64; Abi::COUNT], 0);
            let mut add = |abi: Abi| {
                if !targets[..n].contains(&abi) {
                    if let Some(t) = targets.get_mut(n) {
                        *t = abi;
                        n += 1;
                    }
                }
            };
            match &r.abis {
                Some(list) => {
                    for a in list {
                        let abi = Abi::from(*a);
                        if !out.abis.contains(&abi) {
                            return err(PolicyError::invalid(
                                what(),
                                format!("ABI {} is not among the policy's abis", abi.name()),
                            ));
                        }
                        add(abi);
                    }
                }
                None => out.abis.iter().for_each(|a| add(*a)),
            }
            let targets = targets.get(..n).unwrap_or(&[]);
            let rule = out.rules.len();
            let plain_allow = r.args.is_empty() && act == action::ALLOW;
            // Room in the buffer: the bitmap is counted once per ABI.
            let bytes = if plain_allow {
                0
            } else {
                32 + r.args.len() * 48
            };
            for name in r.syscalls.iter() {
                let nrs = crate::policy::syscall_names::numbers(name).unwrap_or(Numbers::NONE);
                let mut found = false;
                for abi in targets {
                    let (Some(nr), Some(a)) = (nrs.get(*abi), out.per_abi.get_mut(abi.index()))
                    else {
                        continue;
                    };
                    found = true;
                    a.count += 1;
                    a.bytes += bytes;
                    if !plain_allow {
                        a.others.push((nr, rule));
                    } else if let Some(b) = a.allow.get_mut(nr as usize / 8) {
                        *b |= 1 << (nr % 8);
                        a.any_allow = true;
                    }
                }
                if !found {
                    let abis: Vec<&str> = match &r.abis {
                        Some(list) => list.iter().map(|a| Abi::from(*a).name()).collect(),
                        None => out.abis.iter().map(|a| a.name()).collect(),
                    };
                    return err(PolicyError::UnknownSyscall {
                        what: what(),
                        name: name.to_string(),
                        abis: abis.join(", "),
                    });
                }
            }
            out.rules.push((act, first_arg..out.args.len()));
        }
        Ok(out)
    }

    /// Encodes the policy as a `POLICY` attribute's payload: its actions
    /// resolved, the buffer sized ([`PolicyFile::wire_size`]), the head and
    /// each ABI encoded ([`encode_abi`]), the objects, then the result
    /// validated as the module would ([`check_wire`]).
    pub fn to_wire(&self) -> Result<Vec<u8>, PolicyError> {
        let default = action_value(self.default, self.default_errno, "default")?;
        let bad_abi = match self.bad_abi {
            Some(a) => Some(action_value(a, None, "badAbi")?),
            None => None,
        };
        let resolved = self.resolve()?;
        let mut buf = vec![0u8; self.wire_size(&resolved)];
        let mut w = Writer::new(&mut buf);
        // Runs of rules without comparisons, for each ABI in turn.
        let mut packed = Vec::new();
        let mut enc = |w: &mut Writer<'_>| -> Result<(), NlaError> {
            w.put_u32(attr::POLICY_DEFAULT, default)?;
            if let Some(b) = bad_abi {
                w.put_u32(attr::POLICY_BAD_ABI, b)?;
            }
            if self.record {
                w.put(attr::POLICY_RECORD, &[])?;
            }
            for abi in &resolved.abis {
                w.nest(attr::POLICY_ABI, |w| {
                    encode_abi(w, *abi, &resolved, &mut packed)
                })?;
            }
            Ok(())
        };
        // One netlink attribute: a 16-bit length, header included.
        let max = limits::MAX_POLICY_BYTES as usize - 4;
        let too_large = |size: String| PolicyError::TooLarge {
            size,
            rules: resolved.len(),
            max,
        };
        // The buffer has room for everything, so only a section over the
        // 16-bit attribute length fails here.
        enc(&mut w).map_err(|_| too_large(format!("more than {max}")))?;
        self.objects.encode(&mut w)?;
        let n = w.len();
        buf.truncate(n);
        if n > max {
            return Err(too_large(n.to_string()));
        }
        check_wire(&buf)?;
        Ok(buf)
    }

    /// A buffer size that holds the policy's encoding, whatever it is.
    fn wire_size(&self, resolved: &Resolved) -> usize {
        let mut size = 64usize;
        for r in [
            &self.objects.files,
            &self.objects.exec,
            &self.objects.sockets,
            &self.objects.connect,
            &self.objects.bind,
        ] {
            size += r
                .iter()
                .map(|o| {
                    160 + o
                        .path
                        .iter()
                        .chain(&o.prefix)
                        .chain(&o.unix)
                        .chain(&o.unix_prefix)
                        .map(String::len)
                        .sum::<usize>()
                })
                .sum::<usize>();
        }
        size += 5 * 24;
        for abi in &resolved.abis {
            size += 16 + 4 + attr::ALLOW_BYTES;
            // 32 bytes a rule and 48 a comparison, but for the rules in
            // the bitmap (an ABI's head and bitmap are the line above):
            // counting those too made Docker's profile zero a 35 KiB
            // buffer for its 1.6 KiB.
            size += resolved.per_abi.get(abi.index()).map_or(0, |a| a.bytes);
        }
        size
    }
}

/// The inside of one `POLICY_ABI` nest: its id, the allow bitmap, then the
/// other rules in order, packed where they have no comparisons.
fn encode_abi(
    w: &mut Writer<'_>,
    abi: Abi,
    resolved: &Resolved,
    packed: &mut Vec<u8>,
) -> Result<(), NlaError> {
    w.put_u32(attr::ABI_ID, abi as u32)?;
    let Some(rules) = resolved.per_abi.get(abi.index()) else {
        return Ok(());
    };
    if rules.any_allow {
        w.put(attr::ABI_ALLOW, &rules.allow)?;
    }
    // Runs of other rules without comparisons go packed, in
    // place, so the order of the rules (which decides ties
    // between actions of one kind) holds.
    packed.clear();
    let flush = |w: &mut Writer<'_>, packed: &mut Vec<u8>| {
        if packed.is_empty() {
            return Ok(());
        }
        let r = w.put(attr::ABI_PACKED, packed);
        packed.clear();
        r
    };
    for (nr, rule) in &rules.others {
        let Some((act, args)) = resolved.rules.get(*rule) else {
            continue;
        };
        let args = resolved.args.get(args.clone()).unwrap_or(&[]);
        if args.is_empty() {
            packed.extend_from_slice(&nr.to_ne_bytes());
            packed.extend_from_slice(&act.to_ne_bytes());
            continue;
        }
        flush(w, packed)?;
        w.nest(attr::ABI_RULE, |w| encode_rule(w, *nr, *act, args))?;
    }
    flush(w, packed)
}

/// The inside of one `ABI_RULE` nest: a rule with comparisons.
fn encode_rule(w: &mut Writer<'_>, nr: u32, act: u32, args: &[ArgCmp]) -> Result<(), NlaError> {
    w.put_u32(attr::RULE_NR, nr)?;
    w.put_u32(attr::RULE_ACTION, act)?;
    for a in args {
        w.nest(attr::RULE_ARG, |w| {
            w.put_u32(attr::ARG_INDEX, u32::from(a.index))?;
            w.put_u32(attr::ARG_OP, a.op as u32)?;
            w.put_u64(attr::ARG_VALUE, a.value)?;
            if a.op == Op::MaskedEq {
                w.put_u64(attr::ARG_VALUE_TWO, a.value_two)?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// Validates an encoded policy as the module does, so that errors point at
/// the file, not at bytes.
/// (`buf` is a payload [`PolicyFile::to_wire`] made and checked the size
/// of: the `POLICY` attribute around it is the one a request carries.)
fn check_wire(buf: &[u8]) -> Result<(), PolicyError> {
    if buf.len() > limits::MAX_POLICY_BYTES as usize - sysfence_abi::nla::HDRLEN {
        return Err(PolicyError::Other("policy too large to encode".into()));
    }
    let a = Attr {
        kind: attr::POLICY,
        nested: true,
        net_byteorder: false,
        payload: buf,
        offset: 0,
    };
    let arch = crate::policy::target::arch();
    with_scratch(|s| engine::validate_for(arch, &a, s))
        .map_err(|e| PolicyError::Refused(e.text().to_string()))?;
    Ok(())
}

/// Runs `f` with the engine's working memory (`engine::Scratch`, about
/// 57 KiB), one kept per thread: allocating and zeroing it for each policy
/// was a tenth of encoding Docker's profile (callgrind). The module keeps
/// one too (kmod/store.rs): `validate` forgets what a previous policy left
/// in it.
fn with_scratch<R>(f: impl FnOnce(&mut engine::Scratch) -> R) -> R {
    thread_local! {
        static SCRATCH: RefCell<Option<Box<engine::Scratch>>> = const { RefCell::new(None) };
    }
    SCRATCH.with(|s| match s.try_borrow_mut() {
        Ok(mut s) => f(s.get_or_insert_with(|| Box::new(engine::Scratch::ZERO))),
        // (Not reached: `f` never comes back here.)
        Err(_) => f(&mut Box::new(engine::Scratch::ZERO)),
    })
}

/// Whether `v` fits in `bits` bits, zero- or sign-extended (an `int` -1
/// written as 64 bits fits 32).
fn fits(v: u64, bits: u8) -> bool {
    bits >= 64 || v >> bits == 0 || (bits > 0 && (v as i64) >> (bits - 1) == -1)
}

impl PolicyFile {
    /// What deserves a word on stderr though the policy is valid, one line
    /// each: comparison values with bits above what the kernel reads of
    /// their argument (docs/ABI.md, argument widths), object rules that
    /// cannot match ([`Objects::warnings`]).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = self.objects.warnings();
        for r in &self.rules {
            for a in &r.args {
                let v = match a.op {
                    OpName::MaskedEq => a.value_two.unwrap_or(0),
                    _ => a.value,
                };
                let narrow = self
                    .abis
                    .iter()
                    .filter(|abi| r.abis.as_ref().is_none_or(|l| l.contains(abi)))
                    .flat_map(|abi| {
                        let abi = Abi::from(*abi);
                        r.syscalls.iter().filter_map(move |n| {
                            let nr = crate::policy::syscall_names::number(abi, n)?;
                            let bits = engine::arg_bits(abi, nr, a.index);
                            (!fits(v, bits)).then_some((abi, n, bits))
                        })
                    })
                    .next();
                if let Some((abi, name, bits)) = narrow {
                    out.push(format!(
                        "a rule on {name} ({}) compares argument {}{} with {v:#x}, which has bits above the {bits} the kernel reads of it: it is compared as {:#x}",
                        abi.name(),
                        a.index,
                        if a.op == OpName::MaskedEq { " (masked)" } else { "" },
                        v & engine::width_mask(bits),
                    ));
                }
            }
        }
        out
    }

    /// The policy as the decisions it makes, one line each, in a canonical
    /// order: its defaults, then per ABI and syscall number the rules that
    /// apply, in their order (which decides ties). Two policies with the
    /// same lines decide every call alike; `policy diff` compares these.
    pub fn decision_lines(&self) -> Vec<String> {
        let mut out = vec![format!(
            "default: {}",
            action_text(self.default, self.default_errno)
        )];
        let abis: Vec<&str> = self.abis.iter().map(|a| Abi::from(*a).name()).collect();
        out.push(format!("abis: {}", abis.join(", ")));
        out.push(format!(
            "other ABIs: {}",
            self.bad_abi
                .map_or("kill-process".into(), |a| action_text(a, None))
        ));
        let mut rules: Vec<(Abi, u32, usize, String)> = Vec::new();
        for abi in &self.abis {
            let a = Abi::from(*abi);
            for (i, r) in self.rules.iter().enumerate() {
                if r.abis.as_ref().is_some_and(|l| !l.contains(abi)) {
                    continue;
                }
                for n in r.syscalls.iter() {
                    if let Some(nr) = crate::policy::syscall_names::number(a, n) {
                        let args: Vec<String> = r
                            .args
                            .iter()
                            .map(|x| match x.value_two {
                                Some(v2) => format!("arg{} & {:#x} == {:#x}", x.index, x.value, v2),
                                None => format!("arg{} {:?} {:#x}", x.index, x.op, x.value),
                            })
                            .collect();
                        let cond = if args.is_empty() {
                            String::new()
                        } else {
                            format!(" if {}", args.join(" && "))
                        };
                        rules.push((
                            a,
                            nr,
                            i,
                            format!("{} {n}{cond}: {}", a.name(), action_text(r.action, r.errno)),
                        ));
                    }
                }
            }
        }
        rules.sort_by_key(|(a, nr, i, _)| (a.index(), *nr, *i));
        out.extend(rules.into_iter().map(|(_, _, _, l)| l));
        out.extend(self.objects.decision_lines());
        out
    }
}

/// `payload`, a policy's wire encoding, as a whole `POLICY` attribute
/// (what requests carry and [`from_wire`] reads); `None` when it does not
/// fit one attribute (64 KiB).
pub fn policy_attr(payload: &[u8]) -> Option<Vec<u8>> {
    let mut nest = vec![0u8; payload.len().checked_add(4)?];
    Writer::new(&mut nest)
        .put(attr::POLICY | sysfence_abi::nla::F_NESTED, payload)
        .ok()?;
    Some(nest)
}

/// Decodes a `POLICY` payload (as the kernel returns it) into a policy file.
pub fn from_payload(payload: &[u8]) -> Result<PolicyFile, PolicyError> {
    let nest = policy_attr(payload).ok_or_else(|| PolicyError::Other("policy too large".into()))?;
    let a = Iter::new(&nest)
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| PolicyError::Other("malformed policy".into()))?;
    from_wire(&a)
}

/// Renders a `POLICY` payload (as the kernel returns it) as a policy file:
/// validated as the module would, then its head, objects and each ABI's
/// rules ([`abi_from_wire`]) read back.
pub fn from_wire(policy: &Attr<'_>) -> Result<PolicyFile, PolicyError> {
    let arch = crate::policy::target::arch();
    with_scratch(|s| engine::validate_for(arch, policy, s))
        .map_err(|e| PolicyError::KernelPolicy(e.text().to_string()))?;
    let mut file = PolicyFile {
        default: ActionName::KillProcess,
        default_errno: None,
        abis: Vec::new(),
        bad_abi: None,
        record: false,
        rules: Vec::new(),
        objects: Objects::default(),
    };
    for a in policy.nested_iter().flatten() {
        match a.kind {
            attr::POLICY_DEFAULT => {
                let (n, e) = action_name(a.u32().unwrap_or(0));
                file.default = n;
                file.default_errno = e;
            }
            attr::POLICY_BAD_ABI => file.bad_abi = Some(action_name(a.u32().unwrap_or(0)).0),
            attr::POLICY_RECORD => file.record = true,
            attr::POLICY_OBJECT | attr::POLICY_OBJECT_DEFAULT => file.objects.add_from_wire(&a),
            attr::POLICY_ABI => abi_from_wire(&a, &mut file)?,
            _ => {}
        }
    }
    Ok(file)
}

/// One `POLICY_ABI` nest read back: the ABI added to `file.abis`, its
/// rules (bitmap, packed, with comparisons) to `file.rules`, in order.
fn abi_from_wire(a: &Attr<'_>, file: &mut PolicyFile) -> Result<(), PolicyError> {
    let abi = a
        .nested_iter()
        .flatten()
        .find(|x| x.kind == attr::ABI_ID)
        .and_then(|x| x.u32())
        .and_then(|v| Abi::try_from(v).ok())
        .ok_or_else(|| PolicyError::KernelPolicy("ABI without id".into()))?;
    let last = AbiName::from(abi);
    file.abis.push(last);
    // One rule of this ABI, as read back.
    let rule_of = |nr: u32, act: u32, args: Vec<ArgSpec>| {
        let (action, errno) = action_name(act);
        RuleSpec {
            syscalls: [names::name(abi, nr)
                .map(str::to_owned)
                .unwrap_or_else(|| format!("{nr}"))]
            .into(),
            action,
            errno,
            args,
            abis: Some(vec![last]),
        }
    };
    for r in a.nested_iter().flatten() {
        match r.kind {
            attr::ABI_ALLOW => {
                for (i, byte) in r.payload.iter().enumerate() {
                    for b in 0..8u32 {
                        if byte & (1 << b) != 0 {
                            let nr = i as u32 * 8 + b;
                            file.rules.push(rule_of(nr, action::ALLOW, Vec::new()));
                        }
                    }
                }
            }
            attr::ABI_PACKED => {
                for pair in r.payload.chunks_exact(8) {
                    let nr = u32::from_ne_bytes([pair[0], pair[1], pair[2], pair[3]]);
                    let act = u32::from_ne_bytes([pair[4], pair[5], pair[6], pair[7]]);
                    file.rules.push(rule_of(nr, act, Vec::new()));
                }
            }
            attr::ABI_RULE => {
                let (nr, act, args) = rule_from_wire(&r);
                file.rules.push(rule_of(nr, act, args));
            }
            _ => {}
        }
    }
    Ok(())
}

/// One `ABI_RULE` nest read back: number, action and comparisons.
fn rule_from_wire(r: &Attr<'_>) -> (u32, u32, Vec<ArgSpec>) {
    let (mut nr, mut act, mut args) = (0, 0, Vec::new());
    for x in r.nested_iter().flatten() {
        match x.kind {
            attr::RULE_NR => nr = x.u32().unwrap_or(0),
            attr::RULE_ACTION => act = x.u32().unwrap_or(0),
            _ => args.push(arg_from_wire(&x)),
        }
    }
    (nr, act, args)
}

/// One `RULE_ARG` nest read back.
fn arg_from_wire(x: &Attr<'_>) -> ArgSpec {
    let mut s = ArgSpec {
        index: 0,
        op: OpName::Eq,
        value: 0,
        value_two: None,
    };
    for y in x.nested_iter().flatten() {
        match y.kind {
            attr::ARG_INDEX => s.index = y.u32().unwrap_or(0) as u8,
            attr::ARG_OP => {
                s.op = match Op::try_from(y.u32().unwrap_or(0)) {
                    Ok(Op::Ne) => OpName::Ne,
                    Ok(Op::Lt) => OpName::Lt,
                    Ok(Op::Le) => OpName::Le,
                    Ok(Op::Ge) => OpName::Ge,
                    Ok(Op::Gt) => OpName::Gt,
                    Ok(Op::MaskedEq) => OpName::MaskedEq,
                    _ => OpName::Eq,
                }
            }
            attr::ARG_VALUE => s.value = y.u64().unwrap_or(0),
            _ => s.value_two = y.u64(),
        }
    }
    s
}

/// Compiles a policy file with the engine the module runs and decides one
/// call (tests only: the same path the kernel takes, on the host).
#[cfg(test)]
pub(crate) fn decide_with(p: &PolicyFile, abi: Abi, nr: u32, args: [u64; 6]) -> u32 {
    let payload = p.to_wire().unwrap();
    let nest = policy_attr(&payload).unwrap();
    let a = Iter::new(&nest).next().unwrap().unwrap();
    sysfence_abi::owned::Compiled::new_for(
        crate::policy::target::arch(),
        &a,
        &mut Box::new(engine::Scratch::ZERO),
    )
    .unwrap()
    .tables()
    .decide(abi, nr, &args)
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
default: allow
abis: [x86_64]
rules:
  - syscalls: [mount]
    action: errno
    errno: 13
  - syscalls: [socket]
    action: errno
    errno: 97
    args: [{index: 0, op: eq, value: 40}]
  - syscalls: [clone]
    action: kill-process
    args: [{index: 0, op: masked-eq, value: 0x10000000, valueTwo: 0x10000000}]
  - syscalls: [getppid]
    action: log
  - syscalls: [getppid]
    action: trap
"#;

    #[test]
    fn decisions_follow_seccomp_semantics() {
        let p = PolicyFile::parse(POLICY).unwrap();
        let d = |nr, a0| decide_with(&p, Abi::X86_64, nr, [a0, 0, 0, 0, 0, 0]);
        assert_eq!(d(165, 0), action::ERRNO | 13); // mount
        assert_eq!(d(41, 40), action::ERRNO | 97); // socket(AF_VSOCK)
        assert_eq!(d(41, 2), action::ALLOW); // socket(AF_INET): no match, default
        assert_eq!(d(56, 0x1000_0011), action::KILL_PROCESS); // clone(CLONE_NEWUSER|..)
        assert_eq!(d(56, 0x11), action::ALLOW);
        assert_eq!(d(110, 0), action::TRAP); // trap beats log on the same call
        assert_eq!(d(5000, 0), action::ALLOW); // unknown numbers: default
                                               // The policy does not describe ia32: fail closed.
        assert_eq!(decide_with(&p, Abi::Ia32, 64, [0; 6]), action::KILL_PROCESS);
    }

    #[test]
    fn round_trips_through_the_wire() {
        let p = PolicyFile::parse(POLICY).unwrap();
        let payload = p.to_wire().unwrap();
        let back = from_payload(&payload).unwrap();
        assert_eq!(back.default, ActionName::Allow);
        assert_eq!(back.rules.len(), 5);
        assert_eq!(back.to_wire().unwrap().len(), payload.len());
    }

    #[test]
    fn refuses_bad_policies_with_reasons() {
        let e = |t: &str| {
            PolicyFile::parse(t)
                .and_then(|p| p.to_wire())
                .unwrap_err()
                .to_string()
        };
        assert!(
            e("default: allow\nrules: [{syscalls: [nope], action: allow}]")
                .contains("unknown syscall `nope`")
        );
        assert!(
            e("default: allow\nrules: [{syscalls: [read], action: allow, errno: 3}]")
                .contains("only goes with")
        );
        assert!(e("default: errno\ndefaultErrno: 5000").contains("above 4095"));
        assert!(e("default: allow\nrules: [{syscalls: [read], action: allow, args: [{index: 6, op: eq, value: 1}]}]").contains("index 6"));
        assert!(e("default: allow\nbogus: 1").contains("unknown field"));
        assert!(e("default: sometimes").contains("unknown variant"));
    }

    #[test]
    fn a_policy_file_is_for_the_target_family() {
        use crate::policy::target;
        use sysfence_abi::proto::Arch;
        let text = "default: errno\nrules: [{syscalls: [getppid, open, socket], action: allow}]";
        let p = target::with(Arch::Arm64, || PolicyFile::parse(text)).unwrap();
        // Without `abis`: the family's 64-bit and 32-bit ABIs.
        assert_eq!(p.abis, vec![AbiName::Aarch64, AbiName::Arm]);
        let arm64 = |nr, abi| target::with(Arch::Arm64, || decide_with(&p, abi, nr, [0; 6]));
        assert_eq!(arm64(173, Abi::Aarch64), action::ALLOW, "getppid");
        assert_eq!(arm64(64, Abi::Arm), action::ALLOW, "arm getppid");
        // open exists on arm only: allowed there.
        assert_eq!(arm64(5, Abi::Arm), action::ALLOW);
        // Read back from the wire, the ABIs keep their names.
        let wire = target::with(Arch::Arm64, || p.to_wire()).unwrap();
        let back = target::with(Arch::Arm64, || from_payload(&wire)).unwrap();
        assert_eq!(back.abis, p.abis);
        // An x86 kernel refuses it, with the engine's reason.
        let e = target::with(Arch::X86, || p.to_wire())
            .unwrap_err()
            .to_string();
        assert!(e.contains("this kernel is not arm64"), "{e}");
        // x86 defaults are unchanged.
        let x = target::with(Arch::X86, || PolicyFile::parse(text)).unwrap();
        assert_eq!(x.abis, vec![AbiName::X86_64, AbiName::Ia32]);
        // ABIs of two families in one file.
        let mixed = "default: allow\nabis: [x86_64, aarch64]";
        let e = PolicyFile::parse(mixed)
            .unwrap()
            .to_wire()
            .unwrap_err()
            .to_string();
        assert!(e.contains("two architectures"), "{e}");
        // A name of no ABI of the family.
        let e = target::with(Arch::Arm64, || {
            PolicyFile::parse(
                "default: allow\nrules: [{syscalls: [arch_prctl], action: errno, errno: 1}]",
            )
            .and_then(|p| p.to_wire())
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("unknown syscall `arch_prctl`") && e.contains("aarch64, arm"),
            "{e}"
        );
    }

    #[test]
    fn int_arguments_are_decided_at_32_bits_and_odd_values_warned_about() {
        let p = PolicyFile::parse(
            "default: allow\nabis: [x86_64, ia32]\nrules:\n  - {syscalls: [socket], action: errno, errno: 97, args: [{index: 0, op: eq, value: 1}]}\n  - {syscalls: [kill], action: errno, errno: 1, args: [{index: 1, op: eq, value: 0xffffffffffffffff}]}\n  - {syscalls: [mmap], action: errno, errno: 1, args: [{index: 1, op: eq, value: 0x100000000}], abis: [x86_64]}",
        )
        .unwrap();
        let d = |nr, a: [u64; 6]| decide_with(&p, Abi::X86_64, nr, a);
        assert_eq!(d(41, [1 | 1 << 32, 0, 0, 0, 0, 0]), action::ERRNO | 97);
        assert_eq!(d(62, [0, 0xffff_ffff, 0, 0, 0, 0]), action::ERRNO | 1);
        assert_eq!(d(9, [0, 0x1_0000_0000, 0, 0, 0, 0]), action::ERRNO | 1);
        assert_eq!(d(9, [0, 0, 0, 0, 0, 0]), action::ALLOW);
        // -1 fits an int; 2^32 fits mmap's length on x86_64: nothing to say.
        assert_eq!(p.warnings(), Vec::<String>::new());
        let odd = PolicyFile::parse(
            "default: allow\nrules:\n  - {syscalls: [socket], action: errno, args: [{index: 0, op: eq, value: 0x100000001}]}\n  - {syscalls: [ioctl], action: errno, args: [{index: 1, op: masked-eq, value: 0xffffffffffffffff, valueTwo: 0x100005412}]}",
        )
        .unwrap();
        assert_eq!(
            odd.warnings(),
            [
                "a rule on socket (x86_64) compares argument 0 with 0x100000001, which has bits above the 32 the kernel reads of it: it is compared as 0x1",
                "a rule on ioctl (x86_64) compares argument 1 (masked) with 0x100005412, which has bits above the 32 the kernel reads of it: it is compared as 0x5412",
            ]
        );
        assert!(fits(u64::MAX, 32) && fits(0xffff_ffff, 32) && !fits(0x1_ffff_ffff, 32));
        assert!(fits(0xffff, 16) && !fits(0x1_0000, 16) && fits(1 << 63, 64));
    }

    #[test]
    fn too_many_rules_are_refused_by_the_shared_validation() {
        // (Rules that allow without comparisons travel as one bitmap, so
        // these are errno rules.)
        let mut p = PolicyFile::parse("default: allow\nabis: [x86_64]").unwrap();
        for _ in 0..2049 {
            p.rules.push(RuleSpec {
                syscalls: ["read".to_string()].into(),
                action: ActionName::Errno,
                errno: Some(1),
                args: vec![],
                abis: None,
            });
        }
        assert!(p
            .to_wire()
            .unwrap_err()
            .to_string()
            .contains("too many rules"));
    }

    #[test]
    fn a_policy_over_64_kib_is_refused_with_its_size() {
        let mut text = String::from("default: allow\nabis: [x86_64]\nrules:\n");
        for i in 0..1500 {
            text += &format!(
                "  - {{syscalls: [socket], action: errno, errno: 1, args: [{{index: 0, op: eq, value: {i}}}, {{index: 1, op: eq, value: 1}}]}}\n"
            );
        }
        let e = PolicyFile::parse(&text)
            .unwrap()
            .to_wire()
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("policy too large: it encodes to more than 65531 bytes"),
            "{e}"
        );
        assert!(
            e.contains("(1500 rules)") && e.contains("at most 65531 bytes"),
            "{e}"
        );
    }
}
