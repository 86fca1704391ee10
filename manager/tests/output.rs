// SPDX-License-Identifier: GPL-2.0
//! What `sysfence` does when its standard output fails: a pipe whose
//! reader has gone (`sysfence completions bash | head -1`) ends the command
//! quietly with status 0; any other failure (`> /dev/full`) is one line on
//! stderr and status 1. Never a panic.

use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{Command, Output, Stdio};

const DOCKER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/docker-default.json"
);

/// Commands that print without a kernel module, each more than a pipe's
/// first write.
fn printing_commands() -> Vec<Vec<&'static str>> {
    let mut v = vec![
        vec!["completions", "bash"],
        vec!["man"],
        vec!["--help"],
        vec!["--version"],
        vec!["policy", "--help"],
        vec!["policy", "show", "--caps", "", DOCKER],
        vec!["policy", "check", DOCKER],
        vec!["policy", "check", "--json", DOCKER],
        vec!["policy", "convert", DOCKER, "--to", "syscallpolicy"],
        vec!["policy", "test", DOCKER, "--", "mount"],
        vec!["policy", "apply", "--dry-run", DOCKER],
    ];
    if cfg!(feature = "agent") {
        v.push(vec!["agent", "crd"]);
    }
    v
}

/// Runs `sysfence ARGS` with `stdout` as its standard output.
fn run(args: &[&str], stdout: Stdio) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sysfence"))
        .args(args)
        .stdout(stdout)
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

/// The write end of a pipe whose read end is already closed: the first
/// write fails with EPIPE, whatever the timing.
fn closed_pipe() -> Stdio {
    let mut fds = [0i32; 2];
    // SAFETY: pipe2 writes two new descriptors into the two-element array.
    let r = unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) };
    assert_eq!(r, 0, "pipe2: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors are new and owned by nothing else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    drop(read);
    Stdio::from(write)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    for args in printing_commands() {
        let o = run(&args, closed_pipe());
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(!err.contains("Broken pipe"), "{args:?}: {err}");
        assert!(
            !err.contains("writing to standard output"),
            "{args:?}: {err}"
        );
        assert_eq!(o.status.code(), Some(0), "{args:?}: {err}");
    }
}

#[test]
fn a_full_device_is_one_line_and_status_1() {
    for args in printing_commands() {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let o = run(&args, Stdio::from(full));
        let err = stderr(&o);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        let failed: Vec<&str> = err
            .lines()
            .filter(|l| l.contains("standard output") || !l.starts_with("sysfence: "))
            .collect();
        assert_eq!(
            failed,
            ["sysfence: writing to standard output: No space left on device (os error 28)"],
            "{args:?}: {err}"
        );
    }
}

/// `--json` is one JSON document on each line, whatever the command (a
/// list of calls to `policy test`: one per call).
#[test]
fn json_output_is_one_document_per_line() {
    let calls = std::env::temp_dir().join(format!("sysfence-calls-{}", std::process::id()));
    std::fs::write(&calls, "mount\nia32 socket 40 1\n").unwrap();
    let calls = calls.to_str().unwrap().to_string();
    for (args, lines) in [
        (vec!["policy", "show", "--json", "--caps", "", DOCKER], 1),
        (vec!["policy", "check", "--json", DOCKER], 1),
        (vec!["policy", "diff", "--json", DOCKER, DOCKER], 1),
        (vec!["policy", "test", "--json", DOCKER, "--", "mount"], 1),
        (
            vec!["policy", "test", "--json", "--calls", &calls, DOCKER],
            2,
        ),
    ] {
        let o = run(&args, Stdio::piped());
        assert!(o.status.success(), "{args:?}: {}", stderr(&o));
        let text = String::from_utf8(o.stdout).unwrap();
        let docs: Vec<&str> = text.lines().collect();
        assert_eq!(docs.len(), lines, "{args:?}: {text}");
        for d in docs {
            serde_json::from_str::<serde_json::Value>(d)
                .unwrap_or_else(|e| panic!("{args:?}: {e}: {d}"));
        }
    }
}
