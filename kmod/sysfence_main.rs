// SPDX-License-Identifier: GPL-2.0
//! sysfence: live, per-cgroup system call filtering for containers.
//!
//! This is the crate root of `sysfence.ko`. It owns the module's lifetime:
//! everything the module registers is created in [`Sysfence::init`] and torn
//! down when [`Sysfence`] is dropped at unload.

use kernel::prelude::*;

// The wire protocol shared with the manager, compiled from shared-abi's own
// source so both sides can never disagree. The module uses only part of what
// the manager needs, hence the allowances.
#[allow(dead_code, unreachable_pub)]
#[path = "../shared-abi/src/proto.rs"]
mod proto;

module! {
    type: Sysfence,
    name: "sysfence",
    author: "sysfence developers",
    description: "Live per-cgroup system call filtering for containers",
    license: "GPL",
}

/// The loaded module.
struct Sysfence;

impl kernel::Module for Sysfence {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        pr_info!(
            "loaded: version {}, netlink family {} v{}\n",
            proto::RELEASE,
            proto::FAMILY_NAME,
            proto::FAMILY_VERSION
        );
        Ok(Sysfence)
    }
}

impl Drop for Sysfence {
    fn drop(&mut self) {
        pr_info!("unloaded\n");
    }
}
