// SPDX-License-Identifier: GPL-2.0
//! `sysfence status`: is the kernel module loaded?

use crate::exit::Code;
use crate::out::outln;
use serde::Serialize;
use std::path::Path;

#[derive(clap::Args)]
pub struct Args {
    /// Print the status as one JSON object.
    #[arg(long)]
    json: bool,
}

/// What `status` reports.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct Status {
    /// Version of this manager.
    pub manager_version: &'static str,
    /// The netlink protocol version this manager speaks.
    pub manager_protocol_version: u32,
    /// Whether the loaded module speaks this manager's protocol (when
    /// loaded).
    pub abi_match: Option<bool>,
    /// Whether `sysfence.ko` is loaded.
    pub module_loaded: bool,
    /// How many references the module has (from sysfs), when loaded.
    pub module_refcount: Option<u32>,
    /// What the module reports over netlink, when loaded.
    pub module: Option<ModuleInfo>,
}

/// The module's `get-info` reply.
#[derive(Serialize, Debug, PartialEq, Eq)]
pub struct ModuleInfo {
    pub release: String,
    pub protocol_version: u32,
    pub features: u64,
    pub policies: u32,
    pub max_policies: u32,
    pub max_rules: u32,
    /// Hits of the hooked functions that kprobes skipped (another kprobe's
    /// handler running on the CPU); 0 in normal operation.
    pub objects_unchecked: u64,
    /// Policies the module deleted because their cgroup was removed
    /// (container gone), since it loaded.
    pub policies_freed: u64,
}

/// Reads the module's state from a sysfs tree rooted at `sys`.
pub fn read(sys: &Path) -> std::io::Result<Status> {
    let dir = sys.join("module/sysfence");
    let module_loaded = dir.is_dir();
    let module_refcount = if module_loaded {
        match std::fs::read_to_string(dir.join("refcnt")) {
            Ok(s) => s.trim().parse().ok(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        }
    } else {
        None
    };
    Ok(Status {
        manager_version: sysfence_abi::proto::RELEASE,
        manager_protocol_version: u32::from(sysfence_abi::proto::FAMILY_VERSION),
        abi_match: None,
        module_loaded,
        module_refcount,
        module: None,
    })
}

pub fn run(args: &Args) -> Result<Code, crate::cli::Error> {
    let mut status = read(Path::new("/sys"))?;
    let mut module_protocol = None;
    if status.module_loaded {
        let mut c = match crate::kernel::client::Client::connect() {
            Ok(c) => c,
            Err(crate::kernel::client::ClientError::Version(v)) => {
                status.abi_match = Some(false);
                module_protocol = Some(v);
                return finish(args, &status, module_protocol);
            }
            Err(e) => return Err(e.into()),
        };
        status.abi_match = Some(true);
        let replies = c.request(sysfence_abi::proto::Cmd::GetInfo, &[])?;
        let r = replies.first().ok_or("no reply to get-info")?;
        let u32_of = |k| crate::kernel::client::find(r, k).and_then(|a| a.u32());
        use sysfence_abi::proto::attr;
        status.module = Some(ModuleInfo {
            release: crate::kernel::client::find(r, attr::INFO_RELEASE)
                .and_then(|a| a.str().map(str::to_owned))
                .unwrap_or_default(),
            protocol_version: u32_of(attr::INFO_VERSION).unwrap_or(0),
            features: crate::kernel::client::find(r, attr::INFO_FEATURES)
                .and_then(|a| a.u64())
                .unwrap_or(0),
            policies: u32_of(attr::INFO_POLICY_COUNT).unwrap_or(0),
            max_policies: u32_of(attr::INFO_MAX_POLICIES).unwrap_or(0),
            max_rules: u32_of(attr::INFO_MAX_RULES).unwrap_or(0),
            objects_unchecked: crate::kernel::client::find(r, attr::INFO_OBJECTS_UNCHECKED)
                .and_then(|a| a.u64())
                .unwrap_or(0),
            policies_freed: crate::kernel::client::find(r, attr::INFO_POLICIES_FREED)
                .and_then(|a| a.u64())
                .unwrap_or(0),
        });
    }
    finish(args, &status, module_protocol)
}

/// Prints the status and picks the exit code.
fn finish(
    args: &Args,
    status: &Status,
    module_protocol: Option<u32>,
) -> Result<Code, crate::cli::Error> {
    if args.json {
        crate::out::json_line(&status)?;
    } else {
        outln!("manager version: {}", status.manager_version)?;
        match (status.module_loaded, status.module_refcount) {
            (true, Some(n)) => outln!("kernel module:   loaded (refcount {n})")?,
            (true, None) => outln!("kernel module:   loaded")?,
            (false, _) => outln!("kernel module:   not loaded (insmod sysfence.ko)")?,
        }
        if let Some(m) = &status.module {
            outln!(
                "module release:  {} (protocol v{})",
                m.release,
                m.protocol_version
            )?;
            outln!(
                "policies:        {} of at most {}",
                m.policies,
                m.max_policies
            )?;
            outln!(
                "freed:           {} policies with their cgroup (removed) since load",
                m.policies_freed
            )?;
            outln!("rules/policy:    at most {}", m.max_rules)?;
            if m.objects_unchecked > 0 {
                outln!(
                    "object checks:   {} hook hits SKIPPED by kprobes (a hooked function called while another kprobe's handler ran on that CPU)",
                    m.objects_unchecked
                )?;
            }
        }
        if let Some(v) = module_protocol {
            outln!(
                "protocol:        MISMATCH: the module speaks v{v}, this sysfence v{}",
                status.manager_protocol_version
            )?;
        }
    }
    if let Some(v) = module_protocol {
        eprintln!(
            "sysfence: {}",
            crate::kernel::client::ClientError::Version(v)
        );
    }
    Ok(match (status.module_loaded, status.abi_match) {
        (false, _) => Code::ModuleNotLoaded,
        (true, Some(false)) => Code::AbiMismatch,
        (true, _) => Code::Ok,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_loaded_module_with_refcount() {
        let dir = std::env::temp_dir().join(format!("sf-status-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("module/sysfence")).unwrap();
        std::fs::write(dir.join("module/sysfence/refcnt"), "0\n").unwrap();
        let s = read(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(s.module_loaded);
        assert_eq!(s.module_refcount, Some(0));
    }

    #[test]
    fn reports_missing_module() {
        let dir = std::env::temp_dir().join(format!("sf-status-none-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = read(&dir).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!s.module_loaded);
        assert_eq!(s.module_refcount, None);
    }

    #[test]
    fn manager_and_abi_release_agree() {
        // The module logs proto::RELEASE; the crate version must say the same.
        assert_eq!(env!("CARGO_PKG_VERSION"), sysfence_abi::proto::RELEASE);
    }
}
