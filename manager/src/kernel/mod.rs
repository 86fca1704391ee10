// SPDX-License-Identifier: GPL-2.0
//! The sysfence kernel module's API: the generic netlink client
//! ([`client`]) and the requests every command and the node agent make with
//! it, as methods of [`Client`]: policies ([`policy`]), their counters
//! ([`stats`]) and shadows ([`shadow`]).

pub mod client;
pub mod policy;
pub mod shadow;
pub mod stats;

pub use client::{Client, ClientError};

use sysfence_abi::nla::Writer;
use sysfence_abi::proto::{action, attr};

/// Why a request to the module failed.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// The module refused the request, or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
    /// A policy on the root cgroup (whatever led here: apply, record, run,
    /// the hook, the agent).
    #[error("{}", crate::host::target::ROOT_REFUSED)]
    RootRefused,
    /// A policy whose encoding does not fit one netlink attribute.
    #[error("policy too large for one netlink attribute (64 KiB)")]
    TooLarge,
    /// An acknowledged request without the reply it should have had.
    #[error("no reply")]
    NoReply,
    /// A reply without an attribute it must have.
    #[error("{0}")]
    Malformed(&'static str),
    /// A shadow command on a cgroup without a shadow.
    #[error("cgroup {0} has no shadow policy (set one with `sysfence policy apply --shadow`)")]
    NoShadow(u64),
}

impl KernelError {
    /// The client's error, when the module refused or could not be reached.
    pub fn client(&self) -> Option<&ClientError> {
        match self {
            KernelError::Client(c) => Some(c),
            _ => None,
        }
    }
}

/// A request's attributes: cgroup `id`, then an optional flag attribute
/// (`ARM_ON_EXEC`, `SHADOW`, ...).
fn cgroup_msg(id: u64, flag: Option<u16>) -> Vec<u8> {
    let mut buf = vec![0u8; 16];
    let mut w = Writer::new(&mut buf);
    // 16 bytes hold one u64 attribute and one flag.
    let _ = w.put_u64(attr::CGROUP_ID, id);
    if let Some(f) = flag {
        let _ = w.put(f, &[]);
    }
    let n = w.len();
    buf.truncate(n);
    buf
}

/// The text of a wire action value: `errno(N)`, `allow`, `kill-process`, ...
pub fn action_text(a: u32) -> String {
    if a & action::ACTION_MASK == action::ERRNO {
        format!("errno({})", a & action::DATA_MASK)
    } else {
        action::name(a).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysfence_abi::nla::Iter;

    #[test]
    fn a_flagged_message_carries_the_id_and_the_flag() {
        let m = cgroup_msg(42, Some(attr::SHADOW));
        let attrs: Vec<_> = Iter::new(&m).flatten().map(|a| a.kind).collect();
        assert_eq!(attrs, [attr::CGROUP_ID, attr::SHADOW]);
        assert_eq!(cgroup_msg(42, None).len(), 12);
    }
}
