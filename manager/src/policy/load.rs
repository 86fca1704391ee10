// SPDX-License-Identifier: GPL-2.0
//! Reading a policy file of any of the three formats (a native policy, an
//! OCI/Docker seccomp profile, a SyscallPolicy resource) into the policy it
//! enforces, with where each rule came from: what every command that reads
//! a policy file reads it with.

use crate::policy::input::Format;
use crate::policy::native::{PolicyError, PolicyFile};
use crate::policy::oci;
use crate::policy::resource::SyscallPolicy;

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
    parse_unshortened(file, text, oci).map_err(PolicyError::shortened)
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
