// SPDX-License-Identifier: GPL-2.0
//! Policy tools that need no kernel module: `sysfence policy check`,
//! `show`, `test`, `diff` of two files, `convert`, and `apply --dry-run`
//! without a target.
//!
//! They read the three formats `policy apply` reads (a native policy, an
//! OCI/Docker seccomp profile, a SyscallPolicy resource) and answer with
//! shared-abi's engine, the code the module runs: a policy is encoded to
//! the wire, validated and compiled into the tables the module would hold,
//! and every decision is read from those tables, so the answers are the
//! kernel's. Only "which rule of the file decided" comes from the manager's
//! own reading of the file. A seccomp profile's conditions are evaluated
//! against `--caps` (Docker's default set when the profile depends on
//! capabilities and none are given) and `--kernel` (the running kernel's
//! release, else [`FALLBACK_KERNEL`]).

mod apply;
mod call;
mod check;
mod convert;
mod diff;
mod load;
mod show;

pub use apply::{dry_run, need_target};
pub use call::{test, TestArgs};
pub use check::{check, CheckArgs};
pub use convert::{convert, ConvertArgs};
pub use diff::{diff, DiffArgs};
pub use load::{load_policy, Caps};
pub use show::{show, ShowArgs};

use crate::host::caps;
use crate::host::caps::DOCKER_DEFAULT_CAPS;
use crate::policy::native::{
    action_name, action_text, from_wire, policy_attr, PolicyError, PolicyFile,
};
use crate::policy::oci;
use crate::policy::resource::SyscallPolicy;
use clap::Args;
use std::cell::Cell;
use std::collections::BTreeSet;
use std::error::Error;
use sysfence_abi::engine::{self, Lookup, Tables};
use sysfence_abi::nla::{Iter, Writer};
use sysfence_abi::proto::{action, Abi, Op, X86_64_URETPROBE};

/// The kernel release a profile's `minKernel` is compared with when
/// `--kernel` is not given and the running kernel's cannot be read: the
/// kernel sysfence is built for.
pub const FALLBACK_KERNEL: &str = "6.12.0";

/// What a seccomp profile's conditions are evaluated against, offline.
#[derive(Args, Clone, Debug, Default)]
pub struct Conditions {
    /// For seccomp profiles: the capabilities to evaluate `includes` and
    /// `excludes` against, comma-separated (CAP_SYS_ADMIN,net_raw); an
    /// empty string means none. Default: Docker's default set.
    #[arg(long, value_name = "LIST")]
    pub caps: Option<String>,
    /// For seccomp profiles: the kernel release to compare `minKernel`
    /// with. Default: the running kernel's, else 6.12.0.
    #[arg(long, value_name = "RELEASE")]
    pub kernel: Option<String>,
}

/// The conditions of one command, and whether it has said on stderr
/// that Docker's capabilities stand in for missing `--caps` (once).
pub struct Context {
    caps: Option<BTreeSet<String>>,
    kernel: String,
    told: Cell<bool>,
}

/// The running kernel's release, or [`FALLBACK_KERNEL`].
fn running_kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| FALLBACK_KERNEL.to_string())
}

/// Docker's default capability set.
fn docker_caps() -> BTreeSet<String> {
    // A constant list of known names: parse_list accepts it (tested).
    caps::parse_list(DOCKER_DEFAULT_CAPS).unwrap_or_default()
}

impl Context {
    /// The context `--caps` and `--kernel` give.
    pub fn new(c: &Conditions) -> Result<Context, Box<dyn Error>> {
        Ok(Context {
            caps: c.caps.as_deref().map(caps::parse_list).transpose()?,
            kernel: c.kernel.clone().unwrap_or_else(running_kernel),
            told: Cell::new(false),
        })
    }

    /// The import context for the profile `text`.
    fn oci(&self, text: &str) -> oci::Context {
        let caps = match &self.caps {
            Some(c) => c.clone(),
            None => {
                if oci::depends_on_caps(text) && !self.told.replace(true) {
                    eprintln!("sysfence: no --caps given: the profile's capability conditions are evaluated against Docker's default set ({DOCKER_DEFAULT_CAPS})");
                }
                docker_caps()
            }
        };
        oci::Context {
            caps,
            kernel: self.kernel.clone(),
        }
    }
}

pub use crate::policy::input::Format;

/// A policy file as read: the policy it enforces and where each of its
/// rules is in the file.
pub struct Loaded {
    pub file: String,
    pub format: Format,
    /// The policy to enforce (a resource's after its `mode`).
    pub policy: PolicyFile,
    /// Where each rule of `policy` is in the file (`rules[2]`,
    /// `spec.rules[0]`, `syscalls[7]`), one per rule.
    pub origins: Vec<String>,
    /// A profile's syscall names unknown on every ABI (left out).
    pub unknown: Vec<String>,
    /// A profile's rules left out by their conditions, with why.
    pub skipped: Vec<String>,
    /// The resource, for a SyscallPolicy.
    pub resource: Option<SyscallPolicy>,
}

/// The text of `file` ('-': standard input), at most
/// [`crate::policy::input::MAX_BYTES`].
fn read(file: &str) -> Result<String, String> {
    crate::policy::input::read(file)
}

/// Reads and parses a policy file of any of the three formats; errors
/// name the file.
pub fn load(file: &str, ctx: &Context) -> Result<Loaded, String> {
    let text = read(file)?;
    parse(file, &text, ctx).map_err(|e| format!("{file}: {e}"))
}

/// Parses `text`, the contents of `file`, a profile's conditions evaluated
/// in `ctx`.
pub fn parse(file: &str, text: &str, ctx: &Context) -> Result<Loaded, PolicyError> {
    parse_with(file, text, |text| Ok(ctx.oci(text)))
}

/// Parses `text`, the contents of `file`, in the format its top-level keys
/// say ([`crate::policy::input::detect`]); `oci` gives a seccomp profile the
/// capabilities and kernel its conditions are evaluated against. Every
/// command that reads a policy file reads it here; errors repeat at most
/// [`crate::policy::input::MAX_ECHO`] characters of a value.
pub fn parse_with(
    file: &str,
    text: &str,
    oci: impl FnOnce(&str) -> Result<oci::Context, PolicyError>,
) -> Result<Loaded, PolicyError> {
    parse_unshortened(file, text, oci).map_err(|e| PolicyError(crate::policy::input::shorten(&e.0)))
}

fn parse_unshortened(
    file: &str,
    text: &str,
    oci: impl FnOnce(&str) -> Result<oci::Context, PolicyError>,
) -> Result<Loaded, PolicyError> {
    crate::policy::input::check_depth(text)?;
    let numbered = |prefix: &str, n: usize| (0..n).map(|i| format!("{prefix}[{i}]")).collect();
    let mut l = match crate::policy::input::detect(text) {
        Format::SeccompProfile => {
            oci::check(text)?;
            let im = oci::import(text, &oci(text)?)?;
            Loaded {
                file: String::new(),
                format: Format::SeccompProfile,
                policy: im.policy,
                origins: im.origins,
                unknown: im.unknown,
                skipped: im.skipped,
                resource: None,
            }
        }
        Format::SyscallPolicy => {
            let r = SyscallPolicy::parse(text)?;
            Loaded {
                file: String::new(),
                format: Format::SyscallPolicy,
                policy: r.effective(),
                origins: numbered("spec.rules", r.policy.rules.len()),
                unknown: Vec::new(),
                skipped: Vec::new(),
                resource: Some(r),
            }
        }
        Format::Native => {
            let p = PolicyFile::parse(text)?;
            Loaded {
                file: String::new(),
                format: Format::Native,
                origins: numbered("rules", p.rules.len()),
                policy: p,
                unknown: Vec::new(),
                skipped: Vec::new(),
                resource: None,
            }
        }
    };
    l.file = file.to_string();
    Ok(l)
}

/// How the rules a profile's conditions left out are reported: listed
/// (`apply --verbose`), or counted with a hint at what lists them.
#[derive(Clone, Copy, Debug)]
pub enum Listing {
    List,
    Count(&'static str),
}

/// What counts them in the offline tools.
pub const COUNT: Listing = Listing::Count("policy check --strict lists them");

/// Tells on stderr what a profile's import left out (as `policy apply`
/// does) and, when listing, what a resource's node-agent fields are.
pub fn report(l: &Loaded, how: Listing) {
    report_left_out(&l.file, &l.unknown, &l.skipped, how);
    let verbose = matches!(how, Listing::List);
    let agent_fields = l
        .resource
        .as_ref()
        .is_some_and(|r| r.selector.is_some() || !r.containers.is_empty());
    if verbose && agent_fields {
        eprintln!(
            "sysfence: {}: spec.selector and spec.containers are for the node agent",
            l.file
        );
    }
}

/// Tells on stderr which names of a profile are unknown and which rules
/// its conditions left out.
pub fn report_left_out(file: &str, unknown: &[String], skipped: &[String], how: Listing) {
    if !unknown.is_empty() {
        eprintln!(
            "sysfence: {file}: {} syscall name(s) unknown on every ABI of this kernel, left out: {}",
            unknown.len(),
            unknown.join(", ")
        );
    }
    if !skipped.is_empty() {
        let n = skipped.len();
        match how {
            Listing::List => {
                eprintln!("sysfence: {file}: {n} rule(s) left out by their conditions:");
                for s in skipped {
                    eprintln!("  {s}");
                }
            }
            Listing::Count(hint) => {
                eprintln!("sysfence: {file}: {n} rule(s) left out by their conditions ({hint})")
            }
        }
    }
}

/// A policy compiled by shared-abi's engine into the tables the module
/// would hold for it.
pub struct Compiled(sysfence_abi::owned::Compiled);

/// `payload` as a `POLICY` attribute.
fn nested(payload: &[u8]) -> Result<Vec<u8>, PolicyError> {
    policy_attr(payload)
        .ok_or_else(|| PolicyError("policy too large for one netlink attribute (64 KiB)".into()))
}

impl Compiled {
    /// Validates and compiles a `POLICY` payload, as the module does on
    /// `policy-set`.
    pub fn of_wire(payload: &[u8]) -> Result<Compiled, PolicyError> {
        let nest = nested(payload)?;
        let a = Iter::new(&nest)
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| PolicyError("internal encoding error".into()))?;
        sysfence_abi::owned::Compiled::new(&a, &mut Box::new(engine::Scratch::ZERO))
            .map(Compiled)
            .map_err(|e| PolicyError(format!("policy: {}", e.text())))
    }

    /// Encodes a policy file and compiles the encoding; returns both.
    pub fn of_policy(p: &PolicyFile) -> Result<(Vec<u8>, Compiled), PolicyError> {
        let wire = p.to_wire()?;
        let c = Compiled::of_wire(&wire)?;
        Ok((wire, c))
    }

    /// The compiled tables.
    pub fn tables(&self) -> Tables<'_> {
        self.0.tables()
    }

    /// Where the answer for `nr` of `abi` comes from, as the module's
    /// policy table (`kmod/store.rs`) looks it up: the tables, except for
    /// x86_64 uretprobe, which is never filtered.
    pub fn lookup(&self, abi: Abi, nr: u32) -> Lookup<'_> {
        if is_uretprobe(abi, nr) {
            return Lookup::Fixed(action::ALLOW);
        }
        self.tables().lookup(abi, nr)
    }

    /// The module's answer for one call.
    pub fn decide(&self, abi: Abi, nr: u32, args: &[u64; 6]) -> u32 {
        match self.lookup(abi, nr) {
            Lookup::Fixed(a) => a,
            Lookup::Rules(e) => self.tables().eval(e, args),
        }
    }

    /// Whether the policy describes `abi` (else `badAbi` decides).
    pub fn describes(&self, abi: Abi) -> bool {
        self.tables()
            .head
            .abis
            .get(abi.index())
            .is_some_and(|t| t.present)
    }

    /// The policy as the module reads it back (`policy get`): its
    /// canonical form.
    pub fn read_back(&self) -> Result<PolicyFile, PolicyError> {
        let t = self.tables();
        let mut buf = vec![0u8; t.encoded_len()];
        let mut w = Writer::new(&mut buf);
        t.encode(&mut w)
            .map_err(|_| PolicyError("internal error: the tables do not encode".into()))?;
        let n = w.len();
        buf.truncate(n);
        let nest = nested(&buf)?;
        let a = Iter::new(&nest)
            .next()
            .and_then(Result::ok)
            .ok_or_else(|| PolicyError("internal encoding error".into()))?;
        from_wire(&a)
    }
}

/// x86_64 uretprobe, which the module never filters (as seccomp).
fn is_uretprobe(abi: Abi, nr: u32) -> bool {
    abi == Abi::X86_64 && nr == X86_64_URETPROBE
}

/// The decisions of a policy, one line each, in the canonical form the
/// module reads policies back in: two policies decide every call alike
/// exactly when their lines are equal.
pub fn canonical_lines(p: &PolicyFile) -> Result<Vec<String>, PolicyError> {
    Ok(Compiled::of_policy(p)?.1.read_back()?.decision_lines())
}

/// An action value as text (`errno(13)`, `kill-process`).
pub fn act(v: u32) -> String {
    let (name, errno) = action_name(v);
    action_text(name, errno)
}

/// A comparison as text: `arg0 == 0x28`, `arg0 & 0xff == 0x10`.
pub fn cmp_text(index: u8, op: Op, value: u64, value_two: u64) -> String {
    let sym = match op {
        Op::Ne => "!=",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Eq => "==",
        Op::Ge => ">=",
        Op::Gt => ">",
        Op::MaskedEq => return format!("arg{index} & {value:#x} == {value_two:#x}"),
    };
    format!("arg{index} {sym} {value:#x}")
}

#[cfg(test)]
pub(crate) mod tests;
