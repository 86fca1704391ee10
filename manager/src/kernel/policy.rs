// SPDX-License-Identifier: GPL-2.0
//! Policies in the kernel: set (one, a batch, armed for the next exec, as
//! a shadow), read back, list and delete.

use super::{cgroup_msg, Client, ClientError, KernelError};
use crate::host::target::ROOT_ID;
use crate::kernel::client::find;
use crate::policy::native::policy_attr;
use sysfence_abi::nla::{Iter, Writer, F_NESTED};
use sysfence_abi::proto::{attr, limits, Cmd};

/// Largest request [`Client::set_policies`] sends: below the default socket
/// send buffer (`net.core.wmem_default`, 208 KiB), over which the kernel
/// refuses a netlink message.
const BATCH_BYTES: usize = 160 << 10;

/// One cgroup of a `policy-dump`: its policy and shadow as wire encodings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub cgroup_id: u64,
    /// The enforcing policy's `POLICY` payload; `None` when the cgroup has
    /// only a shadow.
    pub policy: Option<Vec<u8>>,
    /// The shadow's `POLICY` payload.
    pub shadow: Option<Vec<u8>>,
    /// A shadow that is "no policy" (`SHADOW_NONE`: left by promoting a
    /// shadow set on a cgroup without a policy).
    pub shadow_none: bool,
    /// Set by `oci-hook`: not in force until the cgroup's next exec.
    pub waiting_for_exec: bool,
}

impl Client {
    /// Sets (or replaces) the policy of cgroup `id` from its wire encoding.
    pub fn set_policy(&mut self, id: u64, payload: &[u8]) -> Result<(), KernelError> {
        self.set_flagged(id, payload, None)
    }

    /// As [`Client::set_policy`]; with `arm_on_exec` the policy waits for
    /// the cgroup's next exec (`ARM_ON_EXEC`: for runtime hooks).
    pub fn set_policy_with(
        &mut self,
        id: u64,
        payload: &[u8],
        arm_on_exec: bool,
    ) -> Result<(), KernelError> {
        self.set_flagged(id, payload, arm_on_exec.then_some(attr::ARM_ON_EXEC))
    }

    /// Sets (or replaces) the shadow policy of cgroup `id` from its wire
    /// encoding, with an empty record.
    pub fn set_shadow(&mut self, id: u64, payload: &[u8]) -> Result<(), KernelError> {
        self.set_flagged(id, payload, Some(attr::SHADOW))
    }

    /// `policy-set` with an optional flag attribute (`ARM_ON_EXEC`, `SHADOW`).
    fn set_flagged(
        &mut self,
        id: u64,
        payload: &[u8],
        flag: Option<u16>,
    ) -> Result<(), KernelError> {
        // Whatever led here (apply, record, run, the hook, the agent).
        if id == ROOT_ID {
            return Err(KernelError::RootRefused);
        }
        let mut msg = cgroup_msg(id, flag);
        msg.extend_from_slice(&policy_attr(payload).ok_or(KernelError::TooLarge)?);
        self.request(Cmd::PolicySet, &msg)?;
        Ok(())
    }

    /// Sets the enforcing policies of many cgroups (`id`, wire encoding), in
    /// as few `policy-set-batch` requests as the limits allow: each request
    /// is one new version of the kernel's table and changes nothing if any
    /// of its items is refused. A module without batches (one older than
    /// the `POLICY_BATCH` feature) gets one `policy-set` per cgroup.
    pub fn set_policies(&mut self, items: &[(u64, Vec<u8>)]) -> Result<(), KernelError> {
        let mut msg = Vec::new();
        let mut n = 0usize;
        for (id, payload) in items {
            if *id == ROOT_ID {
                return Err(KernelError::RootRefused);
            }
            let item = batch_item(*id, payload)?;
            if n > 0 && (n == limits::MAX_BATCH as usize || msg.len() + item.len() > BATCH_BYTES) {
                if !self.send_batch(&msg)? {
                    return self.set_one_by_one(items);
                }
                msg.clear();
                n = 0;
            }
            msg.extend_from_slice(&item);
            n += 1;
        }
        if n > 0 && !self.send_batch(&msg)? {
            return self.set_one_by_one(items);
        }
        Ok(())
    }

    /// One `policy-set-batch` request; `false` when the module does not know
    /// the command (only the first request can meet that: nothing was set).
    fn send_batch(&mut self, msg: &[u8]) -> Result<bool, KernelError> {
        match self.request(Cmd::PolicySetBatch, msg) {
            Ok(_) => Ok(true),
            Err(ClientError::Refused { errno, .. }) if errno == libc::EOPNOTSUPP => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn set_one_by_one(&mut self, items: &[(u64, Vec<u8>)]) -> Result<(), KernelError> {
        for (id, payload) in items {
            self.set_policy(*id, payload)?;
        }
        Ok(())
    }

    /// Removes the policy of cgroup `id`.
    pub fn delete_policy(&mut self, id: u64) -> Result<(), KernelError> {
        self.request(Cmd::PolicyDelete, &cgroup_msg(id, None))?;
        Ok(())
    }

    /// The `POLICY` payload the kernel holds for cgroup `id`, or `None`
    /// when it has none (no entry, or only a shadow).
    pub fn get_policy(&mut self, id: u64) -> Result<Option<Vec<u8>>, KernelError> {
        self.get_attr(id, attr::POLICY)
    }

    /// The shadow policy's payload the kernel holds for cgroup `id`, or
    /// `None` when it has none.
    pub fn get_shadow(&mut self, id: u64) -> Result<Option<Vec<u8>>, KernelError> {
        self.get_attr(id, attr::SHADOW_POLICY)
    }

    /// Attribute `which` (`POLICY` or `SHADOW_POLICY`) of cgroup `id`'s
    /// `policy-get` reply, or `None` when absent.
    fn get_attr(&mut self, id: u64, which: u16) -> Result<Option<Vec<u8>>, KernelError> {
        let replies = match self.request(Cmd::PolicyGet, &cgroup_msg(id, None)) {
            Err(ClientError::Refused {
                errno: libc::ENOENT,
                ..
            }) => return Ok(None),
            r => r?,
        };
        let reply = replies.first().ok_or(KernelError::NoReply)?;
        Ok(find(reply, which).map(|p| p.payload.to_vec()))
    }

    /// Every cgroup with a policy or a shadow, from one `policy-dump`.
    pub fn dump_policies(&mut self) -> Result<Vec<Entry>, KernelError> {
        let mut entries = Vec::new();
        for r in self.dump(Cmd::PolicyDump, &[])? {
            let cgroup_id = find(&r, attr::CGROUP_ID)
                .and_then(|a| a.u64())
                .ok_or(KernelError::Malformed("dump entry without cgroup id"))?;
            entries.push(Entry {
                cgroup_id,
                policy: find(&r, attr::POLICY).map(|p| p.payload.to_vec()),
                shadow: find(&r, attr::SHADOW_POLICY).map(|p| p.payload.to_vec()),
                shadow_none: find(&r, attr::SHADOW_NONE).is_some(),
                waiting_for_exec: find(&r, attr::WAITING_FOR_EXEC).is_some(),
            });
        }
        Ok(entries)
    }
}

/// The number of rules of a `POLICY` payload, as `policy list` counts
/// them: each rule, each packed number, each bit of an allow bitmap.
pub fn rule_count(payload: &[u8]) -> usize {
    Iter::new(payload)
        .flatten()
        .filter(|a| a.kind == attr::POLICY_ABI)
        .map(|a| {
            a.nested_iter()
                .flatten()
                .map(|x| match x.kind {
                    attr::ABI_RULE => 1,
                    attr::ABI_PACKED => x.payload.len() / 8,
                    attr::ABI_ALLOW => x.payload.iter().map(|b| b.count_ones() as usize).sum(),
                    _ => 0,
                })
                .sum::<usize>()
        })
        .sum()
}

/// One `BATCH_ITEM` attribute.
fn batch_item(id: u64, payload: &[u8]) -> Result<Vec<u8>, KernelError> {
    let mut item = vec![0u8; payload.len() + 32];
    let mut w = Writer::new(&mut item);
    w.nest(attr::BATCH_ITEM, |w| {
        w.put_u64(attr::CGROUP_ID, id)?;
        w.put(attr::POLICY | F_NESTED, payload)
    })
    .map_err(|_| KernelError::TooLarge)?;
    let len = w.len();
    item.truncate(len);
    Ok(item)
}
