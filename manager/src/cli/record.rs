// SPDX-License-Identifier: GPL-2.0
//! `sysfence record`: learn the syscalls a running container uses and write
//! the smallest seccomp profile that lets it do the same again.
//!
//! The container's policy is replaced, for the recording, by the same
//! policy with the `record` flag (or, when it has none, by one that allows
//! everything and records). The kernel then sets one bit per (ABI, syscall)
//! the first time such a call runs: no events, no flood, nothing lost to a
//! rate limit, and after the first call of each kind only a read of a
//! shared cache line. At the end the previous policy is put back exactly as
//! it was (or removed, if there was none) and the bitmaps become the
//! profile's allow list.

use crate::exit::Code;
use crate::kernel::client::Client;
use crate::policy::native::from_payload;
use crate::policy::oci;

use crate::host::target::Target;
use crate::policy::native::{AbiName, ActionName, PolicyFile, RuleSpec};
use crate::policy::runtime_base;
use serde::Serialize;

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use sysfence_abi::names;
use sysfence_abi::proto::Abi;

/// Syscalls every recorded profile allows although a short recording may
/// not see them: the end of a process and the returns from a signal
/// handler or an interrupted sleep. Denying them breaks a process in ways
/// that have nothing to do with what it is allowed to do.
pub const ALWAYS: &[&str] = &[
    "exit",
    "exit_group",
    "rt_sigreturn",
    "sigreturn",
    "restart_syscall",
];

#[derive(clap::Args)]
pub struct RecordArgs {
    #[command(flatten)]
    target: Target,
    /// How long to record, in seconds. Ctrl-C (or SIGTERM) ends the
    /// recording early and still writes the profile.
    #[arg(long, short, value_name = "SECONDS", default_value_t = 60.0)]
    duration: f64,
    /// Where to write the profile ('-' for standard output).
    #[arg(long, short, value_name = "FILE")]
    output: String,
    /// The errno every call outside the profile gets (EPERM by default).
    #[arg(long, value_name = "N", default_value_t = 1)]
    errno: u16,
    /// Also print what was recorded as one JSON object on standard output
    /// (not with `-o -`).
    #[arg(long)]
    json: bool,
    /// Also allow what these container runtimes call between installing
    /// a seccomp filter and starting the container's program (measured,
    /// and marked in the profile by a comment), so that the profile works
    /// as the runtime's own: docker run --security-opt seccomp=FILE,
    /// podman's, a bundle's linux.seccomp. `none` for a profile used only
    /// with sysfence.
    #[arg(long, value_enum, value_name = "RUNTIMES", default_value = "all")]
    runtime_base: runtime_base::Which,
}

/// What a recording found, per ABI.
#[derive(Serialize, Debug, Default)]
pub struct Recorded {
    pub cgroup_id: u64,
    pub seconds: f64,
    /// Syscall names per ABI, sorted.
    pub syscalls: std::collections::BTreeMap<&'static str, Vec<String>>,
    /// Numbers that have no name in this manager's tables, per ABI.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub unnamed: std::collections::BTreeMap<&'static str, Vec<u32>>,
    /// The names the runtime base added (not recorded), sorted.
    pub runtime_base: Vec<&'static str>,
    /// Calls threads were blocked in when the recording began, per ABI
    /// (in `syscalls` too; see [`crate::host::inflight`]).
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub blocked: std::collections::BTreeMap<&'static str, Vec<String>>,
}

/// The minimal profile for what was recorded: the recorded names (and
/// [`ALWAYS`]) allowed, everything else refused with `errno`, only the
/// ABIs that were used.
pub fn profile_of(rec: &Recorded, errno: u16) -> PolicyFile {
    let family = crate::policy::target::arch().abis();
    let mut abis = vec![AbiName::from(crate::policy::target::native_abi())];
    for abi in family.iter().skip(1) {
        if rec.syscalls.get(abi.name()).is_some_and(|v| !v.is_empty()) {
            abis.push(AbiName::from(*abi));
        }
    }
    let mut names: Vec<String> = rec.syscalls.values().flatten().cloned().collect();
    names.extend(
        ALWAYS
            .iter()
            .filter(|n| {
                abis.iter()
                    .any(|a| names::number(Abi::from(*a), n).is_some())
            })
            .map(|s| s.to_string()),
    );
    names.sort();
    names.dedup();
    PolicyFile {
        default: ActionName::Errno,
        default_errno: Some(errno),
        abis,
        bad_abi: None,
        record: false,
        objects: Default::default(),
        rules: vec![RuleSpec {
            syscalls: names.into(),
            action: ActionName::Allow,
            errno: None,
            args: Vec::new(),
            abis: None,
        }],
    }
}

/// Adds the calls threads were blocked in at the start (`blocked`) that
/// the recording did not see, to `syscalls` and to `blocked`.
fn add_blocked(rec: &mut Recorded, blocked: &[(Abi, u32)]) {
    for (abi, nr) in blocked {
        let Some(name) = names::name(*abi, *nr) else {
            continue;
        };
        let seen = rec.syscalls.entry(abi.name()).or_default();
        if !seen.iter().any(|n| n == name) {
            seen.push(name.to_string());
            seen.sort();
            rec.blocked
                .entry(abi.name())
                .or_default()
                .push(name.to_string());
        }
    }
}

/// Adds the runtime base's names that the profile does not allow yet, as
/// one entry of their own with a comment saying where they come from;
/// returns them.
pub fn add_runtime_base(
    profile: &mut oci::Profile,
    bases: &[&runtime_base::Base],
) -> Vec<&'static str> {
    let (names, from) = runtime_base::names_of(bases);
    let allowed = |n: &str| {
        profile.syscalls.iter().any(|s| {
            s.action == "SCMP_ACT_ALLOW" && s.args.is_empty() && s.names.iter().any(|x| x == n)
        })
    };
    let extra: Vec<&'static str> = names.into_iter().filter(|n| !allowed(n)).collect();
    if !extra.is_empty() {
        profile.syscalls.push(oci::Syscall {
            names: extra.iter().map(|s| s.to_string()).collect(),
            action: "SCMP_ACT_ALLOW".into(),
            comment: Some(format!(
                "runtime base: what {from} call after installing the filter and before the container's program starts (not recorded; see sysfence record --runtime-base)"
            )),
            ..oci::Syscall::default()
        });
    }
    extra
}

/// Set by SIGINT and SIGTERM: end the recording now.
static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
}

fn catch_stop_signals() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: installs an async-signal-safe handler (one atomic store);
        // the sigaction struct is fully initialized.
        unsafe {
            let mut sa: libc::sigaction = std::mem::zeroed();
            sa.sa_sigaction = on_signal as *const () as usize;
            libc::sigemptyset(&mut sa.sa_mask);
            libc::sigaction(sig, &sa, std::ptr::null_mut());
        }
    }
}

pub fn run(args: &RecordArgs) -> Result<Code, crate::cli::Error> {
    if !(args.duration.is_finite() && args.duration > 0.0) {
        return Err(format!(
            "--duration {}: want a number of seconds above 0",
            args.duration
        )
        .into());
    }
    if args.json && args.output == "-" {
        return Err("--json prints to standard output, and so does -o -: give -o a file".into());
    }
    if u32::from(args.errno) > sysfence_abi::proto::limits::MAX_ERRNO {
        return Err(crate::cli::Error::arg(
            format!("--errno {}", args.errno),
            "above 4095",
        ));
    }
    let target = args.target.resolve_for_policy()?;
    let id = target.id;
    let mut client = Client::connect()?;
    let before = client.get_policy(id)?;
    let mut recording = match &before {
        Some(w) => from_payload(w)?,
        None => PolicyFile {
            default: ActionName::Allow,
            default_errno: None,
            abis: crate::policy::target::arch()
                .abis()
                .iter()
                .map(|a| AbiName::from(*a))
                .collect(),
            bad_abi: None,
            record: false,
            rules: Vec::new(),
            objects: Default::default(),
        },
    };
    if recording.record {
        return Err(format!(
            "cgroup {id} is already being recorded (its policy has the record flag): is another `sysfence record` running?"
        )
        .into());
    }
    recording.record = true;
    let recording_wire = recording.to_wire()?;
    catch_stop_signals();
    client.set_policy(id, &recording_wire)?;
    // The module reads policies back in canonical form: what it holds now
    // is what to look for at the end.
    let recording_wire = client.get_policy(id)?.unwrap_or(recording_wire);
    // Calls entered before the policy was in force, still running.
    let blocked = target
        .dir
        .as_deref()
        .map(|d| crate::host::inflight::blocked_calls(d, std::path::Path::new("/proc")))
        .unwrap_or_default();
    eprintln!(
        "sysfence: recording cgroup {id} for {} s{} (Ctrl-C ends it early)",
        args.duration,
        if before.is_some() {
            " under its current policy"
        } else {
            ", every call allowed"
        }
    );
    let start = Instant::now();
    let deadline = start + Duration::from_secs_f64(args.duration);
    while !STOP.load(Ordering::Relaxed) {
        let Some(left) = deadline.checked_duration_since(Instant::now()) else {
            break;
        };
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
    let seconds = start.elapsed().as_secs_f64();
    let stats = client.stats(id);
    // Put the previous policy back, unless someone replaced ours meanwhile.
    let now = client.get_policy(id)?;
    if now.as_deref() == Some(recording_wire.as_slice()) {
        match &before {
            Some(w) => client.set_policy(id, w)?,
            None => client.delete_policy(id)?,
        }
    } else {
        eprintln!(
            "sysfence: the policy of cgroup {id} was changed or removed during the recording: left as it is now; the record covers the calls made until then"
        );
    }
    let stats = stats?;
    let mut rec = Recorded {
        cgroup_id: id,
        seconds: (seconds * 10.0).round() / 10.0,
        ..Recorded::default()
    };
    for abi in Abi::EVERY {
        let nrs = stats.seen_numbers(*abi);
        if nrs.is_empty() {
            continue;
        }
        let mut named = Vec::new();
        let mut unnamed = Vec::new();
        for nr in nrs {
            match names::name(*abi, nr) {
                Some(n) => named.push(n.to_string()),
                None => unnamed.push(nr),
            }
        }
        named.sort();
        rec.syscalls.insert(abi.name(), named);
        if !unnamed.is_empty() {
            rec.unnamed.insert(abi.name(), unnamed);
        }
    }
    add_blocked(&mut rec, &blocked);
    for (abi, nrs) in &rec.unnamed {
        eprintln!(
            "sysfence: {abi} syscall number(s) without a name, left out of the profile: {nrs:?}"
        );
    }
    for (abi, names) in &rec.blocked {
        eprintln!(
            "sysfence: {abi}: added what threads were blocked in when the recording began: {}",
            names.join(", ")
        );
    }
    let mut profile = oci::export(&profile_of(&rec, args.errno));
    rec.runtime_base = add_runtime_base(&mut profile, &args.runtime_base.bases());
    let text = serde_json::to_string_pretty(&profile)? + "\n";
    if args.output == "-" {
        crate::out::write_str(&text)?;
    } else {
        // Written next to the target and renamed: never a half profile.
        let tmp = format!("{}.tmp-{}", args.output, std::process::id());
        std::fs::write(&tmp, &text).map_err(|e| crate::cli::Error::file(&tmp, e))?;
        std::fs::rename(&tmp, &args.output)
            .map_err(|e| crate::cli::Error::file(&args.output, e))?;
    }
    let counts: Vec<String> = rec
        .syscalls
        .iter()
        .map(|(abi, v)| format!("{} {abi}", v.len()))
        .collect();
    eprintln!(
        "sysfence: recorded {} in {:.1} s; profile written to {}",
        if counts.is_empty() {
            "no calls".to_string()
        } else {
            format!("{} syscalls", counts.join(", "))
        },
        seconds,
        if args.output == "-" {
            "standard output"
        } else {
            &args.output
        }
    );
    if args.json {
        crate::out::json_line(&rec)?;
    }
    Ok(Code::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::native::decide_with;
    use sysfence_abi::proto::action;

    fn recorded(x86_64: &[&str], ia32: &[&str]) -> Recorded {
        let mut r = Recorded::default();
        r.syscalls
            .insert("x86_64", x86_64.iter().map(|s| s.to_string()).collect());
        if !ia32.is_empty() {
            r.syscalls
                .insert("ia32", ia32.iter().map(|s| s.to_string()).collect());
        }
        r
    }

    fn nr(abi: Abi, name: &str) -> u32 {
        names::number(abi, name).unwrap()
    }

    #[test]
    fn calls_threads_were_blocked_in_are_added_once_and_listed() {
        let mut r = recorded(&["read", "write"], &[]);
        let futex = nr(Abi::X86_64, "futex");
        let write = nr(Abi::X86_64, "write");
        add_blocked(
            &mut r,
            &[
                (Abi::X86_64, futex),
                (Abi::X86_64, write),
                (Abi::X86_64, 1_000),
            ],
        );
        assert_eq!(r.syscalls["x86_64"], ["futex", "read", "write"]);
        assert_eq!(r.blocked["x86_64"], ["futex"]);
        let p = profile_of(&r, 1);
        assert_eq!(decide_with(&p, Abi::X86_64, futex, [0; 6]), action::ALLOW);
    }

    #[test]
    fn profile_allows_what_was_recorded_and_refuses_the_rest() {
        let p = profile_of(&recorded(&["read", "write", "getppid"], &[]), 1);
        let allow = |n| decide_with(&p, Abi::X86_64, nr(Abi::X86_64, n), [0; 6]);
        assert_eq!(allow("getppid"), action::ALLOW);
        assert_eq!(allow("exit_group"), action::ALLOW, "always allowed");
        assert_eq!(allow("mount"), action::ERRNO | 1);
        // ia32 was not used: the ABI is not in the profile at all.
        assert_eq!(
            decide_with(&p, Abi::Ia32, nr(Abi::Ia32, "getppid"), [0; 6]),
            action::KILL_PROCESS
        );
    }

    #[test]
    fn ia32_is_in_the_profile_only_when_it_was_used() {
        let p = profile_of(&recorded(&["read"], &["getpid"]), 38);
        assert_eq!(p.abis, vec![AbiName::X86_64, AbiName::Ia32]);
        assert_eq!(
            decide_with(&p, Abi::Ia32, nr(Abi::Ia32, "getpid"), [0; 6]),
            action::ALLOW
        );
        assert_eq!(
            decide_with(&p, Abi::Ia32, nr(Abi::Ia32, "mount"), [0; 6]),
            action::ERRNO | 38
        );
    }

    #[test]
    fn exported_profile_imports_back_to_the_same_decisions() {
        let p = profile_of(&recorded(&["read", "openat", "socket"], &["getpid"]), 1);
        let json = serde_json::to_string(&oci::export(&p)).unwrap();
        let back = oci::import(
            &json,
            &oci::Context {
                caps: Default::default(),
                kernel: "6.12.0".into(),
            },
        )
        .unwrap();
        assert!(back.unknown.is_empty(), "{:?}", back.unknown);
        // As under seccomp, allowing socket on ia32 also allows
        // socketcall(SYS_SOCKET): the one decision the import adds.
        let mut want = p.decision_lines();
        let extra = "ia32 socketcall if arg0 Eq 0x1: allow".to_string();
        assert!(!want.contains(&extra));
        want.push(extra);
        let mut got = back.policy.decision_lines();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn runtime_base_is_added_once_marked_and_only_what_is_missing() {
        let base = runtime_base::Base {
            runtime: "rt",
            version: "9",
            syscalls: &["futex", "read", "nanosleep"],
        };
        let mut p = oci::export(&profile_of(&recorded(&["read", "write"], &[]), 1));
        let added = add_runtime_base(&mut p, &[&base]);
        assert_eq!(added, ["futex", "nanosleep"]);
        let entry = p.syscalls.last().unwrap();
        assert_eq!(entry.names, ["futex", "nanosleep"]);
        assert!(entry
            .comment
            .as_deref()
            .unwrap()
            .starts_with("runtime base: what rt 9 call"));
        // Nothing to add: no entry.
        let n = p.syscalls.len();
        assert!(add_runtime_base(&mut p, &[&base]).is_empty());
        assert_eq!(p.syscalls.len(), n);
        // The marked profile still imports (comments are Docker's field).
        let json = serde_json::to_string(&p).unwrap();
        let ctx = oci::Context {
            caps: Default::default(),
            kernel: "6.12.0".into(),
        };
        assert!(oci::import(&json, &ctx).is_ok());
    }
}
