// SPDX-License-Identifier: GPL-2.0
//! `sysfence`: set, change and remove the syscall policy of running containers.

mod caps;
mod client;
mod commands;
mod events;
mod exit;
mod oci;
mod policy;
mod run;
mod status;
mod target;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Live, per-container syscall filtering.
///
/// sysfence attaches a syscall policy to a container's cgroup and lets you
/// change or remove it while the container runs, with no restart. The policies
/// are enforced by the sysfence kernel module (sysfence.ko).
///
/// Example: sysfence policy apply --cgroup mycontainer policy.yaml
#[derive(Parser)]
#[command(name = "sysfence", version = sysfence_abi::proto::RELEASE)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show whether the sysfence kernel module is loaded, with its limits.
    ///
    /// Exit status 0 when it is loaded, 3 when it is not.
    ///
    /// Example: sysfence status --json
    Status(status::Args),
    /// Apply, show, list and delete policies.
    #[command(subcommand)]
    Policy(commands::PolicyCmd),
    /// Show the counters of a cgroup's policy.
    ///
    /// Example: sysfence stats --cgroup mycontainer --json
    Stats(commands::StatsArgs),
    /// Follow denials, LOG hits, traps and kills as they happen.
    ///
    /// Each event names the task (pid, tid, comm, its cgroup), the call
    /// (ABI, syscall, the six argument registers) and the action taken.
    /// The kernel sends at most 1000 events per second per policy and
    /// counts the rest as dropped (see `sysfence stats`). Needs
    /// CAP_NET_ADMIN. Runs until interrupted, --count or --duration.
    ///
    /// Example: sysfence events --cgroup mycontainer --json
    Events(events::EventsArgs),
    /// Run a command in a new cgroup under a policy, from its first
    /// instruction.
    ///
    /// The policy (a native file or a seccomp profile) is set on a transient
    /// cgroup before the command starts, so even its execve is decided by
    /// it; it can be changed live like any other (`sysfence policy apply
    /// --cgroup sysfence-run-PID`). When the command ends, anything it left
    /// running in the cgroup is killed and the cgroup removed. The exit
    /// status is the command's (128+N for death by signal N); 125 when
    /// sysfence fails, 126/127 when the command cannot be run or found.
    ///
    /// Example: sysfence run --policy docker-default.json -- nginx -g 'daemon off;'
    Run(run::RunArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Status(args) => status::run(&args),
        Command::Policy(cmd) => commands::policy(cmd),
        Command::Stats(args) => commands::stats(&args),
        Command::Events(args) => events::run(&args),
        Command::Run(args) => return run::run(&args),
    };
    match result {
        Ok(code) => code.into(),
        Err(err) => {
            eprintln!("sysfence: {err}");
            exit::Code::Error.into()
        }
    }
}
