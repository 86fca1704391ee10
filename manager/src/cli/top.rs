// SPDX-License-Identifier: GPL-2.0
//! `sysfence top`: which container is misbehaving right now.
//!
//! Every interval, each cgroup with a policy is ranked by the calls its
//! policy refused or killed in that interval, then by the rare syscalls its
//! tasks tried, then by LOG hits. A syscall is rare when Docker's default
//! profile does not allow it unconditionally: the calls ordinary container
//! workloads never need (mount, ptrace, bpf, unshare, keyctl, ...). Rare
//! calls and ABIs come from the event stream (denials, LOG hits, traps and
//! kills); the counts from the kernel's counters, so they stay exact when
//! the event rate limit drops events.

use crate::exit::Code;
use crate::host::target::{container_id_of, find_by_id, CGROUP_ROOT};
use crate::kernel::client::{find, Client};
use crate::out::{out, outln, OutputError};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use std::path::Path;
use std::time::{Duration, Instant};
use sysfence_abi::names;
use sysfence_abi::proto::{action, attr, Abi, Cmd};

#[derive(clap::Args)]
pub struct TopArgs {
    /// Seconds between refreshes.
    #[arg(long, short, value_name = "SECONDS", default_value_t = 2.0)]
    interval: f64,
    /// Stop after this many refreshes (default: run until interrupted).
    #[arg(long, short = 'n', value_name = "N")]
    iterations: Option<u64>,
    /// Print each refresh as one JSON object per line (NDJSON).
    #[arg(long)]
    json: bool,
}

/// Docker's default profile, whose unconditional allow list defines the
/// ordinary syscalls.
const DOCKER_DEFAULT: &str = include_str!("../../../tests/fixtures/docker-default.json");

/// The syscall names Docker's default profile allows with no condition.
pub fn ordinary_syscalls() -> BTreeSet<String> {
    let v: serde_json::Value = serde_json::from_str(DOCKER_DEFAULT).unwrap_or_default();
    let mut out = BTreeSet::new();
    for s in v["syscalls"].as_array().into_iter().flatten() {
        let plain = s["action"] == "SCMP_ACT_ALLOW"
            && s["args"].as_array().is_none_or(Vec::is_empty)
            && s.get("includes")
                .is_none_or(|i| i.as_object().is_none_or(|o| o.is_empty()))
            && s.get("excludes")
                .is_none_or(|i| i.as_object().is_none_or(|o| o.is_empty()));
        if plain {
            for n in s["names"].as_array().into_iter().flatten() {
                if let Some(n) = n.as_str() {
                    out.insert(n.to_string());
                }
            }
        }
    }
    out
}

/// One row of the table.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub cgroup_id: u64,
    /// Container id (first 12 digits) or cgroup path.
    pub name: String,
    /// In this interval.
    pub denied: u64,
    pub killed: u64,
    pub trapped: u64,
    pub logged: u64,
    pub allowed: u64,
    pub events_dropped: u64,
    /// Rare syscalls tried in this interval, by name (`ia32:NAME` for ia32
    /// and x32 calls), with how often.
    pub rare: BTreeMap<String, u64>,
}

impl Row {
    /// Sort key, most suspicious first.
    fn key(
        &self,
    ) -> (
        std::cmp::Reverse<u64>,
        std::cmp::Reverse<usize>,
        std::cmp::Reverse<u64>,
        u64,
    ) {
        use std::cmp::Reverse;
        (
            Reverse(self.denied + self.killed + self.trapped),
            Reverse(self.rare.len()),
            Reverse(self.logged),
            self.cgroup_id,
        )
    }
}

/// Ranks rows, most suspicious first.
pub fn rank(rows: &mut [Row]) {
    rows.sort_by_key(Row::key);
}

/// The display name of a rare call.
fn rare_name(ordinary: &BTreeSet<String>, abi: Option<Abi>, nr: u64) -> Option<String> {
    let abi = abi?;
    let name = u32::try_from(nr)
        .ok()
        .and_then(|n| names::name(abi, n))
        .map_or_else(|| format!("#{nr}"), str::to_string);
    match abi {
        Abi::X86_64 | Abi::Aarch64 if ordinary.contains(&name) => None,
        Abi::X86_64 | Abi::Aarch64 => Some(name),
        // Another ABI in a 64-bit container is itself unusual.
        other => Some(format!("{}:{name}", other.name())),
    }
}

fn name_of(cache: &mut HashMap<u64, String>, id: u64) -> String {
    cache
        .entry(id)
        .or_insert_with(|| match find_by_id(Path::new(CGROUP_ROOT), id) {
            Some(p) => {
                let base = p.file_name().map(|n| n.to_string_lossy().into_owned());
                match base.as_deref().and_then(container_id_of) {
                    Some(cid) => cid.chars().take(12).collect(),
                    None => {
                        let rel = p.strip_prefix(CGROUP_ROOT).unwrap_or(&p);
                        format!("/{}", rel.display())
                    }
                }
            }
            None => "(gone)".to_string(),
        })
        .clone()
}

fn policy_ids(client: &mut Client) -> Result<Vec<u64>, crate::cli::Error> {
    Ok(client
        .dump(Cmd::PolicyDump, &[])?
        .iter()
        .filter_map(|r| find(r, attr::CGROUP_ID).and_then(|a| a.u64()))
        .collect())
}

fn print_table(rows: &[Row], interval: f64) -> Result<(), OutputError> {
    outln!(
        "sysfence top: {} cgroup(s) with a policy; counts over the last {interval} s",
        rows.len()
    )?;
    outln!(
        "{:>10} {:<20} {:>8} {:>6} {:>7} {:>7} {:>10} {:>7}  RARE SYSCALLS TRIED",
        "CGROUP-ID",
        "CONTAINER",
        "DENIED",
        "KILLED",
        "TRAPPED",
        "LOGGED",
        "ALLOWED",
        "DROPPED"
    )?;
    for r in rows {
        let rare: Vec<String> = r.rare.iter().map(|(n, c)| format!("{n}({c})")).collect();
        outln!(
            "{:>10} {:<20} {:>8} {:>6} {:>7} {:>7} {:>10} {:>7}  {}",
            r.cgroup_id,
            r.name,
            r.denied,
            r.killed,
            r.trapped,
            r.logged,
            r.allowed,
            r.events_dropped,
            rare.join(" ")
        )?;
    }
    crate::out::flush()
}

pub fn run(args: &TopArgs) -> Result<Code, crate::cli::Error> {
    if !(args.interval.is_finite() && args.interval >= 0.1) {
        return Err(crate::cli::Error::arg(
            format!("--interval {}", args.interval),
            "want at least 0.1 seconds",
        ));
    }
    let ordinary = ordinary_syscalls();
    let mut control = Client::connect()?;
    let mut events = Client::connect()?;
    events.subscribe_events()?;
    let tty = !args.json && crate::out::is_terminal();
    let mut names: HashMap<u64, String> = HashMap::new();
    let mut last: HashMap<u64, crate::kernel::stats::Stats> = HashMap::new();
    for id in policy_ids(&mut control)? {
        if let Ok(s) = control.stats(id) {
            last.insert(id, s);
        }
    }
    let mut done = 0u64;
    while args.iterations.is_none_or(|n| done < n) {
        let deadline = Instant::now() + Duration::from_secs_f64(args.interval);
        let mut rare: HashMap<u64, BTreeMap<String, u64>> = HashMap::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            let batch = events.recv_events(Some(left))?;
            for e in &batch.events {
                let kind = e.action & action::ACTION_MASK;
                if kind == action::ALLOW {
                    continue;
                }
                if let Some(n) = rare_name(&ordinary, e.abi(), e.nr) {
                    *rare
                        .entry(e.policy_cgroup)
                        .or_default()
                        .entry(n)
                        .or_default() += 1;
                }
            }
        }
        let mut rows = Vec::new();
        let mut now = HashMap::new();
        for id in policy_ids(&mut control)? {
            // A policy removed since the dump is simply not shown.
            let Ok(s) = control.stats(id) else {
                continue;
            };
            let zero = crate::kernel::stats::Stats::default();
            let prev = last.get(&id).unwrap_or(&zero);
            let d = |a: u64, b: u64| a.saturating_sub(b);
            rows.push(Row {
                cgroup_id: id,
                name: name_of(&mut names, id),
                denied: d(s.denied, prev.denied),
                killed: d(s.killed, prev.killed),
                trapped: d(s.trapped, prev.trapped),
                logged: d(s.logged, prev.logged),
                allowed: d(s.allowed, prev.allowed),
                events_dropped: d(s.events_dropped, prev.events_dropped),
                rare: rare.remove(&id).unwrap_or_default(),
            });
            now.insert(id, s);
        }
        last = now;
        rank(&mut rows);
        if args.json {
            #[derive(Serialize)]
            struct Refresh<'a> {
                interval_s: f64,
                cgroups: &'a [Row],
            }
            crate::out::json_line(&Refresh {
                interval_s: args.interval,
                cgroups: &rows,
            })?;
        } else {
            if tty {
                out!("\x1b[H\x1b[2J")?;
            } else if done > 0 {
                outln!()?;
            }
            print_table(&rows, args.interval)?;
        }
        done += 1;
    }
    Ok(Code::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u64, denied: u64, rare: &[&str], logged: u64) -> Row {
        Row {
            cgroup_id: id,
            name: String::new(),
            denied,
            killed: 0,
            trapped: 0,
            logged,
            allowed: 0,
            events_dropped: 0,
            rare: rare.iter().map(|n| (n.to_string(), 1)).collect(),
        }
    }

    #[test]
    fn ordinary_calls_come_from_the_docker_profile() {
        let o = ordinary_syscalls();
        assert!(o.len() > 300, "{}", o.len());
        for n in ["read", "write", "openat", "getppid", "futex", "execve"] {
            assert!(o.contains(n), "{n}");
        }
        // Refused by default, or allowed only with a capability or argument.
        for n in [
            "mount",
            "ptrace",
            "bpf",
            "unshare",
            "keyctl",
            "kexec_load",
            "clone",
            "personality",
        ] {
            assert!(!o.contains(n), "{n}");
        }
    }

    #[test]
    fn rare_names_mark_other_abis() {
        let o = ordinary_syscalls();
        let mount = u64::from(names::number(Abi::X86_64, "mount").unwrap());
        let read = u64::from(names::number(Abi::X86_64, "read").unwrap());
        assert_eq!(
            rare_name(&o, Some(Abi::X86_64), mount).as_deref(),
            Some("mount")
        );
        assert_eq!(rare_name(&o, Some(Abi::X86_64), read), None);
        assert_eq!(
            rare_name(&o, Some(Abi::Ia32), 20).as_deref(),
            Some("ia32:getpid")
        );
        assert_eq!(rare_name(&o, None, 1), None);
    }

    #[test]
    fn ranking_puts_refusals_first_then_rare_calls_then_logs() {
        let mut rows = vec![
            row(1, 0, &[], 50),
            row(2, 0, &["mount", "bpf"], 0),
            row(3, 10, &[], 0),
            row(4, 0, &["ptrace"], 0),
            row(5, 0, &[], 0),
        ];
        rank(&mut rows);
        let order: Vec<u64> = rows.iter().map(|r| r.cgroup_id).collect();
        assert_eq!(order, vec![3, 2, 4, 1, 5]);
    }
}
