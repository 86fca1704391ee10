// SPDX-License-Identifier: GPL-2.0
//! Linux capability sets: names (the `caps` crate's [`Capability`]), and
//! reading a task's from /proc. Sets are of names, as seccomp profiles'
//! conditions give them.

use caps::Capability;
use std::collections::BTreeSet;

/// Docker's default capability set, for messages.
pub const DOCKER_DEFAULT_CAPS: &str = "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE";

/// Why a capability list or a task's set cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum CapsError {
    #[error("--caps: unknown capability {0}")]
    Unknown(String),
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}: no CapEff line")]
    NoCapEff(String),
    #[error("{path}: CapEff: {source}")]
    CapEff {
        path: String,
        source: std::num::ParseIntError,
    },
}

/// The names in a capability bit mask (bits past the known ones ignored).
pub fn from_mask(mask: u64) -> BTreeSet<String> {
    caps::all()
        .into_iter()
        .filter(|c| mask & c.bitmask() != 0)
        .map(|c| c.to_string())
        .collect()
}

/// Parses a comma-separated list (`CAP_SYS_ADMIN,net_raw` or `sys_admin`);
/// unknown names are errors.
pub fn parse_list(s: &str) -> Result<BTreeSet<String>, CapsError> {
    let mut out = BTreeSet::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let up = item.to_ascii_uppercase();
        let name = if up.starts_with("CAP_") {
            up
        } else {
            format!("CAP_{up}")
        };
        let cap: Capability = name
            .parse()
            .map_err(|_| CapsError::Unknown(item.to_string()))?;
        out.insert(cap.to_string());
    }
    Ok(out)
}

/// A task's effective capability set, from `/proc/PID/status` (`CapEff`).
pub fn of_task(pid: u32) -> Result<BTreeSet<String>, CapsError> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|source| CapsError::Read {
        path: path.clone(),
        source,
    })?;
    let hex = text
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .ok_or_else(|| CapsError::NoCapEff(path.clone()))?;
    let mask =
        u64::from_str_radix(hex.trim(), 16).map_err(|source| CapsError::CapEff { path, source })?;
    Ok(from_mask(mask))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_and_lists() {
        let s = from_mask((1 << 21) | (1 << 18) | (1 << 63));
        assert_eq!(
            s.into_iter().collect::<Vec<_>>(),
            vec!["CAP_SYS_ADMIN", "CAP_SYS_CHROOT"]
        );
        let l = parse_list("sys_admin, CAP_NET_RAW").unwrap();
        assert!(l.contains("CAP_SYS_ADMIN") && l.contains("CAP_NET_RAW"));
        assert!(parse_list("cap_flying")
            .unwrap_err()
            .to_string()
            .contains("cap_flying"));
        assert_eq!(from_mask(0).len(), 0);
        // Every capability up to CAP_CHECKPOINT_RESTORE (40) has its name.
        assert_eq!(from_mask(u64::MAX).len(), 41);
        assert!(from_mask(1 << 40).contains("CAP_CHECKPOINT_RESTORE"));
    }

    #[test]
    fn reads_its_own_status() {
        // Whatever we hold, the line parses.
        assert!(of_task(std::process::id()).is_ok());
    }
}
