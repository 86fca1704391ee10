// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy check FILE...`: each file validated as the module
//! would validate it.

use super::{load, report_left_out, Compiled, Conditions, Context, Format, Loaded, COUNT};
use crate::exit::Code;
use crate::out::{outln, OutputError};
use clap::Args;
use serde::Serialize;

#[derive(Args)]
pub struct CheckArgs {
    /// The policy files (native, SyscallPolicy or seccomp profile; '-'
    /// for standard input).
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<String>,
    /// Fail on a profile's syscall names unknown on every ABI, and on its
    /// rules left out by their conditions (both are left out otherwise).
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub cond: Conditions,
    /// Print one JSON array, one object per file.
    #[arg(long)]
    pub json: bool,
}

/// The verdict on one file.
#[derive(Serialize, Debug)]
pub struct Checked {
    pub file: String,
    pub ok: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    /// ABIs the policy describes.
    pub abis: Vec<&'static str>,
    /// Rules as read (a profile's after its conditions).
    pub rules: usize,
    /// Size of the policy on the wire.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wire_bytes: Option<usize>,
    pub unknown: Vec<String>,
    pub skipped: Vec<String>,
    pub warnings: Vec<String>,
}

impl Checked {
    fn failed(file: &str, error: String) -> Checked {
        Checked {
            file: file.to_string(),
            ok: false,
            error: Some(error),
            format: None,
            abis: Vec::new(),
            rules: 0,
            wire_bytes: None,
            unknown: Vec::new(),
            skipped: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// Why `--strict` refuses a file that is otherwise valid, if it does.
fn strict_error(l: &Loaded) -> Option<String> {
    let mut why = Vec::new();
    if !l.unknown.is_empty() {
        why.push(format!(
            "{} syscall name(s) unknown on every ABI of this kernel: {}",
            l.unknown.len(),
            l.unknown.join(", ")
        ));
    }
    if !l.skipped.is_empty() {
        why.push(format!(
            "{} rule(s) left out by their conditions: {}",
            l.skipped.len(),
            l.skipped.join("; ")
        ));
    }
    (!why.is_empty()).then(|| format!("{}: --strict: {}", l.file, why.join("; and ")))
}

/// Checks one file: parse, encode, validate and compile.
pub fn check_one(file: &str, ctx: &Context, strict: bool) -> Checked {
    let l = match load(file, ctx) {
        Ok(l) => l,
        Err(e) => return Checked::failed(file, e.to_string()),
    };
    let wire = match Compiled::of_policy(&l.policy) {
        Ok((wire, _)) => wire,
        Err(e) => return Checked::failed(file, format!("{file}: {e}")),
    };
    let error = if strict { strict_error(&l) } else { None };
    Checked {
        file: file.to_string(),
        ok: error.is_none(),
        error,
        format: Some(l.format),
        abis: l
            .policy
            .abis
            .iter()
            .map(|a| sysfence_abi::proto::Abi::from(*a).name())
            .collect(),
        rules: l.policy.rules.len(),
        wire_bytes: Some(wire.len()),
        warnings: l.policy.warnings(),
        unknown: l.unknown,
        skipped: l.skipped,
    }
}

/// Prints one verdict as text: the ok line on stdout, the rest on stderr.
fn print(c: &Checked) -> Result<(), OutputError> {
    if let Some(e) = &c.error {
        eprintln!("sysfence: {e}");
        return Ok(());
    }
    outln!(
        "{}: ok ({}, {}, {} rule(s), {} bytes on the wire)",
        c.file,
        c.format.map_or("policy", Format::name),
        c.abis.join(" "),
        c.rules,
        c.wire_bytes.unwrap_or(0)
    )?;
    for w in &c.warnings {
        eprintln!("sysfence: {}: warning: {w}", c.file);
    }
    Ok(())
}

pub fn check(a: &CheckArgs) -> Result<Code, crate::cli::Error> {
    let ctx = Context::new(&a.cond)?;
    let mut all = Vec::new();
    for f in &a.files {
        let c = check_one(f, &ctx, a.strict);
        if !a.json {
            if c.ok {
                report_left_out(&c.file, &c.unknown, &c.skipped, COUNT);
            }
            print(&c)?;
        }
        all.push(c);
    }
    let failed = all.iter().filter(|c| !c.ok).count();
    if a.json {
        crate::out::json_line(&all)?;
    } else if failed > 0 {
        eprintln!("sysfence: {failed} of {} file(s) failed", all.len());
    }
    Ok(if failed == 0 { Code::Ok } else { Code::Error })
}
