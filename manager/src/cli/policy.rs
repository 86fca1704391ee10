// SPDX-License-Identifier: GPL-2.0
//! `sysfence policy …`.

use crate::cli::offline;
use crate::cli::offline::{load_policy, Caps};
use crate::exit::Code;
use crate::host::target::{self, Target};
use crate::kernel::policy::{rule_count, Entry};
use crate::kernel::Client;
use crate::out::{out, outln};
use crate::policy::native::{from_payload, PolicyFile};
use crate::policy::oci;
use crate::policy::resource::SyscallPolicy;
use clap::Subcommand;
use serde::Serialize;

type Res = Result<Code, crate::cli::Error>;

#[derive(Subcommand)]
pub enum PolicyCmd {
    /// Set or atomically replace a cgroup's policy from a file.
    ///
    /// The file is a native policy (YAML or JSON, see docs/ABI.md), a
    /// SyscallPolicy resource (`kind: SyscallPolicy`; its spec is applied,
    /// in audit mode with refusals turned into log), or an OCI/Docker
    /// seccomp profile (JSON), used unchanged: the format is recognised by
    /// the top-level keys (`defaultAction`, `kind`, `default`). Files over
    /// 4 MiB are refused. A profile's capability conditions are evaluated
    /// against --caps, or else the effective capabilities of a task in the
    /// cgroup; its minKernel conditions against the running kernel.
    ///
    /// Every syscall of every task in the cgroup and below it is decided by
    /// the new policy from the next call on; no call sees a mix of the old
    /// and the new.
    ///
    /// With --shadow the policy goes in as the cgroup's shadow instead: it
    /// is evaluated on every call beside the enforcing policy, changes
    /// nothing the tasks see, and records each call it would decide
    /// differently (`policy shadow-report`, `events`); `policy promote`
    /// then makes it the enforcing policy in one step.
    ///
    /// With --dry-run no target is needed (nor the module): the file is
    /// checked, encoded and compiled as the module would, a profile's
    /// capabilities taken from --caps, a target's task, or else Docker's
    /// default set.
    ///
    /// Examples:
    ///   sysfence policy apply --cgroup mycontainer policy.yaml
    ///   sysfence policy apply --cgroup mycontainer --caps CAP_SYS_ADMIN \
    ///       docker-default.json
    ///   sysfence policy apply --container 4f1c2a --shadow stricter.json
    ///   sysfence policy apply --dry-run docker-default.json
    #[command(verbatim_doc_comment, mut_group(target::GROUP, target::OPTIONAL))]
    Apply {
        #[command(flatten)]
        target: Option<Target>,
        /// The policy file ('-' for standard input).
        file: String,
        /// Check and encode the policy, but do not apply it.
        #[arg(long)]
        dry_run: bool,
        /// Set the policy as the cgroup's shadow (evaluated and recorded,
        /// never enforced); the enforcing policy, if any, stays.
        #[arg(long)]
        shadow: bool,
        /// For seccomp profiles: the capabilities to evaluate `includes` and
        /// `excludes` against, comma-separated (CAP_SYS_ADMIN,net_raw); an
        /// empty string means none.
        #[arg(long, value_name = "LIST")]
        caps: Option<String>,
        /// List the profile rules left out by their conditions.
        #[arg(long, short)]
        verbose: bool,
    },
    /// Compare a cgroup's live policy with a file, or two files, decision
    /// by decision.
    ///
    /// Prints `- LINE` for what only the live policy (or A) does and
    /// `+ LINE` for what only the file (or B) does; exit status 0 when they
    /// decide every call alike, 4 when they differ. Both sides are compared
    /// in the canonical form the module reads policies back in. Against a
    /// live policy, a profile's capabilities come from --caps or a task in
    /// the cgroup; between two files, from --caps or Docker's default set.
    ///
    /// Examples:
    ///   sysfence policy diff --container 4f1c2a policy.yaml
    ///   sysfence policy diff docker-default.json policy.yaml
    #[command(verbatim_doc_comment)]
    Diff(offline::DiffArgs),
    /// Check policy files offline, as the module would: parse, encode,
    /// validate and compile each.
    ///
    /// Prints `FILE: ok (...)` for each valid file and the error, naming
    /// the file (and the line where the parser gives one), for the others;
    /// exit status 1 if any file fails. The format is recognised by the
    /// top-level keys, even when the file does not parse; files over 4 MiB
    /// or nested over 64 levels deep are refused. No module is needed.
    ///
    /// Example: sysfence policy check --strict policies/*.yaml docker-default.json
    Check(offline::CheckArgs),
    /// Print the decisions a policy file makes, in canonical form.
    ///
    /// From the tables the module would compile it to: the default, the
    /// action for other ABIs, and per ABI each syscall that does not get
    /// the default, with its argument rules (the first that holds
    /// decides, else the action marked `otherwise`); then the object
    /// rules. No module is needed.
    ///
    /// Example: sysfence policy show --caps '' docker-default.json
    Show(offline::ShowArgs),
    /// Decide one call with a policy file, and say which rule decided it.
    ///
    /// The call is decided by the tables the module would compile the file
    /// to; the rule is named by where it is in the file (`rules[2]`,
    /// `spec.rules[0]`, `syscalls[7]`), or `default`, or `badAbi`. Exit
    /// status 0 whatever the decision. No module is needed.
    ///
    /// Examples:
    ///   sysfence policy test docker-default.json -- socket 40 1 0
    ///   sysfence policy test --abi ia32 --json policy.yaml -- mount
    #[command(verbatim_doc_comment)]
    Test(offline::TestArgs),
    /// Write a policy file in another format, on standard output.
    ///
    /// The result is read back and compared with the original, decision
    /// by decision; what the format cannot say (object rules, badAbi and
    /// record in an OCI profile) is warned about on stderr. No module is
    /// needed.
    ///
    /// Examples:
    ///   sysfence policy convert policy.yaml --to oci > profile.json
    ///   sysfence policy convert docker-default.json --to syscallpolicy --name web
    #[command(verbatim_doc_comment)]
    Convert(offline::ConvertArgs),
    /// Print a cgroup's policy as an OCI seccomp profile (JSON) or as a
    /// SyscallPolicy resource (YAML).
    ///
    /// Examples:
    ///   sysfence policy export --cgroup mycontainer > profile.json
    ///   sysfence policy export --container 4f1c2a --format syscallpolicy --name web
    #[command(verbatim_doc_comment)]
    Export {
        #[command(flatten)]
        target: Target,
        /// What to write.
        #[arg(long, value_enum, default_value = "oci")]
        format: ExportFormat,
        /// For syscallpolicy: metadata.name (default: cgroup-ID).
        #[arg(long, value_name = "NAME")]
        name: Option<String>,
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
        /// Print the cgroup's shadow policy instead.
        #[arg(long)]
        shadow: bool,
    },
    /// Make a cgroup's shadow its enforcing policy, in one atomic step.
    ///
    /// Every call is decided wholly by the old policies or wholly by the
    /// new ones. The policy that was enforcing becomes the shadow, with an
    /// empty record, so `promote` again rolls back. A shadow set on a
    /// cgroup with no policy leaves "no policy" as the shadow.
    ///
    /// Example, promoting only a shadow whose record is clean:
    ///   sysfence policy shadow-report --container 4f1c2a &&
    ///       sysfence policy promote --container 4f1c2a
    #[command(verbatim_doc_comment)]
    Promote {
        #[command(flatten)]
        target: Target,
    },
    /// Drop a cgroup's shadow policy and its record.
    ///
    /// Example: sysfence policy discard-shadow --container 4f1c2a
    DiscardShadow {
        #[command(flatten)]
        target: Target,
    },
    /// What a cgroup's shadow would have changed since it was set.
    ///
    /// One line per syscall (and object class) it would have decided
    /// differently: how many calls, the shadow's and the enforced answer,
    /// which programs made them, first and last seen. Exit status 0 when
    /// the record is clean, 4 when it is not, so a script can gate
    /// `promote` on it.
    ///
    /// Example: sysfence policy shadow-report --container 4f1c2a --json
    ShadowReport {
        #[command(flatten)]
        target: Target,
        /// Print one JSON object.
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

/// `policy export --format`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ExportFormat {
    /// An OCI/Docker seccomp profile (JSON).
    Oci,
    /// A SyscallPolicy resource (YAML).
    Syscallpolicy,
}

/// The enforcing policy, or with `shadow` the shadow policy, the kernel
/// holds for a cgroup, as a policy file.
fn live_policy(target: &Target, shadow: bool) -> Result<PolicyFile, crate::cli::Error> {
    let id = target.resolve()?.id;
    let mut client = Client::connect()?;
    let wire = if shadow {
        client.get_shadow(id)?
    } else {
        client.get_policy(id)?
    };
    let wire = wire.ok_or_else(|| {
        if shadow {
            format!("cgroup {id} has no shadow policy")
        } else {
            format!("cgroup {id} has no policy")
        }
    })?;
    Ok(from_payload(&wire)?)
}

pub fn policy(cmd: PolicyCmd) -> Res {
    match cmd {
        PolicyCmd::Apply {
            target,
            file,
            dry_run,
            shadow,
            caps,
            verbose,
        } => {
            if dry_run {
                return offline::dry_run(target, &file, caps.as_deref(), verbose);
            }
            apply(target, &file, shadow, caps.as_deref(), verbose)
        }
        PolicyCmd::Diff(args) => offline::diff(&args),
        PolicyCmd::Check(args) => offline::check(&args),
        PolicyCmd::Show(args) => offline::show(&args),
        PolicyCmd::Test(args) => offline::test(&args),
        PolicyCmd::Convert(args) => offline::convert(&args),
        PolicyCmd::Export {
            target,
            format,
            name,
        } => export(&target, format, name),
        PolicyCmd::Promote { target } => {
            let id = target.resolve()?.id;
            Client::connect()?.promote(id)?;
            eprintln!("sysfence: shadow promoted on cgroup {id}; the policy it replaced is the shadow now (promote again to roll back)");
            Ok(Code::Ok)
        }
        PolicyCmd::DiscardShadow { target } => {
            let id = target.resolve()?.id;
            Client::connect()?.discard_shadow(id)?;
            eprintln!("sysfence: shadow policy removed from cgroup {id}");
            Ok(Code::Ok)
        }
        PolicyCmd::ShadowReport { target, json } => {
            crate::cli::shadow::report(target.resolve()?.id, json)
        }
        PolicyCmd::Get {
            target,
            json,
            shadow,
        } => get(&target, json, shadow),
        PolicyCmd::List { json } => list(json),
        PolicyCmd::Delete { target } => {
            let id = target.resolve()?.id;
            Client::connect()?.delete_policy(id)?;
            eprintln!("sysfence: policy removed from cgroup {id}");
            Ok(Code::Ok)
        }
    }
}

/// `policy apply` (not a dry run): read, encode and set the policy, as the
/// enforcing one or as the shadow.
fn apply(
    target: Option<Target>,
    file: &str,
    shadow: bool,
    caps: Option<&str>,
    verbose: bool,
) -> Res {
    let resolved = offline::need_target(target)?.resolve_for_policy()?;
    let id = resolved.id;
    let policy = load_policy(file, &resolved, Caps::flag(caps, Caps::OfTarget), verbose)?;
    let payload = policy
        .to_wire()
        .map_err(|e| crate::cli::Error::policy(file, e))?;
    for w in policy.warnings() {
        eprintln!("sysfence: {file}: warning: {w}");
    }
    if shadow {
        Client::connect()?.set_shadow(id, &payload)?;
        eprintln!("sysfence: shadow policy set on cgroup {id} (recorded, not enforced; see `sysfence policy shadow-report`)");
    } else {
        Client::connect()?.set_policy(id, &payload)?;
        eprintln!("sysfence: policy applied to cgroup {id}");
    }
    Ok(Code::Ok)
}

/// `policy export`: the live policy as a seccomp profile or a resource.
fn export(target: &Target, format: ExportFormat, name: Option<String>) -> Res {
    let id = target.resolve()?.id;
    let file = live_policy(target, false)?;
    match format {
        ExportFormat::Oci => {
            if !file.objects.is_empty() {
                eprintln!("sysfence: the policy's object rules (files, exec, sockets) have no OCI form and are left out; --format syscallpolicy keeps them");
            }
            outln!("{}", serde_json::to_string_pretty(&oci::export(&file))?)?
        }
        ExportFormat::Syscallpolicy => {
            let name = name.unwrap_or_else(|| format!("cgroup-{id}"));
            let r = SyscallPolicy::of_policy(&name, file);
            let text = r.to_yaml()?;
            // What is printed must read back.
            SyscallPolicy::parse(&text).map_err(|e| format!("--name {name}: {e}"))?;
            out!("{text}")?;
        }
    }
    Ok(Code::Ok)
}

/// `policy get`: the live policy (or shadow) as YAML or one JSON line.
fn get(target: &Target, json: bool, shadow: bool) -> Res {
    let file = live_policy(target, shadow)?;
    if json {
        crate::out::json_line(&file)?;
    } else {
        out!("{}", serde_norway::to_string(&file)?)?;
    }
    Ok(Code::Ok)
}

/// One line of `policy list`.
#[derive(Serialize)]
struct Item {
    cgroup_id: u64,
    /// Rules of the enforcing policy.
    rules: usize,
    /// Whether the cgroup has an enforcing policy (it may have
    /// only a shadow).
    enforcing: bool,
    /// Set by `oci-hook`: not in force until the cgroup's next exec.
    waiting_for_exec: bool,
    /// The cgroup has a shadow policy ("none" after a promote
    /// of a shadow set on a cgroup without a policy).
    #[serde(skip_serializing_if = "Option::is_none")]
    shadow: Option<&'static str>,
}

impl Item {
    fn of(e: &Entry) -> Item {
        Item {
            cgroup_id: e.cgroup_id,
            rules: e.policy.as_deref().map_or(0, rule_count),
            enforcing: e.policy.is_some(),
            waiting_for_exec: e.waiting_for_exec,
            shadow: if e.shadow.is_some() {
                Some("policy")
            } else if e.shadow_none {
                Some("none")
            } else {
                None
            },
        }
    }
}

/// `policy list`: every cgroup with a policy or a shadow.
fn list(json: bool) -> Res {
    let items: Vec<Item> = Client::connect()?
        .dump_policies()?
        .iter()
        .map(Item::of)
        .collect();
    if json {
        crate::out::json_line(&items)?;
        return Ok(Code::Ok);
    }
    outln!("{:>12}  {:>6}  STATE", "CGROUP-ID", "RULES")?;
    for i in &items {
        let state = if !i.enforcing {
            "no policy"
        } else if i.waiting_for_exec {
            "waiting for exec"
        } else {
            "in force"
        };
        let shadow = match i.shadow {
            Some("none") => ", shadow: no policy",
            Some(_) => ", shadow",
            None => "",
        };
        outln!("{:>12}  {:>6}  {state}{shadow}", i.cgroup_id, i.rules)?;
    }
    Ok(Code::Ok)
}
