// SPDX-License-Identifier: GPL-2.0
//! Shadow policies in the kernel: promote, discard and read the record
//! (set one with [`Client::set_shadow`]).
//!
//! A shadow is a candidate policy the module evaluates beside the enforcing
//! ones on every call of the cgroup's subtree without enforcing it; each
//! call it would decide differently is counted in its record and reported
//! as a `shadow` event. `promote` swaps it with the enforcing policy in one
//! step (and back again). See docs/ABI.md, "Shadow policies".

use super::{action_text, cgroup_msg, Client, ClientError, KernelError};
use crate::kernel::client::find;
use serde::Serialize;
use sysfence_abi::nla::Iter;
use sysfence_abi::proto::{attr, class, Abi, Cmd};

/// One (ABI, syscall, object class) the shadow decided differently.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct Difference {
    pub abi: &'static str,
    pub nr: u32,
    pub syscall: Option<&'static str>,
    /// For an object decision: file, exec, socket, connect or bind.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object_class: Option<&'static str>,
    /// What the shadow would have answered (the latest such call).
    pub shadow: String,
    /// What the call got.
    pub enforced: String,
    pub count: u64,
    /// The programs (comm) that made these calls, first seen first (up to 4).
    pub comms: Vec<String>,
    /// Unix time, seconds.
    pub first_seen: f64,
    pub last_seen: f64,
}

/// A shadow's record, as `shadow-report` prints it.
#[derive(Serialize, Debug, Clone, Default)]
pub struct Report {
    pub cgroup_id: u64,
    /// Unix time the shadow was set, seconds.
    pub since: f64,
    /// Calls the shadow would have decided differently.
    pub differed: u64,
    /// Of those, calls the record's table had no room to itemize.
    pub untracked: u64,
    pub events_sent: u64,
    pub events_dropped: u64,
    /// No call would have been decided differently.
    pub clean: bool,
    pub differences: Vec<Difference>,
}

/// `CLOCK_MONOTONIC` nanoseconds to Unix seconds, at the current offset.
fn unix_seconds(mono_ns: u64) -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    let mono_now = ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9;
    let real_now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    real_now - (mono_now - mono_ns as f64 / 1e9)
}

/// What a refusal of a shadow command means, in the user's words.
fn explain(id: u64, e: ClientError) -> KernelError {
    match e {
        ClientError::Refused {
            errno: libc::ENOENT,
            ..
        } => KernelError::NoShadow(id),
        e => e.into(),
    }
}

impl Client {
    /// Swaps cgroup `id`'s shadow with its enforcing policy, in one step.
    pub fn promote(&mut self, id: u64) -> Result<(), KernelError> {
        self.request(Cmd::PolicyPromote, &cgroup_msg(id, None))
            .map_err(|e| explain(id, e))?;
        Ok(())
    }

    /// Drops cgroup `id`'s shadow and its record.
    pub fn discard_shadow(&mut self, id: u64) -> Result<(), KernelError> {
        self.request(Cmd::ShadowDiscard, &cgroup_msg(id, None))
            .map_err(|e| explain(id, e))?;
        Ok(())
    }

    /// Reads cgroup `id`'s shadow record.
    pub fn shadow_report(&mut self, id: u64) -> Result<Report, KernelError> {
        let replies = self
            .request(Cmd::ShadowGet, &cgroup_msg(id, None))
            .map_err(|e| explain(id, e))?;
        let reply = replies.first().ok_or(KernelError::NoReply)?;
        let nest = find(reply, attr::SHADOW_RECORD)
            .ok_or(KernelError::Malformed("reply without a shadow record"))?;
        let mut r = Report {
            cgroup_id: id,
            ..Report::default()
        };
        for a in Iter::new(nest.payload).flatten() {
            let v = a.u64().unwrap_or(0);
            match a.kind {
                attr::SR_SINCE_NS => r.since = unix_seconds(v),
                attr::SR_DIFFERED => r.differed = v,
                attr::SR_UNTRACKED => r.untracked = v,
                attr::SR_EVENTS_SENT => r.events_sent = v,
                attr::SR_EVENTS_DROPPED => r.events_dropped = v,
                attr::SR_ENTRY => r.differences.extend(difference(a.payload)),
                _ => {}
            }
        }
        r.clean = r.differed == 0;
        r.differences
            .sort_by(|a, b| b.count.cmp(&a.count).then(a.nr.cmp(&b.nr)));
        Ok(r)
    }
}

/// Decodes one `SR_ENTRY`; `None` for an ABI this manager does not know.
pub(crate) fn difference(payload: &[u8]) -> Option<Difference> {
    let (mut abi, mut nr, mut cls, mut sa, mut ea) = (0u32, 0u32, 0u32, 0u32, 0u32);
    let (mut count, mut first, mut last) = (0u64, 0u64, 0u64);
    let mut comms = Vec::new();
    for a in Iter::new(payload).flatten() {
        match a.kind {
            attr::SRE_ABI => abi = a.u32()?,
            attr::SRE_NR => nr = a.u32()?,
            attr::SRE_OBJ_CLASS => cls = a.u32()?,
            attr::SRE_SHADOW_ACTION => sa = a.u32()?,
            attr::SRE_ENFORCED_ACTION => ea = a.u32()?,
            attr::SRE_COUNT => count = a.u64()?,
            attr::SRE_FIRST_NS => first = a.u64()?,
            attr::SRE_LAST_NS => last = a.u64()?,
            attr::SRE_COMM => comms.push(a.str().unwrap_or("?").to_string()),
            _ => {}
        }
    }
    let abi = Abi::try_from(abi).ok()?;
    Some(Difference {
        abi: abi.name(),
        nr,
        syscall: sysfence_abi::names::name(abi, nr),
        object_class: (cls != 0).then(|| class::name(cls)),
        shadow: action_text(sa),
        enforced: action_text(ea),
        count,
        comms,
        first_seen: unix_seconds(first),
        last_seen: unix_seconds(last),
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use sysfence_abi::nla::Writer;
    use sysfence_abi::proto::action;

    /// One `SR_ENTRY` payload: getppid-like call `nr`, shadow errno(1)
    /// against allow, seen `count` times by `comms`.
    pub(crate) fn entry(nr: u32, count: u64, comms: &[&str]) -> Vec<u8> {
        let mut buf = vec![0u8; 512];
        let mut w = Writer::new(&mut buf);
        w.put_u32(attr::SRE_ABI, Abi::X86_64 as u32).unwrap();
        w.put_u32(attr::SRE_NR, nr).unwrap();
        w.put_u32(attr::SRE_OBJ_CLASS, 0).unwrap();
        w.put_u32(attr::SRE_SHADOW_ACTION, action::ERRNO | 1)
            .unwrap();
        w.put_u32(attr::SRE_ENFORCED_ACTION, action::ALLOW).unwrap();
        w.put_u64(attr::SRE_COUNT, count).unwrap();
        w.put_u64(attr::SRE_FIRST_NS, 1).unwrap();
        w.put_u64(attr::SRE_LAST_NS, 2).unwrap();
        for c in comms {
            w.put_str(attr::SRE_COMM, c).unwrap();
        }
        let n = w.len();
        buf.truncate(n);
        buf
    }

    #[test]
    fn a_record_entry_names_the_call_answers_and_programs() {
        let d = difference(&entry(110, 7, &["sh", "worker"])).unwrap();
        assert_eq!(d.syscall, Some("getppid"));
        assert_eq!(
            (d.shadow.as_str(), d.enforced.as_str()),
            ("errno(1)", "allow")
        );
        assert_eq!(d.count, 7);
        assert_eq!(d.comms, ["sh", "worker"]);
        assert_eq!(difference(&[]), None);
    }
}
