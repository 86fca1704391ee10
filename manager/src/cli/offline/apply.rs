// SPDX-License-Identifier: GPL-2.0
//! `policy apply --dry-run`, with or without a target.

use super::{load, report, Compiled, Conditions, Context, Listing};
use super::{load_policy, Caps};
use crate::exit::{Code, Usage};
use crate::host::target::Target;
use crate::out::outln;
use crate::policy::native::PolicyFile;

/// The target `policy apply` needs when it is not a dry run.
pub fn need_target(t: Option<Target>) -> Result<Target, Usage> {
    t.ok_or_else(|| {
        Usage("policy apply: give the target (--cgroup, --pid or --container), or --dry-run to only check the file".into())
    })
}

/// `policy apply --dry-run`: checks and encodes the policy as `apply`
/// would, and compiles it as the module would. A target, when given, is
/// resolved (the root cgroup is refused) and a profile's capabilities are
/// read from a task in it, as for a real apply; without one, `--caps` or
/// Docker's default set.
pub fn dry_run(
    target: Option<Target>,
    file: &str,
    caps: Option<&str>,
    verbose: bool,
) -> Result<Code, crate::cli::Error> {
    let policy = match target {
        Some(t) => load_policy(
            file,
            &t.resolve_for_dry_run()?,
            Caps::flag(caps, Caps::OfTarget),
            verbose,
        )?,
        None => untargeted(file, caps, verbose)?,
    };
    let (wire, _) = Compiled::of_policy(&policy).map_err(|e| crate::cli::Error::policy(file, e))?;
    for w in policy.warnings() {
        eprintln!("sysfence: {file}: warning: {w}");
    }
    outln!("{file}: valid ({} bytes on the wire)", wire.len())?;
    Ok(Code::Ok)
}

/// The policy of `file` with no target to take capabilities from.
fn untargeted(
    file: &str,
    caps: Option<&str>,
    verbose: bool,
) -> Result<PolicyFile, crate::cli::Error> {
    let ctx = Context::new(&Conditions {
        caps: caps.map(str::to_string),
        kernel: None,
    })?;
    let l = load(file, &ctx)?;
    let how = if verbose {
        Listing::List
    } else {
        Listing::Count("--verbose lists them")
    };
    report(&l, how);
    Ok(l.policy)
}
