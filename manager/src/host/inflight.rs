// SPDX-License-Identifier: GPL-2.0
//! The syscalls the threads of a cgroup subtree are inside right now, from
//! `/proc/TID/syscall`.
//!
//! The module records a call when it is entered. A thread that entered a
//! blocking call before a recording began (a futex wait, `rt_sigsuspend`,
//! `epoll_wait`, `accept`) and sleeps through it is never seen making it,
//! and a profile without that call refuses it when the thread makes it
//! again: jemalloc's background thread in redis-server, waiting in `futex`
//! for its next purge, aborts on the refusal. `sysfence record` adds what
//! it reads here, once its recording policy is in force.

use std::io::Read;
use std::path::Path;
use sysfence_abi::proto::{Abi, X32_SYSCALL_BIT};

/// Every (ABI, number) a thread of the cgroup subtree at `dir` is blocked
/// in, sorted, without repeats. Threads that exit or move meanwhile, and
/// files that cannot be read, are skipped: what is read is a lower bound.
pub fn blocked_calls(dir: &Path, proc: &Path) -> Vec<(Abi, u32)> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        if let Ok(text) = std::fs::read_to_string(d.join("cgroup.threads")) {
            out.extend(
                text.split_whitespace()
                    .filter_map(|tid| call_of(&proc.join(tid))),
            );
        }
        if let Ok(entries) = std::fs::read_dir(&d) {
            dirs.extend(
                entries
                    .flatten()
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                    .map(|e| e.path()),
            );
        }
    }
    out.sort_by_key(|(abi, nr)| (abi.index(), *nr));
    out.dedup();
    out
}

/// The call the thread at `task` (a `/proc/TID` directory) is blocked in:
/// the first field of its `syscall` file is the number, or `-1` (blocked
/// outside a call) or `running`. An x32 number carries the x32 bit; an
/// ia32 call is told by the program, a 32-bit x86 ELF (a 64-bit program's
/// `int 0x80` call is read as x86_64).
fn call_of(task: &Path) -> Option<(Abi, u32)> {
    let text = std::fs::read_to_string(task.join("syscall")).ok()?;
    let nr = u64::try_from(text.split_whitespace().next()?.parse::<i64>().ok()?).ok()?;
    let abi = if nr & X32_SYSCALL_BIT != 0 {
        Abi::X32
    } else if is_ia32_elf(&task.join("exe")) {
        Abi::Ia32
    } else {
        Abi::X86_64
    };
    Some((abi, u32::try_from(nr & !X32_SYSCALL_BIT).ok()?))
}

/// Whether `exe` is a 32-bit x86 ELF (class ELFCLASS32, machine EM_386).
fn is_ia32_elf(exe: &Path) -> bool {
    let mut h = [0u8; 20];
    let read = std::fs::File::open(exe).and_then(|mut f| f.read_exact(&mut h));
    read.is_ok()
        && h.starts_with(b"\x7fELF")
        && h[4] == 1
        && u16::from_le_bytes([h[18], h[19]]) == 3
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// A cgroup tree and a /proc in a fresh temporary directory.
    fn tree(name: &str) -> PathBuf {
        let t = std::env::temp_dir().join(format!("sf-inflight-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        std::fs::create_dir_all(t.join("cg/child")).unwrap();
        std::fs::create_dir_all(t.join("proc")).unwrap();
        t
    }

    fn task(t: &Path, tid: u32, syscall: &str, exe: &[u8]) {
        let d = t.join("proc").join(tid.to_string());
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("syscall"), syscall).unwrap();
        std::fs::write(d.join("exe"), exe).unwrap();
    }

    fn elf(class: u8, machine: u16) -> Vec<u8> {
        let mut h = b"\x7fELF".to_vec();
        h.extend([class, 1, 1, 0]);
        h.resize(18, 0);
        h.extend(machine.to_le_bytes());
        h
    }

    #[test]
    fn reads_the_calls_of_every_thread_in_the_subtree_once_each() {
        let t = tree("subtree");
        let x64 = elf(2, 62);
        task(
            &t,
            10,
            "202 0x7f 0x80 0x0 0x0 0x0 0x0 0x7ffc 0x7f12\n",
            &x64,
        ); // futex
        task(&t, 11, "202 0x1 0x2 0x0 0x0 0x0 0x0 0x7ffc 0x7f12\n", &x64); // futex again
        task(&t, 12, "running\n", &x64);
        task(&t, 13, "-1 0x7ffc 0x7f12\n", &x64);
        task(&t, 20, "130 0x0 0x8 0x0 0x0 0x0 0x0 0x7ffc 0x7f12\n", &x64); // rt_sigsuspend
        task(
            &t,
            30,
            "162 0x0 0x0 0x0 0x0 0x0 0x0 0xff 0xf7\n",
            &elf(1, 3),
        ); // ia32 nanosleep
        task(
            &t,
            40,
            &format!(
                "{} 0x0 0x0 0x0 0x0 0x0 0x0 0x1 0x2\n",
                X32_SYSCALL_BIT | 232
            ),
            &elf(1, 62),
        );
        std::fs::write(t.join("cg/cgroup.threads"), "10\n11\n12\n13\n99\n").unwrap();
        std::fs::write(t.join("cg/child/cgroup.threads"), "20\n30\n40\n").unwrap();
        let got = blocked_calls(&t.join("cg"), &t.join("proc"));
        assert_eq!(
            got,
            vec![
                (Abi::X86_64, 130),
                (Abi::X86_64, 202),
                (Abi::Ia32, 162),
                (Abi::X32, 232)
            ]
        );
        let _ = std::fs::remove_dir_all(&t);
    }

    #[test]
    fn an_unreadable_tree_gives_nothing() {
        let t = tree("none");
        assert!(blocked_calls(&t.join("missing"), &t.join("proc")).is_empty());
        std::fs::write(t.join("cg/cgroup.threads"), "garbage 7\n").unwrap();
        assert!(blocked_calls(&t.join("cg"), &t.join("proc")).is_empty());
        let _ = std::fs::remove_dir_all(&t);
    }
}
