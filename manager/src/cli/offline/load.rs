// SPDX-License-Identifier: GPL-2.0
//! Reading a policy file for a cgroup: what every command that sets a
//! policy does first (`policy apply` and `diff` with a target, `run`,
//! `oci-hook`, `bench`). A seccomp profile's capability conditions are
//! evaluated against the capabilities [`Caps`] says.

use super::{parse_with, report_left_out, Format, Listing};
use crate::host::caps;
use crate::host::target;
use crate::policy::native::{PolicyError, PolicyFile};
use crate::policy::{oci, resource};

/// Where a seccomp profile's capability conditions (`includes.caps`,
/// `excludes.caps`) take their capabilities from.
#[derive(Clone, Copy, Debug)]
pub enum Caps<'a> {
    /// `--caps LIST`: for a profile only; with another format, an error.
    Given(&'a str),
    /// A task of the target cgroup; with none there, an error when the
    /// profile's rules depend on capabilities.
    OfTarget,
    /// This process's effective set (`run`: the command inherits it).
    Own,
    /// This list for a profile, and nothing said for another format (the
    /// OCI hook: the container's bounding set).
    IfProfile(&'a str),
}

impl<'a> Caps<'a> {
    /// `--caps` when given, else `otherwise`.
    pub fn flag(given: Option<&'a str>, otherwise: Caps<'a>) -> Caps<'a> {
        given.map_or(otherwise, Caps::Given)
    }
}

/// The capabilities a profile's conditions are evaluated against, for the
/// cgroup `target`.
fn profile_caps(
    text: &str,
    target: &target::Resolved,
    caps: Caps<'_>,
) -> Result<std::collections::BTreeSet<String>, String> {
    let text_of = |e: caps::CapsError| e.to_string();
    match caps {
        Caps::Given(list) | Caps::IfProfile(list) => caps::parse_list(list).map_err(text_of),
        Caps::Own => caps::of_task(std::process::id()).map_err(text_of),
        Caps::OfTarget => match target::first_task(target).map_err(|e| e.to_string())? {
            Some(pid) => caps::of_task(pid).map_err(text_of),
            None if !oci::depends_on_caps(text) => Ok(Default::default()),
            None => {
                let why = if target.dir.is_some() {
                    "has no task"
                } else {
                    "is not on this host, so there is no task"
                };
                Err(format!(
                    "a seccomp profile's rules depend on capabilities, and cgroup {} {why} to read them from: give them with --caps (for Docker's defaults: --caps {})",
                    target.id,
                    caps::DOCKER_DEFAULT_CAPS
                ))
            }
        },
    }
}

/// Reads a policy file ('-': standard input) of any of the three formats
/// (see [`crate::policy::input::detect`]) for the cgroup `target`, whose tasks'
/// capabilities a profile may need; tells on stderr what a profile's
/// conditions left out and which of its names are unknown.
pub fn load_policy(
    file: &str,
    target: &target::Resolved,
    caps: Caps<'_>,
    verbose: bool,
) -> Result<PolicyFile, crate::cli::Error> {
    let text = crate::policy::input::read(file)?;
    let format = crate::policy::input::detect(&text);
    if matches!(caps, Caps::Given(_)) && format != Format::SeccompProfile {
        return Err(format!(
            "{file}: --caps only applies to seccomp profiles, and this is a {}",
            format.name()
        )
        .into());
    }
    let l = parse_with(file, &text, |text| {
        let caps = profile_caps(text, target, caps).map_err(PolicyError::Other)?;
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .map_err(|e| PolicyError::invalid("/proc/sys/kernel/osrelease", e.to_string()))?;
        Ok(oci::Context { caps, kernel })
    })
    .map_err(|e| crate::cli::Error::policy(file, e))?;
    let how = if verbose {
        Listing::List
    } else {
        Listing::Count("--verbose lists them")
    };
    report_left_out(file, &l.unknown, &l.skipped, how);
    if let Some(r) = &l.resource {
        if verbose && (r.selector.is_some() || !r.containers.is_empty()) {
            eprintln!("sysfence: {file}: spec.selector and spec.containers are for the node agent; applying to the target given");
        }
        if r.mode == resource::Mode::Shadow {
            // The agent sets it as a shadow; here `--shadow` says which.
            eprintln!("sysfence: {file}: spec.mode shadow is read by the node agent; `policy apply` sets the policy as written, as the shadow only with --shadow");
        }
    }
    Ok(l.policy)
}
