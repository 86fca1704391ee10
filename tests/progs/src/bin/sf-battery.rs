// SPDX-License-Identifier: GPL-2.0
//! `sf-battery seccomp BPF_FILE | sf-battery cgroup CGROUP_DIR | sf-battery none`:
//! the differential battery. Each invocation runs in its own child: the
//! child first puts itself under the filter (installs the raw seccomp BPF
//! program libseccomp made from a profile, or moves into the cgroup that
//! has the sysfence policy made from the same profile), then issues one
//! raw syscall and exits with the outcome. Prints one line per invocation:
//! `ABI NAME ARGS => ok | err N | sig N`. Running it in both modes and
//! diffing the output compares the two filters call for call.
//!
//! Invocations are chosen to have no lasting effect whatever the filter:
//! invalid descriptors, pointers and flags, so that an allowed call fails
//! in the kernel (EBADF, EFAULT, EINVAL) rather than doing anything.

use std::io::Write;
use sysfence_abi::names;
use sysfence_abi::proto::Abi;
use sysfence_testprogs::{raw_syscall, Abi as Entry};

const M1: u64 = u64::MAX; // -1
const SIGALRM_SECS: u32 = 5;

/// Calls that, even with invalid arguments, would block, end the child
/// before it reports, touch the terminal or leave state behind: left out of
/// the generated part (the harmless ones among them are called properly
/// below).
const SKIP: &[&str] = &[
    "pause",
    "exit",
    "exit_group",
    "fork",
    "vfork",
    "rt_sigreturn",
    "vhangup",
    "restart_syscall",
    "alarm",
    "sched_yield",
    "set_tid_address",
    "sync",
    "syncfs",
    "munlockall",
    "setsid",
    "brk",
    "uselib",
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    // System V IPC objects are global: with key -1 and every flag, the first
    // run would create one and every later run see EEXIST.
    "msgget",
    "semget",
    "shmget",
];

fn invocations() -> Vec<(Abi, &'static str, [u64; 6])> {
    let mut v = Vec::new();
    // Every x86_64 syscall (but the ones above) with all arguments -1.
    for (_, name) in names::table(Abi::X86_64) {
        if !SKIP.contains(name) {
            v.push((Abi::X86_64, *name, [M1; 6]));
        }
    }
    // Calls whose outcome depends on their arguments (as in container
    // profiles): sockets by family, personality values, clone flags
    // (invalid combinations, so an allowed clone fails: CLONE_THREAD
    // without CLONE_SIGHAND is EINVAL), ioctl and prctl requests.
    let x = Abi::X86_64;
    for fam in [1u64, 2, 10, 16, 17, 40] {
        v.push((x, "socket", [fam, 0xffff, 0, 0, 0, 0]));
    }
    for p in [0u64, 8, 0x20000, 0x20008, 0xffff_ffff, 1, 0x0040_0000] {
        v.push((x, "personality", [p, 0, 0, 0, 0, 0]));
    }
    for f in [
        0x10000u64,
        0x1001_0000,
        0x2001_0000,
        0x4001_0000,
        0x0801_0000,
        0x0201_0000,
        0x0401_0000,
    ] {
        v.push((x, "clone", [f, 0, 0, 0, 0, 0]));
    }
    v.push((x, "clone3", [0, 0, 0, 0, 0, 0]));
    for (nr_name, a0) in [
        ("getpid", 0u64),
        ("getppid", 0),
        ("gettid", 0),
        ("getuid", 0),
        ("sched_yield", 0),
    ] {
        v.push((x, nr_name, [a0, 0, 0, 0, 0, 0]));
    }
    // ia32 (int $0x80): a cross-section, plain and argument-dependent.
    let i = Abi::Ia32;
    for name in [
        "getpid",
        "getppid",
        "read",
        "write",
        "open",
        "close",
        "mount",
        "umount2",
        "reboot",
        "ptrace",
        "chroot",
        "socketcall",
        "ioctl",
        "kexec_load",
        "swapon",
        "acct",
        "settimeofday",
        "sethostname",
        "init_module",
        "bpf",
        "perf_event_open",
        "keyctl",
        "add_key",
        "unshare",
        "setns",
        "open_by_handle_at",
    ] {
        v.push((i, name, [M1; 6]));
    }
    for fam in [2u64, 40] {
        v.push((i, "socket", [fam, 0xffff, 0, 0, 0, 0]));
    }
    for p in [0u64, 8, 1] {
        v.push((i, "personality", [p, 0, 0, 0, 0, 0]));
    }
    // The ia32 multiplexers: every socketcall call, and every SysV IPC call
    // through ipc, by number. The arguments are in memory at NULL (EFAULT
    // when allowed), or are an invalid id with no creation flags (nothing
    // is created).
    for call in 1..=20u64 {
        v.push((i, "socketcall", [call, 0, 0, 0, 0, 0]));
    }
    for call in [1u64, 2, 3, 4, 11, 12, 13, 14, 21, 22, 23, 24] {
        v.push((i, "ipc", [call, M1, 0, 0, 0, 0]));
    }
    v
}

enum Mode {
    Seccomp(Vec<u8>),
    Cgroup(std::fs::File),
    None,
}

fn enter(mode: &Mode) -> Result<(), String> {
    match mode {
        Mode::None => Ok(()),
        Mode::Cgroup(f) => {
            // SAFETY: write(2) of "0" (this task) to the cgroup's
            // cgroup.procs, an open file.
            let r =
                unsafe { libc::write(std::os::fd::AsRawFd::as_raw_fd(f), b"0".as_ptr().cast(), 1) };
            if r == 1 {
                Ok(())
            } else {
                Err(format!("cgroup.procs: {}", std::io::Error::last_os_error()))
            }
        }
        Mode::Seccomp(bpf) => {
            let prog = libc::sock_fprog {
                len: (bpf.len() / 8) as u16,
                filter: bpf.as_ptr() as *mut libc::sock_filter,
            };
            // SAFETY: `prog` points to the BPF instructions libseccomp
            // exported (8 bytes each), alive for the call; we are root, so
            // no_new_privs is not needed (runc does not set it either).
            let r = unsafe {
                libc::syscall(
                    libc::SYS_seccomp,
                    1, /* SECCOMP_SET_MODE_FILTER */
                    0,
                    &prog as *const libc::sock_fprog,
                )
            };
            if r == 0 {
                Ok(())
            } else {
                Err(format!("seccomp: {}", std::io::Error::last_os_error()))
            }
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = match (args.first().map(String::as_str), args.get(1)) {
        (Some("seccomp"), Some(f)) => {
            Mode::Seccomp(std::fs::read(f).unwrap_or_else(|e| die(&format!("{f}: {e}"))))
        }
        (Some("cgroup"), Some(d)) => Mode::Cgroup(
            std::fs::OpenOptions::new()
                .write(true)
                .open(format!("{d}/cgroup.procs"))
                .unwrap_or_else(|e| die(&format!("{d}: {e}"))),
        ),
        (Some("none"), None) => Mode::None,
        _ => die("usage: sf-battery seccomp BPF_FILE | cgroup CGROUP_DIR | none"),
    };
    let out = std::io::stdout();
    let mut out = out.lock();
    for (abi, name, a) in invocations() {
        let Some(nr) = names::number(abi, name) else {
            continue;
        };
        let entry = if abi == Abi::Ia32 {
            Entry::Ia32Int80
        } else {
            Entry::X86_64
        };
        // SAFETY: fork in a single-threaded program; the child only enters
        // the filter, makes one raw call and _exits.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: bounds a call that blocks; set before the filter.
            unsafe { libc::alarm(SIGALRM_SECS) };
            if let Err(e) = enter(&mode) {
                eprintln!("sf-battery: {e}");
                // SAFETY: ends the child at once.
                unsafe { libc::_exit(200) };
            }
            // SAFETY: a raw syscall chosen to have no lasting effect (see
            // the module comment).
            unsafe {
                let r = raw_syscall(entry, u64::from(nr), a);
                let code = if (-4095..0).contains(&r) {
                    (-r).min(199) as i32
                } else {
                    0
                };
                raw_syscall(
                    Entry::X86_64,
                    libc::SYS_exit_group as u64,
                    [code as u64, 0, 0, 0, 0, 0],
                );
                libc::_exit(201);
            }
        }
        let mut status = 0;
        // SAFETY: waits for our own child.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let outcome = if libc::WIFSIGNALED(status) {
            format!("sig {}", libc::WTERMSIG(status))
        } else {
            match libc::WEXITSTATUS(status) {
                0 => "ok".to_string(),
                200 => die("the child could not enter the filter"),
                c => format!("err {c}"),
            }
        };
        let shown: Vec<String> = a
            .iter()
            .map(|v| {
                if *v == M1 {
                    "-1".into()
                } else {
                    format!("{v:#x}")
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "{} {name}({}) => {outcome}",
            abi.name(),
            shown.join(",")
        );
    }
}

fn die(msg: &str) -> ! {
    eprintln!("sf-battery: {msg}");
    std::process::exit(2)
}
