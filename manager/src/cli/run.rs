// SPDX-License-Identifier: GPL-2.0
//! `sysfence run`: a command in a transient cgroup, under a policy from
//! before its first instruction.
//!
//! The policy is read, encoded and compiled as the module would before
//! anything is touched, and the cgroup root is checked to be a cgroup v2
//! mount; then the cgroup is created and its policy set; the child moves itself
//! into the cgroup between fork and exec, so the `execve` that starts the
//! command is already decided by the policy, and so is everything after it.
//! When the command ends, whatever it left running in the cgroup is killed,
//! the policy deleted and the cgroup removed; the command's exit status is
//! passed through (a signal as 128 + its number, as shells do).

use crate::cli::offline::Compiled;
use crate::cli::offline::{load_policy, Caps};
use crate::host::target::{self, Resolved, CGROUP_ROOT};
use crate::kernel::client::Client;
use clap::Args;
use std::io::Write;

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
    /// Name of the transient cgroup (under --cgroup-root); default
    /// sysfence-run-PID.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Where cgroup v2 is mounted.
    #[arg(long, value_name = "DIR", default_value = CGROUP_ROOT)]
    cgroup_root: PathBuf,
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
        // Whatever the command left behind goes with it. Opened without
        // O_CREAT: where the kernel offers no cgroup.kill (before 5.14),
        // a plain file of that name would keep the directory from being
        // removed.
        let kill = std::fs::OpenOptions::new()
            .write(true)
            .open(self.dir.join("cgroup.kill"))
            .and_then(|mut f| f.write_all(b"1"));
        if let Err(e) = kill {
            if e.kind() != std::io::ErrorKind::NotFound {
                eprintln!(
                    "sysfence: run: could not kill what is left in {}: writing cgroup.kill: {e}",
                    self.dir.display()
                );
            }
        }
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
            let r: Result<(), crate::cli::Error> = Client::connect()
                .map_err(Into::into)
                .and_then(|mut c| Ok(c.delete_policy(self.id)?));
            if let Err(e) = r {
                eprintln!(
                    "sysfence: run: could not delete the policy of cgroup {}: {e}",
                    self.id
                );
            }
        }
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!(
                "sysfence: run: could not remove the cgroup {}: {e}",
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

fn start(args: &RunArgs) -> Result<ExitCode, crate::cli::Error> {
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| format!("sysfence-run-{}", std::process::id()));
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(crate::cli::Error::arg(
            format!("--name {name}"),
            "want a plain directory name",
        ));
    }
    // Everything that can be checked is checked before the cgroup exists:
    // the policy read, encoded and compiled as the module would.
    let payload = match &args.policy {
        Some(file) => {
            // No cgroup yet: the target only serves a profile's
            // capabilities, which come from --caps or this process (the
            // command inherits its capabilities), never from the cgroup.
            let nowhere = Resolved { id: 0, dir: None };
            let caps = Caps::flag(args.caps.as_deref(), Caps::Own);
            let policy = load_policy(file, &nowhere, caps, false)?;
            let (wire, _) =
                Compiled::of_policy(&policy).map_err(|e| crate::cli::Error::policy(file, e))?;
            for w in policy.warnings() {
                eprintln!("sysfence: {file}: warning: {w}");
            }
            Some((file, wire))
        }
        None => None,
    };
    let root = &args.cgroup_root;
    match target::is_cgroup2(root) {
        Ok(true) => {}
        Ok(false) => {
            return Err(format!(
                "{} is not a cgroup v2 mount (its file system is not cgroup2): give where cgroup2 is mounted with --cgroup-root",
                root.display()
            )
            .into())
        }
        Err(e) => return Err(format!("cgroup root {}: {e}", root.display()).into()),
    }
    let mut client = match &payload {
        Some(_) => Some(Client::connect()?),
        None => None,
    };
    let dir = root.join(&name);
    std::fs::create_dir(&dir)
        .map_err(|e| format!("cannot create cgroup {}: {e}", dir.display()))?;
    // From here on, dropping `cg` removes the directory, on any error.
    let mut cg = Transient {
        dir: dir.clone(),
        id: 0,
        policy: false,
    };
    cg.id = std::fs::metadata(&dir)
        .map_err(|e| format!("cgroup {}: reading its id: {e}", dir.display()))?
        .ino();
    let id = cg.id;
    if let (Some((file, wire)), Some(client)) = (&payload, client.as_mut()) {
        client.set_policy(id, wire).map_err(|e| {
            format!(
                "setting the policy of {file} on cgroup {}: {e}",
                dir.display()
            )
        })?;
        cg.policy = true;
    } else {
        eprintln!(
            "sysfence: run: no policy; the command runs in cgroup {} (id {id})",
            dir.display()
        );
    }
    let procs_path = dir.join("cgroup.procs");
    let procs = std::fs::OpenOptions::new()
        .write(true)
        .open(&procs_path)
        .map_err(|e| {
            format!(
                "opening {} to move the command into the cgroup: {e}",
                procs_path.display()
            )
        })?;
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

#[cfg(test)]
mod tests {
    use super::Transient;

    /// The clean-up on a directory where the kernel offers no cgroup.kill
    /// (here, not a cgroup at all): nothing is created in it, and it goes.
    #[test]
    fn dropping_the_transient_cgroup_creates_no_file_and_removes_it() {
        let dir = std::env::temp_dir().join(format!("sysfence-run-drop-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        drop(Transient {
            dir: dir.clone(),
            id: 0,
            policy: false,
        });
        assert!(!dir.exists(), "{} left behind", dir.display());
    }
}
