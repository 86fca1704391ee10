// SPDX-License-Identifier: GPL-2.0
//! `sf-syscall [--abi x86_64|ia32] [--repeat N] [--spin-ms MS] NR [ARG...]`:
//! issue one raw syscall (or the same one N times in a row). `--spin-ms`
//! first spins for MS milliseconds making no syscall at all (the clock is
//! read through the vDSO), so that a test can move the process into a
//! cgroup whose policy would break a shell.
//!
//! Prints `ok RET` or `err ERRNO` (of the last call) and exits 0 or 1
//! accordingly (2 on a usage error), so guest tests can check exactly what
//! the kernel answered.

use std::process::ExitCode;
use sysfence_testprogs::{parse_arg, raw_syscall, Abi};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut abi = Abi::X86_64;
    let mut repeat = 1u64;
    let mut spin_ms = 0u64;
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
    let nr = match parse_arg(&args[0]) {
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

fn usage(msg: &str) -> ExitCode {
    eprintln!("sf-syscall: {msg}\nusage: sf-syscall [--abi x86_64|ia32] [--repeat N] [--spin-ms MS] NR [ARG...]");
    ExitCode::from(2)
}
