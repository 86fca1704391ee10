// SPDX-License-Identifier: GPL-2.0
//! `sysfence run`: a command in a transient cgroup, under a policy from
//! before its first instruction.
//!
//! The cgroup is created and its policy set first; the child moves itself
//! into the cgroup between fork and exec, so the `execve` that starts the
//! command is already decided by the policy, and so is everything after it.
//! When the command ends, whatever it left running in the cgroup is killed,
//! the policy deleted and the cgroup removed; the command's exit status is
//! passed through (a signal as 128 + its number, as shells do).

use crate::client::Client;
use crate::commands::{delete_policy, load_policy, set_policy, Caps};
use crate::target::{Resolved, CGROUP_ROOT};
use clap::Args;
use std::error::Error;

use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `sysfence run`.
#[derive(Args)]
pub struct RunArgs {
    /// The policy (native file or seccomp profile). Without one the command
    /// runs unfiltered, in its own cgroup, and a policy can be applied to
    /// that cgroup later (its path is printed on stderr).
    #[arg(long, value_name = "FILE")]
    policy: Option<String>,
    /// For a seccomp profile: the capabilities its conditions are evaluated
    /// against (default: this process's effective set, which the command
    /// inherits).
    #[arg(long, value_name = "LIST")]
    caps: Option<String>,
    /// Name of the transient cgroup (under /sys/fs/cgroup); default
    /// sysfence-run-PID.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The command and its arguments.
    #[arg(required = true, last = true, value_name = "CMD")]
    cmd: Vec<String>,
}

/// Exit status when sysfence itself fails before the command runs (as
/// `docker run` and `env`: 125 here, 126 not executable, 127 not found).
const FAILED: u8 = 125;

/// The transient cgroup; removed (with any policy) when dropped.
struct Transient {
    dir: PathBuf,
    id: u64,
    policy: bool,
}

impl Drop for Transient {
    fn drop(&mut self) {
        // Whatever the command left behind goes with it.
        let _ = std::fs::write(self.dir.join("cgroup.kill"), "1");
        for _ in 0..200 {
            let empty = std::fs::read_to_string(self.dir.join("cgroup.procs"))
                .map(|s| s.trim().is_empty())
                .unwrap_or(true);
            if empty {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        if self.policy {
            let r: Result<(), Box<dyn Error>> = Client::connect()
                .map_err(Into::into)
                .and_then(|mut c| delete_policy(&mut c, self.id));
            if let Err(e) = r {
                eprintln!(
                    "sysfence: run: could not delete the policy of cgroup {}: {e}",
                    self.id
                );
            }
        }
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!(
                "sysfence: run: could not remove {}: {e}",
                self.dir.display()
            );
        }
    }
}

pub fn run(args: &RunArgs) -> ExitCode {
    match start(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sysfence: run: {e}");
            ExitCode::from(FAILED)
        }
    }
}

fn start(args: &RunArgs) -> Result<ExitCode, Box<dyn Error>> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("sysfence-run-{}", std::process::id()));
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(format!("--name {name}: want a plain directory name").into());
    }
    let dir = PathBuf::from(CGROUP_ROOT).join(&name);
    std::fs::create_dir(&dir)
        .map_err(|e| format!("cannot create cgroup {}: {e}", dir.display()))?;
    let id = std::fs::metadata(&dir)?.ino();
    let mut cg = Transient {
        dir: dir.clone(),
        id,
        policy: false,
    };
    if let Some(file) = &args.policy {
        let target = Resolved {
            id,
            dir: Some(dir.clone()),
        };
        // The command inherits our capabilities: a profile's conditions are
        // evaluated against them unless --caps says otherwise.
        let caps = Caps::flag(args.caps.as_deref(), Caps::Own);
        let policy = load_policy(file, &target, caps, false)?;
        let payload = policy.to_wire().map_err(|e| format!("{file}: {e}"))?;
        set_policy(&mut Client::connect()?, id, &payload)?;
        cg.policy = true;
    } else {
        eprintln!(
            "sysfence: run: no policy; the command runs in cgroup {} (id {id})",
            dir.display()
        );
    }
    let procs = std::fs::OpenOptions::new()
        .write(true)
        .open(dir.join("cgroup.procs"))?;
    let fd = procs.as_raw_fd();
    let mut cmd = std::process::Command::new(&args.cmd[0]);
    cmd.args(&args.cmd[1..]);
    // SAFETY: the hook runs in the child between fork and exec and makes
    // one async-signal-safe call: write(2) of "0" (the writing task) to the
    // cgroup's cgroup.procs, opened before the fork.
    unsafe {
        cmd.pre_exec(move || {
            let r = libc::write(fd, b"0".as_ptr().cast(), 1);
            if r == 1 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            let code = match e.kind() {
                std::io::ErrorKind::NotFound => 127,
                std::io::ErrorKind::PermissionDenied => 126,
                _ => FAILED,
            };
            eprintln!("sysfence: run: {}: {e}", args.cmd[0]);
            drop(cg);
            return Ok(ExitCode::from(code));
        }
    };
    drop(procs);
    // Ctrl-C and Ctrl-\ reach the command (it is in our process group); we
    // ignore them, after the fork, so that we stay to clean up after it.
    for sig in [libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: sets this process's disposition of one signal to ignored.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
    let status = loop {
        match child.wait() {
            Ok(s) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        }
    };
    let _ = crate::out::flush();
    drop(cg);
    let code = match (status.code(), status.signal()) {
        (Some(c), _) => c,
        (None, Some(sig)) => 128 + sig,
        _ => i32::from(FAILED),
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(FAILED)))
}
