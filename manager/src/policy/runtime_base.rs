// SPDX-License-Identifier: GPL-2.0
//! What container runtimes call between installing a container's seccomp
//! filter and the execve of the container's program.
//!
//! A profile recorded from a running container holds only what the
//! container's programs called. Given to a runtime as its own seccomp
//! profile (`docker run --security-opt seccomp=FILE`, Podman's, a bundle's
//! `linux.seccomp`), the runtime installs it and then still runs its own
//! code under it until it execs the program: without these calls runc's
//! init dies (`futexwakeup ... returned -1`, SIGSEGV in the Go runtime)
//! and crun fails before the program starts. `sysfence record` adds them,
//! marked, as the Security Profiles Operator's runtime base profiles do.
//!
//! Measured, not guessed: `tests/guest/runtime-base.sh` starts containers
//! under `strace -f` with each runtime (with and without noNewPrivileges,
//! which moves runc's filter install before or after its exec-fifo wait)
//! and lists every call the installing process's threads enter after the
//! install, up to the execve. Re-run it for another runtime version.

use clap::ValueEnum;

/// One runtime's measured calls.
pub struct Base {
    pub runtime: &'static str,
    /// The version measured (Debian 12's package).
    pub version: &'static str,
    pub syscalls: &'static [&'static str],
}

/// runc 1.1.5+ds1, Debian 12: 16 starts with noNewPrivileges and 16
/// without, half by `create` and `start` (as containerd's shim and conmon
/// run it), half by `run`, under strace on the bench kernel, on a loaded
/// machine. The Go runtime's own threads add futex, nanosleep,
/// sched_yield, tgkill and epoll_pwait, and, when it starts a thread under
/// the filter, clone3, mmap, mprotect, munmap, sigaltstack,
/// set_robust_list, gettid and rt_sigprocmask (seen only in the loaded
/// runs: 15 and 15 on a quiet machine found 28 calls, these 36).
pub const RUNC: Base = Base {
    runtime: "runc",
    version: "1.1.5",
    syscalls: &[
        "capget",
        "capset",
        "chdir",
        "clone3",
        "close",
        "epoll_ctl",
        "epoll_pwait",
        "execve",
        "faccessat2",
        "fcntl",
        "fstat",
        "fstatfs",
        "futex",
        "getcwd",
        "getdents64",
        "getpid",
        "getppid",
        "gettid",
        "mmap",
        "mprotect",
        "munmap",
        "nanosleep",
        "newfstatat",
        "openat",
        "prctl",
        "read",
        "rt_sigprocmask",
        "rt_sigreturn",
        "sched_yield",
        "set_robust_list",
        "setgid",
        "setgroups",
        "setuid",
        "sigaltstack",
        "tgkill",
        "write",
    ],
};

/// crun 1.8.1, Debian 12: measured as for runc (a created container
/// waits for its start in pselect6 and read, under the filter).
pub const CRUN: Base = Base {
    runtime: "crun",
    version: "1.8.1",
    syscalls: &[
        "capset",
        "close",
        "execve",
        "prctl",
        "pselect6",
        "read",
        "rt_sigaction",
        "rt_sigprocmask",
        "setresgid",
        "setresuid",
        "write",
    ],
};

/// Which runtimes' calls `sysfence record` adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Which {
    /// runc's and crun's (Docker, containerd and Podman use one of them).
    All,
    Runc,
    Crun,
    /// None: a profile only for sysfence (`policy apply`, `run`), where no
    /// runtime code runs under it.
    None,
}

impl Which {
    /// The bases this choice adds.
    pub fn bases(self) -> Vec<&'static Base> {
        match self {
            Which::All => vec![&RUNC, &CRUN],
            Which::Runc => vec![&RUNC],
            Which::Crun => vec![&CRUN],
            Which::None => Vec::new(),
        }
    }
}

/// The names the bases add (sorted, unique), and how to say where they
/// come from ("runc 1.1.5, crun 1.8.1").
pub fn names_of(bases: &[&Base]) -> (Vec<&'static str>, String) {
    let mut names: Vec<&'static str> = bases
        .iter()
        .flat_map(|b| b.syscalls.iter().copied())
        .collect();
    names.sort_unstable();
    names.dedup();
    let from = bases
        .iter()
        .map(|b| format!("{} {}", b.runtime, b.version))
        .collect::<Vec<_>>()
        .join(", ");
    (names, from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sysfence_abi::names;
    use sysfence_abi::proto::Abi;

    #[test]
    fn every_measured_name_is_an_x86_64_syscall() {
        for b in [&RUNC, &CRUN] {
            assert!(!b.syscalls.is_empty(), "{} has no measurement", b.runtime);
            for n in b.syscalls {
                assert!(
                    names::number(Abi::X86_64, n).is_some(),
                    "{}: {n}",
                    b.runtime
                );
            }
        }
    }

    #[test]
    fn all_is_the_union_and_none_is_empty() {
        let (all, from) = names_of(&Which::All.bases());
        assert_eq!(from, "runc 1.1.5, crun 1.8.1");
        for n in RUNC.syscalls.iter().chain(CRUN.syscalls) {
            assert!(all.contains(n));
        }
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        assert!(names_of(&Which::None.bases()).0.is_empty());
    }
}
