// SPDX-License-Identifier: GPL-2.0
//! OCI and Docker seccomp profiles, read unchanged and turned into the
//! native policy with the meaning a libseccomp-based runtime gives them.
//!
//! What a runtime does, and so what this does:
//! - Docker's conditions on a rule are evaluated first, as moby does when it
//!   turns a profile into the runtime spec: `includes`/`excludes` on `caps`
//!   (against the target's capability set), `arches` (against the target
//!   architecture's Go name, `amd64` or `arm64`, see [`native_goarch`]),
//!   `minKernel` (against the running kernel). A rule whose conditions fail
//!   is left out, as there.
//! - `architectures` (or, when absent, the target's entry of `archMap`, its
//!   `architecture` and `subArchitectures`, as moby passes them to runc)
//!   says which ABIs the filter describes; the target's native one
//!   (x86_64, aarch64) always is, and those of another architecture family
//!   are left out (the kernel never sees their calls). Every other ABI gets
//!   `badAbi` (kill-process): fail closed.
//! - A syscall name unknown on an ABI is skipped for that ABI, as runc does;
//!   a name unknown on every ABI is reported back to the caller (never
//!   silently dropped).
//! - Argument comparisons of one rule must all hold; a rule that compares
//!   the same argument twice becomes one rule per comparison, as runc does.
//! - An action we cannot honour (`SCMP_ACT_NOTIFY`, `SCMP_ACT_TRACE`) is an
//!   error naming the rule.

use crate::policy::native::{
    AbiName, ActionName, ArgSpec, OpName, PolicyError, PolicyFile, RuleSpec,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use sysfence_abi::proto::{Abi, Arch};

/// The architecture name moby compares `arches` conditions with: Go's
/// `runtime.GOARCH` of the target ([`crate::policy::target`]).
pub fn native_goarch() -> &'static str {
    match crate::policy::target::arch() {
        Arch::X86 => "amd64",
        Arch::Arm64 => "arm64",
    }
}

/// The target's libseccomp architecture: the `archMap` entry moby picks.
fn native_scmp_arch() -> &'static str {
    match crate::policy::target::arch() {
        Arch::X86 => "SCMP_ARCH_X86_64",
        Arch::Arm64 => "SCMP_ARCH_AARCH64",
    }
}

/// `null` where a list or value is expected means "none", as Go writes it.
fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// A profile as Docker and the OCI runtime spec write it.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Profile {
    pub default_action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub architectures: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arch_map: Vec<ArchMap>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub flags: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_path: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listener_metadata: Option<String>,
    #[serde(default, deserialize_with = "null_default")]
    pub syscalls: Vec<Syscall>,
}

/// `archMap` entry.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ArchMap {
    pub architecture: String,
    #[serde(default, deserialize_with = "null_default")]
    pub sub_architectures: Vec<String>,
}

/// One `syscalls` entry.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Syscall {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub names: Vec<String>,
    /// Old Docker profiles name one syscall per entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errno_ret: Option<u32>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub args: Vec<Arg>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub includes: Option<Filter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excludes: Option<Filter>,
}

/// One argument comparison.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Arg {
    pub index: u32,
    pub value: u64,
    #[serde(default)]
    pub value_two: u64,
    pub op: String,
}

/// Docker's `includes`/`excludes`.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Filter {
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub caps: Vec<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub arches: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_kernel: Option<String>,
}

/// What the profile's conditions are evaluated against.
#[derive(Clone, Debug)]
pub struct Context {
    /// Capability names (`CAP_SYS_ADMIN`, ...) the target holds.
    pub caps: BTreeSet<String>,
    /// The running kernel's release (`uname -r`).
    pub kernel: String,
}

/// The result of an import: the policy and what was left out and why.
#[derive(Debug)]
pub struct Imported {
    pub policy: PolicyFile,
    /// Syscall names that exist on none of the policy's ABIs (per rule).
    pub unknown: Vec<String>,
    /// Rules left out by their Docker conditions (index and reason).
    pub skipped: Vec<String>,
    /// Where each rule of `policy` comes from in the profile, one per rule
    /// (`syscalls[3]`, or the ia32 multiplexer form of one), for messages.
    pub origins: Vec<String>,
}

/// What is wrong with the profile `text` as JSON and as a profile, before
/// its conditions are evaluated: the error a user needs first (rather
/// than one about the capabilities the conditions want).
pub fn check(text: &str) -> Result<(), PolicyError> {
    parse_profile(text).map(|_| ())
}

/// The profile in `text`, or what is wrong with it, with the line and
/// column serde_json gives. Profiles are JSON, as Docker, runc and crun
/// read them; a profile written as YAML is told so.
fn parse_profile(text: &str) -> Result<Profile, PolicyError> {
    serde_json::from_str(text).map_err(|e| {
        let yaml = !text.trim_start().starts_with('{')
            && serde_norway::from_str::<serde_norway::Value>(text).is_ok();
        if yaml {
            PolicyError::ProfileNotJson(e.to_string())
        } else if e.is_syntax() || e.is_eof() {
            PolicyError::ProfileSyntax(e.to_string())
        } else {
            PolicyError::ProfileShape(e.to_string())
        }
    })
}

/// The ia32 multiplexer that also reaches a socket or SysV IPC call, and
/// the call's number there (`SYS_*` of linux/net.h, `SEMOP`... of
/// linux/ipc.h).
fn multiplexed(name: &str) -> Option<(&'static str, u64)> {
    const SOCKETCALL: [&str; 20] = [
        "socket",
        "bind",
        "connect",
        "listen",
        "accept",
        "getsockname",
        "getpeername",
        "socketpair",
        "send",
        "recv",
        "sendto",
        "recvfrom",
        "shutdown",
        "setsockopt",
        "getsockopt",
        "sendmsg",
        "recvmsg",
        "accept4",
        "recvmmsg",
        "sendmmsg",
    ];
    const IPC: [(&str, u64); 12] = [
        ("semop", 1),
        ("semget", 2),
        ("semctl", 3),
        ("semtimedop", 4),
        ("msgsnd", 11),
        ("msgrcv", 12),
        ("msgget", 13),
        ("msgctl", 14),
        ("shmat", 21),
        ("shmdt", 22),
        ("shmget", 23),
        ("shmctl", 24),
    ];
    if let Some(i) = SOCKETCALL.iter().position(|n| *n == name) {
        return Some(("socketcall", i as u64 + 1));
    }
    IPC.iter()
        .find(|(n, _)| *n == name)
        .map(|(_, c)| ("ipc", *c))
}

/// Whether a profile has rules that depend on capabilities (a profile
/// that does not parse is treated as if it had: `import` reports why).
pub fn depends_on_caps(text: &str) -> bool {
    serde_json::from_str::<Profile>(text).map_or(true, |p| {
        p.syscalls.iter().any(|s| {
            [&s.includes, &s.excludes]
                .iter()
                .any(|f| f.as_ref().is_some_and(|f| !f.caps.is_empty()))
        })
    })
}

fn action(
    what: &str,
    name: &str,
    errno: Option<u32>,
) -> Result<(ActionName, Option<u16>), PolicyError> {
    let errno16 = |e: u32| -> Result<u16, PolicyError> {
        u16::try_from(e)
            .ok()
            .filter(|e| *e <= 4095)
            .ok_or_else(|| PolicyError::ErrnoRet {
                what: what.into(),
                errno: e,
            })
    };
    Ok(match name {
        "SCMP_ACT_ALLOW" => (ActionName::Allow, None),
        "SCMP_ACT_LOG" => (ActionName::Log, None),
        // libseccomp and runc: ERRNO without errnoRet is EPERM.
        "SCMP_ACT_ERRNO" => (ActionName::Errno, Some(errno16(errno.unwrap_or(1))?)),
        "SCMP_ACT_TRAP" => (ActionName::Trap, None),
        // SCMP_ACT_KILL is libseccomp's name for KILL_THREAD.
        "SCMP_ACT_KILL" | "SCMP_ACT_KILL_THREAD" => (ActionName::KillThread, None),
        "SCMP_ACT_KILL_PROCESS" => (ActionName::KillProcess, None),
        "SCMP_ACT_NOTIFY" | "SCMP_ACT_TRACE" => {
            return Err(PolicyError::UnsupportedAction {
                what: what.into(),
                action: name.into(),
            })
        }
        other => {
            return Err(PolicyError::UnknownAction {
                what: what.into(),
                action: other.into(),
            })
        }
    })
}

fn op(what: &str, name: &str) -> Result<OpName, PolicyError> {
    Ok(match name {
        "SCMP_CMP_NE" => OpName::Ne,
        "SCMP_CMP_LT" => OpName::Lt,
        "SCMP_CMP_LE" => OpName::Le,
        "SCMP_CMP_EQ" => OpName::Eq,
        "SCMP_CMP_GE" => OpName::Ge,
        "SCMP_CMP_GT" => OpName::Gt,
        "SCMP_CMP_MASKED_EQ" => OpName::MaskedEq,
        other => {
            return Err(PolicyError::UnknownOp {
                what: what.into(),
                op: other.into(),
            })
        }
    })
}

fn arch(name: &str) -> Option<AbiName> {
    match name {
        "SCMP_ARCH_X86_64" => Some(AbiName::X86_64),
        "SCMP_ARCH_X86" => Some(AbiName::Ia32),
        "SCMP_ARCH_X32" => Some(AbiName::X32),
        "SCMP_ARCH_AARCH64" => Some(AbiName::Aarch64),
        "SCMP_ARCH_ARM" => Some(AbiName::Arm),
        _ => None,
    }
}

/// Compares kernel releases by their leading numbers ("6.12.117-amd64" is
/// 6.12.117): whether `running` >= `min`.
fn kernel_at_least(running: &str, min: &str) -> bool {
    let nums = |s: &str| -> Vec<u64> {
        s.split(|c: char| !c.is_ascii_digit() && c != '.')
            .next()
            .unwrap_or("")
            .split('.')
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let (r, m) = (nums(running), nums(min));
    for i in 0..r.len().max(m.len()) {
        let (a, b) = (
            r.get(i).copied().unwrap_or(0),
            m.get(i).copied().unwrap_or(0),
        );
        if a != b {
            return a > b;
        }
    }
    true
}

/// Why a rule's Docker conditions leave it out, if they do.
fn excluded(s: &Syscall, ctx: &Context) -> Option<String> {
    if let Some(inc) = &s.includes {
        if let Some(c) = inc.caps.iter().find(|c| !ctx.caps.contains(*c)) {
            return Some(format!("needs {c}"));
        }
        if !inc.arches.is_empty() && !inc.arches.iter().any(|a| a == native_goarch()) {
            return Some(format!("only for {}", inc.arches.join(", ")));
        }
        if let Some(k) = &inc.min_kernel {
            if !kernel_at_least(&ctx.kernel, k) {
                return Some(format!("needs kernel {k} (running {})", ctx.kernel));
            }
        }
    }
    if let Some(exc) = &s.excludes {
        if let Some(c) = exc.caps.iter().find(|c| ctx.caps.contains(*c)) {
            return Some(format!("not with {c}"));
        }
        if exc.arches.iter().any(|a| a == native_goarch()) {
            return Some(format!("not for {}", native_goarch()));
        }
        if let Some(k) = &exc.min_kernel {
            if kernel_at_least(&ctx.kernel, k) {
                return Some(format!("not from kernel {k} on"));
            }
        }
    }
    None
}

/// Turns a profile into the native policy: what sysfence cannot honour
/// refused ([`refuse_unsupported`]), its ABIs ([`profile_abis`]), each rule
/// translated ([`Translation::add`]), then the ia32 multiplexers' twins
/// ([`Translation::add_multiplexer_twins`]).
pub fn import(text: &str, ctx: &Context) -> Result<Imported, PolicyError> {
    let p = parse_profile(text)?;
    refuse_unsupported(&p)?;
    let (default, default_errno) = action("defaultAction", &p.default_action, p.default_errno_ret)?;
    let abis = profile_abis(&p);
    let mut t = Translation::default();
    for (i, s) in p.syscalls.iter().enumerate() {
        t.add(i, s, ctx, &abis)?;
    }
    t.add_multiplexer_twins();
    Ok(Imported {
        policy: PolicyFile {
            default,
            default_errno,
            abis,
            bad_abi: None,
            record: false,
            rules: t.rules,
            objects: Default::default(),
        },
        unknown: t.unknown,
        skipped: t.skipped,
        origins: t.origins,
    })
}

/// Refuses what a profile asks that sysfence cannot honour: a user-space
/// notification listener, unknown filter flags.
fn refuse_unsupported(p: &Profile) -> Result<(), PolicyError> {
    if p.listener_path.is_some() {
        return Err(PolicyError::invalid(
            "listenerPath",
            "user-space notification (SCMP_ACT_NOTIFY) cannot be honoured by sysfence",
        ));
    }
    for f in &p.flags {
        match f.as_str() {
            // All threads are always covered (the policy is on the cgroup);
            // non-allow decisions are always reported as events.
            "SECCOMP_FILTER_FLAG_TSYNC"
            | "SECCOMP_FILTER_FLAG_LOG"
            | "SECCOMP_FILTER_FLAG_SPEC_ALLOW" => {}
            other => {
                return Err(PolicyError::invalid(
                    "flags",
                    format!("unknown flag {other}"),
                ))
            }
        }
    }
    Ok(())
}

/// The ABIs a profile describes: the target's native one always, plus
/// those of its family listed (or mapped).
fn profile_abis(p: &Profile) -> Vec<AbiName> {
    let family = crate::policy::target::arch();
    let mut abis = vec![AbiName::from(crate::policy::target::native_abi())];
    let listed: Vec<String> = if !p.architectures.is_empty() {
        p.architectures.clone()
    } else {
        p.arch_map
            .iter()
            .filter(|m| m.architecture == native_scmp_arch())
            .flat_map(|m| {
                std::iter::once(m.architecture.clone()).chain(m.sub_architectures.iter().cloned())
            })
            .collect()
    };
    let mine = |a: &AbiName| Abi::from(*a).arch() == family;
    for a in listed.iter().filter_map(|a| arch(a)).filter(mine) {
        if !abis.contains(&a) {
            abis.push(a);
        }
    }
    abis
}

/// The comparisons of a profile's rule `what`.
fn args_of(what: &str, s: &Syscall) -> Result<Vec<ArgSpec>, PolicyError> {
    let mut args = Vec::new();
    for (j, a) in s.args.iter().enumerate() {
        let o = op(&format!("{what}.args[{j}]"), &a.op)?;
        let index = u8::try_from(a.index)
            .ok()
            .filter(|i| *i <= 5)
            .ok_or_else(|| PolicyError::ArgIndex {
                what: what.into(),
                arg: j,
                index: a.index.into(),
            })?;
        args.push(ArgSpec {
            index,
            op: o,
            value: a.value,
            value_two: (o == OpName::MaskedEq).then_some(a.value_two),
        });
    }
    Ok(args)
}

/// A profile's rules as they are translated.
#[derive(Default)]
struct Translation {
    rules: Vec<RuleSpec>,
    /// Names no ABI of the policy knows.
    unknown: Vec<String>,
    /// Rules Docker's conditions leave out, and why.
    skipped: Vec<String>,
    /// Calls ia32 also reaches through a multiplexer: (rule, name,
    /// action, errno).
    derived: Vec<(String, String, ActionName, Option<u16>)>,
    /// For each rule, the profile's rule it comes from.
    origins: Vec<String>,
}

impl Translation {
    /// Translates the profile's rule `i`.
    fn add(
        &mut self,
        i: usize,
        s: &Syscall,
        ctx: &Context,
        abis: &[AbiName],
    ) -> Result<(), PolicyError> {
        let what = format!("syscalls[{i}]");
        let (act, errno) = action(&what, &s.action, s.errno_ret)?;
        if let Some(why) = excluded(s, ctx) {
            self.skipped
                .push(format!("{what} ({}): {why}", names_of(s).join(", ")));
            return Ok(());
        }
        let args = args_of(&what, s)?;
        let mut known = Vec::new();
        for n in names_of(s) {
            let anywhere = abis
                .iter()
                .any(|a| crate::policy::syscall_names::number((*a).into(), &n).is_some());
            let multiplexed = abis.contains(&AbiName::Ia32) && multiplexed(&n).is_some();
            if multiplexed {
                self.derived.push((what.clone(), n.clone(), act, errno));
            }
            if multiplexed && !anywhere {
                // `send` and `recv` exist on ia32 only through socketcall.
                continue;
            }
            if anywhere {
                known.push(n);
            } else if !self.unknown.contains(&n) {
                self.unknown.push(n);
            }
        }
        if known.is_empty() {
            return Ok(());
        }
        // runc: comparisons of one argument twice are separate rules (OR).
        let repeated = (0..6u8).any(|x| args.iter().filter(|a| a.index == x).count() > 1);
        let groups: Vec<Vec<ArgSpec>> = if repeated {
            args.into_iter().map(|a| vec![a]).collect()
        } else {
            vec![args]
        };
        let known: Arc<[String]> = known.into();
        for g in groups {
            self.origins.push(what.clone());
            self.rules.push(RuleSpec {
                syscalls: known.clone(),
                action: act,
                errno,
                args: g,
                abis: None,
            });
        }
        Ok(())
    }

    /// ia32 also reaches socket and SysV IPC calls through the socketcall
    /// and ipc multiplexers, with the call's number in the first argument
    /// and its arguments in memory. libseccomp (so runc, crun, Docker and
    /// containerd) gives each rule on such a call a twin on the multiplexer
    /// with that number, the same action and no argument comparisons,
    /// unless the profile has a rule of its own for the multiplexer, which
    /// then decides alone. The same here, so a profile means what it means
    /// under seccomp.
    fn add_multiplexer_twins(&mut self) {
        for (what, n, act, errno) in std::mem::take(&mut self.derived) {
            let Some((mux, call)) = multiplexed(&n) else {
                continue;
            };
            let own_rule = self
                .rules
                .iter()
                .any(|r: &RuleSpec| r.args.is_empty() && r.syscalls.iter().any(|x| x == mux));
            if own_rule {
                continue;
            }
            self.origins.push(format!(
                "{what} (its ia32 {mux} form, arg0 == {call}, for {n})"
            ));
            self.rules.push(RuleSpec {
                syscalls: [mux.to_string()].into(),
                action: act,
                errno,
                args: vec![ArgSpec {
                    index: 0,
                    op: OpName::Eq,
                    value: call,
                    value_two: None,
                }],
                abis: Some(vec![AbiName::Ia32]),
            });
        }
    }
}

fn names_of(s: &Syscall) -> Vec<String> {
    s.names
        .iter()
        .cloned()
        .chain(s.name.iter().cloned())
        .collect()
}

/// Writes a native policy as an OCI profile (what `policy export` prints).
pub fn export(p: &PolicyFile) -> Profile {
    let act = |a: ActionName| -> &'static str {
        match a {
            ActionName::Allow => "SCMP_ACT_ALLOW",
            ActionName::Log => "SCMP_ACT_LOG",
            ActionName::Errno => "SCMP_ACT_ERRNO",
            ActionName::Trap => "SCMP_ACT_TRAP",
            ActionName::KillThread => "SCMP_ACT_KILL_THREAD",
            ActionName::KillProcess => "SCMP_ACT_KILL_PROCESS",
        }
    };
    let arch_name = |a: &AbiName| match a {
        AbiName::X86_64 => "SCMP_ARCH_X86_64",
        AbiName::Ia32 => "SCMP_ARCH_X86",
        AbiName::X32 => "SCMP_ARCH_X32",
        AbiName::Aarch64 => "SCMP_ARCH_AARCH64",
        AbiName::Arm => "SCMP_ARCH_ARM",
    };
    let op_name = |o: OpName| match o {
        OpName::Ne => "SCMP_CMP_NE",
        OpName::Lt => "SCMP_CMP_LT",
        OpName::Le => "SCMP_CMP_LE",
        OpName::Eq => "SCMP_CMP_EQ",
        OpName::Ge => "SCMP_CMP_GE",
        OpName::Gt => "SCMP_CMP_GT",
        OpName::MaskedEq => "SCMP_CMP_MASKED_EQ",
    };
    // OCI rules have no ABI of their own: the kernel's per-ABI rules (and
    // a native file's) are merged back into one entry per (action, errno,
    // comparisons), names in first-seen order, as Docker writes profiles.
    let mut syscalls: Vec<Syscall> = Vec::new();
    for r in &p.rules {
        let args: Vec<Arg> = r
            .args
            .iter()
            .map(|a| Arg {
                index: u32::from(a.index),
                value: a.value,
                value_two: a.value_two.unwrap_or(0),
                op: op_name(a.op).into(),
            })
            .collect();
        let action = act(r.action).to_string();
        let errno_ret = (r.action == ActionName::Errno).then(|| u32::from(r.errno.unwrap_or(1)));
        let same = |s: &Syscall| {
            s.action == action
                && s.errno_ret == errno_ret
                && s.args.len() == args.len()
                && s.args.iter().zip(&args).all(|(x, y)| {
                    (x.index, x.value, x.value_two, &x.op) == (y.index, y.value, y.value_two, &y.op)
                })
        };
        let entry = match syscalls.iter_mut().position(|s| same(s)) {
            Some(i) => &mut syscalls[i],
            None => {
                syscalls.push(Syscall {
                    action,
                    errno_ret,
                    args,
                    ..Syscall::default()
                });
                let last = syscalls.len() - 1;
                &mut syscalls[last]
            }
        };
        for n in r.syscalls.iter() {
            if !entry.names.contains(n) {
                entry.names.push(n.clone());
            }
        }
    }
    Profile {
        default_action: act(p.default).into(),
        default_errno_ret: (p.default == ActionName::Errno)
            .then(|| u32::from(p.default_errno.unwrap_or(1))),
        architectures: p.abis.iter().map(|a| arch_name(a).to_string()).collect(),
        syscalls,
        ..Profile::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysfence_abi::proto::{action as act, Abi};

    const DOCKER: &str = include_str!("../../../tests/fixtures/docker-default.json");

    fn ctx(caps: &[&str]) -> Context {
        Context {
            caps: caps.iter().map(|c| c.to_string()).collect(),
            kernel: "6.12.117".into(),
        }
    }

    /// Docker's default capability set.
    const DOCKER_CAPS: &[&str] = &[
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_FSETID",
        "CAP_FOWNER",
        "CAP_MKNOD",
        "CAP_NET_RAW",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETFCAP",
        "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT",
        "CAP_KILL",
        "CAP_AUDIT_WRITE",
    ];

    /// Decides one call with the shared engine, through the wire encoding.
    fn decide(p: &PolicyFile, abi: Abi, name: &str, args: [u64; 6]) -> u32 {
        let nr = crate::policy::syscall_names::number(abi, name).expect(name);
        crate::policy::native::decide_with(p, abi, nr, args)
    }

    #[test]
    fn docker_default_for_arm64_describes_aarch64_and_arm() {
        use crate::policy::target;
        let im = target::with(Arch::Arm64, || import(DOCKER, &ctx(DOCKER_CAPS)))
            .expect("the Docker profile imports for arm64");
        let p = &im.policy;
        // archMap's SCMP_ARCH_AARCH64 entry and its subArchitectures.
        assert_eq!(p.abis, vec![AbiName::Aarch64, AbiName::Arm]);
        // The names of no arm64 ABI are reported and left out (OABI-only
        // calls such as socketcall and ipc are on neither); ARM's private
        // calls (0x0f0000 + n) are arm's, as proto::arm_fold numbers them.
        for n in ["socketcall", "ipc"] {
            assert!(im.unknown.iter().any(|u| u == n), "{n}: {:?}", im.unknown);
        }
        for n in [
            "open",
            "arm_fadvise64_64",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ] {
            assert!(!im.unknown.iter().any(|u| u == n), "{n}: {:?}", im.unknown);
        }
        assert!(
            im.skipped.iter().any(|s| s.contains("arch_prctl")),
            "amd64-only rules are left out: {:?}",
            im.skipped
        );
        let wire = target::with(Arch::Arm64, || p.to_wire()).expect("encodes for arm64");
        assert!(
            p.to_wire().is_err() || target::host() == Arch::Arm64,
            "an x86 kernel refuses it"
        );
        let d = |abi, name, args| target::with(Arch::Arm64, || decide(p, abi, name, args));
        let eperm = act::ERRNO | 1;
        for abi in [Abi::Aarch64, Abi::Arm] {
            assert_eq!(d(abi, "getppid", [0; 6]), act::ALLOW, "{abi:?}");
            assert_eq!(d(abi, "socket", [2, 1, 0, 0, 0, 0]), act::ALLOW);
            assert_eq!(
                d(abi, "socket", [40, 1, 0, 0, 0, 0]),
                eperm,
                "{abi:?} AF_VSOCK"
            );
            assert_eq!(d(abi, "socket", [40 | 1 << 32, 1, 0, 0, 0, 0]), eperm);
            assert_eq!(d(abi, "personality", [0; 6]), act::ALLOW);
            assert_eq!(d(abi, "personality", [8, 0, 0, 0, 0, 0]), act::ALLOW);
            assert_eq!(
                d(abi, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
                act::ALLOW
            );
            assert_eq!(d(abi, "personality", [1, 0, 0, 0, 0, 0]), eperm);
            assert_eq!(d(abi, "mount", [0; 6]), eperm);
            assert_eq!(
                d(abi, "clone", [0x11, 0, 0, 0, 0, 0]),
                act::ALLOW,
                "{abi:?}"
            );
            assert_eq!(
                d(abi, "clone", [0x2000_0011, 0, 0, 0, 0, 0]),
                eperm,
                "CLONE_NEWUSER"
            );
            assert_eq!(
                d(abi, "clone3", [0; 6]),
                act::ERRNO | 38,
                "clone3 is ENOSYS"
            );
            assert_eq!(d(abi, "reboot", [0; 6]), eperm);
            if abi == Abi::Arm {
                // Docker allows them on arm and arm64; AArch32 libcs set
                // their thread pointer with set_tls.
                assert_eq!(d(abi, "set_tls", [0; 6]), act::ALLOW, "set_tls");
                assert_eq!(d(abi, "cacheflush", [0; 6]), act::ALLOW);
            }
        }
        // The arm-only rule of Docker's profile.
        assert_eq!(d(Abi::Arm, "arm_fadvise64_64", [0; 6]), act::ALLOW);
        assert_eq!(d(Abi::Arm, "open", [0; 6]), act::ALLOW);
        assert!(!wire.is_empty());
    }

    #[test]
    fn docker_default_imports_unchanged() {
        let im = import(DOCKER, &ctx(DOCKER_CAPS)).expect("the Docker profile imports");
        let p = &im.policy;
        assert_eq!(p.abis, vec![AbiName::X86_64, AbiName::Ia32, AbiName::X32]);
        assert!(p.to_wire().is_ok());
        let eperm = act::ERRNO | 1;
        let x = Abi::X86_64;
        assert_eq!(decide(p, x, "getppid", [0; 6]), act::ALLOW);
        assert_eq!(decide(p, x, "socket", [2, 1, 0, 0, 0, 0]), act::ALLOW);
        assert_eq!(
            decide(p, x, "socket", [40, 1, 0, 0, 0, 0]),
            eperm,
            "AF_VSOCK"
        );
        assert_eq!(decide(p, x, "personality", [0; 6]), act::ALLOW);
        assert_eq!(
            decide(p, x, "personality", [0xffff_ffff, 0, 0, 0, 0, 0]),
            act::ALLOW
        );
        assert_eq!(decide(p, x, "personality", [1, 0, 0, 0, 0, 0]), eperm);
        // personality's argument is an unsigned int: a 64-bit -1 is the
        // kernel's 0xffffffff, which the profile allows (seccomp, comparing
        // 64 bits, refuses it; docs/ABI.md, argument widths).
        assert_eq!(decide(p, x, "personality", [u64::MAX; 6]), act::ALLOW);
        assert_eq!(
            decide(p, x, "personality", [0x1_0000_0008, 0, 0, 0, 0, 0]),
            act::ALLOW
        );
        assert_eq!(
            decide(p, x, "socket", [40 | 1 << 32, 1, 0, 0, 0, 0]),
            eperm,
            "AF_VSOCK with high bits"
        );
        assert!(p.warnings().is_empty(), "{:?}", p.warnings());
        assert_eq!(decide(p, x, "mount", [0; 6]), eperm);
        assert_eq!(
            decide(p, x, "clone", [0x11, 0, 0, 0, 0, 0]),
            act::ALLOW,
            "fork-like clone"
        );
        assert_eq!(
            decide(p, x, "clone", [0x2000_0000 | 0x11, 0, 0, 0, 0, 0]),
            eperm,
            "CLONE_NEWUSER"
        );
        assert_eq!(
            decide(p, x, "clone3", [0; 6]),
            act::ERRNO | 38,
            "clone3 is ENOSYS"
        );
        assert_eq!(
            decide(p, x, "chroot", [0; 6]),
            act::ALLOW,
            "CAP_SYS_CHROOT is Docker's"
        );
        assert_eq!(decide(p, x, "reboot", [0; 6]), eperm);
        assert_eq!(
            decide(p, x, "arch_prctl", [0; 6]),
            act::ALLOW,
            "amd64-only rule kept"
        );
        assert_eq!(decide(p, Abi::Ia32, "getpid", [0; 6]), act::ALLOW);
        assert_eq!(decide(p, Abi::Ia32, "mount", [0; 6]), eperm);
        // Conditions that left rules out are reported, not hidden.
        assert!(
            im.skipped.iter().any(|s| s.contains("needs CAP_SYS_ADMIN")),
            "{:?}",
            im.skipped
        );
        assert!(im.skipped.iter().any(|s| s.contains("only for ppc64le")));
    }

    #[test]
    fn capabilities_change_the_docker_profile() {
        let mut caps = DOCKER_CAPS.to_vec();
        caps.push("CAP_SYS_ADMIN");
        let p = import(DOCKER, &ctx(&caps)).unwrap().policy;
        let x = Abi::X86_64;
        assert_eq!(decide(&p, x, "mount", [0; 6]), act::ALLOW);
        assert_eq!(
            decide(&p, x, "clone", [0x2000_0011, 0, 0, 0, 0, 0]),
            act::ALLOW
        );
        assert_eq!(decide(&p, x, "clone3", [0; 6]), act::ALLOW);
        let p = import(DOCKER, &ctx(&[])).unwrap().policy;
        assert_eq!(
            decide(&p, x, "chroot", [0; 6]),
            act::ERRNO | 1,
            "no CAP_SYS_CHROOT"
        );
    }

    #[test]
    fn min_kernel_is_checked() {
        let old = Context {
            kernel: "4.4.0-generic".into(),
            ..ctx(DOCKER_CAPS)
        };
        let p = import(DOCKER, &old).unwrap().policy;
        assert_eq!(decide(&p, Abi::X86_64, "ptrace", [0; 6]), act::ERRNO | 1);
        let p = import(DOCKER, &ctx(DOCKER_CAPS)).unwrap().policy;
        assert_eq!(decide(&p, Abi::X86_64, "ptrace", [0; 6]), act::ALLOW);
        assert!(kernel_at_least("6.12.117-1", "4.8"));
        assert!(!kernel_at_least("4.7.9", "4.8"));
        assert!(kernel_at_least("4.8", "4.8.0"));
    }

    #[test]
    fn unknown_names_are_reported_and_unsupported_actions_refused() {
        let t = r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[
            {"names":["getppid","no_such_call"],"action":"SCMP_ACT_ERRNO","errnoRet":13}]}"#;
        let im = import(t, &ctx(&[])).unwrap();
        assert_eq!(im.unknown, vec!["no_such_call".to_string()]);
        assert_eq!(
            decide(&im.policy, Abi::X86_64, "getppid", [0; 6]),
            act::ERRNO | 13
        );
        for a in ["SCMP_ACT_NOTIFY", "SCMP_ACT_TRACE"] {
            let t = format!(
                r#"{{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{{"names":["read"],"action":"{a}"}}]}}"#
            );
            let e = import(&t, &ctx(&[])).unwrap_err().to_string();
            assert!(e.contains("syscalls[0]") && e.contains(a), "{e}");
        }
        let e = import(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","flags":["WHATEVER"]}"#,
            &ctx(&[]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("WHATEVER"), "{e}");
        assert!(import(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","sycalls":[]}"#,
            &ctx(&[])
        )
        .is_err());
    }

    #[test]
    fn repeated_argument_index_becomes_alternatives() {
        let t = r#"{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["personality"],
            "action":"SCMP_ACT_ALLOW","args":[
              {"index":0,"value":0,"op":"SCMP_CMP_EQ"},{"index":0,"value":8,"op":"SCMP_CMP_EQ"}]}]}"#;
        let p = import(t, &ctx(&[])).unwrap().policy;
        assert_eq!(p.rules.len(), 2);
        assert_eq!(
            decide(&p, Abi::X86_64, "personality", [8, 0, 0, 0, 0, 0]),
            act::ALLOW
        );
        assert_eq!(decide(&p, Abi::X86_64, "personality", [0; 6]), act::ALLOW);
        assert_eq!(
            decide(&p, Abi::X86_64, "personality", [3, 0, 0, 0, 0, 0]),
            act::ERRNO | 1
        );
        // Without `architectures`/`archMap` only the native ABI is described.
        assert_eq!(
            decide(&p, Abi::Ia32, "personality", [0; 6]),
            act::KILL_PROCESS
        );
    }

    #[test]
    fn export_of_the_kernel_view_round_trips() {
        let p = import(DOCKER, &ctx(DOCKER_CAPS)).unwrap().policy;
        let wire = p.to_wire().unwrap();
        let live = crate::policy::native::from_payload(&wire).unwrap();
        let json = serde_json::to_string(&export(&live)).unwrap();
        let back = import(&json, &ctx(&[])).unwrap();
        assert!(back.unknown.is_empty(), "{:?}", back.unknown);
        assert_eq!(normalized(&back.policy), normalized(&p));
    }

    /// Every (ABI, syscall, action, comparisons) a policy decides by, in
    /// order of rule within each syscall: equal sets mean equal decisions.
    fn normalized(p: &PolicyFile) -> Vec<String> {
        let mut out = Vec::new();
        for abi in &p.abis {
            let a: Abi = (*abi).into();
            for r in &p.rules {
                if r.abis.as_ref().is_some_and(|l| !l.contains(abi)) {
                    continue;
                }
                for n in r.syscalls.iter() {
                    if let Some(nr) = crate::policy::syscall_names::number(a, n) {
                        out.push(format!(
                            "{:?} {nr:04} {:?} {:?} {:?}",
                            a, r.action, r.errno, r.args
                        ));
                    }
                }
            }
        }
        // Stable: rules of one syscall keep their relative order.
        out.sort_by(|x, y| x[..x.find(' ').unwrap() + 5].cmp(&y[..y.find(' ').unwrap() + 5]));
        out.insert(
            0,
            format!(
                "{:?} {:?} {:?} {:?}",
                p.default, p.default_errno, p.abis, p.bad_abi
            ),
        );
        out
    }

    #[test]
    fn export_round_trips_through_import() {
        let p = import(DOCKER, &ctx(DOCKER_CAPS)).unwrap().policy;
        let json = serde_json::to_string(&export(&p)).unwrap();
        assert_eq!(
            crate::policy::input::detect(&json),
            crate::policy::input::Format::SeccompProfile
        );
        let back = import(&json, &ctx(&[])).unwrap().policy;
        assert_eq!(normalized(&back), normalized(&p));
    }

    #[test]
    fn ia32_multiplexers_follow_libseccomp() {
        use crate::policy::native::decide_with;
        use sysfence_abi::proto::action;
        let socketcall = crate::policy::syscall_names::number(Abi::Ia32, "socketcall").unwrap();
        let ipc = crate::policy::syscall_names::number(Abi::Ia32, "ipc").unwrap();
        // A deny rule on socket (with an argument) and on shmget: their
        // multiplexed forms are denied whatever the arguments in memory.
        let deny = r#"{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],
            "syscalls":[{"names":["socket"],"action":"SCMP_ACT_ERRNO","errnoRet":97,"args":[{"index":0,"value":40,"op":"SCMP_CMP_EQ"}]},
                        {"names":["shmget","recv"],"action":"SCMP_ACT_KILL_PROCESS"}]}"#;
        let p = import(deny, &ctx(&[])).unwrap();
        assert!(
            p.unknown.is_empty(),
            "recv exists through socketcall: {:?}",
            p.unknown
        );
        let p = p.policy;
        let d = |nr, a0| decide_with(&p, Abi::Ia32, nr, [a0, 0, 0, 0, 0, 0]);
        assert_eq!(d(socketcall, 1), action::ERRNO | 97);
        assert_eq!(d(socketcall, 3), action::ALLOW, "connect is not named");
        assert_eq!(d(socketcall, 10), action::KILL_PROCESS, "recv");
        assert_eq!(d(ipc, 23), action::KILL_PROCESS, "shmget");
        assert_eq!(d(ipc, 21), action::ALLOW, "shmat is not named");
        // x86_64 has no multiplexer: nothing derived there.
        assert!(p
            .rules
            .iter()
            .all(|r| *r.syscalls != ["socketcall"] || r.abis == Some(vec![AbiName::Ia32])));
        // A profile's own rule on socketcall decides alone (Docker's
        // default allows socketcall outright).
        let own = deny.replace(
            r#"{"names":["shmget""#,
            r#"{"names":["socketcall"],"action":"SCMP_ACT_ERRNO","errnoRet":5},{"names":["shmget""#,
        );
        let p = import(&own, &ctx(&[])).unwrap().policy;
        let d = |nr, a0| decide_with(&p, Abi::Ia32, nr, [a0, 0, 0, 0, 0, 0]);
        assert_eq!(d(socketcall, 1), action::ERRNO | 5);
        assert_eq!(d(socketcall, 10), action::ERRNO | 5);
        // Without ia32 in the profile, nothing is derived.
        let x64 = deny.replace(r#","SCMP_ARCH_X86""#, "");
        let p = import(&x64, &ctx(&[])).unwrap();
        assert_eq!(p.unknown, vec!["recv".to_string()]);
        assert!(p
            .policy
            .rules
            .iter()
            .all(|r| *r.syscalls != ["socketcall"] && *r.syscalls != ["ipc"]));
    }
}
