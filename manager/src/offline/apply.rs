// SPDX-License-Identifier: GPL-2.0
//! `policy apply --dry-run` without a target, and the optional target of
//! `apply` and `diff`.

use super::{load, report, Compiled, Conditions, Context, Listing};
use crate::commands::{self, Caps};
use crate::exit::{Code, Usage};
use crate::out::outln;
use crate::policy::PolicyFile;
use crate::target::Target;
use clap::Args;
use std::error::Error;

/// `--cgroup`, `--pid` or `--container` for a command that can do without
/// one (at most one of them).
#[derive(Args, Clone, Debug, Default)]
#[group(required = false, multiple = false)]
pub struct MaybeTarget {
    /// The cgroup: a path (absolute, or relative to /sys/fs/cgroup; or as
    /// in /proc/PID/cgroup, `/system.slice/x.scope`) or a cgroup id (the
    /// inode number of its directory).
    #[arg(long, value_name = "PATH|ID")]
    pub cgroup: Option<String>,
    /// The cgroup of this process.
    #[arg(long, value_name = "PID")]
    pub pid: Option<u32>,
    /// A container: its id, unique id prefix, or name (Docker, Podman).
    /// Ids of Docker, containerd, CRI-O and Podman containers;
    /// systemd-nspawn machines by machine name.
    #[arg(long, value_name = "ID|NAME")]
    pub container: Option<String>,
}

impl MaybeTarget {
    /// The target, if one was given.
    pub fn get(&self) -> Option<Target> {
        let given = self.cgroup.is_some() || self.pid.is_some() || self.container.is_some();
        given.then(|| Target {
            cgroup: self.cgroup.clone(),
            pid: self.pid,
            container: self.container.clone(),
        })
    }
}

/// The target `policy apply` needs when it is not a dry run.
pub fn need_target(t: &MaybeTarget) -> Result<Target, Usage> {
    t.get().ok_or_else(|| {
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
) -> Result<Code, Box<dyn Error>> {
    let policy = match target {
        Some(t) => commands::load_policy(
            file,
            &t.resolve_for_dry_run()?,
            Caps::flag(caps, Caps::OfTarget),
            verbose,
        )?,
        None => untargeted(file, caps, verbose)?,
    };
    let (wire, _) = Compiled::of_policy(&policy).map_err(|e| format!("{file}: {e}"))?;
    for w in policy.warnings() {
        eprintln!("sysfence: {file}: warning: {w}");
    }
    outln!("{file}: valid ({} bytes on the wire)", wire.len())?;
    Ok(Code::Ok)
}

/// The policy of `file` with no target to take capabilities from.
fn untargeted(file: &str, caps: Option<&str>, verbose: bool) -> Result<PolicyFile, Box<dyn Error>> {
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
