// SPDX-License-Identifier: GPL-2.0
//! `sysfence stats`: the counters of a cgroup's policy.

use crate::exit::Code;
use crate::host::target::Target;
use crate::kernel::Client;
use crate::out::outln;
use clap::Args;
use sysfence_abi::proto::Abi;

type Res = Result<Code, crate::cli::Error>;

#[derive(Args)]
pub struct StatsArgs {
    #[command(flatten)]
    target: Target,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

pub fn stats(args: &StatsArgs) -> Res {
    let id = args.target.resolve()?.id;
    let s = Client::connect()?.stats(id)?;
    if args.json {
        // The counters, and the calls a recording policy saw, by ABI.
        let mut recorded = serde_json::Map::new();
        for abi in Abi::EVERY {
            let names: Vec<String> = s
                .seen_numbers(*abi)
                .into_iter()
                .map(|n| {
                    sysfence_abi::names::name(*abi, n).map_or_else(|| n.to_string(), str::to_string)
                })
                .collect();
            if !names.is_empty() {
                recorded.insert(abi.name().to_string(), names.into());
            }
        }
        if recorded.is_empty() {
            crate::out::json_line(&s)?;
        } else {
            let mut v = serde_json::to_value(&s)?;
            v["recorded"] = recorded.into();
            crate::out::json_line(&v)?;
        }
    } else {
        outln!(
            "cgroup {}: allowed {} denied {} logged {} killed {} trapped {} events sent {} dropped {}",
            s.cgroup_id, s.allowed, s.denied, s.logged, s.killed, s.trapped, s.events_sent, s.events_dropped
        )?;
    }
    Ok(Code::Ok)
}
