// SPDX-License-Identifier: GPL-2.0
//! `policy shadow-report`: a shadow's record, as text or JSON (`policy
//! apply --shadow`, `promote` and `discard-shadow` are in [`super::policy`];
//! the requests in [`crate::kernel::shadow`]).
//!
//! A shadow is a candidate policy the module evaluates beside the enforcing
//! ones on every call of the cgroup's subtree without enforcing it; each
//! call it would decide differently is counted in its record and reported
//! as a `shadow` event. `promote` swaps it with the enforcing policy in one
//! step (and back again). See docs/ABI.md, "Shadow policies".

use crate::exit::Code;
use crate::kernel::shadow::Report;
use crate::kernel::Client;
use crate::out::out;

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
pub fn report(id: u64, json: bool) -> Result<Code, crate::cli::Error> {
    let r = Client::connect()?.shadow_report(id)?;
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
    use crate::kernel::shadow::{difference, tests::entry};

    #[test]
    fn a_report_names_the_call_answers_and_programs() {
        let d = difference(&entry(110, 7, &["sh", "worker"])).unwrap();
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
}
