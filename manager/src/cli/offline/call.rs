// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy test FILE -- SYSCALL [ARG...]`: what one call would
//! get, decided by the compiled tables, and which rule of the file that is.

use super::{
    act, cmp_text, is_uretprobe, load, read, report, Compiled, Conditions, Context, Loaded, COUNT,
};
use crate::exit::{Code, Usage};
use crate::policy::native::{action_text, action_value, op_value, ArgSpec, RuleSpec};
use clap::{Args, ValueEnum};
use serde::Serialize;
use sysfence_abi::engine::{self, ArgCmp};
use sysfence_abi::names;
use sysfence_abi::proto::{Abi, X32_SYSCALL_BIT};

/// `--abi`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum AbiArg {
    /// The 64-bit ABI.
    #[value(name = "x86_64")]
    X86_64,
    /// 32-bit calls (`int $0x80`, `sysenter`): arguments are 32 bits.
    Ia32,
    /// x32 (numbers with bit 30 set, given here without it).
    X32,
    /// arm64's 64-bit ABI.
    Aarch64,
    /// AArch32 calls on arm64: arguments are 32 bits.
    Arm,
}

impl From<AbiArg> for Abi {
    fn from(a: AbiArg) -> Abi {
        match a {
            AbiArg::X86_64 => Abi::X86_64,
            AbiArg::Ia32 => Abi::Ia32,
            AbiArg::X32 => Abi::X32,
            AbiArg::Aarch64 => Abi::Aarch64,
            AbiArg::Arm => Abi::Arm,
        }
    }
}

#[derive(Args)]
pub struct TestArgs {
    /// The policy file (native, SyscallPolicy or seccomp profile; '-' for
    /// standard input).
    pub file: String,
    /// The ABI of the call [default: the target's 64-bit ABI, x86_64 or
    /// aarch64 (see --arch)].
    #[arg(long, value_enum)]
    pub abi: Option<AbiArg>,
    #[command(flatten)]
    pub cond: Conditions,
    /// Print one JSON object (with --calls, one per call, one per line).
    #[arg(long)]
    pub json: bool,
    /// Decide the calls listed in the file LIST ('-': standard input),
    /// one per line: an optional ABI name, the syscall, its arguments
    /// (`ia32 mount`, `socket 40 1 0`); blank lines and lines starting
    /// with # are skipped.
    #[arg(long, value_name = "LIST", conflicts_with = "call")]
    pub calls: Option<String>,
    /// The call: a syscall name or number, then up to six arguments
    /// (decimal, -N, or 0x hex; missing ones are 0).
    #[arg(last = true, required_unless_present = "calls", value_name = "CALL")]
    pub call: Vec<String>,
}

/// One call to decide.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    pub abi: Abi,
    /// The number as the kernel dispatches it (x32 bit cleared).
    pub nr: u32,
    pub args: [u64; 6],
    /// How many arguments were given.
    pub given: usize,
}

/// An integer: decimal, `-N` (two's complement) or `0x` hex.
fn int(s: &str) -> Option<u64> {
    if let Some(h) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        return u64::from_str_radix(h, 16).ok();
    }
    if let Some(n) = s.strip_prefix('-') {
        return n
            .parse::<u64>()
            .ok()
            .filter(|v| *v <= 1 << 63)
            .map(u64::wrapping_neg);
    }
    s.parse().ok()
}

/// A syscall given by number: the kernel dispatches the register's low 32
/// bits, and a 64-bit call with the x32 bit set is an x32 call.
fn by_number(abi: Abi, v: u64) -> (Abi, u32) {
    let nr = v as u32;
    let x32 = X32_SYSCALL_BIT as u32;
    if matches!(abi, Abi::X86_64 | Abi::X32) && nr & x32 != 0 {
        (Abi::X32, nr & !x32)
    } else {
        (abi, nr)
    }
}

/// Parses `SYSCALL [ARG...]` for `abi`.
pub fn parse_call(abi: Abi, words: &[String]) -> Result<Call, Usage> {
    let Some((first, rest)) = words.split_first() else {
        return Err(Usage("give the call after --: SYSCALL [ARG...]".into()));
    };
    let arch = crate::policy::target::arch();
    if abi.arch() != arch {
        return Err(Usage(format!(
            "{} is an ABI of {}, not of the target {} (see --arch)",
            abi.name(),
            abi.arch().name(),
            arch.name()
        )));
    }
    if rest.len() > 6 {
        return Err(Usage(format!(
            "{} arguments given, a syscall has at most 6",
            rest.len()
        )));
    }
    let (abi, nr) = match int(first) {
        Some(v) => by_number(abi, v),
        None => (
            abi,
            names::number(abi, first)
                .ok_or_else(|| Usage(format!("no syscall `{first}` on {}", abi.name())))?,
        ),
    };
    let mut args = [0u64; 6];
    for (i, (slot, w)) in args.iter_mut().zip(rest).enumerate() {
        let v = int(w).ok_or_else(|| {
            Usage(format!(
                "argument {i}: `{w}` is not an integer (decimal, -N or 0x hex)"
            ))
        })?;
        // ia32 and arm registers are 32 bits: that is all the kernel sees.
        *slot = if matches!(abi, Abi::Ia32 | Abi::Arm) {
            v & 0xffff_ffff
        } else {
            v
        };
    }
    Ok(Call {
        abi,
        nr,
        args,
        given: rest.len(),
    })
}

/// What decided a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Rule `i` of the loaded policy.
    Rule(usize),
    /// The policy's default: no rule matches.
    Default,
    /// The policy does not describe the call's ABI.
    BadAbi,
    /// x86_64 uretprobe is never filtered.
    Uretprobe,
    /// No rule of the file accounts for the engine's answer (a bug).
    Unexplained,
}

/// The answer for one call.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub call: Call,
    /// The action value the module would take.
    pub action: u32,
    pub by: By,
}

/// Whether comparison `a` holds for `call`, at the argument's width.
fn holds(call: &Call, a: &ArgSpec) -> bool {
    let bits = engine::arg_bits(call.abi, call.nr, a.index);
    let cmp = ArgCmp {
        index: a.index,
        op: op_value(a.op),
        value: a.value,
        value_two: a.value_two.unwrap_or(0),
        arg_mask: engine::width_mask(bits),
    };
    cmp.holds(call.args.get(usize::from(a.index)).copied().unwrap_or(0))
}

/// Whether rule `r` matches `call`: its ABI, a name of that number, all
/// comparisons.
fn matches(r: &RuleSpec, call: &Call) -> bool {
    let on_abi = r
        .abis
        .as_ref()
        .is_none_or(|l| l.iter().any(|a| Abi::from(*a) == call.abi));
    // A number has one name in the kernel's table (and a name one number).
    let Some(name) = names::name(call.abi, call.nr) else {
        return false;
    };
    on_abi && r.syscalls.iter().any(|n| n == name) && r.args.iter().all(|a| holds(call, a))
}

/// The first rule that matches `call` with the action `decided`: the one
/// that decides (among matching rules of one action, the first does).
fn deciding_rule(l: &Loaded, call: &Call, decided: u32) -> Option<usize> {
    l.policy
        .rules
        .iter()
        .position(|r| action_value(r.action, r.errno, "").ok() == Some(decided) && matches(r, call))
}

/// Decides `call` with the compiled tables, and finds the rule.
pub fn decide(l: &Loaded, c: &Compiled, call: Call) -> Verdict {
    let action = c.decide(call.abi, call.nr, &call.args);
    let by = if is_uretprobe(call.abi, call.nr) {
        By::Uretprobe
    } else if !c.describes(call.abi) {
        By::BadAbi
    } else if let Some(i) = deciding_rule(l, &call, action) {
        By::Rule(i)
    } else if action == c.tables().head.default {
        By::Default
    } else {
        By::Unexplained
    };
    Verdict { call, action, by }
}

/// A rule as text for a call of `name`: `socket: errno(97) if arg0 ==
/// 0x28`; a rule on many names shows the call's (`getppid and 300 other
/// names: allow`).
pub fn rule_text(r: &RuleSpec, name: Option<&str>) -> String {
    let cond: Vec<String> = r
        .args
        .iter()
        .map(|a| cmp_text(a.index, op_value(a.op), a.value, a.value_two.unwrap_or(0)))
        .collect();
    let cond = if cond.is_empty() {
        String::new()
    } else {
        format!(" if {}", cond.join(" && "))
    };
    let abis = r.abis.as_ref().map_or(String::new(), |l| {
        let n: Vec<&str> = l.iter().map(|a| Abi::from(*a).name()).collect();
        format!(" (on {})", n.join(", "))
    });
    let names = match name {
        Some(n) if r.syscalls.len() > 3 => {
            format!("{n} and {} other names", r.syscalls.len() - 1)
        }
        _ => r.syscalls.join(", "),
    };
    format!("{names}: {}{cond}{abis}", action_text(r.action, r.errno))
}

/// The verdict as JSON.
#[derive(Serialize)]
struct VerdictJson {
    abi: &'static str,
    nr: u32,
    syscall: Option<&'static str>,
    args: [u64; 6],
    action: String,
    /// `default`, `badAbi`, `uretprobe`, or where the rule is in the file.
    decided_by: String,
    rule_index: Option<usize>,
    rule: Option<String>,
}

/// (decided_by, the rule as text) for a verdict on `l`.
fn by_text(l: &Loaded, v: &Verdict) -> (String, Option<String>) {
    match v.by {
        By::Rule(i) => (
            l.origins
                .get(i)
                .cloned()
                .unwrap_or_else(|| format!("rule {i}")),
            l.policy
                .rules
                .get(i)
                .map(|r| rule_text(r, names::name(v.call.abi, v.call.nr))),
        ),
        By::Default => ("default".into(), None),
        By::BadAbi => (
            "badAbi".into(),
            Some(format!(
                "the policy does not describe {}",
                v.call.abi.name()
            )),
        ),
        By::Uretprobe => (
            "uretprobe".into(),
            Some("x86_64 uretprobe is never filtered, as by seccomp".into()),
        ),
        By::Unexplained => (
            "tables".into(),
            Some("no rule of the file accounts for this answer: please report it".into()),
        ),
    }
}

/// The verdict as one line of text.
pub fn line(l: &Loaded, v: &Verdict) -> String {
    let c = &v.call;
    let name = names::name(c.abi, c.nr).map_or_else(|| c.nr.to_string(), str::to_string);
    let args: Vec<String> = c.args[..c.given]
        .iter()
        .map(|a| format!("{a:#x}"))
        .collect();
    let (by, rule) = by_text(l, v);
    let rule = rule.map_or(String::new(), |r| format!(" ({r})"));
    format!(
        "{} {name}({}) [nr {}]: {} by {by}{rule}",
        c.abi.name(),
        args.join(", "),
        c.nr,
        act(v.action)
    )
}

fn json(l: &Loaded, v: &Verdict) -> Result<String, serde_json::Error> {
    let (decided_by, rule) = by_text(l, v);
    serde_json::to_string(&VerdictJson {
        abi: v.call.abi.name(),
        nr: v.call.nr,
        syscall: names::name(v.call.abi, v.call.nr),
        args: v.call.args,
        action: act(v.action),
        decided_by,
        rule_index: match v.by {
            By::Rule(i) => Some(i),
            _ => None,
        },
        rule,
    })
}

/// The calls of a `--calls` list, one per line, for `abi` unless a line
/// names its own.
pub fn calls_of(text: &str, abi: Abi) -> Result<Vec<Call>, Usage> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let mut words: Vec<String> = line.split_whitespace().map(str::to_string).collect();
        if words.first().is_none_or(|w| w.starts_with('#')) {
            continue;
        }
        let own = Abi::EVERY.iter().find(|a| a.name() == words[0]).copied();
        if own.is_some() {
            words.remove(0);
        }
        let call = parse_call(own.unwrap_or(abi), &words)
            .map_err(|e| Usage(format!("policy test --calls: line {}: {}", i + 1, e.0)))?;
        out.push(call);
    }
    Ok(out)
}

/// The calls to decide: the list of `--calls`, or the one after `--`.
fn calls(a: &TestArgs) -> Result<Vec<Call>, crate::cli::Error> {
    let abi = a
        .abi
        .map_or_else(crate::policy::target::native_abi, Abi::from);
    match &a.calls {
        Some(_) if a.file == "-" && a.calls.as_deref() == Some("-") => Err(Usage(
            "policy test: the policy and --calls cannot both be standard input".into(),
        )
        .into()),
        Some(f) => Ok(calls_of(&read(f)?, abi)?),
        None => {
            let c = parse_call(abi, &a.call).map_err(|e| Usage(format!("policy test: {}", e.0)))?;
            Ok(vec![c])
        }
    }
}

pub fn test(a: &TestArgs) -> Result<Code, crate::cli::Error> {
    let calls = calls(a)?;
    let ctx = Context::new(&a.cond)?;
    let l = load(&a.file, &ctx)?;
    report(&l, COUNT);
    let (_, c) =
        Compiled::of_policy(&l.policy).map_err(|e| crate::cli::Error::policy(&a.file, e))?;
    let mut text = String::new();
    for call in calls {
        let v = decide(&l, &c, call);
        text += &if a.json { json(&l, &v)? } else { line(&l, &v) };
        text.push('\n');
    }
    crate::out::write_str(&text)?;
    Ok(Code::Ok)
}
