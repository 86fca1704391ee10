// SPDX-License-Identifier: GPL-2.0
//! The counters of a cgroup's policy, and the calls a recording policy saw.

use super::{cgroup_msg, Client, KernelError};
use crate::kernel::client::find;
use serde::Serialize;
use sysfence_abi::nla::Iter;
use sysfence_abi::proto::{attr, Abi, Cmd};

/// Counters of one cgroup's policy.
#[derive(Serialize, Default, Debug, Clone)]
pub struct Stats {
    pub cgroup_id: u64,
    pub allowed: u64,
    pub denied: u64,
    pub logged: u64,
    pub killed: u64,
    pub trapped: u64,
    pub events_sent: u64,
    pub events_dropped: u64,
    /// Calls run under a recording policy: the kernel's bitmap of each ABI
    /// with any (`STATS_SEEN_*`, one attribute per ABI of every family).
    #[serde(skip)]
    pub seen: Vec<(Abi, Vec<u8>)>,
}

impl Stats {
    /// The recorded calls of one ABI, by number.
    pub fn seen_numbers(&self, abi: Abi) -> Vec<u32> {
        let Some((_, map)) = self.seen.iter().find(|(a, _)| *a == abi) else {
            return Vec::new();
        };
        (0..map.len() * 8)
            .filter(|n| map[n / 8] & (1 << (n % 8)) != 0)
            .map(|n| n as u32)
            .collect()
    }
}

impl Client {
    /// Reads the counters of cgroup `id`'s policy.
    pub fn stats(&mut self, id: u64) -> Result<Stats, KernelError> {
        let replies = self.request(Cmd::StatsGet, &cgroup_msg(id, None))?;
        let reply = replies.first().ok_or(KernelError::NoReply)?;
        let nest = find(reply, attr::STATS).ok_or(KernelError::Malformed("reply without stats"))?;
        let mut s = Stats {
            cgroup_id: id,
            ..Stats::default()
        };
        for a in Iter::new(nest.payload).flatten() {
            let v = a.u64().unwrap_or(0);
            match a.kind {
                attr::STATS_ALLOWED => s.allowed = v,
                attr::STATS_DENIED => s.denied = v,
                attr::STATS_LOGGED => s.logged = v,
                attr::STATS_KILLED => s.killed = v,
                attr::STATS_TRAPPED => s.trapped = v,
                attr::STATS_EVENTS_SENT => s.events_sent = v,
                attr::STATS_EVENTS_DROPPED => s.events_dropped = v,
                k => {
                    if let Some(abi) = Abi::EVERY.iter().find(|b| attr::stats_seen(**b) == k) {
                        s.seen.push((*abi, a.payload.to_vec()));
                    }
                }
            }
        }
        Ok(s)
    }
}
