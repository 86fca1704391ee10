// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy show FILE`: the decisions of a policy, read from the
//! tables the module would compile it to.

use super::{act, cmp_text, is_uretprobe, load, report, Compiled, Conditions, Context, COUNT};
use crate::exit::Code;
use clap::Args;
use serde::Serialize;
use sysfence_abi::engine::{Exception, Lookup, Rule, Tables};
use sysfence_abi::names;
use sysfence_abi::proto::{action, limits, Abi};

#[derive(Args)]
pub struct ShowArgs {
    /// The policy file (native, SyscallPolicy or seccomp profile; '-' for
    /// standard input).
    pub file: String,
    #[command(flatten)]
    pub cond: Conditions,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A policy's decisions.
#[derive(Serialize, Debug)]
pub struct Shown {
    /// For calls of a described ABI no rule decides.
    pub default: String,
    /// For every call of an ABI the policy does not describe.
    pub bad_abi: String,
    pub record: bool,
    pub abis: Vec<AbiShown>,
    /// Object rules and defaults, one line each.
    pub objects: Vec<String>,
}

/// One ABI's calls that do not get the default.
#[derive(Serialize, Debug)]
pub struct AbiShown {
    pub abi: &'static str,
    pub described: bool,
    pub syscalls: Vec<CallShown>,
}

/// One syscall: its rules with comparisons, first match wins, and the
/// action when none matches.
#[derive(Serialize, Debug)]
pub struct CallShown {
    pub nr: u32,
    pub name: Option<&'static str>,
    /// The action when no rule below matches (or the only one).
    pub action: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<RuleShown>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<&'static str>,
}

/// A rule with comparisons, all of which must hold.
#[derive(Serialize, Debug)]
pub struct RuleShown {
    pub action: String,
    pub args: Vec<String>,
}

/// The decisions of compiled policy `c` (object lines from `objects`).
pub fn shown(c: &Compiled, objects: Vec<String>) -> Shown {
    let head = c.tables().head;
    Shown {
        default: act(head.default),
        bad_abi: act(head.bad_abi),
        record: head.record,
        abis: head
            .arch()
            .abis()
            .iter()
            .map(|a| abi_shown(c, *a))
            .collect(),
        objects,
    }
}

fn abi_shown(c: &Compiled, abi: Abi) -> AbiShown {
    let described = c.describes(abi);
    let syscalls = if described {
        (0..=limits::MAX_SYSCALL_NR)
            .filter_map(|nr| call_shown(c, abi, nr))
            .collect()
    } else {
        Vec::new()
    };
    AbiShown {
        abi: abi.name(),
        described,
        syscalls,
    }
}

/// Syscall `nr` of `abi`, unless it gets the default whatever its
/// arguments.
fn call_shown(c: &Compiled, abi: Abi, nr: u32) -> Option<CallShown> {
    let t = c.tables();
    let (action, rules) = match c.lookup(abi, nr) {
        Lookup::Fixed(a) if a == t.head.default => return None,
        Lookup::Fixed(a) => (a, Vec::new()),
        Lookup::Rules(e) => (e.base.unwrap_or(t.head.default), rules_shown(&t, e)),
    };
    Some(CallShown {
        nr,
        name: names::name(abi, nr),
        action: act(action),
        rules,
        note: is_uretprobe(abi, nr).then_some("never filtered, as by seccomp"),
    })
}

/// The rules of exception `e` that can decide, in the order the engine
/// tries them (strictest first; the first that matches decides).
fn rules_shown(t: &Tables<'_>, e: &Exception) -> Vec<RuleShown> {
    let start = e.start as usize;
    let run = t
        .rules
        .get(start..start + usize::from(e.len))
        .unwrap_or(&[]);
    run.iter()
        .take_while(|r| e.base.is_none_or(|b| action::stricter(r.action, b)))
        .map(|r| RuleShown {
            action: act(r.action),
            args: cmps_shown(t, r),
        })
        .collect()
}

/// A rule's comparisons, with the values cut to the argument's width as
/// the engine compares them.
fn cmps_shown(t: &Tables<'_>, r: &Rule) -> Vec<String> {
    let start = r.cmp_start as usize;
    let cmps = t.cmps.get(start..start + r.cmp_len as usize).unwrap_or(&[]);
    cmps.iter()
        .map(|c| {
            cmp_text(
                c.index,
                c.op,
                c.value & c.arg_mask,
                c.value_two & c.arg_mask,
            )
        })
        .collect()
}

/// The table form.
pub fn table(s: &Shown) -> String {
    let mut out = format!("default: {}\n", s.default);
    let others: Vec<&str> = s
        .abis
        .iter()
        .filter(|a| !a.described)
        .map(|a| a.abi)
        .collect();
    let whom = if others.is_empty() {
        "no ABI: every one is described".to_string()
    } else {
        others.join(", ")
    };
    out += &format!("badAbi: {} ({whom})\n", s.bad_abi);
    if s.record {
        out += "record: the calls the policy lets run are recorded\n";
    }
    out += &format!(
        "{:<7} {:>4}  {:<24} {:<14} WHEN\n",
        "ABI", "NR", "SYSCALL", "ACTION"
    );
    for a in s.abis.iter().filter(|a| a.described) {
        for c in &a.syscalls {
            out += &call_rows(a.abi, c);
        }
    }
    for l in &s.objects {
        out += &format!("{l}\n");
    }
    out
}

/// The rows of one syscall: one per rule, then the action otherwise.
fn call_rows(abi: &str, c: &CallShown) -> String {
    let name = c.name.map_or_else(|| c.nr.to_string(), str::to_string);
    let row = |action: &str, when: &str| {
        format!("{abi:<7} {:>4}  {name:<24} {action:<14} {when}", c.nr)
            .trim_end()
            .to_string()
            + "\n"
    };
    let mut out = String::new();
    for r in &c.rules {
        out += &row(&r.action, &r.args.join(" && "));
    }
    let when = match (c.rules.is_empty(), c.note) {
        (false, _) => "otherwise",
        (true, Some(n)) => n,
        (true, None) => "",
    };
    out += &row(&c.action, when);
    out
}

pub fn show(a: &ShowArgs) -> Result<Code, crate::cli::Error> {
    let ctx = Context::new(&a.cond)?;
    let l = load(&a.file, &ctx)?;
    report(&l, COUNT);
    let (_, c) =
        Compiled::of_policy(&l.policy).map_err(|e| crate::cli::Error::policy(&a.file, e))?;
    let objects = if l.policy.objects.is_empty() {
        Vec::new()
    } else {
        l.policy.objects.decision_lines()
    };
    let s = shown(&c, objects);
    if a.json {
        crate::out::json_line(&s)?;
    } else {
        crate::out::write_str(&table(&s))?;
    }
    Ok(Code::Ok)
}
