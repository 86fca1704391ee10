// SPDX-License-Identifier: GPL-2.0
//! `sysfence`: set, change and remove the syscall policy of running containers.

#[cfg(feature = "agent")]
mod agent;
mod cli;
mod exit;
mod host;
mod kernel;
mod node;
mod out;
mod policy;

use cli::{bench, events, hook, man, record, run, status, top};

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Live, per-container syscall filtering.
///
/// sysfence attaches a syscall policy to a container's cgroup and lets you
/// change or remove it while the container runs, with no restart. The policies
/// are enforced by the sysfence kernel module (sysfence.ko).
///
/// Examples:
///   sysfence policy apply --container 4f1c2a docker-default.json
///   sysfence events --container 4f1c2a
///   sysfence run --policy policy.yaml -- ./server
///
/// Every command that acts on a cgroup takes it as --cgroup PATH|ID,
/// --pid PID or --container ID|NAME. Every command that reads takes
/// --json: one JSON document on one line (events and top: one line per
/// event or refresh), so output can be read line by line.
///
/// Exit status: 0 success (also when the reader of the output closes the
/// pipe early, as `| head` does); 1 error (explained on stderr, a failed
/// write to the output included); 2 usage error; 3 the kernel module is
/// not loaded; 4 `policy diff` found differences; 5 the loaded module
/// speaks another protocol version than this sysfence. `run` passes the
/// command's status through (125-127: sysfence failed).
#[derive(Parser)]
#[command(verbatim_doc_comment)]
#[command(name = "sysfence", version = sysfence_abi::proto::RELEASE)]
struct Cli {
    /// The architecture of the kernel policies are encoded for: x86_64
    /// (ABIs x86_64, ia32, x32) or aarch64 (aarch64, arm), by default this
    /// host's. A kernel refuses a policy of another architecture; policy
    /// files and profiles name ABIs of the one given, and a native file
    /// without `abis` describes its native and 32-bit ABIs (x86_64 and
    /// ia32, or aarch64 and arm). For checking or converting policies for
    /// another machine: `sysfence --arch aarch64 policy check FILE`.
    #[arg(long, global = true, env = "SYSFENCE_ARCH", value_name = "ARCH")]
    arch: Option<ArchName>,
    #[command(subcommand)]
    command: Command,
}

/// `--arch`: a target architecture as `uname -m` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum ArchName {
    /// An x86_64 kernel (ABIs x86_64, ia32, x32).
    #[value(name = "x86_64")]
    X86_64,
    /// An arm64 kernel (ABIs aarch64, arm).
    #[value(name = "aarch64", alias = "arm64")]
    Aarch64,
}

impl From<ArchName> for sysfence_abi::proto::Arch {
    fn from(a: ArchName) -> Self {
        match a {
            ArchName::X86_64 => Self::X86,
            ArchName::Aarch64 => Self::Arm64,
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Show whether the sysfence kernel module is loaded, with its limits.
    ///
    /// Exit status 0 when it is loaded and speaks this manager's protocol,
    /// 3 when it is not loaded, 5 when it speaks another protocol version.
    ///
    /// Example: sysfence status --json
    Status(status::Args),
    /// Apply, show, list and delete policies; check, show, test, diff and
    /// convert policy files without the module.
    #[command(subcommand)]
    Policy(cli::policy::PolicyCmd),
    /// Show the counters of a cgroup's policy.
    ///
    /// Example: sysfence stats --cgroup mycontainer --json
    Stats(cli::stats::StatsArgs),
    /// Follow denials, LOG hits, traps and kills as they happen.
    ///
    /// Each event names the task (pid, tid, comm, its cgroup), the call
    /// (ABI, syscall, the six argument registers) and the action taken.
    /// The kernel sends at most 1000 events per second per policy and
    /// counts the rest as dropped (see `sysfence stats`). With --cgroup,
    /// --pid or --container, only the events of that cgroup's policy or
    /// of tasks in it. Needs CAP_SYS_ADMIN. Runs until interrupted,
    /// --count or --duration.
    ///
    /// Example: sysfence events --cgroup mycontainer --json
    Events(events::EventsArgs),
    /// Run a command in a new cgroup under a policy, from its first
    /// instruction.
    ///
    /// The policy (a native file or a seccomp profile) is checked and
    /// compiled first, so a bad one touches nothing; then it is set on a
    /// transient cgroup (under --cgroup-root, which must be a cgroup v2
    /// mount) before the command starts, so even its execve is decided by
    /// it; it can be changed live like any other (`sysfence policy apply
    /// --cgroup sysfence-run-PID`). When the command ends, anything it left
    /// running in the cgroup is killed and the cgroup removed. The exit
    /// status is the command's (128+N for death by signal N); 125 when
    /// sysfence fails, 126/127 when the command cannot be run or found.
    ///
    /// Example: sysfence run --policy docker-default.json -- nginx -g 'daemon off;'
    Run(run::RunArgs),
    /// Rank the cgroups with a policy by how suspicious their calls are.
    ///
    /// Each refresh shows, for the last interval, the calls each policy
    /// refused, killed, trapped, logged and allowed, and the rare syscalls
    /// its tasks tried (not allowed unconditionally by Docker's default
    /// profile: mount, ptrace, bpf, unshare, ...; other ABIs as ia32:NAME).
    /// Most refusals first, then most distinct rare calls, then most logs.
    /// Counts are the kernel's exact counters; rare calls come from events
    /// (see `sysfence events`), so only calls a policy refuses or logs show.
    ///
    /// Example: sysfence top --interval 5
    Top(top::TopArgs),
    /// Learn the syscalls a running container uses and write a minimal
    /// seccomp profile.
    ///
    /// For the recording, the container keeps its policy (or, without one,
    /// every call is allowed) and the kernel marks each kind of call it
    /// runs, once, without events. Afterwards the previous policy is put
    /// back and the profile written: the calls seen (and exit, exit_group,
    /// rt_sigreturn, sigreturn, restart_syscall) allowed, only the ABIs
    /// used, everything else refused with EPERM (--errno). As in any OCI
    /// profile, an allowed name holds on every ABI the profile lists.
    ///
    /// Record while the workload does everything it will ever do: a call
    /// it never made in the recording is refused later.
    ///
    /// The profile is a plain OCI profile: apply it with `sysfence policy
    /// apply`, use it with `sysfence run`, or give it to docker run
    /// --security-opt seccomp=FILE: for that, the profile also allows
    /// what runc and crun call between installing it and starting the
    /// program (measured; marked "runtime base" in the file;
    /// --runtime-base none leaves them out).
    ///
    /// Example: sysfence record --container 4f1c2a --duration 300 -o web.json
    #[command(verbatim_doc_comment)]
    Record(record::RecordArgs),
    /// The OCI runtime hook: put a container under its policy before its
    /// program runs.
    ///
    /// Give it to the runtime as a createRuntime hook and as a poststop
    /// hook (the same command); the runtime passes the container's state
    /// on stdin. The policy, in this order:
    ///  1. for a Kubernetes pod's container (the CRI annotations of
    ///     containerd or CRI-O give its pod UID and name), the one the node
    ///     agent's SyscallPolicies select for it, from the agent's
    ///     selection.json in --agent-dir; the hook leaves a claim there so
    ///     the agent owns the cgroup from its next pass. A pod the agent
    ///     has not listed within --agent-wait seconds fails the hook,
    ///     except in the --exempt-namespace namespaces;
    ///  2. the one the annotation sysfence.dev/policy names: an absolute
    ///     path, or a name looked up in --policy-dir (NAME.yaml, NAME.yml,
    ///     NAME.json); a native policy, a SyscallPolicy resource or a
    ///     seccomp profile (whose capability conditions follow the
    ///     container's bounding set);
    ///  3. --default;
    ///
    /// else the container runs unfiltered.
    ///
    /// At createRuntime the policy is set on the container's cgroup to
    /// start at the cgroup's next exec: the runtime's own set-up (mounts,
    /// pivot_root, dropping capabilities) runs unfiltered, and the
    /// container's program is filtered from its first instruction, as
    /// with a seccomp filter the runtime installs. Afterwards the policy
    /// is a live policy like any other: change it with `sysfence policy
    /// apply --container ID`. At poststop the hook removes it.
    ///
    /// Fails closed: on any error (unknown policy, bad file, module not
    /// loaded) it explains on stderr and exits 1, and the runtime does not
    /// start the container.
    ///
    /// Example, in config.json:
    ///   "hooks": {
    ///     "createRuntime": [{"path": "/usr/bin/sysfence",
    ///                        "args": ["sysfence", "oci-hook"]}],
    ///     "poststop": [{"path": "/usr/bin/sysfence",
    ///                   "args": ["sysfence", "oci-hook"]}]
    ///   },
    ///   "annotations": {"sysfence.dev/policy": "web"}
    #[command(verbatim_doc_comment)]
    OciHook(hook::HookArgs),
    /// The Kubernetes node agent: SyscallPolicy resources applied to the
    /// containers of this node's pods.
    ///
    /// Examples:
    ///   sysfence agent crd > crd.yaml
    ///   sysfence agent run --node-name "$NODE_NAME"
    ///   sysfence agent plan --policies policies/ --pods pods.json
    #[cfg(feature = "agent")]
    #[command(subcommand, verbatim_doc_comment)]
    Agent(agent::AgentCmd),
    /// Measurements for the benchmark suite (bench/run.sh).
    ///
    /// Example: sysfence bench apply-latency --cgroup bench docker-default.json --count 2000
    #[command(subcommand, hide = true)]
    Bench(bench::BenchCmd),
    /// Print a shell completion script.
    ///
    /// Example: sysfence completions bash > /etc/bash_completion.d/sysfence
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), generated from this command's help;
    /// with --dir, write every subcommand's page as well.
    ///
    /// Examples:
    ///   sysfence man | man -l -
    ///   sysfence man --dir /usr/local/share/man/man1
    #[command(verbatim_doc_comment)]
    Man(man::ManArgs),
}

/// mimalloc instead of musl's allocator (see manager/Cargo.toml).
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // Usage errors go to stderr and exit 2, as clap does.
        Err(e) if e.use_stderr() => e.exit(),
        // --help and --version go to standard output, whose failures are
        // handled as any command's (clap's own `exit` ignores them).
        Err(e) => {
            return finish(
                e.print()
                    .map_err(|e| out::OutputError::from(e).into())
                    .map(|()| exit::Code::Ok),
            )
        }
    };
    if let Some(a) = cli.arch {
        policy::target::set(a.into());
    }
    let result = match cli.command {
        Command::Status(args) => status::run(&args),
        Command::Policy(cmd) => cli::policy::policy(cmd),
        Command::Stats(args) => cli::stats::stats(&args),
        Command::Events(args) => events::run(&args),
        Command::Run(args) => return run::run(&args),
        Command::Record(args) => record::run(&args),
        Command::Top(args) => top::run(&args),
        Command::OciHook(args) => hook::run(&args),
        Command::Bench(cmd) => bench::run(cmd),
        #[cfg(feature = "agent")]
        Command::Agent(cmd) => agent::run(cmd).map_err(Into::into),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            // Generated into memory: the generators panic on a failed write.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "sysfence", &mut script);
            out::write_bytes(&script)
                .map(|()| exit::Code::Ok)
                .map_err(Into::into)
        }
        Command::Man(args) => {
            use clap::CommandFactory;
            man::run(&args, Cli::command())
        }
    };
    finish(result)
}

/// The exit status of a command's result, with what is left in standard
/// output's buffer written first; an error is one line on stderr. A
/// closed standard output (the reader of a pipe went away) ends the
/// command quietly with status 0.
fn finish(result: Result<exit::Code, cli::Error>) -> ExitCode {
    let result = result.and_then(|code| out::flush().map(|()| code).map_err(Into::into));
    match result {
        Ok(code) => code.into(),
        Err(err) if out::is_closed(err.inner()) => exit::Code::Ok.into(),
        Err(err) => {
            eprintln!("sysfence: {err}");
            exit::Code::of_error(&err).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// The long help of the subcommand at `path`, before its usage line,
    /// laid out for a terminal `width` columns wide.
    fn description(path: &[&str], width: usize) -> String {
        let mut cmd = Cli::command().term_width(width);
        cmd.build();
        let mut c = &mut cmd;
        for p in path {
            c = c.find_subcommand_mut(p).unwrap();
        }
        let help = c.render_long_help().to_string();
        help.split("\nUsage:").next().unwrap().to_string()
    }

    /// Every subcommand, with its path (`["policy", "apply"]`).
    fn all_commands() -> Vec<(Vec<String>, clap::Command)> {
        fn walk(c: &clap::Command, path: Vec<String>, out: &mut Vec<(Vec<String>, clap::Command)>) {
            for s in c.get_subcommands().filter(|s| s.get_name() != "help") {
                let mut p = path.clone();
                p.push(s.get_name().to_string());
                walk(s, p.clone(), out);
                out.push((p, s.clone()));
            }
        }
        let mut cmd = Cli::command();
        cmd.build();
        let mut out = Vec::new();
        walk(&cmd, Vec::new(), &mut out);
        out
    }

    /// The target flags are the same three, in the one group of
    /// `target::Target`, on every command that takes a target; every
    /// command that reads has --json.
    #[test]
    fn target_and_output_flags_are_the_same_everywhere() {
        let flags = ["cgroup", "pid", "container"];
        let mut with_target = Vec::new();
        for (path, c) in all_commands() {
            let has = |f: &str| c.get_arguments().any(|a| a.get_id() == f);
            if flags.iter().any(|f| has(f)) {
                let group = c
                    .get_groups()
                    .find(|g| g.get_id() == crate::host::target::GROUP)
                    .unwrap_or_else(|| panic!("{path:?}: target flags outside the target group"));
                let members: Vec<&str> = group.get_args().map(|a| a.as_str()).collect();
                assert_eq!(members, flags, "{path:?}");
                with_target.push(path.join(" "));
            }
        }
        for want in [
            "policy apply",
            "policy get",
            "stats",
            "events",
            "record",
            "policy diff",
        ] {
            assert!(
                with_target.iter().any(|p| p == want),
                "{want}: {with_target:?}"
            );
        }
        let mut reads = vec![
            "status",
            "stats",
            "events",
            "top",
            "record",
            "policy get",
            "policy list",
            "policy shadow-report",
            "policy check",
            "policy show",
            "policy test",
            "policy diff",
        ];
        if cfg!(feature = "agent") {
            reads.push("agent plan");
        }
        let all = all_commands();
        for r in reads {
            let (_, c) = all.iter().find(|(p, _)| p.join(" ") == r).unwrap();
            assert!(
                c.get_arguments().any(|a| a.get_id() == "json"),
                "{r} has no --json"
            );
        }
    }

    /// Help kept as written (`verbatim_doc_comment`: lists, examples) is
    /// written to fit 80 columns: clap breaks a longer line wherever it
    /// reaches the edge, with no indentation (an example command split
    /// mid-argument).
    #[test]
    fn verbatim_help_fits_80_columns_as_written() {
        let mut paths: Vec<&[&str]> = vec![
            &[],
            &["record"],
            &["oci-hook"],
            &["man"],
            &["policy", "apply"],
            &["policy", "diff"],
            &["policy", "test"],
            &["policy", "convert"],
            &["policy", "export"],
            &["policy", "promote"],
        ];
        if cfg!(feature = "agent") {
            paths.extend([&["agent"][..], &["agent", "plan"], &["agent", "run"]]);
        }
        for path in paths {
            let (narrow, wide) = (description(path, 80), description(path, 1000));
            assert_eq!(
                narrow,
                wide,
                "sysfence {} --help wraps at 80 columns",
                path.join(" ")
            );
            for line in narrow.lines() {
                assert!(line.len() <= 78, "sysfence {}: {line}", path.join(" "));
            }
        }
    }

    #[test]
    fn cli_definition_is_consistent_and_documents_itself() {
        Cli::command().debug_assert();
        let mut out = Vec::new();
        clap_mangen::Man::new(Cli::command())
            .render(&mut out)
            .unwrap();
        assert!(String::from_utf8(out).unwrap().contains("sysfence"));
        let mut out = Vec::new();
        clap_complete::generate(
            clap_complete::Shell::Bash,
            &mut Cli::command(),
            "sysfence",
            &mut out,
        );
        assert!(!out.is_empty());
        // Every subcommand's help has an example.
        for sub in Cli::command().get_subcommands() {
            let mut sub = sub.clone();
            let help = sub.render_long_help().to_string();
            let name = sub.get_name().to_string();
            if name == "policy" || name == "agent" {
                for s in sub.get_subcommands_mut().filter(|s| s.get_name() != "help") {
                    let h = s.render_long_help().to_string();
                    assert!(
                        h.contains("Example"),
                        "{name} {} --help has no example",
                        s.get_name()
                    );
                }
            } else if name != "help" {
                assert!(help.contains("Example"), "{name} --help has no example");
            }
        }
    }
}
