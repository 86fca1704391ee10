// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy convert FILE --to FORMAT`: a policy in another of the
//! three formats, checked to decide as the original does.

use super::{canonical_lines, load, parse, report, Compiled, Conditions, Context, Loaded, COUNT};
use crate::exit::{Code, Usage};
use crate::policy::native::ActionName;
use crate::policy::oci;
use crate::policy::resource::{Mode, SyscallPolicy};
use clap::{Args, ValueEnum};

/// `--to`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum To {
    /// A native policy file (YAML).
    Native,
    /// An OCI/Docker seccomp profile (JSON).
    Oci,
    /// A SyscallPolicy resource (YAML).
    Syscallpolicy,
}

#[derive(Args)]
pub struct ConvertArgs {
    /// The policy file (native, SyscallPolicy or seccomp profile; '-' for
    /// standard input).
    pub file: String,
    /// The format to write.
    #[arg(long, value_enum)]
    pub to: To,
    /// For syscallpolicy: metadata.name (default: the resource's own, or
    /// the file's name).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    #[command(flatten)]
    pub cond: Conditions,
}

/// A resource name made of a file's name (`web.yaml` -> `web`).
fn name_of_file(file: &str) -> String {
    let stem = std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    let name: String = stem
        .chars()
        .map(|c| c.to_ascii_lowercase())
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = name.trim_matches('-');
    if name.is_empty() {
        "policy".into()
    } else {
        name.into()
    }
}

/// The native form: the policy a resource enforces, a profile as imported.
fn native(l: &Loaded) -> Result<String, crate::cli::Error> {
    if let Some(r) = &l.resource {
        if r.selector.is_some() || !r.containers.is_empty() {
            eprintln!("sysfence: {}: spec.selector and spec.containers have no native form and are left out", l.file);
        }
        if r.mode == Mode::Audit {
            eprintln!(
                "sysfence: {}: audit mode: written as the policy it enforces, every refusal as log",
                l.file
            );
        }
    }
    Ok(serde_norway::to_string(&l.policy)?)
}

/// The OCI form, with a warning for what it cannot say.
fn oci_text(l: &Loaded) -> Result<String, crate::cli::Error> {
    let p = &l.policy;
    if !p.objects.is_empty() {
        eprintln!("sysfence: {}: the policy's object rules (files, exec, sockets) have no OCI form and are left out; --to syscallpolicy keeps them", l.file);
    }
    if p.bad_abi.is_some_and(|a| a != ActionName::KillProcess) {
        eprintln!("sysfence: {}: badAbi has no OCI form: a profile kills the calls of the ABIs it does not list", l.file);
    }
    if p.record {
        eprintln!(
            "sysfence: {}: record has no OCI form and is left out",
            l.file
        );
    }
    Ok(serde_json::to_string_pretty(&oci::export(p))? + "\n")
}

/// The resource form: a resource as it is (renamed with `--name`), any
/// other policy in enforce mode.
fn resource(l: &Loaded, name: Option<&str>) -> Result<String, crate::cli::Error> {
    let mut r = match &l.resource {
        Some(r) => r.clone(),
        None => SyscallPolicy::of_policy(&name_of_file(&l.file), l.policy.clone()),
    };
    if let Some(n) = name {
        r.metadata.name = n.to_string();
    }
    let text = r.to_yaml()?;
    // What is printed must read back.
    SyscallPolicy::parse(&text).map_err(|e| format!("metadata.name {}: {e}", r.metadata.name))?;
    Ok(text)
}

/// Warns when `text`, read back, does not decide as `l` does (object rules
/// aside for OCI, which was warned about).
fn check_same(l: &Loaded, text: &str, to: To, ctx: &Context) -> Result<(), crate::cli::Error> {
    let back = parse(&l.file, text, ctx).map_err(|e| format!("the converted policy: {e}"))?;
    let keep = |v: Vec<String>| -> Vec<String> {
        v.into_iter()
            .filter(|x| to != To::Oci || !x.starts_with("objects "))
            .collect()
    };
    let before = keep(canonical_lines(&l.policy)?);
    let after = keep(canonical_lines(&back.policy)?);
    let lost: Vec<&String> = before.iter().filter(|x| !after.contains(x)).collect();
    let added: Vec<&String> = after.iter().filter(|x| !before.contains(x)).collect();
    if lost.is_empty() && added.is_empty() {
        return Ok(());
    }
    eprintln!(
        "sysfence: {}: warning: the converted policy does not decide every call as the original (- original, + converted):",
        l.file
    );
    for x in lost {
        eprintln!("  - {x}");
    }
    for x in added {
        eprintln!("  + {x}");
    }
    Ok(())
}

pub fn convert(a: &ConvertArgs) -> Result<Code, crate::cli::Error> {
    if a.name.is_some() && a.to != To::Syscallpolicy {
        return Err(
            Usage("policy convert: --name only goes with --to syscallpolicy".into()).into(),
        );
    }
    let ctx = Context::new(&a.cond)?;
    let l = load(&a.file, &ctx)?;
    report(&l, COUNT);
    Compiled::of_policy(&l.policy).map_err(|e| crate::cli::Error::policy(&a.file, e))?;
    let text = match a.to {
        To::Native => native(&l)?,
        To::Oci => oci_text(&l)?,
        To::Syscallpolicy => resource(&l, a.name.as_deref())?,
    };
    check_same(&l, &text, a.to, &ctx)?;
    crate::out::write_str(&text)?;
    Ok(Code::Ok)
}
