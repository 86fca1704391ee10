// SPDX-License-Identifier: GPL-2.0
//! Linux capability sets: names, and reading a task's from /proc.

use std::collections::BTreeSet;

/// Docker's default capability set, for messages.
pub const DOCKER_DEFAULT_CAPS: &str = "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FSETID,CAP_FOWNER,CAP_MKNOD,CAP_NET_RAW,CAP_SETGID,CAP_SETUID,CAP_SETFCAP,CAP_SETPCAP,CAP_NET_BIND_SERVICE,CAP_SYS_CHROOT,CAP_KILL,CAP_AUDIT_WRITE";

/// Capability names by number (`include/uapi/linux/capability.h`).
pub const NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// The names in a capability bit mask (bits past the known ones ignored).
pub fn from_mask(mask: u64) -> BTreeSet<String> {
    NAMES
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1u64 << i) != 0)
        .map(|(_, n)| n.to_string())
        .collect()
}

/// Parses a comma-separated list (`CAP_SYS_ADMIN,net_raw` or `sys_admin`);
/// unknown names are errors.
pub fn parse_list(s: &str) -> Result<BTreeSet<String>, String> {
    let mut out = BTreeSet::new();
    for item in s.split(',').map(str::trim).filter(|x| !x.is_empty()) {
        let up = item.to_ascii_uppercase();
        let name = if up.starts_with("CAP_") {
            up
        } else {
            format!("CAP_{up}")
        };
        if !NAMES.contains(&name.as_str()) {
            return Err(format!("--caps: unknown capability {item}"));
        }
        out.insert(name);
    }
    Ok(out)
}

/// A task's effective capability set, from `/proc/PID/status` (`CapEff`).
pub fn of_task(pid: u32) -> Result<BTreeSet<String>, String> {
    let path = format!("/proc/{pid}/status");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let hex = text
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .ok_or_else(|| format!("{path}: no CapEff line"))?;
    let mask = u64::from_str_radix(hex.trim(), 16).map_err(|e| format!("{path}: CapEff: {e}"))?;
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
        assert!(parse_list("cap_flying").unwrap_err().contains("cap_flying"));
        assert_eq!(from_mask(0).len(), 0);
    }

    #[test]
    fn reads_its_own_status() {
        // Whatever we hold, the line parses.
        assert!(of_task(std::process::id()).is_ok());
    }
}
