// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy …` and `sysfence stats`.

use crate::client::{find, Client};
use crate::exit::Code;
use crate::policy::{from_wire, PolicyFile};
use crate::target;
use clap::{Args, Subcommand};
use serde::Serialize;
use std::error::Error;
use sysfence_abi::nla::{Iter, Writer, F_NESTED};
use sysfence_abi::proto::{attr, Cmd};

type Res = Result<Code, Box<dyn Error>>;

/// Which cgroup a command acts on.
#[derive(Args)]
pub struct Target {
    /// The cgroup: a path (absolute, or relative to /sys/fs/cgroup) or a
    /// cgroup id (the inode number of its directory).
    #[arg(long, value_name = "PATH|ID")]
    cgroup: String,
}

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Set or atomically replace a cgroup's policy from a file (JSON or YAML).
    ///
    /// Every syscall of every task in the cgroup and below it is decided by
    /// the new policy from the next call on; no call sees a mix of the old
    /// and the new. The file format is described in docs/ABI.md.
    ///
    /// Example: sysfence policy apply --cgroup mycontainer policy.yaml
    Apply {
        #[command(flatten)]
        target: Target,
        /// The policy file ('-' for standard input).
        file: String,
        /// Check and encode the policy, but do not apply it.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a cgroup's policy as the kernel holds it (as YAML, or --json).
    ///
    /// Example: sysfence policy get --cgroup mycontainer
    Get {
        #[command(flatten)]
        target: Target,
        /// Print JSON instead of YAML.
        #[arg(long)]
        json: bool,
    },
    /// List the cgroups that have a policy.
    ///
    /// Example: sysfence policy list --json
    List {
        /// Print one JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Remove a cgroup's policy: its tasks are unfiltered from the next call.
    ///
    /// Example: sysfence policy delete --cgroup mycontainer
    Delete {
        #[command(flatten)]
        target: Target,
    },
}

#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    target: Target,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

fn cgroup_attr(id: u64) -> Vec<u8> {
    let mut buf = vec![0u8; 12];
    let mut w = Writer::new(&mut buf);
    // 12 bytes always hold one u64 attribute.
    let _ = w.put_u64(attr::CGROUP_ID, id);
    buf
}

pub fn policy(cmd: PolicyCmd) -> Res {
    match cmd {
        PolicyCmd::Apply {
            target,
            file,
            dry_run,
        } => {
            let text = if file == "-" {
                std::io::read_to_string(std::io::stdin())?
            } else {
                std::fs::read_to_string(&file).map_err(|e| format!("{file}: {e}"))?
            };
            let payload = PolicyFile::parse(&text)
                .and_then(|p| p.to_wire())
                .map_err(|e| format!("{file}: {e}"))?;
            let id = target::resolve(&target.cgroup)?;
            if dry_run {
                println!("{file}: valid ({} bytes on the wire)", payload.len());
                return Ok(Code::Ok);
            }
            let mut msg = cgroup_attr(id);
            let mut nest = vec![0u8; payload.len() + 4];
            Writer::new(&mut nest)
                .put(attr::POLICY | F_NESTED, &payload)
                .map_err(|_| "policy too large for one netlink attribute (64 KiB)")?;
            msg.extend_from_slice(&nest);
            Client::connect()?.request(Cmd::PolicySet, &msg)?;
            eprintln!("sysfence: policy applied to cgroup {id}");
            Ok(Code::Ok)
        }
        PolicyCmd::Get { target, json } => {
            let id = target::resolve(&target.cgroup)?;
            let replies = Client::connect()?.request(Cmd::PolicyGet, &cgroup_attr(id))?;
            let reply = replies.first().ok_or("no reply")?;
            let p = find(reply, attr::POLICY).ok_or("reply without a policy")?;
            let file = from_wire(&p)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&file)?);
            } else {
                print!("{}", serde_yaml::to_string(&file)?);
            }
            Ok(Code::Ok)
        }
        PolicyCmd::List { json } => {
            let replies = Client::connect()?.dump(Cmd::PolicyDump, &[])?;
            #[derive(Serialize)]
            struct Item {
                cgroup_id: u64,
                rules: usize,
            }
            let mut items = Vec::new();
            for r in &replies {
                let id = find(r, attr::CGROUP_ID)
                    .and_then(|a| a.u64())
                    .ok_or("dump entry without cgroup id")?;
                let rules = find(r, attr::POLICY)
                    .map(|p| {
                        p.nested_iter()
                            .flatten()
                            .filter(|a| a.kind == attr::POLICY_ABI)
                            .map(|a| {
                                a.nested_iter()
                                    .flatten()
                                    .filter(|x| x.kind == attr::ABI_RULE)
                                    .count()
                            })
                            .sum()
                    })
                    .unwrap_or(0);
                items.push(Item {
                    cgroup_id: id,
                    rules,
                });
            }
            if json {
                println!("{}", serde_json::to_string(&items)?);
            } else {
                println!("{:>12}  {:>6}", "CGROUP-ID", "RULES");
                for i in &items {
                    println!("{:>12}  {:>6}", i.cgroup_id, i.rules);
                }
            }
            Ok(Code::Ok)
        }
        PolicyCmd::Delete { target } => {
            let id = target::resolve(&target.cgroup)?;
            Client::connect()?.request(Cmd::PolicyDelete, &cgroup_attr(id))?;
            eprintln!("sysfence: policy removed from cgroup {id}");
            Ok(Code::Ok)
        }
    }
}

/// Counters of one cgroup's policy.
#[derive(Serialize, Default, Debug)]
pub struct Stats {
    pub cgroup_id: u64,
    pub allowed: u64,
    pub denied: u64,
    pub logged: u64,
    pub killed: u64,
    pub trapped: u64,
    pub events_sent: u64,
    pub events_dropped: u64,
}

pub fn stats(args: &StatsArgs) -> Res {
    let id = target::resolve(&args.target.cgroup)?;
    let replies = Client::connect()?.request(Cmd::StatsGet, &cgroup_attr(id))?;
    let reply = replies.first().ok_or("no reply")?;
    let nest = find(reply, attr::STATS).ok_or("reply without stats")?;
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
            _ => {}
        }
    }
    if args.json {
        println!("{}", serde_json::to_string(&s)?);
    } else {
        println!(
            "cgroup {}: allowed {} denied {} logged {} killed {} trapped {} events sent {} dropped {}",
            s.cgroup_id, s.allowed, s.denied, s.logged, s.killed, s.trapped, s.events_sent, s.events_dropped
        );
    }
    Ok(Code::Ok)
}
