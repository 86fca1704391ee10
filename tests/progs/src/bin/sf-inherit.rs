// SPDX-License-Identifier: GPL-2.0
//! `sf-inherit`: issues getppid from children made every way the kernel
//! makes them (fork, vfork, clone, clone3, a thread) and prints one line per way:
//! `fork err 13`, `vfork err 13`, ... The inheritance test runs it under a
//! policy that answers getppid with errno 13.

use sysfence_testprogs::{raw_syscall, Abi};

// This architecture's numbers (x86_64: getppid 110, fork 57, vfork 58,
// clone 56, clone3 435, wait4 61, exit_group 231).
const GETPPID: u64 = libc::SYS_getppid as u64;
const CLONE: u64 = libc::SYS_clone as u64;
const CLONE3: u64 = libc::SYS_clone3 as u64;
const WAIT4: u64 = libc::SYS_wait4 as u64;
const EXIT_GROUP: u64 = libc::SYS_exit_group as u64;
const SIGCHLD: u64 = 17;

/// Runs getppid in a child made by `make` (which returns 0 in the child),
/// passing the errno back as the child's exit status.
fn in_child(make: impl Fn() -> i64) -> String {
    let pid = make();
    if pid == 0 {
        // SAFETY: in the child: one syscall, then exit without returning
        // (vfork children share the parent's stack and may do no more).
        unsafe {
            let r = raw_syscall(Abi::NATIVE, GETPPID, [0; 6]);
            let code = if (-4095..0).contains(&r) { -r } else { 0 };
            raw_syscall(Abi::NATIVE, EXIT_GROUP, [code as u64, 0, 0, 0, 0, 0]);
        }
        unreachable!("exit_group returned");
    }
    reap(pid)
}

/// Waits for child `pid` and renders its exit status as the errno it saw.
fn reap(pid: i64) -> String {
    if pid < 0 {
        return format!("spawn failed {}", -pid);
    }
    let mut status: i32 = 0;
    // SAFETY: waits for our own child; `status` outlives the call.
    unsafe {
        raw_syscall(
            Abi::NATIVE,
            WAIT4,
            [pid as u64, &mut status as *mut i32 as u64, 0, 0, 0, 0],
        );
    }
    let code = (status >> 8) & 0xff;
    if code == 0 {
        "ok".into()
    } else {
        format!("err {code}")
    }
}

/// fork(2), or on architectures without it (aarch64) what libc's fork()
/// calls: clone(SIGCHLD).
#[cfg(target_arch = "x86_64")]
fn fork() -> i64 {
    // SAFETY: a fork; the child only runs `in_child`'s child branch.
    unsafe { raw_syscall(Abi::NATIVE, libc::SYS_fork as u64, [0; 6]) }
}
#[cfg(target_arch = "aarch64")]
fn fork() -> i64 {
    // SAFETY: clone(SIGCHLD) with no new stack is a fork; the child only
    // runs `in_child`'s child branch.
    unsafe { raw_syscall(Abi::NATIVE, CLONE, [SIGCHLD, 0, 0, 0, 0, 0]) }
}

/// vfork's child borrows the parent's stack, so it may not return from any
/// function: the whole child (getppid, then exit with the errno) is one asm
/// block, and only the parent leaves it.
#[cfg(target_arch = "x86_64")]
fn vfork_getppid() -> String {
    let pid: i64;
    // SAFETY: the child runs only the instructions between the two
    // syscalls and exit_group, touching no memory; the parent resumes after
    // the child has exited, with rax = the child's pid.
    unsafe {
        core::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "mov eax, 110",
            "syscall",
            "mov rdi, rax",
            "neg rdi",
            "test rax, rax",
            "js 3f",
            "xor edi, edi",
            "3:",
            "mov eax, 231",
            "syscall",
            "2:",
            inlateout("rax") libc::SYS_vfork => pid,
            lateout("rdi") _, lateout("rcx") _, lateout("r11") _,
        );
    }
    reap(pid)
}

/// The same on aarch64, which has no vfork(2): libc's vfork() is
/// clone(CLONE_VM | CLONE_VFORK | SIGCHLD) with the caller's stack.
#[cfg(target_arch = "aarch64")]
fn vfork_getppid() -> String {
    let pid: i64;
    // SAFETY: as above: the child runs getppid and exit_group in the asm
    // block, touching no memory; the parent resumes after the child has
    // exited, with x0 = the child's pid.
    unsafe {
        core::arch::asm!(
            "svc #0",
            "cbnz x0, 2f",
            "mov x8, {getppid}",
            "svc #0",
            "neg x1, x0",
            "cmp x0, #0",
            "csel x0, x1, xzr, lt",
            "mov x8, {exit_group}",
            "svc #0",
            "2:",
            getppid = const libc::SYS_getppid,
            exit_group = const libc::SYS_exit_group,
            inlateout("x8") CLONE => _,
            inlateout("x0") (libc::CLONE_VM | libc::CLONE_VFORK) as u64 | SIGCHLD => pid,
            inlateout("x1") 0u64 => _,
            in("x2") 0u64, in("x3") 0u64, in("x4") 0u64,
        );
    }
    reap(pid)
}

fn main() {
    println!("fork {}", in_child(fork));
    println!("vfork {}", vfork_getppid());
    println!(
        "clone {}",
        in_child(|| {
            // SAFETY: clone(SIGCHLD) with no new stack is a fork; the child
            // only runs `in_child`'s child branch.
            unsafe { raw_syscall(Abi::NATIVE, CLONE, [SIGCHLD, 0, 0, 0, 0, 0]) }
        })
    );
    println!(
        "clone3 {}",
        in_child(|| {
            // struct clone_args, version 0 (64 bytes): exit_signal = SIGCHLD.
            let mut ca = [0u64; 8];
            ca[4] = SIGCHLD;
            // SAFETY: a fork-like clone3 with a valid, live `clone_args`;
            // the child only runs `in_child`'s child branch.
            unsafe {
                raw_syscall(
                    Abi::NATIVE,
                    CLONE3,
                    [ca.as_mut_ptr() as u64, 64, 0, 0, 0, 0],
                )
            }
        })
    );
    let t = std::thread::spawn(|| {
        // SAFETY: getppid has no side effects.
        let r = unsafe { raw_syscall(Abi::NATIVE, GETPPID, [0; 6]) };
        if (-4095..0).contains(&r) {
            format!("err {}", -r)
        } else {
            "ok".into()
        }
    });
    println!("thread {}", t.join().unwrap_or_else(|_| "panicked".into()));
}
