// SPDX-License-Identifier: GPL-2.0
//! `sf-syscall [--abi x86_64|ia32] [--repeat N] [--spin-ms MS] NR [ARG...]`:
//! issue one raw syscall (or the same one N times in a row). NR is a number
//! or a syscall's name in the ABI's table (`getppid`), so that a test can
//! name calls on every architecture. `--spin-ms`
//! first spins for MS milliseconds making no syscall at all (the clock is
//! read through the vDSO), so that a test can move the process into a
//! cgroup whose policy would break a shell.
//!
//! Prints `ok RET` or `err ERRNO` (of the last call) and exits 0 or 1
//! accordingly (2 on a usage error), so guest tests can check exactly what
//! the kernel answered.
//!
//! `sf-syscall --sysenter TEXT`: writes TEXT to standard output with the
//! ia32 `write` entered through `sysenter` from this 64-bit process (Intel
//! CPUs only; AMD ones raise #UD, and the process dies of SIGILL). The
//! kernel returns from such a call to the 32-bit vDSO, which a 64-bit
//! process does not have, so the process never continues: it dies of a
//! signal after the call (SIGSEGV, SIGILL, or SIGALRM after 2 s at the
//! latest). Whether TEXT appeared tells whether the call ran.
//!
//! `sf-syscall [--abi ABI] --nr NAME`: prints the number of syscall NAME in
//! the ABI (for tests that compute with numbers or compare them with an
//! event's).
//!
//! On aarch64 the ABI is `aarch64` (`svc #0`) and there is no `--sysenter`.

use std::process::ExitCode;
use sysfence_testprogs::{parse_arg, parse_nr, raw_syscall, Abi};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut abi = Abi::NATIVE;
    let mut repeat = 1u64;
    let mut spin_ms = 0u64;
    if args.first().map(String::as_str) == Some("--sysenter") {
        return match args.get(1) {
            Some(text) if args.len() == 2 && text.len() <= 2048 => sysenter_write(text),
            _ => usage("--sysenter wants one TEXT of at most 2048 bytes"),
        };
    }
    loop {
        match args.first().map(String::as_str) {
            Some("--abi") if args.len() >= 2 => {
                abi = match args[1].parse() {
                    Ok(a) => a,
                    Err(e) => return usage(&e),
                };
            }
            Some("--repeat") if args.len() >= 2 => {
                repeat = match args[1].parse() {
                    Ok(n) if n > 0 => n,
                    _ => return usage("--repeat wants a count of 1 or more"),
                };
            }
            Some("--spin-ms") if args.len() >= 2 => {
                spin_ms = match args[1].parse() {
                    Ok(n) => n,
                    _ => return usage("--spin-ms wants milliseconds"),
                };
            }
            Some("--nr") if args.len() == 2 => {
                return match parse_nr(abi, &args[1]) {
                    Ok(n) => {
                        println!("{n}");
                        ExitCode::SUCCESS
                    }
                    Err(e) => usage(&e),
                };
            }
            Some("--nr") => return usage("--nr wants one NAME"),
            Some(o @ ("--abi" | "--repeat" | "--spin-ms")) => {
                return usage(&format!("{o} needs a value"))
            }
            _ => break,
        }
        args.drain(..2);
    }
    if args.is_empty() || args.len() > 7 {
        return usage("want a syscall number and at most 6 arguments");
    }
    let mut regs = [0u64; 6];
    let nr = match parse_nr(abi, &args[0]) {
        Ok(n) => n,
        Err(e) => return usage(&e),
    };
    for (slot, s) in regs.iter_mut().zip(&args[1..]) {
        *slot = match parse_arg(s) {
            Ok(v) => v,
            Err(e) => return usage(&e),
        };
    }
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(spin_ms) {
        std::hint::spin_loop();
    }
    let mut ret = 0;
    for _ in 0..repeat {
        // SAFETY: issuing the syscall the user asked for is this program's job.
        ret = unsafe { raw_syscall(abi, nr, regs) };
    }
    if (-4095..0).contains(&ret) {
        println!("err {}", -ret);
        ExitCode::from(1)
    } else {
        println!("ok {ret}");
        ExitCode::SUCCESS
    }
}

/// On aarch64 there is no `sysenter` to test.
#[cfg(not(target_arch = "x86_64"))]
fn sysenter_write(_text: &str) -> ExitCode {
    usage("--sysenter exists on x86_64 only")
}

/// The ia32 `write(1, text, len)` through `sysenter`; never returns.
#[cfg(target_arch = "x86_64")]
fn sysenter_write(text: &str) -> ! {
    // SAFETY: a fresh anonymous private mapping; nothing else refers to it.
    let page = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            4096,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_32BIT,
            -1,
            0,
        )
    };
    if page == libc::MAP_FAILED || page as u64 > u64::from(u32::MAX) - 4096 {
        eprintln!("sf-syscall: no mapping below 4 GiB for the ia32 stack");
        std::process::exit(2);
    }
    let base = page as u64 as u32;
    // The compat sysenter entry reads the sixth argument from the word at
    // the user's ebp (where the vDSO keeps it): offset 0 of the page. The
    // text goes at offset 64.
    // SAFETY: the page is 4096 bytes, writable, and the text at most 2048.
    unsafe {
        std::ptr::copy_nonoverlapping(text.as_ptr(), (page as *mut u8).add(64), text.len());
        libc::alarm(2);
        // SAFETY: sysenter leaves this process for good (see above), so
        // clobbering ebx and ebp, which inline asm may not name, is sound.
        core::arch::asm!(
            "mov ebx, 1",
            "mov ebp, {stack:e}",
            "sysenter",
            "ud2",
            stack = in(reg) base,
            in("eax") 4u32,
            in("ecx") base + 64,
            in("edx") text.len() as u32,
            options(noreturn),
        );
    }
}

fn usage(msg: &str) -> ExitCode {
    eprintln!("sf-syscall: {msg}\nusage: sf-syscall [--abi x86_64|ia32] [--repeat N] [--spin-ms MS] NR|NAME [ARG...]\n       sf-syscall [--abi x86_64|ia32] --nr NAME\n       sf-syscall --sysenter TEXT");
    ExitCode::from(2)
}
