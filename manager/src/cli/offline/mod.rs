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
use crate::policy::native::{action_name, action_text, PolicyError};
use crate::policy::oci;
use clap::Args;
use std::cell::Cell;
use std::collections::BTreeSet;
use sysfence_abi::proto::Op;

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
    pub fn new(c: &Conditions) -> Result<Context, crate::cli::Error> {
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

pub use crate::policy::compiled::{canonical_lines, is_uretprobe, Compiled};
pub use crate::policy::input::Format;
pub use crate::policy::load::{parse_with, Loaded};

/// The text of `file` ('-': standard input), at most
/// [`crate::policy::input::MAX_BYTES`].
fn read(file: &str) -> Result<String, crate::policy::input::ReadError> {
    crate::policy::input::read(file)
}

/// Reads and parses a policy file of any of the three formats; errors
/// name the file.
pub fn load(file: &str, ctx: &Context) -> Result<Loaded, crate::cli::Error> {
    let text = read(file)?;
    parse(file, &text, ctx).map_err(|e| crate::cli::Error::policy(file, e))
}

/// Parses `text`, the contents of `file`, a profile's conditions evaluated
/// in `ctx`.
pub fn parse(file: &str, text: &str, ctx: &Context) -> Result<Loaded, PolicyError> {
    parse_with(file, text, |text| Ok(ctx.oci(text)))
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
