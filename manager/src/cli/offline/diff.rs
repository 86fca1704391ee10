// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy diff`: a cgroup's live policy against a file, or a
//! file against a file, decision by decision.

use super::{canonical_lines, load, report, Conditions, Context, COUNT};
use super::{load_policy, Caps};
use crate::exit::{Code, Usage};
use crate::host::target::Target;
use crate::kernel::client::Client;
use clap::Args;

#[derive(Args)]
#[command(mut_group(crate::host::target::GROUP, crate::host::target::OPTIONAL))]
pub struct DiffArgs {
    #[command(flatten)]
    pub target: Option<Target>,
    /// With a target, the policy file; without one, two files, A and B
    /// (native, SyscallPolicy or seccomp profile; '-' for standard input).
    #[arg(value_name = "FILE", required = true, num_args = 1..=2)]
    pub files: Vec<String>,
    #[command(flatten)]
    pub cond: Conditions,
    /// Print one JSON object: {"only_live": [...], "only_file": [...]}, or
    /// for two files {"only_a": [...], "only_b": [...]}.
    #[arg(long)]
    pub json: bool,
}

pub fn diff(a: &DiffArgs) -> Result<Code, crate::cli::Error> {
    match (a.target.clone(), a.files.as_slice()) {
        (Some(_), _) if a.cond.kernel.is_some() => Err(Usage(
            "policy diff: --kernel is for two files; against a live policy, the running kernel's release is used".into(),
        )
        .into()),
        (Some(t), [file]) => live(&t, file, a.cond.caps.as_deref(), a.json),
        (None, [x, y]) => files(x, y, &a.cond, a.json),
        (Some(_), _) => Err(Usage("policy diff: with a target, give one file".into()).into()),
        (None, _) => Err(Usage(
            "policy diff: give two files, or a target (--cgroup, --pid or --container) and one file"
                .into(),
        )
        .into()),
    }
}

/// Prints the lines only in `old` (`- `) and only in `new` (`+ `), or
/// one JSON object under `keys`; whether there were none.
pub fn print(
    old: &[String],
    new: &[String],
    keys: [&str; 2],
    json: bool,
) -> Result<bool, crate::out::OutputError> {
    let only_old: Vec<&String> = old.iter().filter(|l| !new.contains(l)).collect();
    let only_new: Vec<&String> = new.iter().filter(|l| !old.contains(l)).collect();
    let text = if json {
        let mut m = serde_json::Map::new();
        m.insert(
            keys[0].into(),
            only_old.iter().map(|l| l.as_str()).collect(),
        );
        m.insert(
            keys[1].into(),
            only_new.iter().map(|l| l.as_str()).collect(),
        );
        format!("{}\n", serde_json::Value::Object(m))
    } else {
        let minus = only_old.iter().map(|l| format!("- {l}\n"));
        minus
            .chain(only_new.iter().map(|l| format!("+ {l}\n")))
            .collect()
    };
    crate::out::write_str(&text)?;
    Ok(only_old.is_empty() && only_new.is_empty())
}

/// The live policy of a target against a file.
fn live(t: &Target, file: &str, caps: Option<&str>, json: bool) -> Result<Code, crate::cli::Error> {
    let resolved = t.resolve()?;
    let id = resolved.id;
    let wire = Client::connect()?
        .get_policy(id)?
        .ok_or_else(|| format!("cgroup {id} has no policy"))?;
    let live = crate::policy::native::from_payload(&wire)?.decision_lines();
    let want = load_policy(file, &resolved, Caps::flag(caps, Caps::OfTarget), false)?;
    let want = canonical_lines(&want).map_err(|e| crate::cli::Error::policy(file, e))?;
    if print(&live, &want, ["only_live", "only_file"], json)? {
        eprintln!("sysfence: the live policy of cgroup {id} and {file} decide every call alike");
        Ok(Code::Ok)
    } else {
        Ok(Code::Differs)
    }
}

/// File `x` against file `y`.
fn files(x: &str, y: &str, cond: &Conditions, json: bool) -> Result<Code, crate::cli::Error> {
    let ctx = Context::new(cond)?;
    let mut lines = Vec::new();
    for f in [x, y] {
        let l = load(f, &ctx)?;
        report(&l, COUNT);
        lines.push(canonical_lines(&l.policy).map_err(|e| crate::cli::Error::policy(f, e))?);
    }
    if print(&lines[0], &lines[1], ["only_a", "only_b"], json)? {
        eprintln!("sysfence: {x} and {y} decide every call alike");
        Ok(Code::Ok)
    } else {
        Ok(Code::Differs)
    }
}
