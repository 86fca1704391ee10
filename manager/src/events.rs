// SPDX-License-Identifier: GPL-2.0
//! `sysfence events`: follow denials, LOG hits, traps and kills as they happen.

use crate::client::Client;
use crate::exit::Code;
use crate::target;
use clap::Args;
use serde::Serialize;
use std::error::Error;
use std::io::Write;
use std::time::{Duration, Instant};
use sysfence_abi::event::Event;
use sysfence_abi::names;
use sysfence_abi::proto::{action, class};

/// Options of `sysfence events`.
#[derive(Args)]
pub struct EventsArgs {
    /// Only events of this cgroup's policy or of tasks in this cgroup: a
    /// path (absolute, or relative to /sys/fs/cgroup) or a cgroup id.
    #[arg(long, value_name = "PATH|ID", conflicts_with = "container")]
    cgroup: Option<String>,
    /// Only events of this container (id or unique prefix).
    #[arg(long, value_name = "ID")]
    container: Option<String>,
    /// Print one JSON object per line (NDJSON).
    #[arg(long)]
    json: bool,
    /// Stop after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
}

/// One event as printed with `--json`.
#[derive(Serialize)]
struct JsonEvent<'a> {
    time_ns: u64,
    policy_cgroup: u64,
    cgroup: u64,
    pid: u32,
    tid: u32,
    comm: &'a str,
    abi: &'a str,
    nr: u64,
    syscall: Option<&'a str>,
    args: [String; 6],
    action: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    errno: Option<u32>,
    /// For an object decision: file, exec, socket, connect or bind.
    #[serde(skip_serializing_if = "Option::is_none")]
    object_class: Option<&'a str>,
    /// For an object decision: the path or address.
    #[serde(skip_serializing_if = "Option::is_none")]
    object: Option<&'a str>,
    /// A shadow event: `action` is what the cgroup's shadow would have
    /// answered; the task got `enforced`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    shadow: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    enforced: Option<String>,
}

fn abi_name(e: &Event) -> &'static str {
    e.abi().map_or("unknown", |a| a.name())
}

fn syscall_name(e: &Event) -> Option<&'static str> {
    let abi = e.abi()?;
    names::name(abi, u32::try_from(e.nr).ok()?)
}

fn errno_of(e: &Event) -> Option<u32> {
    (e.action & action::ACTION_MASK == action::ERRNO).then_some(e.action & action::DATA_MASK)
}

/// An action as `errno(N)` or its name.
pub fn action_text(a: u32) -> String {
    if a & action::ACTION_MASK == action::ERRNO {
        format!("errno({})", a & action::DATA_MASK)
    } else {
        action::name(a).to_string()
    }
}

/// The text form of one event: one line, fields in a fixed order.
pub fn format_text(e: &Event) -> String {
    let call = match syscall_name(e) {
        Some(n) => format!("{n}({})", e.nr),
        None => format!("#{}", e.nr),
    };
    let act = if e.is_shadow() {
        format!(
            "shadow {} (enforced {})",
            action_text(e.action),
            action_text(e.enforced)
        )
    } else {
        action_text(e.action)
    };
    // What the decision was about: the object, or the argument registers.
    let about = if e.obj_class != 0 {
        format!("{} {}", class::name(e.obj_class), e.object_str())
    } else {
        let args: Vec<String> = e.args.iter().map(|a| format!("{a:#x}")).collect();
        format!("[{}]", args.join(" "))
    };
    format!(
        "{:>6}.{:06} cgroup={} policy={} pid={} tid={} comm={} {} {} {} -> {}",
        e.time_ns / 1_000_000_000,
        (e.time_ns / 1_000) % 1_000_000,
        e.task_cgroup,
        e.policy_cgroup,
        e.pid,
        e.tid,
        e.comm_str(),
        abi_name(e),
        call,
        about,
        act
    )
}

/// The NDJSON form of one event. Arguments are hexadecimal strings, since
/// JSON numbers lose precision above 2^53.
pub fn format_json(e: &Event) -> Result<String, serde_json::Error> {
    serde_json::to_string(&JsonEvent {
        time_ns: e.time_ns,
        policy_cgroup: e.policy_cgroup,
        cgroup: e.task_cgroup,
        pid: e.pid,
        tid: e.tid,
        comm: e.comm_str(),
        abi: abi_name(e),
        nr: e.nr,
        syscall: syscall_name(e),
        args: e.args.map(|a| format!("{a:#x}")),
        action: action::name(e.action),
        errno: errno_of(e),
        object_class: (e.obj_class != 0).then(|| class::name(e.obj_class)),
        object: (e.obj_class != 0).then(|| e.object_str()),
        shadow: e.is_shadow(),
        enforced: e.is_shadow().then(|| action_text(e.enforced)),
    })
}

pub fn run(args: &EventsArgs) -> Result<Code, Box<dyn Error>> {
    let only = match (&args.cgroup, &args.container) {
        (None, None) => None,
        (cgroup, container) => Some(
            target::Target {
                cgroup: cgroup.clone(),
                pid: None,
                container: container.clone(),
            }
            .resolve()?
            .id,
        ),
    };
    if let Some(d) = args.duration {
        if !(d.is_finite() && d >= 0.0) {
            return Err(format!("--duration {d}: want a number of seconds, 0 or more").into());
        }
    }
    let deadline = args
        .duration
        .map(|d| Instant::now() + Duration::from_secs_f64(d));
    let mut client = Client::connect()?;
    client.subscribe_events()?;
    let (mut received, mut overruns, mut malformed) = (0u64, 0u64, 0usize);
    let out = std::io::stdout();
    let done = |received: u64| args.count.is_some_and(|c| received >= c);
    let mut draining = false;
    while !done(received) {
        // Past the deadline, what the kernel already sent is still read
        // (without waiting), so the output ends on whole bursts.
        let wait = match deadline {
            _ if draining => Some(Duration::ZERO),
            Some(d) => match d.checked_duration_since(Instant::now()) {
                Some(left) if !left.is_zero() => Some(left),
                _ => {
                    draining = true;
                    Some(Duration::ZERO)
                }
            },
            None => None,
        };
        let batch = client.recv_events(wait)?;
        if draining && batch.events.is_empty() && !batch.overrun {
            break;
        }
        if batch.overrun {
            overruns += 1;
            eprintln!("sysfence: events were lost: this reader fell behind and its receive buffer overflowed");
        }
        malformed += batch.malformed;
        let mut o = out.lock();
        for e in &batch.events {
            if only.is_some_and(|id| id != e.policy_cgroup && id != e.task_cgroup) {
                continue;
            }
            let line = if args.json {
                format_json(e)?
            } else {
                format_text(e)
            };
            writeln!(o, "{line}")?;
            received += 1;
            if done(received) {
                break;
            }
        }
        o.flush()?;
    }
    if malformed > 0 {
        eprintln!("sysfence: {malformed} messages did not decode as events (is the module newer than this manager?)");
    }
    if overruns > 0 {
        eprintln!(
            "sysfence: {received} events printed; the receive buffer overflowed {overruns} time(s)"
        );
        return Ok(Code::Error);
    }
    Ok(Code::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysfence_abi::proto::Abi;

    fn ev() -> Event {
        let mut comm = [0u8; 16];
        comm[..3].copy_from_slice(b"cat");
        Event {
            policy_cgroup: 5,
            task_cgroup: 6,
            pid: 10,
            tid: 11,
            comm,
            abi: Abi::X86_64 as u32,
            nr: 110,
            args: [0, 1, 2, 3, 4, u64::MAX],
            action: action::ERRNO | 13,
            time_ns: 2_000_500_000,
            ..Event::default()
        }
    }

    #[test]
    fn object_events_name_the_object() {
        let mut e = ev();
        e.obj_class = sysfence_abi::proto::class::FILE;
        sysfence_abi::event::set_text(&mut e.object, b"/etc/shadow");
        let t = format_text(&e);
        assert!(t.contains("file /etc/shadow -> errno(13)"), "{t}");
        let j = format_json(&e).unwrap();
        assert!(
            j.contains(r#""object_class":"file","object":"/etc/shadow""#),
            "{j}"
        );
        assert!(!format_json(&ev()).unwrap().contains("object"));
    }

    #[test]
    fn text_names_the_call_and_action() {
        let t = format_text(&ev());
        assert!(t.contains("getppid(110)"), "{t}");
        assert!(t.contains("errno(13)"), "{t}");
        assert!(t.contains("comm=cat"), "{t}");
        assert!(t.contains("0xffffffffffffffff"), "{t}");
    }

    #[test]
    fn json_keeps_64_bit_arguments_exact() {
        let v: serde_json::Value = serde_json::from_str(&format_json(&ev()).unwrap()).unwrap();
        assert_eq!(v["syscall"], "getppid");
        assert_eq!(v["action"], "errno");
        assert_eq!(v["errno"], 13);
        assert_eq!(v["args"][5], "0xffffffffffffffff");
        assert_eq!(v["cgroup"], 6);
        let mut k = ev();
        k.action = action::KILL_PROCESS;
        k.abi = Abi::Ia32 as u32;
        k.nr = 20;
        let v: serde_json::Value = serde_json::from_str(&format_json(&k).unwrap()).unwrap();
        assert_eq!(v["action"], "kill-process");
        assert_eq!(v["syscall"], "getpid");
        assert!(v.get("errno").is_none());
    }
}
