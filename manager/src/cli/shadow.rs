// SPDX-License-Identifier: GPL-2.0
//! Shadow policies: `policy apply --shadow`, `policy promote`,
//! `policy discard-shadow` and `policy shadow-report`.
//!
//! A shadow is a candidate policy the module evaluates beside the enforcing
//! ones on every call of the cgroup's subtree without enforcing it; each
//! call it would decide differently is counted in its record and reported
//! as a `shadow` event. `promote` swaps it with the enforcing policy in one
//! step (and back again). See docs/ABI.md, "Shadow policies".

use crate::cli::events::action_text;
use crate::exit::Code;
use crate::kernel::client::{find, Client, ClientError};
use crate::out::out;
use serde::Serialize;
use std::error::Error;
use sysfence_abi::nla::{Iter, Writer};
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

/// What a refusal of a shadow command means, in the user's words.
fn explain(id: u64, e: ClientError) -> Box<dyn Error> {
    match e {
        ClientError::Refused {
            errno: libc::ENOENT,
            ..
        } => format!(
            "cgroup {id} has no shadow policy (set one with `sysfence policy apply --shadow`)"
        )
        .into(),
        e => e.into(),
    }
}

/// Swaps cgroup `id`'s shadow with its enforcing policy, in one step.
pub fn promote(client: &mut Client, id: u64) -> Result<(), Box<dyn Error>> {
    client
        .request(Cmd::PolicyPromote, &cgroup_msg(id, None))
        .map_err(|e| explain(id, e))?;
    Ok(())
}

/// Drops cgroup `id`'s shadow and its record.
pub fn discard(client: &mut Client, id: u64) -> Result<(), Box<dyn Error>> {
    client
        .request(Cmd::ShadowDiscard, &cgroup_msg(id, None))
        .map_err(|e| explain(id, e))?;
    Ok(())
}

/// Reads cgroup `id`'s shadow record.
pub fn fetch(client: &mut Client, id: u64) -> Result<Report, Box<dyn Error>> {
    let replies = client
        .request(Cmd::ShadowGet, &cgroup_msg(id, None))
        .map_err(|e| explain(id, e))?;
    let reply = replies.first().ok_or("no reply")?;
    let nest = find(reply, attr::SHADOW_RECORD).ok_or("reply without a shadow record")?;
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

/// Decodes one `SR_ENTRY`; `None` for an ABI this manager does not know.
fn difference(payload: &[u8]) -> Option<Difference> {
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

/// "12 s ago", "3 min ago", "2.5 h ago".
fn ago(t: f64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let s = (now - t).max(0.0);
    if s < 120.0 {
        format!("{s:.0} s ago")
    } else if s < 7200.0 {
        format!("{:.0} min ago", s / 60.0)
    } else {
        format!("{:.1} h ago", s / 3600.0)
    }
}

/// The report as text: a summary line, then one line per difference.
pub fn format_text(r: &Report) -> String {
    let mut out = format!(
        "cgroup {}: shadow set {}; {} call(s) it would decide differently{}; events sent {} dropped {}\n",
        r.cgroup_id,
        ago(r.since),
        r.differed,
        if r.untracked > 0 {
            format!(" ({} not itemized: the record's table is full)", r.untracked)
        } else {
            String::new()
        },
        r.events_sent,
        r.events_dropped
    );
    if r.differences.is_empty() {
        out.push_str("clean: promoting it would change no call seen so far\n");
        return out;
    }
    out.push_str(&format!(
        "{:>8}  {:<7} {:<22} {:<14} {:<14} {:<14} {:<14} COMM\n",
        "CALLS", "ABI", "SYSCALL", "SHADOW", "ENFORCED", "FIRST", "LAST"
    ));
    for d in &r.differences {
        let call = match (d.syscall, d.object_class) {
            (Some(n), Some(c)) => format!("{c} via {n}"),
            (Some(n), None) => n.to_string(),
            (None, Some(c)) => format!("{c} via #{}", d.nr),
            (None, None) => format!("#{}", d.nr),
        };
        out.push_str(&format!(
            "{:>8}  {:<7} {:<22} {:<14} {:<14} {:<14} {:<14} {}\n",
            d.count,
            d.abi,
            call,
            d.shadow,
            d.enforced,
            ago(d.first_seen),
            ago(d.last_seen),
            d.comms.join(",")
        ));
    }
    out
}

/// `policy shadow-report`: exit 0 when the record is clean, 4 when it is
/// not, so that a script can gate a promote on it.
pub fn report(id: u64, json: bool) -> Result<Code, Box<dyn Error>> {
    let r = fetch(&mut Client::connect()?, id)?;
    if json {
        crate::out::json_line(&r)?;
    } else {
        out!("{}", format_text(&r))?;
    }
    Ok(if r.clean { Code::Ok } else { Code::Differs })
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysfence_abi::proto::action;

    fn entry(nr: u32, count: u64, comms: &[&str]) -> Vec<u8> {
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
        let r = Report {
            cgroup_id: 9,
            differed: 7,
            differences: vec![d],
            ..Report::default()
        };
        let t = format_text(&r);
        assert!(
            t.contains("getppid") && t.contains("errno(1)") && t.contains("sh,worker"),
            "{t}"
        );
        let clean = format_text(&Report::default());
        assert!(clean.contains("clean"), "{clean}");
    }

    #[test]
    fn a_flagged_message_carries_the_id_and_the_flag() {
        let m = cgroup_msg(42, Some(attr::SHADOW));
        let attrs: Vec<_> = Iter::new(&m).flatten().map(|a| a.kind).collect();
        assert_eq!(attrs, [attr::CGROUP_ID, attr::SHADOW]);
        assert_eq!(difference(&[]), None);
    }
}
