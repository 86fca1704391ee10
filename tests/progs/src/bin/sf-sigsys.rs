// SPDX-License-Identifier: GPL-2.0
//! `sf-sigsys NR`: catches SIGSYS, issues syscall NR (a number or a name,
//! native ABI) and prints
//! the siginfo the kernel delivered:
//! `sigsys code=C syscall=N arch=0xA errno=E addr_ok=1 ret=R`, or
//! `no signal ret=R` when none came. TRAP must look like seccomp's:
//! si_code SYS_SECCOMP (1), si_syscall the number, si_arch
//! AUDIT_ARCH_X86_64 or AUDIT_ARCH_AARCH64, si_call_addr just past the
//! syscall instruction.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::SeqCst};
use sysfence_testprogs::{parse_nr, raw_syscall, Abi};

static GOT: AtomicU64 = AtomicU64::new(0);
static CODE: AtomicI64 = AtomicI64::new(0);
static NR: AtomicI64 = AtomicI64::new(0);
static ARCH: AtomicU64 = AtomicU64::new(0);
static ERRNO: AtomicI64 = AtomicI64::new(0);
static ADDR: AtomicU64 = AtomicU64::new(0);

extern "C" fn on_sigsys(_sig: libc::c_int, info: *mut libc::siginfo_t, _ctx: *mut libc::c_void) {
    let p = info as *const u8;
    // SAFETY: the kernel passes a valid siginfo_t (128 bytes); for SIGSYS
    // its 64-bit layout (x86_64 and aarch64 alike) is si_signo@0, si_errno@4, si_code@8, then the
    // union at 16: _call_addr@16, _syscall@24, _arch@28 (uapi siginfo.h).
    unsafe {
        ERRNO.store(i64::from(*(p.add(4) as *const i32)), SeqCst);
        CODE.store(i64::from(*(p.add(8) as *const i32)), SeqCst);
        ADDR.store(*(p.add(16) as *const u64), SeqCst);
        NR.store(i64::from(*(p.add(24) as *const i32)), SeqCst);
        ARCH.store(u64::from(*(p.add(28) as *const u32)), SeqCst);
    }
    GOT.store(1, SeqCst);
}

fn main() {
    let Some(nr) = std::env::args()
        .nth(1)
        .and_then(|s| parse_nr(Abi::NATIVE, &s).ok())
    else {
        eprintln!("usage: sf-sigsys NR");
        std::process::exit(2);
    };
    // SAFETY: installs a plain SA_SIGINFO handler that only stores atomics.
    unsafe {
        let mut sa: libc::sigaction = std::mem::zeroed();
        sa.sa_sigaction = on_sigsys as *const () as usize;
        sa.sa_flags = libc::SA_SIGINFO;
        libc::sigaction(libc::SIGSYS, &sa, std::ptr::null_mut());
    }
    // SAFETY: the test chooses a harmless syscall.
    let ret = unsafe { raw_syscall(Abi::NATIVE, nr, [0; 6]) };
    if GOT.load(SeqCst) == 0 {
        println!("no signal ret={ret}");
        return;
    }
    // The call address must be inside this program's text (the raw
    // syscall helper), not zero or garbage.
    let addr = ADDR.load(SeqCst);
    let text = raw_syscall as *const () as usize as u64;
    let addr_ok = addr > text.saturating_sub(1 << 20) && addr < text + (1 << 20);
    println!(
        "sigsys code={} syscall={} arch={:#x} errno={} addr_ok={} ret={ret}",
        CODE.load(SeqCst),
        NR.load(SeqCst),
        ARCH.load(SeqCst),
        ERRNO.load(SeqCst),
        u8::from(addr_ok)
    );
}
