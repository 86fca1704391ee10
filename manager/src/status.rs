// SPDX-License-Identifier: GPL-2.0
//! `sysfence status`: is the kernel module loaded?

use crate::exit::Code;
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
    /// Whether `sysfence.ko` is loaded.
    pub module_loaded: bool,
    /// How many references the module has (from sysfs), when loaded.
    pub module_refcount: Option<u32>,
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
        module_loaded,
        module_refcount,
    })
}

pub fn run(args: &Args) -> Result<Code, Box<dyn std::error::Error>> {
    let status = read(Path::new("/sys"))?;
    if args.json {
        println!("{}", serde_json::to_string(&status)?);
    } else {
        println!("manager version: {}", status.manager_version);
        match (status.module_loaded, status.module_refcount) {
            (true, Some(n)) => println!("kernel module:   loaded (refcount {n})"),
            (true, None) => println!("kernel module:   loaded"),
            (false, _) => println!("kernel module:   not loaded (insmod sysfence.ko)"),
        }
    }
    Ok(if status.module_loaded {
        Code::Ok
    } else {
        Code::ModuleNotLoaded
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
